//! Seed case (2) of issue 15 with OpenSSL as the peer: a tlsrec server
//! whose write is blocked (a record partly taken by a full transport)
//! receives a renegotiation ClientHello, answers it, and the renegotiation
//! completes with every byte of the blocked write delivered in order.
//!
//! The peer is libssl (the system's OpenSSL 3.0) as the client, in process
//! over memory BIOs, started with `SSL_renegotiate` and driven by
//! `SSL_read`: OpenSSL 3.0's client accepts application data during its
//! renegotiation only inside `SSL_read` and only before the ServerHello
//! (`ossl_statem_app_data_allowed`), which is exactly where the rest of
//! the blocked record arrives. (`openssl s_client`'s `R` renegotiates from
//! a zero-length `SSL_write` instead, where that record is fatal, so it
//! cannot be the peer here.)
#![cfg(feature = "handshake")]
#![allow(unsafe_code)]

#[path = "common/certs.rs"]
mod certs;
#[path = "common/membio.rs"]
mod membio;

use std::cell::{Cell, RefCell};
use std::os::raw::{c_int, c_void};
use std::sync::{Arc, OnceLock};

use foreign_types::ForeignTypeRef;
use membio::MemBio;
use openssl::error::ErrorStack;
use openssl::pkey::{PKey, Private};
use openssl::ssl::{
    ErrorCode, Ssl, SslContext, SslContextBuilder, SslMethod, SslOptions, SslSessionCacheMode,
    SslVerifyMode, SslVersion,
};
use openssl::x509::X509;
use tlsrec::error::Reason;
use tlsrec::tls12::{self, Identity, ServerConfig};
use tlsrec::{CipherSuite, Config, Error, Session, SslError};

// ---------------------------------------------------------------------------
// libssl entry points the `openssl` crate does not wrap.
//
// Reason for `unsafe`: plain C calls on the live `SSL` / `SSL_CTX` / `BIO`
// pointers the `openssl` crate (or this file, for the BIOs handed to
// `SSL_set_bio`, which the SSL then owns) keeps alive for the call; none
// keeps a pointer past it. Test code; the library forbids `unsafe`.
// ---------------------------------------------------------------------------
unsafe extern "C" {
    fn SSL_renegotiate(s: *mut openssl_sys::SSL) -> c_int;
    fn SSL_in_init(s: *const openssl_sys::SSL) -> c_int;
    fn BIO_new_bio_pair(
        bio1: *mut *mut openssl_sys::BIO,
        writebuf1: usize,
        bio2: *mut *mut openssl_sys::BIO,
        writebuf2: usize,
    ) -> c_int;
    fn SSL_get_peer_finished(s: *const openssl_sys::SSL, buf: *mut c_void, count: usize) -> usize;
    fn SSL_CTX_set_info_callback(
        ctx: *mut openssl_sys::SSL_CTX,
        cb: Option<unsafe extern "C" fn(*const openssl_sys::SSL, c_int, c_int)>,
    );
}

const SSL_CB_HANDSHAKE_DONE: c_int = 0x20;
const SSL_CB_READ_ALERT: c_int = 0x4004;

