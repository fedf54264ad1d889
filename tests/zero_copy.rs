//! `Session::read_record` hands out whole records without a copy, with
//! `read`'s results; `take_tickets` offers the peer's NewSessionTickets.

use bytes::BytesMut;
use tlsrec::session::MAX_KEPT_TICKETS;
use tlsrec::{
    CipherSuite, Config, ContentType, Established, RecordKeys, Sealer, Session, SslError,
};

fn pair(suite: CipherSuite) -> (Session, Sealer) {
    let a = suite.aead();
    let k = RecordKeys::new(
        suite,
        &vec![7; a.key_len()],
        &vec![9; a.fixed_iv_len(suite.version())],
    )
    .unwrap();
    let w = RecordKeys::new(
        suite,
        &vec![1; a.key_len()],
        &vec![2; a.fixed_iv_len(suite.version())],
    )
    .unwrap();
    let est = Established {
        suite,
        read: k.clone(),
        read_seq: 0,
        write: w,
        write_seq: 0,
        secrets: None,
    };
    let s = Session::client_from_established(est, Config::default()).unwrap();
    let mut peer = Sealer::new();
    peer.set_keys(k);
    (s, peer)
}

#[test]
fn read_record_returns_each_record_whole_and_in_order() {
    for suite in [
        CipherSuite::TLS13_CHACHA20_POLY1305_SHA256,
        CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    ] {
        let (_, mut peer) = pair(suite);
        let payloads: Vec<Vec<u8>> = [1usize, 16384, 0, 700, 5000]
            .iter()
            .enumerate()
            .map(|(i, &n)| vec![i as u8 + 1; n])
            .collect();
        let mut wire = BytesMut::new();
        for p in &payloads {
            peer.seal(ContentType::ApplicationData, p, &mut wire)
                .unwrap();
        }
        // Arrives in 3-byte segments (through the deframer), then whole
        // (each record opened where it lies).
        for seg_len in [3, usize::MAX] {
            let (mut s, _) = pair(suite);
            let mut got = Vec::new();
            for seg in wire.chunks(seg_len) {
                s.recv(seg);
                loop {
                    match s.read_record() {
                        Ok(b) => got.push(b.to_vec()),
                        Err(SslError::WantRead) => break,
                        Err(e) => panic!("{e:?}"),
                    }
                }
            }
            // The empty record is skipped, as `read` skips it.
            let want: Vec<&Vec<u8>> = payloads.iter().filter(|p| !p.is_empty()).collect();
            assert_eq!(got.iter().collect::<Vec<_>>(), want, "{suite:?}");
        }
    }
}

#[test]
fn read_record_after_a_short_read_takes_the_rest() {
    let (mut s, mut peer) = pair(CipherSuite::TLS13_AES_128_GCM_SHA256);
    let mut wire = BytesMut::new();
    peer.seal(ContentType::ApplicationData, b"0123456789", &mut wire)
        .unwrap();
    s.recv(&wire);
    let mut buf = [0u8; 4];
    assert_eq!(s.read(&mut buf), Ok(4));
    assert_eq!(s.pending(), 6);
    assert_eq!(&s.read_record().unwrap()[..], b"456789");
    assert_eq!(s.pending(), 0);
    assert_eq!(s.read_record(), Err(SslError::WantRead));
}

