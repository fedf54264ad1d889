//! `tlsrec connect` and `tlsrec serve` with live peers on 127.0.0.1:
//! `openssl s_server -www` and `openssl s_client` (the system OpenSSL 3),
//! and each other. Certificates (a P-256 CA, RSA 2048 and P-256 leaves for
//! `localhost`) are made by the `openssl` command in a temp folder. Every
//! process ends by itself (`-naccept 1`, `--once`, `--max-connections`,
//! `--timeout`); a process still running at a test's deadline is killed
//! (by its own handle) and the test fails.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const DEADLINE: Duration = Duration::from_secs(60);

fn have_openssl() -> bool {
    Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
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

/// The certificates, made once per test process: `ca.pem`, and `rsa` /
/// `ec` leaves (`.pem`, `.key`) for DNS name localhost.
fn pki() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("tlsrec-connect-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
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
            ("rsa", &["-newkey", "rsa:2048"][..]),
        ] {
            let (keyout, csr, out) = (
                format!("{name}.key"),
                format!("{name}.csr"),
                format!("{name}.pem"),
            );
            let mut args = vec!["req"];
            args.extend_from_slice(key);
            args.extend_from_slice(&[
                "-nodes", "-subj", "/CN=localhost", "-keyout", &keyout, "-out", &csr,
            ]);
            openssl(&args, &dir);
            openssl(
                &[
                    "x509", "-req", "-in", &csr, "-CA", "ca.pem", "-CAkey", "ca.key",
                    "-CAcreateserial", "-days", "2", "-extfile", "leaf.ext", "-out", &out,
                ],
                &dir,
            );
        }
        dir
    })
}

fn file(name: &str) -> String {
    pki().join(name).display().to_string()
}

