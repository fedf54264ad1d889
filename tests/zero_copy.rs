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
        let (mut s, mut peer) = pair(suite);
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
        // Arrives in 3-byte segments.
        let mut got = Vec::new();
        for seg in wire.chunks(3) {
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
        let want: Vec<Vec<u8>> = payloads.into_iter().filter(|p| !p.is_empty()).collect();
        assert_eq!(got, want, "{suite:?}");
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
