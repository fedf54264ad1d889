//! `tlsrec::takeover` against rustls peers in this process, over loopback
//! TCP: the peer writes its Finished and its first application data (and,
//! for TLS 1.3, its tickets, a KeyUpdate and more data) in one segment, and
//! every byte must come out of tlsrec in order. Both roles, TLS 1.2 and 1.3,
//! blocking and tokio. Also: the refusals of `from_connection`, a KeyUpdate
//! without secrets, the default rustls builder with the feature on, and the
//! blind tunnel for first bytes that are not TLS.
//!
//! The OpenSSL side of the same cases is in `tests/interop.rs`.
#![cfg(feature = "rustls")]

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use common::takeover::{
    client_config, localhost, run_rustls_peer, server_config, tcp_pair, PeerScript,
};
use tlsrec::io::SslStream;
use tlsrec::takeover::{self, Accepted, TakeoverError};
use tlsrec::{Config, Error, Reason, SslError};

const FIRST: &[u8] = b"first data, right behind the Finished\n";
const AFTER_UPDATE: &[u8] = b"under the next key\n";
const REPLY: &[u8] = b"reply from tlsrec\n";

fn script(key_update: bool) -> PeerScript {
    PeerScript {
        first: FIRST.to_vec(),
        key_update,
        after_update: AFTER_UPDATE.to_vec(),
        expect: REPLY.len(),
    }
}

/// tlsrec's side after the takeover: the coalesced bytes are in the
/// session, every byte reads back in order, the reply reaches the peer, and
/// close_notify goes both ways.
fn carry(mut tls: SslStream<TcpStream>, key_update: bool) {
    assert!(
        tls.session().unread_input() > 0,
        "the peer's first data did not arrive with its Finished: nothing tested"
    );
    let mut got = vec![0u8; FIRST.len()];
    tls.read_exact(&mut got).expect("the first data");
    assert_eq!(got, FIRST);
    if key_update {
        let epoch = tls.session().opener().epoch();
        let mut got = vec![0u8; AFTER_UPDATE.len()];
        tls.read_exact(&mut got)
            .expect("data after the peer's KeyUpdate");
        assert_eq!(got, AFTER_UPDATE);
        assert!(
            tls.session().opener().epoch() > epoch,
            "a KeyUpdate followed"
        );
    }
    tls.write_all(REPLY).unwrap();
    tls.flush().unwrap();
    let mut rest = Vec::new();
    assert_eq!(
        tls.read_to_end(&mut rest).unwrap(),
        0,
        "the peer's close_notify"
    );
    assert_eq!(tls.shutdown(), Ok(true));
}

fn tlsrec_client(tls13: bool, suite: Option<u16>) {
    let (a, b) = tcp_pair();
    // TLS 1.3: the server's first data goes right behind its Finished only
    // as half-RTT data (TLS 1.2: it always does).
    let mut scfg = (*server_config(tls13, suite)).clone();
    scfg.send_half_rtt_data = true;
    let peer = std::thread::spawn(move || {
        let conn = rustls::ServerConnection::new(Arc::new(scfg)).unwrap();
        run_rustls_peer(conn, b, script(tls13))
    });
    let tls = takeover::connect(
        client_config(tls13, suite),
        localhost(),
        a,
        Config::default(),
    )
    .expect("takeover");
    carry(tls, tls13);
    assert_eq!(peer.join().unwrap().0, REPLY);
}

#[test]
fn client_tls13_server_finished_data_tickets_and_key_update_coalesced() {
    tlsrec_client(true, Some(0x1301));
}

#[test]
fn client_tls13_chacha20() {
    tlsrec_client(true, Some(0x1303));
}

#[test]
fn client_tls12_server_finished_and_data_coalesced() {
    tlsrec_client(false, Some(0xc02b));
}

