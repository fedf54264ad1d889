//! `tlsrec connect HOST:PORT`: a TLS client like `openssl s_client`. TLS 1.2
//! runs the crate's own handshake (`tlsrec::tls12`), so it renegotiates;
//! TLS 1.3 runs rustls's handshake and tlsrec takes the connection over
//! (`tlsrec::takeover`), so it sends KeyUpdates. What the server sends goes
//! to stdout as it arrives; the connection's line, the trace and the
//! summary go to stderr.

use std::collections::VecDeque;
use std::io::{self, IsTerminal, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, TryRecvError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tlsrec::io::SslStream;
use tlsrec::tls12::{self, ClientConfig, Identity, Roots, ServerCertVerification, Status};
use tlsrec::{Config, SslError};

use crate::net::{
    idle_pause, is_certificate_alert, lock, read_file, Captured, End, Failed, KeyLogLines,
    Recorder, EXIT_CERTIFICATE, EXIT_FAILED, EXIT_HANDSHAKE, EXIT_NETWORK, EXIT_USAGE,
};

/// Where the default roots are looked for (the first that exists).
const SYSTEM_ROOTS: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/cert.pem",
];

/// The flags of `tlsrec connect`.
#[derive(clap::Args, Debug)]
pub struct ConnectArgs {
    /// The server: HOST:PORT (a name, an IPv4 address, or [IPv6]:PORT).
    #[arg(value_name = "HOST:PORT")]
    pub addr: String,
    /// The TLS version: 1.2 (the default: tlsrec's own handshake, which
    /// renegotiates) or 1.3 (rustls's handshake, then tlsrec carries the
    /// connection; KeyUpdates instead of renegotiations).
    #[arg(long, value_name = "VERSION", value_parser = ["1.2", "1.3"], default_value = "1.2")]
    pub version: String,
    /// The same as --version 1.3.
    #[arg(long = "tls1_3", conflicts_with_all = ["version", "tls1_2"])]
    pub tls1_3: bool,
    /// The same as --version 1.2.
    #[arg(long = "tls1_2", conflicts_with = "version")]
    pub tls1_2: bool,
    /// Trusted roots (PEM) to verify the server's certificate with
    /// (default: the system's bundle, e.g. /etc/ssl/certs/ca-certificates.crt).
    #[arg(long, value_name = "PEM")]
    pub cafile: Option<PathBuf>,
    /// DANGEROUS, for tests: accept any server certificate (no chain, date
    /// or name check; the key exchange signature is still checked).
    #[arg(long, conflicts_with = "cafile")]
    pub insecure: bool,
    /// The name sent as SNI and checked against the certificate (default:
    /// HOST).
    #[arg(long, value_name = "NAME")]
    pub servername: Option<String>,
    /// A client certificate chain (PEM), sent when the server asks for one.
    #[arg(long, value_name = "PEM", requires = "key")]
    pub cert: Option<PathBuf>,
    /// The client certificate's private key (PEM: PKCS#8 or PKCS#1 RSA).
    #[arg(long, value_name = "PEM", requires = "cert")]
    pub key: Option<PathBuf>,
    /// Send STRING (escapes: \r \n \t \\), then read until the server ends
    /// the connection.
    #[arg(long, value_name = "STRING", conflicts_with = "http_get")]
    pub request: Option<String>,
    /// Send "GET PATH HTTP/1.0" with a Host header, then read until the
    /// server ends the connection.
    #[arg(long, value_name = "PATH")]
    pub http_get: Option<String>,
    /// Start N renegotiations (TLS 1.2), each completed before more data is
    /// sent: spread over --request (after each 1/(N+1) of it); with
    /// --http-get each after an empty line (CRLF, ignored before a request
    /// line), then the request; without a request, one after each piece
    /// read from stdin, the rest at stdin's end.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub renegotiate: u32,
    /// Also start a renegotiation (TLS 1.2) each time another BYTES of
    /// application data went either way.
    #[arg(long, value_name = "BYTES", value_parser = clap::value_parser!(u64).range(1..))]
    pub renegotiate_every: Option<u64>,
    /// Send N KeyUpdates (TLS 1.3, each asking the server to update too),
    /// spread over the request as --renegotiate is.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub key_update: u32,
    /// After the connection, show each record of it as `tlsrec decode`
    /// does (direction, offset, type, length, key epoch, sequence number,
    /// content), decrypted with the connection's own secrets (stderr).
    #[arg(long)]
    pub trace: bool,
    /// Whose record-layer rules the connection follows: an OpenSSL release
    /// (1.1.1, 3.0, 3.5, 4.0) or RFC 8446 / 5246 read strictly (rfc).
    #[arg(long, value_enum, value_name = "PROFILE", default_value = "3.0")]
    pub profile: crate::CliProfile,
    /// Write the connection's secrets to FILE (SSLKEYLOGFILE format, for
    /// `tlsrec decode --keylog` or Wireshark).
    #[arg(long, value_name = "FILE")]
    pub keylog: Option<PathBuf>,
    /// Give up after SECS without progress (connecting, handshake, data).
    #[arg(long, value_name = "SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: u64,
}

