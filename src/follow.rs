//! Following a connection passively: both directions' records, with keys from
//! an SSLKEYLOGFILE, switched exactly where the protocol switches them.
//!
//! * TLS 1.3: handshake keys after the ServerHello (the server's at once, the
//!   client's at its first protected record), application keys after each
//!   side's first Finished, the next generation after each KeyUpdate.
//! * TLS 1.2: a key block per handshake (one `CLIENT_RANDOM` line each,
//!   renegotiations included), activated by each side's ChangeCipherSpec.

use crate::alert::{AlertDescription, AlertLevel};
use crate::cipher::{CipherSuite, Opener};
use crate::deframer::Deframer;
use crate::error::Error;
use crate::handshake::{parse_client_hello, parse_server_hello, HandshakeJoiner, HandshakeType};
use crate::keylog::{KeyLog, KeyLogLabel};
use crate::keys::{next_traffic_secret, tls12_key_block, RecordKeys, Secret};
use crate::record::{ContentType, Header, PlainRecord, Version, HEADER_LEN};

/// A direction of the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dir {
    /// Client to server.
    C2s,
    /// Server to client.
    S2c,
}

impl Dir {
    /// `c2s` or `s2c`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Dir::C2s => "c2s",
            Dir::S2c => "s2c",
        }
    }

    fn idx(self) -> usize {
        match self {
            Dir::C2s => 0,
            Dir::S2c => 1,
        }
    }
}

/// One record seen by the follower.
#[derive(Debug, Clone)]
pub struct RecordEvent {
    /// Direction.
    pub dir: Dir,
    /// Offset of the record's first byte in its direction's stream.
    pub offset: u64,
    /// The header as received.
    pub header: Header,
    /// Key changes in this direction so far (0 = plaintext).
    pub epoch: u64,
    /// The record's sequence number under its key, if protected.
    pub seq: Option<u64>,
    /// The opened record, if it could be opened.
    pub plain: Option<PlainRecord>,
    /// Handshake messages completed by this record.
    pub messages: Vec<HandshakeType>,
    /// Why it could not be opened, if it could not.
    pub error: Option<Error>,
}

impl RecordEvent {
    /// The content type to report: the inner type once opened.
    #[must_use]
    pub fn content_type(&self) -> ContentType {
        self.plain.as_ref().map_or(self.header.typ, |p| p.typ)
    }

    /// A one-line human summary of the plaintext.
    #[must_use]
    pub fn summary(&self) -> String {
        if let Some(e) = &self.error {
            return format!("not opened: {e}");
        }
        let Some(p) = &self.plain else {
            return "encrypted, no keys".into();
        };
        match p.typ {
            ContentType::Handshake if self.messages.is_empty() => {
                format!("handshake fragment ({} bytes)", p.payload.len())
            }
            ContentType::Handshake => {
                let names: Vec<&str> = self.messages.iter().map(|m| m.name()).collect();
                names.join(", ")
            }
            ContentType::Alert if p.payload.len() == 2 => {
                let level = match AlertLevel::from(p.payload[0]) {
                    AlertLevel::Warning => "warning".to_string(),
                    AlertLevel::Fatal => "fatal".to_string(),
                    AlertLevel::Unknown(x) => format!("level {x}"),
                };
                format!("alert {level} {}", AlertDescription::from(p.payload[1]))
            }
            ContentType::Alert => format!("alert, malformed ({} bytes)", p.payload.len()),
            ContentType::ApplicationData => format!("application data {} bytes", p.payload.len()),
            ContentType::ChangeCipherSpec => "change_cipher_spec".into(),
            t => format!("type {} ({} bytes)", u8::from(t), p.payload.len()),
        }
    }
}

#[derive(Debug, Default)]
struct DirState {
    deframer: Deframer,
    opener: Opener,
    joiner: HandshakeJoiner,
    offset: u64,
    /// TLS 1.3: the current application traffic secret (for KeyUpdate).
    app_secret: Option<Secret>,
    /// Records are protected from here on but the key log had no keys.
    keys_missing: bool,
    failed: bool,
}

