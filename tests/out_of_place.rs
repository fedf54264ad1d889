//! `read(&mut [u8])` opens a whole record (of a body of 1 KiB or more)
//! straight into the caller's buffer where it holds the record's plaintext
//! and the provider opens out of place (aws-lc-rs, RustCrypto); ring,
//! shorter records and buffers too short take the path of opening in place
//! and copying out. Both give the same results,
//! errors, alerts and state; a record that is not returned as data leaves
//! no plaintext in the buffer.

use bytes::BytesMut;
use tlsrec::cipher::{AeadCipher, Provider};
use tlsrec::{
    AeadAlgorithm, AlertDescription, CipherSuite, Config, ContentType, Established, RecordKeys,
    Sealer, Session, SslError, Version,
};

const MARK: u8 = 0xa5;

fn keys(suite: CipherSuite, salt: u8) -> RecordKeys {
    let a = suite.aead();
    let key: Vec<u8> = (0..a.key_len()).map(|i| i as u8 ^ salt).collect();
    let iv: Vec<u8> = (0..a.fixed_iv_len(suite.version()))
        .map(|i| (i as u8).wrapping_mul(3) ^ salt)
        .collect();
    RecordKeys::new(suite, &key, &iv).unwrap()
}

/// A session reading what `peer` seals, both with provider `p`.
fn pair(suite: CipherSuite, p: Provider) -> (Session, Sealer) {
    let est = Established {
        suite,
        read: keys(suite, 7),
        read_seq: 0,
        write: keys(suite, 9),
        write_seq: 0,
        secrets: None,
    };
    let cfg = Config {
        provider: Some(p),
        ..Config::default()
    };
    let s = Session::client_from_established(est, cfg).unwrap();
    let mut peer = Sealer::new();
    peer.set_provider(p);
    peer.set_keys(keys(suite, 7));
    (s, peer)
}

fn opens_out_of_place(p: Provider, suite: CipherSuite) -> bool {
    let k = keys(suite, 7);
    AeadCipher::with_provider(p, suite.aead(), k.key())
        .unwrap()
        .opens_out_of_place()
}

/// Plaintext bytes that are never 0 or `MARK`, so a buffer holding only
/// those two holds none of it.
fn payload(len: usize, seed: usize) -> Vec<u8> {
    (0..len).map(|i| (((i + seed) % 200) + 1) as u8).collect()
}

/// Every provider, suite and length, with buffers as long as the data, one
/// longer (a TLS 1.3 record's inner plaintext), longer still, and shorter:
/// `read` returns the record's bytes and leaves the buffer past them as it
/// was.
#[test]
fn reads_into_the_callers_buffer_every_provider_suite_and_length() {
    for &p in Provider::ALL {
        for &suite in CipherSuite::ALL {
            for len in [1usize, 15, 16, 17, 1000, 1007, 1008, 1009, 16383, 16384] {
                let data = payload(len, len);
                for bufsize in [len, len + 1, len + 64, 16384 + 256, len - 1] {
                    if bufsize == 0 {
                        continue;
                    }
                    let id = format!("{} {} len {len} buffer {bufsize}", p.name(), suite.name());
                    let (mut s, mut peer) = pair(suite, p);
                    let mut wire = BytesMut::new();
                    peer.seal(ContentType::ApplicationData, &[], &mut wire)
                        .unwrap();
                    peer.seal(ContentType::ApplicationData, &data, &mut wire)
                        .unwrap();
                    s.recv(&wire);
                    let mut buf = vec![MARK; bufsize];
                    let n = s.read(&mut buf).unwrap();
                    assert_eq!(n, len.min(bufsize), "{id}");
                    assert_eq!(&buf[..n], &data[..n], "{id}");
                    assert!(buf[n..].iter().all(|&b| b == MARK), "{id}: past the data");
                    assert_eq!(s.pending(), len - n, "{id}");
                    if n < len {
                        let mut rest = vec![MARK; 16];
                        assert_eq!(s.read(&mut rest), Ok(len - n), "{id}");
                        assert_eq!(&rest[..len - n], &data[n..], "{id}");
                    }
                    assert_eq!((s.buffered(), s.unread_input()), (0, 0), "{id}");
                    assert_eq!(s.read(&mut buf), Err(SslError::WantRead), "{id}");
                }
            }
        }
    }
}