/// One step of what the client does after the handshake.
#[derive(Debug)]
enum Step {
    Send(Vec<u8>),
    Renegotiate,
    KeyUpdate,
}

/// `\r`, `\n`, `\t`, `\\` in a --request string.
fn unescape(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut b = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
            continue;
        }
        match chars.next() {
            Some('r') => out.push(b'\r'),
            Some('n') => out.push(b'\n'),
            Some('t') => out.push(b'\t'),
            Some('\\') => out.push(b'\\'),
            Some(other) => {
                out.push(b'\\');
                let mut b = [0u8; 4];
                out.extend_from_slice(other.encode_utf8(&mut b).as_bytes());
            }
            None => out.push(b'\\'),
        }
    }
    out
}

/// HOST and PORT of HOST:PORT / [IPv6]:PORT.
fn split_addr(addr: &str) -> Result<(String, u16), Failed> {
    let bad = |why: &str| {
        Failed::new(
            EXIT_USAGE,
            format!("bad address {addr:?}: {why} (expected HOST:PORT, e.g. 127.0.0.1:4433 or [::1]:4433)"),
        )
    };
    let (host, port) = addr.rsplit_once(':').ok_or_else(|| bad("no port"))?;
    let host = match host.strip_prefix('[') {
        Some(h) => h.strip_suffix(']').ok_or_else(|| bad("unclosed ["))?,
        None if host.contains(':') => return Err(bad("an IPv6 address goes in brackets")),
        None => host,
    };
    if host.is_empty() {
        return Err(bad("no host"));
    }
    let port: u16 = port
        .parse()
        .map_err(|_| bad(&format!("port {port:?} is not a number from 1 to 65535")))?;
    if port == 0 {
        return Err(bad("port 0"));
    }
    Ok((host.to_string(), port))
}

/// Opens the TCP connection (each address the name resolves to in turn).
fn tcp_connect(host: &str, port: u16, timeout: Duration) -> Result<TcpStream, Failed> {
    let addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|e| Failed::new(EXIT_NETWORK, format!("cannot resolve {host}: {e}")))?
        .collect();
    let mut last = None;
    for a in &addrs {
        match TcpStream::connect_timeout(a, timeout) {
            Ok(s) => return Ok(s),
            Err(e) => last = Some((a, e)),
        }
    }
    Err(match last {
        Some((a, e)) => Failed::new(EXIT_NETWORK, format!("cannot connect to {a}: {e}")),
        None => Failed::new(EXIT_NETWORK, format!("{host} resolves to no address")),
    })
}

/// The roots: --cafile, or the system's bundle.
fn roots_pem(a: &ConnectArgs) -> Result<(Vec<u8>, PathBuf), Failed> {
    if let Some(f) = &a.cafile {
        return Ok((read_file("--cafile", f)?, f.clone()));
    }
    for p in SYSTEM_ROOTS {
        if Path::new(p).exists() {
            return Ok((read_file("system roots", Path::new(p))?, PathBuf::from(p)));
        }
    }
    Err(Failed::new(
        EXIT_USAGE,
        "no system roots found: give --cafile PEM (or --insecure for tests)",
    ))
}

/// What the summary reports.
#[derive(Debug, Default)]
struct Counts {
    sent: u64,
    received: u64,
    renegotiations_asked: u64,
    key_updates_sent: u64,
}

/// A connection after its handshake: the stream and what to ask of it.
struct Conn {
    tls: SslStream<Recorder<TcpStream>>,
    /// TLS 1.2 only.
    status: Option<Status>,
    tls13: bool,
}

