//! The active differential family (issue 15): tlsrec as a real TLS 1.2
//! endpoint, its handshakes run by its own driver (`tlsrec::tls12`), against
//! a libssl peer, compared with libssl itself in the same role against the
//! same peer.
//!
//! A scenario is a script of actions chosen from a seed: the subject's
//! calls (handshake, read, peek, pending, has_pending, write, renegotiate,
//! shutdown), the peer's (it writes, starts a renegotiation, closes, reads
//! what the subject sent and answers: `Pump`), and the transport's (it
//! delivers some of the peer's bytes to the subject, or reports end of
//! stream). The script runs twice, each time against a fresh libssl peer
//! (memory BIOs, in-process): once with the subject = tlsrec
//! (`tls12::client_session` / `server_session`), once with the subject =
//! libssl with the same suite, group, certificate and options. Every
//! call's outcome (return value or `SSL_get_error` class with the alert
//! sent and the reason, the bytes read, byte-exact), the peer's own errors
//! and what it read, and each side's count of completed handshakes must be
//! the same in both runs.
//!
//! Segmentation. Handshake messages differ in length between the two runs
//! (tlsrec's ClientHello is not libssl's; ECDSA signatures vary), so the
//! points where the peer's stream is cut are chosen in records, not bytes:
//! "the next k records", "k records and then 1 to 4 bytes into the next
//! header", "k records and then a fraction (per mille) of the next body".
//! The peer (libssl in both runs) writes the same records in the same
//! order as long as the subjects behave alike, so a cut lands at the same
//! place in the protocol in both runs. Within one delivery the bytes go in
//! as one segment, one per record, split records, or single bytes (this
//! cannot change a result, as nothing is called in between, but exercises
//! the deframer's input paths). What the subject sends goes to the peer
//! whole at each `Pump`.
//!
//! `TLSREC_ACTIVE_CASES` sets the number of cases (default 2000),
//! `TLSREC_ACTIVE_SEED` the first seed (default fixed, so a run reproduces),
//! `TLSREC_ACTIVE_MAX_FAILURES` (default 5) how many failures are collected,
//! `TLSREC_ACTIVE_SHRINK=0` turns the shrinking off.
#![cfg(feature = "handshake")]
#![allow(unsafe_code)]

#[path = "common/certs.rs"]
mod certs;
#[path = "common/libssl.rs"]
mod libssl;
#[path = "common/membio.rs"]
mod membio;

use std::cell::Cell;
use std::os::raw::{c_int, c_long, c_void};
use std::sync::{Arc, OnceLock};

use libssl::*;
use membio::MemBio;

use foreign_types::ForeignTypeRef;
use openssl::error::ErrorStack;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::ssl::{
    ErrorCode, Ssl, SslContext, SslContextBuilder, SslMethod, SslMode, SslOptions,
    SslSessionCacheMode, SslVerifyMode, SslVersion,
};
use openssl::x509::X509;
use tlsrec::tls12::{
    self, ClientConfig, Identity, NamedGroup, ServerCertVerification, ServerConfig,
};
use tlsrec::{CipherSuite, Config, Profile, Session, SslError};

// libssl entry points and constants the `openssl` crate does not wrap.

thread_local! {
    /// The last fatal alert the libssl subject wrote.
    static LAST_ALERT: Cell<Option<u8>> = const { Cell::new(None) };
    /// Handshakes the libssl subject completed.
    static SUBJECT_DONE: Cell<u64> = const { Cell::new(0) };
    /// Handshakes the peer completed.
    static PEER_DONE: Cell<u64> = const { Cell::new(0) };
}

/// A handshake completed: HANDSHAKE_DONE with a new peer Finished (OpenSSL
/// also calls it when a server's HelloRequest is out and when a server has
/// refused a renegotiation; neither changes the Finished).
unsafe fn completed(
    ssl: *const openssl_sys::SSL,
    where_: c_int,
    last: &'static std::thread::LocalKey<std::cell::RefCell<Vec<u8>>>,
) -> bool {
    if where_ & SSL_CB_HANDSHAKE_DONE == 0 {
        return false;
    }
    let mut buf = [0u8; 64];
    // SAFETY: the callback's live SSL; `buf` holds 64 bytes.
    let n = unsafe { SSL_get_peer_finished(ssl, buf.as_mut_ptr().cast(), 64) };
    let fin = buf[..n.min(64)].to_vec();
    last.with(|l| {
        let new = *l.borrow() != fin;
        *l.borrow_mut() = fin;
        new
    })
}

thread_local! {
    static SUBJECT_FIN: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    static PEER_FIN: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

unsafe extern "C" fn subject_info(ssl: *const openssl_sys::SSL, where_: c_int, ret: c_int) {
    if where_ & SSL_CB_WRITE_ALERT == SSL_CB_WRITE_ALERT && (ret >> 8) & 0xff == 2 {
        LAST_ALERT.with(|a| a.set(Some(ret as u8)));
    }
    // SAFETY: see the extern block.
    if unsafe { completed(ssl, where_, &SUBJECT_FIN) } {
        SUBJECT_DONE.with(|d| d.set(d.get() + 1));
    }
}

unsafe extern "C" fn peer_info(ssl: *const openssl_sys::SSL, where_: c_int, _ret: c_int) {
    // SAFETY: see the extern block.
    if unsafe { completed(ssl, where_, &PEER_FIN) } {
        PEER_DONE.with(|d| d.set(d.get() + 1));
    }
}

/// xorshift64*: deterministic choices from a seed.
#[derive(Clone)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }
    fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())]
    }
}

// ---------------------------------------------------------------------------
// Certificates (made once per process) and contexts.
// ---------------------------------------------------------------------------

struct Cert {
    key: PKey<Private>,
    cert: X509,
    identity: Arc<Identity>,
}

fn make_cert(key: PKey<Private>) -> Cert {
    let cert = certs::self_signed(&key, "tlsrec.test");
    let identity = Identity::from_der(
        vec![cert.to_der().unwrap()],
        &key.private_key_to_pkcs8().unwrap(),
    )
    .unwrap();
    Cert {
        key,
        cert,
        identity: Arc::new(identity),
    }
}

fn cert_for(suite: CipherSuite) -> &'static Cert {
    static EC: OnceLock<Cert> = OnceLock::new();
    static RSA: OnceLock<Cert> = OnceLock::new();
    if suite.name().contains("ECDSA") {
        EC.get_or_init(|| make_cert(certs::p256_key()))
    } else {
        RSA.get_or_init(|| make_cert(PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap()))
    }
}

const SUITES: [CipherSuite; 6] = [
    CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
];

