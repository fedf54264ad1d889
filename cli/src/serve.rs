//! `tlsrec serve`: a TLS server like `openssl s_server -www`. TLS 1.2 on
//! the crate's own handshake (`tlsrec::tls12::server_session`), or with
//! `--tls1_3` rustls's handshake and then tlsrec (`tlsrec::takeover`).
//! Each HTTP request gets a small text page; `GET /reneg` renegotiates
//! from the server first (TLS 1.2), `GET /keyupdate` sends a KeyUpdate
//! (TLS 1.3), `GET /bytes/N` sends N bytes (to keep data flowing while a
//! client renegotiates). One thread per connection; one log line per
//! connection and event on stderr.

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tlsrec::io::SslStream;
use tlsrec::tls12::{self, Identity, ServerConfig, Status};
use tlsrec::{Config, SslError};

use crate::net::{idle_pause, read_file, End, Failed, EXIT_NETWORK, EXIT_USAGE};

/// Largest body `GET /bytes/N` sends.
pub const MAX_BYTES: u64 = 1 << 30;

/// The flags of `tlsrec serve`.
#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// The port to listen on (0: any free port; the log's first line says
    /// which).
    #[arg(long, value_name = "P")]
    pub port: u16,
    /// The address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1")]
    pub bind: String,
    /// The certificate chain (PEM, end entity first).
    #[arg(long, value_name = "PEM")]
    pub cert: PathBuf,
    /// The private key (PEM: PKCS#8, as `openssl genpkey` / `req -newkey`
    /// write, or PKCS#1 RSA).
    #[arg(long, value_name = "PEM")]
    pub key: PathBuf,
    /// Serve TLS 1.3 instead of 1.2: rustls's handshake (ring), then
    /// tlsrec carries the connection; GET /keyupdate sends a KeyUpdate
    /// (asking the client to update too), GET /reneg answers 400.
    #[arg(long = "tls1_3")]
    pub tls1_3: bool,
    /// Refuse renegotiations the client starts (a warning no_renegotiation,
    /// as OpenSSL 3 does by default; allowed by default here).
    #[arg(long)]
    pub no_client_renegotiation: bool,
    /// Whose record-layer rules the connections follow: an OpenSSL release
    /// (1.1.1, 3.0, 3.5, 4.0) or RFC 8446 / 5246 read strictly (rfc), for
    /// running a conformance suite such as tlsfuzzer against that profile.
    #[arg(long, value_enum, value_name = "PROFILE", default_value = "3.0")]
    pub profile: crate::CliProfile,
    /// Stop after one connection.
    #[arg(long, conflicts_with = "max_connections")]
    pub once: bool,
    /// Stop after N connections (each served to its end).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_connections: Option<u64>,
    /// Close a connection after SECS without progress.
    #[arg(long, value_name = "SECS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: u64,
}

/// `tlsrec serve`.
///
/// # Errors
/// Unreadable certificate or key (exit 2), a port it cannot listen on (3).
pub fn run(a: &ServeArgs) -> Result<(), Failed> {
    let cert = read_file("--cert", &a.cert)?;
    let key = read_file("--key", &a.key)?;
    let id = Identity::from_pem(&cert, &key).map_err(|e| unusable_cert_key(a, &e))?;
    let cfg = if a.tls1_3 {
        Tls::V13(Arc::new(rustls_config(a, &cert, &key)?))
    } else {
        Tls::V12(Arc::new(ServerConfig::new(Arc::new(id))))
    };
    let listener = TcpListener::bind((a.bind.as_str(), a.port)).map_err(|e| {
        Failed::new(
            EXIT_NETWORK,
            format!("cannot listen on {}:{}: {e}", a.bind, a.port),
        )
    })?;
    let local = listener
        .local_addr()
        .map_err(|e| Failed::new(EXIT_NETWORK, format!("listening socket: {e}")))?;
    if a.tls1_3 {
        eprintln!(
            "tlsrec serve: listening on {local} (TLS 1.3, {} rules)",
            profile_label(a.profile)
        );
    } else {
        eprintln!(
            "tlsrec serve: listening on {local} (TLS 1.2, client renegotiation {}, {} rules)",
            if a.no_client_renegotiation {
                "refused"
            } else {
                "allowed"
            },
            profile_label(a.profile)
        );
    }
    let max = if a.once { Some(1) } else { a.max_connections };
    let opts = Arc::new(Opts {
        allow_client_renegotiation: !a.no_client_renegotiation,
        profile: a.profile.profile(),
        timeout: Duration::from_secs(a.timeout),
    });
    let ids = AtomicU64::new(0);
    let mut threads = Vec::new();
    while max.is_none_or(|m| ids.load(Ordering::Relaxed) < m) {
        let (sock, peer) = match listener.accept() {
            Ok(x) => x,
            Err(e) => {
                eprintln!("tlsrec serve: accept: {e}");
                continue;
            }
        };
        let n = ids.fetch_add(1, Ordering::Relaxed) + 1;
        let (cfg, opts) = (cfg.clone(), opts.clone());
        threads.push(std::thread::spawn(move || {
            connection(n, sock, peer, &cfg, &opts);
        }));
        threads.retain(|t| !t.is_finished());
    }
    for t in threads {
        let _ = t.join();
    }
    eprintln!(
        "tlsrec serve: done after {} connections",
        ids.load(Ordering::Relaxed)
    );
    Ok(())
}