thread_local! {
    /// Handshakes the libssl client completed (a new peer Finished).
    static CLIENT_DONE: Cell<u64> = const { Cell::new(0) };
    static CLIENT_FIN: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    /// The alerts the libssl client received (`SSL_alert_desc`'s byte).
    static CLIENT_GOT_ALERT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

unsafe extern "C" fn client_info(ssl: *const openssl_sys::SSL, where_: c_int, ret: c_int) {
    if where_ & SSL_CB_READ_ALERT == SSL_CB_READ_ALERT {
        CLIENT_GOT_ALERT.with(|a| a.borrow_mut().push(ret as u8));
    }
    if where_ & SSL_CB_HANDSHAKE_DONE == 0 {
        return;
    }
    let mut buf = [0u8; 64];
    // SAFETY: see the extern block; the callback's live SSL, `buf` holds 64.
    let n = unsafe { SSL_get_peer_finished(ssl, buf.as_mut_ptr().cast(), 64) };
    let fin = buf[..n.min(64)].to_vec();
    // OpenSSL also says HANDSHAKE_DONE where no handshake completed; only
    // a new Finished counts.
    let new = CLIENT_FIN.with(|l| l.replace(fin.clone()) != fin);
    if new {
        CLIENT_DONE.with(|d| d.set(d.get() + 1));
    }
}

const SUITE: CipherSuite = CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256;

/// A P-256 key and a self-signed certificate for it, made once.
fn identity() -> Arc<Identity> {
    key_and_cert().2.clone()
}

type KeyCert = (PKey<Private>, X509, Arc<Identity>);

fn key_and_cert() -> &'static KeyCert {
    static ID: OnceLock<KeyCert> = OnceLock::new();
    ID.get_or_init(|| {
        let key = certs::p256_key();
        let cert = certs::self_signed(&key, "tlsrec.test");
        let id = Arc::new(
            Identity::from_der(
                vec![cert.to_der().unwrap()],
                &key.private_key_to_pkcs8().unwrap(),
            )
            .unwrap(),
        );
        (key, cert, id)
    })
}

/// The libssl client: TLS 1.2 only, the test's suite, no tickets, no
/// verification (the certificate is self-signed), info callback counting.
fn client_ctx() -> SslContext {
    let mut b = SslContextBuilder::new(SslMethod::tls_client()).unwrap();
    b.set_min_proto_version(Some(SslVersion::TLS1_2)).unwrap();
    b.set_max_proto_version(Some(SslVersion::TLS1_2)).unwrap();
    b.set_cipher_list(SUITE.openssl_name()).unwrap();
    b.set_groups_list("X25519:P-256").unwrap();
    b.set_options(SslOptions::NO_TICKET);
    b.set_verify(SslVerifyMode::NONE);
    // SAFETY: see the extern block.
    unsafe { SSL_CTX_set_info_callback(b.as_ptr(), Some(client_info)) };
    b.build()
}

/// A libssl client over two memory BIOs (or, `bio` None, an SSL whose
/// transport the test set up itself).
struct Lib {
    ssl: Ssl,
    bio: Option<MemBio>,
}

impl Lib {
    fn new() -> Self {
        let mut ssl = Ssl::new(&client_ctx()).unwrap();
        ssl.set_connect_state();
        let bio = Some(MemBio::attach(&ssl));
        Lib { ssl, bio }
    }

    fn feed(&mut self, bytes: &[u8]) {
        self.bio.as_mut().expect("memory BIOs").feed(bytes);
    }

    fn take_output(&mut self) -> Vec<u8> {
        self.bio.as_mut().expect("memory BIOs").take_output()
    }

    /// One call: `Ok(ret)` for ret > 0, else the `SSL_get_error` class
    /// and the first reason in the queue (emptied before the call).
    fn ffi(
        &mut self,
        f: impl FnOnce(*mut openssl_sys::SSL) -> c_int,
    ) -> Result<c_int, (ErrorCode, Option<String>)> {
        let ssl = self.ssl.as_ptr();
        // SAFETY: plain libcrypto call on this thread's queue.
        unsafe { openssl_sys::ERR_clear_error() };
        let ret = f(ssl);
        if ret > 0 {
            return Ok(ret);
        }
        // SAFETY: see the extern block.
        let code = ErrorCode::from_raw(unsafe { openssl_sys::SSL_get_error(ssl, ret) });
        let reason = ErrorStack::get()
            .errors()
            .first()
            .and_then(|x| x.reason())
            .map(String::from);
        Err((code, reason))
    }

    fn do_handshake(&mut self) -> Result<c_int, (ErrorCode, Option<String>)> {
        // SAFETY: see the extern block.
        self.ffi(|s| unsafe { openssl_sys::SSL_do_handshake(s) })
    }