fn tlsrec_server(tls13: bool, suite: Option<u16>) {
    let scfg = server_config(tls13, suite);
    let ccfg = client_config(tls13, suite);
    // TLS 1.2: the client's Finished comes last only when it resumes, so
    // one full handshake first; its session is resumed by the second.
    let rounds = if tls13 { 1 } else { 2 };
    for round in 0..rounds {
        let (a, b) = tcp_pair();
        let ccfg = ccfg.clone();
        let peer = std::thread::spawn(move || {
            let conn = rustls::ClientConnection::new(ccfg, localhost()).unwrap();
            run_rustls_peer(conn, a, script(tls13))
        });
        let Accepted::Tls(tls) =
            takeover::accept(scfg.clone(), b, Config::default()).expect("takeover")
        else {
            panic!("a TLS client taken for not TLS");
        };
        if round + 1 == rounds {
            carry(tls, tls13);
            let (got, resumed) = peer.join().unwrap();
            assert_eq!(got, REPLY);
            assert_eq!(resumed, !tls13, "TLS 1.2: the second handshake resumes");
        } else {
            drop(tls);
            let _ = peer.join();
        }
    }
}

#[test]
fn server_tls13_client_finished_data_and_key_update_coalesced() {
    tlsrec_server(true, Some(0x1302));
}

#[test]
fn server_tls12_resumed_client_finished_and_data_coalesced() {
    tlsrec_server(false, Some(0xc02c));
}

#[test]
fn tokio_both_roles() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        for tls13 in [true, false] {
            // tlsrec as the client.
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let port = l.local_addr().unwrap().port();
            let mut scfg = (*server_config(tls13, None)).clone();
            scfg.send_half_rtt_data = true;
            let peer = std::thread::spawn(move || {
                let (s, _) = l.accept().unwrap();
                s.set_read_timeout(Some(common::takeover::DEADLINE))
                    .unwrap();
                let conn = rustls::ServerConnection::new(Arc::new(scfg)).unwrap();
                run_rustls_peer(conn, s, script(false))
            });
            let sock = tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .unwrap();
            let cfg = Config {
                accept_moving_buffer: true,
                ..Config::default()
            };
            let mut tls = takeover::tokio::connect(
                client_config(tls13, None),
                localhost(),
                sock,
                cfg.clone(),
            )
            .await
            .expect("takeover");
            assert!(tls.session().unread_input() > 0, "coalesced");
            let mut got = vec![0u8; FIRST.len()];
            tls.read_exact(&mut got).await.unwrap();
            assert_eq!(got, FIRST);
            tls.write_all(REPLY).await.unwrap();
            tls.flush().await.unwrap();
            let mut rest = Vec::new();
            assert_eq!(tls.read_to_end(&mut rest).await.unwrap(), 0);
            tls.shutdown().await.unwrap();
            assert_eq!(peer.join().unwrap().0, REPLY);

            // tlsrec as the server (TLS 1.3: the client's Finished and data
            // in one segment).
            if tls13 {
                let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                let port = l.local_addr().unwrap().port();
                let ccfg = client_config(true, None);
                let peer = std::thread::spawn(move || {
                    let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
                    s.set_read_timeout(Some(common::takeover::DEADLINE))
                        .unwrap();
                    let conn = rustls::ClientConnection::new(ccfg, localhost()).unwrap();
                    run_rustls_peer(conn, s, script(true))
                });
                let (sock, _) = l.accept().await.unwrap();
                let Accepted::Tls(mut tls) =
                    takeover::tokio::accept(server_config(true, None), sock, cfg.clone())
                        .await
                        .expect("takeover")
                else {
                    panic!("not TLS");
                };
                assert!(tls.session().unread_input() > 0, "coalesced");
                let mut got = vec![0u8; FIRST.len() + AFTER_UPDATE.len()];
                tls.read_exact(&mut got).await.unwrap();
                assert_eq!(got, [FIRST, AFTER_UPDATE].concat());
                tls.write_all(REPLY).await.unwrap();
                tls.flush().await.unwrap();
                assert_eq!(tls.read_to_end(&mut rest).await.unwrap(), 0);
                tls.shutdown().await.unwrap();
                assert_eq!(peer.join().unwrap().0, REPLY);
            }
        }
    });
}

// ---------------------------------------------------------------------------
// Callers who drive rustls themselves
// ---------------------------------------------------------------------------

