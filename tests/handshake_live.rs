//! The crate's own TLS 1.2 handshake (`tlsrec::tls12`, feature
//! `handshake`): first between two tlsrec endpoints in memory, then live
//! against `openssl s_server` and `openssl s_client` on 127.0.0.1 (free
//! ports, processes killed when the test ends), renegotiations from either
//! side interleaved with several MB of application data, and seed cases
//! (1) and (3) with OpenSSL as the peer (seed case (2), which needs libssl
//! in process: tests/handshake_seed2.rs).
#![cfg(feature = "handshake")]

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use tlsrec::io::SslStream;
use tlsrec::tls12::{
    self, CertResolution, ClientAuth, ClientCertVerification, ClientConfig, ClientHelloInfo,
    Identity, ResolvesServerCert, Roots, ServerCertVerification, ServerConfig,
};
use tlsrec::{AlertDescription, CipherSuite, Config, Error, Session, SslError};

const DEADLINE: Duration = Duration::from_secs(60);

// ---------------------------------------------------------------------------
// Certificates, made once per test process with the openssl command.
// ---------------------------------------------------------------------------

struct Pki {
    dir: PathBuf,
}

impl Pki {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
    fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.path(name)).unwrap()
    }
    fn identity(&self, which: &str) -> Arc<Identity> {
        Arc::new(
            Identity::from_pem(
                &self.read(&format!("{which}.pem")),
                &self.read(&format!("{which}.key")),
            )
            .unwrap(),
        )
    }
    fn roots(&self) -> Arc<Roots> {
        Arc::new(Roots::from_pem(&self.read("ca.pem")).unwrap())
    }
}

fn openssl(args: &[&str], dir: &Path) {
    let ok = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("the openssl command");
    assert!(ok.success(), "openssl {args:?} failed");
}

/// A CA (P-256) and leaves signed by it for `localhost`: `ec` (P-256),
/// `ec384` (P-384), `rsa` (2048), `client` (P-256, client auth).
fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("tlsrec-handshake-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        openssl(
            &[
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                "-nodes", "-days", "2", "-subj", "/CN=tlsrec test CA", "-keyout", "ca.key",
                "-out", "ca.pem",
            ],
            &dir,
        );
        std::fs::write(
            dir.join("leaf.ext"),
            "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth,clientAuth\n",
        )
        .unwrap();
        for (name, key) in [
            ("ec", &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"][..]),
            ("ec384", &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384"][..]),
            ("rsa", &["-newkey", "rsa:2048"][..]),
            ("client", &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"][..]),
        ] {
            let mut args = vec!["req"];
            args.extend_from_slice(key);
            let keyout = format!("{name}.key");
            let csr = format!("{name}.csr");
            args.extend_from_slice(&["-nodes", "-subj", "/CN=localhost", "-keyout", &keyout, "-out", &csr]);
            openssl(&args, &dir);
            let out = format!("{name}.pem");
            openssl(
                &[
                    "x509", "-req", "-in", &csr, "-CA", "ca.pem", "-CAkey", "ca.key",
                    "-CAcreateserial", "-days", "2", "-extfile", "leaf.ext", "-out", &out,
                ],
                &dir,
            );
        }
        Pki { dir }
    })
}

fn client_cfg() -> ClientConfig {
    ClientConfig::new("localhost", ServerCertVerification::Roots(pki().roots()))
}

fn which_cert(suite: CipherSuite) -> &'static str {
    if suite.name().contains("ECDSA") {
        "ec"
    } else {
        "rsa"
    }
}

const TLS12_SUITES: [CipherSuite; 6] = [
    CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
];

// ---------------------------------------------------------------------------
// Two tlsrec endpoints in memory.
// ---------------------------------------------------------------------------

fn transfer(from: &mut Session, to: &mut Session) -> usize {
    let b = from.take_outgoing(usize::MAX);
    to.recv(&b);
    b.len()
}

fn read_all(e: &mut Session) -> Result<Vec<u8>, SslError> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match e.read(&mut buf) {
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(SslError::WantRead | SslError::WantWrite) => return Ok(got),
            Err(e) => return Err(e),
        }
    }
}

/// Handshakes until both are established (or one fails).
fn connect_in_memory(c: &mut Session, s: &mut Session) -> Result<(), SslError> {
    for _ in 0..20 {
        match c.do_handshake() {
            Ok(()) | Err(SslError::WantRead) => {}
            Err(e) => return Err(e),
        }
        transfer(c, s);
        match s.do_handshake() {
            Ok(()) | Err(SslError::WantRead) => {}
            Err(e) => return Err(e),
        }
        transfer(s, c);
        if c.is_established() && s.is_established() && c.outgoing_len() == 0 {
            return Ok(());
        }
    }
    panic!("no progress");
}

#[test]
fn memory_every_suite_first_handshake_and_renegotiations() {
    for suite in TLS12_SUITES {
        let mut ccfg = client_cfg();
        ccfg.suites = vec![suite];
        let (mut c, cst) = tls12::client_session(Arc::new(ccfg), Config::default());
        let scfg = ServerConfig::new(pki().identity(which_cert(suite)));
        let (mut s, sst) = tls12::server_session(
            Arc::new(scfg),
            Config {
                allow_client_renegotiation: true,
                ..Config::default()
            },
        );
        connect_in_memory(&mut c, &mut s).unwrap();
        assert_eq!(c.version(), Some(tlsrec::Version::Tls12));
        assert_eq!(cst.last().unwrap().suite, suite);
        assert_eq!(sst.last().unwrap().suite, suite);
        for round in 0..3u8 {
            if round % 2 == 0 {
                c.renegotiate().unwrap();
            } else {
                s.renegotiate().unwrap();
            }
            let msg = [b'a' + round; 1000];
            let mut written = false;
            let mut got = Vec::new();
            for _ in 0..10 {
                if !written {
                    match c.write(&msg) {
                        Ok(n) => {
                            assert_eq!(n, 1000);
                            written = true;
                        }
                        // The renegotiation runs first (OpenSSL's SSL_write).
                        Err(SslError::WantRead) => {}
                        Err(e) => panic!("{suite:?} round {round}: {e:?}"),
                    }
                }
                transfer(&mut c, &mut s);
                got.extend(read_all(&mut s).unwrap());
                transfer(&mut s, &mut c);
                read_all(&mut c).unwrap();
            }
            assert_eq!(got, msg);
        }
        assert_eq!((cst.handshakes(), sst.handshakes()), (4, 4), "{suite:?}");
        assert!(cst.last().unwrap().renegotiation);
    }
}

// ---------------------------------------------------------------------------
// OpenSSL processes.
// ---------------------------------------------------------------------------

