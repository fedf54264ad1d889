//! `tlsrec decode`: every record of a captured connection, with its epoch,
//! sequence number and a summary of its plaintext.

use crate::follow::{Dir, Follower, RecordEvent};
use crate::handshake::HandshakeType;
use crate::keylog::{encode_hex, KeyLog};
use crate::record::ContentType;

/// The records of a connection, in the order they were decoded.
#[derive(Debug)]
pub struct Decoded {
    /// Every record.
    pub events: Vec<RecordEvent>,
    /// Bytes left at the end of each direction that were not decoded
    /// (`[c2s, s2c]`): an incomplete last record, or everything after a
    /// record that could not be framed or opened (see `stopped_at`).
    pub trailing: [usize; 2],
    /// Where each direction stopped: the offset of the record that could not
    /// be framed or opened, after which nothing more was read.
    pub stopped_at: [Option<u64>; 2],
    /// What is wrong with the capture (or the key log), most likely cause
    /// first; empty if every record was opened and no byte is left over.
    pub problems: Vec<Problem>,
}

/// A kind of [`Problem`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    /// `--c2s` holds the server's bytes and `--s2c` the client's.
    DirectionsSwapped,
    /// A direction does not start with its hello: the capture begins after
    /// the handshake whose keys it needs.
    MidConnection,
    /// A direction has no bytes at all.
    Empty,
    /// The key log has no line for the handshake's client random.
    NoKeyLogLine,
    /// The key log has lines for the client random, but not the secret
    /// these records need.
    SecretMissing,
    /// The key log's secrets do not open the first protected record.
    WrongSecrets,
    /// A later record did not open (or its header was refused).
    NotOpened,
    /// Bytes at the end that are not a whole record.
    TrailingBytes,
}

impl ProblemKind {
    /// `directions_swapped`, `mid_connection`, ...: the `--json` name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            ProblemKind::DirectionsSwapped => "directions_swapped",
            ProblemKind::MidConnection => "mid_connection",
            ProblemKind::Empty => "empty",
            ProblemKind::NoKeyLogLine => "no_keylog_line",
            ProblemKind::SecretMissing => "secret_missing",
            ProblemKind::WrongSecrets => "wrong_secrets",
            ProblemKind::NotOpened => "not_opened",
            ProblemKind::TrailingBytes => "trailing_bytes",
        }
    }
}

/// One thing wrong with a decoded capture, with the most likely reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// What kind.
    pub kind: ProblemKind,
    /// The direction, if it is about one.
    pub dir: Option<Dir>,
    /// The offset in that direction's stream, if it is about a record.
    pub offset: Option<u64>,
    /// What is most likely wrong, in a sentence.
    pub message: String,
}

const DIRS: [Dir; 2] = [Dir::C2s, Dir::S2c];

/// What the decoder remembers while it goes, for the diagnosis.
#[derive(Default)]
struct Notes {
    /// The first record of each direction that had no keys, with the client
    /// random of the handshake in force then.
    keyless: [Option<(u64, Option<[u8; 32]>)>; 2],
    /// The client random in force at each direction's first record that did
    /// not open.
    failed_random: [Option<[u8; 32]>; 2],
}

impl Notes {
    fn see(&mut self, f: &Follower, ev: &RecordEvent) {
        let i = usize::from(ev.dir == Dir::S2c);
        let cr = f.tracker().client_random();
        if ev.plain.is_none() && ev.error.is_none() && self.keyless[i].is_none() {
            self.keyless[i] = Some((ev.offset, cr));
        }
        if ev.error.is_some() && self.failed_random[i].is_none() {
            self.failed_random[i] = cr;
        }
    }
}

/// The order in which the two directions' records were sent, as far as
/// the protocol tells it: the state of the handshake in progress.
#[derive(Debug, Default)]
struct Order {
    /// A ClientHello was seen and its ServerHello (or HelloRetryRequest) not yet.
    awaiting_server_hello: bool,
    /// A handshake is in progress: ClientHello seen, not both Finished.
    in_handshake: bool,
    /// The ServerHello of the handshake in progress was seen.
    server_hello: bool,
    /// TLS 1.2: the server sent ServerHelloDone (a full handshake: its
    /// ChangeCipherSpec and Finished answer the client's).
    server_hello_done: bool,
    /// Each side's Finished of the handshake in progress (`[c2s, s2c]`).
    finished: [bool; 2],
}