impl Conn {
    fn handshakes(&self) -> u64 {
        self.status.as_ref().map_or(1, Status::handshakes)
    }
}

fn session_config(profile: tlsrec::Profile) -> Config {
    Config {
        profile,
        // A HelloRequest read while a record is half read (the server's
        // data keeps coming) is answered once it can be; OpenSSL 3.0's
        // client can lose it there, and the server waits for a ClientHello
        // that never comes.
        deferred_renegotiation_sends_hello: true,
        // The loop below reads whenever a write cannot go on: a write that
        // runs into the server's data during our own renegotiation says
        // WantRead (OpenSSL 3.0 says SYSCALL there).
        want_read_when_write_meets_app_data: true,
        ..Config::default()
    }
}

/// The TLS 1.2 client's options (files read before connecting).
fn config12(a: &ConnectArgs, name: &str) -> Result<ClientConfig, Failed> {
    let verification = if a.insecure {
        ServerCertVerification::DangerousNone
    } else {
        let (pem, path) = roots_pem(a)?;
        let roots = Roots::from_pem(&pem)
            .map_err(|e| Failed::new(EXIT_USAGE, format!("{}: {e}", path.display())))?;
        ServerCertVerification::Roots(Arc::new(roots))
    };
    let mut cfg = ClientConfig::new(name, verification);
    if let (Some(c), Some(k)) = (&a.cert, &a.key) {
        let id =
            Identity::from_pem(&read_file("--cert", c)?, &read_file("--key", k)?).map_err(|e| {
                Failed::new(
                    EXIT_USAGE,
                    format!("--cert {} / --key {}: {e}", c.display(), k.display()),
                )
            })?;
        cfg.identity = Some(Arc::new(id));
    }
    Ok(cfg)
}

/// The TLS 1.2 handshake with tlsrec's own driver.
fn handshake12(
    cfg: ClientConfig,
    sock: Recorder<TcpStream>,
    timeout: Duration,
    profile: tlsrec::Profile,
) -> Result<Conn, Failed> {
    let (session, status) = tls12::client_session(Arc::new(cfg), session_config(profile));
    sock.get_ref()
        .set_nonblocking(true)
        .map_err(|e| Failed::new(EXIT_NETWORK, format!("socket: {e}")))?;
    let mut tls = SslStream::new(session, sock);
    let start = Instant::now();
    let mut idle = 0;
    loop {
        match tls.do_handshake() {
            Ok(()) => break,
            Err(SslError::WantRead | SslError::WantWrite) => {
                if start.elapsed() > timeout {
                    return Err(Failed::new(
                        EXIT_HANDSHAKE,
                        format!("handshake: no answer for {} s", timeout.as_secs()),
                    ));
                }
                idle_pause(&mut idle);
            }
            Err(e) => {
                let io = tls.take_io_error();
                return Err(handshake_failed(&End::of(&e, io)));
            }
        }
    }
    Ok(Conn {
        tls,
        status: Some(status),
        tls13: false,
    })
}

fn handshake_failed(end: &End) -> Failed {
    match end {
        End::Failed { alert: Some(a), .. } if is_certificate_alert(*a) => Failed::new(
            EXIT_CERTIFICATE,
            format!("the server's certificate was not accepted (alert {a} sent)"),
        ),
        End::AlertReceived(a) if is_certificate_alert(*a) => Failed::new(
            EXIT_CERTIFICATE,
            format!("handshake failed: the server refused our certificate ({end})"),
        ),
        End::Eof => Failed::new(
            EXIT_HANDSHAKE,
            "handshake failed: the server closed the connection",
        ),
        _ => Failed::new(EXIT_HANDSHAKE, format!("handshake failed: {end}")),
    }
}

