//! Allocation accounting with a counting global allocator: steady-state
//! reading and writing of application records allocates nothing per record,
//! and the buffers a busy session holds stay bounded.
//!
//! Counters are per thread (the test harness runs tests in parallel), so
//! each test counts only its own allocations.

mod common;

use common::heap::{allocs, live, peak, reset_peak, Counting};
use tlsrec::cipher::Provider;
use tlsrec::record::MAX_RECORD_LEN;
use tlsrec::{CipherSuite, Config, Established, RecordKeys, Session, SslError};

#[global_allocator]
static GLOBAL: Counting = Counting;

fn keys(suite: CipherSuite, seed: u8) -> RecordKeys {
    let key = vec![seed; suite.aead().key_len()];
    let iv = vec![seed ^ 0x5a; suite.aead().fixed_iv_len(suite.version())];
    RecordKeys::new(suite, &key, &iv).unwrap()
}

/// Two sessions joined in memory: `a` writes, `b` reads.
fn pair(suite: CipherSuite, cfg: &Config) -> (Session, Session) {
    let (k1, k2) = (keys(suite, 1), keys(suite, 2));
    let est = |r: &RecordKeys, w: &RecordKeys| Established {
        suite,
        read: r.clone(),
        read_seq: 0,
        write: w.clone(),
        write_seq: 0,
        secrets: None,
    };
    (
        Session::client_from_established(est(&k1, &k2), cfg.clone()).unwrap(),
        Session::server_from_established(est(&k2, &k1), cfg.clone()).unwrap(),
    )
}

/// Writes `data` on `a` (records of up to 16 KiB), hands the wire bytes to
/// `b` and reads everything there.
fn round(a: &mut Session, b: &mut Session, data: &[u8], rbuf: &mut [u8]) {
    assert_eq!(a.write(data), Ok(data.len()));
    let wire = a.take_outgoing(usize::MAX);
    b.recv(&wire);
    drop(wire);
    let mut got = 0;
    loop {
        match b.read(rbuf) {
            Ok(n) => got += n,
            Err(SslError::WantRead) => break,
            Err(e) => panic!("read: {e}"),
        }
    }
    assert_eq!(got, data.len());
}

/// Like [`round`] with the zero-copy calls: `write_with` fills each record
/// in place, `read_record` hands each one out (16 KiB writes or less).
fn round_zero_copy(a: &mut Session, b: &mut Session, data: &[u8]) {
    assert_eq!(
        a.write_with(data.len(), |room| room.copy_from_slice(data)),
        Ok(data.len())
    );
    let wire = a.take_outgoing(usize::MAX);
    b.recv(&wire);
    drop(wire);
    let mut got = 0;
    loop {
        match b.read_record() {
            Ok(r) => got += r.len(),
            Err(SslError::WantRead) => break,
            Err(e) => panic!("read: {e}"),
        }
    }
    assert_eq!(got, data.len());
}

/// Like [`round_zero_copy`], the buffer moving instead of being copied:
/// `take_outgoing_buf` -> `recv_buf` (adopted), `read_record` hands out
/// slices of it, and the buffer `recv_buf` gives back goes to the writer
/// (`give_outgoing_buf`) once the records are dropped.
fn round_buffers(a: &mut Session, b: &mut Session, data: &[u8]) {
    assert_eq!(
        a.write_with(data.len(), |room| room.copy_from_slice(data)),
        Ok(data.len())
    );
    let spare = b.recv_buf(a.take_outgoing_buf());
    let mut got = 0;
    loop {
        match b.read_record() {
            Ok(r) => got += r.len(),
            Err(SslError::WantRead) => break,
            Err(e) => panic!("read: {e}"),
        }
    }
    a.give_outgoing_buf(spare);
    assert_eq!(got, data.len());
}

const SUITES: &[CipherSuite] = &[
    CipherSuite::TLS13_AES_128_GCM_SHA256,
    CipherSuite::TLS13_AES_256_GCM_SHA384,
    CipherSuite::TLS13_CHACHA20_POLY1305_SHA256,
    CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
];