impl Order {
    /// May `ev`, `dir`'s next record, come now? It may not if it needs a
    /// record of the other direction that has not come yet.
    fn allows(&self, dir: Dir, ev: &RecordEvent) -> bool {
        let (i, peer) = (usize::from(dir == Dir::S2c), usize::from(dir == Dir::C2s));
        match dir {
            // A ServerHello (or HelloRetryRequest) answers a ClientHello.
            Dir::S2c if ev.messages.contains(&HandshakeType::ServerHello) => {
                return self.awaiting_server_hello
            }
            // After a ClientHello the client waits for the server's answer
            // (the keys of its next records come from it).
            Dir::C2s if self.awaiting_server_hello => return false,
            _ => {}
        }
        if !self.in_handshake || !self.server_hello {
            return true;
        }
        if self.finished[i] {
            // A Finished is followed by the peer's before anything else.
            return self.finished[peer];
        }
        match dir {
            // The client's flight answers the server's: its ServerHelloDone
            // (TLS 1.2 full handshake) or its Finished (TLS 1.3, and TLS 1.2
            // resumption).
            Dir::C2s => self.server_hello_done || self.finished[1],
            // TLS 1.2 full handshake: the server's ChangeCipherSpec and
            // Finished answer the client's Finished.
            Dir::S2c => !self.server_hello_done || self.finished[0],
        }
    }

    /// Learns from a record that was taken.
    fn took(&mut self, dir: Dir, ev: &RecordEvent) {
        for (m, label) in ev.messages.iter().zip(&ev.labels) {
            match (dir, m) {
                (Dir::C2s, HandshakeType::ClientHello) => {
                    if !self.in_handshake {
                        *self = Order {
                            in_handshake: true,
                            ..Order::default()
                        };
                    }
                    self.awaiting_server_hello = true;
                }
                (Dir::S2c, HandshakeType::ServerHello) => {
                    self.awaiting_server_hello = false;
                    self.server_hello = label != "HelloRetryRequest";
                }
                (Dir::S2c, HandshakeType::ServerHelloDone) => self.server_hello_done = true,
                (_, HandshakeType::Finished) if self.in_handshake => {
                    self.finished[usize::from(dir == Dir::S2c)] = true;
                    if self.finished == [true, true] {
                        *self = Order::default();
                    }
                }
                _ => {}
            }
        }
    }
}

/// Decodes two whole directions of a capture. The records are taken in the
/// order the protocol gives them: a ServerHello (or HelloRetryRequest)
/// after its ClientHello, the client's next records after the server's
/// answer, a Finished before the peer's next flight, each renegotiation's
/// keys switched at its own ChangeCipherSpec. Where the protocol leaves the
/// order open (application data), a client's record is followed by the
/// server's, and the client goes first after a handshake.
#[must_use]
pub fn decode_capture(keylog: KeyLog, c2s: &[u8], s2c: &[u8]) -> Decoded {
    let streams = [c2s, s2c];
    let mut pos = [0usize; 2];
    let mut f = Follower::new(keylog.clone());
    let mut order = Order::default();
    let mut notes = Notes::default();
    let mut events = Vec::new();
    let mut prefer = Dir::C2s;
    loop {
        // Each direction's next record, opened on a copy of the follower.
        let mut next: [Option<(Follower, RecordEvent)>; 2] = [None, None];
        for (i, &d) in DIRS.iter().enumerate() {
            pos[i] += f.push(d, &streams[i][pos[i]..]);
        }
        for (i, &d) in DIRS.iter().enumerate() {
            if f.buffered(d) == 0 || f.failed(d) {
                // No record to take (and nothing worth a copy).
                continue;
            }
            let mut g = f.clone();
            if let Some(ev) = g.next(d) {
                next[i] = Some((g, ev));
            }
        }
        if next.iter().all(Option::is_none) {
            break;
        }
        let allowed = |i: usize| {
            next[i]
                .as_ref()
                .is_some_and(|(_, ev)| order.allows(DIRS[i], ev))
        };
        // A HelloRequest asks for the ClientHello that would otherwise be
        // taken first.
        let has = |i: usize, m: HandshakeType| {
            next[i]
                .as_ref()
                .is_some_and(|(_, ev)| ev.messages.contains(&m))
        };
        let hello_request =
            has(1, HandshakeType::HelloRequest) && has(0, HandshakeType::ClientHello) && allowed(1);
        let p = usize::from(prefer == Dir::S2c || hello_request);
        let pick = if allowed(p) {
            p
        } else if allowed(1 - p) {
            1 - p
        } else if order.awaiting_server_hello && next[1].is_some() || next[0].is_none() {
            // Both wait for a record the other cannot show (keys missing,
            // a record that does not open): go on without it.
            1
        } else {
            0
        };
        let (g, ev) = next[pick].take().expect("picked a direction with a record");
        f = g;
        order.took(DIRS[pick], &ev);
        notes.see(&f, &ev);
        let requested = ev.labels.iter().any(|l| l == "KeyUpdate(update_requested)");
        prefer = match ev.content_type() {
            // A request is answered (a record of application data by the
            // peer's, a KeyUpdate that asks for one by the peer's KeyUpdate).
            ContentType::ApplicationData | ContentType::Alert => DIRS[1 - pick],
            _ if requested => DIRS[1 - pick],
            _ if !order.in_handshake && ev.messages.contains(&HandshakeType::Finished) => Dir::C2s,
            _ => DIRS[pick],
        };
        events.push(ev);
    }
    let trailing = [
        c2s.len() - pos[0] + f.buffered(Dir::C2s),
        s2c.len() - pos[1] + f.buffered(Dir::S2c),
    ];
    finish(
        events,
        trailing,
        &keylog,
        &notes,
        [c2s.len(), s2c.len()],
        true,
    )
}