    /// `SSL_read` until WANT_READ: what it returned, appended to `got`.
    fn read_all(&mut self, got: &mut Vec<u8>) -> Result<(), (ErrorCode, Option<String>)> {
        let mut buf = vec![0u8; 1 << 14];
        loop {
            // SAFETY: see the extern block; `buf` outlives the call.
            match self.ffi(|s| unsafe {
                openssl_sys::SSL_read(s, buf.as_mut_ptr().cast(), buf.len() as c_int)
            }) {
                Ok(n) => got.extend_from_slice(&buf[..n as usize]),
                Err((ErrorCode::WANT_READ, _)) => return Ok(()),
                Err(e) => return Err(e),
            }
        }
    }

    fn in_init(&self) -> bool {
        // SAFETY: see the extern block.
        unsafe { SSL_in_init(self.ssl.as_ptr()) != 0 }
    }

    fn write(&mut self, data: &[u8]) -> Result<c_int, (ErrorCode, Option<String>)> {
        // SAFETY: see the extern block; `data` outlives the call.
        self.ffi(|s| unsafe {
            openssl_sys::SSL_write(s, data.as_ptr().cast(), data.len() as c_int)
        })
    }
}

fn server(cfg: Config) -> (Session, tls12::Status) {
    let mut c = ServerConfig::new(identity());
    c.suites = vec![SUITE];
    tls12::server_session(Arc::new(c), cfg)
}

/// The first handshake, everything delivered whole.
fn connect(client: &mut Lib, server: &mut Session) {
    for _ in 0..20 {
        match client.do_handshake() {
            Ok(_) | Err((ErrorCode::WANT_READ, _)) => {}
            Err(e) => panic!("client handshake: {e:?}"),
        }
        server.recv(&client.take_output());
        match server.do_handshake() {
            Ok(()) | Err(SslError::WantRead) => {}
            Err(e) => panic!("server handshake: {e:?}"),
        }
        client.feed(&server.take_outgoing(usize::MAX));
        if server.is_established() && client.do_handshake().is_ok() {
            return;
        }
    }
    panic!("the first handshake made no progress");
}

/// What the server writes: 5 full records' worth and a bit, numbered so a
/// lost, repeated or reordered piece shows.
fn payload() -> Vec<u8> {
    (0..5 * 16384 + 1000)
        .map(|i: usize| (i % 251) as u8 ^ (i / 251) as u8)
        .collect()
}

/// The outgoing transport holds this much: the first record and part of
/// the second, so the write blocks with a record partly taken.
const CAPACITY: usize = 20_000;

/// The common start: established, the server's write blocked with a record
/// partly taken, the client's renegotiation ClientHello sent (SSL_read
/// returned WANT_READ before any of the new data arrived) and delivered to
/// the server, whose `read` handles it while the write is still pending.
/// Returns what that read returned and the ClientHello's length.
fn blocked_write_meets_client_hello(
    client: &mut Lib,
    srv: &mut Session,
    data: &[u8],
) -> (Result<usize, SslError>, usize) {
    CLIENT_DONE.with(|d| d.set(0));
    CLIENT_FIN.with(|f| f.borrow_mut().clear());
    CLIENT_GOT_ALERT.with(|a| a.borrow_mut().clear());
    connect(client, srv);
    assert_eq!(CLIENT_DONE.with(Cell::get), 1);

    srv.set_outgoing_capacity(Some(CAPACITY));
    assert_eq!(srv.write(data), Err(SslError::WantWrite));
    assert!(srv.write_pending(), "a record of the write is pending");
    assert_eq!(srv.outgoing_len(), CAPACITY, "the transport is full");

    // SAFETY: see the extern block.
    let r = client.ffi(|s| unsafe { SSL_renegotiate(s) });
    assert_eq!(r, Ok(1));
    let mut got = Vec::new();
    assert_eq!(client.read_all(&mut got), Ok(()));
    assert!(got.is_empty());
    let hello = client.take_output();
    assert!(hello.len() > 100, "the ClientHello went out");

    srv.recv(&hello);
    let queued_before = srv.queued_len();
    let mut buf = [0u8; 256];
    let r = srv.read(&mut buf);
    // Nothing went to the transport in the meantime: it is still full.
    assert_eq!(srv.outgoing_len(), CAPACITY);
    if r.is_ok() || r == Err(SslError::WantRead) {
        assert!(
            srv.queued_len() > queued_before + 100,
            "the server's flight is queued behind the pending record \
             ({queued_before} -> {})",
            srv.queued_len()
        );
    }
    (r, hello.len())
}