/// A server handshake driven by the caller: `whole` gives rustls every byte
/// as it arrives (what `complete_io` does); otherwise one whole record at a
/// time, stopping after the handshake's last. Returns the connection and
/// the bytes read but not given to rustls.
fn drive_server(
    cfg: rustls::ServerConfig,
    sock: &mut TcpStream,
    whole: bool,
) -> (rustls::ServerConnection, Vec<u8>) {
    let mut conn = rustls::ServerConnection::new(Arc::new(cfg)).unwrap();
    let mut pending = Vec::new();
    let mut buf = [0u8; 65536];
    while conn.is_handshaking() {
        while conn.wants_write() {
            conn.write_tls(sock).unwrap();
        }
        let complete = pending.len() >= 5
            && pending.len() >= 5 + u16::from_be_bytes([pending[3], pending[4]]) as usize;
        if !complete {
            let n = sock.read(&mut buf).unwrap();
            assert!(n > 0, "EOF in the handshake");
            pending.extend_from_slice(&buf[..n]);
            continue;
        }
        let take = if whole {
            pending.len()
        } else {
            5 + u16::from_be_bytes([pending[3], pending[4]]) as usize
        };
        let mut rd = &pending[..take];
        while !rd.is_empty() {
            conn.read_tls(&mut rd).unwrap();
        }
        pending.drain(..take);
        conn.process_new_packets().unwrap();
    }
    while conn.wants_write() {
        conn.write_tls(sock).unwrap();
    }
    (conn, pending)
}

fn coalescing_client(
    sock: TcpStream,
    key_update: bool,
) -> std::thread::JoinHandle<(Vec<u8>, bool)> {
    std::thread::spawn(move || {
        let conn = rustls::ClientConnection::new(client_config(true, None), localhost()).unwrap();
        run_rustls_peer(conn, sock, script(key_update))
    })
}

#[test]
fn from_connection_refuses_a_connection_that_decrypted_application_data() {
    let (a, mut b) = tcp_pair();
    let peer = coalescing_client(a, false);
    let mut cfg = (*server_config(true, None)).clone();
    let log = takeover::TrafficSecrets::install_server(&mut cfg);
    let (conn, rest) = drive_server(cfg, &mut b, true);
    match takeover::from_connection(conn, &rest, Some(&log), Config::default()) {
        Err(TakeoverError::AlreadyDecrypted { bytes }) => assert_eq!(bytes, FIRST.len()),
        other => panic!("{other:?}"),
    }
    drop(b);
    let _ = peer.join();
}

#[test]
fn the_old_handoff_loses_the_coalesced_data() {
    // What examples/rustls_handoff.rs did before: rustls reads everything
    // it is given, the keys are extracted, the session starts after the
    // data. The request never reaches tlsrec: this is the bug the takeover
    // fixes, and proof that the peer really coalesces.
    let (a, mut b) = tcp_pair();
    let peer = coalescing_client(a, false);
    let mut cfg = (*server_config(true, None)).clone();
    cfg.enable_secret_extraction = true;
    let (mut conn, rest) = drive_server(cfg, &mut b, true);
    assert!(rest.is_empty());
    let mut lost = vec![0u8; 256];
    let n = conn.reader().read(&mut lost).unwrap();
    assert_eq!(&lost[..n], FIRST, "rustls decrypted it");
    let suite = conn.negotiated_cipher_suite().unwrap();
    let est = tlsrec::import::from_rustls(suite, conn.dangerous_extract_secrets().unwrap(), None)
        .unwrap();
    let session = tlsrec::Session::server_from_established(est, Config::default()).unwrap();
    b.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut tls = SslStream::new(session, b);
    let mut buf = [0u8; 64];
    assert_eq!(
        tls.ssl_read(&mut buf),
        Err(SslError::WantRead),
        "nothing comes"
    );
    drop(tls);
    let _ = peer.join();
}