/// Decodes the streams of a transcript in step order: `recv` segments are
/// the server's bytes, `send` and `drain` steps the client's.
#[cfg(feature = "transcript")]
#[must_use]
pub fn decode_transcript(t: &crate::transcript::Transcript) -> Decoded {
    use crate::transcript::Step;
    let mut f = Follower::new(t.keylog.clone());
    let mut notes = Notes::default();
    let mut events = Vec::new();
    let mut pending: [Vec<u8>; 2] = Default::default();
    let mut lens = [0usize; 2];
    for step in &t.steps {
        let (d, bytes) = match step {
            Step::Recv(b) => (Dir::S2c, b),
            Step::Send(b) | Step::Drain { wire: b, .. } => (Dir::C2s, b),
            _ => continue,
        };
        let i = usize::from(d == Dir::S2c);
        lens[i] += bytes.len();
        pending[i].extend_from_slice(bytes);
        loop {
            let n = f.push(d, &pending[i]);
            pending[i].drain(..n);
            match f.next(d) {
                Some(ev) => {
                    notes.see(&f, &ev);
                    events.push(ev);
                }
                None if n == 0 => break,
                None => {}
            }
        }
    }
    let trailing = [
        pending[0].len() + f.buffered(Dir::C2s),
        pending[1].len() + f.buffered(Dir::S2c),
    ];
    finish(events, trailing, &t.keylog, &notes, lens, false)
}

fn first_message(ev: Option<&RecordEvent>) -> Option<HandshakeType> {
    ev.and_then(|e| e.messages.first().copied())
}

fn type_name(ev: &RecordEvent) -> String {
    let t = ev.content_type();
    t.name()
        .map_or_else(|| format!("content type {}", u8::from(t)), str::to_string)
}

