//! The `tls12_handshake` body: the crate's TLS 1.2 handshake (`tlsrec::tls12`,
//! both roles) against a tlsrec peer whose handshake messages the input
//! mutates, drops, duplicates, reorders and adds to, with raw records and
//! bytes injected into the tested side's input, renegotiations from either
//! side, application data both ways and driver pauses.
//!
//! The tested side `T` is a `tls12::client_session` or `server_session`.
//! The peer `P` is the other role, its real driver wrapped in a [`Mutator`]
//! that applies the input's plan to every item (message, key change) the
//! driver answers with, before the record layer seals it: so mutations
//! reach `T` in the first handshake (plaintext) and in renegotiations
//! (sealed under the current keys) alike.
//!
//! Invariants (a panic names the one broken):
//! * no panic in the library, and bounded work per input;
//! * a call that fails returns a typed error: `SSL` with an alert, a
//!   received alert, or a record error OpenSSL sends no alert for;
//! * the alert a failing call sends is the last record it wrote (in
//!   plaintext, checked byte for byte, until that side sent its
//!   ChangeCipherSpec);
//! * after a fatal error every call fails and nothing more is written;
//! * the peer only ever receives a fatal alert `T` sent because it failed,
//!   and the same one;
//! * application data is delivered byte-exact (a prefix of what the other
//!   side wrote) or not at all;
//! * an input that mutated nothing, injected nothing and asked for nothing
//!   OpenSSL refuses (compatible configurations, client renegotiation only
//!   where allowed) ends with both sides established, nothing lost either
//!   way, after the final exchange.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use tlsrec::handshake::{HandshakeMessage, HandshakeType};
use tlsrec::tls12::{
    self, CertResolution, ClientAuth, ClientCertVerification, ClientConfig, ClientHelloInfo,
    Identity, NamedGroup, ResolvesServerCert, ServerCertVerification, ServerConfig,
};
use tlsrec::{
    AlertDescription, CipherSuite, Config, Error, FlightItem, HandshakeDriver, Progress, Session,
    SslError,
};

const EC_CERT: &[u8] = include_bytes!("../certs/ec.der");
const EC_KEY: &[u8] = include_bytes!("../certs/ec.key.der");
const RSA_CERT: &[u8] = include_bytes!("../certs/rsa.der");
const RSA_KEY: &[u8] = include_bytes!("../certs/rsa.key.der");

fn identity(rsa: bool) -> Arc<Identity> {
    use std::sync::OnceLock;
    static EC: OnceLock<Arc<Identity>> = OnceLock::new();
    static RSA: OnceLock<Arc<Identity>> = OnceLock::new();
    let (cell, cert, key) = if rsa {
        (&RSA, RSA_CERT, RSA_KEY)
    } else {
        (&EC, EC_CERT, EC_KEY)
    };
    cell.get_or_init(|| Arc::new(Identity::from_der(vec![cert.to_vec()], key).expect("key")))
        .clone()
}

/// Op codes of the `tls12_handshake` input (after the 3-byte header); an op
/// byte is `b % COUNT`.
pub mod hs_op {
    /// `(a)`: a call on side `a & 1` (0: tested, 1: peer): `(a >> 1) % 3`
    /// read (`n` = next byte * 64 + 1), do_handshake, write (`n` likewise).
    pub const CALL: u8 = 0;
    /// `(a, b)`: the bytes side `a & 1` wrote go to the other in segments
    /// of `b * 13 + 1`, each followed by a read.
    pub const TRANSFER: u8 = 1;
    /// `(a)`: `a % 8 + 1` rounds of: each side reads (or handshakes), all
    /// its bytes go to the other.
    pub const PUMP: u8 = 2;
    /// `(kind, args..)`: one mutation for the peer's next unplanned item.
    pub const MUTATE: u8 = 3;
    /// `(a)`: `a % 16 + 1` items of the peer pass unchanged.
    pub const PASS: u8 = 4;
    /// `(type, len, bytes)`: a plaintext record (version 3,3) into the
    /// tested side's input.
    pub const INJECT_RECORD: u8 = 5;
    /// `(a)`: side `a & 1` asks for a renegotiation.
    pub const RENEGOTIATE: u8 = 6;
    /// `(a)`: side `a & 1`'s driver (and, a server's, certificate lookup)
    /// pauses `(a >> 1) % 4` times.
    pub const PAUSE: u8 = 7;
    /// `(len, bytes)`: raw bytes into the tested side's input.
    pub const INJECT_BYTES: u8 = 8;
    /// `(a)`: side `a & 1` writes `(a >> 1) * 97 + 1` bytes.
    pub const WRITE: u8 = 9;
    /// How many ops there are.
    pub const COUNT: u8 = 10;
}