const GROUPS: [(NamedGroup, &str); 3] = [
    (NamedGroup::X25519, "X25519"),
    (NamedGroup::Secp256r1, "P-256"),
    (NamedGroup::Secp384r1, "P-384"),
];

/// The scenario's group, and P-256 after it for an ECDSA suite: in TLS 1.2
/// OpenSSL uses an ECDSA certificate only if its curve (here P-256) is one
/// of the client's supported groups (`tls1_check_cert_param`).
fn groups(s: &Scenario) -> Vec<usize> {
    let mut g = vec![s.group];
    if s.suite.name().contains("ECDSA") && s.group != 1 && !s.options.no_cert_curve {
        g.push(1);
    }
    g
}

fn groups_list(s: &Scenario) -> String {
    groups(s)
        .iter()
        .map(|&i| GROUPS[i].1)
        .collect::<Vec<_>>()
        .join(":")
}

/// A libssl context for `server` or client, restricted to the scenario's
/// suite and group; servers keep no sessions and issue no tickets (tlsrec
/// does not resume, and a libssl client answering a HelloRequest would
/// otherwise resume where tlsrec runs a full handshake).
fn ctx(s: &Scenario, server: bool, subject: bool) -> Result<SslContext, ErrorStack> {
    let mut b = SslContextBuilder::new(if server {
        SslMethod::tls_server()
    } else {
        SslMethod::tls_client()
    })?;
    b.set_min_proto_version(Some(SslVersion::TLS1_2))?;
    b.set_max_proto_version(Some(SslVersion::TLS1_2))?;
    b.set_cipher_list(s.suite.openssl_name())?;
    b.set_groups_list(&groups_list(s))?;
    let mut opts = SslOptions::NO_TICKET;
    if server {
        let c = cert_for(s.suite);
        b.set_private_key(&c.key)?;
        b.set_certificate(&c.cert)?;
        b.set_session_cache_mode(SslSessionCacheMode::OFF);
        if s.options.client_renegotiation {
            opts |= SslOptions::from_bits_retain(ALLOW_CLIENT_RENEGOTIATION);
        }
    } else {
        b.set_verify(SslVerifyMode::NONE);
    }
    if subject && s.options.ignore_unexpected_eof {
        opts |= SslOptions::IGNORE_UNEXPECTED_EOF;
    }
    b.set_options(opts);
    // The peer retries a write from a buffer that may have moved.
    b.set_mode(if subject {
        SslMode::empty()
    } else {
        SslMode::ACCEPT_MOVING_WRITE_BUFFER
    });
    // SAFETY: see the extern block.
    unsafe {
        if subject && !s.options.auto_retry {
            SSL_CTX_ctrl(
                b.as_ptr(),
                SSL_CTRL_CLEAR_MODE,
                SSL_MODE_AUTO_RETRY,
                std::ptr::null_mut(),
            );
        }
        if let (true, Some(m)) = (subject, s.options.max_send_fragment) {
            SSL_CTX_ctrl(
                b.as_ptr(),
                SSL_CTRL_SET_MAX_SEND_FRAGMENT,
                m as c_long,
                std::ptr::null_mut(),
            );
        }
        SSL_CTX_set_info_callback(
            b.as_ptr(),
            Some(if subject { subject_info } else { peer_info }),
        );
    }
    Ok(b.build())
}

// ---------------------------------------------------------------------------
// Scenarios.
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Client,
    Server,
}

/// Where a delivery stops, counted in the peer's records from what has
/// been delivered so far (the rest of a record cut before counts as one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Upto {
    All,
    Records(usize),
    /// k records, then this many bytes (1..=4) of the next header.
    Header(usize, usize),
    /// k records, then the next header and this fraction (per mille) of its body.
    Body(usize, usize),
}

/// How one delivery's bytes are cut into segments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Seg {
    Whole,
    PerRecord,
    Halves,
    Bytes,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Action {
    // The subject's calls.
    Handshake,
    Read(usize),
    Peek(usize),
    Pending,
    HasPending,
    Write(usize),
    Renegotiate,
    Shutdown,
    // The peer.
    /// It writes this many bytes (held back while it cannot, then retried).
    PeerWrite(usize),
    /// It starts a renegotiation (`SSL_renegotiate`, `SSL_do_handshake`).
    PeerReneg,
    /// It sends close_notify.
    PeerClose,
    /// It reads what the subject sent, goes on with its handshake, writes
    /// what it held back.
    Pump,
    // The transport.
    Deliver(Seg, Upto),
    Eof,
}

#[derive(Clone, Debug)]
struct Options {
    auto_retry: bool,
    ignore_unexpected_eof: bool,
    max_send_fragment: Option<usize>,
    /// The server (peer or subject) runs renegotiations a client asks for.
    client_renegotiation: bool,
    /// An ECDSA suite with groups that leave out the certificate's curve:
    /// the server refuses (no shared cipher).
    no_cert_curve: bool,
}

#[derive(Clone, Debug)]
struct Scenario {
    name: String,
    role: Role,
    suite: CipherSuite,
    group: usize,
    options: Options,
    actions: Vec<Action>,
}

const READ_SIZES: [usize; 10] = [1, 2, 5, 100, 1000, 4096, 16383, 16384, 16385, 20000];

fn call(rng: &mut Rng) -> Action {
    let n = if rng.chance(80) {
        rng.pick(&READ_SIZES)
    } else {
        1 + rng.below(40000)
    };
    match rng.below(25) {
        0..=11 => Action::Read(n),
        12..=15 => Action::Peek(n),
        16 | 17 => Action::Pending,
        18 => Action::HasPending,
        19..=21 => Action::Write(write_len(rng)),
        // A renegotiation asked for at any point: in the first handshake,
        // in another renegotiation, with data in flight.
        22 => Action::Renegotiate,
        _ => Action::Handshake,
    }
}

fn write_len(rng: &mut Rng) -> usize {
    match rng.below(6) {
        0 => 1 + rng.below(5),
        1 => 16384,
        2 => 16385 + rng.below(20000),
        _ => 1 + rng.below(4000),
    }
}

fn deliver(rng: &mut Rng) -> Action {
    let seg = rng.pick(&[
        Seg::Whole,
        Seg::Whole,
        Seg::PerRecord,
        Seg::Halves,
        Seg::Bytes,
    ]);
    let k = rng.below(4);
    let upto = match rng.below(6) {
        0 | 1 => Upto::All,
        2 | 3 => Upto::Records(1 + k),
        4 => Upto::Header(k, 1 + rng.below(4)),
        _ => Upto::Body(k, rng.pick(&[0, 1, 500, 999]).max(1) + rng.below(2)),
    };
    Action::Deliver(seg, upto)
}