#[test]
fn tickets_are_offered_and_bounded() {
    let (mut s, mut peer) = pair(CipherSuite::TLS13_AES_256_GCM_SHA384);
    let mut wire = BytesMut::new();
    let n = MAX_KEPT_TICKETS + 3;
    for i in 0..n {
        // lifetime, age_add, nonce <1 byte>, ticket <2 bytes>, extensions <0>
        let body = [
            0, 0, 1, 0, 0, 0, 0, i as u8, 1, i as u8, 0, 2, 0xaa, i as u8, 0, 0,
        ];
        let mut m = vec![4, 0, 0, body.len() as u8];
        m.extend_from_slice(&body);
        peer.seal(ContentType::Handshake, &m, &mut wire).unwrap();
    }
    peer.seal(ContentType::ApplicationData, b"after", &mut wire)
        .unwrap();
    s.recv(&wire);
    assert_eq!(&s.read_record().unwrap()[..], b"after");
    let t = s.take_tickets();
    assert_eq!(t.len(), MAX_KEPT_TICKETS, "the newest are kept");
    assert_eq!(t.last().unwrap()[7], (n - 1) as u8);
    assert_eq!(t[0][7], (n - MAX_KEPT_TICKETS) as u8);
    assert!(s.take_tickets().is_empty());
}

#[test]
fn buffered_counts_what_the_record_layer_holds() {
    let (mut s, mut peer) = pair(CipherSuite::TLS13_AES_128_GCM_SHA256);
    let mut wire = BytesMut::new();
    peer.seal(ContentType::ApplicationData, b"0123456789", &mut wire)
        .unwrap();
    assert_eq!(s.buffered(), 0);
    // A partial record: received, not yet taken (OpenSSL reads on demand).
    s.recv(&wire[..7]);
    assert_eq!(s.read(&mut [0u8; 4]), Err(SslError::WantRead));
    assert_eq!((s.unread_input(), s.buffered()), (0, 7));
    s.recv(&wire[7..]);
    assert_eq!(s.read(&mut [0u8; 4]), Ok(4));
    // The record's unread plaintext is what is held now.
    assert_eq!(s.buffered(), 6);
    assert_eq!(s.read(&mut [0u8; 16]), Ok(6));
    assert_eq!(s.buffered(), 0);
}

/// However the reader's buffer compares with the records (larger: records
/// are opened where they lie in the received bytes and copied out; smaller:
/// the record is split off and read in parts), `read` returns at most one
/// record per call, the same bytes, and skips empty records and ignorable
/// alerts in between; `pending` tells what is left of a record.
#[test]
fn reads_give_the_same_records_whatever_the_buffer_size() {
    for suite in [
        CipherSuite::TLS13_AES_128_GCM_SHA256,
        CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    ] {
        let tls13 = suite.version() == tlsrec::Version::Tls13;
        // TLS 1.3 ignores user_canceled; TLS 1.2 any warning but
        // close_notify and no_renegotiation.
        let alert = if tls13 { [1u8, 90] } else { [1u8, 112] };
        let sizes = [64usize, 0, 1, 16384, 0, 0, 300, 5000];
        let mut wire = BytesMut::new();
        let mut want: Vec<Vec<u8>> = Vec::new();
        let (_, mut peer) = pair(suite);
        for (i, &n) in sizes.iter().enumerate() {
            let p = vec![i as u8 + 1; n];
            peer.seal(ContentType::ApplicationData, &p, &mut wire)
                .unwrap();
            if i == 3 {
                peer.seal(ContentType::Alert, &alert, &mut wire).unwrap();
            }
            if n > 0 {
                want.push(p);
            }
        }
        for bufsize in [16384usize, 20000, 299, 7, 1] {
            for segment in [wire.len(), 1] {
                let (mut s, _) = pair(suite);
                let mut got: Vec<Vec<u8>> = Vec::new();
                let mut current: Vec<u8> = Vec::new();
                let mut buf = vec![0u8; bufsize];
                for seg in wire.chunks(segment) {
                    s.recv(seg);
                    loop {
                        match s.read(&mut buf) {
                            Ok(n) => {
                                assert!(n > 0);
                                current.extend_from_slice(&buf[..n]);
                                if s.pending() == 0 {
                                    got.push(std::mem::take(&mut current));
                                }
                            }
                            Err(SslError::WantRead) => break,
                            Err(e) => panic!("{}: {e}", suite.name()),
                        }
                    }
                }
                assert!(current.is_empty());
                assert_eq!(
                    got,
                    want,
                    "{} buffer {bufsize} segment {segment}",
                    suite.name()
                );
            }
        }
    }
}