/// Mutation kinds (`hs_op::MUTATE`'s first byte `% COUNT`).
pub mod mutation {
    /// `(p)`: the body cut to `len * p / 256` bytes.
    pub const TRUNCATE: u8 = 0;
    /// `(n, bytes)`: `n % 8 + 1` bytes appended.
    pub const APPEND: u8 = 1;
    /// `(pos, x)`: byte `pos % len` xored with `x | 1`.
    pub const FLIP: u8 = 2;
    /// `(t)`: the message's type replaced.
    pub const RETYPE: u8 = 3;
    /// The item dropped.
    pub const DROP: u8 = 4;
    /// The message sent twice.
    pub const DUP: u8 = 5;
    /// The item sent after the next one.
    pub const SWAP: u8 = 6;
    /// `(t, len, bytes)`: a message of type `t` sent before the item.
    pub const INSERT: u8 = 7;
    /// `(len, bytes)`: the body replaced.
    pub const REPLACE: u8 = 8;
    /// `(pos, x)`: byte `len - 1 - pos % len` xored with `x | 1`.
    pub const FLIP_END: u8 = 9;
    /// How many kinds there are.
    pub const COUNT: u8 = 10;
}

const TYPES: [u8; 13] = [0, 1, 2, 4, 11, 12, 13, 14, 15, 16, 20, 24, 3];

#[derive(Debug, Clone)]
enum Action {
    Pass,
    Truncate(u8),
    Append(Vec<u8>),
    Flip(u8, u8, bool),
    Retype(u8),
    Drop,
    Dup,
    Swap,
    Insert(u8, Vec<u8>),
    Replace(Vec<u8>),
}

#[derive(Debug, Default)]
struct Plan {
    actions: VecDeque<Action>,
    /// Pauses left (the driver's calls answer Pending without asking it).
    pauses: u32,
    /// Pauses left for a server's certificate lookup.
    lookup_pauses: u32,
    /// Some item was changed.
    mutated: bool,
}

fn lock(p: &Mutex<Plan>) -> MutexGuard<'_, Plan> {
    p.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A driver with the plan applied to its answers.
struct Mutator {
    inner: Box<dyn HandshakeDriver + Send>,
    plan: Arc<Mutex<Plan>>,
}

impl Mutator {
    fn apply(&self, items: &mut Vec<FlightItem>) {
        let mut plan = lock(&self.plan);
        if plan.actions.is_empty() {
            return;
        }
        let mut out: Vec<FlightItem> = Vec::new();
        let mut held: Option<FlightItem> = None;
        for item in items.drain(..) {
            let action = plan.actions.pop_front().unwrap_or(Action::Pass);
            let mut emit: Vec<FlightItem> = Vec::new();
            let mut changed = true;
            match (action, item) {
                (Action::Pass, item) => {
                    changed = false;
                    emit.push(item);
                }
                (Action::Drop, _) => {}
                (Action::Swap, item) => {
                    if let Some(h) = held.take() {
                        out.push(h);
                    }
                    held = Some(item);
                    plan.mutated = true;
                    continue;
                }
                (Action::Insert(t, body), item) => {
                    emit.push(FlightItem::Message(HandshakeType::from(t), body));
                    emit.push(item);
                }
                (action, FlightItem::Message(t, mut body)) => {
                    let mut t = t;
                    match action {
                        Action::Truncate(p) => body.truncate(body.len() * usize::from(p) / 256),
                        Action::Append(b) => body.extend_from_slice(&b),
                        Action::Flip(pos, x, from_end) if !body.is_empty() => {
                            let i = usize::from(pos) % body.len();
                            let i = if from_end { body.len() - 1 - i } else { i };
                            body[i] ^= x | 1;
                        }
                        Action::Retype(n) => t = HandshakeType::from(n),
                        Action::Replace(b) => body = b,
                        Action::Dup => {
                            emit.push(FlightItem::Message(t, body.clone()));
                        }
                        _ => changed = false,
                    }
                    emit.push(FlightItem::Message(t, body));
                }
                (_, item) => {
                    changed = false;
                    emit.push(item);
                }
            }
            plan.mutated |= changed;
            for e in emit {
                out.push(e);
                if let Some(h) = held.take() {
                    out.push(h);
                }
            }
        }
        if let Some(h) = held {
            out.push(h);
        }
        *items = out;
    }

