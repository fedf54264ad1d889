//! Interop against real `openssl s_server` and `openssl s_client` processes
//! on 127.0.0.1. Against s_server: rustls
//! does the handshake, then tlsrec takes the connection over from the keys
//! rustls hands out (`import::from_rustls`) and carries the traffic: an
//! HTTP-style request and a 20 MB response, the server's KeyUpdate (with and
//! without update_requested, answered by tlsrec), close_notify both ways
//! (TLS 1.3: tlsrec closes first; TLS 1.2: the server does). TLS 1.2 and
//! 1.3, AES-GCM and ChaCha20-Poly1305. Against s_client, tlsrec is the
//! server (`Session::server_from_established`) after a rustls server
//! handshake: a line from the client, 20 MB to it, then for TLS 1.3 its
//! KeyUpdate asking for ours and close_notify, for TLS 1.2 its request to
//! renegotiate, refused with a warning no_renegotiation (s_client then
//! ends the connection with a fatal handshake_failure).
//!
//! Needs the `rustls` feature and the `openssl` command (the README's test
//! command enables the feature; `.ci/run` installs openssl when missing).
#![cfg(feature = "rustls")]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, SignatureScheme};
use tlsrec::import::{from_rustls, Side};
use tlsrec::io::SslStream;
use tlsrec::keys::Secret;
use tlsrec::{AlertDescription, Config, Error, Session, SslError};

const DEADLINE: Duration = Duration::from_secs(60);

/// A self-signed P-256 certificate made once with the openssl command.
fn identity() -> &'static (PathBuf, PathBuf) {
    static ID: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    ID.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("tlsrec-interop-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (key, cert) = (dir.join("key.pem"), dir.join("cert.pem"));
        let ok = Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
            ])
            .args(["-nodes", "-days", "1", "-subj", "/CN=localhost", "-keyout"])
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("the openssl command");
        assert!(ok.success(), "openssl req failed");
        (key, cert)
    })
}

/// An `openssl s_server` child: killed when dropped.
struct Server {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: Receiver<Vec<u8>>,
    /// Everything s_server printed so far.
    seen: Vec<u8>,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// `quiet`: s_server reports nothing and takes no commands, and stdin's
    /// end makes it send close_notify; otherwise it takes typed commands
    /// (k, K) and stdin's end drops the connection.
    fn start(tls13: bool, suite: &str, quiet: bool) -> Server {
        let (key, cert) = identity();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut cmd = Command::new("openssl");
        cmd.args(["s_server", "-accept", &format!("127.0.0.1:{port}")])
            .arg("-key")
            .arg(key)
            .arg("-cert")
            .arg(cert)
            .args(["-no_ign_eof", "-naccept", "1"]);
        if quiet {
            cmd.arg("-quiet");
        }
        if tls13 {
            cmd.args(["-tls1_3", "-ciphersuites", suite]);
        } else {
            cmd.args(["-tls1_2", "-cipher", suite]);
        }
        let child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("openssl s_server");
        Server::wrap(child, port)
    }

    /// An `openssl s_client` child, read and typed into like a server.
    fn wrap(mut child: Child, port: u16) -> Server {
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
        Server {
            stdin: child.stdin.take(),
            child,
            stdout: rx,
            seen: Vec::new(),
            port,
        }
    }

    fn connect(&self) -> TcpStream {
        let start = Instant::now();
        loop {
            match TcpStream::connect(("127.0.0.1", self.port)) {
                Ok(s) => return s,
                Err(_) if start.elapsed() < Duration::from_secs(10) => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                Err(e) => panic!("s_server did not listen: {e}"),
            }
        }
    }

    /// Waits until s_server has printed `want` (what tlsrec sent), among
    /// its own reports.
    fn expect_stdout(&mut self, want: &[u8]) {
        let start = Instant::now();
        // Where the search resumes: only new bytes (and a match that
        // straddles them) are looked at again.
        let mut from = 0;
        while !self.seen[from..].windows(want.len()).any(|w| w == want) {
            from = self.seen.len().saturating_sub(want.len() - 1);
            let left = DEADLINE.saturating_sub(start.elapsed());
            match self.stdout.recv_timeout(left) {
                Ok(b) => self.seen.extend(b),
                Err(e) => panic!(
                    "s_server did not print {:?}: {e}; it printed {:?}",
                    String::from_utf8_lossy(want),
                    String::from_utf8_lossy(&self.seen[self.seen.len().saturating_sub(2000)..])
                ),
            }
        }
        self.seen.clear();
    }