fn peer_len(rng: &mut Rng) -> usize {
    match rng.below(8) {
        0 => 1 + rng.below(5),
        1 => 16384,
        2 => 16385 + rng.below(20000),
        _ => 1 + rng.below(6000),
    }
}

/// Steps that let a handshake in flight run to its end, with data and
/// calls in between.
fn settle(rng: &mut Rng, actions: &mut Vec<Action>) {
    for _ in 0..4 {
        if rng.chance(30) {
            actions.push(Action::PeerWrite(peer_len(rng)));
        }
        actions.push(Action::Pump);
        actions.push(deliver(rng));
        actions.push(call(rng));
        actions.push(Action::Deliver(Seg::Whole, Upto::All));
        actions.push(Action::Read(rng.pick(&[1, 100, 16384, 20000])));
        if rng.chance(25) {
            actions.push(Action::Write(write_len(rng)));
        }
    }
    actions.push(Action::Pump);
}

impl Scenario {
    fn generate(seed: u64) -> Scenario {
        let mut rng = Rng::new(seed ^ 0xac71_5eed);
        let role = if seed % 2 == 0 {
            Role::Client
        } else {
            Role::Server
        };
        let suite = rng.pick(&SUITES);
        let group = rng.below(GROUPS.len());
        let options = Options {
            auto_retry: rng.chance(60),
            ignore_unexpected_eof: rng.chance(15),
            max_send_fragment: rng.chance(25).then(|| rng.pick(&[512, 1000, 4096])),
            client_renegotiation: rng.chance(80),
            no_cert_curve: rng.chance(4),
        };
        let mut actions = Vec::new();
        // The first handshake, with calls of every kind meeting it.
        if role == Role::Server {
            actions.push(Action::Pump);
        }
        for _ in 0..3 {
            actions.push(call(&mut rng));
            actions.push(Action::Pump);
            actions.push(deliver(&mut rng));
            actions.push(call(&mut rng));
            actions.push(Action::Deliver(Seg::Whole, Upto::All));
        }
        actions.push(Action::Handshake);
        actions.push(Action::Pump);
        let steps = 10 + rng.below(50);
        for _ in 0..steps {
            let a = match rng.below(24) {
                0..=3 => Action::PeerWrite(peer_len(&mut rng)),
                4..=7 => deliver(&mut rng),
                8..=14 => call(&mut rng),
                15 => Action::Write(write_len(&mut rng)),
                16 | 17 => {
                    let a = if rng.chance(50) {
                        Action::Renegotiate
                    } else {
                        Action::PeerReneg
                    };
                    if rng.chance(70) {
                        actions.push(a);
                        settle(&mut rng, &mut actions);
                        continue;
                    }
                    a
                }
                _ => Action::Pump,
            };
            actions.push(a);
        }
        settle(&mut rng, &mut actions);
        match rng.below(7) {
            0 => {
                actions.push(Action::PeerClose);
                actions.push(deliver(&mut rng));
            }
            1 => actions.push(Action::Shutdown),
            2 => {
                actions.push(Action::Deliver(Seg::Whole, Upto::All));
                actions.push(Action::Eof);
            }
            3 => {
                // The end of the stream inside a record.
                actions.push(Action::PeerWrite(peer_len(&mut rng)));
                actions.push(Action::Deliver(
                    Seg::Whole,
                    rng.pick(&[Upto::Header(0, 3), Upto::Body(0, 500), Upto::Body(1, 1)]),
                ));
                actions.push(Action::Eof);
            }
            4 => {
                // Both close, in either order.
                if rng.chance(50) {
                    actions.push(Action::Shutdown);
                    actions.push(Action::Pump);
                    actions.push(Action::PeerClose);
                } else {
                    actions.push(Action::PeerClose);
                    actions.push(Action::Pump);
                    actions.push(Action::Shutdown);
                }
                actions.push(deliver(&mut rng));
            }
            _ => {}
        }
        for _ in 0..1 + rng.below(4) {
            actions.push(call(&mut rng));
            if rng.chance(30) {
                actions.push(Action::Shutdown);
            }
            if rng.chance(30) {
                actions.push(Action::Pump);
                actions.push(Action::Deliver(Seg::Whole, Upto::All));
            }
        }
        Scenario {
            name: format!(
                "active-{}-{}-{}-s{seed}",
                if role == Role::Client {
                    "client"
                } else {
                    "server"
                },
                suite.name().to_ascii_lowercase(),
                GROUPS[group].1.to_ascii_lowercase()
            ),
            role,
            suite,
            group,
            options,
            actions,
        }
    }
}

// ---------------------------------------------------------------------------
// Endpoints.
// ---------------------------------------------------------------------------

/// A libssl SSL over two memory BIOs.
struct Lib {
    ssl: Ssl,
    bio: MemBio,
}

impl Lib {
    fn new(ctx: &SslContext, server: bool) -> Self {
        let mut ssl = Ssl::new(ctx).unwrap();
        if server {
            ssl.set_accept_state();
        } else {
            ssl.set_connect_state();
        }
        let bio = MemBio::attach(&ssl);
        Lib { ssl, bio }
    }

    fn feed(&mut self, bytes: &[u8]) {
        self.bio.feed(bytes);
    }

    fn eof(&mut self) {
        self.bio.eof();
    }

    fn take_output(&mut self) -> Vec<u8> {
        self.bio.take_output()
    }

    /// One call: `Ok(ret)` for ret >= `ok_from`, else the error class and
    /// the first reason in the queue (emptied before the call).
    fn ffi(
        &mut self,
        ok_from: c_int,
        f: impl FnOnce(*mut openssl_sys::SSL) -> c_int,
    ) -> Result<c_int, (&'static str, Option<String>)> {
        let ssl = self.ssl.as_ptr();
        // SAFETY: plain libcrypto call on this thread's queue.
        unsafe { openssl_sys::ERR_clear_error() };
        let ret = f(ssl);
        if ret >= ok_from {
            return Ok(ret);
        }
        // SAFETY: see the extern block.
        let code = match ErrorCode::from_raw(unsafe { openssl_sys::SSL_get_error(ssl, ret) }) {
            ErrorCode::WANT_READ => "WANT_READ",
            ErrorCode::WANT_WRITE => "WANT_WRITE",
            ErrorCode::ZERO_RETURN => "ZERO_RETURN",
            ErrorCode::SYSCALL => "SYSCALL",
            ErrorCode::SSL => "SSL",
            _ => "OTHER",
        };
        let reason = ErrorStack::get()
            .errors()
            .first()
            .and_then(|x| x.reason())
            .map(String::from);
        Err((code, reason))
    }
}