/// Follows both directions of one connection with keys from a key log.
#[derive(Debug)]
pub struct Follower {
    keylog: KeyLog,
    client_random: Option<[u8; 32]>,
    suite: Option<CipherSuite>,
    version: Option<Version>,
    /// A ClientHello was seen and its ServerHello not yet.
    awaiting_server_hello: bool,
    dirs: [DirState; 2],
}

impl Follower {
    /// A follower with the connection's key log.
    #[must_use]
    pub fn new(keylog: KeyLog) -> Self {
        Follower {
            keylog,
            client_random: None,
            suite: None,
            version: None,
            awaiting_server_hello: false,
            dirs: Default::default(),
        }
    }

    /// The negotiated suite, once the ServerHello was seen.
    #[must_use]
    pub fn suite(&self) -> Option<CipherSuite> {
        self.suite
    }

    /// The negotiated version, once the ServerHello was seen.
    #[must_use]
    pub fn version(&self) -> Option<Version> {
        self.version
    }

    /// Adds bytes of `dir`'s stream; returns how many were taken.
    pub fn push(&mut self, dir: Dir, data: &[u8]) -> usize {
        self.dirs[dir.idx()].deframer.push(data)
    }

    /// Bytes of `dir` buffered and not yet a whole record.
    #[must_use]
    pub fn buffered(&self, dir: Dir) -> usize {
        self.dirs[dir.idx()].deframer.buffered()
    }

    /// True if `dir`'s next record needs the ServerHello, which has not been
    /// seen yet (a ChangeCipherSpec or protected record after a ClientHello).
    #[must_use]
    pub fn is_blocked(&self, dir: Dir) -> bool {
        let d = &self.dirs[dir.idx()];
        if !self.awaiting_server_hello || d.failed {
            return false;
        }
        let typ = d
            .deframer
            .pending_header()
            .map(|h| h.typ)
            .or_else(|| d.deframer.peek_type());
        matches!(
            typ,
            Some(ContentType::ChangeCipherSpec | ContentType::ApplicationData)
        )
    }

    /// The next whole record of `dir`, opened if keys allow.
    pub fn next(&mut self, dir: Dir) -> Option<RecordEvent> {
        let i = dir.idx();
        if self.dirs[i].failed {
            return None;
        }
        let rec = match self.dirs[i].deframer.pop() {
            Ok(Some(r)) => r,
            Ok(None) => return None,
            Err(e) => {
                self.dirs[i].failed = true;
                // The refused header is not a record: report what we know.
                return Some(RecordEvent {
                    dir,
                    offset: self.dirs[i].offset,
                    header: self.dirs[i]
                        .deframer
                        .peek_header()
                        .unwrap_or(Header::parse(&[0; HEADER_LEN])),
                    epoch: self.dirs[i].opener.epoch(),
                    seq: None,
                    plain: None,
                    messages: Vec::new(),
                    error: Some(e),
                });
            }
        };
        let header = *rec.header();
        let offset = self.dirs[i].offset;
        self.dirs[i].offset += rec.wire_bytes().len() as u64;
        // TLS 1.3: the first protected record after the hellos uses the
        // handshake keys prepared at the ServerHello.
        let d = &mut self.dirs[i];
        if self.version == Some(Version::Tls13)
            && header.typ == ContentType::ApplicationData
            && !d.opener.is_protected()
            && !d.opener.activate()
        {
            d.keys_missing = true;
        }
        let tls13_ccs =
            self.version == Some(Version::Tls13) && header.typ == ContentType::ChangeCipherSpec;
        let protected = d.opener.is_protected() && !tls13_ccs;
        let epoch = d.opener.epoch();
        let seq = if protected { d.opener.sequence() } else { None };
        let mut ev = RecordEvent {
            dir,
            offset,
            header,
            epoch,
            seq,
            plain: None,
            messages: Vec::new(),
            error: None,
        };
        if d.keys_missing && !tls13_ccs {
            return Some(ev);
        }
        match d.opener.open(rec) {
            Ok(p) => ev.plain = Some(p),
            Err(e) => {
                d.failed = true;
                ev.error = Some(e);
                return Some(ev);
            }
        }
        self.after_record(dir, &mut ev);
        Some(ev)
    }

