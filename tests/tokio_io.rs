//! The tokio adapter (`tlsrec::tokio_io::TokioStream`) over in-memory duplex
//! pipes with a small buffer (so writes really pend) and over real TCP.
#![cfg(feature = "tokio")]

mod common;

use std::future::poll_fn;
use std::io::ErrorKind;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use common::Rng;
use tlsrec::tokio_io::TokioStream;
use tlsrec::{CipherSuite, Config, Established, RecordKeys, Session};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

const SUITES: [CipherSuite; 4] = [
    CipherSuite::TLS13_AES_128_GCM_SHA256,
    CipherSuite::TLS13_CHACHA20_POLY1305_SHA256,
    CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
];

/// One end of a connection: reads under key `read`, writes under `write`
/// (the peer swaps them), as `src/io.rs`'s example builds them.
fn end(suite: CipherSuite, read: u8, write: u8, moving: bool) -> Session {
    let k = |b: u8| {
        let a = suite.aead();
        RecordKeys::new(
            suite,
            &vec![b; a.key_len()],
            &vec![b ^ 0x5a; a.fixed_iv_len(suite.version())],
        )
        .unwrap()
    };
    let est = Established {
        suite,
        read: k(read),
        read_seq: 0,
        write: k(write),
        write_seq: 0,
        secrets: None,
    };
    let cfg = Config {
        accept_moving_buffer: moving,
        ..Config::default()
    };
    Session::client_from_established(est, cfg).unwrap()
}

/// Writes `data` in random chunk sizes (up to 40000, more than a record),
/// half of them from a fresh copy (another address on every call, as an
/// `AsyncWrite` caller may pass), taking what each `write` accepts; then
/// `shutdown` (close_notify).
async fn write_all_random<W: AsyncWrite + Unpin>(mut w: W, data: Vec<u8>, seed: u64) -> W {
    let mut rng = Rng::new(seed);
    let mut off = 0;
    while off < data.len() {
        let n = (1 + rng.below(40_000)).min(data.len() - off);
        let k = if rng.below(2) == 0 {
            let copy = data[off..off + n].to_vec();
            w.write(&copy).await.unwrap()
        } else {
            w.write(&data[off..off + n]).await.unwrap()
        };
        assert!(k > 0 && k <= n, "write accepted {k} of {n}");
        off += k;
    }
    w.shutdown().await.unwrap();
    w
}

/// Reads in random buffer sizes until end of stream (close_notify), then
/// checks that the end is sticky; gives the reader back with what it read.
async fn read_all_random<R: AsyncRead + Unpin>(mut r: R, seed: u64) -> (R, Vec<u8>) {
    let mut rng = Rng::new(seed);
    let mut got = Vec::new();
    let mut buf = vec![0u8; 40_000];
    loop {
        let n = 1 + rng.below(buf.len());
        match r.read(&mut buf[..n]).await.unwrap() {
            0 => break,
            k => got.extend_from_slice(&buf[..k]),
        }
    }
    assert_eq!(r.read(&mut buf).await.unwrap(), 0, "EOF again");
    (r, got)
}

/// Both directions at once, each side split into a reader and a writer task:
/// every byte arrives exactly, in order, and each side's shutdown ends the
/// other side's reading with EOF (`Ok(0)`).
async fn both_ways<T>(a: T, b: T, suite: CipherSuite, moving: bool, total: usize, seed: u64)
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut rng = Rng::new(seed);
    let data = [rng.bytes(total), rng.bytes(total)];
    let left = TokioStream::new(end(suite, 1, 2, moving), a);
    let right = TokioStream::new(end(suite, 2, 1, moving), b);
    let (lr, lw) = tokio::io::split(left);
    let (rr, rw) = tokio::io::split(right);
    let tasks = (
        tokio::spawn(write_all_random(lw, data[0].clone(), seed + 1)),
        tokio::spawn(write_all_random(rw, data[1].clone(), seed + 2)),
        tokio::spawn(read_all_random(rr, seed + 3)),
        tokio::spawn(read_all_random(lr, seed + 4)),
    );
    let (lw, rw) = (tasks.0.await.unwrap(), tasks.1.await.unwrap());
    let ((rr, to_right), (lr, to_left)) = (tasks.2.await.unwrap(), tasks.3.await.unwrap());
    assert!(to_right == data[0], "left -> right differs ({suite:?})");
    assert!(to_left == data[1], "right -> left differs ({suite:?})");
    // Both close_notify records went out; nothing is left in either session.
    for s in [lr.unsplit(lw), rr.unsplit(rw)] {
        assert_eq!(s.session().outgoing_len(), 0);
    }
}

#[tokio::test]
async fn duplex_carries_megabytes_both_ways_exactly() {
    for (i, suite) in SUITES.into_iter().enumerate() {
        for moving in [false, true] {
            let (a, b) = tokio::io::duplex(1024);
            tokio::time::timeout(
                Duration::from_secs(120),
                both_ways(a, b, suite, moving, 3 << 20, 100 * i as u64 + moving as u64),
            )
            .await
            .expect("no progress");
        }
    }
}

