//! Following a connection passively: both directions' records, with keys from
//! an SSLKEYLOGFILE, switched exactly where the protocol switches them.
//!
//! * TLS 1.3: handshake keys after the ServerHello (the server's at once, the
//!   client's at its first protected record), application keys after each
//!   side's first Finished, the next generation after each KeyUpdate.
//! * TLS 1.2: a key block per handshake (one `CLIENT_RANDOM` line each,
//!   renegotiations included), activated by each side's ChangeCipherSpec.

use crate::alert::{AlertDescription, AlertLevel};
use crate::cipher::{CipherSuite, Opener, Sealer};
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

    pub(crate) fn idx(self) -> usize {
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
    /// How each of `messages` is shown: its name, `HelloRetryRequest` for a
    /// ServerHello that is one, KeyUpdate with its request flag.
    pub labels: Vec<String>,
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
            ContentType::Handshake => self.labels.join(", "),
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

/// The name of a handshake message as `decode` shows it.
fn label(typ: HandshakeType, body: &[u8]) -> String {
    match typ {
        HandshakeType::ServerHello if parse_server_hello(body).is_ok_and(|sh| sh.is_hrr) => {
            "HelloRetryRequest".into()
        }
        HandshakeType::KeyUpdate => match body.first() {
            Some(0) => "KeyUpdate(update_not_requested)".into(),
            Some(1) => "KeyUpdate(update_requested)".into(),
            Some(x) => format!("KeyUpdate(request_update {x})"),
            None => "KeyUpdate(empty)".into(),
        },
        t => t.name().into(),
    }
}

/// What a direction's reader (or writer) must do with keys after a
/// handshake message.
#[derive(Debug, Clone)]
pub enum KeyAction {
    /// Use these keys from the next record on.
    Now(RecordKeys),
    /// Prepare these keys: TLS 1.2 activates them at ChangeCipherSpec, the
    /// TLS 1.3 client handshake keys at the client's first protected record.
    Prepare(RecordKeys),
    /// Records will be protected from here on, but the key log has no keys.
    Missing,
}

/// The key schedule of a connection followed from outside: the hellos give
/// the randoms, suite and version; the key log gives the secrets.
#[derive(Debug, Clone)]
pub struct KeyTracker {
    keylog: KeyLog,
    client_random: Option<[u8; 32]>,
    suite: Option<CipherSuite>,
    version: Option<Version>,
    /// A ClientHello was seen and its ServerHello not yet.
    awaiting_server_hello: bool,
    /// TLS 1.3: each direction's current application traffic secret.
    app_secret: [Option<Secret>; 2],
    /// TLS 1.2: the master secret of the session in use, for a resumed
    /// (abbreviated) handshake, which logs no CLIENT_RANDOM line of its own.
    session_master: Option<Secret>,
    /// The session id the last ClientHello offered.
    offered_session: Vec<u8>,
}

impl KeyTracker {
    /// A tracker with the connection's key log.
    #[must_use]
    pub fn new(keylog: KeyLog) -> Self {
        KeyTracker {
            keylog,
            client_random: None,
            suite: None,
            version: None,
            awaiting_server_hello: false,
            app_secret: Default::default(),
            session_master: None,
            offered_session: Vec::new(),
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

    /// The random of the last ClientHello seen (the key log's index).
    #[must_use]
    pub fn client_random(&self) -> Option<[u8; 32]> {
        self.client_random
    }

    /// True between a ClientHello and its ServerHello.
    #[must_use]
    pub fn awaiting_server_hello(&self) -> bool {
        self.awaiting_server_hello
    }

    /// True once `dir` uses TLS 1.3 application keys.
    #[must_use]
    pub fn has_app_keys(&self, dir: Dir) -> bool {
        self.app_secret[dir.idx()].is_some()
    }

    /// Starts from an established connection: its suite and, for TLS 1.3,
    /// each direction's current application traffic secret (`[c2s, s2c]`).
    pub fn set_established(&mut self, suite: CipherSuite, app_secrets: [Option<Secret>; 2]) {
        self.suite = Some(suite);
        self.version = Some(suite.version());
        self.awaiting_server_hello = false;
        self.app_secret = app_secrets;
    }

    /// The keys of the next generation for `dir` (TLS 1.3 KeyUpdate), making
    /// them current.
    pub fn key_update(&mut self, dir: Dir) -> KeyAction {
        let i = dir.idx();
        let Some(suite) = self.suite else {
            return KeyAction::Missing;
        };
        let next = self.app_secret[i]
            .as_ref()
            .and_then(|s| next_traffic_secret(suite.hash(), s).ok());
        match next.and_then(|n| {
            RecordKeys::from_traffic_secret(suite, &n)
                .ok()
                .map(|k| (k, n))
        }) {
            Some((k, n)) => {
                self.app_secret[i] = Some(n);
                KeyAction::Now(k)
            }
            None => KeyAction::Missing,
        }
    }

    /// Learns from one handshake message sent in `dir`; returns the key
    /// actions for `[c2s, s2c]`.
    pub fn on_message(
        &mut self,
        dir: Dir,
        typ: HandshakeType,
        body: &[u8],
    ) -> [Option<KeyAction>; 2] {
        let mut out: [Option<KeyAction>; 2] = [None, None];
        match (dir, typ) {
            (Dir::C2s, HandshakeType::ClientHello) => {
                if let Ok(ch) = parse_client_hello(body) {
                    // A second ClientHello after a HelloRetryRequest keeps its random.
                    self.client_random = Some(ch.random);
                    self.offered_session = ch.session_id;
                    self.awaiting_server_hello = true;
                }
            }
            (Dir::S2c, HandshakeType::ServerHello) => {
                let Ok(sh) = parse_server_hello(body) else {
                    return out;
                };
                if sh.is_hrr {
                    return out;
                }
                self.awaiting_server_hello = false;
                self.suite = sh.suite;
                self.version = sh.version;
                let (Some(suite), Some(cr)) = (sh.suite, self.client_random) else {
                    return [Some(KeyAction::Missing), Some(KeyAction::Missing)];
                };
                match suite.version() {
                    Version::Tls13 => {
                        let get = |l: KeyLogLabel| {
                            self.keylog
                                .find(&l, &cr)
                                .and_then(|s| RecordKeys::from_traffic_secret(suite, s).ok())
                        };
                        out[0] = Some(
                            get(KeyLogLabel::ClientHandshakeTrafficSecret)
                                .map_or(KeyAction::Missing, KeyAction::Prepare),
                        );
                        out[1] = Some(
                            get(KeyLogLabel::ServerHandshakeTrafficSecret)
                                .map_or(KeyAction::Missing, KeyAction::Now),
                        );
                    }
                    Version::Tls12 => {
                        // A handshake that resumes a session (OpenSSL offers
                        // the current one when it renegotiates) derives new
                        // keys from the session's master secret and the new
                        // randoms; the key log has no line for its random.
                        // RFC 5246 7.4.1.3 (and RFC 5077 3.4 for tickets):
                        // the server echoes the offered session id when it
                        // resumes.
                        let resumed = !self.offered_session.is_empty()
                            && sh.session_id == self.offered_session;
                        let ms = self.keylog.master_secret(&cr).cloned().or_else(|| {
                            if resumed {
                                self.session_master.clone()
                            } else {
                                None
                            }
                        });
                        if let Some(m) = &ms {
                            self.session_master = Some(m.clone());
                        }
                        let kb = ms
                            .as_ref()
                            .and_then(|ms| tls12_key_block(suite, ms, &cr, &sh.random).ok());
                        match kb {
                            Some((c, s)) => {
                                out = [Some(KeyAction::Prepare(c)), Some(KeyAction::Prepare(s))]
                            }
                            // Nothing to prepare: the records stay under the
                            // keys in force until each ChangeCipherSpec,
                            // which then finds no keys (a renegotiation the
                            // key log lacks leaves the earlier records
                            // readable).
                            None => out = [None, None],
                        }
                    }
                }
            }
            (_, HandshakeType::Finished)
                if self.version == Some(Version::Tls13) && self.app_secret[dir.idx()].is_none() =>
            {
                let label = match dir {
                    Dir::C2s => KeyLogLabel::ClientTrafficSecret0,
                    Dir::S2c => KeyLogLabel::ServerTrafficSecret0,
                };
                let (Some(suite), Some(cr)) = (self.suite, self.client_random) else {
                    out[dir.idx()] = Some(KeyAction::Missing);
                    return out;
                };
                let found = self.keylog.find(&label, &cr).cloned();
                out[dir.idx()] = Some(
                    match found.map(|s| (RecordKeys::from_traffic_secret(suite, &s), s)) {
                        Some((Ok(k), secret)) => {
                            self.app_secret[dir.idx()] = Some(secret);
                            KeyAction::Now(k)
                        }
                        _ => KeyAction::Missing,
                    },
                );
            }
            (_, HandshakeType::KeyUpdate) if self.version == Some(Version::Tls13) => {
                out[dir.idx()] = Some(self.key_update(dir));
            }
            _ => {}
        }
        out
    }
}

/// One direction's receive state, as a passive follower keeps it.
#[derive(Debug, Clone, Default)]
pub(crate) struct DirState {
    pub(crate) deframer: Deframer,
    pub(crate) opener: Opener,
    pub(crate) joiner: HandshakeJoiner,
    pub(crate) offset: u64,
    /// Records are protected from here on but the key log had no keys.
    pub(crate) keys_missing: bool,
    pub(crate) failed: bool,
}

impl DirState {
    pub(crate) fn apply(&mut self, action: KeyAction) {
        match action {
            KeyAction::Now(k) => {
                self.opener.set_keys(k);
                self.keys_missing = false;
            }
            KeyAction::Prepare(k) => self.opener.prepare(k),
            KeyAction::Missing => self.keys_missing = true,
        }
    }

    pub(crate) fn set_version(&mut self, v: Option<Version>) {
        let mut p = *self.deframer.policy();
        p.version = v;
        p.first_record = false;
        self.deframer.set_policy(p);
    }
}

/// Follows both directions of one connection with keys from a key log.
#[derive(Debug, Clone)]
pub struct Follower {
    tracker: KeyTracker,
    dirs: [DirState; 2],
}

impl Follower {
    /// A follower with the connection's key log.
    #[must_use]
    pub fn new(keylog: KeyLog) -> Self {
        Follower {
            tracker: KeyTracker::new(keylog),
            dirs: Default::default(),
        }
    }

    /// The key schedule as followed so far.
    #[must_use]
    pub fn tracker(&self) -> &KeyTracker {
        &self.tracker
    }

    /// Adds bytes of `dir`'s stream; returns how many were taken.
    pub fn push(&mut self, dir: Dir, data: &[u8]) -> usize {
        self.dirs[dir.idx()].deframer.push(data)
    }

    /// True once `dir` met a record it could not frame or open: the
    /// follower reads no further in that direction.
    #[must_use]
    pub fn failed(&self, dir: Dir) -> bool {
        self.dirs[dir.idx()].failed
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
        if !self.tracker.awaiting_server_hello || d.failed {
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

    /// A sealer that continues `dir` where the records followed so far
    /// left it: the same keys and the next sequence number. This is how a
    /// test peer (or a proxy) takes over one direction of a followed
    /// connection; `None` while `dir` is unprotected or its keys are unknown.
    #[must_use]
    pub fn continue_sealing(&self, dir: Dir) -> Option<Sealer> {
        let opener = &self.dirs[dir.idx()].opener;
        let keys = opener.keys()?;
        let seq = opener.sequence()?;
        let mut sealer = Sealer::new();
        sealer.set_keys(RecordKeys::new(keys.suite(), keys.key(), keys.iv()).ok()?);
        sealer.set_sequence(seq).ok()?;
        Some(sealer)
    }

    /// The next whole record of `dir`, opened if keys allow.
    pub fn next(&mut self, dir: Dir) -> Option<RecordEvent> {
        let i = dir.idx();
        let version = self.tracker.version;
        let d = &mut self.dirs[i];
        if d.failed {
            return None;
        }
        let rec = match d.deframer.pop() {
            Ok(Some(r)) => r,
            Ok(None) => return None,
            Err(e) => {
                d.failed = true;
                // The refused header is not a record: report what we know.
                return Some(RecordEvent {
                    dir,
                    offset: d.offset,
                    header: d
                        .deframer
                        .peek_header()
                        .unwrap_or(Header::parse(&[0; HEADER_LEN])),
                    epoch: d.opener.epoch(),
                    seq: None,
                    plain: None,
                    messages: Vec::new(),
                    labels: Vec::new(),
                    error: Some(e),
                });
            }
        };
        let header = *rec.header();
        let offset = d.offset;
        d.offset += rec.wire_bytes().len() as u64;
        // TLS 1.3: the first protected record after the hellos uses the
        // handshake keys prepared at the ServerHello.
        if version == Some(Version::Tls13)
            && header.typ == ContentType::ApplicationData
            && !d.opener.is_protected()
            && !d.opener.activate()
        {
            d.keys_missing = true;
        }
        let tls13_ccs =
            version == Some(Version::Tls13) && header.typ == ContentType::ChangeCipherSpec;
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
            labels: Vec::new(),
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
            ContentType::ChangeCipherSpec if self.tracker.version == Some(Version::Tls12) => {
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
                    ev.labels.push(label(msg.typ, &msg.body));
                    let actions = self.tracker.on_message(dir, msg.typ, &msg.body);
                    if msg.typ == HandshakeType::ServerHello {
                        let v = self.tracker.version;
                        self.dirs.iter_mut().for_each(|d| d.set_version(v));
                    }
                    for (d, a) in self.dirs.iter_mut().zip(actions) {
                        if let Some(a) = a {
                            d.apply(a);
                        }
                    }
                }
            }
            _ => {}
        }
    }
}