#[test]
fn steady_state_records_allocate_nothing() {
    for &p in Provider::ALL {
        for &suite in SUITES {
            // A read buffer of 1000 bytes takes 16 KiB records in parts (the
            // record is split off the received bytes); one of 16 KiB takes
            // each record whole (opened straight into it where the provider
            // opens out of place and the buffer holds the inner plaintext:
            // TLS 1.3 16 KiB records need 16385 bytes; else opened where it
            // lies and copied out).
            for (write, rounds, rlen) in [
                (16384usize, 64usize, 16384usize),
                (16384, 64, 16384 + 256),
                (16384, 64, 1000),
                (64, 1000, 16384),
                (40000, 16, 16384),
                (40000, 16, 1000),
                (1, 1000, 16384),
            ] {
                let cfg = Config {
                    provider: Some(p),
                    ..Config::default()
                };
                let (mut a, mut b) = pair(suite, &cfg);
                let data = vec![0xa5u8; write];
                let mut rbuf = vec![0u8; rlen];
                assert_eq!(a.sealer().provider(), p);
                // Warm-up: the buffers reach their steady size (with small
                // records the receive buffers fill before they are
                // reclaimed, so as many rounds as are counted).
                for _ in 0..rounds {
                    round(&mut a, &mut b, &data, &mut rbuf);
                }
                let before = allocs();
                for _ in 0..rounds {
                    round(&mut a, &mut b, &data, &mut rbuf);
                }
                let n = allocs() - before;
                assert_eq!(
                    n,
                    0,
                    "{} {}: {n} allocations in {rounds} rounds of {write}-byte writes \
                     read with a {rlen}-byte buffer",
                    p.name(),
                    suite.name()
                );
            }
        }
    }
}

/// The zero-copy calls allocate nothing per record either (the records
/// `read_record` hands out are dropped before the next round).
#[test]
fn zero_copy_records_allocate_nothing() {
    for &suite in SUITES {
        for (write, rounds) in [(16384usize, 64usize), (64, 1000), (1, 1000)] {
            let (mut a, mut b) = pair(suite, &Config::default());
            let data = vec![0xa5u8; write];
            for _ in 0..rounds {
                round_zero_copy(&mut a, &mut b, &data);
            }
            let before = allocs();
            for _ in 0..rounds {
                round_zero_copy(&mut a, &mut b, &data);
            }
            let n = allocs() - before;
            assert_eq!(
                n,
                0,
                "{}: {n} allocations in {rounds} rounds of {write}-byte writes",
                suite.name()
            );
        }
    }
}

/// The buffer-passing calls allocate nothing per record once two buffers
/// go round (`take_outgoing_buf` / `recv_buf` / `give_outgoing_buf`, records
/// read with `read_record`), for every provider and suite.
#[test]
fn passed_buffers_allocate_nothing() {
    for &p in Provider::ALL {
        for &suite in SUITES {
            for (write, rounds) in [(16384usize, 64usize), (64, 1000), (1, 1000)] {
                let cfg = Config {
                    provider: Some(p),
                    ..Config::default()
                };
                let (mut a, mut b) = pair(suite, &cfg);
                let data = vec![0xa5u8; write];
                for _ in 0..4 {
                    round_buffers(&mut a, &mut b, &data);
                }
                let before = allocs();
                for _ in 0..rounds {
                    round_buffers(&mut a, &mut b, &data);
                }
                let n = allocs() - before;
                assert_eq!(
                    n,
                    0,
                    "{} {}: {n} allocations in {rounds} rounds of {write}-byte writes",
                    p.name(),
                    suite.name()
                );
            }
        }
    }
}

/// The std adapter over a socket pair (both ends in this thread): writing
/// and reading records allocates nothing per record either, whether a
/// record arrives whole or in parts.
#[test]
fn std_adapter_records_allocate_nothing() {
    use std::os::unix::net::UnixStream;
    use tlsrec::io::SslStream;
    let suite = CipherSuite::TLS13_AES_128_GCM_SHA256;
    for write in [16384usize, 1000, 64, 1] {
        let (x, y) = pair(suite, &Config::default());
        let (sx, sy) = UnixStream::pair().unwrap();
        let (mut a, mut b) = (SslStream::new(x, sx), SslStream::new(y, sy));
        let data = vec![0xa5u8; write];
        let mut rbuf = vec![0u8; 16384];
        let mut round = || {
            assert_eq!(a.ssl_write(&data), Ok(write));
            let mut got = 0;
            while got < write {
                got += b.ssl_read(&mut rbuf).unwrap();
            }
        };
        for _ in 0..16 {
            round();
        }
        let before = allocs();
        for _ in 0..200 {
            round();
        }
        let n = allocs() - before;
        assert_eq!(n, 0, "{n} allocations in 200 rounds of {write}-byte writes");
    }
}