/// TLS 1.3 padding: the content type and padding written past the data are
/// put back from what the buffer held (up to 16 bytes) or zeroed; ring,
/// which opens in place and copies, leaves the buffer past the data alone.
/// (The zeros show which path a record took.)
#[test]
fn tls13_padding_past_the_data_is_put_back_or_zeroed() {
    for &p in Provider::ALL {
        for suite in [
            CipherSuite::TLS13_AES_128_GCM_SHA256,
            CipherSuite::TLS13_CHACHA20_POLY1305_SHA256,
        ] {
            let direct = opens_out_of_place(p, suite);
            for padding in [0usize, 3, 14, 15, 16, 40] {
                let id = format!("{} {} padding {padding}", p.name(), suite.name());
                let (mut s, mut peer) = pair(suite, p);
                let data = payload(2000, padding);
                let mut wire = BytesMut::new();
                peer.seal_padded(ContentType::ApplicationData, &data, padding, &mut wire)
                    .unwrap();
                s.recv(&wire);
                let mut buf = vec![MARK; 2100];
                assert_eq!(s.read(&mut buf), Ok(2000), "{id}");
                assert_eq!(&buf[..2000], &data[..], "{id}");
                let written = 1 + padding;
                let past = &buf[2000..2000 + written];
                if direct && written > 16 {
                    assert!(past.iter().all(|&b| b == 0), "{id}: {past:?}");
                } else {
                    assert!(past.iter().all(|&b| b == MARK), "{id}: {past:?}");
                }
                assert!(buf[2000 + written..].iter().all(|&b| b == MARK), "{id}");
            }
        }
    }
}

/// What two sessions show after the same calls, to compare the paths.
fn state(s: &mut Session) -> (Result<usize, SslError>, Vec<u8>, bool, usize, usize, usize) {
    let read = s.read(&mut [0u8; 64]);
    let alert = s.take_outgoing(usize::MAX).to_vec();
    (
        read,
        alert,
        s.has_pending(),
        s.buffered(),
        s.unread_input(),
        s.pending(),
    )
}

/// Reads everything with a 1-byte buffer (so every record is opened in
/// place and copied out) until an error; returns the data and the error.
fn read_bytewise(s: &mut Session) -> (Vec<u8>, SslError) {
    let mut got = Vec::new();
    loop {
        let mut b = [0u8; 1];
        match s.read(&mut b) {
            Ok(n) => got.extend_from_slice(&b[..n]),
            Err(e) => return (got, e),
        }
    }
}