    fn paused(&self) -> bool {
        let mut plan = lock(&self.plan);
        if plan.pauses > 0 {
            plan.pauses -= 1;
            return true;
        }
        false
    }
}

impl HandshakeDriver for Mutator {
    fn start(&mut self, out: &mut Vec<FlightItem>) -> Progress {
        if self.paused() {
            return Progress::Pending;
        }
        let p = self.inner.start(out);
        self.apply(out);
        p
    }

    fn message(&mut self, msg: &HandshakeMessage, out: &mut Vec<FlightItem>) -> Progress {
        if self.paused() {
            return Progress::Pending;
        }
        let p = self.inner.message(msg, out);
        if trace() {
            let items: Vec<String> = out
                .iter()
                .map(|i| match i {
                    FlightItem::Message(t, b) => format!("{t:?}({})", b.len()),
                    FlightItem::WriteKeys(_) => "WriteKeys".into(),
                    FlightItem::ReadKeys(_) => "ReadKeys".into(),
                })
                .collect();
            eprintln!(
                "  driver got {:?}({}): {p:?} {items:?}",
                msg.typ,
                msg.body.len()
            );
        }
        if p != Progress::Pending {
            self.apply(out);
        }
        p
    }
}

/// A certificate lookup that pauses as planned.
struct Lookup {
    id: Arc<Identity>,
    plan: Arc<Mutex<Plan>>,
}

impl ResolvesServerCert for Lookup {
    fn resolve(&self, _: &ClientHelloInfo) -> CertResolution {
        let mut plan = lock(&self.plan);
        if plan.lookup_pauses > 0 {
            plan.lookup_pauses -= 1;
            return CertResolution::Pending;
        }
        CertResolution::Ready(self.id.clone())
    }
}

/// The application data side `k` writes at stream offset `i`.
fn pattern(k: usize, i: u64) -> u8 {
    (i.wrapping_mul(7) ^ (i >> 8) ^ (k as u64 * 0x5b)) as u8
}

struct Side {
    s: Session,
    plan: Arc<Mutex<Plan>>,
    /// Bytes written and not yet given to the other side.
    wire: VecDeque<u8>,
    /// Records of everything written, for the alert checks.
    scan: Vec<u8>,
    /// A ChangeCipherSpec record was written: later records are sealed.
    ccs_sent: bool,
    /// The fatal alert this side sent when it failed (`Some(None)`: failed
    /// without sending one).
    failed: Option<Option<AlertDescription>>,
    /// Application data written (accepted by `write`).
    sent: u64,
    /// Application data read.
    got: u64,
    /// A write to retry with the same length.
    pending_write: Option<usize>,
    /// The handshakes it completed.
    handshakes: u64,
    /// It read an (injected) close_notify.
    closed: bool,
    /// Its handshake count when it last asked for a renegotiation.
    requested: Option<u64>,
}