/// Drains the server's transport `step` bytes at a time into the client;
/// both keep calling: the server retries its write (with `retry_buf` for
/// each retry: the same buffer, or a moved copy) and reads, the client
/// reads. Returns what the client read, and how much of it it read
/// while in its renegotiation (before the ServerHello).
fn drain(
    client: &mut Lib,
    srv: &mut Session,
    status: &tls12::Status,
    data: &[u8],
    step: usize,
    moved: bool,
) -> (Vec<u8>, usize) {
    let mut got = Vec::new();
    let mut during = 0;
    let mut written = false;
    let mut sbuf = [0u8; 256];
    for round in 0..10_000 {
        let chunk = srv.take_outgoing(step);
        client.feed(&chunk);
        let before = got.len();
        if let Err(e) = client.read_all(&mut got) {
            panic!("client SSL_read, round {round}: {e:?}");
        }
        if client.in_init() {
            during += got.len() - before;
        }
        srv.recv(&client.take_output());
        if !written {
            let copy;
            let retry: &[u8] = if moved {
                copy = data.to_vec();
                assert_ne!(copy.as_ptr(), data.as_ptr());
                &copy
            } else {
                data
            };
            match srv.write(retry) {
                Ok(n) => {
                    assert_eq!(n, data.len(), "all of it, once");
                    written = true;
                }
                Err(SslError::WantWrite | SslError::WantRead) => {}
                Err(e) => panic!("server write retry, round {round}: {e:?}"),
            }
        }
        match srv.read(&mut sbuf) {
            Err(SslError::WantRead | SslError::WantWrite) => {}
            r => panic!("server read, round {round}: {r:?}"),
        }
        if written
            && srv.outgoing_len() == 0
            && srv.queued_len() == 0
            && got.len() >= data.len()
            && status.handshakes() == 2
            && CLIENT_DONE.with(Cell::get) == 2
        {
            return (got, during);
        }
    }
    panic!(
        "no end: written {written}, client read {} of {}, handshakes {} / {}",
        got.len(),
        data.len(),
        status.handshakes(),
        CLIENT_DONE.with(Cell::get)
    );
}

fn seed2(step: usize, moved: bool) {
    let data = payload();
    let mut client = Lib::new();
    let cfg = Config {
        allow_client_renegotiation: true,
        accept_moving_buffer: moved,
        ..Config::default()
    };
    assert!(cfg.queue_flights_behind_write, "the default");
    let (mut srv, status) = server(cfg);
    let (r, _) = blocked_write_meets_client_hello(&mut client, &mut srv, &data);
    assert_eq!(r, Err(SslError::WantRead), "the ClientHello is answered");
    assert!(srv.in_handshake());
    assert_eq!(status.handshakes(), 1);

    let (got, during) = drain(&mut client, &mut srv, &status, &data, step, moved);
    // The first record and the pending one reach the client before the
    // ServerHello (its SSL_read takes them during its renegotiation); the
    // write's later records wait for the handshake to finish, as OpenSSL's
    // SSL_write in a handshake does.
    assert_eq!(during, 2 * 16384, "read before the ServerHello");
    assert_eq!(got.len(), data.len());
    assert!(got == data, "every byte written arrives, in order");
    assert_eq!(status.handshakes(), 2);
    assert!(status.last().unwrap().renegotiation);
    assert_eq!(CLIENT_DONE.with(Cell::get), 2);
    assert!(CLIENT_GOT_ALERT.with(|a| a.borrow().is_empty()));

    // Data both ways after it, under the new keys.
    srv.set_outgoing_capacity(None);
    assert_eq!(client.write(b"ping after the renegotiation"), Ok(28));
    srv.recv(&client.take_output());
    let mut buf = [0u8; 64];
    assert_eq!(srv.read(&mut buf), Ok(28));
    assert_eq!(&buf[..28], b"ping after the renegotiation");
    assert_eq!(srv.write(b"pong"), Ok(4));
    client.feed(&srv.take_outgoing(usize::MAX));
    let mut got = Vec::new();
    assert_eq!(client.read_all(&mut got), Ok(()));
    assert_eq!(got, b"pong");
}