    /// Types into s_server's stdin: data to send, or a one-line command
    /// (s_server takes a read of at most 2 bytes as a command).
    fn type_in(&mut self, data: &[u8]) {
        let w = self.stdin.as_mut().unwrap();
        w.write_all(data).unwrap();
        w.flush().unwrap();
    }
}

#[derive(Debug)]
struct AnyCert(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AnyCert {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        // A test certificate made above; the handshake itself is rustls's.
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// The traffic secrets rustls logs (for TLS 1.3 KeyUpdate after handover).
#[derive(Debug, Default)]
struct Secrets(Mutex<Vec<(String, Vec<u8>)>>);

impl Secrets {
    /// The (client, server) application traffic secrets, once logged.
    fn traffic(&self) -> Option<(Secret, Secret)> {
        let v = self.0.lock().unwrap();
        let find = |l: &str| {
            v.iter()
                .find(|(x, _)| x == l)
                .map(|(_, s)| Secret::new(s.clone()))
        };
        find("CLIENT_TRAFFIC_SECRET_0").zip(find("SERVER_TRAFFIC_SECRET_0"))
    }
}

impl rustls::KeyLog for Secrets {
    fn log(&self, label: &str, _client_random: &[u8], secret: &[u8]) {
        self.0
            .lock()
            .unwrap()
            .push((label.to_string(), secret.to_vec()));
    }
    fn will_log(&self, _label: &str) -> bool {
        true
    }
}

/// aws-lc-rs limited to one cipher suite.
fn provider_with(suite_code: u16) -> Arc<rustls::crypto::CryptoProvider> {
    let mut provider = rustls::crypto::aws_lc_rs::default_provider();
    provider
        .cipher_suites
        .retain(|s| u16::from(s.suite()) == suite_code);
    Arc::new(provider)
}

fn versions(tls13: bool) -> &'static [&'static rustls::SupportedProtocolVersion] {
    static TLS13: [&rustls::SupportedProtocolVersion; 1] = [&rustls::version::TLS13];
    static TLS12: [&rustls::SupportedProtocolVersion; 1] = [&rustls::version::TLS12];
    if tls13 {
        &TLS13
    } else {
        &TLS12
    }
}

/// rustls handshake over `sock`, then a tlsrec session from its keys.
fn take_over(sock: TcpStream, tls13: bool, suite_code: u16) -> SslStream<TcpStream> {
    let provider = provider_with(suite_code);
    let versions = versions(tls13);
    let mut cfg = ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(versions)
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCert(provider)))
        .with_no_client_auth();
    cfg.enable_secret_extraction = true;
    let log = Arc::new(Secrets::default());
    cfg.key_log = log.clone();
    let mut conn = ClientConnection::new(Arc::new(cfg), "localhost".try_into().unwrap()).unwrap();
    let mut sock = sock;
    sock.set_read_timeout(Some(DEADLINE)).unwrap();
    while conn.is_handshaking() {
        conn.complete_io(&mut sock).expect("rustls handshake");
    }
    while conn.wants_write() {
        conn.write_tls(&mut sock).unwrap();
    }
    let suite = conn.negotiated_cipher_suite().unwrap();
    assert_eq!(u16::from(suite.suite()), suite_code);
    let traffic = log.traffic();
    let secrets = conn.dangerous_extract_secrets().expect("secret extraction");
    let est = from_rustls(suite, secrets, Side::Client, traffic).unwrap();
    let session = Session::client_from_established(est, Config::default()).unwrap();
    SslStream::new(session, sock)
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

fn read_exactly(s: &mut SslStream<TcpStream>, n: usize) -> Vec<u8> {
    let mut got = vec![0u8; n];
    s.read_exact(&mut got).expect("tlsrec read");
    got
}

