//! rustls does the handshake on a TcpStream, then tlsrec carries the
//! connection on: the custom-transport pattern (an event loop, a proxy, a
//! kernel-bypass stack takes the socket after the handshake).
//!
//! `tlsrec::takeover::connect` runs the handshake one record at a time, so a
//! server's data right behind its Finished is not lost, collects the TLS 1.3
//! traffic secrets for KeyUpdate itself, and needs no provider of its own:
//! the config is built the default way (`ClientConfig::builder()`, with the
//! one provider the application enabled in rustls).
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
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use tlsrec::{takeover, Config};

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
    let sock = connect(&addr)?;
    sock.set_read_timeout(Some(Duration::from_secs(20)))?;

    // 1. A rustls config, built the default way.
    let builder = ClientConfig::builder();
    let provider = CryptoProvider::get_default()
        .ok_or("no rustls provider")?
        .clone();
    let cfg = builder
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(NoVerification(provider)))
        .with_no_client_auth();

    // 2. The handshake by rustls, then the connection in a tlsrec session
    //    on the same socket, holding whatever came behind the Finished.
    let name = ServerName::try_from(host)?;
    let mut tls = takeover::connect(Arc::new(cfg), name, sock, Config::default())?;
    println!(
        "handshake by rustls: {:?} {:?}; records by tlsrec from here ({} bytes already in)",
        tls.session().version(),
        tls.session().sealer().suite(),
        tls.session().unread_input()
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