/// An `openssl s_server` or `s_client` child: killed when dropped.
struct Peer {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: Receiver<Vec<u8>>,
    /// Everything it printed and nobody looked at yet.
    seen: Vec<u8>,
    port: u16,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Peer {
    fn spawn(mut cmd: Command, port: u16) -> Peer {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the openssl command");
        let mut out = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 65536];
            while let Ok(n) = out.read(&mut buf) {
                if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        Peer {
            stdin: child.stdin.take(),
            child,
            stdout: rx,
            seen: Vec::new(),
            port,
        }
    }

    /// `openssl s_server -tls1_2` on a free port with `cert`, one connection.
    fn s_server(cert: &str, extra: &[&str]) -> Peer {
        let port = common::s_server_port();
        let mut cmd = Command::new("openssl");
        cmd.args(["s_server", "-accept", &format!("127.0.0.1:{port}")])
            .arg("-cert")
            .arg(pki().path(&format!("{cert}.pem")))
            .arg("-key")
            .arg(pki().path(&format!("{cert}.key")))
            .args(["-tls1_2", "-naccept", "1"])
            .args(extra);
        Peer::spawn(cmd, port)
    }

    /// `openssl s_client -tls1_2` to `port`.
    fn s_client(port: u16, extra: &[&str]) -> Peer {
        let mut cmd = Command::new("openssl");
        cmd.args(["s_client", "-connect", &format!("127.0.0.1:{port}")])
            .args(["-tls1_2", "-servername", "localhost"])
            .arg("-CAfile")
            .arg(pki().path("ca.pem"))
            .args(extra);
        Peer::spawn(cmd, port)
    }

    fn connect(&mut self) -> TcpStream {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("openssl exited before it listened: {status}");
            }
            match TcpStream::connect(("127.0.0.1", self.port)) {
                Ok(s) => return s,
                Err(_) if start.elapsed() < Duration::from_secs(10) => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                Err(e) => panic!("s_server did not listen: {e}"),
            }
        }
    }

    /// Waits until the peer has printed `want`; what came before is dropped.
    fn expect_stdout(&mut self, want: &[u8]) {
        let start = Instant::now();
        let mut from = 0;
        loop {
            if let Some(i) = self.seen[from..]
                .windows(want.len())
                .position(|w| w == want)
            {
                self.seen.drain(..from + i + want.len());
                return;
            }
            from = self.seen.len().saturating_sub(want.len() - 1);
            let left = DEADLINE.saturating_sub(start.elapsed());
            match self.stdout.recv_timeout(left) {
                Ok(b) => self.seen.extend(b),
                Err(e) => panic!(
                    "the peer did not print {:?}: {e}; it printed {:?}",
                    String::from_utf8_lossy(&want[..want.len().min(80)]),
                    String::from_utf8_lossy(&self.seen[self.seen.len().saturating_sub(2000)..])
                ),
            }
        }
    }

    /// Waits until the peer has printed at least `n` bytes (all kept).
    fn wait_stdout_len(&mut self, n: usize) {
        let start = Instant::now();
        while self.seen.len() < n {
            let left = DEADLINE.saturating_sub(start.elapsed());
            match self.stdout.recv_timeout(left) {
                Ok(b) => self.seen.extend(b),
                Err(e) => panic!("the peer printed {} of {n} bytes: {e}", self.seen.len()),
            }
        }
    }

    /// Everything printed until the process exits.
    fn stdout_to_end(&mut self) -> Vec<u8> {
        let start = Instant::now();
        loop {
            let left = DEADLINE.saturating_sub(start.elapsed());
            match self.stdout.recv_timeout(left) {
                Ok(b) => self.seen.extend(b),
                Err(mpsc::RecvTimeoutError::Disconnected) => return std::mem::take(&mut self.seen),
                Err(e) => panic!("the peer did not exit: {e}"),
            }
        }
    }

    fn type_in(&mut self, data: &[u8]) {
        let w = self.stdin.as_mut().unwrap();
        w.write_all(data).unwrap();
        w.flush().unwrap();
    }

    /// A one-line command (the peer takes a read of at most 2 bytes as one):
    /// typed alone, with pauses around it.
    fn command(&mut self, c: &[u8]) {
        std::thread::sleep(Duration::from_millis(300));
        self.type_in(c);
        std::thread::sleep(Duration::from_millis(300));
    }

    fn wait_exit(&mut self) {
        let start = Instant::now();
        while self.child.try_wait().unwrap().is_none() {
            assert!(start.elapsed() < DEADLINE, "openssl did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Digits and newlines only: never one of s_server's command letters.
fn body(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| {
            if i % 64 == 63 {
                b'\n'
            } else {
                b'0' + ((i / 7 + seed as usize) % 10) as u8
            }
        })
        .collect()
}

/// Feeds `data` into the peer's stdin from another thread, `pieces` at a
/// time, with a command typed alone between pieces; gives stdin back.
fn feed(
    stdin: ChildStdin,
    data: Vec<u8>,
    pieces: usize,
    command: Option<&'static [u8]>,
) -> std::thread::JoinHandle<ChildStdin> {
    std::thread::spawn(move || {
        let mut stdin = stdin;
        let step = data.len().div_ceil(pieces);
        for (i, piece) in data.chunks(step).enumerate() {
            stdin.write_all(piece).unwrap();
            stdin.flush().unwrap();
            if let (Some(c), true) = (command, i + 1 < pieces) {
                std::thread::sleep(Duration::from_millis(300));
                stdin.write_all(c).unwrap();
                stdin.flush().unwrap();
                std::thread::sleep(Duration::from_millis(300));
            }
        }
        stdin
    })
}

/// Feeds `data` into s_server's stdin in `pieces`; before each command it
/// waits until tlsrec has read everything sent so far (a client holding
/// part of a record defers a HelloRequest, as OpenSSL's does), types the
/// command alone, and goes on 50 ms later: the data that follows is
/// written after the HelloRequest, before s_server has read the
/// ClientHello.
fn feed_synced(
    stdin: ChildStdin,
    data: Vec<u8>,
    pieces: usize,
    command: &'static [u8],
    flow: Arc<Flow>,
    wait_for: Option<tls12::Status>,
) -> std::thread::JoinHandle<ChildStdin> {
    std::thread::spawn(move || {
        let mut stdin = stdin;
        let step = data.len().div_ceil(pieces);
        let mut fed = 0;
        for (i, piece) in data.chunks(step).enumerate() {
            stdin.write_all(piece).unwrap();
            stdin.flush().unwrap();
            fed += piece.len();
            if i + 1 < pieces {
                let start = Instant::now();
                while flow.received.load(Ordering::Acquire) < fed {
                    assert!(start.elapsed() < DEADLINE, "tlsrec did not read");
                    std::thread::sleep(Duration::from_millis(1));
                }
                let before = wait_for.as_ref().map(tls12::Status::handshakes);
                if wait_for.is_some() {
                    // s_client's `R` starts its renegotiation from a
                    // zero-length SSL_write, and application data read
                    // inside SSL_write's handshake is fatal for OpenSSL
                    // (unexpected_message, "unexpected record"; only
                    // SSL_read takes it, D1). So tlsrec stops writing and
                    // lets what is in flight arrive before the `R`.
                    flow.pause.store(true, Ordering::Release);
                    while !flow.idle.load(Ordering::Acquire) {
                        assert!(start.elapsed() < DEADLINE, "tlsrec did not pause");
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    std::thread::sleep(Duration::from_millis(300));
                }
                stdin.write_all(command).unwrap();
                stdin.flush().unwrap();
                std::thread::sleep(Duration::from_millis(50));
                if let (Some(st), Some(before)) = (&wait_for, before) {
                    while st.handshakes() == before {
                        assert!(start.elapsed() < DEADLINE, "no renegotiation");
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    flow.pause.store(false, Ordering::Release);
                }
            }
        }
        stdin
    })
}

fn nonblocking(sock: TcpStream, session: Session) -> SslStream<TcpStream> {
    sock.set_nonblocking(true).unwrap();
    SslStream::new(session, sock)
}

/// Handshakes over a non-blocking socket.
fn handshake(tls: &mut SslStream<TcpStream>) {
    let start = Instant::now();
    loop {
        match tls.do_handshake() {
            Ok(()) => return,
            Err(SslError::WantRead | SslError::WantWrite) => {
                assert!(start.elapsed() < DEADLINE, "handshake timed out");
                std::thread::sleep(Duration::from_millis(1));
            }
            Err(e) => panic!("handshake: {e:?} ({:?})", tls.take_io_error()),
        }
    }
}

/// Writes `out` and reads until `expect_in` bytes arrived, both at once, on
/// a non-blocking socket; `at(sent, tls)` runs after each write (to ask for
/// renegotiations at chosen points).
fn pump(
    tls: &mut SslStream<TcpStream>,
    out: &[u8],
    expect_in: usize,
    at: impl FnMut(usize, &mut SslStream<TcpStream>),
) -> Vec<u8> {
    pump_counting(tls, out, expect_in, at, &Flow::default())
}

/// Shared between [`pump_counting`] and a feeder thread.
#[derive(Default)]
struct Flow {
    /// Bytes tlsrec has read so far.
    received: AtomicUsize,
    /// Asked: start no new write.
    pause: AtomicBool,
    /// Paused, no write half done, everything handed to the socket.
    idle: AtomicBool,
}

/// [`pump`], sharing its progress with a feeder thread through `flow`.
fn pump_counting(
    tls: &mut SslStream<TcpStream>,
    out: &[u8],
    expect_in: usize,
    mut at: impl FnMut(usize, &mut SslStream<TcpStream>),
    flow: &Flow,
) -> Vec<u8> {
    const CHUNK: usize = 40_000;
    let start = Instant::now();
    let mut sent = 0;
    let mut got = Vec::with_capacity(expect_in);
    let mut buf = vec![0u8; 65536];
    let mut mid_write = false;
    while sent < out.len() || got.len() < expect_in {
        assert!(
            start.elapsed() < DEADLINE,
            "timed out: sent {sent} of {}, got {} of {expect_in}",
            out.len(),
            got.len()
        );
        let mut progress = false;
        if sent < out.len() && (mid_write || !flow.pause.load(Ordering::Acquire)) {
            // A retry passes the same bytes at the same address.
            let end = (sent + CHUNK).min(out.len());
            match tls.ssl_write(&out[sent..end]) {
                Ok(n) => {
                    sent += n;
                    progress = true;
                    mid_write = false;
                    at(sent, tls);
                }
                Err(SslError::WantRead | SslError::WantWrite) => mid_write = true,
                Err(e) => panic!("write: {e:?} ({:?})", tls.take_io_error()),
            }
        }
        match tls.ssl_read(&mut buf) {
            Ok(0) => panic!("end of stream after {} bytes", got.len()),
            Ok(n) => {
                got.extend_from_slice(&buf[..n]);
                flow.received.store(got.len(), Ordering::Release);
                progress = true;
            }
            Err(SslError::WantRead | SslError::WantWrite) => {}
            Err(e) => panic!("read: {e:?} ({:?})", tls.take_io_error()),
        }
        let flushed = tls.flush().is_ok();
        flow.idle.store(
            flow.pause.load(Ordering::Acquire) && !mid_write && flushed,
            Ordering::Release,
        );
        if !progress {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    got
}

/// Hands everything sealed to the socket.
fn flush_all(tls: &mut SslStream<TcpStream>) {
    let start = Instant::now();
    while tls.flush().is_err() {
        assert!(start.elapsed() < DEADLINE, "the socket took nothing");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Reads until the peer's close_notify.
fn read_to_close(tls: &mut SslStream<TcpStream>) -> Vec<u8> {
    let start = Instant::now();
    let mut got = Vec::new();
    let mut buf = vec![0u8; 65536];
    loop {
        assert!(start.elapsed() < DEADLINE, "no close_notify");
        match tls.ssl_read(&mut buf) {
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(SslError::ZeroReturn) => return got,
            Err(SslError::WantRead | SslError::WantWrite) => {
                std::thread::sleep(Duration::from_millis(1))
            }
            Err(e) => panic!("read: {e:?} ({:?})", tls.take_io_error()),
        }
    }
}

fn session_cfg() -> Config {
    Config {
        // A HelloRequest read while a record is half read (data keeps
        // coming) is answered once it can be; OpenSSL 3.0's client loses
        // it there, and its server would wait for a ClientHello that never
        // comes.
        deferred_renegotiation_sends_hello: true,
        // A write that runs into the server's data during our own
        // renegotiation says WantRead (a read takes the data), where
        // OpenSSL 3.0 says SYSCALL with nothing consumed.
        want_read_when_write_meets_app_data: true,
        ..Config::default()
    }
}

// ---------------------------------------------------------------------------
// tlsrec client, openssl s_server.
// ---------------------------------------------------------------------------

const MB: usize = 1 << 20;

/// Every suite: 4 MB each way at once, three renegotiations started by
/// tlsrec while both directions flow (s_server `-client_renegotiation`),
/// byte-exact both ways, then s_server's close_notify.
fn client_renegotiates(suite: CipherSuite) {
    let mut server = Peer::s_server(
        which_cert(suite),
        &[
            "-quiet",
            "-client_renegotiation",
            "-cipher",
            suite.openssl_name(),
        ],
    );
    let mut ccfg = client_cfg();
    ccfg.suites = vec![suite];
    let (session, status) = tls12::client_session(Arc::new(ccfg), session_cfg());
    let mut tls = nonblocking(server.connect(), session);
    handshake(&mut tls);
    assert_eq!(status.last().unwrap().suite, suite);

    let up = body(4 * MB, 1);
    let down = body(4 * MB, 2);
    let feeder = feed(server.stdin.take().unwrap(), down.clone(), 1, None);
    let mut asked = 0;
    let got = pump(&mut tls, &up, down.len(), |sent, tls| {
        if asked < 3 && sent >= (asked + 1) * MB {
            tls.session_mut().renegotiate().unwrap();
            asked += 1;
        }
    });
    assert!(got == down, "s_server's data arrived changed");
    // Any renegotiation still running finishes on the next calls.
    let start = Instant::now();
    while status.handshakes() < 4 {
        assert!(
            start.elapsed() < DEADLINE,
            "renegotiations: {}",
            status.handshakes()
        );
        let _ = tls.ssl_read(&mut [0u8; 64]);
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(
        status.handshakes(),
        4,
        "the first handshake and 3 renegotiations"
    );
    assert!(status.last().unwrap().renegotiation);
    // Everything we sent is out and printed (quiet s_server prints exactly
    // what it reads) before its stdin ends: then it sends close_notify and
    // exits, reading no more.
    flush_all(&mut tls);
    server.wait_stdout_len(up.len());
    drop(feeder.join().unwrap());
    assert_eq!(read_to_close(&mut tls), b"");
    drop(tls);
    let printed = server.stdout_to_end();
    assert!(
        printed == up,
        "s_server printed {} bytes, we sent {}",
        printed.len(),
        up.len()
    );
}

#[test]
fn s_server_client_renegotiates_ecdhe_ecdsa_aes128gcm() {
    client_renegotiates(CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256);
}

#[test]
fn s_server_client_renegotiates_ecdhe_ecdsa_aes256gcm() {
    client_renegotiates(CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384);
}

#[test]
fn s_server_client_renegotiates_ecdhe_ecdsa_chacha20() {
    client_renegotiates(CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256);
}

#[test]
fn s_server_client_renegotiates_ecdhe_rsa_aes128gcm() {
    client_renegotiates(CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256);
}

#[test]
fn s_server_client_renegotiates_ecdhe_rsa_aes256gcm() {
    client_renegotiates(CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384);
}

#[test]
fn s_server_client_renegotiates_ecdhe_rsa_chacha20() {
    client_renegotiates(CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256);
}

/// Reads until the connection ends (close_notify or not: `s_server -www`
/// closes without one).
fn read_to_end_any(tls: &mut SslStream<TcpStream>) -> Vec<u8> {
    let start = Instant::now();
    let mut got = Vec::new();
    let mut buf = vec![0u8; 65536];
    loop {
        assert!(start.elapsed() < DEADLINE, "the connection did not end");
        match tls.ssl_read(&mut buf) {
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(SslError::WantRead | SslError::WantWrite) => {
                std::thread::sleep(Duration::from_millis(1))
            }
            Err(_) => return got,
        }
    }
}

fn client_with_cert(suite: CipherSuite) -> ClientConfig {
    let mut ccfg = client_cfg();
    ccfg.suites = vec![suite];
    ccfg.identity = Some(pki().identity("client"));
    ccfg
}

/// s_server starts three renegotiations (`R` typed on its stdin, which
/// also asks for a client certificate) while 4 MB flow to tlsrec and 2 MB
/// from it; tlsrec answers each HelloRequest with its certificate.
fn server_renegotiates(suite: CipherSuite, cert: &str) {
    let ca = pki().path("ca.pem");
    let mut server = Peer::s_server(
        cert,
        &[
            "-cipher",
            suite.openssl_name(),
            "-CAfile",
            ca.to_str().unwrap(),
        ],
    );
    let (session, status) = tls12::client_session(Arc::new(client_with_cert(suite)), session_cfg());
    let mut tls = nonblocking(server.connect(), session);
    handshake(&mut tls);
    let up = body(2 * MB, 3);
    let down = body(4 * MB, 4);
    let flow = Arc::new(Flow::default());
    let feeder = feed_synced(
        server.stdin.take().unwrap(),
        down.clone(),
        4,
        b"R\n",
        flow.clone(),
        None,
    );
    let got = pump_counting(&mut tls, &up, down.len(), |_, _| {}, &flow);
    assert!(got == down, "s_server's data arrived changed");
    server.stdin = Some(feeder.join().unwrap());
    assert_eq!(
        status.handshakes(),
        4,
        "the first handshake and 3 of s_server's"
    );
    // (`R` asks for a client certificate with SSL_VERIFY_CLIENT_ONCE: only
    // the first renegotiation asks, and gets ours.)
    assert!(status.last().unwrap().renegotiation);
    // The data we sent reached s_server whole. Non-quiet s_server writes its
    // reports ("SSL_do_handshake -> 1" after each `R`, "Read BLOCK") into
    // the same stdout, between the chunks of data it read: without them,
    // our 2 MB are there in one piece.
    flush_all(&mut tls);
    server.wait_stdout_len(up.len());
    std::thread::sleep(Duration::from_millis(200));
    while let Ok(b) = server.stdout.try_recv() {
        server.seen.extend(b);
    }
    let mut printed = std::mem::take(&mut server.seen);
    for report in [&b"SSL_do_handshake -> 1\n"[..], b"Read BLOCK\n"] {
        while let Some(i) = printed.windows(report.len()).position(|w| w == report) {
            printed.drain(i..i + report.len());
        }
    }
    assert!(
        printed.windows(up.len()).any(|w| w == up.as_slice()),
        "our data is not in s_server's output in one piece"
    );
    // And a line after the last renegotiation.
    tls.write_all(b"after the renegotiations\n").unwrap();
    let start = Instant::now();
    while tls.flush().is_err() {
        assert!(start.elapsed() < DEADLINE);
        std::thread::sleep(Duration::from_millis(1));
    }
    server.expect_stdout(b"after the renegotiations\n");
}

#[test]
fn s_server_renegotiates_with_r_ecdsa() {
    server_renegotiates(CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, "ec");
}

#[test]
fn s_server_renegotiates_with_r_rsa() {
    server_renegotiates(
        CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        "rsa",
    );
}

/// `s_server -www`: `GET /reneg` makes it renegotiate before the page,
/// `GET /renegcert` also asks for a client certificate (and prints it).
fn www(path: &str, cert: &str, suite: CipherSuite, with_cert: bool) -> (String, tls12::Status) {
    let ca = pki().path("ca.pem");
    let mut server = Peer::s_server(
        cert,
        &[
            "-www",
            "-cipher",
            suite.openssl_name(),
            "-CAfile",
            ca.to_str().unwrap(),
        ],
    );
    let ccfg = if with_cert {
        client_with_cert(suite)
    } else {
        let mut c = client_cfg();
        c.suites = vec![suite];
        c
    };
    let (session, status) = tls12::client_session(Arc::new(ccfg), session_cfg());
    let mut tls = nonblocking(server.connect(), session);
    handshake(&mut tls);
    // The request's first line alone: s_server renegotiates, then reads a
    // line through SSL_read, which runs the handshake, and sends the page
    // (with the request's blank line sent at once, that line would already
    // wait in s_server's BIO buffer, and the page would go out before the
    // renegotiation ran).
    let request = format!("GET {path} HTTP/1.0\r\n");
    // (The write's loop may read the start of the page.)
    let mut page = pump(&mut tls, request.as_bytes(), 0, |_, _| {});
    page.extend(read_to_end_any(&mut tls));
    let page = String::from_utf8(page).unwrap();
    // s_server waits for our side of the TCP connection to close.
    drop(tls);
    server.wait_exit();
    (page, status)
}

#[test]
fn s_server_www_get_reneg() {
    let (page, status) = www(
        "/reneg",
        "ec",
        CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        false,
    );
    assert!(page.starts_with("HTTP/1.0 200 ok\r\n"), "{page}");
    assert!(page.contains("Secure Renegotiation IS supported"), "{page}");
    assert!(page.contains("no client certificate available"), "{page}");
    assert!(page.ends_with("</BODY></HTML>\r\n\r\n"), "{page}");
    assert_eq!(status.handshakes(), 2);
    assert!(!status.last().unwrap().client_cert_requested);
}

#[test]
fn s_server_www_get_renegcert_sends_client_certificate() {
    let (page, status) = www(
        "/renegcert",
        "rsa",
        CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        true,
    );
    assert!(page.contains("Secure Renegotiation IS supported"), "{page}");
    assert!(page.contains("Client certificate"), "{page}");
    assert!(page.ends_with("</BODY></HTML>\r\n\r\n"), "{page}");
    assert_eq!(status.handshakes(), 2);
    assert!(status.last().unwrap().client_cert_requested);
}

#[test]
fn s_server_www_get_renegcert_empty_certificate() {
    // No identity: an empty Certificate, which s_server accepts (no
    // SSL_VERIFY_FAIL_IF_NO_PEER_CERT).
    let (page, status) = www(
        "/renegcert",
        "ec",
        CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        false,
    );
    assert!(page.contains("no client certificate available"), "{page}");
    assert_eq!(status.handshakes(), 2);
    assert!(status.last().unwrap().client_cert_requested);
}

// ---------------------------------------------------------------------------
// tlsrec server, openssl s_client.
// ---------------------------------------------------------------------------

/// A tlsrec server on a free port and `openssl s_client` connected to it
/// (`-no_ign_eof`: it takes commands, and leaves at its stdin's end).
fn accept_s_client(
    scfg: ServerConfig,
    session: Config,
    suite: CipherSuite,
    extra: &[&str],
) -> (SslStream<TcpStream>, tls12::Status, Peer) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut args = vec!["-no_ign_eof", "-cipher", suite.openssl_name()];
    args.extend_from_slice(extra);
    let client = Peer::s_client(port, &args);
    let (sock, _) = listener.accept().unwrap();
    let (session, status) = tls12::server_session(Arc::new(scfg), session);
    let mut tls = nonblocking(sock, session);
    handshake(&mut tls);
    assert_eq!(status.last().unwrap().suite, suite);
    (tls, status, client)
}

fn allow_client_reneg() -> Config {
    Config {
        allow_client_renegotiation: true,
        ..session_cfg()
    }
}

/// s_client renegotiates three times (`R`) while 2 MB flow from it and 4 MB
/// to it; the server requests a client certificate in renegotiations only.
fn s_client_renegotiates(suite: CipherSuite) {
    let mut scfg = ServerConfig::new(pki().identity(which_cert(suite)));
    scfg.client_auth = ClientAuth::Request(ClientCertVerification::Roots(pki().roots()));
    scfg.client_auth_renegotiation_only = true;
    let cert = pki().path("client.pem");
    let key = pki().path("client.key");
    let (mut tls, status, mut client) = accept_s_client(
        scfg,
        allow_client_reneg(),
        suite,
        &[
            "-cert",
            cert.to_str().unwrap(),
            "-key",
            key.to_str().unwrap(),
        ],
    );
    assert!(status.last().unwrap().peer_certificates.is_empty());
    let up = body(2 * MB, 5);
    let mut down = body(4 * MB, 6);
    down.extend_from_slice(b"END-OF-BODY\n");
    let flow = Arc::new(Flow::default());
    let feeder = feed_synced(
        client.stdin.take().unwrap(),
        up.clone(),
        4,
        b"R\n",
        flow.clone(),
        Some(status.clone()),
    );
    let got = pump_counting(&mut tls, &down, up.len(), |_, _| {}, &flow);
    assert!(got == up, "s_client's data arrived changed");
    client.stdin = Some(feeder.join().unwrap());
    let start = Instant::now();
    while status.handshakes() < 4 {
        assert!(
            start.elapsed() < DEADLINE,
            "handshakes: {}",
            status.handshakes()
        );
        let _ = tls.ssl_read(&mut [0u8; 64]);
        std::thread::sleep(Duration::from_millis(1));
    }
    let last = status.last().unwrap();
    assert!(last.renegotiation && last.client_cert_requested);
    // s_client's certificate (and the CA it found in -CAfile).
    assert!(!last.peer_certificates.is_empty());
    client.expect_stdout(&down[down.len() - 100_000..]);
    // s_client keeps talking after its renegotiations.
    client.type_in(b"still talking\n");
    let more = pump(&mut tls, b"", 14, |_, _| {});
    assert_eq!(more, b"still talking\n");
}

#[test]
fn s_client_renegotiates_ecdhe_ecdsa_aes256gcm() {
    s_client_renegotiates(CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384);
}

#[test]
fn s_client_renegotiates_ecdhe_rsa_aes128gcm() {
    s_client_renegotiates(CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256);
}

#[test]
fn s_client_renegotiates_ecdhe_rsa_chacha20() {
    s_client_renegotiates(CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256);
}

/// Config says no: the server answers s_client's ClientHello with a
/// warning no_renegotiation; OpenSSL's client takes that as fatal
/// (handshake_failure) and leaves.
#[test]
fn s_client_renegotiation_refused_by_config() {
    let suite = CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256;
    let scfg = ServerConfig::new(pki().identity("ec"));
    let (mut tls, status, mut client) = accept_s_client(scfg, session_cfg(), suite, &[]);
    client.type_in(b"hello\n");
    assert_eq!(pump(&mut tls, b"", 6, |_, _| {}), b"hello\n");
    client.command(b"R\n");
    let start = Instant::now();
    let r = loop {
        assert!(start.elapsed() < DEADLINE);
        match tls.ssl_read(&mut [0u8; 64]) {
            Err(SslError::WantRead) => std::thread::sleep(Duration::from_millis(1)),
            r => break r,
        }
    };
    assert_eq!(
        r,
        Err(SslError::Ssl(Error::AlertReceived(
            AlertDescription::HandshakeFailure
        )))
    );
    assert_eq!(status.handshakes(), 1);
    client.wait_exit();
}

// ---------------------------------------------------------------------------
// The seed cases, with OpenSSL as the peer.
// ---------------------------------------------------------------------------

/// Seed case (1): s_server's data, written before it has read our
/// renegotiation ClientHello, arrives after the ClientHello went out and
/// before the ServerHello: a read returns it, and the renegotiation goes
/// on (OpenSSL 3.0's client does the same, D1 / D2).
#[test]
fn seed1_s_server_data_before_server_hello_is_read() {
    let suite = CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384;
    let mut server = Peer::s_server("rsa", &["-quiet", "-client_renegotiation"]);
    let mut ccfg = client_cfg();
    ccfg.suites = vec![suite];
    let (session, status) = tls12::client_session(Arc::new(ccfg), session_cfg());
    let mut tls = nonblocking(server.connect(), session);
    handshake(&mut tls);
    // s_server writes; the record waits in our socket, unread.
    server.type_in(b"written before the hello\n");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(tls.session().unread_input(), 0);
    tls.session_mut().renegotiate().unwrap();
    // The read sends the ClientHello, then meets the data.
    let mut buf = [0u8; 64];
    let start = Instant::now();
    let n = loop {
        assert!(start.elapsed() < DEADLINE);
        match tls.ssl_read(&mut buf) {
            Ok(n) => break n,
            Err(SslError::WantRead) => std::thread::sleep(Duration::from_millis(1)),
            Err(e) => panic!("{e:?}"),
        }
    };
    assert_eq!(&buf[..n], b"written before the hello\n");
    assert!(
        tls.session().in_handshake(),
        "delivered during the renegotiation"
    );
    assert_eq!(status.handshakes(), 1);
    // The renegotiation completes and both directions go on.
    let start = Instant::now();
    while status.handshakes() < 2 {
        assert!(
            start.elapsed() < DEADLINE,
            "the renegotiation did not complete"
        );
        match tls.ssl_read(&mut buf) {
            Err(SslError::WantRead) => std::thread::sleep(Duration::from_millis(1)),
            r => panic!("{r:?}"),
        }
    }
    assert!(status.last().unwrap().renegotiation);
    pump(&mut tls, b"after the renegotiation\n", 0, |_, _| {});
    server.expect_stdout(b"after the renegotiation\n");
    server.type_in(b"and back\n");
    assert_eq!(pump(&mut tls, b"", 9, |_, _| {}), b"and back\n");
}

/// A certificate lookup that pauses (`Pending`) `pauses` times in each
/// renegotiation before it answers, as an asynchronous one would.
struct SlowLookup {
    identity: Arc<Identity>,
    pauses: u32,
    calls: std::sync::Mutex<u32>,
    seen: std::sync::Mutex<Vec<ClientHelloInfo>>,
}

impl ResolvesServerCert for SlowLookup {
    fn resolve(&self, hello: &ClientHelloInfo) -> CertResolution {
        self.seen.lock().unwrap().push(hello.clone());
        if !hello.renegotiation {
            return CertResolution::Ready(self.identity.clone());
        }
        let mut calls = self.calls.lock().unwrap();
        *calls += 1;
        if *calls % (self.pauses + 1) == 0 {
            CertResolution::Ready(self.identity.clone())
        } else {
            CertResolution::Pending
        }
    }
}

/// Seed case (3): s_client renegotiates; the server's certificate lookup
/// pauses three times. Each read returns WantCallback with nothing more
/// taken from the transport, the same ClientHello is offered again, and
/// the fourth call completes the handshake.
#[test]
fn seed3_paused_cert_lookup_resumes_on_the_same_client_hello() {
    let suite = CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256;
    let lookup = Arc::new(SlowLookup {
        identity: pki().identity("ec"),
        pauses: 3,
        calls: std::sync::Mutex::new(0),
        seen: std::sync::Mutex::new(Vec::new()),
    });
    let scfg = ServerConfig::with_resolver(lookup.clone());
    let (mut tls, status, mut client) = accept_s_client(scfg, allow_client_reneg(), suite, &[]);
    client.type_in(b"before\n");
    assert_eq!(pump(&mut tls, b"", 7, |_, _| {}), b"before\n");
    client.command(b"R\n");
    let mut buf = [0u8; 64];
    let start = Instant::now();
    // Until the ClientHello is read: WantRead.
    loop {
        assert!(start.elapsed() < DEADLINE);
        match tls.ssl_read(&mut buf) {
            Err(SslError::WantRead) => std::thread::sleep(Duration::from_millis(1)),
            Err(SslError::WantCallback) => break,
            r => panic!("{r:?}"),
        }
    }
    let unread = tls.session().unread_input();
    let queued = tls.session().outgoing_len();
    for pause in 2..=3 {
        // No transport read happens on a paused call (the session returns
        // before it asks for bytes), and nothing is sent.
        assert_eq!(
            tls.ssl_read(&mut buf),
            Err(SslError::WantCallback),
            "pause {pause}"
        );
        assert_eq!(tls.session().unread_input(), unread);
        assert_eq!(tls.session().outgoing_len(), queued);
    }
    assert_eq!(
        status.cert_lookups(),
        1 + 3,
        "the first handshake's, then 3 pauses"
    );
    // The fourth call goes on from the same ClientHello.
    let start = Instant::now();
    while status.handshakes() < 2 {
        assert!(
            start.elapsed() < DEADLINE,
            "the renegotiation did not complete"
        );
        match tls.ssl_read(&mut buf) {
            Err(SslError::WantRead) => std::thread::sleep(Duration::from_millis(1)),
            r => panic!("{r:?}"),
        }
    }
    assert_eq!(status.cert_lookups(), 1 + 4);
    {
        let seen = lookup.seen.lock().unwrap();
        assert_eq!(seen.len(), 5);
        let reneg: Vec<_> = seen.iter().filter(|h| h.renegotiation).collect();
        assert_eq!(
            reneg.len(),
            4,
            "the renegotiation's ClientHello, four times"
        );
        assert!(reneg.iter().all(|h| h.suites == reneg[0].suites
            && h.signature_schemes == reneg[0].signature_schemes
            && h.server_name.as_deref() == Some("localhost")));
    }
    client.type_in(b"after\n");
    assert_eq!(pump(&mut tls, b"reply\n", 6, |_, _| {}), b"after\n");
    client.expect_stdout(b"reply\n");
}

/// An identity whose key is not its certificate's is refused when it is
/// made (OpenSSL's "key values mismatch"), not at the peer's handshake:
/// another type (RSA key, ECDSA certificate), another key of the same
/// curve (P-256 and P-256), another size (P-384 key, P-256 certificate).
#[test]
fn identity_refuses_a_key_for_another_certificate() {
    let p = pki();
    for (cert, key) in [
        ("ec", "rsa"),
        ("rsa", "ec"),
        ("ec", "client"),
        ("ec", "ca"),
        ("ec", "ec384"),
        ("ec384", "ec"),
    ] {
        let r = Identity::from_pem(
            &p.read(&format!("{cert}.pem")),
            &p.read(&format!("{key}.key")),
        );
        assert_eq!(
            r.err(),
            Some(Error::KeyMismatch),
            "{cert}.pem with {key}.key"
        );
    }
    for which in ["ec", "ec384", "rsa", "client"] {
        p.identity(which);
    }
    // From DER too: the key of the second certificate in the chain is not
    // the leaf's.
    let der = |name: &str| {
        openssl::x509::X509::from_pem(&p.read(name))
            .unwrap()
            .to_der()
            .unwrap()
    };
    let ca_key = openssl::pkey::PKey::private_key_from_pem(&p.read("ca.key"))
        .unwrap()
        .private_key_to_pkcs8()
        .unwrap();
    assert_eq!(
        Identity::from_der(vec![der("ec.pem"), der("ca.pem")], &ca_key).err(),
        Some(Error::KeyMismatch)
    );
    assert!(Identity::from_der(vec![der("ca.pem")], &ca_key).is_ok());
    assert_eq!(
        Error::KeyMismatch.to_string(),
        "the private key does not match the certificate's public key (key values mismatch)"
    );
}

// ---------------------------------------------------------------------------
// Malformed and out-of-order messages: the alert OpenSSL sends.
// ---------------------------------------------------------------------------

/// A plaintext handshake record (version 3.1, as a first ClientHello's).
fn record(typ: u8, body: &[u8]) -> Vec<u8> {
    record_v(1, typ, body)
}

fn record_v(minor: u8, typ: u8, body: &[u8]) -> Vec<u8> {
    let mut msg = vec![typ];
    msg.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    msg.extend_from_slice(body);
    let mut rec = vec![22, 3, minor];
    rec.extend_from_slice(&(msg.len() as u16).to_be_bytes());
    rec.extend_from_slice(&msg);
    rec
}

fn ext(t: u16, body: &[u8]) -> Vec<u8> {
    let mut e = t.to_be_bytes().to_vec();
    e.extend_from_slice(&(body.len() as u16).to_be_bytes());
    e.extend_from_slice(body);
    e
}

/// A ClientHello body: `version`, the suites, and the extensions given.
fn client_hello(version: u16, suites: &[u16], exts: &[Vec<u8>]) -> Vec<u8> {
    let mut b = version.to_be_bytes().to_vec();
    b.extend_from_slice(&[7; 32]);
    b.push(0);
    b.extend_from_slice(&((suites.len() * 2) as u16).to_be_bytes());
    for s in suites {
        b.extend_from_slice(&s.to_be_bytes());
    }
    b.extend_from_slice(&[1, 0]);
    let all: Vec<u8> = exts.concat();
    b.extend_from_slice(&(all.len() as u16).to_be_bytes());
    b.extend_from_slice(&all);
    b
}

fn good_exts() -> Vec<Vec<u8>> {
    vec![
        ext(0xff01, &[0]),
        ext(23, &[]),
        ext(10, &[0, 4, 0, 0x1d, 0, 0x17]),
        ext(13, &[0, 2, 4, 3]),
    ]
}

/// The alert a tlsrec server sends for these bytes as its first input.
fn server_alert(input: &[u8]) -> Option<AlertDescription> {
    let (mut s, _) = tls12::server_session(
        Arc::new(ServerConfig::new(pki().identity("ec"))),
        Config::default(),
    );
    s.recv(input);
    match s.do_handshake() {
        Err(SslError::Ssl(e)) => e.alert(),
        r => panic!("no alert: {r:?}"),
    }
}

#[test]
fn malformed_client_hellos_get_openssl_alerts() {
    use AlertDescription as A;
    let ecdsa = [0xc02b];
    let ok = client_hello(0x0303, &ecdsa, &good_exts());
    // The well-formed one is answered (sanity check of the builder).
    let (mut s, _) = tls12::server_session(
        Arc::new(ServerConfig::new(pki().identity("ec"))),
        Config::default(),
    );
    s.recv(&record(1, &ok));
    assert_eq!(s.do_handshake(), Err(SslError::WantRead));
    assert!(s.outgoing_len() > 0, "the server's flight");

    // Truncated, or with bytes after the extensions.
    assert_eq!(server_alert(&record(1, &ok[..40])), Some(A::DecodeError));
    let mut long = ok.clone();
    long.push(0);
    assert_eq!(server_alert(&record(1, &long)), Some(A::DecodeError));
    // TLS 1.1 only.
    let old = client_hello(0x0302, &ecdsa, &good_exts());
    assert_eq!(server_alert(&record(1, &old)), Some(A::ProtocolVersion));
    // No extended master secret (required).
    let mut e = good_exts();
    e.remove(1);
    let no_ems = client_hello(0x0303, &ecdsa, &e);
    assert_eq!(server_alert(&record(1, &no_ems)), Some(A::HandshakeFailure));
    // No renegotiation_info and no SCSV (secure renegotiation required);
    // the SCSV alone is enough.
    let mut e = good_exts();
    e.remove(0);
    let legacy = client_hello(0x0303, &ecdsa, &e);
    assert_eq!(server_alert(&record(1, &legacy)), Some(A::HandshakeFailure));
    let scsv = client_hello(0x0303, &[0xc02b, 0x00ff], &e);
    let (mut s, _) = tls12::server_session(
        Arc::new(ServerConfig::new(pki().identity("ec"))),
        Config::default(),
    );
    s.recv(&record(1, &scsv));
    assert_eq!(s.do_handshake(), Err(SslError::WantRead));
    // A non-empty renegotiation_info in a first handshake.
    let mut e = good_exts();
    e[0] = ext(0xff01, &[1, 9]);
    assert_eq!(
        server_alert(&record(1, &client_hello(0x0303, &ecdsa, &e))),
        Some(A::HandshakeFailure)
    );
    // The same extension twice.
    let mut e = good_exts();
    e.push(ext(23, &[]));
    assert_eq!(
        server_alert(&record(1, &client_hello(0x0303, &ecdsa, &e))),
        Some(A::IllegalParameter)
    );
    // No suite in common (RSA suites only for an ECDSA key), no group in
    // common, no signature scheme in common.
    assert_eq!(
        server_alert(&record(1, &client_hello(0x0303, &[0xc02f], &good_exts()))),
        Some(A::HandshakeFailure)
    );
    let mut e = good_exts();
    e[2] = ext(10, &[0, 2, 0, 0x1e]); // x448
    assert_eq!(
        server_alert(&record(1, &client_hello(0x0303, &ecdsa, &e))),
        Some(A::HandshakeFailure)
    );
    let mut e = good_exts();
    e[3] = ext(13, &[0, 2, 4, 1]); // rsa_pkcs1_sha256 only
    assert_eq!(
        server_alert(&record(1, &client_hello(0x0303, &ecdsa, &e))),
        Some(A::HandshakeFailure)
    );
    // X25519 only: the ECDSA certificate's curve (P-256) is not among the
    // client's groups (RFC 8422 5.1.1), and no other suite fits the key.
    let mut e = good_exts();
    e[2] = ext(10, &[0, 2, 0, 0x1d]);
    assert_eq!(
        server_alert(&record(1, &client_hello(0x0303, &ecdsa, &e))),
        Some(A::HandshakeFailure)
    );
    // ec_point_formats without uncompressed: no ECDHE suite fits, so
    // handshake_failure, as libssl 3.0 answers the same hello
    // (tests/handshake_alerts.rs checks it live).
    let mut e = good_exts();
    e.push(ext(11, &[1, 1]));
    assert_eq!(
        server_alert(&record(1, &client_hello(0x0303, &ecdsa, &e))),
        Some(A::HandshakeFailure)
    );
    // Out of order: a ClientKeyExchange first.
    assert_eq!(
        server_alert(&record(16, &[1, 4])),
        Some(A::UnexpectedMessage)
    );
}

/// What a tlsrec client says to a ServerHello flight built by a tlsrec
/// server whose messages `tamper` changes (a body set to `DROP` is left
/// out).
fn client_alert(ccfg: ClientConfig, tamper: impl Fn(u8, &mut Vec<u8>)) -> Option<AlertDescription> {
    let (mut c, _) = tls12::client_session(Arc::new(ccfg), Config::default());
    let (mut s, _) = tls12::server_session(
        Arc::new(ServerConfig::new(pki().identity("ec"))),
        Config::default(),
    );
    assert_eq!(c.do_handshake(), Err(SslError::WantRead));
    transfer(&mut c, &mut s);
    assert_eq!(s.do_handshake(), Err(SslError::WantRead));
    // The server's flight, one message per plaintext record: re-framed
    // with `tamper` applied to each body.
    let flight = s.take_outgoing(usize::MAX);
    let mut out = Vec::new();
    let mut rest = &flight[..];
    while rest.len() >= 5 {
        let len = usize::from(u16::from_be_bytes([rest[3], rest[4]]));
        let payload = &rest[5..5 + len];
        let mut body = payload[4..].to_vec();
        tamper(payload[0], &mut body);
        if body != b"DROP" {
            out.extend(record_v(3, payload[0], &body));
        }
        rest = &rest[5 + len..];
    }
    c.recv(&out);
    match c.do_handshake() {
        Err(SslError::Ssl(e)) => e.alert(),
        r => panic!("no alert: {r:?}"),
    }
}

#[test]
fn bad_server_flights_get_openssl_alerts() {
    use AlertDescription as A;
    // Unchanged, it works (the client sends its flight).
    let (mut c, _) = tls12::client_session(Arc::new(client_cfg()), Config::default());
    let (mut s, _) = tls12::server_session(
        Arc::new(ServerConfig::new(pki().identity("ec"))),
        Config::default(),
    );
    connect_in_memory(&mut c, &mut s).unwrap();

    // The certificate is for localhost: another name is refused.
    let other = ClientConfig::new("example.com", ServerCertVerification::Roots(pki().roots()));
    assert_eq!(client_alert(other, |_, _| {}), Some(A::CertificateUnknown));
    // Roots that do not include its CA: unknown_ca.
    let leaf_as_root = Roots::from_pem(&pki().read("rsa.pem")).unwrap();
    let wrong = ClientConfig::new(
        "localhost",
        ServerCertVerification::Roots(Arc::new(leaf_as_root)),
    );
    assert_eq!(client_alert(wrong, |_, _| {}), Some(A::UnknownCa));
    // DangerousNone takes the name mismatch...
    let none = ClientConfig::new("example.com", ServerCertVerification::DangerousNone);
    let (mut c, _) = tls12::client_session(Arc::new(none.clone()), Config::default());
    let (mut s, _) = tls12::server_session(
        Arc::new(ServerConfig::new(pki().identity("ec"))),
        Config::default(),
    );
    connect_in_memory(&mut c, &mut s).unwrap();
    // ...but still checks the key exchange signature: decrypt_error.
    assert_eq!(
        client_alert(none.clone(), |t, b| if t == 12 {
            let n = b.len();
            b[n - 10] ^= 1;
        }),
        Some(A::DecryptError)
    );
    // A ServerHello without extended master secret, or with a wrong
    // renegotiation_info: handshake_failure.
    let drop_ext = |kind: u16| {
        move |t: u8, b: &mut Vec<u8>| {
            if t != 2 {
                return;
            }
            // version, random, session id (empty), suite, compression.
            let start = 2 + 32 + 1 + 2 + 1 + 2;
            let mut kept = Vec::new();
            let mut i = start;
            while i < b.len() {
                let k = u16::from_be_bytes([b[i], b[i + 1]]);
                let l = usize::from(u16::from_be_bytes([b[i + 2], b[i + 3]]));
                if k != kind {
                    kept.extend_from_slice(&b[i..i + 4 + l]);
                }
                i += 4 + l;
            }
            b.truncate(start - 2);
            b.extend_from_slice(&(kept.len() as u16).to_be_bytes());
            b.extend_from_slice(&kept);
        }
    };
    assert_eq!(
        client_alert(none.clone(), drop_ext(23)),
        Some(A::HandshakeFailure)
    );
    assert_eq!(
        client_alert(none.clone(), drop_ext(0xff01)),
        Some(A::HandshakeFailure)
    );
    // A suite it did not offer: illegal_parameter.
    let mut only = none.clone();
    only.suites = vec![CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384];
    let (mut c, _) = tls12::client_session(Arc::new(only), Config::default());
    c.do_handshake().unwrap_err();
    let _ = c.take_outgoing(usize::MAX);
    let mut sh = vec![3, 3];
    sh.extend_from_slice(&[1; 32]);
    sh.extend_from_slice(&[0, 0xc0, 0x2b, 0]);
    c.recv(&record_v(3, 2, &sh));
    match c.do_handshake() {
        Err(SslError::Ssl(e)) => assert_eq!(e.alert(), Some(A::IllegalParameter)),
        r => panic!("{r:?}"),
    }
    // Out of order: no Certificate, so a ServerKeyExchange where it
    // belongs.
    assert_eq!(
        client_alert(none.clone(), |t, b| if t == 11 {
            *b = b"DROP".to_vec();
        }),
        Some(A::UnexpectedMessage)
    );
    // An empty certificate list from a server.
    assert_eq!(
        client_alert(none, |t, b| if t == 11 {
            *b = vec![0, 0, 0];
        }),
        Some(A::DecodeError)
    );
}

// ---------------------------------------------------------------------------
// Signature schemes, groups and key types against OpenSSL.
// ---------------------------------------------------------------------------

/// One handshake with s_server and a line each way; what was negotiated.
fn s_server_once(cert: &str, ccfg: ClientConfig) -> tls12::HandshakeSummary {
    let mut server = Peer::s_server(cert, &["-quiet"]);
    let (session, status) = tls12::client_session(Arc::new(ccfg), session_cfg());
    let mut tls = nonblocking(server.connect(), session);
    handshake(&mut tls);
    pump(&mut tls, b"ping\n", 0, |_, _| {});
    server.expect_stdout(b"ping\n");
    server.type_in(b"pong\n");
    assert_eq!(pump(&mut tls, b"", 5, |_, _| {}), b"pong\n");
    status.last().unwrap()
}

#[test]
fn s_server_signature_schemes_groups_and_keys() {
    use tlsrec::tls12::{NamedGroup as G, SignatureScheme as S};
    // RSA: PSS when offered (OpenSSL's choice), PKCS#1 v1.5 when only it is.
    let h = s_server_once("rsa", client_cfg());
    assert_eq!(h.signature_scheme, S::RsaPssRsaeSha256);
    for scheme in [
        S::RsaPkcs1Sha256,
        S::RsaPkcs1Sha384,
        S::RsaPkcs1Sha512,
        S::RsaPssRsaeSha384,
    ] {
        let mut c = client_cfg();
        c.signature_schemes = vec![scheme];
        assert_eq!(s_server_once("rsa", c).signature_scheme, scheme);
    }
    // ECDSA P-256 and P-384 keys.
    assert_eq!(
        s_server_once("ec", client_cfg()).signature_scheme,
        S::EcdsaSecp256r1Sha256
    );
    // A P-384 key: OpenSSL signs with ECDSA-SHA256 (TLS 1.2 does not bind
    // the hash to the curve); tlsrec verifies it with the P-384 key.
    assert_eq!(
        s_server_once("ec384", client_cfg()).signature_scheme,
        S::EcdsaSecp256r1Sha256
    );
    // Each group (with the RSA certificate: OpenSSL serves an ECDSA one
    // only if its curve is among the client's groups, RFC 8422 5.1.1).
    for g in [G::X25519, G::Secp256r1, G::Secp384r1] {
        let mut c = client_cfg();
        c.groups = vec![g];
        assert_eq!(s_server_once("rsa", c).group, g);
    }
}

/// tlsrec server: s_client limited to one signature algorithm or group
/// gets it.
#[test]
fn s_client_signature_schemes_and_groups() {
    use tlsrec::tls12::{NamedGroup as G, SignatureScheme as S};
    for (cert, sigalgs, groups, want_scheme, want_group) in [
        ("rsa", "RSA+SHA256", "X25519", S::RsaPkcs1Sha256, G::X25519),
        (
            "rsa",
            "rsa_pss_rsae_sha384",
            "P-256",
            S::RsaPssRsaeSha384,
            G::Secp256r1,
        ),
        (
            "ec384",
            "ECDSA+SHA384",
            "P-384",
            S::EcdsaSecp384r1Sha384,
            G::Secp384r1,
        ),
    ] {
        let suite = if cert == "rsa" {
            CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
        } else {
            CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
        };
        let scfg = ServerConfig::new(pki().identity(cert));
        let (mut tls, status, mut client) = accept_s_client(
            scfg,
            session_cfg(),
            suite,
            &["-sigalgs", sigalgs, "-groups", groups],
        );
        let h = status.last().unwrap();
        assert_eq!(
            (h.signature_scheme, h.group),
            (want_scheme, want_group),
            "{cert} {sigalgs}"
        );
        client.type_in(b"ping\n");
        assert_eq!(pump(&mut tls, b"pong\n", 5, |_, _| {}), b"ping\n");
        client.expect_stdout(b"pong\n");
    }
}

// ---------------------------------------------------------------------------
// Mutated handshakes: never a panic, always an alert or a wait.
// ---------------------------------------------------------------------------

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Flips, truncates, inserts or overwrites bytes of a flight's records'
/// payloads (headers kept, so the handshake layer sees the damage).
fn mutate(rng: &mut XorShift, wire: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = wire;
    while rest.len() >= 5 {
        let len = usize::from(u16::from_be_bytes([rest[3], rest[4]]));
        let (typ, minor) = (rest[0], rest[2]);
        let mut payload = rest[5..5 + len].to_vec();
        rest = &rest[5 + len..];
        if typ == 22 && !payload.is_empty() {
            for _ in 0..=rng.below(3) {
                let at = rng.below(payload.len());
                match rng.below(5) {
                    0 => payload[at] ^= 1 << rng.below(8),
                    1 => payload.truncate(at.max(1)),
                    2 => payload.insert(at, rng.next() as u8),
                    3 => payload[at] = [0, 0xff, 1, 0x7f][rng.below(4)],
                    _ => {
                        // A length byte of the message header.
                        let i = 1 + rng.below(3);
                        if i < payload.len() {
                            payload[i] = payload[i].wrapping_add(1 + rng.below(3) as u8);
                        }
                    }
                }
            }
        }
        out.extend_from_slice(&[typ, 3, minor]);
        out.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        out.extend_from_slice(&payload);
    }
    out
}

fn outcome_ok(r: Result<(), SslError>) {
    match r {
        Ok(()) | Err(SslError::WantRead) => {}
        Err(SslError::Ssl(e)) => assert!(e.alert().is_some(), "no alert: {e:?}"),
        Err(e) => panic!("{e:?}"),
    }
}

#[test]
fn mutated_flights_end_in_an_alert_or_a_wait() {
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let scfg = Arc::new(ServerConfig::new(pki().identity("ec")));
    let ccfg = Arc::new(client_cfg());
    for _ in 0..500 {
        // A genuine ClientHello, and the flight answering it.
        let (mut c, _) = tls12::client_session(ccfg.clone(), Config::default());
        let (mut s, _) = tls12::server_session(scfg.clone(), Config::default());
        let _ = c.do_handshake();
        let hello = c.take_outgoing(usize::MAX);
        s.recv(&hello);
        let _ = s.do_handshake();
        let flight = s.take_outgoing(usize::MAX);
        // The server meets the client's flight (ClientKeyExchange,
        // ChangeCipherSpec, Finished) damaged.
        {
            let (mut c2, _) = tls12::client_session(ccfg.clone(), Config::default());
            let (mut s2, _) = tls12::server_session(scfg.clone(), Config::default());
            let _ = c2.do_handshake();
            transfer(&mut c2, &mut s2);
            let _ = s2.do_handshake();
            transfer(&mut s2, &mut c2);
            let _ = c2.do_handshake();
            let second = c2.take_outgoing(usize::MAX);
            s2.recv(&mutate(&mut rng, &second));
            outcome_ok(s2.do_handshake());
        }
        // Another server meets the ClientHello damaged.
        let (mut s, _) = tls12::server_session(scfg.clone(), Config::default());
        s.recv(&mutate(&mut rng, &hello));
        outcome_ok(s.do_handshake());
        // The client meets its flight damaged.
        let m = mutate(&mut rng, &flight);
        // In random segments.
        let mut at = 0;
        while at < m.len() {
            let n = 1 + rng.below(m.len() - at);
            c.recv(&m[at..at + n]);
            at += n;
            let r = c.do_handshake();
            let failed = r.is_err() && r != Err(SslError::WantRead);
            outcome_ok(r);
            if failed {
                break;
            }
        }
    }
}

/// The `handshake` fuzz target's body (`tlsrec_harness::handshake`) on
/// generated inputs: every mode, genuine captures raw and XORed, random
/// bytes, random segmentations. With `TLSREC_WRITE_SEEDS=1` it also writes
/// its seeds to fuzz/corpus/handshake.
#[test]
fn fuzz_body_handshake_on_generated_inputs() {
    let mut rng = XorShift(0x5eed_1234_abcd_0001);
    // Genuine captures with the harness's own identity: a ClientHello and
    // the flight answering it.
    let (mut c, _) = tls12::client_session(
        Arc::new(ClientConfig::new(
            "localhost",
            ServerCertVerification::DangerousNone,
        )),
        Config::default(),
    );
    let _ = c.do_handshake();
    let hello = c.take_outgoing(usize::MAX).to_vec();
    let (mut s, _) = tls12::server_session(
        Arc::new(ServerConfig::new(pki().identity("ec"))),
        Config::default(),
    );
    s.recv(&hello);
    let _ = s.do_handshake();
    let flight = s.take_outgoing(usize::MAX).to_vec();
    let seeds: Vec<Vec<u8>> = vec![
        [&[0u8][..], &hello].concat(),
        [&[1u8][..], &flight].concat(),
        [&[4u8][..], &hello].concat(),
        vec![2],
        vec![3],
        vec![2, 0, 0, 0, 0, 0, 0, 1],
        vec![
            3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
        ],
    ];
    if std::env::var_os("TLSREC_WRITE_SEEDS").is_some() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/handshake");
        std::fs::create_dir_all(&dir).unwrap();
        for (i, s) in seeds.iter().enumerate() {
            std::fs::write(dir.join(format!("seed-{i}")), s).unwrap();
        }
    }
    for i in 0..1500 {
        let mut input = seeds[i % seeds.len()].clone();
        match rng.below(3) {
            0 => {
                // XOR noise over the tail (modes 2, 3) or random bytes.
                let n = rng.below(400);
                input.extend((0..n).map(|_| {
                    if rng.below(8) == 0 {
                        rng.next() as u8
                    } else {
                        0
                    }
                }));
            }
            1 => {
                for _ in 0..=rng.below(4) {
                    if input.len() > 1 {
                        let at = 1 + rng.below(input.len() - 1);
                        input[at] ^= 1 << rng.below(8);
                    }
                }
            }
            _ => input.truncate(1 + rng.below(input.len())),
        }
        input[0] = (input[0] & 3) | ((rng.next() as u8) << 2);
        tlsrec_harness::handshake(&input);
    }
}