impl Side {
    /// Takes what the session wrote; returns the last record's type and
    /// payload (if plaintext) among what this call wrote.
    fn collect(&mut self) -> Option<(u8, Option<Vec<u8>>)> {
        let b = self.s.take_outgoing(usize::MAX);
        self.wire.extend(b.iter().copied());
        self.scan.extend_from_slice(&b);
        let mut last = None;
        while self.scan.len() >= 5 {
            let len = usize::from(u16::from_be_bytes([self.scan[3], self.scan[4]]));
            if self.scan.len() < 5 + len {
                break;
            }
            let typ = self.scan[0];
            let rec: Vec<u8> = self.scan.drain(..5 + len).collect();
            let plain = (!self.ccs_sent).then(|| rec[5..].to_vec());
            if trace() {
                eprintln!(
                    "  wrote record type {typ} len {len} {:?}",
                    plain.as_ref().map(|p| &p[..p.len().min(8)])
                );
            }
            if typ == 20 {
                self.ccs_sent = true;
            }
            last = Some((typ, plain));
        }
        last
    }
}

struct World {
    sides: [Side; 2],
    /// Something was injected into the tested side's input.
    injected: bool,
    /// A client renegotiation the server refuses was asked for.
    refused_reneg: bool,
    /// A renegotiation was asked for while another could swallow it.
    racy_reneg: bool,
    /// `do_handshake` was called on an established side.
    handshake_call_established: bool,
    /// Some side asked for a renegotiation.
    any_reneg: bool,
    allow_client_reneg: bool,
    tested_is_server: bool,
    calls: u64,
}

/// What one run saw (for the tests' coverage checks).
#[derive(Debug, Default, Clone, Copy)]
pub struct HandshakeStats {
    /// Handshakes the tested side completed.
    pub handshakes: u64,
    /// The tested side failed with an alert it sent.
    pub alerted: bool,
    /// Application bytes the tested side read.
    pub delivered: u64,
    /// The input was clean and the final exchange completed.
    pub clean_completed: bool,
}

impl World {
    fn is_client(&self, k: usize) -> bool {
        (k == 0) != self.tested_is_server
    }

    /// The outcome of a call on side `k`.
    fn outcome(&mut self, k: usize, r: Result<(), SslError>) {
        self.calls += 1;
        if trace() {
            eprintln!(
                "side {k} ({}): {r:?} established {} in_handshake {}",
                if self.is_client(k) {
                    "client"
                } else {
                    "server"
                },
                self.sides[k].s.is_established(),
                self.sides[k].s.in_handshake()
            );
        }
        let last = self.sides[k].collect();
        let side = &mut self.sides[k];
        side.handshakes = side.handshakes.max(side.s.handshakes());
        if side.failed.is_some() && !side.closed {
            assert!(r.is_err(), "side {k}: a call succeeded after a fatal error");
            assert!(
                last.is_none() && side.s.outgoing_len() == 0,
                "side {k}: wrote after a fatal error"
            );
            return;
        }
        let e = match r {
            Ok(()) | Err(SslError::WantRead | SslError::WantWrite | SslError::WantCallback) => {
                return
            }
            // Only an injected close_notify closes (and then anything goes).
            Err(SslError::ZeroReturn) if k == 0 && self.injected => {
                side.closed = true;
                return;
            }
            Err(SslError::ZeroReturn) => panic!("side {k}: ZERO_RETURN without a close_notify"),
            // After an (injected) close_notify a later record error still
            // sends its alert (ssl3_get_record fails before the shutdown
            // check): remember it for the peer's check.
            Err(SslError::Ssl(e)) if side.closed => {
                if side.failed.is_none() {
                    side.failed = Some(e.alert());
                }
                return;
            }
            Err(_) if side.closed => return,
            // OpenSSL 3.0's answer to a write that runs this side's
            // renegotiation and meets application data a read could take
            // (`Config::want_read_when_write_meets_app_data`): nothing
            // consumed, nothing fatal.
            Err(SslError::Syscall) => return,
            Err(SslError::Ssl(e)) => e,
            Err(e) => panic!("side {k}: untyped failure {e:?}"),
        };
        let alert = match &e {
            Error::AlertReceived(_) => None,
            Error::InvalidRecord { alert, .. } => *alert,
            Error::PeerMisbehaved { alert, .. } => Some(*alert),
            other => panic!("side {k}: a handshake failure that is no protocol error: {other:?}"),
        };
        if let Some(a) = alert {
            match last {
                Some((21, Some(p))) => assert_eq!(
                    p,
                    [2, u8::from(a)],
                    "side {k}: failed with {e:?} but its alert record says otherwise"
                ),
                Some((21, None)) => {}
                other => panic!("side {k}: failed with {e:?}, last record written {other:?}"),
            }
        }
        side.failed = Some(alert);
        if let Error::AlertReceived(got) = e {
            // The other side is tlsrec too: a fatal alert comes only from a
            // failure, and it is the one that side reported (the tested
            // side's input may hold injected ones).
            if k == 1 {
                let o = &self.sides[0];
                assert_eq!(
                    o.failed,
                    Some(Some(got)),
                    "the peer received fatal alert {got:?}, the tested side failed with {:?}",
                    o.failed
                );
            }
        }
    }