#[test]
fn from_connection_with_leftovers_and_no_secrets_fails_at_the_key_update() {
    let (a, mut b) = tcp_pair();
    let peer = coalescing_client(a, true);
    let mut cfg = (*server_config(true, None)).clone();
    cfg.enable_secret_extraction = true;
    let (conn, rest) = drive_server(cfg, &mut b, false);
    assert!(!rest.is_empty(), "coalesced");
    let session = takeover::from_connection(conn, &rest, None, Config::default()).unwrap();
    let mut tls = SslStream::new(session, b);
    let mut got = vec![0u8; FIRST.len()];
    tls.read_exact(&mut got).unwrap();
    assert_eq!(got, FIRST, "the leftover bytes were read");
    let mut buf = [0u8; 64];
    match tls.ssl_read(&mut buf) {
        Err(SslError::Ssl(e)) => {
            assert_eq!(e.reason(), Some(Reason::NoTrafficSecret), "{e}");
            assert!(matches!(e, Error::Misuse { .. }));
        }
        other => panic!("{other:?}"),
    }
    drop(tls);
    let _ = peer.join();
}

#[test]
fn from_connection_refuses_a_handshake_in_progress_and_unsent_records() {
    let cfg = client_config(true, None);
    let conn = rustls::ClientConnection::new(cfg, localhost()).unwrap();
    assert!(matches!(
        takeover::from_connection(conn, &[], None, Config::default()),
        Err(TakeoverError::StillHandshaking)
    ));
}

/// The `rustls` feature turns on no provider: rustls's default builder
/// finds exactly one (the test build's ring) and does not panic, and the
/// takeover runs with the config it builds. (The benchmarks' `bench-peers`
/// feature lives in cli/ and is not part of a `cargo test` build.)
#[test]
fn rustls_default_builder_works_with_the_feature_on() {
    let p = Arc::new(rustls::crypto::ring::default_provider());
    let ccfg = rustls::ClientConfig::builder()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(common::takeover::AnyCert(p)))
        .with_no_client_auth();
    let (a, b) = tcp_pair();
    let mut scfg = (*server_config(true, None)).clone();
    scfg.send_half_rtt_data = true;
    let peer = std::thread::spawn(move || {
        let conn = rustls::ServerConnection::new(Arc::new(scfg)).unwrap();
        run_rustls_peer(conn, b, script(false))
    });
    let tls = takeover::connect(Arc::new(ccfg), localhost(), a, Config::default()).unwrap();
    carry(tls, false);
    assert_eq!(peer.join().unwrap().0, REPLY);
}

// ---------------------------------------------------------------------------
// First bytes that are not TLS: the blind tunnel
// ---------------------------------------------------------------------------

/// A client writes `bytes` (in one write, or one byte at a time) and closes;
/// `accept` must hand back what it read untouched, and the rest of the
/// stream must follow on the transport.
fn tunnel(bytes: &'static [u8], byte_by_byte: bool) {
    let (mut a, b) = tcp_pair();
    let writer = std::thread::spawn(move || {
        if byte_by_byte {
            for x in bytes {
                a.write_all(std::slice::from_ref(x)).unwrap();
                std::thread::sleep(Duration::from_millis(2));
            }
        } else {
            a.write_all(bytes).unwrap();
        }
        a
    });
    let Accepted::NotTls {
        first_bytes,
        mut io,
    } = takeover::accept(server_config(true, None), b, Config::default()).unwrap()
    else {
        panic!("taken for TLS");
    };
    assert!(!first_bytes.is_empty());
    assert!(bytes.starts_with(&first_bytes), "first bytes changed");
    if !byte_by_byte {
        assert_eq!(first_bytes, bytes, "one segment, all of it");
    }
    let a = writer.join().unwrap();
    drop(a);
    let mut rest = Vec::new();
    io.read_to_end(&mut rest).unwrap();
    assert_eq!([first_bytes, rest].concat(), bytes, "the tunnelled stream");
}

const HTTP: &[u8] = b"GET /index.html HTTP/1.1\r\nHost: example.com\r\n\r\n";
const SSH: &[u8] = b"SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13\r\n";
/// 48 bytes from a fixed xorshift seed (checked to be not TLS below).
fn random_bytes() -> &'static [u8] {
    static R: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    R.get_or_init(|| common::Rng::new(0x5eed).bytes(48))
}