/// A record whose tag or ciphertext was changed fails with bad_record_mac
/// and sends that alert, as it does when opened in place; the session is
/// left in the same state; the caller's buffer holds no plaintext (zeros
/// where the AEAD wrote, or what it held).
#[test]
fn a_record_that_fails_to_open_fails_as_before_and_leaves_no_plaintext() {
    for &p in Provider::ALL {
        for &suite in CipherSuite::ALL {
            for flip in ["tag", "ciphertext"] {
                let id = format!("{} {} {flip}", p.name(), suite.name());
                let (mut s, mut peer) = pair(suite, p);
                let (mut r, _) = pair(suite, p);
                let first = payload(5, 1);
                let data = payload(16384, 2);
                let mut wire = BytesMut::new();
                peer.seal(ContentType::ApplicationData, &first, &mut wire)
                    .unwrap();
                let at = wire.len();
                peer.seal(ContentType::ApplicationData, &data, &mut wire)
                    .unwrap();
                peer.seal(ContentType::ApplicationData, b"after", &mut wire)
                    .unwrap();
                let bad = match flip {
                    "tag" => {
                        at + 5
                            + wire[at + 3..at + 5]
                                .iter()
                                .fold(0, |a, &b| a * 256 + b as usize)
                            - 1
                    }
                    _ => at + 5 + 8 + 100,
                };
                wire[bad] ^= 0x10;
                s.recv(&wire);
                r.recv(&wire);
                let mut buf = vec![MARK; 16384 + 256];
                assert_eq!(s.read(&mut buf), Ok(5), "{id}");
                assert_eq!(&buf[..5], &first[..], "{id}");
                buf.fill(MARK);
                let err = s.read(&mut buf).unwrap_err();
                let (got, want) = read_bytewise(&mut r);
                assert_eq!(got, first, "{id}");
                assert_eq!(err, want, "{id}");
                let SslError::Ssl(e) = &err else {
                    panic!("{id}: {err:?}")
                };
                assert_eq!(e.alert(), Some(AlertDescription::BadRecordMac), "{id}");
                // The default profile (3.0) reports its AES-GCM provider's
                // reason for a TLS 1.2 tag that does not verify, on both
                // paths.
                let gcm12 = suite.version() == Version::Tls12
                    && suite.aead() != AeadAlgorithm::ChaCha20Poly1305;
                assert_eq!(
                    e.openssl_reason(),
                    Some(if gcm12 {
                        "cipher operation failed"
                    } else {
                        "decryption failed or bad record mac"
                    }),
                    "{id}"
                );
                assert!(
                    buf.iter().all(|&b| b == 0 || b == MARK),
                    "{id}: plaintext left in the buffer"
                );
                assert_eq!(state(&mut s), state(&mut r), "{id}");
                assert_eq!(s.write(b"x"), r.write(b"x"), "{id}");
            }
        }
    }
}

/// Records to seal: content type and plaintext.
type Records = Vec<(ContentType, Vec<u8>)>;

/// TLS 1.3 records that open but are not data for the caller (padded to
/// over 1 KiB, so that they are opened into the buffer): a bad inner
/// content type and an inner plaintext of zeros are refused as when opened
/// in place (unexpected_message), a NewSessionTicket is kept, close_notify
/// ends the stream; none of their plaintext stays in the buffer.
#[test]
fn tls13_records_other_than_data_are_handled_as_before() {
    let ticket = {
        let body = [0, 0, 1, 0, 0, 0, 0, 9, 1, 9, 0, 2, 0xaa, 9, 0, 0];
        let mut m = vec![4, 0, 0, body.len() as u8];
        m.extend_from_slice(&body);
        m
    };
    let cases: [(&str, Records); 4] = [
        ("bad type", vec![(ContentType::from(99), payload(40, 3))]),
        ("zeros", vec![(ContentType::from(0), vec![0; 40])]),
        (
            "ticket",
            vec![
                (ContentType::Handshake, ticket.clone()),
                (ContentType::ApplicationData, payload(30, 4)),
            ],
        ),
        (
            "close_notify",
            vec![
                (ContentType::ApplicationData, payload(30, 5)),
                (ContentType::Alert, vec![1, 0]),
            ],
        ),
    ];
    for &p in Provider::ALL {
        for suite in [
            CipherSuite::TLS13_AES_256_GCM_SHA384,
            CipherSuite::TLS13_CHACHA20_POLY1305_SHA256,
        ] {
            assert_eq!(suite.version(), Version::Tls13);
            for (name, records) in &cases {
                let id = format!("{} {} {name}", p.name(), suite.name());
                let (mut s, mut peer) = pair(suite, p);
                let (mut r, _) = pair(suite, p);
                let mut wire = BytesMut::new();
                for (t, m) in records {
                    peer.seal_padded(*t, m, 1100, &mut wire).unwrap();
                }
                s.recv(&wire);
                r.recv(&wire);
                let mut got = Vec::new();
                let mut buf = vec![MARK; 4000];
                let err = loop {
                    match s.read(&mut buf) {
                        Ok(n) => {
                            got.extend_from_slice(&buf[..n]);
                            buf.fill(MARK);
                        }
                        Err(e) => break e,
                    }
                };
                assert!(
                    buf.iter().all(|&b| b == 0 || b == MARK),
                    "{id}: plaintext left in the buffer"
                );
                if opens_out_of_place(p, suite) && matches!(*name, "bad type" | "zeros") {
                    // Opened into the buffer (in place, it stays untouched).
                    assert!(buf[..1141].iter().all(|&b| b == 0), "{id}");
                }
                let (want_got, want_err) = read_bytewise(&mut r);
                assert_eq!((&got, &err), (&want_got, &want_err), "{id}");
                let data: Vec<u8> = records
                    .iter()
                    .filter(|(t, _)| *t == ContentType::ApplicationData)
                    .flat_map(|(_, m)| m.clone())
                    .collect();
                assert_eq!(got, data, "{id}");
                assert_eq!(state(&mut s), state(&mut r), "{id}");
                let tickets = s.take_tickets();
                assert_eq!(tickets, r.take_tickets(), "{id}");
                if *name == "ticket" {
                    assert_eq!(tickets.len(), 1, "{id}");
                    assert_eq!(&tickets[0][..], &ticket[4..], "{id}");
                }
            }
        }
    }
}