/// Seed case (2): the blocked write is retried with the same buffer; the
/// transport drains a few KiB at a time.
#[test]
fn seed2_blocked_server_write_answers_the_client_hello_openssl_client() {
    seed2(4096, false);
}

/// The same, one odd-sized step (cuts records and the flight anywhere).
#[test]
fn seed2_blocked_server_write_answers_the_client_hello_small_steps() {
    seed2(777, false);
}

/// The same with the blocked write retried from a moved buffer (same
/// bytes, another address), as `SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER`
/// allows.
#[test]
fn seed2_blocked_server_write_moved_buffer_answers_the_client_hello_openssl_client() {
    seed2(4096, true);
}

/// Without `queue_flights_behind_write`, the server does what OpenSSL's
/// does (`seed2_openssl_server_in_the_same_place_fails_with_bad_length`):
/// its ServerHello goes through the pending-write slot, which holds the
/// caller's record, is shorter than what that write has sent and holds
/// (`wnum + wpend_tot`), and the connection fails with `bad length`.
#[test]
fn seed2_without_queueing_the_blocked_server_fails_as_openssl() {
    let data = payload();
    let mut client = Lib::new();
    let cfg = Config {
        allow_client_renegotiation: true,
        queue_flights_behind_write: false,
        ..Config::default()
    };
    let (mut srv, status) = server(cfg);
    let (r, _) = blocked_write_meets_client_hello(&mut client, &mut srv, &data);
    match r {
        Err(SslError::Ssl(Error::Misuse { reason, .. })) => {
            assert_eq!(reason, Reason::BadLength);
        }
        r => panic!("expected bad length, got {r:?}"),
    }
    assert_eq!(status.handshakes(), 1);
    // The connection is dead: the retry fails, and the client, given all
    // the server's transport ever held, reads the first record and waits
    // forever inside the second (the rest of the pending record is never
    // sent, nor an alert).
    srv.set_outgoing_capacity(None);
    assert_eq!(
        srv.write(&data),
        Err(SslError::Syscall),
        "dead: a later write fails as libssl's does"
    );
    client.feed(&srv.take_outgoing(usize::MAX));
    let mut got = Vec::new();
    assert_eq!(client.read_all(&mut got), Ok(()));
    assert!(got == data[..16384]);
    assert!(CLIENT_GOT_ALERT.with(|a| a.borrow().is_empty()));
    assert_eq!(CLIENT_DONE.with(Cell::get), 1);
}