/// A port for an `openssl s_server`, below the kernel's ephemeral range
/// (32768 and up): a port-0 probe could be taken by another test's listener
/// before s_server binds it (as the root tests' `common::s_server_port`).
fn free_port() -> u16 {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let base = 10_000 + (std::process::id() as usize * 89) % 20_000;
    loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let port = (10_000 + (base + n * 11) % 22_000) as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// A child process (killed by its handle if still running when dropped)
/// and its output lines, stdout and stderr, as they come.
struct Proc {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Proc {
    fn spawn(mut cmd: Command) -> Proc {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let (tx, rx) = mpsc::channel();
        let out: Box<dyn Read + Send> = Box::new(child.stdout.take().unwrap());
        let err: Box<dyn Read + Send> = Box::new(child.stderr.take().unwrap());
        for r in [out, err] {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(r).lines() {
                    let Ok(line) = line else { break };
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        Proc {
            stdin: child.stdin.take(),
            child,
            lines: rx,
            seen: Vec::new(),
        }
    }

    /// Waits for a line containing `want`; returns it.
    fn expect(&mut self, want: &str) -> String {
        let start = Instant::now();
        if let Some(l) = self.seen.iter().find(|l| l.contains(want)) {
            return l.clone();
        }
        loop {
            let left = DEADLINE.saturating_sub(start.elapsed());
            match self.lines.recv_timeout(left) {
                Ok(l) => {
                    self.seen.push(l.clone());
                    if l.contains(want) {
                        return l;
                    }
                }
                Err(e) => panic!(
                    "no line with {want:?} ({e}); saw:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    fn type_in(&mut self, s: &str) {
        let w = self.stdin.as_mut().unwrap();
        w.write_all(s.as_bytes()).unwrap();
        w.flush().unwrap();
    }

    /// Every line until the process exits, and its exit code.
    fn finish(&mut self) -> (Vec<String>, Option<i32>) {
        let start = Instant::now();
        loop {
            let left = DEADLINE.saturating_sub(start.elapsed());
            match self.lines.recv_timeout(left) {
                Ok(l) => self.seen.push(l),
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
                Err(e) => panic!("did not exit ({e}); saw:\n{}", self.seen.join("\n")),
            }
        }
        let code = self.child.wait().unwrap().code();
        (std::mem::take(&mut self.seen), code)
    }
}

/// `openssl s_server -tls1_2 -www` on a free port, one connection, ready.
fn s_server(cert: &str, extra: &[&str]) -> (Proc, u16) {
    let port = free_port();
    let mut cmd = Command::new("openssl");
    cmd.args(["s_server", "-accept", &format!("127.0.0.1:{port}")])
        .args(["-cert", &file(&format!("{cert}.pem"))])
        .args(["-key", &file(&format!("{cert}.key"))])
        .args(["-www", "-naccept", "1"])
        .args(extra);
    let mut p = Proc::spawn(cmd);
    p.expect("ACCEPT");
    (p, port)
}

/// `tlsrec serve` on a port it picks, ready; its port.
fn serve(cert: &str, extra: &[&str]) -> (Proc, u16) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tlsrec"));
    cmd.args(["serve", "--port", "0", "--timeout", "20"])
        .args(["--cert", &file(&format!("{cert}.pem"))])
        .args(["--key", &file(&format!("{cert}.key"))])
        .args(extra);
    let mut p = Proc::spawn(cmd);
    let line = p.expect("listening on");
    let port = line
        .split("listening on 127.0.0.1:")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {line:?}"));
    (p, port)
}

/// `tlsrec connect ARGS` to completion (killed at the deadline): the
/// output, with stdin closed.
fn connect(args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tlsrec"))
        .arg("connect")
        .args(args)
        .args(["--timeout", "20"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run tlsrec");
    // Both pipes drained as the output comes (a full pipe would stop it).
    let drain = |r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut r = r;
            let mut v = Vec::new();
            let _ = r.read_to_end(&mut v);
            v
        })
    };
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!("tlsrec connect did not end: {}", text(&err.join().unwrap()));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

fn addr(port: u16) -> String {
    format!("127.0.0.1:{port}")
}

/// The summary's value for `key` ("renegotiations: 3 (...)" -> "3 (...)").
fn summary<'a>(stderr: &'a str, key: &str) -> &'a str {
    let prefix = format!("{key}: ");
    stderr
        .lines()
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .unwrap_or_else(|| panic!("no {key:?} in the summary:\n{stderr}"))
}

/// (a) Three renegotiations against `s_server -www -client_renegotiation`.
fn renegotiate_3_against_s_server(cert: &str, suite_word: &str) {
    if !have_openssl() {
        eprintln!("skipped: no openssl command");
        return;
    }
    let (mut server, port) = s_server(cert, &["-tls1_2", "-client_renegotiation"]);
    let o = connect(&[
        &addr(port),
        "--cafile",
        &file("ca.pem"),
        "--servername",
        "localhost",
        "--http-get",
        "/",
        "--renegotiate",
        "3",
    ]);
    let (out, err) = (text(&o.stdout), text(&o.stderr));
    assert_eq!(o.status.code(), Some(0), "stderr:\n{err}");
    assert!(out.starts_with("HTTP/1.0 200 ok"), "the page: {out}");
    assert!(out.contains("Secure Renegotiation IS supported"), "{out}");
    assert!(
        summary(&err, "renegotiations").starts_with("3 (3 started by tlsrec"),
        "{err}"
    );
    assert_eq!(summary(&err, "ended"), "close_notify");
    assert_eq!(summary(&err, "version"), "TLSv1.2");
    assert!(summary(&err, "suite").contains(suite_word), "{err}");
    let (lines, code) = server.finish();
    assert_eq!(code, Some(0));
    // s_server's own count of the renegotiations it served.
    assert!(
        lines
            .iter()
            .any(|l| l.trim() == "3 server renegotiates (SSL_accept())"),
        "{lines:?}"
    );
}

#[test]
fn connect_renegotiates_3_times_with_s_server_rsa() {
    renegotiate_3_against_s_server("rsa", "ECDHE_RSA");
}

#[test]
fn connect_renegotiates_3_times_with_s_server_ecdsa() {
    renegotiate_3_against_s_server("ec", "ECDHE_ECDSA");
}

/// s_server's `GET /reneg` renegotiates from the server side; the summary
/// counts it as the server's. The request line alone: with the blank line
/// already in s_server's buffer, it sends the page before the
/// renegotiation runs, then closes.
#[test]
fn connect_follows_s_server_renegotiation() {
    if !have_openssl() {
        return;
    }
    let (mut server, port) = s_server("ec", &["-tls1_2"]);
    let o = connect(&[
        &addr(port),
        "--cafile",
        &file("ca.pem"),
        "--servername",
        "localhost",
        "--request",
        "GET /reneg HTTP/1.0\\r\\n",
    ]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(text(&o.stdout).starts_with("HTTP/1.0 200 ok"));
    assert_eq!(
        summary(&err, "renegotiations"),
        "1 (0 started by tlsrec, 1 by the server)"
    );
    server.finish();
}

/// (b) `openssl s_client -tls1_2` against `tlsrec serve`: `R` renegotiates,
/// then a request gets its page, which counts the renegotiation.
#[test]
fn s_client_renegotiates_with_serve_and_keeps_talking() {
    if !have_openssl() {
        return;
    }
    for cert in ["rsa", "ec"] {
        let (mut server, port) = serve(cert, &["--once"]);
        let mut client = Proc::spawn({
            let mut c = Command::new("openssl");
            c.args(["s_client", "-connect", &addr(port), "-tls1_2"])
                .args(["-servername", "localhost", "-CAfile", &file("ca.pem")]);
            c
        });
        server.expect("handshake done: TLSv1.2");
        client.expect("Verification: OK");
        // A command is a read of its own: typed alone, with pauses.
        std::thread::sleep(Duration::from_millis(300));
        client.type_in("R\n");
        server.expect("renegotiation by the client done (handshake 2");
        client.type_in("GET /after-R HTTP/1.0\n\n");
        client.expect("handshakes: 2 (renegotiations: 1)");
        let (lines, _) = client.finish();
        let page = lines.join("\n");
        assert!(page.contains("request 1: GET /after-R HTTP/1.0"), "{page}");
        let (log, code) = server.finish();
        assert_eq!(code, Some(0), "{log:?}");
        assert!(
            log.iter()
                .any(|l| l.contains("closed: response sent, close_notify both ways")),
            "{log:?}"
        );
    }
}

/// `tlsrec serve --no-client-renegotiation` answers s_client's `R` with a
/// warning no_renegotiation, which OpenSSL's client takes as fatal
/// (handshake_failure); `tlsrec connect --renegotiate 1` too.
#[test]
fn serve_can_refuse_client_renegotiation() {
    if !have_openssl() {
        return;
    }
    let (mut server, port) = serve(
        "ec",
        &["--max-connections", "2", "--no-client-renegotiation"],
    );
    assert!(server
        .expect("listening on")
        .contains("client renegotiation refused"));
    let mut client = Proc::spawn({
        let mut c = Command::new("openssl");
        c.args(["s_client", "-connect", &addr(port), "-tls1_2"])
            .args(["-servername", "localhost", "-CAfile", &file("ca.pem")]);
        c
    });
    server.expect("conn 1 127.0.0.1");
    server.expect("handshake done");
    client.expect("Verification: OK");
    std::thread::sleep(Duration::from_millis(300));
    client.type_in("R\n");
    client.expect("no renegotiation");
    server.expect("closed: fatal alert handshake_failure from the peer");
    client.finish();
    let o = connect(&[
        &addr(port),
        "--cafile",
        &file("ca.pem"),
        "--servername",
        "localhost",
        "--http-get",
        "/",
        "--renegotiate",
        "1",
    ]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(summary(&err, "renegotiations").starts_with("0 "), "{err}");
    let (log, _) = server.finish();
    assert!(
        !log.iter().any(|l| l.contains("renegotiation by")),
        "{log:?}"
    );
}

/// (c) `--trace` shows each record as `tlsrec decode` does, decrypted
/// with the connection's own secrets, renegotiations included; (e)
/// `GET /reneg` of `tlsrec serve` renegotiates from the server.
#[test]
fn connect_to_serve_reneg_with_trace() {
    if !have_openssl() {
        return;
    }
    let (mut server, port) = serve("rsa", &["--once"]);
    let o = connect(&[
        &addr(port),
        "--cafile",
        &file("ca.pem"),
        "--servername",
        "localhost",
        "--http-get",
        "/reneg",
        "--renegotiate",
        "2",
        "--trace",
    ]);
    let (out, err) = (text(&o.stdout), text(&o.stderr));
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(out.starts_with("HTTP/1.0 200 OK"), "{out}");
    assert!(
        out.contains("renegotiation started by the server: done (handshake 4)"),
        "{out}"
    );
    assert!(out.contains("handshakes: 4 (renegotiations: 3)"), "{out}");
    assert_eq!(
        summary(&err, "renegotiations"),
        "3 (2 started by tlsrec, 1 by the server)"
    );
    let trace: Vec<&str> = err
        .lines()
        .skip_while(|l| !l.starts_with("--- tlsrec connect trace"))
        .take_while(|l| !l.starts_with("--- tlsrec connect summary"))
        .collect();
    let count = |what: &str| trace.iter().filter(|l| l.ends_with(what)).count();
    // Four handshakes: four ClientHellos and Finished each way; the
    // server's renegotiation starts with its HelloRequest.
    assert_eq!(count("ClientHello"), 4, "{err}");
    assert_eq!(count("Finished"), 8, "{err}");
    assert_eq!(count("HelloRequest"), 1, "{err}");
    assert_eq!(count("alert warning close_notify"), 2, "{err}");
    assert!(
        trace
            .iter()
            .any(|l| l.starts_with("c2s") && l.contains("epoch 3")),
        "{err}"
    );
    assert!(
        !err.contains("trace: "),
        "a record the trace could not open: {err}"
    );
    server.finish();
}

/// (e) A download from `tlsrec serve` with a renegotiation every 256 KB
/// of data, byte-exact; the key log written with `--keylog` has a line
/// per handshake. (Not 8 MB / 256 KB of them: one runs at a time, and the
/// socket buffers hold data the client reads before the server's answer.)
#[test]
fn connect_renegotiates_while_serve_sends() {
    if !have_openssl() {
        return;
    }
    let (mut server, port) = serve("ec", &["--once"]);
    let keylog = pki().join("download.keylog");
    let o = connect(&[
        &addr(port),
        "--cafile",
        &file("ca.pem"),
        "--servername",
        "localhost",
        "--http-get",
        "/bytes/8000000",
        "--renegotiate-every",
        "262144",
        "--keylog",
        &keylog.display().to_string(),
    ]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    let body_at = o.stdout.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let body = &o.stdout[body_at..];
    assert_eq!(body.len(), 8_000_000);
    assert!(body
        .iter()
        .enumerate()
        .all(|(i, &b)| b == tlsrec_cli::serve::pattern_byte(i as u64)));
    let renegs: u64 = summary(&err, "renegotiations")
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(renegs >= 3, "{err}");
    let lines = std::fs::read_to_string(&keylog).unwrap();
    assert_eq!(lines.lines().count() as u64, renegs + 1, "{lines}");
    assert!(lines.lines().all(|l| l.starts_with("CLIENT_RANDOM ")));
    let (log, _) = server.finish();
    assert!(
        log.iter()
            .filter(|l| l.contains("renegotiation by the client done"))
            .count() as u64
            == renegs,
        "{log:?}"
    );
}

/// TLS 1.3 (rustls's handshake, then tlsrec) against `s_server -www`, with
/// two KeyUpdates, traced.
#[test]
fn connect_tls13_key_updates_with_s_server() {
    if !have_openssl() {
        return;
    }
    let (mut server, port) = s_server("ec", &["-tls1_3"]);
    let o = connect(&[
        &addr(port),
        "--tls1_3",
        "--cafile",
        &file("ca.pem"),
        "--servername",
        "localhost",
        "--http-get",
        "/",
        "--key-update",
        "2",
        "--trace",
    ]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(text(&o.stdout).starts_with("HTTP/1.0 200 ok"));
    assert_eq!(summary(&err, "version"), "TLSv1.3");
    assert_eq!(summary(&err, "key updates"), "2 sent");
    assert_eq!(
        err.lines()
            .filter(|l| l.starts_with("c2s") && l.ends_with("KeyUpdate(update_requested)"))
            .count(),
        2,
        "{err}"
    );
    assert!(!err.contains("trace: "), "{err}");
    server.finish();
}

/// (d) Errors: exit code and a message naming the problem.
#[test]
fn connect_and_serve_errors() {
    if !have_openssl() {
        return;
    }
    let check = |o: &Output, code: i32, says: &str| {
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(code), "{err}");
        assert!(err.contains(says), "expected {says:?} in: {err}");
    };
    // A bad address: usage (2).
    check(
        &connect(&["localhost", "--insecure"]),
        2,
        "bad address \"localhost\": no port",
    );
    check(
        &connect(&["127.0.0.1:http", "--insecure"]),
        2,
        "is not a number",
    );
    // Nothing listening: 3.
    let port = free_port();
    check(
        &connect(&[&addr(port), "--insecure"]),
        3,
        "Connection refused",
    );
    // A CA file that does not exist: 2.
    check(
        &connect(&["127.0.0.1:1", "--cafile", "/nonexistent/ca.pem"]),
        2,
        "--cafile /nonexistent/ca.pem",
    );
    // The wrong CA (the server's own leaf as the only root): 4, unknown_ca.
    let (mut server, port) = s_server("ec", &["-tls1_2"]);
    let o = connect(&[
        &addr(port),
        "--cafile",
        &file("rsa.pem"),
        "--servername",
        "localhost",
    ]);
    check(&o, 4, "the server's certificate was not accepted");
    assert!(text(&o.stderr).contains("unknown_ca"));
    server.finish();
    // The right CA but a name the certificate does not have: 4.
    let (mut server, port) = s_server("ec", &["-tls1_2"]);
    let o = connect(&[&addr(port), "--cafile", &file("ca.pem")]);
    check(&o, 4, "the server's certificate was not accepted");
    server.finish();
    // TLS 1.3 only server, TLS 1.2 client: a handshake alert, 5.
    let (mut server, port) = s_server("ec", &["-tls1_3"]);
    let o = connect(&[
        &addr(port),
        "--cafile",
        &file("ca.pem"),
        "--servername",
        "localhost",
    ]);
    check(&o, 5, "handshake failed: fatal alert protocol_version");
    server.finish();
    // Flags that do not fit the version: 2.
    check(
        &connect(&[
            "127.0.0.1:1",
            "--tls1_3",
            "--renegotiate",
            "1",
            "--insecure",
        ]),
        2,
        "TLS 1.3 has no renegotiation",
    );

    let serve_out = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_tlsrec"))
            .arg("serve")
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    // A certificate file that does not exist, one without a certificate,
    // a key file without a key: 2.
    check(
        &serve_out(&[
            "--port",
            "0",
            "--cert",
            "/nonexistent.pem",
            "--key",
            &file("ec.key"),
        ]),
        2,
        "--cert /nonexistent.pem",
    );
    check(
        &serve_out(&[
            "--port",
            "0",
            "--cert",
            &file("ec.key"),
            "--key",
            &file("ec.key"),
        ]),
        2,
        "an identity needs a certificate",
    );
    check(
        &serve_out(&[
            "--port",
            "0",
            "--cert",
            &file("ec.pem"),
            "--key",
            &file("ec.pem"),
        ]),
        2,
        "no readable PEM private key",
    );
    // A key that is not the certificate's (RSA for an ECDSA certificate, and
    // the CA's P-256 key for a P-256 leaf): 2, before listening.
    for key in ["rsa.key", "ca.key"] {
        check(
            &serve_out(&[
                "--port",
                "0",
                "--cert",
                &file("ec.pem"),
                "--key",
                &file(key),
            ]),
            2,
            "the private key does not match the certificate's public key (key values mismatch)",
        );
    }
    // A port in use: 3.
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let p = taken.local_addr().unwrap().port().to_string();
    check(
        &serve_out(&[
            "--port",
            &p,
            "--cert",
            &file("ec.pem"),
            "--key",
            &file("ec.key"),
        ]),
        3,
        "cannot listen on 127.0.0.1:",
    );
}

/// `--cert` / `--key`: a client certificate for a server that requires
/// one (`s_server -Verify 1`, which puts it in its page), TLS 1.2 and 1.3;
/// without one, s_server's handshake_failure (exit 5).
#[test]
fn connect_with_client_certificate() {
    if !have_openssl() {
        return;
    }
    let verify = ["-Verify", "1", "-CAfile"];
    for version in ["-tls1_2", "-tls1_3"] {
        let ca = file("ca.pem");
        let mut extra = verify.to_vec();
        extra.extend([ca.as_str(), version]);
        let (mut server, port) = s_server("rsa", &extra);
        let mut args = vec![
            addr(port),
            "--cafile".into(),
            ca.clone(),
            "--servername".into(),
            "localhost".into(),
            "--http-get".into(),
            "/".into(),
            "--cert".into(),
            file("ec.pem"),
            "--key".into(),
            file("ec.key"),
        ];
        if version == "-tls1_3" {
            args.push("--tls1_3".into());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = connect(&args);
        let (out, err) = (text(&o.stdout), text(&o.stderr));
        assert_eq!(o.status.code(), Some(0), "{version}: {err}");
        assert!(out.contains("Client certificate"), "{version}: {out}");
        server.finish();
    }
    let ca = file("ca.pem");
    let mut extra = verify.to_vec();
    extra.extend([ca.as_str(), "-tls1_2"]);
    let (mut server, port) = s_server("rsa", &extra);
    let o = connect(&[
        &addr(port),
        "--cafile",
        &ca,
        "--servername",
        "localhost",
        "--http-get",
        "/",
    ]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(5), "{err}");
    assert!(
        err.contains("handshake failed: fatal alert handshake_failure from the peer"),
        "{err}"
    );
    server.finish();
}

/// `tlsrec serve --tls1_3`: `GET /keyupdate` sends a KeyUpdate before the
/// page (seen in the client's trace), `GET /reneg` answers 400; `openssl
/// s_client -tls1_3` typing `K` (a KeyUpdate asking ours) keeps talking.
#[test]
fn serve_tls13_key_update() {
    if !have_openssl() {
        return;
    }
    let (mut server, port) = serve("ec", &["--tls1_3", "--max-connections", "3"]);
    let base = [
        addr(port),
        "--tls1_3".into(),
        "--cafile".into(),
        file("ca.pem"),
        "--servername".into(),
        "localhost".into(),
    ];
    let run = |extra: &[&str]| {
        let mut args: Vec<&str> = base.iter().map(String::as_str).collect();
        args.extend_from_slice(extra);
        connect(&args)
    };
    let o = run(&["--http-get", "/keyupdate", "--key-update", "1", "--trace"]);
    let (out, err) = (text(&o.stdout), text(&o.stderr));
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(out.contains("protocol: TLSv1.3"), "{out}");
    assert!(out.contains("keyupdate: sent before this page"), "{out}");
    let has = |dir: &str, what: &str| err.lines().any(|l| l.starts_with(dir) && l.ends_with(what));
    assert!(has("s2c", "KeyUpdate(update_requested)"), "{err}");
    assert!(has("c2s", "KeyUpdate(update_requested)"), "{err}");
    assert!(!err.contains("trace: "), "{err}");

    let o = run(&["--http-get", "/reneg"]);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(0));
    assert!(out.starts_with("HTTP/1.0 400 Bad Request"), "{out}");
    assert!(out.contains("TLS 1.3 has no renegotiation"), "{out}");

    let mut client = Proc::spawn({
        let mut c = Command::new("openssl");
        c.args(["s_client", "-connect", &addr(port), "-tls1_3"])
            .args(["-servername", "localhost", "-CAfile", &file("ca.pem")]);
        c
    });
    server.expect("conn 3 127.0.0.1");
    client.expect("Verification: OK");
    std::thread::sleep(Duration::from_millis(300));
    client.type_in("K\n");
    std::thread::sleep(Duration::from_millis(300));
    client.type_in("GET /after-K HTTP/1.0\n\n");
    client.expect("request 1: GET /after-K HTTP/1.0");
    client.finish();
    let (log, code) = server.finish();
    assert_eq!(code, Some(0), "{log:?}");
    assert!(
        log.iter()
            .any(|l| l.contains("conn 3") && l.contains("close_notify both ways")),
        "{log:?}"
    );
}

/// After a fatal alert `serve` closes by lingering: the alert, the end of
/// its stream, and then it goes on reading (and dropping) what the client
/// sends until the client closes. A server that closed its socket at once
/// would answer the client's next bytes with a reset (the client's second
/// write after that fails), and a reset can overtake an alert the client
/// has not read yet: tlsfuzzer saw abrupt closes where alerts were sent.
#[test]
fn serve_lingers_after_a_fatal_alert() {
    if !have_openssl() {
        return;
    }
    let (mut server, port) = serve("rsa", &["--once"]);
    let mut s = std::net::TcpStream::connect(addr(port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    // A ClientHello whose body (2 bytes) is cut short: decode_error.
    s.write_all(&[22, 3, 1, 0, 6, 1, 0, 0, 2, 3, 3]).unwrap();
    let mut got = Vec::new();
    s.read_to_end(&mut got).unwrap();
    assert_eq!(
        (got.first(), got.get(5), got.get(6)),
        (Some(&21), Some(&2), Some(&50)),
        "a fatal decode_error alert, then the end of the stream: {got:?}"
    );
    for round in 0..5 {
        std::thread::sleep(Duration::from_millis(100));
        s.write_all(&[23; 100])
            .unwrap_or_else(|e| panic!("write {round} after the alert: {e}"));
    }
    drop(s);
    let (log, code) = server.finish();
    assert_eq!(code, Some(0), "{log:?}");
    assert!(
        log.iter().any(|l| l.contains("sent alert decode_error")),
        "{log:?}"
    );
}