/// Accepts any certificate (--insecure with TLS 1.3); signatures are
/// still checked with the provider's algorithms.
#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _: &rustls::pki_types::CertificateDer<'_>,
        _: &[rustls::pki_types::CertificateDer<'_>],
        _: &rustls::pki_types::ServerName<'_>,
        _: &[u8],
        _: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
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
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// The TLS 1.3 client's options (files read before connecting).
fn config13(a: &ConnectArgs, keylog: &KeyLogLines) -> Result<rustls::ClientConfig, Failed> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| Failed::new(EXIT_USAGE, format!("rustls: {e}")))?;
    let builder = if a.insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
    } else {
        let (pem, path) = roots_pem(a)?;
        let mut store = rustls::RootCertStore::empty();
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&pem)
            .collect::<Result<_, _>>()
            .map_err(|e| Failed::new(EXIT_USAGE, format!("{}: {e}", path.display())))?;
        let (added, _) = store.add_parsable_certificates(certs);
        if added == 0 {
            return Err(Failed::new(
                EXIT_USAGE,
                format!("{}: no usable certificate", path.display()),
            ));
        }
        builder.with_root_certificates(store)
    };
    let mut config = match (&a.cert, &a.key) {
        (Some(c), Some(k)) => {
            let chain: Vec<CertificateDer<'static>> =
                CertificateDer::pem_slice_iter(&read_file("--cert", c)?)
                    .collect::<Result<_, _>>()
                    .map_err(|e| Failed::new(EXIT_USAGE, format!("--cert {}: {e}", c.display())))?;
            let key = PrivateKeyDer::from_pem_slice(&read_file("--key", k)?)
                .map_err(|e| Failed::new(EXIT_USAGE, format!("--key {}: {e}", k.display())))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| Failed::new(EXIT_USAGE, format!("--cert / --key: {e}")))?
        }
        _ => builder.with_no_client_auth(),
    };
    config.key_log = Arc::new(keylog.clone());
    Ok(config)
}

/// The TLS 1.3 handshake with rustls (ring), then the takeover.
fn handshake13(
    config: rustls::ClientConfig,
    name: &str,
    sock: Recorder<TcpStream>,
    profile: tlsrec::Profile,
) -> Result<Conn, Failed> {
    use rustls::pki_types::ServerName;
    let server_name = ServerName::try_from(name.to_string())
        .map_err(|e| Failed::new(EXIT_USAGE, format!("--servername {name:?}: {e}")))?;
    match tlsrec::takeover::connect(Arc::new(config), server_name, sock, session_config(profile)) {
        Ok(tls) => {
            tls.get_ref()
                .get_ref()
                .set_nonblocking(true)
                .map_err(|e| Failed::new(EXIT_NETWORK, format!("socket: {e}")))?;
            Ok(Conn {
                tls,
                status: None,
                tls13: true,
            })
        }
        Err(tlsrec::takeover::TakeoverError::Rustls(e)) => Err(match &e {
            rustls::Error::InvalidCertificate(_) => Failed::new(
                EXIT_CERTIFICATE,
                format!("the server's certificate was not accepted: {e}"),
            ),
            _ => Failed::new(EXIT_HANDSHAKE, format!("handshake failed: {e}")),
        }),
        Err(tlsrec::takeover::TakeoverError::Io(e))
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ) =>
        {
            Err(Failed::new(
                EXIT_HANDSHAKE,
                "handshake: no answer from the server in time",
            ))
        }
        Err(e) => Err(Failed::new(
            EXIT_HANDSHAKE,
            format!("handshake failed: {e}"),
        )),
    }
}

/// Chunks read from stdin, `None` at its end (a thread of its own).
fn stdin_reader() -> Receiver<Option<Vec<u8>>> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut stdin = io::stdin().lock();
        let mut buf = vec![0u8; 16384];
        loop {
            match stdin.read(&mut buf) {
                Ok(0) | Err(_) => {
                    let _ = tx.send(None);
                    return;
                }
                Ok(n) => {
                    if tx.send(Some(buf[..n].to_vec())).is_err() {
                        return;
                    }
                }
            }
        }
    });
    rx
}

/// The request cut into `actions + 1` pieces of (nearly) equal length,
/// with an action between each.
fn plan(request: &[u8], actions: u32, action: fn() -> Step) -> VecDeque<Step> {
    let n = actions as usize + 1;
    let mut steps = VecDeque::new();
    for i in 0..n {
        let (from, to) = (request.len() * i / n, request.len() * (i + 1) / n);
        if to > from {
            steps.push_back(Step::Send(request[from..to].to_vec()));
        }
        if i + 1 < n {
            steps.push_back(action());
        }
    }
    steps
}

/// An HTTP request with actions: each after an empty line (CRLF), which
/// a server ignores before the request line (RFC 9112 2.2), then the
/// request whole. A line-based server (`openssl s_server -www`) takes a
/// request line cut by a renegotiation as a line of its own, and answers
/// (and closes) at the first one that starts with "GET ".
fn plan_http(request: &[u8], actions: u32, action: fn() -> Step) -> VecDeque<Step> {
    let mut steps = VecDeque::new();
    for _ in 0..actions {
        steps.push_back(Step::Send(b"\r\n".to_vec()));
        steps.push_back(action());
    }
    steps.push_back(Step::Send(request.to_vec()));
    steps
}

