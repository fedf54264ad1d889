//! Entry points shared by the `cargo fuzz` targets (in `fuzz/`) and the
//! tests that run them on generated inputs (`tests/fuzz_inputs.rs` of the
//! tlsrec package). Each one checks invariants and panics if one breaks;
//! none may panic for any other reason. Not part of the `tlsrec` library.
#![forbid(unsafe_code)]

use bytes::BytesMut;

mod handshake;
pub use handshake::handshake;
mod tls12_handshake;
pub use tls12_handshake::{hs_op, mutation, tls12_handshake, HandshakeStats};

use tlsrec::cipher::{CipherSuite, Sealer};
use tlsrec::keys::RecordKeys;
use tlsrec::reader::RecordReader;
use tlsrec::record::{ContentType, MAX_PLAINTEXT_LEN, MAX_RECORD_LEN};

fn keys(suite: CipherSuite) -> RecordKeys {
    let k: Vec<u8> = (0..suite.aead().key_len() as u8).collect();
    let iv: Vec<u8> = (0..suite.aead().fixed_iv_len(suite.version()) as u8)
        .map(|b| b ^ 0x55)
        .collect();
    RecordKeys::new(suite, &k, &iv).expect("lengths from the suite")
}

/// Splits `data` into segments using `cuts` as a source of sizes.
fn feed(reader: &mut RecordReader, stream: &[u8], cuts: &[u8]) -> Vec<(ContentType, Vec<u8>)> {
    let mut out = Vec::new();
    let (mut pos, mut ci, mut given, mut taken) = (0usize, 0usize, 0usize, 0usize);
    while pos < stream.len() {
        let c = cuts.get(ci % cuts.len().max(1)).copied().unwrap_or(255);
        ci += 1;
        let size = (usize::from(c) * 97 + 1).min(stream.len() - pos);
        let seg = &stream[pos..pos + size];
        pos += size;
        let mut off = 0;
        loop {
            let n = reader.push(&seg[off..]);
            given += seg.len() - off;
            taken += n;
            // Conservation: never more taken than given.
            assert!(n <= seg.len() - off && taken <= given);
            off += n;
            assert!(
                reader.deframer().buffered() <= MAX_RECORD_LEN,
                "receive buffer over its bound"
            );
            let mut progressed = false;
            loop {
                match reader.next_record() {
                    Ok(Some(r)) => {
                        assert!(r.payload.len() <= MAX_PLAINTEXT_LEN);
                        out.push((r.typ, r.payload.to_vec()));
                        progressed = true;
                    }
                    Ok(None) => break,
                    Err(e) => {
                        // Errors are sticky and take no more bytes.
                        assert_eq!(reader.next_record().unwrap_err(), e);
                        assert_eq!(reader.push(b"more"), 0);
                        return out;
                    }
                }
            }
            if off == seg.len() {
                break;
            }
            assert!(progressed || n > 0, "no progress possible: stuck");
            given -= seg.len() - off; // the rest is offered again
        }
    }
    out
}

/// Arbitrary bytes as a record stream: byte 0 picks a suite (or plaintext),
/// byte 1 the segmentation; the rest is the stream. Returns how many
/// records were opened.
pub fn deframe_open(data: &[u8]) -> usize {
    if data.len() < 2 {
        return 0;
    }
    let mut r = RecordReader::new();
    let pick = usize::from(data[0]) % (CipherSuite::ALL.len() + 1);
    if let Some(&suite) = CipherSuite::ALL.get(pick) {
        r.set_version(suite.version());
        r.opener_mut().set_keys(keys(suite));
    }
    feed(&mut r, &data[2..], &data[1..2]).len()
}

/// Seals payloads described by `data`, flips the bits it names, feeds the
/// result in the segments it names: unmodified streams open to exactly the
/// sealed payloads; modified ones fail or open to a prefix of them.
/// Returns how many records were opened.
pub fn seal_mutate_open(data: &[u8]) -> usize {
    if data.len() < 4 {
        return 0;
    }
    let suite = CipherSuite::ALL[usize::from(data[0]) % CipherSuite::ALL.len()];
    let flips = usize::from(data[1] % 4);
    let (spec, rest) = data[2..].split_at(data.len().min(34) - 2);
    let mut sealer = Sealer::new();
    sealer.set_keys(keys(suite));
    let mut wire = BytesMut::new();
    let mut sent = Vec::new();
    for (i, &b) in spec.iter().enumerate() {
        let typ = [
            ContentType::ApplicationData,
            ContentType::Handshake,
            ContentType::Alert,
        ][usize::from(b % 3)];
        let len = usize::from(b) * 67 % (MAX_PLAINTEXT_LEN + 1);
        let payload: Vec<u8> = (0..len).map(|j| (i * 31 + j) as u8).collect();
        sealer
            .seal(typ, &payload, &mut wire)
            .expect("sealing a valid payload");
        sent.push((typ, payload));
    }
    let mut wire = wire.to_vec();
    let mut flipped = false;
    for f in 0..flips {
        if wire.is_empty() || rest.len() < 2 * f + 2 {
            break;
        }
        let at =
            usize::from(u16::from_be_bytes([rest[2 * f], rest[2 * f + 1]])) * 13 % (wire.len() * 8);
        wire[at / 8] ^= 1 << (at % 8);
        flipped = true;
    }
    let mut r = RecordReader::new();
    r.set_version(suite.version());
    r.opener_mut().set_keys(keys(suite));
    let got = feed(&mut r, &wire, rest);
    if flipped {
        assert!(
            got.len() <= sent.len() && got[..] == sent[..got.len()],
            "a tampered stream produced a record never sent"
        );
    } else {
        assert_eq!(got, sent);
    }
    got.len()
}

// ----------------------------------------------------------------------
// A session driven by an op program
// ----------------------------------------------------------------------

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use tlsrec::error::Error;
use tlsrec::handshake::{
    HandshakeJoiner, HandshakeMessage, HandshakeType, DEFAULT_MAX_HANDSHAKE_LEN,
};
use tlsrec::keylog::KeyLog;
use tlsrec::keys::{next_traffic_secret, Secret};
use tlsrec::record::HEADER_LEN;
use tlsrec::session::{Config, Established, Session, SslError};
use tlsrec::{AlertDescription, Deframer, FlightItem, HandshakeDriver, Opener, Progress, Role};

