//! AEAD usage limits (RFC 8446 5.5): records per key are counted; a TLS 1.3
//! writer updates its key on its own before the limit, a reader refuses to
//! go past it, and TLS 1.2 (no KeyUpdate) refuses to write past it.

use bytes::BytesMut;
use tlsrec::keys::{next_traffic_secret, Secret};
use tlsrec::session::aead_record_limit;
use tlsrec::{
    AeadAlgorithm, AlertDescription, CipherSuite, Config, ContentType, Established, OpaqueRecord,
    Opener, Reason, RecordKeys, Sealer, Session, SslError,
};

const SUITE: CipherSuite = CipherSuite::TLS13_AES_128_GCM_SHA256;

fn secret(b: u8) -> Secret {
    Secret::new(vec![b; 32])
}

fn session(suite: CipherSuite, limit: u64) -> Session {
    let keys = |b: u8| match suite.version() {
        tlsrec::Version::Tls13 => RecordKeys::from_traffic_secret(suite, &secret(b)).unwrap(),
        tlsrec::Version::Tls12 => RecordKeys::new(suite, &[b; 16], &[b; 4]).unwrap(),
    };
    let est = Established {
        suite,
        read: keys(2),
        read_seq: 0,
        write: keys(1),
        write_seq: 0,
        secrets: (suite.version() == tlsrec::Version::Tls13).then(|| (secret(2), secret(1))),
    };
    let cfg = Config {
        record_limit: Some(limit),
        ..Config::default()
    };
    Session::client_from_established(est, cfg).unwrap()
}

fn records(wire: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < wire.len() {
        let len = u16::from_be_bytes([wire[at + 3], wire[at + 4]]) as usize;
        out.push(&wire[at..at + 5 + len]);
        at += 5 + len;
    }
    out
}

#[test]
fn rfc_limits_per_aead() {
    // 2^24.5 = 23726566.4...
    assert_eq!(aead_record_limit(AeadAlgorithm::Aes128Gcm), 23_726_566);
    assert_eq!(aead_record_limit(AeadAlgorithm::Aes256Gcm), 23_726_566);
    assert_eq!(aead_record_limit(AeadAlgorithm::ChaCha20Poly1305), u64::MAX);
    assert!((23_726_566f64 - 2f64.powf(24.5)).abs() < 1.0);
}

#[test]
fn tls13_writer_updates_its_key_before_the_limit() {
    let limit = 8;
    let mut s = session(SUITE, limit);
    let msgs: Vec<Vec<u8>> = (0..40u8).map(|i| vec![i; 100 + i as usize]).collect();
    for m in &msgs {
        assert_eq!(s.write(m), Ok(m.len()));
    }
    let wire = s.take_outgoing(usize::MAX);
    // The peer reads with keys it derives itself (RFC 8446 7.2).
    let mut secret_now = secret(1);
    let mut opener = Opener::new();
    opener.set_keys(RecordKeys::from_traffic_secret(SUITE, &secret_now).unwrap());
    let (mut got, mut updates, mut under_key) = (Vec::new(), 0, 0u64);
    for rec in records(&wire) {
        let plain = opener.open(OpaqueRecord::from_wire(rec).unwrap()).unwrap();
        under_key += 1;
        assert!(under_key <= limit, "a key sealed more than {limit} records");
        match plain.typ {
            ContentType::ApplicationData => got.push(plain.payload.to_vec()),
            ContentType::Handshake => {
                assert_eq!(
                    &plain.payload[..],
                    [24, 0, 0, 1, 0],
                    "KeyUpdate, not requested"
                );
                secret_now = next_traffic_secret(SUITE.hash(), &secret_now).unwrap();
                opener.set_keys(RecordKeys::from_traffic_secret(SUITE, &secret_now).unwrap());
                updates += 1;
                under_key = 0;
            }
            t => panic!("{t:?}"),
        }
    }
    assert_eq!(got, msgs);
    // 40 records, at most 7 data records and the KeyUpdate per key.
    assert_eq!(updates, 40 / 7);
}

#[test]
fn reader_refuses_records_past_the_limit() {
    let limit = 8;
    let mut s = session(SUITE, limit);
    let mut peer = Sealer::new();
    peer.set_keys(RecordKeys::from_traffic_secret(SUITE, &secret(2)).unwrap());
    let mut wire = BytesMut::new();
    for i in 0..=limit {
        peer.seal(ContentType::ApplicationData, &[i as u8; 10], &mut wire)
            .unwrap();
    }
    s.recv(&wire);
    let mut buf = [0u8; 64];
    for i in 0..limit {
        assert_eq!(s.read(&mut buf), Ok(10), "record {i}");
        assert_eq!(buf[0], i as u8);
    }
    match s.read(&mut buf) {
        Err(SslError::Ssl(e)) => {
            assert_eq!(e.reason(), Some(Reason::KeyUsageLimit));
            assert_eq!(e.alert(), Some(AlertDescription::InternalError));
        }
        r => panic!("{r:?}"),
    }
}

#[test]
fn tls12_writer_refuses_to_pass_the_limit() {
    let limit = 5;
    let suite = CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256;
    let mut s = session(suite, limit);
    for _ in 0..limit {
        assert_eq!(s.write(b"ok"), Ok(2));
    }
    match s.write(b"one too many") {
        Err(SslError::Ssl(e)) => assert_eq!(e.reason(), Some(Reason::KeyUsageLimit)),
        r => panic!("{r:?}"),
    }
    assert_eq!(
        records(&s.take_outgoing(usize::MAX)).len() as u64,
        limit + 1
    );
}

#[test]
fn without_automatic_updates_tls13_also_stops_at_the_limit() {
    let limit = 4;
    let est_cfg = Config {
        record_limit: Some(limit),
        key_update_before_limit: false,
        ..Config::default()
    };
    let est = Established {
        suite: SUITE,
        read: RecordKeys::from_traffic_secret(SUITE, &secret(2)).unwrap(),
        read_seq: 0,
        write: RecordKeys::from_traffic_secret(SUITE, &secret(1)).unwrap(),
        write_seq: 0,
        secrets: Some((secret(2), secret(1))),
    };
    let mut s = Session::client_from_established(est, est_cfg).unwrap();
    for _ in 0..limit {
        assert_eq!(s.write(b"x"), Ok(1));
    }
    assert!(matches!(s.write(b"x"), Err(SslError::Ssl(_))));
}
