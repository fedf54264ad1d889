//! rustls does the handshake on a TcpStream, then tlsrec carries the
//! connection on: the custom-transport pattern (an event loop, a proxy, a
//! kernel-bypass stack takes the socket after the handshake).
//!
//! ```sh
//! cargo run --example rustls_handoff --features rustls                  # against a local `openssl s_server -www`
//! cargo run --example rustls_handoff --features rustls -- example.com:443
//! ```
//!
//! With no address it starts `openssl s_server -www` on 127.0.0.1 with a
//! throwaway certificate. The example skips certificate verification (it
//! ships no roots): real programs verify; the handover is the same.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, SignatureScheme};
use tlsrec::import::{from_rustls, Side};
use tlsrec::io::SslStream;
use tlsrec::keys::Secret;
use tlsrec::{Config, Session};

#[derive(Debug)]
struct NoVerification(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(m, c, d, &self.0.signature_verification_algorithms)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(m, c, d, &self.0.signature_verification_algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// The application traffic secrets rustls logs (for KeyUpdate later).
#[derive(Debug, Default)]
struct Secrets(std::sync::Mutex<Vec<(String, Vec<u8>)>>);

impl rustls::KeyLog for Secrets {
    fn log(&self, label: &str, _: &[u8], secret: &[u8]) {
        self.0.lock().unwrap().push((label.into(), secret.to_vec()));
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (addr, host, mut server) = match std::env::args().nth(1) {
        Some(a) => {
            let host = a.split(':').next().unwrap_or("localhost").to_string();
            (a, host, None)
        }
        None => {
            let (child, port) = local_server()?;
            (format!("127.0.0.1:{port}"), "localhost".into(), Some(child))
        }
    };
    let mut sock = connect(&addr)?;
    sock.set_read_timeout(Some(Duration::from_secs(20)))?;

    // 1. The handshake, by rustls, with secret extraction on.
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut cfg = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(NoVerification(provider)))
        .with_no_client_auth();
    cfg.enable_secret_extraction = true;
    let log = Arc::new(Secrets::default());
    cfg.key_log = log.clone();
    let mut conn = ClientConnection::new(Arc::new(cfg), ServerName::try_from(host)?)?;
    while conn.is_handshaking() {
        conn.complete_io(&mut sock)?;
    }
    let suite = conn.negotiated_cipher_suite().ok_or("no suite")?;
    let version = conn.protocol_version();
    let secret = |l: &str| {
        let v = log.0.lock().unwrap();
        v.iter()
            .find(|(x, _)| x == l)
            .map(|(_, s)| Secret::new(s.clone()))
    };
    let traffic = secret("CLIENT_TRAFFIC_SECRET_0").zip(secret("SERVER_TRAFFIC_SECRET_0"));

    // 2. The handover: keys and sequence numbers into a tlsrec session on
    //    the same socket.
    let est = from_rustls(
        suite,
        conn.dangerous_extract_secrets()?,
        Side::Client,
        traffic,
    )?;
    let session = Session::client_from_established(est, Config::default())?;
    let mut tls = SslStream::new(session, sock);
    println!(
        "handshake by rustls: {version:?} {:?}; records by tlsrec from here",
        suite.suite()
    );

    // 3. Traffic through tlsrec.
    tls.write_all(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")?;
    tls.flush()?;
    let mut response = Vec::new();
    let mut buf = [0u8; 16384];
    loop {
        match tls.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => response.extend_from_slice(&buf[..n]),
            // A server that closes without close_notify (common for HTTP/1.0).
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(e.into()),
        }
    }
    let text = String::from_utf8_lossy(&response);
    for line in text.lines().take(3) {
        println!("< {line}");
    }
    println!("{} bytes of response through tlsrec", response.len());
    if let Some(child) = server.as_mut() {
        let _ = child.kill();
        let _ = child.wait();
    }
    if response.starts_with(b"HTTP/") {
        Ok(())
    } else {
        Err("no HTTP response".into())
    }
}

fn connect(addr: &str) -> std::io::Result<TcpStream> {
    let start = Instant::now();
    loop {
        match TcpStream::connect(addr) {
            Err(_) if start.elapsed() < Duration::from_secs(5) => {
                std::thread::sleep(Duration::from_millis(20))
            }
            r => return r,
        }
    }
}

/// `openssl s_server -www` on a free port with a throwaway P-256 certificate.
fn local_server() -> Result<(std::process::Child, u16), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("tlsrec-handoff-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let (key, cert) = (dir.join("key.pem"), dir.join("cert.pem"));
    let made = Command::new("openssl")
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
        .status()?;
    if !made.success() {
        return Err("openssl req failed".into());
    }
    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let child = Command::new("openssl")
        .args(["s_server", "-www", "-quiet", "-naccept", "1", "-accept"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("-key")
        .arg(&key)
        .arg("-cert")
        .arg(&cert)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    Ok((child, port))
}