/// A record whose plaintext is over 2^14 bytes (TLS 1.2; TLS 1.3 with its
/// content type after it), sealed here with the raw AEAD since a sealer
/// refuses it, fails with record_overflow whether it is opened into a
/// buffer that holds it or in place, and leaves no plaintext in the buffer.
#[test]
fn plaintext_over_2_14_is_record_overflow_either_way() {
    for &p in Provider::ALL {
        for suite in [
            CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
            CipherSuite::TLS13_AES_128_GCM_SHA256,
        ] {
            let id = format!("{} {}", p.name(), suite.name());
            let k = keys(suite, 7);
            let c = AeadCipher::with_provider(p, suite.aead(), k.key()).unwrap();
            // Sequence number 0: the nonce is the IV.
            let nonce: [u8; 12] = k.iv().try_into().unwrap();
            let mut inner = payload(16385, 9);
            let tls13 = suite.version() == Version::Tls13;
            if tls13 {
                inner.push(23);
            }
            let len = (inner.len() + 16) as u16;
            let header = [23u8, 3, 3, (len >> 8) as u8, len as u8];
            let mut aad = vec![0u8; 8];
            aad.extend_from_slice(&[23, 3, 3]);
            aad.extend_from_slice(&(inner.len() as u16).to_be_bytes());
            let aad = if tls13 { &header[..] } else { &aad[..] };
            let tag = c.seal_in_place(&nonce, aad, &mut inner);
            let mut wire = header.to_vec();
            wire.extend_from_slice(&inner);
            wire.extend_from_slice(&tag);
            let (mut s, _) = pair(suite, p);
            let (mut r, _) = pair(suite, p);
            s.recv(&wire);
            r.recv(&wire);
            let mut buf = vec![MARK; 20000];
            let err = s.read(&mut buf).unwrap_err();
            let (got, want) = read_bytewise(&mut r);
            assert!(got.is_empty(), "{id}");
            assert_eq!(err, want, "{id}");
            let SslError::Ssl(e) = &err else {
                panic!("{id}: {err:?}")
            };
            assert_eq!(e.alert(), Some(AlertDescription::RecordOverflow), "{id}");
            assert!(
                buf.iter().all(|&b| b == 0 || b == MARK),
                "{id}: plaintext left in the buffer"
            );
            if opens_out_of_place(p, suite) {
                assert!(buf[..16385].iter().all(|&b| b == 0), "{id}: opened into it");
            }
            assert_eq!(state(&mut s), state(&mut r), "{id}");
        }
    }
}
