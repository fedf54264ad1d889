//! Helpers for the takeover tests (`tests/takeover.rs`, `tests/interop.rs`):
//! a throwaway certificate, rustls configs (ring, the test build's one
//! provider), a rustls peer that writes its Finished and its first data in
//! one segment, and a TCP relay that holds one direction so that records
//! from an `openssl` process arrive coalesced.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

pub const DEADLINE: Duration = Duration::from_secs(60);

/// A self-signed P-256 certificate made once with the openssl command:
/// (key, cert) PEM paths.
pub fn identity() -> &'static (PathBuf, PathBuf) {
    static ID: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    ID.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("tlsrec-takeover-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (key, cert) = (dir.join("key.pem"), dir.join("cert.pem"));
        let ok = Command::new("openssl")
            .args(["req", "-x509", "-newkey", "ec"])
            .args(["-pkeyopt", "ec_paramgen_curve:P-256"])
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

/// Accepts the test certificate; the signatures are still checked.
#[derive(Debug)]
pub struct AnyCert(pub Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AnyCert {
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

/// ring, limited to one suite (`None`: all of them).
pub fn provider(suite: Option<u16>) -> Arc<rustls::crypto::CryptoProvider> {
    let mut p = rustls::crypto::ring::default_provider();
    if let Some(code) = suite {
        p.cipher_suites.retain(|s| u16::from(s.suite()) == code);
    }
    Arc::new(p)
}

pub fn versions(tls13: bool) -> &'static [&'static rustls::SupportedProtocolVersion] {
    static TLS13: [&rustls::SupportedProtocolVersion; 1] = [&rustls::version::TLS13];
    static TLS12: [&rustls::SupportedProtocolVersion; 1] = [&rustls::version::TLS12];
    if tls13 {
        &TLS13
    } else {
        &TLS12
    }
}

pub fn client_config(tls13: bool, suite: Option<u16>) -> Arc<rustls::ClientConfig> {
    let p = provider(suite);
    Arc::new(
        rustls::ClientConfig::builder_with_provider(p.clone())
            .with_protocol_versions(versions(tls13))
            .unwrap()
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCert(p)))
            .with_no_client_auth(),
    )
}

pub fn server_config(tls13: bool, suite: Option<u16>) -> Arc<rustls::ServerConfig> {
    use rustls::pki_types::pem::PemObject;
    let (key, cert) = identity();
    Arc::new(
        rustls::ServerConfig::builder_with_provider(provider(suite))
            .with_protocol_versions(versions(tls13))
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![CertificateDer::from_pem_file(cert).unwrap()],
                PrivateKeyDer::from_pem_file(key).unwrap(),
            )
            .unwrap(),
    )
}

pub fn localhost() -> ServerName<'static> {
    ServerName::try_from("localhost").unwrap()
}

/// A connected pair of loopback sockets (reads time out at [`DEADLINE`]).
pub fn tcp_pair() -> (TcpStream, TcpStream) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let a = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    let (b, _) = l.accept().unwrap();
    for s in [&a, &b] {
        s.set_read_timeout(Some(DEADLINE)).unwrap();
        s.set_nodelay(true).unwrap();
    }
    (a, b)
}

/// What a rustls peer does after its handshake.
pub struct PeerScript {
    /// Written before the handshake ends: rustls sends it right behind its
    /// Finished, in the same write (one segment).
    pub first: Vec<u8>,
    /// TLS 1.3: after the handshake, a KeyUpdate and then `after_update`,
    /// in one write with the server's tickets.
    pub key_update: bool,
    pub after_update: Vec<u8>,
    /// Plaintext to read from the tlsrec side before closing.
    pub expect: usize,
}

/// Moves everything rustls has to send into one `write_all`.
fn flush_one_write(conn: &mut rustls::Connection, sock: &mut TcpStream) {
    let mut out = Vec::new();
    while conn.wants_write() {
        conn.write_tls(&mut out).unwrap();
    }
    if !out.is_empty() {
        sock.write_all(&out).unwrap();
    }
}

/// Runs a rustls peer on `sock`: the handshake, `script`, then reads
/// `script.expect` bytes, sends close_notify and waits for the other's.
/// Returns what it read. `is_resumed`: whether the handshake resumed.
pub fn run_rustls_peer(
    conn: impl Into<rustls::Connection>,
    mut sock: TcpStream,
    script: PeerScript,
) -> (Vec<u8>, bool) {
    let mut conn = conn.into();
    conn.writer().write_all(&script.first).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let mut updated = false;
    let mut closing = false;
    loop {
        if !conn.is_handshaking() && !updated {
            updated = true;
            if script.key_update {
                conn.refresh_traffic_keys().unwrap();
                conn.writer().write_all(&script.after_update).unwrap();
            }
        }
        if got.len() >= script.expect && !closing && !conn.is_handshaking() {
            closing = true;
            conn.send_close_notify();
        }
        flush_one_write(&mut conn, &mut sock);
        let n = sock.read(&mut buf).expect("rustls peer read");
        if n == 0 {
            break;
        }
        let mut rd = &buf[..n];
        while !rd.is_empty() {
            conn.read_tls(&mut rd).unwrap();
        }
        let state = conn.process_new_packets().expect("rustls peer");
        let mut plain = vec![0u8; state.plaintext_bytes_to_read()];
        conn.reader().read_exact(&mut plain).unwrap();
        got.extend_from_slice(&plain);
        if state.peer_has_closed() {
            break;
        }
    }
    flush_one_write(&mut conn, &mut sock);
    let resumed = conn.handshake_kind() == Some(rustls::HandshakeKind::Resumed);
    let _ = sock.shutdown(Shutdown::Write);
    (got, resumed)
}

