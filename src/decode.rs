//! `tlsrec decode`: every record of a captured connection, with its epoch,
//! sequence number and a summary of its plaintext.

use crate::follow::{Dir, Follower, RecordEvent};
use crate::keylog::KeyLog;

/// The records of a connection, in the order they were decoded.
#[derive(Debug)]
pub struct Decoded {
    /// Every record.
    pub events: Vec<RecordEvent>,
    /// Bytes left at the end of each direction that are not a whole record
    /// (`[c2s, s2c]`).
    pub trailing: [usize; 2],
}

const DIRS: [Dir; 2] = [Dir::C2s, Dir::S2c];

fn pump(f: &mut Follower, d: Dir, data: &[u8], pos: &mut usize) {
    *pos += f.push(d, &data[*pos..]);
}

/// Decodes two whole directions of a capture. The records are given in the
/// order they were sent where the protocol tells it (a direction waits while
/// its next record needs the other side's ServerHello), else c2s first.
#[must_use]
pub fn decode_capture(keylog: KeyLog, c2s: &[u8], s2c: &[u8]) -> Decoded {
    let streams = [c2s, s2c];
    let mut pos = [0usize; 2];
    let mut f = Follower::new(keylog);
    let mut events = Vec::new();
    loop {
        let mut progressed = false;
        for (i, &d) in DIRS.iter().enumerate() {
            loop {
                pump(&mut f, d, streams[i], &mut pos[i]);
                if f.is_blocked(d) {
                    break;
                }
                match f.next(d) {
                    Some(ev) => {
                        events.push(ev);
                        progressed = true;
                    }
                    None => break,
                }
            }
        }
        if !progressed {
            // Both directions wait (keys that never come): go on without them.
            let forced = DIRS.iter().enumerate().find_map(|(i, &d)| {
                pump(&mut f, d, streams[i], &mut pos[i]);
                f.next(d)
            });
            match forced {
                Some(ev) => events.push(ev),
                None => break,
            }
        }
    }
    let trailing = [
        c2s.len() - pos[0] + f.buffered(Dir::C2s),
        s2c.len() - pos[1] + f.buffered(Dir::S2c),
    ];
    Decoded { events, trailing }
}

/// Decodes the streams of a transcript in step order: `recv` segments are
/// the server's bytes, `send` and `drain` steps the client's.
#[cfg(feature = "transcript")]
#[must_use]
pub fn decode_transcript(t: &crate::transcript::Transcript) -> Decoded {
    use crate::transcript::Step;
    let mut f = Follower::new(t.keylog.clone());
    let mut events = Vec::new();
    let mut pending: [Vec<u8>; 2] = Default::default();
    for step in &t.steps {
        let (d, bytes) = match step {
            Step::Recv(b) => (Dir::S2c, b),
            Step::Send(b) | Step::Drain { wire: b, .. } => (Dir::C2s, b),
            _ => continue,
        };
        let i = usize::from(d == Dir::S2c);
        pending[i].extend_from_slice(bytes);
        loop {
            let n = f.push(d, &pending[i]);
            pending[i].drain(..n);
            match f.next(d) {
                Some(ev) => events.push(ev),
                None if n == 0 => break,
                None => {}
            }
        }
    }
    let trailing = [
        pending[0].len() + f.buffered(Dir::C2s),
        pending[1].len() + f.buffered(Dir::S2c),
    ];
    Decoded { events, trailing }
}

fn json_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            c if (c as u32) < 0x20 => o.push_str(&format!("\\u{:04x}", c as u32)),
            c => o.push(c),
        }
    }
    o
}

impl RecordEvent {
    /// The record as one JSON object (the `tlsrec decode --json` line).
    #[must_use]
    pub fn to_json(&self) -> String {
        let t = self.content_type();
        let typ = match t.name() {
            Some(n) if t.is_known() => format!("\"{n}\""),
            _ => u8::from(t).to_string(),
        };
        let seq = self.seq.map_or("null".to_string(), |s| s.to_string());
        format!(
            "{{\"dir\":\"{}\",\"offset\":{},\"type\":{},\"length\":{},\"epoch\":{},\"seq\":{},\"summary\":\"{}\"}}",
            self.dir.name(),
            self.offset,
            typ,
            self.header.len,
            self.epoch,
            seq,
            json_escape(&self.summary())
        )
    }

    /// The record as one line of text.
    #[must_use]
    pub fn to_text(&self) -> String {
        let t = self.content_type();
        let typ = t
            .name()
            .map_or_else(|| format!("type {}", u8::from(t)), str::to_string);
        let seq = self.seq.map_or("-".to_string(), |s| s.to_string());
        format!(
            "{} {:>8}  {:<18} len {:>5}  epoch {}  seq {:>3}  {}",
            self.dir.name(),
            self.offset,
            typ,
            self.header.len,
            self.epoch,
            seq,
            self.summary()
        )
    }
}