/// The subject: tlsrec or libssl in the same role.
enum Subject {
    /// The session, its driver's status, and what it sent not yet pumped.
    Tlsrec(Box<Session>, tls12::Status, Vec<u8>),
    Libssl(Lib),
}

/// The outcome of a call: what is compared (the result, with the alert
/// sent for an SSL error), the bytes read or written, and the reason (shown,
/// not compared: tlsrec names a received alert without OpenSSL's text).
#[derive(Clone, Debug)]
struct Event {
    key: String,
    data: Vec<u8>,
    note: String,
}

impl PartialEq for Event {
    fn eq(&self, o: &Event) -> bool {
        self.key == o.key && self.data == o.data
    }
}

fn ev(key: String, data: Vec<u8>) -> Event {
    Event {
        key,
        data,
        note: String::new(),
    }
}

fn lib_outcome(r: Result<c_int, (&'static str, Option<String>)>, ok: String) -> (String, String) {
    match r {
        Ok(_) => (ok, String::new()),
        Err((code, reason)) => {
            let alert = LAST_ALERT.with(Cell::take);
            let reason = reason.unwrap_or_default();
            match (code, alert) {
                ("SSL", Some(a)) => (
                    format!("SSL alert {}", tlsrec::AlertDescription::from(a).name()),
                    reason,
                ),
                (c, _) => (c.to_string(), reason),
            }
        }
    }
}

fn rec_outcome<T>(r: &Result<T, SslError>, ok: impl FnOnce(&T) -> String) -> (String, String) {
    match r {
        Ok(v) => (ok(v), String::new()),
        Err(SslError::Ssl(e)) => {
            let note = e
                .reason()
                .map_or_else(|| e.to_string(), |r| r.as_str().to_string());
            match e.alert() {
                Some(a) => (format!("SSL alert {}", a.name()), note),
                None => ("SSL".to_string(), note),
            }
        }
        Err(e) => (e.code().to_string(), String::new()),
    }
}

impl Subject {
    fn new(s: &Scenario, tlsrec: bool) -> Subject {
        if !tlsrec {
            let ctx = ctx(s, s.role == Role::Server, true).unwrap();
            return Subject::Libssl(Lib::new(&ctx, s.role == Role::Server));
        }
        let cfg = Config {
            profile: profile(),
            auto_retry: s.options.auto_retry,
            ignore_unexpected_eof: s.options.ignore_unexpected_eof,
            max_send_fragment: s.options.max_send_fragment.unwrap_or(16384),
            allow_client_renegotiation: s.options.client_renegotiation,
            ..Config::default()
        };
        let (session, status) = match s.role {
            Role::Client => {
                let mut c = ClientConfig::new("tlsrec.test", ServerCertVerification::DangerousNone);
                c.suites = vec![s.suite];
                c.groups = groups(s).iter().map(|&i| GROUPS[i].0).collect();
                tls12::client_session(Arc::new(c), cfg)
            }
            Role::Server => {
                let mut c = ServerConfig::new(cert_for(s.suite).identity.clone());
                c.suites = vec![s.suite];
                c.groups = groups(s).iter().map(|&i| GROUPS[i].0).collect();
                tls12::server_session(Arc::new(c), cfg)
            }
        };
        Subject::Tlsrec(Box::new(session), status, Vec::new())
    }

    fn feed(&mut self, bytes: &[u8]) {
        match self {
            Subject::Tlsrec(s, _, _) => s.recv(bytes),
            Subject::Libssl(l) => l.feed(bytes),
        }
    }

    fn eof(&mut self) {
        match self {
            Subject::Tlsrec(s, _, _) => s.recv_eof(),
            Subject::Libssl(l) => l.eof(),
        }
    }

    fn take_output(&mut self) -> Vec<u8> {
        match self {
            Subject::Tlsrec(s, _, out) => {
                out.extend_from_slice(&s.take_outgoing(usize::MAX));
                std::mem::take(out)
            }
            Subject::Libssl(l) => l.take_output(),
        }
    }

    fn handshakes(&self) -> u64 {
        match self {
            Subject::Tlsrec(_, st, _) => st.handshakes(),
            Subject::Libssl(_) => SUBJECT_DONE.with(Cell::get),
        }
    }

    fn call(&mut self, a: &Action, wbuf: &[u8]) -> ((String, String), Vec<u8>) {
        LAST_ALERT.with(|x| x.set(None));
        let ((mut key, note), data) = self.call_inner(a, wbuf);
        if let Subject::Tlsrec(s, _, out) = self {
            // The alert an SSL error names counts as sent only if an alert
            // record went out during the call (after our close_notify,
            // OpenSSL and tlsrec send none).
            let new = s.take_outgoing(usize::MAX);
            let mut at = 0;
            let mut alert = false;
            while at + 5 <= new.len() {
                alert |= new[at] == 21;
                at += 5 + u16::from_be_bytes([new[at + 3], new[at + 4]]) as usize;
            }
            out.extend_from_slice(&new);
            if key.starts_with("SSL alert") && !alert {
                key = "SSL".into();
            }
        }
        ((key, note), data)
    }

    fn call_inner(&mut self, a: &Action, wbuf: &[u8]) -> ((String, String), Vec<u8>) {
        match (self, a) {
            (Subject::Tlsrec(s, _, _), Action::Handshake) => {
                (rec_outcome(&s.do_handshake(), |()| "ok".into()), vec![])
            }
            (Subject::Libssl(l), Action::Handshake) => (
                // SAFETY: see the extern block.
                lib_outcome(
                    l.ffi(1, |p| unsafe { openssl_sys::SSL_do_handshake(p) }),
                    "ok".into(),
                ),
                vec![],
            ),
            (Subject::Tlsrec(s, _, _), Action::Read(n) | Action::Peek(n)) => {
                let mut buf = vec![0u8; *n];
                let r = if matches!(a, Action::Read(_)) {
                    s.read(&mut buf)
                } else {
                    s.peek(&mut buf)
                };
                let k = *r.as_ref().unwrap_or(&0);
                (rec_outcome(&r, |k| format!("ok {k}")), buf[..k].to_vec())
            }
            (Subject::Libssl(l), Action::Read(n) | Action::Peek(n)) => {
                let mut buf = vec![0u8; *n];
                let mut k = 0usize;
                let (p, kp) = (buf.as_mut_ptr().cast::<c_void>(), &mut k as *mut usize);
                let peek = matches!(a, Action::Peek(_));
                let n = *n;
                // SAFETY: see the extern block; `buf` holds n bytes.
                let r = l.ffi(1, |ssl| unsafe {
                    if peek {
                        openssl_sys::SSL_peek_ex(ssl, p, n, kp)
                    } else {
                        openssl_sys::SSL_read_ex(ssl, p, n, kp)
                    }
                });
                let k = if r.is_ok() { k } else { 0 };
                (lib_outcome(r, format!("ok {k}")), buf[..k].to_vec())
            }
            (Subject::Tlsrec(s, _, _), Action::Pending) => {
                ((format!("{}", s.pending()), String::new()), vec![])
            }
            (Subject::Libssl(l), Action::Pending) => {
                ((format!("{}", l.ssl.pending()), String::new()), vec![])
            }
            (Subject::Tlsrec(s, _, _), Action::HasPending) => {
                ((format!("{}", s.has_pending()), String::new()), vec![])
            }
            (Subject::Libssl(l), Action::HasPending) => {
                // SAFETY: see the extern block.
                let h = unsafe { SSL_has_pending(l.ssl.as_ptr()) } == 1;
                ((format!("{h}"), String::new()), vec![])
            }
            (Subject::Tlsrec(s, _, _), Action::Write(n)) => {
                let r = s.write(&wbuf[..*n]);
                let k = *r.as_ref().unwrap_or(&0);
                (rec_outcome(&r, |k| format!("ok {k}")), wbuf[..k].to_vec())
            }
            (Subject::Libssl(l), Action::Write(n)) => {
                let mut k = 0usize;
                let (p, kp) = (wbuf.as_ptr().cast::<c_void>(), &mut k as *mut usize);
                let n = *n;
                // SAFETY: see the extern block; `wbuf` holds at least n bytes.
                let r = l.ffi(1, |ssl| unsafe { openssl_sys::SSL_write_ex(ssl, p, n, kp) });
                let k = if r.is_ok() { k } else { 0 };
                (lib_outcome(r, format!("ok {k}")), wbuf[..k].to_vec())
            }
            (Subject::Tlsrec(s, _, _), Action::Renegotiate) => {
                (rec_outcome(&s.renegotiate(), |()| "1".into()), vec![])
            }
            (Subject::Libssl(l), Action::Renegotiate) => {
                // SAFETY: see the extern block.
                let r = unsafe { SSL_renegotiate(l.ssl.as_ptr()) };
                // SSL_renegotiate reports a refusal as 0 (error queued).
                unsafe { openssl_sys::ERR_clear_error() };
                (
                    (if r == 1 { "1" } else { "SSL" }.to_string(), String::new()),
                    vec![],
                )
            }
            (Subject::Tlsrec(s, _, _), Action::Shutdown) => (
                rec_outcome(&s.shutdown(), |&b| format!("shutdown {}", u8::from(b))),
                vec![],
            ),
            (Subject::Libssl(l), Action::Shutdown) => {
                // SAFETY: see the extern block.
                let r = l.ffi(0, |ssl| unsafe { openssl_sys::SSL_shutdown(ssl) });
                let ok = format!("shutdown {}", r.as_ref().copied().unwrap_or(0));
                (lib_outcome(r, ok), vec![])
            }
            _ => unreachable!("not a call"),
        }
    }
}

/// Data the peer writes: the i-th write of a scenario is the same in both runs.
fn peer_data(i: usize, len: usize) -> Vec<u8> {
    let b = b'a' + (i % 26) as u8;
    let mut v = vec![b; len];
    if len > 0 {
        v[len - 1] = (i as u8).wrapping_mul(37);
    }
    v
}

struct Run {
    subject: Subject,
    peer: Lib,
    peer_established: bool,
    peer_backlog: std::collections::VecDeque<Vec<u8>>,
    peer_writes: usize,
    peer_received: Vec<u8>,
    /// The peer's whole output, the part delivered, and where records start.
    s2c: Vec<u8>,
    delivered: usize,
    starts: Vec<usize>,
    next_start: usize,
    wbuf: Vec<u8>,
    events: Vec<Event>,
}

impl Run {
    fn new(s: &Scenario, tlsrec: bool) -> Run {
        SUBJECT_DONE.with(|d| d.set(0));
        PEER_DONE.with(|d| d.set(0));
        SUBJECT_FIN.with(|f| f.borrow_mut().clear());
        PEER_FIN.with(|f| f.borrow_mut().clear());
        let peer_server = s.role == Role::Client;
        let pctx = ctx(s, peer_server, false).unwrap();
        let mut rng = Rng::new(
            s.name
                .bytes()
                .fold(7u64, |h, b| h.wrapping_mul(31) ^ b as u64),
        );
        Run {
            subject: Subject::new(s, tlsrec),
            peer: Lib::new(&pctx, peer_server),
            peer_established: false,
            peer_backlog: Default::default(),
            peer_writes: 0,
            peer_received: Vec::new(),
            s2c: Vec::new(),
            delivered: 0,
            starts: Vec::new(),
            next_start: 0,
            wbuf: (0..70000).map(|_| rng.next_u64() as u8).collect(),
            events: Vec::new(),
        }
    }

    fn peer_output(&mut self) {
        let out = self.peer.take_output();
        self.s2c.extend_from_slice(&out);
        while self.next_start + 5 <= self.s2c.len() {
            self.starts.push(self.next_start);
            let h = &self.s2c[self.next_start..];
            self.next_start += 5 + u16::from_be_bytes([h[3], h[4]]) as usize;
        }
    }

    fn peer_event(&mut self, what: &str, r: Result<c_int, (&'static str, Option<String>)>) {
        if let Err((code, reason)) = r {
            if code != "WANT_READ" {
                self.events.push(ev(
                    format!("peer {what}: {code} ({})", reason.unwrap_or_default()),
                    vec![],
                ));
            }
        }
    }

    fn pump(&mut self) {
        let out = self.subject.take_output();
        self.peer.feed(&out);
        if !self.peer_established {
            // SAFETY: see the extern block.
            let r = self
                .peer
                .ffi(1, |p| unsafe { openssl_sys::SSL_do_handshake(p) });
            self.peer_established = r.is_ok();
            self.peer_event("handshake", r);
        }
        if self.peer_established {
            let mut buf = vec![0u8; 1 << 15];
            for _ in 0..256 {
                let mut k = 0usize;
                let (p, kp) = (buf.as_mut_ptr().cast::<c_void>(), &mut k as *mut usize);
                // SAFETY: see the extern block; `buf` holds 32 KiB.
                let r = self.peer.ffi(1, |ssl| unsafe {
                    openssl_sys::SSL_read_ex(ssl, p, 1 << 15, kp)
                });
                match r {
                    Ok(_) => self.peer_received.extend_from_slice(&buf[..k]),
                    Err(e) => {
                        self.peer_event("read", Err(e));
                        break;
                    }
                }
            }
        }
        self.flush_backlog();
        self.peer_output();
    }

    fn flush_backlog(&mut self) {
        while let Some(d) = self.peer_backlog.pop_front() {
            let mut k = 0usize;
            let (p, n, kp) = (d.as_ptr().cast::<c_void>(), d.len(), &mut k as *mut usize);
            // SAFETY: see the extern block; `d` holds n bytes.
            let r = self
                .peer
                .ffi(1, |ssl| unsafe { openssl_sys::SSL_write_ex(ssl, p, n, kp) });
            if r.is_err() {
                self.peer_event("write", r);
                self.peer_backlog.push_front(d);
                break;
            }
        }
    }

    fn deliver(&mut self, seg: Seg, upto: Upto) {
        let total = self.s2c.len();
        // Record starts after what has been delivered, then the end.
        let bounds: Vec<usize> = self
            .starts
            .iter()
            .copied()
            .filter(|&o| o > self.delivered)
            .chain(std::iter::once(total))
            .collect();
        // A cut inside a record starts from the end of the record cut
        // before (its remaining length differs between the runs when it
        // is a handshake record).
        let mid = self.delivered < total && !self.starts.contains(&self.delivered);
        let nth = |k: usize| {
            let k = if mid { k.max(1) } else { k };
            if k == 0 {
                self.delivered
            } else {
                bounds[(k - 1).min(bounds.len() - 1)]
            }
        };
        let end = match upto {
            Upto::All => total,
            Upto::Records(k) => nth(k),
            Upto::Header(k, b) => {
                let at = nth(k);
                if at >= total {
                    total
                } else {
                    at + b
                }
            }
            Upto::Body(k, permille) => {
                let at = nth(k);
                if at + 5 > total {
                    total
                } else {
                    let len = u16::from_be_bytes([self.s2c[at + 3], self.s2c[at + 4]]) as usize;
                    at + 5 + (len * permille / 1000).min(len.saturating_sub(1))
                }
            }
        }
        .min(total);
        if end <= self.delivered {
            return;
        }
        let mut cuts: Vec<usize> = match seg {
            Seg::Whole => vec![],
            Seg::PerRecord => bounds.clone(),
            Seg::Halves => {
                let mut v = Vec::new();
                let mut prev = self.delivered;
                for &b in &bounds {
                    v.push(prev + (b - prev) / 2);
                    v.push(b);
                    prev = b;
                }
                v
            }
            Seg::Bytes => (self.delivered + 1..end.min(self.delivered + 3000)).collect(),
        };
        cuts.retain(|&c| c > self.delivered && c < end);
        cuts.sort_unstable();
        cuts.dedup();
        cuts.push(end);
        let mut at = self.delivered;
        for c in cuts {
            let seg = self.s2c[at..c].to_vec();
            self.subject.feed(&seg);
            at = c;
        }
        self.delivered = end;
    }

    fn act(&mut self, a: &Action) {
        match a {
            Action::Handshake
            | Action::Read(_)
            | Action::Peek(_)
            | Action::Pending
            | Action::HasPending
            | Action::Write(_)
            | Action::Shutdown => {
                let ((key, note), data) = self.subject.call(a, &self.wbuf);
                self.events.push(Event {
                    key: format!("{a:?}: {key}"),
                    data,
                    note,
                });
            }
            Action::Renegotiate if self.subject.handshakes() == 0 => {
                // Not before the first handshake is done: OpenSSL 3.0
                // accepts the request and then fails that handshake
                // (internal error) or crashes; tlsrec refuses it
                // (docs/behaviour.md, departures).
                self.events.push(ev(
                    "renegotiate: not before the first handshake".into(),
                    vec![],
                ));
            }
            Action::Renegotiate => {
                let ((key, note), data) = self.subject.call(a, &self.wbuf);
                self.events.push(Event {
                    key: format!("{a:?}: {key}"),
                    data,
                    note,
                });
            }
            Action::PeerWrite(len) => {
                let d = peer_data(self.peer_writes, *len);
                self.peer_writes += 1;
                if d.is_empty() {
                    return;
                }
                self.peer_backlog.push_back(d);
                self.flush_backlog();
                self.peer_output();
            }
            Action::PeerReneg => {
                // SAFETY: see the extern block.
                let r = unsafe { SSL_renegotiate(self.peer.ssl.as_ptr()) };
                unsafe { openssl_sys::ERR_clear_error() };
                self.events
                    .push(ev(format!("peer renegotiate: {r}"), vec![]));
                if r == 1 {
                    // SAFETY: see the extern block.
                    let r = self
                        .peer
                        .ffi(1, |p| unsafe { openssl_sys::SSL_do_handshake(p) });
                    self.peer_event("renegotiation", r);
                }
                self.peer_output();
            }
            Action::PeerClose => {
                // SAFETY: see the extern block.
                let r = self
                    .peer
                    .ffi(0, |p| unsafe { openssl_sys::SSL_shutdown(p) });
                self.peer_event("shutdown", r);
                self.peer_output();
            }
            Action::Pump => self.pump(),
            Action::Deliver(seg, upto) => self.deliver(*seg, *upto),
            Action::Eof => {
                self.subject.eof();
                self.events.push(ev("eof".into(), vec![]));
            }
        }
    }

    fn finish(mut self) -> Vec<Event> {
        self.events.push(ev(
            format!(
                "handshakes: subject {}, peer {}",
                self.subject.handshakes(),
                PEER_DONE.with(Cell::get)
            ),
            vec![],
        ));
        self.events.push(ev(
            "peer received".into(),
            std::mem::take(&mut self.peer_received),
        ));
        self.events
    }
}

fn show(e: &Event) -> String {
    let d = &e.data;
    let data = if d.len() > 48 {
        format!(
            "{} bytes: {}..",
            d.len(),
            tlsrec::keylog::encode_hex(&d[..24])
        )
    } else {
        tlsrec::keylog::encode_hex(d)
    };
    format!("{} ({}) [{data}]", e.key, e.note)
}

fn run(s: &Scenario, tlsrec: bool) -> Vec<Event> {
    let mut r = Run::new(s, tlsrec);
    for a in &s.actions {
        r.act(a);
    }
    r.finish()
}

/// Handshakes both subjects completed, or where the runs part.
fn check(s: &Scenario) -> Result<u64, String> {
    let lib = run(s, false);
    let lib_hs = SUBJECT_DONE.with(Cell::get);
    let rec = run(s, true);
    if std::env::var_os("TLSREC_ACTIVE_DUMP").is_some() {
        for (i, e) in lib.iter().enumerate() {
            let r = rec.get(i).map(show).unwrap_or_default();
            eprintln!("{i:3} {:60} | {r}", show(e));
        }
    }
    for (i, (a, b)) in lib.iter().zip(rec.iter()).enumerate() {
        if a != b {
            let before: Vec<String> = lib[i.saturating_sub(4)..i]
                .iter()
                .map(|e| e.key.clone())
                .collect();
            return Err(format!(
                "event {i}: libssl {} / tlsrec {}\n    before: {before:?}",
                show(a),
                show(b)
            ));
        }
    }
    if lib.len() != rec.len() {
        return Err(format!("{} events / {}", lib.len(), rec.len()));
    }
    Ok(lib_hs)
}

/// Greedy one-at-a-time removal of actions while the case still fails.
fn shrink(mut s: Scenario) -> (Scenario, String) {
    let mut msg = check(&s).expect_err("shrink needs a failing case");
    let mut i = s.actions.len();
    while i > 0 {
        i -= 1;
        let mut t = s.clone();
        t.actions.remove(i);
        if let Err(m) = check(&t) {
            s = t;
            msg = m;
        }
    }
    (s, msg)
}

/// The libssl linked, as the oracle program (oracles/oracle, `--active`)
/// sets it before running cases against another release; unset here, where
/// the tests link the system 3.0 library.
pub struct Linked {
    /// The profile tlsrec runs under.
    pub profile: Profile,
    /// The release has the options 3.0 added: SSL_OP_IGNORE_UNEXPECTED_EOF
    /// and SSL_OP_ALLOW_CLIENT_RENEGOTIATION. Without them (1.1.1) an
    /// unexpected EOF is always an error and a server always allows a
    /// client's renegotiation, so scenarios are made so.
    pub options_of_3_0: bool,
}

/// See [`Linked`].
pub static LINKED: OnceLock<Linked> = OnceLock::new();

fn profile() -> Profile {
    LINKED.get().map(|l| l.profile).unwrap_or_default()
}

/// What a run of generated cases found.
pub struct Summary {
    pub ran: u64,
    pub actions: usize,
    pub handshakes: u64,
    /// Each differing case, shrunk unless `shrink` is false.
    pub failures: Vec<String>,
}

/// Cases `first..first + cases` (only the one named `only`, if given),
/// stopping after `max_failures` differences.
pub fn run_cases(
    first: u64,
    cases: u64,
    only: Option<&str>,
    max_failures: u64,
    shrink_failures: bool,
    verbose: bool,
) -> Summary {
    let mut sum = Summary {
        ran: 0,
        actions: 0,
        handshakes: 0,
        failures: Vec::new(),
    };
    for i in 0..cases {
        let mut s = Scenario::generate(first + i);
        if LINKED.get().is_some_and(|l| !l.options_of_3_0) {
            s.options.ignore_unexpected_eof = false;
            s.options.client_renegotiation = true;
        }
        if only.is_some_and(|o| o != s.name) {
            continue;
        }
        sum.ran += 1;
        if verbose {
            eprintln!("{}", s.name);
        }
        match check(&s) {
            Ok(h) => {
                sum.handshakes += h;
                sum.actions += s.actions.len();
            }
            Err(m) => {
                let (min, msg) = if shrink_failures { shrink(s) } else { (s, m) };
                sum.failures.push(format!(
                    "{}: {msg}\n  minimal script ({} actions): {:?}\n  options: {:?}",
                    min.name,
                    min.actions.len(),
                    min.actions,
                    min.options
                ));
                if sum.failures.len() as u64 >= max_failures {
                    break;
                }
            }
        }
    }
    sum
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn tlsrec_as_an_endpoint_agrees_with_libssl_in_its_place() {
    let cases = env_u64("TLSREC_ACTIVE_CASES", 2000);
    let first = env_u64("TLSREC_ACTIVE_SEED", 15_000_000);
    let only = std::env::var("TLSREC_ACTIVE_ONLY").ok();
    let Summary {
        ran,
        actions,
        handshakes,
        failures,
    } = run_cases(
        first,
        cases,
        only.as_deref(),
        env_u64("TLSREC_ACTIVE_MAX_FAILURES", 5),
        env_u64("TLSREC_ACTIVE_SHRINK", 1) != 0,
        std::env::var_os("TLSREC_ACTIVE_VERBOSE").is_some(),
    );
    assert!(
        failures.is_empty(),
        "{} case(s) differ from libssl:\n{}",
        failures.len(),
        failures.join("\n")
    );
    eprintln!(
        "{ran} cases from seed {first}, {actions} actions, {handshakes} handshakes completed by the subjects"
    );
    // Renegotiations ran: well over one handshake per case.
    assert!(
        handshakes >= ran * 3 / 2,
        "{handshakes} handshakes in {ran} cases"
    );
}

// ---------------------------------------------------------------------------
// The differences the family found, shrunk (each failed before its fix).
// ---------------------------------------------------------------------------

fn case(
    name: &str,
    role: Role,
    suite: CipherSuite,
    group: usize,
    actions: Vec<Action>,
) -> Scenario {
    Scenario {
        name: name.into(),
        role,
        suite,
        group,
        options: Options {
            auto_retry: true,
            ignore_unexpected_eof: false,
            max_send_fragment: None,
            client_renegotiation: true,
            no_cert_curve: false,
        },
        actions,
    }
}

fn agrees(s: &Scenario) {
    if let Err(m) = check(s) {
        panic!("{}: {m}", s.name);
    }
}

use Action::*;

const RSA128: CipherSuite = CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256;
const ECDSA128: CipherSuite = CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256;

/// Seed 15000006: `SSL_do_handshake` on an established connection returns 1.
#[test]
fn regression_do_handshake_outside_a_handshake_returns_at_once() {
    agrees(&case(
        "do-handshake-established",
        Role::Client,
        RSA128,
        0,
        vec![
            Handshake,
            Pump,
            Deliver(Seg::Whole, Upto::Body(0, 2)),
            Read(1000),
            Deliver(Seg::Whole, Upto::All),
            Read(1000),
            Pump,
            Deliver(Seg::Whole, Upto::All),
            Peek(100),
            Handshake,
            Handshake,
        ],
    ));
}

/// Seeds 15000015 / 15000025: after its HelloRequest a server is back at
/// TLS_ST_OK; its writes go through and do_handshake returns 1.
#[test]
fn regression_server_hello_request_returns_to_ok() {
    agrees(&case(
        "server-hello-request",
        Role::Server,
        RSA128,
        1,
        vec![
            Pump,
            Deliver(Seg::Whole, Upto::Header(2, 1)),
            Read(1),
            Pump,
            Deliver(Seg::PerRecord, Upto::All),
            Write(1928),
            Renegotiate,
            Write(16384),
            Handshake,
            PeerWrite(100),
            Pump,
            Deliver(Seg::Whole, Upto::All),
            Read(20000),
            Pump,
            Deliver(Seg::Whole, Upto::All),
            Read(20000),
        ],
    ));
}

/// Seed 15000151: a renegotiation asked for during the client's one makes
/// the server send a HelloRequest when it ends, whose answer is taken.
#[test]
fn regression_server_request_during_a_handshake_sends_hello_request() {
    agrees(&case(
        "server-request-in-handshake",
        Role::Server,
        ECDSA128,
        0,
        vec![
            Pump,
            Deliver(Seg::Whole, Upto::All),
            Read(29742),
            Pump,
            Deliver(Seg::Whole, Upto::All),
            Peek(1000),
            Pump,
            PeerReneg,
            PeerWrite(4507),
            Deliver(Seg::PerRecord, Upto::All),
            Read(1),
            Pump,
            Renegotiate,
            Deliver(Seg::Bytes, Upto::All),
            Read(100),
            Pump,
            Deliver(Seg::Bytes, Upto::Header(3, 3)),
            Read(16384),
        ],
    ));
}

/// Seed 15000640: after our close_notify, application data met by the
/// handshake's read fails the connection and is discarded (SSL_pending 0).
#[test]
fn regression_app_data_after_close_notify_in_a_renegotiation() {
    agrees(&case(
        "app-data-after-close-notify",
        Role::Client,
        ECDSA128,
        1,
        vec![
            Deliver(Seg::PerRecord, Upto::Header(1, 2)),
            Peek(16384),
            Pump,
            Read(4096),
            Deliver(Seg::Whole, Upto::All),
            Read(20000),
            Read(1),
            Read(23127),
            Pump,
            Deliver(Seg::Whole, Upto::All),
            Read(16383),
            Renegotiate,
            Peek(1),
            Pump,
            Deliver(Seg::Whole, Upto::All),
            PeerWrite(2484),
            Read(20000),
            PeerWrite(2989),
            Renegotiate,
            Read(31912),
            Read(20000),
            Read(16383),
            Read(20000),
            Read(20000),
            Read(20000),
            Write(2392),
            Pump,
            Deliver(Seg::Whole, Upto::All),
            Read(16384),
            Shutdown,
            Read(16385),
            Pending,
        ],
    ));
}

/// Seed 15001762: a renegotiation that starts after `shutdown` forgets the
/// close_notify (the ClientHello's pre-work sets `s->shutdown = 0`).
#[test]
fn regression_renegotiation_after_shutdown_forgets_close_notify() {
    agrees(&case(
        "renegotiation-after-shutdown",
        Role::Client,
        RSA128,
        2,
        vec![
            Deliver(Seg::Whole, Upto::Records(4)),
            Read(20000),
            Read(16384),
            Handshake,
            Pump,
            Deliver(Seg::Whole, Upto::All),
            Read(1),
            Pump,
            Deliver(Seg::PerRecord, Upto::All),
            PeerWrite(25497),
            Read(4523),
            Read(32132),
            Read(1000),
            Pump,
            Deliver(Seg::Whole, Upto::All),
            Read(16384),
            Renegotiate,
            Shutdown,
            Read(16383),
            Write(100),
        ],
    ));
}

/// Seed 15000716: SSL_peek after close_notify repeats what the last call
/// was left waiting for (it does not reset `rwstate`).
#[test]
fn regression_peek_after_close_notify_repeats_the_last_wait() {
    let mut s = case(
        "peek-after-close-notify",
        Role::Client,
        CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        2,
        vec![
            Read(16385),
            Pump,
            Deliver(Seg::Whole, Upto::All),
            Read(100),
            Pump,
            Deliver(Seg::Whole, Upto::All),
            Read(20000),
            Read(16384),
            Pump,
            Deliver(Seg::Whole, Upto::Header(3, 4)),
            Renegotiate,
            Read(20000),
            PeerClose,
            Deliver(Seg::Whole, Upto::Header(3, 2)),
            Handshake,
            Write(2615),
            Peek(16384),
        ],
    );
    s.options.auto_retry = false;
    agrees(&s);
}

/// Seed 15000049: a renegotiation asked for on a connection that failed
/// (a fatal alert received) never starts.
#[test]
fn regression_no_renegotiation_on_a_failed_connection() {
    let mut s = case(
        "renegotiate-after-failure",
        Role::Server,
        RSA128,
        0,
        vec![
            Pump,
            Deliver(Seg::Bytes, Upto::Records(4)),
            Write(1),
            Pump,
            PeerReneg,
            Deliver(Seg::Whole, Upto::All),
            Write(16384),
            Pump,
            Deliver(Seg::Whole, Upto::All),
            Read(16384),
            Renegotiate,
            Write(2),
        ],
    );
    s.options.client_renegotiation = false;
    agrees(&s);
}

/// An ECDSA certificate whose curve the client's groups leave out: both
/// servers refuse (no shared cipher, handshake_failure).
#[test]
fn regression_ecdsa_certificate_curve_outside_the_client_groups() {
    for role in [Role::Client, Role::Server] {
        let mut s = case(
            "ecdsa-curve",
            role,
            ECDSA128,
            2,
            vec![
                Pump,
                Handshake,
                Pump,
                Deliver(Seg::Whole, Upto::All),
                Handshake,
                Pump,
                Read(10),
            ],
        );
        s.options.no_cert_curve = true;
        agrees(&s);
    }
}

/// Seed 35005924: an end of stream that fails the first handshake in
/// `do_handshake` leaves `rwstate` at SSL_NOTHING: later reads say SYSCALL,
/// not the WANT_READ of the peek before.
#[test]
fn regression_do_handshake_failure_resets_the_last_wait() {
    let mut s = case(
        "do-handshake-eof",
        Role::Client,
        CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        1,
        vec![
            Read(100),
            Deliver(Seg::Whole, Upto::Body(1, 500)),
            Read(20000),
            Peek(18066),
            Eof,
            Handshake,
            Read(100),
            Peek(5),
        ],
    );
    s.options.max_send_fragment = Some(1000);
    agrees(&s);
}
