//! The std::io adapter over real OS sockets, blocking and non-blocking.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::os::unix::net::UnixStream;

use common::Rng;
use tlsrec::io::SslStream;
use tlsrec::{CipherSuite, Config, Established, RecordKeys, Session, SslError};

fn end(suite: CipherSuite, read: u8, write: u8) -> Session {
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
    Session::client_from_established(est, Config::default()).unwrap()
}

fn pair(suite: CipherSuite, nonblocking: bool) -> (SslStream<UnixStream>, SslStream<UnixStream>) {
    let (a, b) = UnixStream::pair().unwrap();
    a.set_nonblocking(nonblocking).unwrap();
    b.set_nonblocking(nonblocking).unwrap();
    (
        SslStream::new(end(suite, 1, 2), a),
        SslStream::new(end(suite, 2, 1), b),
    )
}

/// Both directions at once over non-blocking sockets: every WantRead /
/// WantWrite is retried as OpenSSL's callers do (the same buffer), and each
/// side receives exactly what the other wrote.
#[test]
fn nonblocking_socket_pair_carries_both_streams_exactly() {
    for suite in [
        CipherSuite::TLS13_AES_128_GCM_SHA256,
        CipherSuite::TLS13_CHACHA20_POLY1305_SHA256,
        CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    ] {
        let (mut a, mut b) = pair(suite, true);
        let mut rng = Rng::new(suite.code() as u64);
        let total = 3 << 20;
        let data: [Vec<u8>; 2] = [rng.bytes(total), rng.bytes(total)];
        let mut sent = [0usize; 2];
        // The length of a write that returned WantWrite: its retry repeats it.
        let mut retry: [Option<usize>; 2] = [None, None];
        let mut got: [Vec<u8>; 2] = [Vec::new(), Vec::new()];
        let mut want_write = 0;
        let mut buf = vec![0u8; 40000];
        let mut rounds = 0;
        while got[0].len() < total || got[1].len() < total {
            rounds += 1;
            assert!(rounds < 1_000_000, "no progress");
            for (i, w) in [&mut a, &mut b].into_iter().enumerate() {
                if sent[i] < total {
                    let n = retry[i]
                        .take()
                        .unwrap_or_else(|| (1 + rng.below(40000)).min(total - sent[i]));
                    match w.ssl_write(&data[i][sent[i]..sent[i] + n]) {
                        Ok(k) => sent[i] += k,
                        // Retried with the same bytes on the next round
                        // (the same slice of the same buffer).
                        Err(SslError::WantWrite) => {
                            want_write += 1;
                            retry[i] = Some(n);
                        }
                        Err(e) => panic!("write: {e:?}"),
                    }
                }
                let _ = w.flush();
                match w.ssl_read(&mut buf[..1 + rng.below(40000)]) {
                    Ok(k) => got[1 - i].extend_from_slice(&buf[..k]),
                    Err(SslError::WantRead) => {}
                    Err(e) => panic!("read: {e:?}"),
                }
            }
        }
        // a reads what b wrote and the other way round.
        assert!(
            got[1] == data[1] && got[0] == data[0],
            "{suite:?}: streams differ"
        );
        // The sockets' buffers are far smaller than 3 MiB: the transport
        // really blocked, and the retries carried on.
        assert!(want_write > 0, "{suite:?}: the transport never blocked");
    }
}

/// Blocking sockets with std::io::Read / Write: a writer thread, close_notify
/// at the end, and read returning 0 after it.
#[test]
fn blocking_io_traits_and_close_notify() {
    let (mut a, mut b) = pair(CipherSuite::TLS13_AES_256_GCM_SHA384, false);
    let mut rng = Rng::new(7);
    let data = rng.bytes(2 << 20);
    let expect = data.clone();
    let writer = std::thread::spawn(move || {
        for chunk in data.chunks(5000) {
            a.write_all(chunk).unwrap();
        }
        a.flush().unwrap();
        assert_eq!(a.shutdown(), Ok(false));
        a
    });
    let mut got = Vec::new();
    b.read_to_end(&mut got).unwrap();
    assert!(
        got == expect,
        "received {} of {} bytes",
        got.len(),
        expect.len()
    );
    // After the peer's close_notify reads keep returning 0.
    assert_eq!(b.read(&mut [0u8; 10]).unwrap(), 0);
    drop(writer.join().unwrap());
}

/// The transport closes without close_notify: OpenSSL 3.0's unexpected EOF.
#[test]
fn eof_without_close_notify_is_an_error() {
    let (mut a, mut b) = pair(CipherSuite::TLS13_AES_128_GCM_SHA256, false);
    a.write_all(b"partial").unwrap();
    drop(a);
    let mut buf = [0u8; 16];
    assert_eq!(b.read(&mut buf).unwrap(), 7);
    let e = b.read(&mut buf).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::UnexpectedEof, "{e}");
}