/// `tlsrec connect`.
///
/// # Errors
/// What failed, with its exit code.
pub fn run(a: &ConnectArgs) -> Result<(), Failed> {
    let tls13 = a.tls1_3 || a.version == "1.3";
    if tls13 && (a.renegotiate > 0 || a.renegotiate_every.is_some()) {
        return Err(Failed::new(
            EXIT_USAGE,
            "TLS 1.3 has no renegotiation: use --key-update N (or --version 1.2)",
        ));
    }
    if !tls13 && a.key_update > 0 {
        return Err(Failed::new(
            EXIT_USAGE,
            "TLS 1.2 has no KeyUpdate: use --renegotiate N (or --version 1.3)",
        ));
    }
    let (host, port) = split_addr(&a.addr)?;
    let name = a.servername.clone().unwrap_or_else(|| host.clone());
    let timeout = Duration::from_secs(a.timeout);
    let keylog13 = KeyLogLines::default();
    // Every file is read before the connection is opened.
    let (cfg12, cfg13) = if tls13 {
        (None, Some(config13(a, &keylog13)?))
    } else {
        (Some(config12(a, &name)?), None)
    };
    let sock = tcp_connect(&host, port, timeout)?;
    let peer = sock
        .peer_addr()
        .map_or_else(|_| a.addr.clone(), |p| p.to_string());
    // A blocking handshake (rustls's) gives up after the timeout too.
    let _ = sock.set_read_timeout(Some(timeout));
    let capture = a.trace.then(|| Arc::new(Mutex::new(Captured::default())));
    let sock = Recorder::new(sock, capture.clone());
    let result = match (cfg12, cfg13) {
        (Some(c), _) => handshake12(c, sock, timeout, a.profile.profile()),
        (None, Some(c)) => handshake13(c, &name, sock, a.profile.profile()),
        (None, None) => unreachable!("one of the two configs is made"),
    };
    let conn_keylog = |conn: Option<&Conn>| -> String {
        match conn.and_then(|c| c.status.as_ref()) {
            Some(st) => st.key_log(),
            None => lock(&keylog13.0).clone(),
        }
    };
    let mut conn = match result {
        Ok(c) => c,
        Err(f) => {
            finish_trace(a, capture.as_deref(), &conn_keylog(None));
            return Err(f);
        }
    };
    let suite = conn.tls.session().sealer().suite();
    let suite_name = suite.map_or("?", |s| s.name());
    let verified = if a.insecure {
        "NOT verified (--insecure)".to_string()
    } else {
        "verified".to_string()
    };
    eprintln!(
        "tlsrec connect: connected to {peer} ({name}): {} {suite_name}, server certificate {verified}",
        if conn.tls13 { "TLSv1.3" } else { "TLSv1.2" }
    );

    let mut counts = Counts::default();
    let outcome = exchange(a, &mut conn, &name, timeout, &mut counts);
    let keylog = conn_keylog(Some(&conn));
    if let Some(path) = &a.keylog {
        std::fs::write(path, &keylog)
            .map_err(|e| Failed::new(EXIT_USAGE, format!("--keylog {}: {e}", path.display())))?;
    }
    finish_trace(a, capture.as_deref(), &keylog);
    let end = match &outcome {
        Ok(end) => end.to_string(),
        Err(f) => f.message.clone(),
    };
    let renegs = conn.handshakes().saturating_sub(1);
    eprintln!("--- tlsrec connect summary");
    eprintln!(
        "version: {}",
        if conn.tls13 { "TLSv1.3" } else { "TLSv1.2" }
    );
    eprintln!("suite: {suite_name}");
    eprintln!("sent: {} bytes", counts.sent);
    eprintln!("received: {} bytes", counts.received);
    if conn.tls13 {
        eprintln!("key updates: {} sent", counts.key_updates_sent);
    } else {
        eprintln!(
            "renegotiations: {renegs} ({} started by tlsrec, {} by the server)",
            counts.renegotiations_asked.min(renegs),
            renegs.saturating_sub(counts.renegotiations_asked)
        );
    }
    eprintln!("ended: {end}");
    match outcome {
        Ok(e) if e.is_clean() => Ok(()),
        Ok(e) => Err(Failed::new(
            EXIT_FAILED,
            format!("the connection ended with {e}"),
        )),
        Err(f) => Err(f),
    }
}