fn run(tls13: bool, openssl_suite: &str, code: u16) {
    // TLS 1.3 runs s_server with commands, for its KeyUpdates; TLS 1.2
    // quietly, so that the server can close with close_notify.
    let mut server = Server::start(tls13, openssl_suite, !tls13);
    let sock = server.connect();
    let mut tls = take_over(sock, tls13, code);

    // A request, carried by tlsrec, printed by s_server.
    let request = b"GET /big HTTP/1.1\r\nHost: localhost\r\n\r\n".to_vec();
    tls.write_all(&request).unwrap();
    tls.flush().unwrap();
    server.expect_stdout(&request);

    // A 20 MB response, typed into s_server from another thread.
    let response = body(20 << 20, 1);
    let feed = response.clone();
    let mut stdin = server.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        stdin.write_all(&feed).unwrap();
        stdin.flush().unwrap();
        stdin
    });
    assert!(
        read_exactly(&mut tls, response.len()) == response,
        "response differs"
    );
    server.stdin = Some(writer.join().unwrap());

    if tls13 {
        // The server's KeyUpdate, then data under its next key.
        for (command, requested) in [(b"k\n", false), (b"K\n", true)] {
            let epoch_before = tls.session().sealer().epoch();
            std::thread::sleep(Duration::from_millis(200));
            server.type_in(command);
            std::thread::sleep(Duration::from_millis(200));
            let more = body(100_000, 2);
            server.type_in(&more);
            assert!(
                read_exactly(&mut tls, more.len()) == more,
                "after KeyUpdate"
            );
            // Our next write answers update_requested with a KeyUpdate of
            // our own, and s_server reads what follows under our next key.
            let reply = format!("reply after {}\n", command[0] as char).into_bytes();
            tls.write_all(&reply).unwrap();
            server.expect_stdout(&reply);
            let epoch_after = tls.session().sealer().epoch();
            assert_eq!(epoch_after > epoch_before, requested, "our KeyUpdate");
        }
        // tlsrec closes first; s_server answers with its close_notify.
        assert_eq!(tls.shutdown(), Ok(false));
        let mut rest = [0u8; 16];
        assert_eq!(tls.read(&mut rest).unwrap(), 0, "the peer's close_notify");
        assert_eq!(tls.shutdown(), Ok(true));
    } else {
        // The server closes: quiet s_server sends close_notify at stdin EOF.
        drop(server.stdin.take());
        let mut rest = Vec::new();
        assert_eq!(
            tls.read_to_end(&mut rest).unwrap(),
            0,
            "close_notify reads as 0"
        );
        assert_eq!(tls.shutdown(), Ok(true), "both directions closed");
    }
    let start = Instant::now();
    while server.child.try_wait().unwrap().is_none() {
        assert!(start.elapsed() < DEADLINE, "s_server did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn openssl_s_server_tls13_aes128gcm() {
    run(true, "TLS_AES_128_GCM_SHA256", 0x1301);
}

#[test]
fn openssl_s_server_tls13_chacha20() {
    run(true, "TLS_CHACHA20_POLY1305_SHA256", 0x1303);
}

#[test]
fn openssl_s_server_tls12_aes256gcm() {
    run(false, "ECDHE-ECDSA-AES256-GCM-SHA384", 0xc02c);
}

#[test]
fn openssl_s_server_tls12_chacha20() {
    run(false, "ECDHE-ECDSA-CHACHA20-POLY1305", 0xcca9);
}

// ---------------------------------------------------------------------------
// tlsrec as the server, against `openssl s_client`.
// ---------------------------------------------------------------------------

/// rustls (server side) does the handshake with s_client on `sock`, then
/// tlsrec continues as the server.
fn take_over_as_server(sock: TcpStream, tls13: bool, suite_code: u16) -> SslStream<TcpStream> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::PrivateKeyDer;
    let (key, cert) = identity();
    let provider = provider_with(suite_code);
    let versions = versions(tls13);
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from_pem_file(cert).unwrap()],
            PrivateKeyDer::from_pem_file(key).unwrap(),
        )
        .unwrap();
    cfg.enable_secret_extraction = true;
    // No tickets: nothing of rustls's is in flight at the handover.
    cfg.send_tls13_tickets = 0;
    let log = Arc::new(Secrets::default());
    cfg.key_log = log.clone();
    let mut conn = rustls::ServerConnection::new(Arc::new(cfg)).unwrap();
    let mut sock = sock;
    sock.set_read_timeout(Some(DEADLINE)).unwrap();
    while conn.is_handshaking() {
        conn.complete_io(&mut sock).expect("rustls handshake");
    }
    while conn.wants_write() {
        conn.write_tls(&mut sock).unwrap();
    }
    let suite = conn.negotiated_cipher_suite().unwrap();
    let traffic = log.traffic();
    let secrets = conn.dangerous_extract_secrets().expect("secret extraction");
    let est = from_rustls(suite, secrets, Side::Server, traffic).unwrap();
    let session = Session::server_from_established(est, Config::default()).unwrap();
    SslStream::new(session, sock)
}