/// The tokio adapter over an in-memory duplex pipe (a current-thread
/// runtime, both ends in one task): no allocation per record either.
#[cfg(feature = "tokio")]
#[test]
fn tokio_adapter_records_allocate_nothing() {
    use tlsrec::tokio_io::TokioStream;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let suite = CipherSuite::TLS13_AES_128_GCM_SHA256;
    for write in [16384usize, 1000, 64] {
        let (x, y) = pair(suite, &Config::default());
        let (dx, dy) = tokio::io::duplex(4 * MAX_RECORD_LEN);
        let (mut a, mut b) = (TokioStream::new(x, dx), TokioStream::new(y, dy));
        let data = vec![0xa5u8; write];
        let mut rbuf = vec![0u8; write];
        let mut round = || {
            rt.block_on(async {
                a.write_all(&data).await.unwrap();
                a.flush().await.unwrap();
                b.read_exact(&mut rbuf).await.unwrap();
            });
        };
        for _ in 0..16 {
            round();
        }
        let before = allocs();
        for _ in 0..200 {
            round();
        }
        let n = allocs() - before;
        assert_eq!(n, 0, "{n} allocations in 200 rounds of {write}-byte writes");
    }
}

/// The buffer-passing calls across threads (the writer on one, the reader
/// on another, buffers sent both ways): the reader hands back the buffer
/// it received into, so neither side allocates per record. Counted around
/// the session calls only (the channels allocate on their own).
#[test]
fn passed_buffers_across_threads_allocate_nothing() {
    use std::sync::mpsc::channel;
    let suite = CipherSuite::TLS13_AES_128_GCM_SHA256;
    let (mut a, mut b) = pair(suite, &Config::default());
    let (to_b, from_a) = channel::<bytes::BytesMut>();
    let (to_a, from_b) = channel::<bytes::BytesMut>();
    let rounds = 300u64;
    let reader = std::thread::spawn(move || {
        let mut counted = 0;
        for i in 0..rounds {
            let wire = from_a.recv().unwrap();
            let before = allocs();
            let spare = b.recv_buf(wire);
            let mut got = 0;
            loop {
                match b.read_record() {
                    Ok(r) => got += r.len(),
                    Err(SslError::WantRead) => break,
                    Err(e) => panic!("read: {e}"),
                }
            }
            if i >= 8 {
                counted += allocs() - before;
            }
            assert_eq!(got, 16384);
            to_a.send(spare).unwrap();
        }
        counted
    });
    let data = vec![0x33u8; 16384];
    let mut counted = 0;
    for i in 0..rounds {
        let before = allocs();
        if i >= 2 {
            a.give_outgoing_buf(from_b.recv().unwrap());
        }
        assert_eq!(
            a.write_with(16384, |room| room.copy_from_slice(&data)),
            Ok(16384)
        );
        let wire = a.take_outgoing_buf();
        if i >= 8 {
            counted += allocs() - before;
        }
        to_b.send(wire).unwrap();
    }
    let read_side = reader.join().unwrap();
    assert_eq!((counted, read_side), (0, 0), "allocations (writer, reader)");
}

/// Buffer memory: what each side of a busy connection holds at its peak,
/// against the target of 2 x (max record + 5) per session.
#[test]
fn busy_session_buffers_are_bounded() {
    let suite = CipherSuite::TLS13_AES_128_GCM_SHA256;
    let (mut a, mut b) = pair(suite, &Config::default());
    let data = vec![0x5au8; 16384];
    let mut rbuf = vec![0u8; 16384];
    // MAX_RECORD_LEN is the largest record OpenSSL accepts, header (5) included.
    let bound = 2 * MAX_RECORD_LEN as i64;
    let (mut writer_peak, mut reader_peak) = (0i64, 0i64);
    for _ in 0..32 {
        let base = live();
        reset_peak();
        assert_eq!(a.write(&data), Ok(data.len()));
        let wire = a.take_outgoing(usize::MAX);
        writer_peak = writer_peak.max(peak() - base);
        let wire = wire.to_vec(); // the transport's copy
        let base = live();
        reset_peak();
        b.recv(&wire);
        loop {
            match b.read(&mut rbuf) {
                Ok(_) => {}
                Err(SslError::WantRead) => break,
                Err(e) => panic!("read: {e}"),
            }
        }
        reader_peak = reader_peak.max(peak() - base);
    }
    eprintln!(
        "busy session buffers: writer peak {writer_peak} B, reader peak {reader_peak} B, \
         target {bound} B (2 x (max record {} + 5))",
        MAX_RECORD_LEN - 5
    );
    assert!(
        writer_peak <= bound,
        "writer holds {writer_peak} B > {bound} B"
    );
    assert!(
        reader_peak <= bound,
        "reader holds {reader_peak} B > {bound} B"
    );
}