/// How the log names a profile.
fn profile_label(p: crate::CliProfile) -> &'static str {
    use crate::CliProfile as P;
    match p {
        P::V1_1_1 => "OpenSSL 1.1.1",
        P::V3_0 => "OpenSSL 3.0",
        P::V3_5 => "OpenSSL 3.5",
        P::V4_0 => "OpenSSL 4.0",
        P::Rfc => "strict RFC",
    }
}

/// The server's handshake: tlsrec's TLS 1.2 or rustls's TLS 1.3.
#[derive(Clone)]
enum Tls {
    V12(Arc<ServerConfig>),
    V13(Arc<rustls::ServerConfig>),
}

/// Exit 2 for a certificate or key that cannot be used, naming both files.
fn unusable_cert_key(a: &ServeArgs, e: &dyn std::fmt::Display) -> Failed {
    Failed::new(
        EXIT_USAGE,
        format!(
            "--cert {} / --key {}: {e}",
            a.cert.display(),
            a.key.display()
        ),
    )
}

/// The TLS 1.3 server's rustls options: the same chain and key.
fn rustls_config(a: &ServeArgs, cert: &[u8], key: &[u8]) -> Result<rustls::ServerConfig, Failed> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let bad = |e: &dyn std::fmt::Display| unusable_cert_key(a, e);
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert)
        .collect::<Result<_, _>>()
        .map_err(|e| bad(&e))?;
    let key = PrivateKeyDer::from_pem_slice(key).map_err(|e| bad(&e))?;
    rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| bad(&e))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| bad(&e))
}

struct Opts {
    allow_client_renegotiation: bool,
    profile: tlsrec::Profile,
    timeout: Duration,
}

/// One connection's state.
struct Conn {
    n: u64,
    peer: SocketAddr,
    tls: SslStream<TcpStream>,
    /// TLS 1.2 only.
    status: Option<Status>,
    /// KeyUpdates sent (TLS 1.3).
    key_updates: u64,
    /// Handshakes seen so far (to log each renegotiation once).
    seen: u64,
    /// A renegotiation this server started and has not seen complete.
    ours: Option<u64>,
    requests: u64,
    received: u64,
    sent: u64,
}

impl Conn {
    fn log(&self, what: &str) {
        eprintln!("tlsrec serve: conn {} {}: {what}", self.n, self.peer);
    }

    fn handshakes(&self) -> u64 {
        self.status.as_ref().map_or(1, Status::handshakes)
    }

    fn tls13(&self) -> bool {
        self.status.is_none()
    }

    fn suite(&self) -> &'static str {
        self.tls
            .session()
            .sealer()
            .suite()
            .map_or("?", |s| s.name())
    }

    /// Logs each handshake completed since the last look.
    fn look(&mut self) {
        let now = self.handshakes();
        while self.seen < now {
            self.seen += 1;
            let by = match self.ours {
                Some(t) if self.seen >= t => {
                    self.ours = None;
                    "the server"
                }
                _ => "the client",
            };
            let suite = self.suite();
            self.log(&format!(
                "renegotiation by {by} done (handshake {}, {suite})",
                self.seen
            ));
        }
    }
}