#[test]
fn blind_tunnel_http_one_segment_and_byte_by_byte() {
    tunnel(HTTP, false);
    tunnel(HTTP, true);
}

#[test]
fn blind_tunnel_ssh_one_segment_and_byte_by_byte() {
    tunnel(SSH, false);
    tunnel(SSH, true);
}

#[test]
fn blind_tunnel_random_one_segment_and_byte_by_byte() {
    let r = random_bytes();
    assert_eq!(
        tlsrec::first_bytes::classify(r),
        tlsrec::first_bytes::FirstBytes::NotTls
    );
    tunnel(r, false);
    tunnel(r, true);
}

#[test]
fn a_tls_record_header_with_a_non_hello_is_tunnelled() {
    // A handshake header whose first message is a ServerHello (2): no
    // client starts with it.
    tunnel(&[0x16, 0x03, 0x01, 0x00, 0x04, 0x02, 0, 0, 0], false);
}

/// A first record over 2^14 bytes (tlsfuzzer's "too big ClientHello"):
/// `accept` tunnels it (it cannot start a handshake: `first_bytes`);
/// `accept_tls`, for a server that speaks only TLS, gives it to rustls,
/// which answers with its alert. (rustls 0.23 takes plaintext records up to
/// 2^14 + 2048 bytes, so it judges the hello inside, here one offering no
/// suites: decode_error; RFC 8446 5.1 asks for record_overflow.)
#[test]
fn an_oversized_first_record_is_tunnelled_by_accept_and_given_to_rustls_by_accept_tls() {
    let mut rec = vec![0x16, 0x03, 0x03, 0x40, 0x01, 0x01, 0x00, 0x3f, 0xfd];
    rec.resize(5 + 0x4001, 0);
    let rec: &'static [u8] = rec.leak();
    tunnel(rec, false);
    let (mut a, b) = tcp_pair();
    a.write_all(rec).unwrap();
    let r = takeover::accept_tls(server_config(true, None), b, Config::default());
    assert!(
        matches!(
            r,
            Err(TakeoverError::Rustls(rustls::Error::InvalidMessage(_)))
        ),
        "{:?}",
        r.err()
    );
    let mut got = Vec::new();
    a.read_to_end(&mut got).unwrap();
    // rustls's plaintext fatal decode_error alert, then the end of the stream.
    assert_eq!(got, [21, 3, 3, 0, 2, 2, 50]);
}

#[test]
fn tokio_blind_tunnel_byte_by_byte() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        let writer = tokio::spawn(async move {
            let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .unwrap();
            s.set_nodelay(true).unwrap();
            for x in SSH {
                s.write_all(std::slice::from_ref(x)).await.unwrap();
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        });
        let (sock, _) = l.accept().await.unwrap();
        let Accepted::NotTls {
            first_bytes,
            mut io,
        } = takeover::tokio::accept(server_config(true, None), sock, Config::default())
            .await
            .unwrap()
        else {
            panic!("taken for TLS");
        };
        writer.await.unwrap();
        let mut rest = Vec::new();
        io.read_to_end(&mut rest).await.unwrap();
        assert_eq!([first_bytes, rest].concat(), SSH);
    });
}

/// A client that sends its ClientHello, a close_notify and another record
/// in one segment: the takeover ends with an error, neither waiting nor
/// taking the connection for established. (rustls refuses the alert
/// itself; the takeover's own check for a rustls that takes no more bytes
/// after close_notify is a second line that this test does not reach.)
#[test]
fn close_notify_in_the_handshake_ends_the_takeover() {
    let (mut a, b) = tcp_pair();
    let mut client = rustls::ClientConnection::new(client_config(true, None), localhost()).unwrap();
    let mut wire = Vec::new();
    while client.wants_write() {
        client.write_tls(&mut wire).unwrap();
    }
    wire.extend_from_slice(&[0x15, 3, 3, 0, 2, 1, 0]);
    wire.extend_from_slice(&[0x15, 3, 3, 0, 2, 1, 0]);
    a.write_all(&wire).unwrap();
    let r = takeover::accept(server_config(true, None), b, Config::default());
    assert!(r.is_err(), "{:?}", r.map(|_| ()));
}