// ---------------------------------------------------------------------------
// A relay that coalesces one direction
// ---------------------------------------------------------------------------

#[derive(Default)]
struct Held {
    /// Reads forwarded so far in the held direction.
    reads: usize,
    /// Bytes held back (after `pass` reads), not yet forwarded.
    bytes: Vec<u8>,
    released: bool,
    ended: bool,
    pass: usize,
}

/// A TCP relay 127.0.0.1:`port` -> 127.0.0.1:`target` for one connection.
/// In the held direction (server to client if `hold_s2c`) it forwards the
/// first `pass` reads, then keeps what arrives until [`Relay::release`],
/// which forwards it all in one write; after that it forwards as it reads.
pub struct Relay {
    pub port: u16,
    state: Arc<(Mutex<Held>, Condvar)>,
}

impl Relay {
    pub fn start(target: u16, hold_s2c: bool, pass: usize) -> Relay {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let state = Arc::new((Mutex::new(Held::default()), Condvar::new()));
        let st = state.clone();
        std::thread::spawn(move || {
            let Ok((client, _)) = l.accept() else { return };
            let start = std::time::Instant::now();
            let server = loop {
                match TcpStream::connect(("127.0.0.1", target)) {
                    Ok(s) => break s,
                    Err(_) if start.elapsed() < Duration::from_secs(10) => {
                        std::thread::sleep(Duration::from_millis(20))
                    }
                    Err(e) => panic!("relay target: {e}"),
                }
            };
            for s in [&client, &server] {
                s.set_nodelay(true).unwrap();
            }
            let (held_from, held_to, free_from, free_to) = if hold_s2c {
                (
                    server.try_clone().unwrap(),
                    client.try_clone().unwrap(),
                    client,
                    server,
                )
            } else {
                (
                    client.try_clone().unwrap(),
                    server.try_clone().unwrap(),
                    server,
                    client,
                )
            };
            std::thread::spawn(move || pump(free_from, free_to));
            held_pump(held_from, held_to, pass, st);
        });
        Relay { port, state }
    }

    /// Waits until more than `len` bytes are held; returns how many are.
    pub fn wait_held_more_than(&self, len: usize) -> usize {
        let (m, cv) = &*self.state;
        let g = cv
            .wait_timeout_while(m.lock().unwrap(), DEADLINE, |h| {
                h.reads <= h.pass || h.bytes.len() <= len
            })
            .unwrap()
            .0;
        assert!(
            g.reads > g.pass && g.bytes.len() > len,
            "the relay held no new bytes"
        );
        g.bytes.len()
    }

    /// Waits until the held bytes hold `n` whole records (they start on a
    /// record boundary: the passed reads were whole flights).
    pub fn wait_held_records(&self, n: usize) {
        let count = |b: &[u8]| {
            let (mut at, mut k) = (0, 0);
            while b.len() >= at + 5 {
                at += 5 + usize::from(u16::from_be_bytes([b[at + 3], b[at + 4]]));
                if at <= b.len() {
                    k += 1;
                }
            }
            k
        };
        let (m, cv) = &*self.state;
        let g = cv
            .wait_timeout_while(m.lock().unwrap(), DEADLINE, |h| {
                h.reads <= h.pass || count(&h.bytes) < n
            })
            .unwrap()
            .0;
        assert!(
            count(&g.bytes) >= n,
            "the relay held fewer than {n} records"
        );
    }

    /// Forwards everything held in one write, and from then on as it comes.
    pub fn release(&self) {
        let (m, cv) = &*self.state;
        m.lock().unwrap().released = true;
        cv.notify_all();
    }
}

fn pump(mut from: TcpStream, mut to: TcpStream) {
    let mut buf = vec![0u8; 65536];
    while let Ok(n) = from.read(&mut buf) {
        if n == 0 || to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

fn held_pump(mut from: TcpStream, mut to: TcpStream, pass: usize, st: Arc<(Mutex<Held>, Condvar)>) {
    st.0.lock().unwrap().pass = pass;
    // A writer thread: writes what may go, holds the rest until release.
    let st2 = st.clone();
    let writer = std::thread::spawn(move || {
        let (m, cv) = &*st2;
        let mut g = m.lock().unwrap();
        loop {
            let ended = g.ended;
            if !g.bytes.is_empty() && (g.reads <= pass || g.released || ended) {
                let out = std::mem::take(&mut g.bytes);
                drop(g);
                if to.write_all(&out).is_err() {
                    break;
                }
                g = m.lock().unwrap();
                continue;
            }
            if ended {
                break;
            }
            g = cv.wait(g).unwrap();
        }
        let _ = to.shutdown(Shutdown::Write);
    });
    let mut buf = vec![0u8; 65536];
    loop {
        let n = from.read(&mut buf).unwrap_or(0);
        let (m, cv) = &*st;
        let mut g = m.lock().unwrap();
        if n == 0 {
            g.ended = true;
            cv.notify_all();
            break;
        }
        g.reads += 1;
        g.bytes.extend_from_slice(&buf[..n]);
        cv.notify_all();
    }
    let _ = writer.join();
}