/// Reads the fuzz input front to back; past the end every read gives 0.
struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }
    fn u16(&mut self) -> usize {
        usize::from(self.byte()) << 8 | usize::from(self.byte())
    }
    fn take(&mut self, n: usize) -> &[u8] {
        let (a, b) = self.0.split_at(n.min(self.0.len()));
        self.0 = b;
        a
    }
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The op codes of [`session_ops`]: an op's first byte `b` is op
/// `b % 17` (codes 0..=16) when below [`op::NEW_BASE`], as it was before
/// the driven modes came, so older inputs replay as they did; bytes from
/// `NEW_BASE` on are the newer ops, `NEW_BASE + (b - NEW_BASE) % 4`
/// ([`op::code`]). Lengths are big-endian u16.
pub mod op {
    /// `recv(len, bytes)`: raw bytes from the peer.
    pub const RECV: u8 = 0;
    /// `observe_sent(len, bytes)`: bytes this client itself sent.
    pub const SENT: u8 = 1;
    /// `recv_eof()`.
    pub const EOF: u8 = 2;
    /// `read(n)`.
    pub const READ: u8 = 3;
    /// `peek(n)`.
    pub const PEEK: u8 = 4;
    /// `pending()` / `has_pending()`.
    pub const PENDING: u8 = 5;
    /// `write(&A[..n])`.
    pub const WRITE_A: u8 = 6;
    /// `write(&B[..n])` (another buffer: a moved retry).
    pub const WRITE_B: u8 = 7;
    /// `set_outgoing_capacity(c)`, 0xffff: unbounded.
    pub const CAPACITY: u8 = 8;
    /// `take_outgoing(k)`.
    pub const TAKE: u8 = 9;
    /// `shutdown()`.
    pub const SHUTDOWN: u8 = 10;
    /// `do_handshake()`.
    pub const HANDSHAKE: u8 = 11;
    /// `renegotiate()`.
    pub const RENEGOTIATE: u8 = 12;
    /// The peer seals a record: `type, len`. `type & 0x7f` modulo 5 picks
    /// change_cipher_spec, alert, handshake, application_data, or (4) the
    /// raw value as the content type; with bit 7 of `type` set `len`
    /// payload bytes follow, else the payload is a pattern.
    pub const PEER_RECORD: u8 = 13;
    /// The peer sends a TLS 1.3 KeyUpdate (`request` byte) and rotates keys.
    pub const PEER_KEY_UPDATE: u8 = 14;
    /// The peer seals an alert: `level, description`.
    pub const PEER_ALERT: u8 = 15;
    /// The peer seals `count` empty application-data records.
    pub const PEER_EMPTY: u8 = 16;
    /// The first byte of the newer ops.
    pub const NEW_BASE: u8 = 238;
    /// `key_update(request_peer)`: `byte & 1`.
    pub const KEY_UPDATE: u8 = NEW_BASE;
    /// `drive_with(driver)`: the harness's driver (see
    /// [`decision`](super::decision)) runs the session's handshakes from
    /// now on, if the session takes it.
    pub const DRIVE_WITH: u8 = NEW_BASE + 1;
    /// `byte`: the driver's next decision (see [`decision`](super::decision)).
    pub const DRIVER_PLAN: u8 = NEW_BASE + 2;
    /// `byte`: the peer seals a TLS 1.2 handshake message or flight (see
    /// [`peer_hs`](super::peer_hs)).
    pub const PEER_HS: u8 = NEW_BASE + 3;
    /// Every op code.
    pub const ALL: [u8; 21] = [
        RECV,
        SENT,
        EOF,
        READ,
        PEEK,
        PENDING,
        WRITE_A,
        WRITE_B,
        CAPACITY,
        TAKE,
        SHUTDOWN,
        HANDSHAKE,
        RENEGOTIATE,
        PEER_RECORD,
        PEER_KEY_UPDATE,
        PEER_ALERT,
        PEER_EMPTY,
        KEY_UPDATE,
        DRIVE_WITH,
        DRIVER_PLAN,
        PEER_HS,
    ];

    /// The op an input byte stands for.
    #[must_use]
    pub fn code(b: u8) -> u8 {
        if b >= NEW_BASE {
            NEW_BASE + (b - NEW_BASE) % 4
        } else {
            b % 17
        }
    }
}

/// Session modes of [`session_ops`]: the first input byte `head`.
///
/// * `head % 3`: `TLS12`, `TLS13` or `PASSIVE`;
/// * `(head / 3) % 2 == 1`: the server role (the two established modes);
/// * `(head / 6) % 2 == 1`: driven: `Session::driven` with the harness's
///   driver (established modes), or (passive) `drive_with` as soon as the
///   followed handshake is complete;
/// * `(head / 12) % 2 == 1`: built with `Session::from_established(est,
///   cfg, role)` instead of `client_from_established` /
///   `server_from_established` (established modes, not driven).
pub mod mode {
    /// `client_from_established` (or `server_from_established`) with a
    /// TLS 1.2 suite.
    pub const TLS12: u8 = 0;
    /// `client_from_established` (or `server_from_established`) with a
    /// TLS 1.3 suite and its secrets.
    pub const TLS13: u8 = 1;
    /// `passive_client` with the key log the input carries.
    pub const PASSIVE: u8 = 2;
    /// Added to a mode: the server role (established modes).
    pub const SERVER: u8 = 3;
    /// Added to a mode: driven.
    pub const DRIVEN: u8 = 6;
    /// Added to a mode: `Session::from_established` with the role.
    pub const WITH_ROLE: u8 = 12;
}

/// The driver's decisions ([`op::DRIVER_PLAN`] bytes, queued; each call of
/// the driver, `start` or `message`, takes the next one; none queued:
/// `SCRIPT`). `byte % 4`:
pub mod decision {
    /// Follow the script: a plausible TLS 1.2 handshake with fixed keys per
    /// generation; a message the script does not expect fails with
    /// unexpected_message.
    pub const SCRIPT: u8 = 0;
    /// `Progress::Pending` `1 + (byte >> 2) % 4` times for this message,
    /// then the script.
    pub const PAUSE: u8 = 1;
    /// `Progress::Fail` with one of a few alerts (`byte >> 2`).
    pub const FAIL: u8 = 2;
    /// `Progress::Continue` with nothing to send (the message is taken and
    /// the script stays where it is).
    pub const SWALLOW: u8 = 3;
}

/// What [`op::PEER_HS`] seals (`byte & 0x0f` modulo 10), as the peer of a
/// driven TLS 1.2 session would: messages whose bodies the harness's
/// driver accepts, for the generation the driver is at. Bit 7: a flight's
/// handshake messages go in one record (else one record each); bit 6: each
/// message is split over two records.
pub mod peer_hs {
    /// HelloRequest.
    pub const HELLO_REQUEST: u8 = 0;
    /// ClientHello asking for the driver's next generation.
    pub const CLIENT_HELLO: u8 = 1;
    /// ServerHello.
    pub const SERVER_HELLO: u8 = 2;
    /// Certificate (1,500 bytes).
    pub const CERTIFICATE: u8 = 3;
    /// ServerHelloDone.
    pub const SERVER_HELLO_DONE: u8 = 4;
    /// ClientKeyExchange.
    pub const CLIENT_KEY_EXCHANGE: u8 = 5;
    /// Finished.
    pub const FINISHED: u8 = 6;
    /// ChangeCipherSpec, after which the peer seals with the generation's
    /// keys.
    pub const CCS: u8 = 7;
    /// The peer's first flight: ServerHello, Certificate, ServerHelloDone
    /// (to a client session) or ClientHello (to a server).
    pub const HELLO_FLIGHT: u8 = 8;
    /// The peer's last flight: ChangeCipherSpec, Finished (to a client);
    /// ClientKeyExchange, ChangeCipherSpec, Finished (to a server).
    pub const FINISH_FLIGHT: u8 = 9;
}

const WRITE_BUF_LEN: usize = 1 << 16;

fn fatal(e: &SslError) -> bool {
    match e {
        SslError::Ssl(Error::Misuse { alert: None, .. }) => false,
        SslError::Ssl(_) => true,
        _ => false,
    }
}

