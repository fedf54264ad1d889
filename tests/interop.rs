//! Interop against real `openssl s_server` and `openssl s_client` processes
//! on 127.0.0.1. Against s_server: rustls
//! does the handshake, then tlsrec takes the connection over
//! (`takeover::connect`: no user key-log code, no byte lost) and carries the traffic: an
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
//! The coalesced cases put a relay between the two (`common::takeover::Relay`)
//! that holds one direction and releases it in one write: OpenSSL's Finished
//! and its first data (TLS 1.2 server; resumed TLS 1.2 and TLS 1.3 clients),
//! or its tickets, two KeyUpdates (`k`, `K`) and data right after the
//! takeover (TLS 1.3 server, whose tickets only follow the client's
//! Finished) arrive as one segment, and every byte must come out in order.
//!
//! Needs the `rustls` feature and the `openssl` command (the README's test
//! command enables the feature; `.ci/run` installs openssl when missing).
#![cfg(feature = "rustls")]

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use common::takeover::{client_config, identity, localhost, server_config, Relay, DEADLINE};
use tlsrec::io::SslStream;
use tlsrec::takeover::{self, Accepted};
use tlsrec::{AlertDescription, Config, Error, SslError};

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
        // Not a port-0 probe: a relay's listener could take it before
        // s_server binds it (common::s_server_port).
        let port = common::s_server_port();
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

/// rustls does the handshake over `sock`, tlsrec carries the connection.
fn take_over(sock: TcpStream, tls13: bool, suite_code: u16) -> SslStream<TcpStream> {
    sock.set_read_timeout(Some(DEADLINE)).unwrap();
    let tls = takeover::connect(
        client_config(tls13, Some(suite_code)),
        localhost(),
        sock,
        Config::default(),
    )
    .expect("takeover");
    assert_eq!(tls.session().version(), Some(version(tls13)));
    tls
}