/// An `AsyncWrite` caller may come back with other bytes after `Pending`,
/// and after `Ready(Ok(n))` the adapter finishes the session's retry itself:
/// fill the pipe until a write pends, then write a different, shorter
/// buffer; the peer reads exactly what was accepted, in order.
#[tokio::test]
async fn other_bytes_after_pending_are_fine() {
    for moving in [false, true] {
        let suite = CipherSuite::TLS13_AES_256_GCM_SHA384;
        let (a, b) = tokio::io::duplex(1024);
        let mut left = TokioStream::new(end(suite, 1, 2, moving), a);
        let right = TokioStream::new(end(suite, 2, 1, moving), b);
        let mut rng = Rng::new(7);
        let mut expected = Vec::new();
        let mut pended = 0;
        let mut accepted_after_pending = false;
        for _ in 0..1000 {
            let chunk = rng.bytes(5000);
            let r = poll_fn(|cx| Poll::Ready(Pin::new(&mut left).poll_write(cx, &chunk))).await;
            match r {
                Poll::Ready(Ok(n)) => {
                    expected.extend_from_slice(&chunk[..n]);
                    if pended > 0 {
                        accepted_after_pending = true;
                    }
                }
                Poll::Ready(Err(e)) => panic!("write: {e}"),
                // Nothing of `chunk` was taken; the next call passes other
                // bytes.
                Poll::Pending => pended += 1,
            }
            if pended == 3 {
                break;
            }
        }
        assert_eq!(pended, 3, "the pipe never filled");
        assert!(!accepted_after_pending, "a full pipe took more");
        let reader = tokio::spawn(read_all_random(right, 9));
        let tail = b"something else entirely".to_vec();
        left.write_all(&tail).await.unwrap();
        expected.extend_from_slice(&tail);
        left.shutdown().await.unwrap();
        let (_, got) = reader.await.unwrap();
        assert_eq!(got.len(), expected.len());
        assert!(got == expected);
    }
}

/// Zero-copy reads: whole records as `Bytes`, `None` after close_notify.
#[tokio::test]
async fn read_record_hands_out_records_then_none() {
    let suite = CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256;
    let (a, b) = tokio::io::duplex(1024);
    let left = TokioStream::new(end(suite, 1, 2, true), a);
    let mut right = TokioStream::new(end(suite, 2, 1, true), b);
    let data = Rng::new(3).bytes(1 << 20);
    let writer = tokio::spawn(write_all_random(left, data.clone(), 4));
    let mut got = Vec::new();
    let mut records = 0;
    while let Some(rec) = right.read_record().await.unwrap() {
        assert!(rec.len() <= 16384);
        got.extend_from_slice(&rec);
        records += 1;
    }
    writer.await.unwrap();
    assert!(got == data);
    assert!(records >= (1 << 20) / 16384);
    assert!(right.read_record().await.unwrap().is_none());
}

/// A transport that ends without close_notify: `UnexpectedEof`. Garbage
/// instead of records: `InvalidData`.
#[tokio::test]
async fn eof_without_close_notify_and_garbage_are_errors() {
    let suite = CipherSuite::TLS13_AES_128_GCM_SHA256;
    let (a, b) = tokio::io::duplex(1024);
    let mut left = TokioStream::new(end(suite, 1, 2, true), a);
    let mut right = TokioStream::new(end(suite, 2, 1, true), b);
    left.write_all(b"hello").await.unwrap();
    left.flush().await.unwrap();
    drop(left);
    let mut buf = [0u8; 16];
    assert_eq!(right.read(&mut buf).await.unwrap(), 5);
    assert_eq!(&buf[..5], b"hello");
    let e = right.read(&mut buf).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::UnexpectedEof, "{e}");

    let (mut raw, b) = tokio::io::duplex(1024);
    let mut right = TokioStream::new(end(suite, 2, 1, true), b);
    raw.write_all(&[23, 3, 3, 0, 40]).await.unwrap();
    raw.write_all(&[0xaa; 40]).await.unwrap();
    let e = right.read(&mut buf).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidData, "{e}");
    // The session sent its fatal alert (bad_record_mac) back.
    let mut alert = [0u8; 64];
    let n = raw.read(&mut alert).await.unwrap();
    assert!(n > 5 && alert[0] == 23, "an encrypted alert record");
}

/// Real sockets on 127.0.0.1, both directions at once, under a timeout.
#[tokio::test]
async fn tcp_loopback_both_ways() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    for (i, suite) in [
        CipherSuite::TLS13_AES_256_GCM_SHA384,
        CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    ]
    .into_iter()
    .enumerate()
    {
        let (a, b) = tokio::join!(tokio::net::TcpStream::connect(addr), async {
            listener.accept().await.map(|(s, _)| s)
        });
        tokio::time::timeout(
            Duration::from_secs(120),
            both_ways(
                a.unwrap(),
                b.unwrap(),
                suite,
                i == 0,
                4 << 20,
                50 + i as u64,
            ),
        )
        .await
        .expect("no progress over TCP");
    }
}