const SUITES: [CipherSuite; 4] = [
    CipherSuite::TLS13_AES_128_GCM_SHA256,
    CipherSuite::TLS13_CHACHA20_POLY1305_SHA256,
    CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
];

/// Two sessions of one connection: `a` writes, `b` (its server) reads.
fn joined(suite: CipherSuite, cfg: &Config) -> (Session, Session) {
    let a = suite.aead();
    let key = |b: u8| {
        RecordKeys::new(
            suite,
            &vec![b; a.key_len()],
            &vec![b ^ 0x33; a.fixed_iv_len(suite.version())],
        )
        .unwrap()
    };
    let est = |r: u8, w: u8| Established {
        suite,
        read: key(r),
        read_seq: 0,
        write: key(w),
        write_seq: 0,
        secrets: None,
    };
    (
        Session::client_from_established(est(1, 2), cfg.clone()).unwrap(),
        Session::server_from_established(est(2, 1), cfg.clone()).unwrap(),
    )
}

/// `write_with` puts on the wire exactly what `write` of the same bytes
/// does (TLS 1.2 explicit nonces are sequence numbers, so records are
/// deterministic): sealed in place when `write` would take its one-record
/// path, through `write` otherwise (40,000 bytes take three records).
#[test]
fn write_with_sends_what_write_sends() {
    for suite in SUITES {
        let (mut a, _) = joined(suite, &Config::default());
        let (mut z, mut b) = joined(suite, &Config::default());
        let mut expect = Vec::new();
        for (i, len) in [1usize, 64, 1000, 16384, 40000, 0, 17]
            .into_iter()
            .enumerate()
        {
            let data: Vec<u8> = (0..len).map(|j| (i * 31 + j) as u8).collect();
            let mut calls = 0;
            assert_eq!(a.write(&data), Ok(len));
            let r = z.write_with(len, |room| {
                calls += 1;
                assert_eq!(room.len(), len);
                assert!(room.iter().all(|&b| b == 0), "zeroed");
                room.copy_from_slice(&data);
            });
            assert_eq!(r, Ok(len));
            assert_eq!(calls, 1);
            let (wa, wz) = (a.take_outgoing(usize::MAX), z.take_outgoing(usize::MAX));
            assert_eq!(wa, wz, "{} write of {len}", suite.name());
            b.recv_bytes(wz);
            expect.extend_from_slice(&data);
        }
        let mut got = Vec::new();
        loop {
            match b.read_record() {
                Ok(r) => got.extend_from_slice(&r),
                Err(SslError::WantRead) => break,
                Err(e) => panic!("{e:?}"),
            }
        }
        assert_eq!(got, expect);
    }
}

/// Over a bounded transport `write_with` blocks like `write`: WantWrite,
/// then a retry with the same length and bytes completes, and nothing is
/// sent twice.
#[test]
fn write_with_retries_like_write() {
    let suite = CipherSuite::TLS13_AES_256_GCM_SHA384;
    let (mut z, mut b) = joined(suite, &Config::default());
    z.set_outgoing_capacity(Some(3000));
    let data: Vec<u8> = (0..50_000u32).map(|j| (j % 251) as u8).collect();
    let mut got = Vec::new();
    let mut blocked = 0;
    loop {
        match z.write_with(data.len(), |room| room.copy_from_slice(&data)) {
            Ok(n) => {
                assert_eq!(n, data.len());
                break;
            }
            Err(SslError::WantWrite) => blocked += 1,
            Err(e) => panic!("{e:?}"),
        }
        b.recv_bytes(z.take_outgoing(usize::MAX));
        while let Ok(r) = b.read_record() {
            got.extend_from_slice(&r);
        }
    }
    b.recv_bytes(z.take_outgoing(usize::MAX));
    while let Ok(r) = b.read_record() {
        got.extend_from_slice(&r);
    }
    assert!(blocked > 3, "{blocked}");
    assert_eq!(got, data);
}