/// The keys of handshake generation `g` (1, 2, ...) for what `writer`
/// writes.
fn gen_keys(suite: CipherSuite, g: u32, writer: Role) -> RecordKeys {
    let dir = match writer {
        Role::Client => 0x11,
        Role::Server => 0x22,
    };
    keys_salted(suite, (g as u8).wrapping_mul(0x3b) ^ dir)
}

/// Something the driver gave the session to send, in order: what the peer
/// must then find in what the session wrote.
#[derive(Debug)]
enum Sent {
    Message(HandshakeType, Vec<u8>),
    /// New write keys (TLS 1.2: after a ChangeCipherSpec).
    Keys(RecordKeys),
}

/// A call of the driver: `start` or `message`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Offer {
    Start,
    Message(HandshakeType, Vec<u8>),
}

const ALERTS: [AlertDescription; 4] = [
    AlertDescription::HandshakeFailure,
    AlertDescription::UnexpectedMessage,
    AlertDescription::InternalError,
    AlertDescription::DecodeError,
];

/// Most decisions queued at once (more are dropped).
const MAX_PLAN: usize = 64;

/// The harness's driver's state, shared with the harness (and kept across
/// `drive_with`, so a second driver goes on from the same generation).
#[derive(Debug)]
struct DriverState {
    role: Role,
    /// The suite the keys are made for; `None`: the session's suite was not
    /// known when the driver came (a followed session), then keys of
    /// [`default_tls12`].
    suite: Option<CipherSuite>,
    /// The generation of the running (or next) handshake.
    next: u32,
    /// The message types the script expects next.
    expect: Vec<HandshakeType>,
    plan: VecDeque<u8>,
    /// Further pauses for the stalled call.
    pause_left: u32,
    /// The call the last `Pending` answered: the next call must be it.
    stalled: Option<Offer>,
    calls: u64,
    pendings: u64,
    /// Pendings given to a call offered again.
    repauses: u64,
    dones: u64,
    /// Messages and key changes the session must send, oldest first.
    sent: VecDeque<Sent>,
    /// Record what is sent (off when the peer cannot check the session's
    /// records: the log would only grow).
    log: bool,
}

fn default_tls12() -> CipherSuite {
    CipherSuite::ALL
        .iter()
        .copied()
        .find(|s| s.version() == tlsrec::Version::Tls12)
        .expect("a TLS 1.2 suite")
}

impl DriverState {
    fn new(role: Role, suite: Option<CipherSuite>) -> Self {
        DriverState {
            role,
            suite,
            next: 1,
            expect: match role {
                Role::Client => Vec::new(),
                Role::Server => vec![HandshakeType::ClientHello],
            },
            plan: VecDeque::new(),
            pause_left: 0,
            stalled: None,
            calls: 0,
            pendings: 0,
            repauses: 0,
            dones: 0,
            sent: VecDeque::new(),
            log: true,
        }
    }

    fn keys(&self, writer: Role) -> RecordKeys {
        gen_keys(self.suite.unwrap_or_else(default_tls12), self.next, writer)
    }

    fn push(&mut self, out: &mut Vec<FlightItem>, item: FlightItem) {
        if self.log {
            match &item {
                FlightItem::Message(t, b) => self.sent.push_back(Sent::Message(*t, b.clone())),
                FlightItem::WriteKeys(k) => self.sent.push_back(Sent::Keys(k.clone())),
                FlightItem::ReadKeys(_) => {}
            }
        }
        out.push(item);
    }

    /// The decision for this call, or `None` to follow the script. Checks
    /// that a call paused is the next one offered.
    fn decide(&mut self, offer: Offer) -> Option<Progress> {
        self.calls += 1;
        if let Some(st) = self.stalled.take() {
            assert_eq!(
                st, offer,
                "after Pending the driver was offered another call than the one it paused"
            );
            if self.pause_left > 0 {
                self.pause_left -= 1;
                self.stalled = Some(offer);
                self.pendings += 1;
                self.repauses += 1;
                return Some(Progress::Pending);
            }
            return None;
        }
        let d = self.plan.pop_front()?;
        match d % 4 {
            decision::PAUSE => {
                self.pause_left = u32::from(d >> 2) % 4;
                self.stalled = Some(offer);
                self.pendings += 1;
                Some(Progress::Pending)
            }
            decision::FAIL => Some(Progress::Fail(ALERTS[usize::from(d >> 2) % ALERTS.len()])),
            decision::SWALLOW => Some(Progress::Continue),
            _ => None,
        }
    }

    fn start(&mut self, out: &mut Vec<FlightItem>) -> Progress {
        assert_eq!(
            self.role,
            Role::Client,
            "start() called on a server's driver"
        );
        self.check_version();
        if let Some(p) = self.decide(Offer::Start) {
            return p;
        }
        let mut body = self.next.to_be_bytes().to_vec();
        body.extend_from_slice(&[0x42; 34]);
        self.push(out, FlightItem::Message(HandshakeType::ClientHello, body));
        self.expect = vec![HandshakeType::ServerHello];
        Progress::Continue
    }

    fn check_version(&self) {
        // (observe_sent is ignored by sessions that seal their own records,
        // so no observed ClientHello hands this driver a TLS 1.3 message:
        // FUZZING.md, finding 4, fixed.)
        if let Some(s) = self.suite {
            assert_eq!(
                s.version(),
                tlsrec::Version::Tls12,
                "the driver was called on a TLS 1.3 session"
            );
        }
    }

    fn message(&mut self, msg: &HandshakeMessage, out: &mut Vec<FlightItem>) -> Progress {
        use HandshakeType as T;
        self.check_version();
        if self.role == Role::Client {
            assert_ne!(
                msg.typ,
                T::HelloRequest,
                "a client's driver was handed a HelloRequest"
            );
        }
        if let Some(p) = self.decide(Offer::Message(msg.typ, msg.body.to_vec())) {
            return p;
        }
        if !self.expect.contains(&msg.typ) {
            return Progress::Fail(AlertDescription::UnexpectedMessage);
        }
        let g = self.next;
        match (self.role, msg.typ) {
            (Role::Server, T::ClientHello) => {
                let want = msg
                    .body
                    .get(..4)
                    .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
                if want != Some(g) {
                    return Progress::Fail(AlertDescription::HandshakeFailure);
                }
                self.push(
                    out,
                    FlightItem::Message(T::ServerHello, vec![3, 3, g as u8, 0x17]),
                );
                self.push(out, FlightItem::Message(T::Certificate, vec![0x30; 1500]));
                self.push(out, FlightItem::Message(T::ServerHelloDone, Vec::new()));
                self.expect = vec![T::ClientKeyExchange];
                Progress::Continue
            }
            (Role::Server, T::ClientKeyExchange) => {
                let k = self.keys(Role::Client);
                self.push(out, FlightItem::ReadKeys(k));
                self.expect = vec![T::Finished];
                Progress::Continue
            }
            (Role::Server, T::Finished) => {
                let k = self.keys(Role::Server);
                self.push(out, FlightItem::WriteKeys(k));
                self.push(out, FlightItem::Message(T::Finished, vec![0xf1; 12]));
                self.next += 1;
                self.expect = vec![T::ClientHello];
                self.dones += 1;
                Progress::Done
            }
            (Role::Client, T::ServerHello) => {
                self.expect = vec![T::Certificate];
                Progress::Continue
            }
            (Role::Client, T::Certificate) => {
                self.expect = vec![T::ServerHelloDone];
                Progress::Continue
            }
            (Role::Client, T::ServerHelloDone) => {
                let (r, w) = (self.keys(Role::Server), self.keys(Role::Client));
                self.push(
                    out,
                    FlightItem::Message(T::ClientKeyExchange, vec![0x04; 65]),
                );
                self.push(out, FlightItem::ReadKeys(r));
                self.push(out, FlightItem::WriteKeys(w));
                self.push(out, FlightItem::Message(T::Finished, vec![0xc1; 12]));
                self.expect = vec![T::Finished];
                Progress::Continue
            }
            (Role::Client, T::Finished) => {
                self.next += 1;
                self.expect = Vec::new();
                self.dones += 1;
                Progress::Done
            }
            _ => Progress::Fail(AlertDescription::UnexpectedMessage),
        }
    }
}