/// Between transfers a session with the default options holds no transport
/// buffer either: drained buffers go to the thread's spares (a few
/// buffers per thread, reused by whichever session needs one next). A
/// hundred connections that each moved a 16 KiB record both ways hold no
/// more heap than the spares.
#[test]
fn sessions_between_transfers_hold_no_buffer() {
    let suite = CipherSuite::TLS13_AES_128_GCM_SHA256;
    let data = vec![0x5au8; 16384];
    let mut rbuf = vec![0u8; 16384];
    let mut pairs: Vec<(Session, Session)> =
        (0..100).map(|_| pair(suite, &Config::default())).collect();
    let base = live();
    for (a, b) in &mut pairs {
        round(a, b, &data, &mut rbuf);
        round(b, a, &data, &mut rbuf);
    }
    let held = live() - base;
    // The spares: at most 8 buffers of one 16 KiB record each here.
    let spares = 8 * MAX_RECORD_LEN as i64;
    eprintln!(
        "100 connections after a 16 KiB record each way hold {held} B beyond their fresh state"
    );
    assert!(
        held <= spares,
        "{held} B held, more than the spares ({spares} B)"
    );
}

/// Records that arrive in parts (each round's bytes cut in two inside a
/// record, as TCP segments cut them) go through the deframer: no
/// allocation per record there either, and between transfers its buffer
/// goes to the spares too.
#[test]
fn records_in_parts_allocate_nothing_and_are_not_held() {
    let suite = CipherSuite::TLS13_AES_128_GCM_SHA256;
    let mut rbuf = vec![0u8; 16384];
    for write in [16384usize, 1000, 64] {
        let data = vec![0x5au8; write];
        let mut split_round = |a: &mut Session, b: &mut Session| {
            assert_eq!(a.write(&data), Ok(write));
            let wire = a.take_outgoing(usize::MAX);
            let cut = wire.len() / 2 + 1;
            b.recv(&wire[..cut]);
            assert_eq!(b.read(&mut rbuf), Err(SslError::WantRead));
            b.recv(&wire[cut..]);
            drop(wire);
            let mut got = 0;
            while got < write {
                got += b.read(&mut rbuf).unwrap();
            }
        };
        let mut pairs: Vec<(Session, Session)> =
            (0..50).map(|_| pair(suite, &Config::default())).collect();
        let base = live();
        for (a, b) in &mut pairs {
            split_round(a, b);
        }
        let held = live() - base;
        assert!(
            held <= 8 * MAX_RECORD_LEN as i64,
            "{write}: 50 connections hold {held} B after records in parts"
        );
        let (a, b) = &mut pairs[0];
        for _ in 0..8 {
            split_round(a, b);
        }
        let before = allocs();
        for _ in 0..200 {
            split_round(a, b);
        }
        let n = allocs() - before;
        assert_eq!(
            n, 0,
            "{n} allocations in 200 rounds of {write}-byte writes in parts"
        );
    }
}

/// With `release_buffers`, an idle session (everything written was taken,
/// everything received was read) holds no buffer: the deframer, the
/// pending-write buffer and the transport queues (`input`, `out`) are all
/// freed once empty.
#[test]
fn idle_session_with_release_buffers_holds_no_buffer() {
    let suite = CipherSuite::TLS13_AES_128_GCM_SHA256;
    let cfg = Config {
        release_buffers: true,
        ..Config::default()
    };
    let (mut a, mut b) = pair(suite, &cfg);
    let data = vec![0x5au8; 16384];
    let mut rbuf = vec![0u8; 16384];
    let base = live();
    for _ in 0..4 {
        round(&mut a, &mut b, &data, &mut rbuf);
    }
    let held = live() - base;
    eprintln!("idle pair with release_buffers holds {held} B of heap beyond its fresh state");
    assert!(held <= 0, "idle sessions hold {held} B");
}