fn run_against_s_client(tls13: bool, openssl_suite: &str, code: u16) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut cmd = Command::new("openssl");
    cmd.args(["s_client", "-connect", &format!("127.0.0.1:{port}")])
        .args(["-servername", "localhost", "-no_ign_eof"]);
    if tls13 {
        cmd.args(["-tls1_3", "-ciphersuites", openssl_suite]);
    } else {
        cmd.args(["-tls1_2", "-cipher", openssl_suite]);
    }
    let child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("openssl s_client");
    let mut peer = Server::wrap(child, port);
    let (sock, _) = listener.accept().unwrap();
    let mut tls = take_over_as_server(sock, tls13, code);

    // The client's line reaches tlsrec.
    peer.type_in(b"hello from s_client\n");
    assert_eq!(read_exactly(&mut tls, 20), b"hello from s_client\n");
    // 20 MB from tlsrec, printed by s_client; its end marker shows it all
    // arrived (TLS itself authenticates every byte).
    let mut big = body(20 << 20, 3);
    big.extend_from_slice(b"END-OF-BODY\n");
    tls.write_all(&big).unwrap();
    tls.flush().unwrap();
    peer.expect_stdout(b"END-OF-BODY\n");
    if tls13 {
        // s_client's KeyUpdate asking for ours.
        let epoch = tls.session().sealer().epoch();
        std::thread::sleep(Duration::from_millis(200));
        peer.type_in(b"K\n");
        std::thread::sleep(Duration::from_millis(200));
        peer.type_in(b"after the update\n");
        assert_eq!(read_exactly(&mut tls, 17), b"after the update\n");
        tls.write_all(b"our reply\n").unwrap();
        peer.expect_stdout(b"our reply\n");
        assert!(
            tls.session().sealer().epoch() > epoch,
            "our KeyUpdate went out"
        );
    }
    if tls13 {
        // tlsrec closes; s_client answers and exits.
        assert_eq!(tls.shutdown(), Ok(false));
    } else {
        // s_client asks to renegotiate. A server taken over has no
        // handshake to run: it refuses with a warning no_renegotiation,
        // which OpenSSL's client answers with a fatal handshake_failure
        // (it renegotiates only to succeed), then s_client exits.
        std::thread::sleep(Duration::from_millis(200));
        peer.type_in(b"R\n");
        let mut buf = [0u8; 64];
        assert_eq!(
            tls.ssl_read(&mut buf),
            Err(SslError::Ssl(Error::AlertReceived(
                AlertDescription::HandshakeFailure
            )))
        );
    }
    let start = Instant::now();
    while peer.child.try_wait().unwrap().is_none() {
        assert!(start.elapsed() < DEADLINE, "s_client did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn openssl_s_client_tls13_aes256gcm() {
    run_against_s_client(true, "TLS_AES_256_GCM_SHA384", 0x1302);
}

#[test]
fn openssl_s_client_tls12_aes128gcm() {
    run_against_s_client(false, "ECDHE-ECDSA-AES128-GCM-SHA256", 0xc02b);
}