/// The harness's [`HandshakeDriver`]: a handle on the shared state.
struct Driver(Arc<Mutex<DriverState>>);

fn lock(s: &Mutex<DriverState>) -> MutexGuard<'_, DriverState> {
    // A panic while locked is a failure anyway: go on to report it.
    s.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl HandshakeDriver for Driver {
    fn start(&mut self, out: &mut Vec<FlightItem>) -> Progress {
        lock(&self.0).start(out)
    }
    fn message(&mut self, msg: &HandshakeMessage, out: &mut Vec<FlightItem>) -> Progress {
        lock(&self.0).message(msg, out)
    }
}

/// The peer's side of an established connection: seals what the session
/// reads (rotating TLS 1.3 keys on KeyUpdate, TLS 1.2 keys on its own
/// ChangeCipherSpec), opens what it writes.
struct Peer {
    suite: Option<CipherSuite>,
    sealer: Sealer,
    secret: Option<Secret>,
    from_client: Deframer,
    opener: Opener,
    /// TLS 1.3: the session's write secret, to follow its own KeyUpdates
    /// (sent before a key's record limit, asked for by the caller, or
    /// answering the peer's).
    client_secret: Option<Secret>,
    check_client: bool,
    /// The session's role.
    role: Role,
    /// The driver's state, once a driver runs the session's handshakes.
    driver: Option<Arc<Mutex<DriverState>>>,
    /// The session's handshake messages (TLS 1.2, driven).
    joiner: HandshakeJoiner,
}

impl Peer {
    fn seal(&mut self, typ: ContentType, payload: &[u8], out: &mut Vec<u8>) {
        let mut wire = BytesMut::new();
        // Oversized payloads are refused by the sealer: the op does nothing.
        if self.sealer.seal(typ, payload, &mut wire).is_ok() {
            out.extend_from_slice(&wire);
        }
    }

    fn key_update(&mut self) {
        if let (Some(suite), Some(s)) = (self.suite, &self.secret) {
            let next = next_traffic_secret(suite.hash(), s).expect("hash output length");
            self.sealer.set_keys(
                RecordKeys::from_traffic_secret(suite, &next).expect("a secret of hash length"),
            );
            self.secret = Some(next);
        }
    }

    fn tls12(&self) -> bool {
        self.suite
            .is_some_and(|s| s.version() == tlsrec::Version::Tls12)
    }

    /// The generation the driver is at (1 before any driver came).
    fn generation(&self) -> u32 {
        self.driver.as_ref().map_or(1, |d| lock(d).next)
    }

    /// [`op::PEER_HS`]: handshake messages (and a ChangeCipherSpec) as the
    /// peer of a driven TLS 1.2 session sends them.
    fn handshake(&mut self, sel: u8, out: &mut Vec<u8>) {
        use HandshakeType as T;
        let g = self.generation();
        let hello = || {
            let mut b = g.to_be_bytes().to_vec();
            b.extend_from_slice(&[0x42; 34]);
            (T::ClientHello, b)
        };
        let msgs: Vec<Option<(T, Vec<u8>)>> = match (sel & 0x0f) % 10 {
            peer_hs::HELLO_REQUEST => vec![Some((T::HelloRequest, Vec::new()))],
            peer_hs::CLIENT_HELLO => vec![Some(hello())],
            peer_hs::SERVER_HELLO => vec![Some((T::ServerHello, vec![3, 3, g as u8, 0x17]))],
            peer_hs::CERTIFICATE => vec![Some((T::Certificate, vec![0x30; 1500]))],
            peer_hs::SERVER_HELLO_DONE => vec![Some((T::ServerHelloDone, Vec::new()))],
            peer_hs::CLIENT_KEY_EXCHANGE => vec![Some((T::ClientKeyExchange, vec![0x04; 65]))],
            peer_hs::FINISHED => vec![Some((T::Finished, vec![0xf1; 12]))],
            // `None`: a ChangeCipherSpec.
            peer_hs::CCS => vec![None],
            peer_hs::HELLO_FLIGHT => match self.role {
                Role::Client => vec![
                    Some((T::ServerHello, vec![3, 3, g as u8, 0x17])),
                    Some((T::Certificate, vec![0x30; 1500])),
                    Some((T::ServerHelloDone, Vec::new())),
                ],
                Role::Server => vec![Some(hello())],
            },
            _ => match self.role {
                Role::Client => vec![None, Some((T::Finished, vec![0xf1; 12]))],
                Role::Server => vec![
                    Some((T::ClientKeyExchange, vec![0x04; 65])),
                    None,
                    Some((T::Finished, vec![0xc1; 12])),
                ],
            },
        };
        let (coalesce, split) = (sel & 0x80 != 0, sel & 0x40 != 0);
        let mut pending = Vec::new();
        for m in msgs {
            let Some((typ, body)) = m else {
                if !pending.is_empty() {
                    self.seal(ContentType::Handshake, &std::mem::take(&mut pending), out);
                }
                self.seal(ContentType::ChangeCipherSpec, &[1], out);
                if self.tls12() {
                    // The peer's next generation of write keys: what the
                    // driver gives the session to read.
                    let suite = self.suite.expect("tls12");
                    self.sealer.set_keys(gen_keys(suite, g, self.role.peer()));
                }
                continue;
            };
            let mut m = vec![u8::from(typ)];
            m.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
            m.extend_from_slice(&body);
            if split {
                let (a, b) = m.split_at(m.len() / 2 + 1);
                self.seal(ContentType::Handshake, a, out);
                self.seal(ContentType::Handshake, b, out);
            } else if coalesce {
                pending.extend_from_slice(&m);
            } else {
                self.seal(ContentType::Handshake, &m, out);
            }
        }
        if !pending.is_empty() {
            self.seal(ContentType::Handshake, &pending, out);
        }
    }