/// The diagnosis: what went wrong, most likely cause first.
fn finish(
    events: Vec<RecordEvent>,
    trailing: [usize; 2],
    keylog: &KeyLog,
    notes: &Notes,
    lens: [usize; 2],
    two_files: bool,
) -> Decoded {
    let mut problems = Vec::new();
    let mut stopped_at = [None; 2];
    let first = |d: Dir| events.iter().find(|e| e.dir == d);
    let names = if two_files {
        ["--c2s", "--s2c"]
    } else {
        ["c2s", "s2c"]
    };
    let swapped = first_message(first(Dir::C2s)) == Some(HandshakeType::ServerHello)
        || first_message(first(Dir::S2c)) == Some(HandshakeType::ClientHello);
    if swapped {
        problems.push(Problem {
            kind: ProblemKind::DirectionsSwapped,
            dir: None,
            offset: None,
            message: format!(
                "the directions are swapped: {} starts with a ServerHello or {} with a ClientHello \
                 (give the client's bytes as {} and the server's as {})",
                names[0], names[1], names[0], names[1]
            ),
        });
    }
    for (i, d) in DIRS.into_iter().enumerate() {
        if lens[i] == 0 {
            problems.push(Problem {
                kind: ProblemKind::Empty,
                dir: Some(d),
                offset: None,
                message: format!("{} has no bytes", names[i]),
            });
            continue;
        }
        let hello = match d {
            Dir::C2s => HandshakeType::ClientHello,
            Dir::S2c => HandshakeType::ServerHello,
        };
        let Some(ev) = first(d) else { continue };
        if !swapped && first_message(Some(ev)) != Some(hello) {
            let what = if ev.error.is_some() && ev.plain.is_none() && ev.offset == 0 {
                "bytes that are not a TLS record".to_string()
            } else {
                match first_message(Some(ev)) {
                    Some(m) => format!("a {} message", m.name()),
                    None => type_name(ev),
                }
            };
            problems.push(Problem {
                kind: ProblemKind::MidConnection,
                dir: Some(d),
                offset: Some(0),
                message: format!(
                    "{} starts with {what}, not a {}: the capture starts mid-connection, \
                     after the handshake whose keys its records need",
                    d.name(),
                    hello.name()
                ),
            });
        }
    }
    let mid = problems.iter().any(|p| {
        matches!(
            p.kind,
            ProblemKind::MidConnection | ProblemKind::DirectionsSwapped
        )
    });
    for (i, d) in DIRS.into_iter().enumerate() {
        if let Some((offset, cr)) = notes.keyless[i] {
            let n = events
                .iter()
                .filter(|e| e.dir == d && e.plain.is_none() && e.error.is_none())
                .count();
            let count = format!("{n} record{}", if n == 1 { "" } else { "s" });
            let (kind, message) = match cr {
                None if mid => (
                    ProblemKind::MidConnection,
                    format!(
                        "{count} of {} not opened: no ClientHello was seen",
                        d.name()
                    ),
                ),
                None => (
                    ProblemKind::NoKeyLogLine,
                    format!(
                        "{count} of {} not opened: no ClientHello was seen",
                        d.name()
                    ),
                ),
                Some(cr) => {
                    let lines: Vec<String> = keylog
                        .entries()
                        .iter()
                        .filter(|e| e.client_random == cr)
                        .map(|e| format!("{:?}", e.label))
                        .collect();
                    if lines.is_empty() {
                        let others = {
                            let mut r: Vec<[u8; 32]> =
                                keylog.entries().iter().map(|e| e.client_random).collect();
                            r.sort_unstable();
                            r.dedup();
                            r.len()
                        };
                        (
                            ProblemKind::NoKeyLogLine,
                            format!(
                                "{count} of {} not opened: the key log has no line for client random {} \
                                 (it has lines for {others} other client random{})",
                                d.name(),
                                encode_hex(&cr),
                                if others == 1 { "" } else { "s" }
                            ),
                        )
                    } else {
                        (
                            ProblemKind::SecretMissing,
                            format!(
                                "{count} of {} not opened: the key log has {} for client random {} \
                                 but not the secret these records need",
                                d.name(),
                                lines.join(", "),
                                encode_hex(&cr)
                            ),
                        )
                    }
                }
            };
            problems.push(Problem {
                kind,
                dir: Some(d),
                offset: Some(offset),
                message,
            });
        }
        let Some(bad) = events.iter().find(|e| e.dir == d && e.error.is_some()) else {
            continue;
        };
        stopped_at[i] = Some(bad.offset);
        let err = bad.error.as_ref().expect("found by its error");
        let first_protected = !events
            .iter()
            .take_while(|e| !std::ptr::eq(*e, bad))
            .any(|e| e.dir == d && e.seq.is_some() && e.plain.is_some());
        let opened_as = bad.seq.map_or(String::new(), |s| {
            format!(" (epoch {}, seq {s})", bad.epoch)
        });
        let (kind, message) = if bad.seq.is_some() && first_protected && !mid {
            let cr = notes.failed_random[i].map_or("?".into(), |c| encode_hex(&c));
            (
                ProblemKind::WrongSecrets,
                format!(
                    "the key log's secrets for client random {cr} do not open the first protected {} record \
                     (offset {}): {err}; they are not this connection's (another run's key log?)",
                    d.name(),
                    bad.offset
                ),
            )
        } else {
            (
                ProblemKind::NotOpened,
                format!(
                    "{} record at offset {}{opened_as} not opened: {err}; nothing after it in {} is decoded",
                    d.name(),
                    bad.offset,
                    d.name()
                ),
            )
        };
        problems.push(Problem {
            kind,
            dir: Some(d),
            offset: Some(bad.offset),
            message,
        });
    }
    for (i, d) in DIRS.into_iter().enumerate() {
        let n = trailing[i];
        if n == 0 {
            continue;
        }
        let message = match stopped_at[i] {
            Some(at) => format!(
                "{}: {n} bytes after the record at offset {at}, which did not open, are not decoded",
                d.name()
            ),
            None => format!("{}: {n} bytes at the end are not a whole record", d.name()),
        };
        problems.push(Problem {
            kind: ProblemKind::TrailingBytes,
            dir: Some(d),
            offset: Some((lens[i] - n) as u64),
            message,
        });
    }
    Decoded {
        events,
        trailing,
        stopped_at,
        problems,
    }
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