fn finish_trace(a: &ConnectArgs, capture: Option<&Mutex<Captured>>, keylog: &str) {
    let (true, Some(c)) = (a.trace, capture) else {
        return;
    };
    let c = lock(c);
    let log = tlsrec::keylog::KeyLog::parse(keylog).unwrap_or_default();
    let d = tlsrec::decode::decode_capture(log, &c.sent, &c.received);
    eprintln!("--- tlsrec connect trace ({} records)", d.events.len());
    for ev in &d.events {
        eprintln!("{}", ev.to_text());
    }
    for p in &d.problems {
        eprintln!("trace: {}", p.message);
    }
}

/// After the handshake: the request (or stdin), the renegotiations and
/// KeyUpdates, and what the server sends, until the connection ends.
fn exchange(
    a: &ConnectArgs,
    conn: &mut Conn,
    name: &str,
    timeout: Duration,
    counts: &mut Counts,
) -> Result<End, Failed> {
    let action: fn() -> Step = if conn.tls13 {
        || Step::KeyUpdate
    } else {
        || Step::Renegotiate
    };
    let actions = if conn.tls13 {
        a.key_update
    } else {
        a.renegotiate
    };
    let (mut steps, mut stdin, mut left) = match (&a.request, &a.http_get) {
        (Some(r), _) => (plan(&unescape(r), actions, action), None, 0),
        (None, Some(p)) => {
            let get = format!("GET {p} HTTP/1.0\r\nHost: {name}\r\n\r\n");
            (plan_http(get.as_bytes(), actions, action), None, 0)
        }
        (None, None) => (VecDeque::new(), Some(stdin_reader()), actions),
    };
    let tty = io::stdin().is_terminal();
    let mut out = io::stdout();
    let mut writing: Option<(Vec<u8>, usize)> = None;
    // A renegotiation we started: done when the handshake count reaches it.
    let mut reneg_until: Option<u64> = None;
    let mut key_update_pending = false;
    let mut next_every = a.renegotiate_every;
    let mut closing = false;
    let mut buf = vec![0u8; 16384];
    let mut last = Instant::now();
    let mut idle = 0;
    loop {
        let mut progress = false;
        if let Some(target) = reneg_until {
            if conn.handshakes() >= target {
                reneg_until = None;
                progress = true;
            }
        }
        if key_update_pending && !conn.tls.session().key_update_due() {
            key_update_pending = false;
        }
        // Stdin: the next piece, then an action after it while any is left.
        if let Some(rx) = &stdin {
            match rx.try_recv() {
                Ok(Some(chunk)) => {
                    steps.push_back(Step::Send(chunk));
                    if left > 0 {
                        steps.push_back(action());
                        left -= 1;
                    }
                    progress = true;
                }
                Ok(None) | Err(TryRecvError::Disconnected) => {
                    for _ in 0..left {
                        steps.push_back(action());
                    }
                    left = 0;
                    stdin = None;
                    closing = true;
                    progress = true;
                }
                Err(TryRecvError::Empty) => {}
            }
        }
        // The next step, once the one before is done.
        if writing.is_none() && reneg_until.is_none() && !key_update_pending {
            match steps.pop_front() {
                Some(Step::Send(b)) => writing = Some((b, 0)),
                Some(Step::Renegotiate) => {
                    let before = conn.handshakes();
                    conn.tls.session_mut().renegotiate().map_err(|e| {
                        Failed::new(EXIT_FAILED, format!("cannot renegotiate: {e}"))
                    })?;
                    counts.renegotiations_asked += 1;
                    reneg_until = Some(before + 1);
                }
                Some(Step::KeyUpdate) => {
                    conn.tls.session_mut().key_update(true).map_err(|e| {
                        Failed::new(EXIT_FAILED, format!("cannot send a KeyUpdate: {e}"))
                    })?;
                    counts.key_updates_sent += 1;
                    key_update_pending = true;
                }
                None => {}
            }
        }
        if let Some(every) = a.renegotiate_every {
            let moved = counts.sent + counts.received;
            if let Some(at) = next_every {
                if moved >= at && reneg_until.is_none() && !conn.tls.session().in_handshake() {
                    let before = conn.handshakes();
                    if conn.tls.session_mut().renegotiate().is_ok() {
                        counts.renegotiations_asked += 1;
                        reneg_until = Some(before + 1);
                    }
                    next_every = Some(moved - moved % every + every);
                }
            }
        }
        if let Some((b, off)) = &mut writing {
            // A retry passes the same bytes (OpenSSL's rule).
            let end = (*off + 16384).min(b.len());
            match conn.tls.ssl_write(&b[*off..end]) {
                Ok(n) => {
                    *off += n;
                    counts.sent += n as u64;
                    progress = true;
                    if *off == b.len() {
                        writing = None;
                    }
                }
                Err(SslError::WantRead | SslError::WantWrite) => {}
                Err(e) => {
                    let io = conn.tls.take_io_error();
                    return Ok(End::of(&e, io));
                }
            }
        }
        match conn.tls.ssl_read(&mut buf) {
            Ok(n) => {
                counts.received += n as u64;
                // A closed stdout (`| head`) does not end the connection.
                let _ = out.write_all(&buf[..n]).and_then(|()| out.flush());
                progress = true;
            }
            Err(SslError::WantRead | SslError::WantWrite) => {}
            Err(SslError::ZeroReturn) => {
                // Our close_notify back, as far as the transport takes it.
                let start = Instant::now();
                while matches!(conn.tls.shutdown(), Err(SslError::WantWrite))
                    && start.elapsed() < Duration::from_secs(2)
                {
                    std::thread::sleep(Duration::from_millis(1));
                }
                return Ok(End::CloseNotify);
            }
            Err(e) => {
                let io = conn.tls.take_io_error();
                return Ok(End::of(&e, io));
            }
        }
        let _ = conn.tls.flush();
        // Stdin ended and everything is sent: close_notify, then wait for
        // the server's.
        if closing && steps.is_empty() && writing.is_none() && reneg_until.is_none() {
            match conn.tls.shutdown() {
                Ok(_) => closing = false,
                Err(SslError::WantWrite | SslError::WantRead) => {}
                Err(e) => {
                    let io = conn.tls.take_io_error();
                    return Ok(End::of(&e, io));
                }
            }
        }
        if progress {
            last = Instant::now();
            idle = 0;
        } else {
            // Someone typing is not a stalled connection.
            let waiting_for_typing = stdin.is_some() && tty && steps.is_empty();
            if last.elapsed() > timeout && !waiting_for_typing {
                return Err(Failed::new(
                    EXIT_FAILED,
                    format!(
                        "timed out: nothing happened for {} s{}",
                        timeout.as_secs(),
                        if reneg_until.is_some() {
                            " (waiting for a renegotiation to complete)"
                        } else {
                            ""
                        }
                    ),
                ));
            }
            idle_pause(&mut idle);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        assert_eq!(split_addr("a:1").unwrap(), ("a".into(), 1));
        assert_eq!(split_addr("[::1]:443").unwrap(), ("::1".into(), 443));
        for bad in ["a", ":1", "a:x", "a:0", "a:70000", "::1:4", "[::1:4"] {
            assert_eq!(split_addr(bad).unwrap_err().code, EXIT_USAGE, "{bad}");
        }
    }

    #[test]
    fn plans() {
        let p = plan(b"abcdefgh", 3, || Step::Renegotiate);
        let s: Vec<String> = p
            .iter()
            .map(|s| match s {
                Step::Send(b) => String::from_utf8(b.clone()).unwrap(),
                _ => "R".into(),
            })
            .collect();
        assert_eq!(s, ["ab", "R", "cd", "R", "ef", "R", "gh"]);
        let p = plan_http(b"GET / HTTP/1.0\r\n\r\n", 3, || Step::Renegotiate);
        let s: Vec<String> = p
            .iter()
            .map(|s| match s {
                Step::Send(b) => String::from_utf8(b.clone()).unwrap(),
                _ => "R".into(),
            })
            .collect();
        assert_eq!(
            s,
            [
                "\r\n",
                "R",
                "\r\n",
                "R",
                "\r\n",
                "R",
                "GET / HTTP/1.0\r\n\r\n"
            ]
        );
        assert_eq!(plan(b"", 2, || Step::Renegotiate).len(), 2);
        assert_eq!(unescape(r"a\r\n\\x\q"), b"a\r\n\\x\\q");
    }
}