    /// Every record the session wrote must open under its keys, and be
    /// what it may send: application data, an alert, a TLS 1.3 KeyUpdate,
    /// or (driven TLS 1.2) the driver's messages and key changes in the
    /// driver's order, and a server's HelloRequest.
    fn take(&mut self, wire: &[u8]) {
        if !self.check_client {
            return;
        }
        let mut rest = wire;
        loop {
            let n = self.from_client.push(rest);
            rest = &rest[n..];
            while let Some(r) = self
                .from_client
                .pop()
                .expect("the session wrote a malformed record header")
            {
                let p = self
                    .opener
                    .open(r)
                    .expect("a record the session wrote does not open");
                match p.typ {
                    ContentType::ApplicationData => {}
                    ContentType::Alert => {
                        assert_eq!(p.payload.len(), 2, "an alert of the wrong length");
                    }
                    // TLS 1.3: the session's own KeyUpdate; its next
                    // records use the next key.
                    ContentType::Handshake if self.client_secret.is_some() => {
                        assert!(
                            p.payload.len() == 5
                                && p.payload[..4] == [24, 0, 0, 1]
                                && p.payload[4] <= 1,
                            "not a KeyUpdate: {:?}",
                            &p.payload[..]
                        );
                        let (suite, s) = (
                            self.suite.expect("established"),
                            self.client_secret.take().expect("checked"),
                        );
                        let next =
                            next_traffic_secret(suite.hash(), &s).expect("hash output length");
                        self.opener.set_keys(
                            RecordKeys::from_traffic_secret(suite, &next)
                                .expect("a secret of hash length"),
                        );
                        self.client_secret = Some(next);
                    }
                    ContentType::Handshake if self.tls12() && self.driver.is_some() => {
                        self.joiner.push(&p.payload);
                        self.driven_messages();
                    }
                    ContentType::ChangeCipherSpec if self.tls12() && self.driver.is_some() => {
                        assert_eq!(&p.payload[..], &[1], "a ChangeCipherSpec of another body");
                        assert!(
                            !self.joiner.is_mid_message(),
                            "a ChangeCipherSpec inside a handshake message"
                        );
                        let d = self.driver.as_ref().expect("checked");
                        match lock(d).sent.pop_front() {
                            Some(Sent::Keys(k)) => self.opener.set_keys(k),
                            other => panic!(
                                "the session sent a ChangeCipherSpec where the driver gave {other:?}"
                            ),
                        }
                    }
                    t => panic!("the session wrote a {t:?} record"),
                }
            }
            if rest.is_empty() {
                return;
            }
            assert!(n > 0, "the peer's deframer is stuck");
        }
    }

    /// The session's whole handshake messages: a server's HelloRequest,
    /// else the driver's next message.
    fn driven_messages(&mut self) {
        let d = self.driver.as_ref().expect("driven");
        while let Some(m) = self
            .joiner
            .pop()
            .expect("the session sent an oversized handshake message")
        {
            if self.role == Role::Server
                && m.typ == HandshakeType::HelloRequest
                && m.body.is_empty()
            {
                continue;
            }
            match lock(d).sent.pop_front() {
                Some(Sent::Message(t, b)) if t == m.typ && b == m.body => {}
                other => panic!(
                    "the session sent {:?} ({} bytes) where the driver gave {other:?}",
                    m.typ,
                    m.body.len()
                ),
            }
        }
    }
}

fn config_from(b: u8, c: u8) -> Config {
    Config {
        auto_retry: b & 1 == 0,
        accept_moving_buffer: b & 2 != 0,
        partial_write: b & 4 != 0,
        release_buffers: b & 8 != 0,
        ignore_unexpected_eof: b & 16 != 0,
        check_retry_content: b & 32 != 0,
        max_send_fragment: if b & 64 != 0 {
            512 + usize::from(c) * 64
        } else {
            MAX_PLAINTEXT_LEN
        },
        // A small per-key limit so the fuzzer reaches the limits' paths.
        key_update_before_limit: b & 128 == 0,
        record_limit: (c & 1 == 1).then_some(u64::from(c >> 1) + 2),
        allow_client_renegotiation: c & 2 != 0,
        queue_flights_behind_write: c & 4 == 0,
        want_read_when_write_meets_app_data: c & 8 != 0,
        deferred_renegotiation_sends_hello: c & 16 != 0,
        provider: None,
        profile: if c & 32 != 0 {
            tlsrec::Profile::Rfc
        } else {
            tlsrec::Profile::OpenSsl3_0
        },
    }
}

fn secret13(suite: CipherSuite, salt: u8) -> Secret {
    Secret::new(
        (0..suite.hash().output_len())
            .map(|i| (i as u8).wrapping_mul(3) ^ salt)
            .collect(),
    )
}

/// The session, its peer, and how it was made.
struct Setup {
    s: Session,
    peer: Peer,
    role: Role,
    /// `Some`: a driver runs the session's handshakes.
    driver: Option<Arc<Mutex<DriverState>>>,
    /// Taken over (not followed).
    established: bool,
    /// Passive: `drive_with` as soon as the handshake is complete.
    auto_drive: bool,
}

/// Builds the session and its peer from the input's header:
/// `mode, suite, config flags, fragment` (and for the passive mode a u16
/// length and that many bytes of key log text).
fn session_from(input: &mut Input<'_>) -> Setup {
    let head = input.byte();
    let m = head % 3;
    // Established modes: the server role when (head / 3) is odd.
    let server = (head / 3) % 2 == 1;
    let driven = (head / 6) % 2 == 1;
    let with_role = (head / 12) % 2 == 1;
    let pick = input.byte();
    let cfg = config_from(input.byte(), input.byte());
    let tls13: Vec<CipherSuite> = CipherSuite::ALL
        .iter()
        .copied()
        .filter(|s| s.version() == tlsrec::Version::Tls13)
        .collect();
    let tls12: Vec<CipherSuite> = CipherSuite::ALL
        .iter()
        .copied()
        .filter(|s| s.version() == tlsrec::Version::Tls12)
        .collect();
    if m == mode::PASSIVE {
        let len = input.u16();
        let text = String::from_utf8_lossy(input.take(len)).into_owned();
        let keylog = KeyLog::parse(&text).unwrap_or_else(|_| {
            // Keep the lines that parse.
            let mut k = KeyLog::default();
            for line in text.lines() {
                let _ = k.add_line(line.trim());
            }
            k
        });
        let s = Session::passive_client(keylog, cfg);
        let peer = Peer {
            suite: None,
            sealer: Sealer::new(),
            secret: None,
            from_client: Deframer::new(),
            opener: Opener::new(),
            client_secret: None,
            check_client: false,
            role: Role::Client,
            driver: None,
            joiner: HandshakeJoiner::new(),
        };
        return Setup {
            s,
            peer,
            role: Role::Client,
            driver: None,
            established: false,
            auto_drive: driven,
        };
    }
    let role = if server { Role::Server } else { Role::Client };
    let (suite, read, write, secrets) = if m == mode::TLS13 {
        let suite = tls13[usize::from(pick) % tls13.len()];
        let (r, w) = (secret13(suite, 1), secret13(suite, 2));
        let rk = RecordKeys::from_traffic_secret(suite, &r).expect("secret length");
        let wk = RecordKeys::from_traffic_secret(suite, &w).expect("secret length");
        (suite, rk, wk, Some((r, w)))
    } else {
        let suite = tls12[usize::from(pick) % tls12.len()];
        (suite, keys(suite), keys_salted(suite, 0xa5), None)
    };
    let est = Established {
        suite,
        read: read.clone(),
        read_seq: 0,
        write: write.clone(),
        write_seq: 0,
        secrets: secrets.clone(),
    };
    let driver = driven.then(|| Arc::new(Mutex::new(DriverState::new(role, Some(suite)))));
    let s = match (&driver, with_role, server) {
        (Some(d), _, _) => Session::driven(role, est, Box::new(Driver(d.clone())), cfg),
        (None, true, _) => Session::from_established(est, cfg, role),
        (None, false, true) => Session::server_from_established(est, cfg),
        (None, false, false) => Session::client_from_established(est, cfg),
    }
    .expect("keys of the suite");
    let mut sealer = Sealer::new();
    sealer.set_keys(read);
    let mut opener = Opener::new();
    opener.set_keys(write);
    let mut from_client = Deframer::new();
    let mut p = *from_client.policy();
    p.version = Some(suite.version());
    p.first_record = false;
    p.tls13_protected = suite.version() == tlsrec::Version::Tls13;
    from_client.set_policy(p);
    let peer = Peer {
        suite: Some(suite),
        sealer,
        client_secret: secrets.as_ref().map(|(_, w)| w.clone()),
        secret: secrets.map(|(r, _)| r),
        from_client,
        opener,
        check_client: true,
        role,
        driver: driver.clone(),
        joiner: HandshakeJoiner::new(),
    };
    Setup {
        s,
        peer,
        role,
        driver,
        established: true,
        auto_drive: false,
    }
}