/// OpenSSL's own server in the same place: its write blocked on a BIO
/// pair that holds `CAPACITY` bytes, the same libssl client's
/// renegotiation ClientHello read by `SSL_read`. The ServerHello goes to
/// `ssl3_write_bytes`, whose length check against the pending write
/// (`wnum + wpend_tot`) fails first: `bad length`, no alert (it waits
/// behind the pending record), the client has the first record only. What
/// tlsrec does without `queue_flights_behind_write`.
#[test]
fn seed2_openssl_server_in_the_same_place_fails_with_bad_length() {
    let (key, cert, _) = key_and_cert();
    let mut b = SslContextBuilder::new(SslMethod::tls_server()).unwrap();
    b.set_min_proto_version(Some(SslVersion::TLS1_2)).unwrap();
    b.set_max_proto_version(Some(SslVersion::TLS1_2)).unwrap();
    b.set_cipher_list(SUITE.openssl_name()).unwrap();
    b.set_private_key(key).unwrap();
    b.set_certificate(cert).unwrap();
    b.set_session_cache_mode(SslSessionCacheMode::OFF);
    // SSL_OP_ALLOW_CLIENT_RENEGOTIATION (ssl.h: SSL_OP_BIT(8)).
    b.set_options(SslOptions::NO_TICKET | SslOptions::from_bits_retain(1 << 8));
    let ctx = b.build();
    let mut ssl = Ssl::new(&ctx).unwrap();
    ssl.set_accept_state();
    // The server's end holds at most CAPACITY bytes it wrote; ours takes
    // the client's bytes (room for all of them).
    let mut ours: *mut openssl_sys::BIO = std::ptr::null_mut();
    // SAFETY: see the extern block; the SSL owns its end (one reference for
    // both directions), this test frees its own at the end.
    unsafe {
        let mut theirs: *mut openssl_sys::BIO = std::ptr::null_mut();
        assert_eq!(
            BIO_new_bio_pair(&mut theirs, CAPACITY, &mut ours, 1 << 20),
            1
        );
        openssl_sys::SSL_set_bio(ssl.as_ptr(), theirs, theirs);
    }
    let to_server = |bytes: &[u8]| {
        if bytes.is_empty() {
            return;
        }
        // SAFETY: see the extern block; `bytes` outlives the call.
        let n =
            unsafe { openssl_sys::BIO_write(ours, bytes.as_ptr().cast(), bytes.len() as c_int) };
        assert_eq!(n as usize, bytes.len());
    };
    let from_server = |max: usize| -> Vec<u8> {
        let mut buf = vec![0u8; max];
        // SAFETY: see the extern block; `buf` holds `max` bytes.
        let n = unsafe { openssl_sys::BIO_read(ours, buf.as_mut_ptr().cast(), max as c_int) };
        buf.truncate(n.max(0) as usize);
        buf
    };
    let mut srv = Lib { ssl, bio: None };
    CLIENT_DONE.with(|d| d.set(0));
    CLIENT_FIN.with(|f| f.borrow_mut().clear());
    CLIENT_GOT_ALERT.with(|a| a.borrow_mut().clear());
    let mut client = Lib::new();
    for _ in 0..20 {
        let _ = client.do_handshake();
        to_server(&client.take_output());
        let _ = srv.do_handshake();
        client.feed(&from_server(1 << 16));
        if client.do_handshake().is_ok() && srv.do_handshake().is_ok() {
            break;
        }
    }
    assert_eq!(CLIENT_DONE.with(Cell::get), 1);

    let data = payload();
    assert_eq!(
        srv.write(&data).map_err(|e| e.0),
        Err(ErrorCode::WANT_WRITE)
    );
    // SAFETY: see the extern block.
    assert_eq!(client.ffi(|s| unsafe { SSL_renegotiate(s) }), Ok(1));
    let mut got = Vec::new();
    assert_eq!(client.read_all(&mut got), Ok(()));
    to_server(&client.take_output());
    let mut buf = [0u8; 256];
    // SAFETY: see the extern block; `buf` holds 256 bytes.
    let r = srv.ffi(|s| unsafe { openssl_sys::SSL_read(s, buf.as_mut_ptr().cast(), 256) });
    assert_eq!(r, Err((ErrorCode::SSL, Some("bad length".into()))));
    assert_eq!(
        srv.write(&data).map_err(|e| e.0),
        Err(ErrorCode::SYSCALL),
        "dead: a later write fails with nothing queued"
    );
    client.feed(&from_server(1 << 20));
    assert_eq!(client.read_all(&mut got), Ok(()));
    assert!(got == data[..16384]);
    assert!(CLIENT_GOT_ALERT.with(|a| a.borrow().is_empty()));
    assert_eq!(CLIENT_DONE.with(Cell::get), 1);
    // SAFETY: see the extern block; the SSL's end stays its own.
    unsafe { openssl_sys::BIO_free_all(ours) };
}