    fn read(&mut self, k: usize, n: usize) {
        let mut buf = vec![0u8; n.max(1)];
        let r = self.sides[k].s.read(&mut buf);
        let r = match r {
            Ok(m) => {
                assert!(m > 0 && m <= buf.len(), "side {k}: read returned {m}");
                let other = &self.sides[1 - k];
                let side = &self.sides[k];
                assert!(
                    side.got + m as u64 <= other.sent,
                    "side {k} read {} bytes, the other side wrote {}",
                    side.got + m as u64,
                    other.sent
                );
                for (j, &b) in buf[..m].iter().enumerate() {
                    assert_eq!(
                        b,
                        pattern(1 - k, side.got + j as u64),
                        "side {k}: application byte {} differs",
                        side.got + j as u64
                    );
                }
                self.sides[k].got += m as u64;
                Ok(())
            }
            Err(e) => Err(e),
        };
        self.outcome(k, r);
    }

    fn handshake(&mut self, k: usize) {
        let r = self.sides[k].s.do_handshake();
        self.outcome(k, r);
    }

    fn write(&mut self, k: usize, n: usize) {
        let renegotiating = self
            .sides
            .iter()
            .any(|s| s.s.in_handshake() || s.requested.is_some_and(|h| s.s.handshakes() == h));
        if self.any_reneg && renegotiating && self.sides[k].s.handshakes() > 0 {
            // A write while a renegotiation runs or is due can meet the
            // other side's application data in the handshake, which
            // OpenSSL 3.0 refuses outside SSL_read (ssl3_read_bytes:
            // unexpected_message, `in_read_app_data`). And a server
            // writing after its HelloRequest: OpenSSL's server is out of
            // init then and writes without reading; tlsrec's waits in the
            // handshake and its write refuses the client's data (a
            // difference left to the session's owners, FUZZING.md).
            // Not clean.
            self.racy_reneg = true;
        }
        let side = &mut self.sides[k];
        let n = side.pending_write.unwrap_or(n.max(1));
        let data: Vec<u8> = (0..n as u64).map(|i| pattern(k, side.sent + i)).collect();
        let r = side.s.write(&data);
        let r = match r {
            Ok(m) => {
                assert_eq!(m, n, "side {k}: a partial write without partial writes");
                side.sent += m as u64;
                side.pending_write = None;
                Ok(())
            }
            Err(e @ (SslError::WantRead | SslError::WantWrite | SslError::WantCallback)) => {
                side.pending_write = Some(n);
                Err(e)
            }
            Err(SslError::Syscall) => {
                side.pending_write = None;
                Err(SslError::Syscall)
            }
            Err(e) => Err(e),
        };
        self.outcome(k, r);
    }

    /// A read, or do_handshake while the first handshake runs.
    fn poll(&mut self, k: usize) {
        if self.sides[k].s.is_established() {
            self.read(k, 4096);
        } else {
            self.handshake(k);
        }
    }

    fn transfer(&mut self, from: usize, seg: usize) {
        loop {
            let w = &mut self.sides[from].wire;
            if w.is_empty() {
                break;
            }
            let n = seg.min(w.len());
            let chunk: Vec<u8> = w.drain(..n).collect();
            self.sides[1 - from].s.recv(&chunk);
            self.poll(1 - from);
        }
    }