fn connection(n: u64, sock: TcpStream, peer: SocketAddr, tls: &Tls, o: &Opts) {
    // A second handle on the socket outlives the session's, for the
    // lingering close.
    let linger = sock.try_clone().ok();
    serve_socket(n, sock, peer, tls, o);
    if let Some(sock) = linger {
        linger_close(&sock);
    }
}

/// How long a closing connection reads on for the client's last bytes.
const LINGER: Duration = Duration::from_secs(2);

/// Closes as `s_server` and most servers manage to: our last bytes (a
/// fatal alert, a close_notify) go out first, then the end of our stream,
/// then what the client still sends is read and dropped until it closes
/// too (at most [`LINGER`]). Closing a socket with unread bytes in it makes
/// the kernel answer with a reset, and a reset can reach the client before
/// it has read our alert: a conformance suite (tlsfuzzer) then sees an
/// abrupt close where the alert was sent.
fn linger_close(sock: &TcpStream) {
    use std::io::Read;
    let _ = sock.set_nonblocking(false);
    if sock.shutdown(std::net::Shutdown::Write).is_err() {
        return;
    }
    let start = Instant::now();
    let mut buf = [0u8; 4096];
    while let Some(left) = LINGER.checked_sub(start.elapsed()) {
        if left.is_zero() || sock.set_read_timeout(Some(left)).is_err() {
            return;
        }
        match (&mut &*sock).read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

fn serve_socket(n: u64, sock: TcpStream, peer: SocketAddr, tls: &Tls, o: &Opts) {
    eprintln!("tlsrec serve: conn {n} {peer}: accepted");
    let say = |what: String| eprintln!("tlsrec serve: conn {n} {peer}: {what}");
    let session_cfg = Config {
        allow_client_renegotiation: o.allow_client_renegotiation,
        // The loop reads whenever a write cannot go on.
        want_read_when_write_meets_app_data: true,
        // A renegotiation asked for while a record is half read still
        // starts with our HelloRequest.
        deferred_renegotiation_sends_hello: true,
        profile: o.profile,
        ..Config::default()
    };
    let (tls, status) = match tls {
        Tls::V12(cfg) => {
            if let Err(e) = sock.set_nonblocking(true) {
                return say(format!("socket: {e}"));
            }
            let (session, status) = tls12::server_session(cfg.clone(), session_cfg);
            (SslStream::new(session, sock), Some(status))
        }
        Tls::V13(cfg) => {
            // rustls's handshake blocks, for at most the timeout per read.
            let _ = sock.set_read_timeout(Some(o.timeout));
            // A TLS server, not a tunnel: whatever arrives goes to rustls,
            // which answers a first record that cannot start a handshake
            // (over 2^14 bytes: record_overflow) with its alert.
            match tlsrec::takeover::accept_tls(cfg.clone(), sock, session_cfg) {
                Ok(tls) => {
                    if let Err(e) = tls.get_ref().set_nonblocking(true) {
                        return say(format!("socket: {e}"));
                    }
                    (tls, None)
                }
                Err(e) => return say(format!("closed: handshake failed: {e}")),
            }
        }
    };
    let mut c = Conn {
        n,
        peer,
        tls,
        status,
        key_updates: 0,
        seen: 1,
        ours: None,
        requests: 0,
        received: 0,
        sent: 0,
    };
    let end = serve_connection(&mut c, o);
    let changes = if c.tls13() {
        format!("{} KeyUpdates sent", c.key_updates)
    } else {
        format!("{} renegotiations", c.handshakes().saturating_sub(1))
    };
    c.log(&format!(
        "closed: {end}; {} requests, {changes}, {} bytes in, {} bytes out",
        c.requests, c.received, c.sent
    ));
}

/// What one response sends.
struct Response {
    head: Vec<u8>,
    body: Body,
    close: bool,
}

enum Body {
    Text(Vec<u8>),
    /// `GET /bytes/N`: N bytes of digits and newlines, made as they go.
    Pattern(u64),
}

/// The byte at `i` of a `/bytes/N` body: lines of 63 digits.
#[must_use]
pub fn pattern_byte(i: u64) -> u8 {
    if i % 64 == 63 {
        b'\n'
    } else {
        b'0' + ((i / 7) % 10) as u8
    }
}

/// A parsed request line.
struct Request {
    method: String,
    path: String,
    keep_alive: bool,
    line: String,
}

/// A whole request head at the start of `buf` (leading empty lines
/// skipped; lines may end in LF, as `openssl s_client` sends them, or CRLF):
/// the request and the bytes it took.
fn take_request(buf: &[u8]) -> Option<(Option<Request>, usize)> {
    let mut lines = Vec::new();
    let mut start = 0;
    while let Some(i) = buf[start..].iter().position(|&b| b == b'\n') {
        let line = &buf[start..start + i];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        start += i + 1;
        if line.is_empty() {
            if lines.is_empty() {
                continue;
            }
            return Some((parse_request(&lines), start));
        }
        lines.push(String::from_utf8_lossy(line).into_owned());
    }
    None
}

fn parse_request(lines: &[String]) -> Option<Request> {
    let mut words = lines[0].split_whitespace();
    let (method, path, version) = (words.next()?, words.next()?, words.next()?);
    if !version.starts_with("HTTP/1.") || words.next().is_some() {
        return None;
    }
    let close_header = lines[1..].iter().any(|l| {
        l.split_once(':').is_some_and(|(k, v)| {
            k.trim().eq_ignore_ascii_case("connection") && v.trim().eq_ignore_ascii_case("close")
        })
    });
    Some(Request {
        method: method.to_string(),
        path: path.to_string(),
        keep_alive: version == "HTTP/1.1" && !close_header,
        line: lines[0].clone(),
    })
}

fn page(c: &Conn, req: &Request, note: &str) -> Vec<u8> {
    let last = c.status.as_ref().and_then(Status::last);
    let mut p = String::new();
    p.push_str("tlsrec serve\n");
    p.push_str(&format!("connection: {} from {}\n", c.n, c.peer));
    p.push_str(if c.tls13() {
        "protocol: TLSv1.3\n"
    } else {
        "protocol: TLSv1.2\n"
    });
    p.push_str(&format!("suite: {}\n", c.suite()));
    if let Some(h) = &last {
        p.push_str(&format!(
            "group: {:?}, signature: {:?}\n",
            h.group, h.signature_scheme
        ));
    }
    if c.tls13() {
        p.push_str(&format!("key updates sent: {}\n", c.key_updates));
    } else {
        let hs = c.handshakes();
        p.push_str(&format!(
            "handshakes: {hs} (renegotiations: {})\n",
            hs.saturating_sub(1)
        ));
    }
    p.push_str(&format!("request {}: {}\n", c.requests, req.line));
    p.push_str(&format!(
        "application data so far: {} bytes received, {} bytes sent\n",
        c.received, c.sent
    ));
    if !note.is_empty() {
        p.push_str(note);
        p.push('\n');
    }
    p.into_bytes()
}

fn respond(status: &str, body: Body, len: u64, keep_alive: bool) -> Response {
    let head = format!(
        "HTTP/1.{} {status}\r\nContent-Type: text/plain\r\nContent-Length: {len}\r\nConnection: {}\r\n\r\n",
        u8::from(keep_alive),
        if keep_alive { "keep-alive" } else { "close" }
    );
    Response {
        head: head.into_bytes(),
        body,
        close: !keep_alive,
    }
}

fn text(status: &str, body: Vec<u8>, keep_alive: bool) -> Response {
    let len = body.len() as u64;
    respond(status, Body::Text(body), len, keep_alive)
}

/// What a request asks for. `GET /reneg` returns `None`: the server
/// renegotiates first and answers once it completes.
fn answer(c: &mut Conn, req: Option<&Request>) -> Option<Response> {
    let Some(req) = req else {
        c.log("not an HTTP request: 400");
        return Some(text(
            "400 Bad Request",
            b"tlsrec serve: expected an HTTP/1.x request line (GET /path HTTP/1.0)\n".to_vec(),
            false,
        ));
    };
    c.log(&format!("request: {}", req.line));
    let ka = req.keep_alive;
    if req.method != "GET" {
        return Some(text(
            "405 Method Not Allowed",
            b"tlsrec serve answers GET only\n".to_vec(),
            ka,
        ));
    }
    match req.path.as_str() {
        "/reneg" if c.tls13() => {
            c.log("renegotiation asked: TLS 1.3 has none, 400");
            let mut body = page(c, req, "");
            body.extend_from_slice(
                b"reneg: not done: TLS 1.3 has no renegotiation (RFC 8446); \
                  GET /keyupdate sends a KeyUpdate instead\n",
            );
            Some(text("400 Bad Request", body, ka))
        }
        "/reneg" => None,
        "/keyupdate" if c.tls13() => {
            let note = match c.tls.session_mut().key_update(true) {
                Ok(()) => {
                    c.key_updates += 1;
                    c.log("KeyUpdate (update_requested) goes out before the page");
                    "keyupdate: sent before this page, asking the client to update too".to_string()
                }
                Err(e) => {
                    c.log(&format!("cannot send a KeyUpdate: {e}"));
                    format!("keyupdate: refused: {e}")
                }
            };
            Some(text("200 OK", page(c, req, &note), ka))
        }
        "/keyupdate" => {
            c.log("KeyUpdate asked: TLS 1.2 has none, 400");
            let mut body = page(c, req, "");
            body.extend_from_slice(
                b"keyupdate: not sent: KeyUpdate is TLS 1.3 (RFC 8446 4.6.3) and this \
                  server speaks TLS 1.2; GET /reneg renegotiates instead\n",
            );
            Some(text("400 Bad Request", body, ka))
        }
        p if p.starts_with("/bytes/") => match p["/bytes/".len()..].parse::<u64>() {
            Ok(n) if n <= MAX_BYTES => Some(respond("200 OK", Body::Pattern(n), n, ka)),
            _ => Some(text(
                "400 Bad Request",
                format!("tlsrec serve: /bytes/N with N at most {MAX_BYTES}\n").into_bytes(),
                ka,
            )),
        },
        _ => Some(text("200 OK", page(c, req, ""), ka)),
    }
}

/// Serves one connection until it ends; what ended it.
fn serve_connection(c: &mut Conn, o: &Opts) -> String {
    let mut last = Instant::now();
    let mut idle = 0;
    // The handshake (TLS 1.3: done by rustls already; tlsrec's
    // do_handshake on that established session would read the client's
    // first record and refuse application data as unexpected_message).
    while !c.tls13() {
        match c.tls.do_handshake() {
            Ok(()) => break,
            Err(SslError::WantRead | SslError::WantWrite) => {
                if last.elapsed() > o.timeout {
                    return "handshake timed out".into();
                }
                idle_pause(&mut idle);
            }
            Err(e) => {
                let io = c.tls.take_io_error();
                return format!("handshake failed: {}", End::of(&e, io));
            }
        }
    }
    let version = if c.tls13() { "TLSv1.3" } else { "TLSv1.2" };
    c.log(&format!("handshake done: {version} {}", c.suite()));
    let mut inbuf: Vec<u8> = Vec::new();
    let mut buf = vec![0u8; 16384];
    // The response being written: its head and body so far.
    let mut out: Option<(Response, u64)> = None;
    let mut chunk: Vec<u8> = Vec::new();
    // GET /reneg: the request waiting for our renegotiation to complete.
    let mut reneg: Option<(Request, Instant)> = None;
    loop {
        let mut progress = false;
        match c.tls.ssl_read(&mut buf) {
            Ok(n) => {
                inbuf.extend_from_slice(&buf[..n]);
                c.received += n as u64;
                progress = true;
            }
            Err(SslError::WantRead | SslError::WantWrite) => {}
            Err(SslError::ZeroReturn) => {
                let _ = close(c);
                return "close_notify from the client".into();
            }
            Err(e) => {
                let io = c.tls.take_io_error();
                return End::of(&e, io).to_string();
            }
        }
        c.look();
        if let Some((req, since)) = &reneg {
            let done = c.ours.is_none();
            if done || since.elapsed() > Duration::from_secs(10) {
                let note = if done {
                    format!(
                        "renegotiation started by the server: done (handshake {})",
                        c.handshakes()
                    )
                } else {
                    "renegotiation started by the server: NOT completed after 10 s".to_string()
                };
                let r = text("200 OK", page(c, req, &note), req.keep_alive);
                out = Some((r, 0));
                reneg = None;
                progress = true;
            }
        }
        if out.is_none() && reneg.is_none() {
            if let Some((req, used)) = take_request(&inbuf) {
                inbuf.drain(..used);
                c.requests += 1;
                progress = true;
                match answer(c, req.as_ref()) {
                    Some(r) => out = Some((r, 0)),
                    None => {
                        let req = req.expect("only a request asks for /reneg");
                        match c.tls.session_mut().renegotiate() {
                            Ok(()) => {
                                c.ours = Some(c.handshakes() + 1);
                                c.log("renegotiation started by the server (GET /reneg)");
                                reneg = Some((req, Instant::now()));
                            }
                            Err(e) => {
                                c.log(&format!("cannot renegotiate: {e}"));
                                let note = format!("renegotiation: refused: {e}");
                                out =
                                    Some((text("200 OK", page(c, &req, &note), req.keep_alive), 0));
                            }
                        }
                    }
                }
            }
        }
        if let Some((r, pos)) = &mut out {
            if chunk.is_empty() {
                chunk = next_chunk(r, *pos);
            }
            if !chunk.is_empty() {
                // A retry passes the same bytes.
                match c.tls.ssl_write(&chunk) {
                    Ok(n) => {
                        *pos += n as u64;
                        c.sent += n as u64;
                        chunk.clear();
                        progress = true;
                    }
                    Err(SslError::WantRead | SslError::WantWrite) => {}
                    Err(e) => {
                        let io = c.tls.take_io_error();
                        return End::of(&e, io).to_string();
                    }
                }
            }
            let total = r.head.len() as u64
                + match &r.body {
                    Body::Text(t) => t.len() as u64,
                    Body::Pattern(n) => *n,
                };
            if chunk.is_empty() && *pos == total {
                let close_now = r.close;
                out = None;
                if close_now {
                    return match close(c) {
                        Ok(()) => "response sent, close_notify both ways".into(),
                        Err(e) => format!("response sent, then {e}"),
                    };
                }
            }
        }
        let _ = io::Write::flush(&mut c.tls);
        if progress {
            last = Instant::now();
            idle = 0;
        } else {
            if last.elapsed() > o.timeout {
                return format!("closed after {} s without progress", o.timeout.as_secs());
            }
            idle_pause(&mut idle);
        }
    }
}

/// The next at most 16 KiB of a response from `pos`: the head and the
/// start of the body together, so that a short page is one record, as
/// `openssl s_server -www` sends it (tlsfuzzer's scripts expect one
/// ApplicationData record for the answer to their GET).
fn next_chunk(r: &Response, pos: u64) -> Vec<u8> {
    const MAX: u64 = 16384;
    let head = r.head.len() as u64;
    let mut v = Vec::new();
    if pos < head {
        let from = pos as usize;
        let to = head.min(pos + MAX) as usize;
        v.extend_from_slice(&r.head[from..to]);
    }
    let at = pos.saturating_sub(head);
    let room = MAX - v.len() as u64;
    match &r.body {
        Body::Text(t) => {
            let at = (at as usize).min(t.len());
            let end = (at + room as usize).min(t.len());
            v.extend_from_slice(&t[at..end]);
        }
        Body::Pattern(n) => {
            let end = (at + room).min(*n);
            v.extend((at.min(end)..end).map(pattern_byte));
        }
    }
    v
}

/// Our close_notify, then the client's (or EOF), for at most 2 s.
fn close(c: &mut Conn) -> Result<(), String> {
    let start = Instant::now();
    let mut buf = [0u8; 4096];
    let mut sent = false;
    while start.elapsed() < Duration::from_secs(2) {
        if !sent {
            match c.tls.shutdown() {
                Ok(true) => return Ok(()),
                Ok(false) => sent = true,
                Err(SslError::WantWrite | SslError::WantRead) => {}
                Err(e) => return Err(End::of(&e, c.tls.take_io_error()).to_string()),
            }
        }
        match c.tls.ssl_read(&mut buf) {
            Ok(_) => {}
            Err(SslError::ZeroReturn) => return Ok(()),
            Err(SslError::WantRead | SslError::WantWrite) => {
                std::thread::sleep(Duration::from_millis(1))
            }
            // EOF after our close_notify: the client just closed.
            Err(_) => return Ok(()),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests() {
        let (r, used) = take_request(b"\nGET /reneg HTTP/1.0\n\nrest").unwrap();
        let r = r.unwrap();
        assert_eq!((r.path.as_str(), r.keep_alive, used), ("/reneg", false, 22));
        let (r, _) = take_request(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        assert!(r.unwrap().keep_alive);
        let (r, _) = take_request(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n").unwrap();
        assert!(!r.unwrap().keep_alive);
        assert!(take_request(b"GET / HTTP/1.0\r\n").is_none());
        assert!(take_request(b"hello\n\n").unwrap().0.is_none());
    }
}