/// `recv_buf` / `recv_bytes` adopt a buffer nobody else holds: the record read back is
/// a slice of the very memory the transport delivered (no copy on
/// receive, none on the way out with `read_record`).
#[test]
fn received_buffer_is_adopted_without_a_copy() {
    for suite in SUITES {
        let (mut a, mut b) = joined(suite, &Config::default());
        assert_eq!(a.write(&[0x5a; 3000]), Ok(3000));
        // A buffer of the caller's own (as a socket read fills), once as
        // BytesMut, once as a Bytes no other handle shares.
        let wire = a.take_outgoing(usize::MAX).to_vec();
        let fresh = BytesMut::from(&wire[..]);
        let range = fresh.as_ptr() as usize..fresh.as_ptr() as usize + fresh.len();
        b.recv_buf(fresh);
        let rec = b.read_record().unwrap();
        assert!(range.contains(&(rec.as_ptr() as usize)), "recv_buf copied");
        assert_eq!(a.write(&[0x5a; 3000]), Ok(3000));
        let wire = bytes::Bytes::from(a.take_outgoing(usize::MAX).to_vec());
        let range = wire.as_ptr() as usize..wire.as_ptr() as usize + wire.len();
        b.recv_bytes(wire);
        let rec = b.read_record().unwrap();
        assert_eq!(&rec[..], &[0x5a; 3000][..]);
        assert!(
            range.contains(&(rec.as_ptr() as usize)),
            "{}: the plaintext is not where the wire bytes were",
            suite.name()
        );
        // Between two sessions: the writer's whole outgoing buffer.
        assert_eq!(a.write(&[0x77; 2000]), Ok(2000));
        let wire = a.take_outgoing_buf();
        let range = wire.as_ptr() as usize..wire.as_ptr() as usize + wire.len();
        b.recv_buf(wire);
        let rec = b.read_record().unwrap();
        assert_eq!(&rec[..], &[0x77; 2000][..]);
        assert!(
            range.contains(&(rec.as_ptr() as usize)),
            "take_outgoing_buf + recv_buf copied"
        );
        // With bytes already waiting, a buffer is appended (copied) instead,
        // and handed back empty.
        assert_eq!(a.write(b"one"), Ok(3));
        assert_eq!(a.write(b"two"), Ok(3));
        let wire = a.take_outgoing(usize::MAX);
        let cut = wire.len() - 10;
        b.recv(&wire[..cut]);
        let back = b.recv_buf(BytesMut::from(&wire[cut..]));
        assert!(back.is_empty());
        assert_eq!(&b.read_record().unwrap()[..], b"one");
        assert_eq!(&b.read_record().unwrap()[..], b"two");
    }
}

/// Buffers handed back and forth (`recv_buf`'s returned buffer given to
/// the writer) carry the records without a copy each way; that no record
/// allocates is `tests/alloc.rs`'s `passed_buffers_allocate_nothing`.
#[test]
fn buffers_go_round_between_writer_and_reader() {
    for suite in SUITES {
        let (mut a, mut b) = joined(suite, &Config::default());
        let mut spare = BytesMut::new();
        for i in 0..4u8 {
            a.give_outgoing_buf(spare);
            assert_eq!(a.write_with(1000, |room| room.fill(i)), Ok(1000));
            let wire = a.take_outgoing_buf();
            let at = wire.as_ptr() as usize;
            spare = b.recv_buf(wire);
            assert!(spare.is_empty());
            let rec = b.read_record().unwrap();
            assert_eq!(&rec[..], &[i; 1000][..], "{}", suite.name());
            assert!((at..at + 1100).contains(&(rec.as_ptr() as usize)));
        }
    }
}