    fn pump(&mut self, rounds: usize) {
        for _ in 0..rounds {
            for k in 0..2 {
                self.poll(k);
                self.transfer(k, usize::MAX);
            }
        }
    }
}

/// `TLSREC_HS_TRACE=1`: every op and call outcome on stderr.
fn trace() -> bool {
    use std::sync::OnceLock;
    static T: OnceLock<bool> = OnceLock::new();
    *T.get_or_init(|| std::env::var_os("TLSREC_HS_TRACE").is_some())
}

struct Input<'a> {
    d: &'a [u8],
}

impl Input<'_> {
    fn u8(&mut self) -> u8 {
        match self.d.split_first() {
            Some((&b, rest)) => {
                self.d = rest;
                b
            }
            None => 0,
        }
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        let n = n.min(self.d.len());
        let (h, t) = self.d.split_at(n);
        self.d = t;
        h.to_vec()
    }
}

/// The suites whose bits are set in `mask`'s low six (none set: all), of
/// the handshake's six in their default order.
fn suites(mask: u8) -> Vec<CipherSuite> {
    let m = if mask & 0x3f == 0 { 0x3f } else { mask & 0x3f };
    tlsrec::tls12::DEFAULT_SUITES
        .iter()
        .enumerate()
        .filter(|(i, _)| m & (1 << i) != 0)
        .map(|(_, s)| *s)
        .collect()
}

fn groups(sel: u8) -> Vec<NamedGroup> {
    match sel & 3 {
        0 => tls12::DEFAULT_GROUPS.to_vec(),
        1 => vec![NamedGroup::X25519],
        2 => vec![NamedGroup::Secp256r1],
        _ => vec![NamedGroup::Secp384r1, NamedGroup::X25519],
    }
}