fn keys_salted(suite: CipherSuite, salt: u8) -> RecordKeys {
    let k: Vec<u8> = (0..suite.aead().key_len() as u8)
        .map(|b| b ^ salt)
        .collect();
    let iv: Vec<u8> = (0..suite.aead().fixed_iv_len(suite.version()) as u8)
        .map(|b| b ^ 0x55 ^ salt)
        .collect();
    RecordKeys::new(suite, &k, &iv).expect("lengths from the suite")
}

/// What a run of [`session_ops`] did (for tests that want to see progress).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SessionStats {
    /// Ops executed.
    pub ops: usize,
    /// Application bytes returned by `read`.
    pub read_bytes: usize,
    /// Successful `write` calls.
    pub writes: usize,
    /// The session failed fatally.
    pub fatal: bool,
    /// Read key changes the session followed (its read epoch - 1): TLS 1.3
    /// KeyUpdates, TLS 1.2 renegotiations.
    pub key_updates: u64,
    /// A driver ran the session's handshakes (from the start or after
    /// `drive_with`).
    pub driven: bool,
    /// Handshakes the driver completed (`Session::handshakes`).
    pub handshakes: u64,
    /// Calls that returned `WantCallback`.
    pub callbacks: u64,
}

/// The driver's counters: (calls, pendings, repauses, dones).
fn counters(d: Option<&Arc<Mutex<DriverState>>>) -> (u64, u64, u64, u64) {
    d.map_or((0, 0, 0, 0), |d| {
        let st = lock(d);
        (st.calls, st.pendings, st.repauses, st.dones)
    })
}