fn version(tls13: bool) -> tlsrec::Version {
    if tls13 {
        tlsrec::Version::Tls13
    } else {
        tlsrec::Version::Tls12
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
/// tlsrec continues as the server (rustls's tickets go out before).
fn take_over_as_server(sock: TcpStream, tls13: bool, suite_code: u16) -> SslStream<TcpStream> {
    sock.set_read_timeout(Some(DEADLINE)).unwrap();
    match takeover::accept(
        server_config(tls13, Some(suite_code)),
        sock,
        Config::default(),
    )
    .expect("takeover")
    {
        Accepted::Tls(tls) => tls,
        Accepted::NotTls { first_bytes, .. } => panic!("s_client sent {first_bytes:?}"),
    }
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

// ---------------------------------------------------------------------------
// OpenSSL's records coalesced at the seam of the takeover
// ---------------------------------------------------------------------------

fn connect_port(port: u16) -> TcpStream {
    TcpStream::connect(("127.0.0.1", port)).unwrap()
}

/// TLS 1.2, tlsrec as the client: s_server's CCS + Finished are held by the
/// relay until the data typed into s_server is behind them; the takeover
/// gets both in one read, and the data must reach tlsrec.
#[test]
fn s_server_tls12_finished_and_data_in_one_segment() {
    let mut server = Server::start(false, "ECDHE-ECDSA-AES128-GCM-SHA256", true);
    let relay = Relay::start(server.port, true, 1);
    let port = relay.port;
    let taking = std::thread::spawn(move || take_over(connect_port(port), false, 0xc02b));
    let held = relay.wait_held_more_than(0);
    let first = b"first data from s_server\n";
    server.type_in(first);
    relay.wait_held_more_than(held);
    relay.release();
    let mut tls = taking.join().unwrap();
    assert!(
        tls.session().unread_input() > 0,
        "the data did not come with the Finished: nothing tested"
    );
    assert_eq!(read_exactly(&mut tls, first.len()), first);
    tls.write_all(b"reply from tlsrec\n").unwrap();
    tls.flush().unwrap();
    server.expect_stdout(b"reply from tlsrec\n");
    drop(server.stdin.take());
    let mut rest = Vec::new();
    assert_eq!(tls.read_to_end(&mut rest).unwrap(), 0, "close_notify");
    assert_eq!(tls.shutdown(), Ok(true));
}

/// TLS 1.3, tlsrec as the client: s_server's tickets, a KeyUpdate (`k`), a
/// KeyUpdate asking for ours (`K`) and data arrive in one segment right
/// after the takeover; tlsrec follows both updates with the secrets the
/// takeover collected and answers the request.
#[test]
fn s_server_tls13_tickets_key_updates_and_data_right_after_takeover() {
    let mut server = Server::start(true, "TLS_AES_128_GCM_SHA256", false);
    let relay = Relay::start(server.port, true, 1);
    let mut tls = take_over(connect_port(relay.port), true, 0x1301);
    let (read_epoch, write_epoch) = (
        tls.session().opener().epoch(),
        tls.session().sealer().epoch(),
    );
    // OpenSSL 3.0 sends two tickets; then each command and the data add
    // one record, all held until the release.
    relay.wait_held_records(2);
    for (command, records) in [(&b"k\n"[..], 3), (b"K\n", 4)] {
        std::thread::sleep(Duration::from_millis(100));
        server.type_in(command);
        relay.wait_held_records(records);
    }
    std::thread::sleep(Duration::from_millis(100));
    let data = b"data under s_server's third key\n";
    server.type_in(data);
    relay.wait_held_records(5);
    relay.release();
    assert_eq!(read_exactly(&mut tls, data.len()), data);
    assert_eq!(
        tls.session().opener().epoch(),
        read_epoch + 2,
        "two KeyUpdates followed"
    );
    tls.write_all(b"reply under our next key\n").unwrap();
    tls.flush().unwrap();
    server.expect_stdout(b"reply under our next key\n");
    assert_eq!(
        tls.session().sealer().epoch(),
        write_epoch + 1,
        "our KeyUpdate answered K"
    );
    assert_eq!(tls.shutdown(), Ok(false));
    let mut rest = [0u8; 16];
    assert_eq!(tls.read(&mut rest).unwrap(), 0, "the peer's close_notify");
    assert_eq!(tls.shutdown(), Ok(true));
}

fn s_client(port: u16, tls13: bool, suite: &str, extra: &[&str]) -> Server {
    let mut cmd = Command::new("openssl");
    cmd.args(["s_client", "-connect", &format!("127.0.0.1:{port}")])
        .args(["-servername", "localhost", "-no_ign_eof"])
        .args(extra);
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
        .expect("openssl s_client");
    Server::wrap(child, port)
}

/// tlsrec as the server behind a relay that holds s_client's Finished until
/// the line typed into s_client is behind it; returns the connection and
/// s_client.
fn accept_coalesced(
    scfg: std::sync::Arc<rustls::ServerConfig>,
    tls13: bool,
    suite: &str,
    extra: &[&str],
    line: &[u8],
) -> (SslStream<TcpStream>, Server) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let relay = Relay::start(listener.local_addr().unwrap().port(), false, 1);
    let mut peer = s_client(relay.port, tls13, suite, extra);
    let (sock, _) = listener.accept().unwrap();
    sock.set_read_timeout(Some(DEADLINE)).unwrap();
    let taking = std::thread::spawn(move || {
        match takeover::accept(scfg, sock, Config::default()).expect("takeover") {
            Accepted::Tls(tls) => tls,
            Accepted::NotTls { first_bytes, .. } => panic!("s_client sent {first_bytes:?}"),
        }
    });
    let held = relay.wait_held_more_than(0); // the client's Finished
    peer.type_in(line);
    relay.wait_held_more_than(held);
    relay.release();
    let mut tls = taking.join().unwrap();
    assert!(
        tls.session().unread_input() > 0,
        "the line did not come with the Finished: nothing tested"
    );
    assert_eq!(read_exactly(&mut tls, line.len()), line);
    (tls, peer)
}

fn reply_and_close(mut tls: SslStream<TcpStream>, mut peer: Server) {
    tls.write_all(b"reply from tlsrec\n").unwrap();
    tls.flush().unwrap();
    peer.expect_stdout(b"reply from tlsrec\n");
    assert_eq!(tls.shutdown(), Ok(false));
    let start = Instant::now();
    while peer.child.try_wait().unwrap().is_none() {
        assert!(start.elapsed() < DEADLINE, "s_client did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn s_client_tls13_finished_and_data_in_one_segment() {
    let line = b"first line from s_client\n";
    let scfg = server_config(true, Some(0x1301));
    let (tls, peer) = accept_coalesced(scfg, true, "TLS_AES_128_GCM_SHA256", &[], line);
    reply_and_close(tls, peer);
}

/// TLS 1.2: the client's Finished comes last only in a resumed handshake,
/// so s_client first makes a session with tlsrec's server, then resumes it.
#[test]
fn s_client_tls12_resumed_finished_and_data_in_one_segment() {
    let suite = "ECDHE-ECDSA-AES128-GCM-SHA256";
    let scfg = server_config(false, Some(0xc02b));
    let sess = std::env::temp_dir().join(format!("tlsrec-interop-sess-{}", std::process::id()));
    let _ = std::fs::remove_file(&sess);
    let sess_arg = sess.to_str().unwrap();

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut first = s_client(
        listener.local_addr().unwrap().port(),
        false,
        suite,
        &["-sess_out", sess_arg],
    );
    let (sock, _) = listener.accept().unwrap();
    sock.set_read_timeout(Some(DEADLINE)).unwrap();
    let Accepted::Tls(mut tls) =
        takeover::accept(scfg.clone(), sock, Config::default()).expect("takeover")
    else {
        panic!("not TLS");
    };
    first.expect_stdout(b"New, TLSv1.2");
    let start = Instant::now();
    while std::fs::metadata(&sess).map_or(true, |m| m.len() == 0) {
        assert!(start.elapsed() < DEADLINE, "s_client wrote no session");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(tls.shutdown(), Ok(false));
    drop(first);

    let (tls, mut peer) = accept_coalesced(
        scfg,
        false,
        suite,
        &["-sess_in", sess_arg],
        b"line on a resumed session\n",
    );
    peer.expect_stdout(b"Reused, TLSv1.2");
    reply_and_close(tls, peer);
    let _ = std::fs::remove_file(&sess);
}