    fn after_record(&mut self, dir: Dir, ev: &mut RecordEvent) {
        let i = dir.idx();
        let Some(p) = ev.plain.clone() else { return };
        match p.typ {
            ContentType::ChangeCipherSpec if self.version == Some(Version::Tls12) => {
                let d = &mut self.dirs[i];
                d.keys_missing = !d.opener.activate();
            }
            ContentType::Handshake => {
                self.dirs[i].joiner.push(&p.payload);
                loop {
                    let msg = match self.dirs[i].joiner.pop() {
                        Ok(Some(m)) => m,
                        Ok(None) => break,
                        Err(e) => {
                            ev.error = Some(e);
                            self.dirs[i].failed = true;
                            break;
                        }
                    };
                    ev.messages.push(msg.typ);
                    self.on_message(dir, msg.typ, &msg.body);
                }
            }
            _ => {}
        }
    }

    fn on_message(&mut self, dir: Dir, typ: HandshakeType, body: &[u8]) {
        let i = dir.idx();
        match (dir, typ) {
            (Dir::C2s, HandshakeType::ClientHello) => {
                if let Ok(ch) = parse_client_hello(body) {
                    // A second ClientHello after a HelloRetryRequest keeps its random.
                    self.client_random = Some(ch.random);
                    self.awaiting_server_hello = true;
                }
            }
            (Dir::S2c, HandshakeType::ServerHello) => {
                let Ok(sh) = parse_server_hello(body) else {
                    return;
                };
                if sh.is_hrr {
                    return;
                }
                self.awaiting_server_hello = false;
                self.suite = sh.suite;
                self.version = sh.version;
                let (Some(suite), Some(cr)) = (sh.suite, self.client_random) else {
                    return;
                };
                for d in &mut self.dirs {
                    let mut p = *d.deframer.policy();
                    p.version = sh.version;
                    p.first_record = false;
                    d.deframer.set_policy(p);
                }
                match suite.version() {
                    Version::Tls13 => {
                        let c = self
                            .keylog
                            .find(&KeyLogLabel::ClientHandshakeTrafficSecret, &cr)
                            .cloned();
                        let s = self
                            .keylog
                            .find(&KeyLogLabel::ServerHandshakeTrafficSecret, &cr)
                            .cloned();
                        if let Some(k) =
                            c.and_then(|c| RecordKeys::from_traffic_secret(suite, &c).ok())
                        {
                            self.dirs[0].opener.prepare(k);
                        }
                        if let Some(k) =
                            s.and_then(|s| RecordKeys::from_traffic_secret(suite, &s).ok())
                        {
                            // The server's next record is protected.
                            self.dirs[1].opener.set_keys(k);
                        }
                    }
                    Version::Tls12 => {
                        if let Some(ms) = self.keylog.master_secret(&cr) {
                            if let Ok((c, s)) = tls12_key_block(suite, ms, &cr, &sh.random) {
                                self.dirs[0].opener.prepare(c);
                                self.dirs[1].opener.prepare(s);
                            }
                        }
                    }
                }
            }
            (_, HandshakeType::Finished)
                if self.version == Some(Version::Tls13) && self.dirs[i].app_secret.is_none() =>
            {
                let label = match dir {
                    Dir::C2s => KeyLogLabel::ClientTrafficSecret0,
                    Dir::S2c => KeyLogLabel::ServerTrafficSecret0,
                };
                let (Some(suite), Some(cr)) = (self.suite, self.client_random) else {
                    return;
                };
                match self
                    .keylog
                    .find(&label, &cr)
                    .cloned()
                    .map(|s| (RecordKeys::from_traffic_secret(suite, &s), s))
                {
                    Some((Ok(k), secret)) => {
                        self.dirs[i].opener.set_keys(k);
                        self.dirs[i].app_secret = Some(secret);
                    }
                    _ => self.dirs[i].keys_missing = true,
                }
            }
            (_, HandshakeType::KeyUpdate) if self.version == Some(Version::Tls13) => {
                let Some(suite) = self.suite else { return };
                let d = &mut self.dirs[i];
                if let Some(next) = d
                    .app_secret
                    .as_ref()
                    .and_then(|s| next_traffic_secret(suite.hash(), s).ok())
                {
                    if let Ok(k) = RecordKeys::from_traffic_secret(suite, &next) {
                        d.opener.set_keys(k);
                        d.app_secret = Some(next);
                    }
                }
            }
            _ => {}
        }
    }
}