/// A session driven by arbitrary segments and calls. The input is a header
/// (see [`mode`] and `session_from`) then a program of [`op`]s. Invariants
/// checked after every op, in every mode:
///
/// * no panic;
/// * `read`/`peek` never return more than asked; a `read` right after a
///   `peek` returns the same bytes (as far as both go);
/// * `pending()` is at most one record's plaintext, and counted by
///   `has_pending()`;
/// * `unread_input()` grows only by what `recv` adds and never otherwise;
/// * `take_outgoing(k)` gives at most `k` bytes, and (for the established
///   and driven modes) every record the session wrote opens under its keys
///   and is one it may send (the driver's messages in its order);
/// * a call returns `WantCallback` exactly when the driver answered
///   `Pending` in it (so only a driven session does, once per call, and
///   only during a handshake); the driver's next call is then the same
///   `start` or the same message; a call in which the driver pauses again
///   on that message takes no transport byte (`unread_input()` and
///   `buffered()` unchanged);
/// * `handshakes()` never decreases, stays 0 without a driver, and equals
///   the handshakes the driver finished while the session lives;
/// * `role()` is the role it was made with; a session taken over and not
///   driven is never in a handshake (`observe_sent` included);
/// * after a fatal error (or a received close_notify / fatal alert) every
///   `read`, `peek`, `write` and `shutdown` fails: after a fatal error
///   reads with `Syscall` (or `ZeroReturn` after close_notify) and
///   `write`, `shutdown`, `do_handshake`, `key_update` with `Syscall` or
///   `Ssl`, and the driver is not called;
/// * heap growth (through `heap`, when the caller can measure it) stays
///   within the transport queues plus a fixed bound.
pub fn session_ops(data: &[u8], heap: Option<&dyn Fn() -> usize>) -> SessionStats {
    let mut input = Input(data);
    let Setup {
        mut s,
        mut peer,
        role,
        mut driver,
        established,
        auto_drive,
    } = session_from(&mut input);
    let buf_a: Vec<u8> = (0..WRITE_BUF_LEN).map(|i| i as u8).collect();
    let buf_b: Vec<u8> = (0..WRITE_BUF_LEN).map(|i| (i as u8) ^ 0xff).collect();
    let mut scratch = vec![0u8; WRITE_BUF_LEN];
    let mut wire = Vec::with_capacity(4 * MAX_RECORD_LEN);
    // Driver state for sessions that get one later (drive_with); made
    // before the heap base is taken.
    let spare = Arc::new(Mutex::new(DriverState::new(role, None)));
    lock(&spare).plan.reserve(MAX_PLAN);
    if let Some(d) = &driver {
        lock(d).plan.reserve(MAX_PLAN);
    }
    let base = heap.map(|h| h());
    let (mut peak_in, mut peak_out) = (0usize, 0usize);
    let mut stats = SessionStats::default();
    // Set once a call failed fatally or the peer's close_notify / fatal
    // alert was read: no read may succeed after it.
    let mut dead = false;
    let mut read_closed = false;
    let mut reneg_asked = false;
    let mut last_peek: Option<Vec<u8>> = None;
    let mut handshakes = 0u64;
    while !input.is_empty() && stats.ops < 4096 {
        stats.ops += 1;
        let code = op::code(input.byte());
        let before_in = s.unread_input();
        let before_buffered = s.buffered();
        let was_in_handshake = s.in_handshake();
        let (_, pend0, repause0, _) = counters(driver.as_ref());
        let mut recvd = None;
        // The error of the op's call into the session, if it made one.
        let mut err: Option<SslError> = None;
        let peeked = last_peek.take();
        match code {
            op::RECV => {
                let n = input.u16();
                let seg = input.take(n);
                s.recv(seg);
                recvd = Some(seg.len());
            }
            op::SENT => {
                let n = input.u16();
                s.observe_sent(input.take(n));
                peer.check_client = false;
            }
            op::EOF => s.recv_eof(),
            op::READ | op::PEEK => {
                let n = input.u16();
                let peek = code == op::PEEK;
                let buf = &mut scratch[..n];
                let r = if peek { s.peek(buf) } else { s.read(buf) };
                match r {
                    Ok(k) => {
                        assert!(k <= n, "read {k} bytes into a buffer of {n}");
                        assert!(!dead, "a read succeeded after a fatal error");
                        assert!(!read_closed, "a read succeeded after close_notify");
                        assert!(k > 0 || n == 0, "0 bytes for a non-empty buffer");
                        let got = &buf[..k];
                        if peek {
                            last_peek = Some(got.to_vec());
                        } else {
                            stats.read_bytes += k;
                            if let Some(p) = &peeked {
                                let m = p.len().min(got.len());
                                assert_eq!(&got[..m], &p[..m], "read differs from the peek");
                            }
                        }
                    }
                    Err(e) => {
                        if matches!(e, SslError::ZeroReturn) {
                            read_closed = true;
                        }
                        if let SslError::Ssl(Error::AlertReceived(_)) = e {
                            read_closed = true;
                        }
                        err = Some(e);
                    }
                }
            }
            op::PENDING => {
                let p = s.pending();
                assert!(p <= MAX_PLAINTEXT_LEN, "pending {p}");
                assert!(p == 0 || s.has_pending(), "pending {p} but not has_pending");
                last_peek = peeked;
            }
            op::WRITE_A | op::WRITE_B => {
                let n = input.u16();
                let buf = if code == op::WRITE_A { &buf_a } else { &buf_b };
                match s.write(&buf[..n]) {
                    Ok(k) => {
                        assert!(k <= n, "wrote {k} of {n}");
                        assert!(!dead, "a write succeeded after a fatal error");
                        stats.writes += 1;
                    }
                    Err(e) => err = Some(e),
                }
            }
            op::CAPACITY => {
                let c = input.u16();
                s.set_outgoing_capacity((c != 0xffff).then_some(c));
            }
            op::TAKE => {
                let k = input.u16();
                let before = s.outgoing_len();
                let out = s.take_outgoing(k);
                assert!(out.len() <= k && out.len() == before.min(k));
                peer.take(&out);
            }
            op::SHUTDOWN => match s.shutdown() {
                Ok(_) => assert!(!dead, "shutdown succeeded after a fatal error"),
                Err(e) => err = Some(e),
            },
            op::HANDSHAKE => err = s.do_handshake().err(),
            op::RENEGOTIATE => {
                err = s.renegotiate().err();
                // Its hello (a server's HelloRequest: a handshake that
                // starts and ends in one call) may come at any later call.
                reneg_asked |= err.is_none();
            }
            op::KEY_UPDATE => err = s.key_update(input.byte() & 1 == 1).err(),
            op::DRIVE_WITH => {
                // One shared state: a second driver goes on where the
                // first one was.
                let d = driver.clone().unwrap_or_else(|| spare.clone());
                {
                    let mut st = lock(&d);
                    if st.suite.is_none() {
                        st.suite = s.sealer().suite();
                    }
                }
                match s.drive_with(Box::new(Driver(d.clone()))) {
                    Ok(()) => {
                        assert!(
                            s.is_established() && !s.in_handshake(),
                            "drive_with taken before the handshake was complete"
                        );
                        driver = Some(d.clone());
                        peer.driver = Some(d);
                    }
                    Err(e) => {
                        assert!(!fatal(&e), "a refused drive_with failed the session: {e:?}");
                        err = Some(e);
                    }
                }
            }
            op::DRIVER_PLAN => {
                let d = input.byte();
                let target = driver.as_ref().unwrap_or(&spare);
                let mut st = lock(target);
                if st.plan.len() < MAX_PLAN {
                    st.plan.push_back(d);
                }
            }
            op::PEER_HS => peer.handshake(input.byte(), &mut wire),
            op::PEER_RECORD => {
                let t = input.byte();
                let typ = ContentType::from(match t & 0x7f {
                    x if x % 5 == 4 => x,
                    x => 20 + x % 5,
                });
                let n = input.u16() % (MAX_PLAINTEXT_LEN + 2);
                let payload: Vec<u8> = if t & 0x80 != 0 {
                    // The payload follows in the input (zero-padded).
                    let mut p = input.take(n).to_vec();
                    p.resize(n, 0);
                    p
                } else {
                    (0..n).map(|i| (i % 251) as u8 + 1).collect()
                };
                peer.seal(typ, &payload, &mut wire);
            }
            op::PEER_KEY_UPDATE => {
                let req = input.byte() % 3;
                peer.seal(ContentType::Handshake, &[24, 0, 0, 1, req], &mut wire);
                peer.key_update();
            }
            op::PEER_ALERT => {
                let (level, desc) = (input.byte(), input.byte());
                peer.seal(ContentType::Alert, &[level % 4, desc], &mut wire);
            }
            op::PEER_EMPTY => {
                for _ in 0..input.byte() % 40 {
                    peer.seal(ContentType::ApplicationData, &[], &mut wire);
                }
            }
            _ => unreachable!("op::code gives one of op::ALL"),
        }
        if let Some(e) = &err {
            dead |= fatal(e);
        }
        if reneg_asked || (!was_in_handshake && s.in_handshake()) {
            // A handshake of ours that starts after the peer's close_notify
            // forgets it, as OpenSSL's hello pre-work does
            // (`s->shutdown = 0`): reads may succeed again.
            read_closed = false;
        }
        // WantCallback exactly when the driver paused in this call.
        let (_, pend1, repause1, _) = counters(driver.as_ref());
        let paused = pend1 - pend0;
        let callback = matches!(err, Some(SslError::WantCallback));
        assert!(paused <= 1, "the driver paused {paused} times in one call");
        assert_eq!(
            callback,
            paused == 1,
            "WantCallback returned {callback}, the driver paused {paused} times ({err:?})"
        );
        if callback {
            stats.callbacks += 1;
            assert!(
                driver.is_some(),
                "WantCallback from a session without a driver"
            );
            assert!(s.in_handshake(), "WantCallback outside a handshake");
            if repause1 > repause0 {
                // Paused again on the message it was offered again: nothing
                // read from the transport or the record layer for it.
                assert_eq!(s.unread_input(), before_in, "a paused call read input");
                assert_eq!(s.buffered(), before_buffered, "a paused call took records");
            }
        }
        if !wire.is_empty() {
            // Sealed peer records arrive at once.
            s.recv(&wire);
            recvd = Some(wire.len());
            wire.clear();
        }
        // Transport conservation: only recv adds input; nothing else does.
        match recvd {
            Some(n) => assert_eq!(s.unread_input(), before_in + n),
            None => assert!(s.unread_input() <= before_in, "input grew without recv"),
        }
        if dead {
            let calls = counters(driver.as_ref()).0;
            let mut one = [0u8; 1];
            // A read on a failed connection repeats what the last call was
            // left waiting for, as OpenSSL's SSL_get_error does
            // (docs/rules-stream-end.md).
            let read_err = |r: Result<usize, SslError>, what: &str| match r {
                Err(
                    SslError::Syscall
                    | SslError::ZeroReturn
                    | SslError::WantRead
                    | SslError::WantWrite,
                ) => {}
                r => panic!("{what} after a fatal error: {r:?}"),
            };
            read_err(s.read(&mut one), "read");
            read_err(s.peek(&mut one), "peek");
            // A write after the peer's fatal alert says ZERO_RETURN as a
            // read does (docs/rules-stream-end.md, rule 8).
            let later = |r: Result<(), SslError>, what: &str| match r {
                Err(SslError::Syscall | SslError::Ssl(_) | SslError::ZeroReturn) => {}
                r => panic!("{what} after a fatal error: {r:?}"),
            };
            later(s.write(b"x").map(drop), "write");
            later(s.shutdown().map(drop), "shutdown");
            later(s.do_handshake(), "do_handshake");
            later(s.key_update(false), "key_update");
            assert_eq!(
                counters(driver.as_ref()).0,
                calls,
                "the driver was called after a fatal error"
            );
        }
        // Handshakes: never fewer, none without a driver, and the driver's
        // count while the session lives (a flight that failed to go out
        // kills it).
        let h = s.handshakes();
        assert!(
            h >= handshakes,
            "handshakes() went from {handshakes} to {h}"
        );
        handshakes = h;
        let dones = counters(driver.as_ref()).3;
        assert!(h <= dones, "{h} handshakes, the driver finished {dones}");
        if !dead {
            assert_eq!(
                h, dones,
                "the driver finished a handshake the session did not count"
            );
        }
        assert_eq!(s.role(), role, "the role changed");
        // (Finding 3, fixed: observe_sent no longer starts a handshake in
        // a session taken over.)
        if established && driver.is_none() {
            assert!(
                !s.in_handshake(),
                "a session taken over entered a handshake"
            );
        }
        if auto_drive && driver.is_none() && s.is_established() && !s.in_handshake() {
            let d = spare.clone();
            lock(&d).suite = s.sealer().suite();
            if s.drive_with(Box::new(Driver(d.clone()))).is_ok() {
                driver = Some(d.clone());
                peer.driver = Some(d);
            }
        }
        if !peer.check_client {
            // Nothing checks what the session sends: keep no log.
            if let Some(d) = &driver {
                let mut st = lock(d);
                st.log = false;
                st.sent.clear();
            }
        }
        peak_in = peak_in.max(s.unread_input());
        peak_out = peak_out.max(s.outgoing_len());
        if let (Some(h), Some(base)) = (heap, base) {
            let now = h();
            // The transport queues are `BytesMut`s: after `split_to` /
            // `advance` a queue keeps its consumed prefix until it grows
            // again, and growing doubles, so each may hold ~4x its peak.
            let bound =
                4 * (peak_in + peak_out) + 2 * DEFAULT_MAX_HANDSHAKE_LEN + 8 * MAX_RECORD_LEN;
            assert!(
                now.saturating_sub(base) <= bound,
                "heap grew by {} bytes (bound {bound})",
                now - base
            );
        }
    }
    stats.fatal = dead;
    stats.key_updates = s.opener().epoch().saturating_sub(1);
    stats.driven = driver.is_some();
    stats.handshakes = s.handshakes();
    stats
}