/// Header (3 bytes), then ops (`hs_op`):
/// * byte 0: bit 0 the tested side's role (0 client, 1 server); bits 1-2
///   the server's certificate (3: RSA 2048, else ECDSA P-256); bits 3-4
///   client certificates (0 off, 1 requested, 2 required, 3 requested in
///   renegotiations only); bit 5 the client has a certificate; bit 6 the
///   server allows client renegotiation; bit 7 `max_send_fragment` 512;
/// * byte 1: the client's suites (bits 0-5, none: all) and groups (bits 6-7);
/// * byte 2: the server's, likewise.
pub fn tls12_handshake(data: &[u8]) -> HandshakeStats {
    let mut inp = Input { d: data };
    let h0 = inp.u8();
    let (h1, h2) = (inp.u8(), inp.u8());
    let tested_is_server = h0 & 1 == 1;
    let rsa = (h0 >> 1) & 3 == 3;
    let auth = (h0 >> 3) & 3;
    let client_has_cert = h0 & 0x20 != 0;
    let allow_client_reneg = h0 & 0x40 != 0;
    let cfg = Config {
        allow_client_renegotiation: allow_client_reneg,
        max_send_fragment: if h0 & 0x80 != 0 { 512 } else { 16384 },
        ..Config::default()
    };

    let mut ccfg = ClientConfig::new("tlsrec.fuzz", ServerCertVerification::DangerousNone);
    ccfg.suites = suites(h1);
    ccfg.groups = groups(h1 >> 6);
    if client_has_cert {
        ccfg.identity = Some(identity(false));
    }
    let server_plan = Arc::new(Mutex::new(Plan::default()));
    let client_plan = Arc::new(Mutex::new(Plan::default()));
    let mut scfg = ServerConfig::with_resolver(Arc::new(Lookup {
        id: identity(rsa),
        plan: server_plan.clone(),
    }));
    scfg.suites = suites(h2);
    scfg.groups = groups(h2 >> 6);
    let verify = ClientCertVerification::DangerousNone;
    scfg.client_auth = match auth {
        0 => ClientAuth::Off,
        2 => ClientAuth::Require(verify),
        _ => ClientAuth::Request(verify),
    };
    scfg.client_auth_renegotiation_only = auth == 3;
    let compatible = ccfg
        .suites
        .iter()
        .any(|s| scfg.suites.contains(s) && s.name().contains("ECDSA") != rsa)
        && ccfg.groups.iter().any(|g| scfg.groups.contains(g))
        && (auth != 2 || client_has_cert)
        // An ECDSA (P-256) certificate needs P-256 among the groups of
        // whoever checks it (OpenSSL's tls1_check_group_id).
        && (rsa || ccfg.groups.contains(&NamedGroup::Secp256r1))
        && (auth == 0
            || !client_has_cert
            || (ccfg.groups.contains(&NamedGroup::Secp256r1)
                && scfg.groups.contains(&NamedGroup::Secp256r1)));

    let (cdrv, _) = tls12::client(Arc::new(ccfg));
    let (sdrv, _) = tls12::server(Arc::new(scfg));
    let client = Session::handshaking(
        tlsrec::Role::Client,
        Box::new(Mutator {
            inner: cdrv,
            plan: client_plan.clone(),
        }),
        cfg.clone(),
    );
    let server = Session::handshaking(
        tlsrec::Role::Server,
        Box::new(Mutator {
            inner: sdrv,
            plan: server_plan.clone(),
        }),
        cfg,
    );
    let side = |s, plan| Side {
        s,
        plan,
        wire: VecDeque::new(),
        scan: Vec::new(),
        ccs_sent: false,
        failed: None,
        sent: 0,
        got: 0,
        pending_write: None,
        handshakes: 0,
        closed: false,
        requested: None,
    };
    let sides = if tested_is_server {
        [side(server, server_plan), side(client, client_plan)]
    } else {
        [side(client, client_plan), side(server, server_plan)]
    };
    let mut w = World {
        sides,
        injected: false,
        refused_reneg: false,
        racy_reneg: false,
        handshake_call_established: false,
        any_reneg: false,
        allow_client_reneg,
        tested_is_server,
        calls: 0,
    };

    let mut ops = 0;
    while !inp.d.is_empty() && ops < 256 {
        ops += 1;
        let op = inp.u8() % hs_op::COUNT;
        let a = inp.u8();
        let k = usize::from(a & 1);
        if trace() {
            eprintln!("op {op} ({a})");
        }
        match op {
            hs_op::CALL => {
                let n = usize::from(inp.u8()) * 64 + 1;
                match (a >> 1) % 3 {
                    0 => w.read(k, n),
                    1 => {
                        // OpenSSL's SSL_do_handshake in a renegotiation
                        // fails on application data that SSL_read would
                        // take (`in_read_app_data` is not set):
                        // unexpected_message. Not clean if one can run.
                        w.handshake_call_established |= w.sides[k].s.is_established();
                        w.handshake(k);
                    }
                    _ => w.write(k, n),
                }
            }
            hs_op::TRANSFER => {
                let seg = usize::from(inp.u8()) * 13 + 1;
                w.transfer(k, seg);
            }
            hs_op::PUMP => w.pump(usize::from(a % 8) + 1),
            hs_op::MUTATE => {
                let action = match a % mutation::COUNT {
                    mutation::TRUNCATE => Action::Truncate(inp.u8()),
                    mutation::APPEND => {
                        let n = usize::from(inp.u8() % 8) + 1;
                        Action::Append(inp.bytes(n))
                    }
                    mutation::FLIP => Action::Flip(inp.u8(), inp.u8(), false),
                    mutation::RETYPE => {
                        let t = inp.u8();
                        Action::Retype(TYPES.get(usize::from(t % 16)).copied().unwrap_or(t))
                    }
                    mutation::DROP => Action::Drop,
                    mutation::DUP => Action::Dup,
                    mutation::SWAP => Action::Swap,
                    mutation::INSERT => {
                        let t = inp.u8();
                        let t = TYPES.get(usize::from(t % 16)).copied().unwrap_or(t);
                        let n = usize::from(inp.u8());
                        Action::Insert(t, inp.bytes(n))
                    }
                    mutation::REPLACE => {
                        let n = usize::from(inp.u8());
                        Action::Replace(inp.bytes(n))
                    }
                    _ => Action::Flip(inp.u8(), inp.u8(), true),
                };
                lock(&w.sides[1].plan).actions.push_back(action);
            }
            hs_op::PASS => {
                let mut plan = lock(&w.sides[1].plan);
                for _ in 0..=a % 16 {
                    plan.actions.push_back(Action::Pass);
                }
            }
            hs_op::INJECT_RECORD => {
                let n = usize::from(inp.u8());
                let body = inp.bytes(n);
                let mut rec = vec![a, 3, 3, (body.len() >> 8) as u8, body.len() as u8];
                rec.extend_from_slice(&body);
                w.injected = true;
                w.sides[0].s.recv(&rec);
                w.poll(0);
            }
            hs_op::RENEGOTIATE => {
                w.any_reneg = true;
                if w.is_client(k) && !w.allow_client_reneg {
                    w.refused_reneg = true;
                }
                // A request made while a handshake runs, or while the other
                // side's request has not started yet, can be lost (OpenSSL
                // 3.0 clears `s->renegotiate` at the end of the handshake
                // that ran meanwhile; `Config::deferred_renegotiation_sends_hello`):
                // not clean.
                let o = &w.sides[1 - k];
                if w.sides.iter().any(|s| s.s.in_handshake())
                    || o.requested.is_some_and(|h| o.s.handshakes() == h)
                {
                    w.racy_reneg = true;
                }
                // Refused (not fatal) before the first handshake is done.
                if w.sides[k].s.renegotiate().is_ok()
                    && w.sides[k]
                        .requested
                        .is_none_or(|h| h != w.sides[k].s.handshakes())
                {
                    w.sides[k].requested = Some(w.sides[k].s.handshakes());
                }
            }
            hs_op::PAUSE => {
                let n = u32::from((a >> 1) % 4);
                let mut plan = lock(&w.sides[k].plan);
                plan.pauses = n;
                plan.lookup_pauses = n;
            }
            hs_op::INJECT_BYTES => {
                let n = usize::from(inp.u8());
                let b = inp.bytes(n);
                w.injected = true;
                w.sides[0].s.recv(&b);
                w.poll(0);
            }
            _ => w.write(k, usize::from(a >> 1) * 97 + 1),
        }
    }

    // The final exchange: no more pauses; pending writes retried.
    for side in &w.sides {
        let mut p = lock(&side.plan);
        p.pauses = 0;
        p.lookup_pauses = 0;
    }
    for _ in 0..64 {
        let before: u64 = w.sides.iter().map(|s| s.got + s.sent).sum();
        let calls = w.calls;
        let mut moved = false;
        for k in 0..2 {
            if w.sides[k].pending_write.is_some() {
                w.write(k, 1);
            }
            for _ in 0..64 {
                let got = w.sides[k].got;
                w.poll(k);
                if w.sides[k].got == got {
                    break;
                }
            }
            moved |= !w.sides[k].wire.is_empty();
            w.transfer(k, usize::MAX);
        }
        let after: u64 = w.sides.iter().map(|s| s.got + s.sent).sum();
        if !moved
            && after == before
            && w.calls > calls
            && w.sides.iter().all(|s| s.pending_write.is_none())
        {
            break;
        }
    }
    let mutated = w.sides.iter().any(|s| lock(&s.plan).mutated);
    let clean = compatible
        && !mutated
        && !w.injected
        && !w.refused_reneg
        && !w.racy_reneg
        && (!w.handshake_call_established || !w.any_reneg);
    let t = &w.sides[0];
    let mut stats = HandshakeStats {
        handshakes: t.handshakes,
        alerted: matches!(t.failed, Some(Some(_))),
        delivered: t.got,
        clean_completed: false,
    };
    if clean {
        for (k, s) in w.sides.iter().enumerate() {
            assert!(
                s.failed.is_none(),
                "side {k} failed in a clean run: {:?}",
                s.failed
            );
            assert!(
                s.s.is_established() && !s.s.in_handshake(),
                "side {k} not established after a clean run"
            );
            assert!(
                s.pending_write.is_none() && s.got == w.sides[1 - k].sent,
                "side {k} read {} of {} bytes in a clean run",
                s.got,
                w.sides[1 - k].sent
            );
        }
        stats.clean_completed = true;
    }
    stats
}