// ----------------------------------------------------------------------
// tlsrec decode and the transcript parser
// ----------------------------------------------------------------------

/// `tlsrec decode` on arbitrary input: byte 0 picks what (even: a capture
/// `keylog, c2s, s2c` with u16 lengths before the first two; odd: the rest
/// as transcript JSON text, parsed, decoded, and replayed when its calls
/// ask for at most 1 MiB). Checks that each record event lies inside its
/// stream, that offsets grow, that the leftover counts are within the
/// streams, and that `--json` lines are JSON objects. Returns the number of
/// record events.
pub fn decode_input(data: &[u8]) -> usize {
    let mut input = Input(data);
    let sel = input.byte();
    if sel % 2 == 1 {
        return transcript_input(input.0);
    }
    let kl = input.u16();
    let text = String::from_utf8_lossy(input.take(kl)).into_owned();
    let keylog = KeyLog::parse(&text).unwrap_or_else(|_| {
        let mut k = KeyLog::default();
        for line in text.lines() {
            let _ = k.add_line(line.trim());
        }
        k
    });
    let n = input.u16();
    let c2s = input.take(n).to_vec();
    let s2c = input.0.to_vec();
    let d = tlsrec::decode::decode_capture(keylog, &c2s, &s2c);
    check_decoded(&d, [c2s.len(), s2c.len()], true)
}

fn check_decoded(d: &tlsrec::decode::Decoded, lens: [usize; 2], exact: bool) -> usize {
    use tlsrec::follow::Dir;
    let mut next = [0u64; 2];
    // A header the deframer refused ends its direction with an event that
    // is not a record: its bytes count as left over.
    let mut refused = [None::<u64>; 2];
    for ev in &d.events {
        let i = usize::from(ev.dir == Dir::S2c);
        assert!(refused[i].is_none(), "a record after a refused header");
        assert!(ev.offset >= next[i], "record offsets go back");
        let end = ev.offset + (HEADER_LEN + usize::from(ev.header.len)) as u64;
        if ev.error.is_some() && ev.plain.is_none() {
            refused[i] = Some(ev.offset);
        }
        if exact && refused[i].is_none() {
            assert!(end <= lens[i] as u64, "a record past the end of its stream");
        }
        if end <= lens[i] as u64 {
            next[i] = end;
        }
        if let Some(p) = &ev.plain {
            assert!(p.payload.len() <= usize::from(ev.header.len));
        }
        let _ = ev.to_text();
        let j = ev.to_json();
        let v: serde_json::Value = serde_json::from_str(&j).expect("--json line is not JSON");
        assert!(v.is_object());
    }
    if exact {
        for i in 0..2 {
            assert!(d.trailing[i] <= lens[i], "more left over than given");
            let whole = next[i] as usize + d.trailing[i] == lens[i];
            let cut = refused[i].is_some_and(|o| o as usize + d.trailing[i] == lens[i]);
            assert!(
                whole || cut,
                "records and leftover do not add up to the stream"
            );
        }
    }
    d.events.len()
}

fn transcript_input(data: &[u8]) -> usize {
    use tlsrec::transcript::{Step, Transcript};
    let text = String::from_utf8_lossy(data);
    let Ok(t) = Transcript::parse(&text) else {
        return 0;
    };
    let streams = [
        t.steps
            .iter()
            .map(|s| match s {
                Step::Send(b) | Step::Drain { wire: b, .. } => b.len(),
                _ => 0,
            })
            .sum::<usize>(),
        t.steps
            .iter()
            .map(|s| match s {
                Step::Recv(b) => b.len(),
                _ => 0,
            })
            .sum(),
    ];
    let d = tlsrec::decode::decode_transcript(&t);
    let n = check_decoded(&d, streams, true);
    // Known bug, not fixed yet (tests/hostile.rs,
    // `replay_of_a_write_step_whose_data_is_not_n_bytes_does_not_panic`):
    // replay panics when a write step's data is not `n` bytes long.
    let small = t.steps.iter().all(|s| match s {
        Step::Write { n, data, .. } => *n <= 1 << 20 && data.len() == *n,
        Step::Read { n, .. } | Step::Peek { n, .. } => *n <= 1 << 20,
        Step::Transport { capacity } => *capacity <= 1 << 20,
        _ => true,
    });
    if small {
        let _ = tlsrec::replay::replay(&t);
    }
    n
}
