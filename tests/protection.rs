//! Sealing and opening: round trips for every suite, tampering, TLS 1.3 inner
//! plaintext rules, length limits, sequence numbers, key switches.

mod common;

use bytes::BytesMut;
use common::{seal_stream, test_keys, Rng};
use tlsrec::cipher::{AeadCipher, Provider};
use tlsrec::record::{HEADER_LEN, MAX_PLAINTEXT_LEN};
use tlsrec::{
    AlertDescription, CipherSuite, ContentType, Error, OpaqueRecord, Opener, Reason, Sealer,
    Version,
};

fn opener(suite: CipherSuite) -> Opener {
    let mut o = Opener::new();
    o.set_keys(test_keys(suite, 0x5a));
    o
}

fn open(suite: CipherSuite, wire: &[u8]) -> Result<tlsrec::PlainRecord, Error> {
    opener(suite).open(OpaqueRecord::from_wire(wire)?)
}

#[test]
fn round_trip_every_suite_type_and_size() {
    let mut rng = Rng::new(7);
    for &suite in CipherSuite::ALL {
        for typ in [
            ContentType::ApplicationData,
            ContentType::Handshake,
            ContentType::Alert,
        ] {
            for len in [0usize, 1, 15, 16, 17, 1000, MAX_PLAINTEXT_LEN] {
                let p = rng.bytes(len);
                let wire = seal_stream(suite, &[(typ, p.clone())]);
                let rec = open(suite, &wire).unwrap();
                assert_eq!(
                    (rec.typ, &rec.payload[..]),
                    (typ, &p[..]),
                    "{suite:?} {typ:?} {len}"
                );
                let outer = if suite.version() == Version::Tls13 {
                    23
                } else {
                    u8::from(typ)
                };
                assert_eq!(wire[0], outer);
                assert_eq!(&wire[1..3], &[3, 3]);
            }
        }
    }
}

#[test]
fn any_single_flipped_bit_fails_to_open() {
    for &suite in CipherSuite::ALL {
        let wire = seal_stream(
            suite,
            &[(ContentType::ApplicationData, b"attack at dawn".to_vec())],
        );
        for bit in 0..wire.len() * 8 {
            let mut w = wire.clone();
            w[bit / 8] ^= 1 << (bit % 8);
            match OpaqueRecord::from_wire(&w) {
                // A changed length no longer frames this record.
                Err(Error::BadInput(_)) => assert!((3..5).contains(&(bit / 8))),
                Err(e) => panic!("{e}"),
                Ok(rec) => {
                    let err = opener(suite).open(rec).unwrap_err();
                    assert_eq!(
                        err,
                        Error::InvalidRecord {
                            reason: Reason::DecryptionFailedOrBadRecordMac,
                            alert: Some(AlertDescription::BadRecordMac)
                        },
                        "{suite:?} bit {bit}"
                    );
                }
            }
        }
    }
}

/// Seals an arbitrary TLS 1.3 inner plaintext (to craft what a Sealer won't).
fn tls13_raw(suite: CipherSuite, inner: &[u8], seq: u64) -> Vec<u8> {
    let keys = test_keys(suite, 0x5a);
    let c = AeadCipher::new(suite.aead(), keys.key()).unwrap();
    let mut nonce: [u8; 12] = keys.iv().try_into().unwrap();
    for (n, s) in nonce[4..].iter_mut().zip(seq.to_be_bytes()) {
        *n ^= s;
    }
    let len = (inner.len() + 16) as u16;
    let mut w = vec![23, 3, 3, (len >> 8) as u8, len as u8];
    let mut body = inner.to_vec();
    let tag = c.seal_in_place(&nonce, &w.clone(), &mut body);
    w.extend_from_slice(&body);
    w.extend_from_slice(&tag);
    w
}

#[test]
fn tls13_inner_plaintext_rules() {
    let suite = CipherSuite::TLS13_CHACHA20_POLY1305_SHA256;
    let bad_type = Error::InvalidRecord {
        reason: Reason::BadRecordType,
        alert: Some(AlertDescription::UnexpectedMessage),
    };
    // All-zero inner plaintext: no content type (RFC 8446 5.4).
    assert_eq!(
        open(suite, &tls13_raw(suite, &[0; 10], 0)).unwrap_err(),
        bad_type
    );
    // Inner types other than 21/22/23 (F5), CCS included.
    for t in [0x14u8, 0x18, 0x99] {
        assert_eq!(
            open(suite, &tls13_raw(suite, &[1, 2, t, 0, 0], 0)).unwrap_err(),
            bad_type
        );
    }
    // Tag only, no type byte: bad_record_mac (B3), as is a body shorter than a tag.
    let mac = Error::InvalidRecord {
        reason: Reason::DecryptionFailedOrBadRecordMac,
        alert: Some(AlertDescription::BadRecordMac),
    };
    assert_eq!(open(suite, &tls13_raw(suite, &[], 0)).unwrap_err(), mac);
    assert_eq!(open(suite, &[23, 3, 3, 0, 3, 1, 2, 3]).unwrap_err(), mac);
    // Padding is stripped; content can be empty.
    let r = open(suite, &tls13_raw(suite, &[b'h', b'i', 22, 0, 0, 0], 0)).unwrap();
    assert_eq!(
        (r.typ, &r.payload[..]),
        (ContentType::Handshake, &b"hi"[..])
    );
    let r = open(suite, &tls13_raw(suite, &[23], 0)).unwrap();
    assert_eq!((r.typ, r.payload.len()), (ContentType::ApplicationData, 0));
    // F2: 2^14 content plus padding is fine, 2^14 + 1 is record_overflow.
    let mut inner = vec![7u8; MAX_PLAINTEXT_LEN];
    inner.push(23);
    inner.extend_from_slice(&[0; 200]);
    assert_eq!(
        open(suite, &tls13_raw(suite, &inner, 0))
            .unwrap()
            .payload
            .len(),
        MAX_PLAINTEXT_LEN
    );
    let mut inner = vec![7u8; MAX_PLAINTEXT_LEN + 1];
    inner.push(23);
    assert_eq!(
        open(suite, &tls13_raw(suite, &inner, 0)).unwrap_err(),
        Error::InvalidRecord {
            reason: Reason::DataLengthTooLong,
            alert: Some(AlertDescription::RecordOverflow)
        }
    );
}

#[test]
fn sealer_padding_round_trips_and_is_bounded() {
    let suite = CipherSuite::TLS13_AES_256_GCM_SHA384;
    let mut s = Sealer::new();
    s.set_keys(test_keys(suite, 0x5a));
    let mut out = BytesMut::new();
    s.seal_padded(ContentType::Alert, &[1, 0], 100, &mut out)
        .unwrap();
    assert_eq!(out.len(), HEADER_LEN + 2 + 1 + 100 + 16);
    let r = open(suite, &out).unwrap();
    assert_eq!((r.typ, &r.payload[..]), (ContentType::Alert, &[1u8, 0][..]));
    assert!(s
        .seal_padded(
            ContentType::ApplicationData,
            &[0; MAX_PLAINTEXT_LEN],
            300,
            &mut out
        )
        .is_err());
    assert!(s
        .seal(
            ContentType::ApplicationData,
            &[0; MAX_PLAINTEXT_LEN + 1],
            &mut out
        )
        .is_err());
}

#[test]
fn tls12_plaintext_over_2_14_is_record_overflow() {
    let suite = CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256;
    let keys = test_keys(suite, 0x5a);
    let c = AeadCipher::new(suite.aead(), keys.key()).unwrap();
    let nonce: [u8; 12] = keys.iv().try_into().unwrap(); // seq 0
    let mut body = vec![1u8; MAX_PLAINTEXT_LEN + 1];
    let mut aad = [0u8; 13];
    aad[8] = 23;
    aad[9..11].copy_from_slice(&[3, 3]);
    aad[11..].copy_from_slice(&((MAX_PLAINTEXT_LEN + 1) as u16).to_be_bytes());
    let tag = c.seal_in_place(&nonce, &aad, &mut body);
    let len = (body.len() + 16) as u16;
    let mut w = vec![23, 3, 3, (len >> 8) as u8, len as u8];
    w.extend_from_slice(&body);
    w.extend_from_slice(&tag);
    assert_eq!(
        open(suite, &w).unwrap_err(),
        Error::InvalidRecord {
            reason: Reason::DataLengthTooLong,
            alert: Some(AlertDescription::RecordOverflow)
        }
    );
    // The header type is authenticated: changing it fails the tag (F3).
    let wire = seal_stream(suite, &[(ContentType::ApplicationData, b"x".to_vec())]);
    let mut w = wire.clone();
    w[0] = 22;
    assert_eq!(
        open(suite, &w).unwrap_err().alert(),
        Some(AlertDescription::BadRecordMac)
    );
}

#[test]
fn tls12_gcm_carries_the_sequence_number_as_explicit_nonce() {
    let suite = CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384;
    let mut s = Sealer::new();
    s.set_keys(test_keys(suite, 1));
    let mut out = BytesMut::new();
    for _ in 0..3 {
        s.seal(ContentType::ApplicationData, b"abc", &mut out)
            .unwrap();
    }
    let rec_len = HEADER_LEN + 8 + 3 + 16;
    assert_eq!(out.len(), 3 * rec_len);
    for i in 0..3 {
        assert_eq!(
            &out[i * rec_len + 5..i * rec_len + 13],
            &(i as u64).to_be_bytes()
        );
    }
}

#[test]
fn sequence_numbers_never_wrap() {
    for &suite in CipherSuite::ALL {
        let mut s = Sealer::new();
        s.set_keys(test_keys(suite, 0x5a));
        s.set_sequence(u64::MAX - 1).unwrap();
        let mut out = BytesMut::new();
        s.seal(ContentType::ApplicationData, b"last", &mut out)
            .unwrap();
        assert_eq!(
            s.seal(ContentType::ApplicationData, b"one too many", &mut out),
            Err(Error::SequenceExhausted)
        );
        let mut o = opener(suite);
        o.set_sequence(u64::MAX - 1).unwrap();
        let mut rest = &out[..];
        let first = OpaqueRecord::from_wire(
            &rest[..HEADER_LEN + usize::from(u16::from_be_bytes([rest[3], rest[4]]))],
        )
        .unwrap();
        rest = &rest[first.wire_bytes().len()..];
        assert!(rest.is_empty());
        assert_eq!(&o.open(first).unwrap().payload[..], b"last");
        assert_eq!(o.sequence(), Some(u64::MAX));
        let again = OpaqueRecord::from_wire(&out).unwrap();
        assert_eq!(o.open(again).unwrap_err(), Error::SequenceExhausted);
    }
}

#[test]
fn keys_switch_at_a_record_boundary_only_when_activated() {
    let suite = CipherSuite::TLS13_AES_128_GCM_SHA256;
    let (a, b) = (test_keys(suite, 1), test_keys(suite, 2));
    let mut s = Sealer::new();
    s.set_keys(a.clone());
    let mut out = BytesMut::new();
    s.seal(ContentType::Handshake, b"under a", &mut out)
        .unwrap();
    s.prepare(b.clone());
    s.seal(ContentType::Handshake, b"still a", &mut out)
        .unwrap();
    assert!(s.activate());
    assert_eq!((s.epoch(), s.sequence()), (2, Some(0)));
    s.seal(ContentType::ApplicationData, b"under b", &mut out)
        .unwrap();
    assert!(!s.activate(), "nothing prepared");

    let mut r = tlsrec::RecordReader::new();
    r.set_version(Version::Tls13);
    r.opener_mut().set_keys(a);
    r.push(&out);
    assert_eq!(&r.next_record().unwrap().unwrap().payload[..], b"under a");
    r.opener_mut().prepare(b);
    assert_eq!(&r.next_record().unwrap().unwrap().payload[..], b"still a");
    r.opener_mut().activate();
    assert_eq!(&r.next_record().unwrap().unwrap().payload[..], b"under b");
    assert_eq!(r.opener().epoch(), 2);
}

#[test]
fn a_record_sealed_under_other_keys_or_sequence_fails() {
    let suite = CipherSuite::TLS13_AES_128_GCM_SHA256;
    let wire = seal_stream(suite, &[(ContentType::ApplicationData, b"x".to_vec())]);
    let mut o = Opener::new();
    o.set_keys(test_keys(suite, 0x11));
    assert_eq!(
        o.open(OpaqueRecord::from_wire(&wire).unwrap())
            .unwrap_err()
            .alert(),
        Some(AlertDescription::BadRecordMac)
    );
    let mut o = opener(suite);
    o.set_sequence(1).unwrap();
    assert_eq!(
        o.open(OpaqueRecord::from_wire(&wire).unwrap())
            .unwrap_err()
            .alert(),
        Some(AlertDescription::BadRecordMac)
    );
}

fn sealer(suite: CipherSuite) -> Sealer {
    let mut s = Sealer::new();
    s.set_keys(test_keys(suite, 0x5a));
    s
}

/// `seal_in_place` on a plaintext already in the buffer gives the very bytes
/// `seal` gives from a slice, after whatever the buffer held, for every
/// suite and the plaintext epoch; the record opens.
#[test]
fn seal_in_place_matches_seal() {
    let mut rng = Rng::new(11);
    for &suite in CipherSuite::ALL {
        let (mut a, mut b) = (sealer(suite), sealer(suite));
        for len in [0usize, 1, 15, 16, 17, 64, 1000, MAX_PLAINTEXT_LEN] {
            let payload = rng.bytes(len);
            let n = rng.below(40);
            let earlier = rng.bytes(n);
            let mut copied = BytesMut::from(&earlier[..]);
            a.seal(ContentType::ApplicationData, &payload, &mut copied)
                .unwrap();
            let mut in_place = BytesMut::from(&earlier[..]);
            let start = in_place.len();
            in_place.resize(start + b.prefix_len(), 0xee);
            in_place.extend_from_slice(&payload);
            b.seal_in_place(ContentType::ApplicationData, &mut in_place, start)
                .unwrap();
            assert_eq!(copied, in_place, "{} len {len}", suite.name());
            let plain = open_at(suite, &in_place[start..], a.sequence().unwrap() - 1);
            assert_eq!(plain, payload);
        }
    }
    let mut plain = Sealer::new();
    let mut out = BytesMut::new();
    out.resize(plain.prefix_len(), 0);
    out.extend_from_slice(b"hello");
    plain
        .seal_in_place(ContentType::Handshake, &mut out, 0)
        .unwrap();
    assert_eq!(&out[..], &[22, 3, 3, 0, 5, b'h', b'e', b'l', b'l', b'o']);
}

fn open_at(suite: CipherSuite, wire: &[u8], seq: u64) -> Vec<u8> {
    let mut o = opener(suite);
    o.set_sequence(seq).unwrap();
    let rec = o.open(OpaqueRecord::from_wire(wire).unwrap()).unwrap();
    rec.payload.to_vec()
}

/// A refused seal leaves the output buffer and the sequence number as they
/// were, whether it copies the plaintext or seals it in place.
#[test]
fn refused_seals_leave_the_buffer_as_it_was() {
    let suite = CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256;
    let mut s = sealer(suite);
    let before = BytesMut::from(&b"earlier bytes"[..]);
    // No room for the header and explicit nonce (13 bytes) before the end.
    let mut out = before.clone();
    let r = s.seal_in_place(ContentType::ApplicationData, &mut out, 4);
    assert!(matches!(r, Err(Error::BadInput(_))), "{r:?}");
    assert_eq!(out, before);
    // Plaintext over 2^14 bytes.
    let mut out = before.clone();
    out.resize(before.len() + s.prefix_len() + MAX_PLAINTEXT_LEN + 1, 1);
    let grown = out.clone();
    let r = s.seal_in_place(ContentType::ApplicationData, &mut out, before.len());
    assert!(matches!(r, Err(Error::BadInput(_))), "{r:?}");
    assert_eq!(out, grown);
    assert_eq!(s.sequence(), Some(0));
    // The key's last sequence number is used up.
    s.set_sequence(u64::MAX).unwrap();
    let mut out = before.clone();
    let r = s.seal(ContentType::ApplicationData, b"data", &mut out);
    assert!(matches!(r, Err(Error::SequenceExhausted)), "{r:?}");
    assert_eq!(out, before, "seal's copy is taken back");
    // TLS 1.3 padding past the record limit.
    let mut s = sealer(CipherSuite::TLS13_AES_128_GCM_SHA256);
    let mut out = before.clone();
    let r = s.seal_padded(ContentType::ApplicationData, &[0; 16384], 300, &mut out);
    assert!(matches!(r, Err(Error::BadInput(_))), "{r:?}");
    assert_eq!(out, before);
    assert_eq!(s.sequence(), Some(0));
}

/// `seal` from a slice gives the bytes that sealing the same plaintext in
/// place gives, for every provider, suite and content type, at lengths
/// around the AES block and the record limit; each record opens (with
/// RustCrypto, whatever sealed it) to its plaintext.
#[test]
fn seal_from_a_slice_matches_seal_in_place_every_provider() {
    let mut rng = Rng::new(17);
    for &p in Provider::ALL {
        for &suite in CipherSuite::ALL {
            let keyed = || {
                let mut s = Sealer::new();
                s.set_provider(p);
                s.set_keys(test_keys(suite, 0x5a));
                s
            };
            let (mut a, mut b) = (keyed(), keyed());
            let mut o = Opener::new();
            o.set_provider(Provider::RustCrypto);
            o.set_keys(test_keys(suite, 0x5a));
            for typ in [
                ContentType::ApplicationData,
                ContentType::Handshake,
                ContentType::Alert,
            ] {
                for len in [0usize, 1, 15, 16, 17, 16383, MAX_PLAINTEXT_LEN] {
                    let payload = rng.bytes(len);
                    let n = rng.below(40);
                    let earlier = rng.bytes(n);
                    let mut from_slice = BytesMut::from(&earlier[..]);
                    a.seal(typ, &payload, &mut from_slice).unwrap();
                    let mut in_place = BytesMut::from(&earlier[..]);
                    let start = in_place.len();
                    in_place.resize(start + b.prefix_len(), 0xee);
                    in_place.extend_from_slice(&payload);
                    b.seal_in_place(typ, &mut in_place, start).unwrap();
                    let id = format!("{} {} {typ:?} {len}", p.name(), suite.name());
                    assert_eq!(from_slice, in_place, "{id}");
                    let rec = o
                        .open(OpaqueRecord::from_wire(&from_slice[start..]).unwrap())
                        .unwrap();
                    assert_eq!((rec.typ, &rec.payload[..]), (typ, &payload[..]), "{id}");
                }
            }
        }
    }
}

/// Whose reason a record the cipher refuses gets (`CipherRefusals`): the
/// alerts stay the same, only the reason moves.
#[test]
fn cipher_refusals_choose_the_reason_only() {
    use tlsrec::cipher::CipherRefusals;
    let rec = |reason, alert| Error::InvalidRecord {
        reason,
        alert: Some(alert),
    };
    for &suite in CipherSuite::ALL {
        let wire = seal_stream(suite, &[(ContentType::ApplicationData, b"x".to_vec())]);
        let mut bad_tag = wire.clone();
        *bad_tag.last_mut().unwrap() ^= 1;
        // A body of 7 bytes: too short for any suite's nonce and tag.
        let short = [23, 3, 3, 0, 7, 1, 2, 3, 4, 5, 6, 7];
        let tls12 = suite.version() == Version::Tls12;
        let gcm = suite.aead() != tlsrec::AeadAlgorithm::ChaCha20Poly1305;
        for (refusals, short_bad_mac) in [
            (CipherRefusals::Libssl, false),
            (CipherRefusals::ProviderLength, false),
            (CipherRefusals::Provider, false),
            (CipherRefusals::Provider, true),
            (CipherRefusals::Libssl, true),
        ] {
            let id = format!("{suite:?} {refusals:?} {short_bad_mac}");
            let run = |w: &[u8]| {
                let mut o = opener(suite);
                o.set_cipher_refusals(refusals);
                o.set_short_record_bad_mac(short_bad_mac);
                o.open(OpaqueRecord::from_wire(w).unwrap()).unwrap_err()
            };
            let tag_reason = if tls12 && gcm && refusals == CipherRefusals::Provider {
                Reason::CipherOperationFailed
            } else {
                Reason::DecryptionFailedOrBadRecordMac
            };
            assert_eq!(
                run(&bad_tag),
                rec(tag_reason, AlertDescription::BadRecordMac),
                "{id}"
            );
            let short_err = if !tls12 && refusals == CipherRefusals::Libssl {
                // 1.1.1: `tls13_enc` finds the record publicly invalid.
                rec(
                    Reason::BlockCipherPadIsWrong,
                    AlertDescription::BadRecordMac,
                )
            } else if !tls12 || short_bad_mac {
                rec(
                    Reason::DecryptionFailedOrBadRecordMac,
                    AlertDescription::BadRecordMac,
                )
            } else if refusals == CipherRefusals::Libssl {
                rec(Reason::InternalError, AlertDescription::InternalError)
            } else if gcm {
                rec(Reason::InvalidAad, AlertDescription::InternalError)
            } else {
                rec(Reason::InvalidData, AlertDescription::InternalError)
            };
            assert_eq!(run(&short), short_err, "{id}");
        }
    }
}

/// `seal` from the caller's slice takes the out-of-place path for 1 KiB and
/// more where the provider has one (aws-lc-rs; RustCrypto for TLS 1.2), and
/// copies in and seals in place otherwise; `seal_in_place` always seals in
/// place. Every provider compiled in, both calls, must give the bytes
/// RustCrypto gives sealing in place (an independent implementation of the
/// same AEAD), at sizes on both sides of the switch.
#[test]
fn both_sealing_paths_give_the_same_record_with_every_provider() {
    // The provider is chosen before the keys: it applies to keys activated
    // from then on.
    let sealer_on = |suite, provider, seq| {
        let mut s = Sealer::new();
        s.set_provider(provider);
        s.set_keys(test_keys(suite, 0x5a));
        s.set_sequence(seq).unwrap();
        s
    };
    let mut rng = Rng::new(11);
    for &suite in CipherSuite::ALL {
        for len in [0usize, 1, 64, 1023, 1024, 2049, 4096, MAX_PLAINTEXT_LEN] {
            let p = rng.bytes(len);
            let mut want = BytesMut::new();
            for seq in 0..2u64 {
                let mut reference = sealer_on(suite, Provider::RustCrypto, seq);
                want.clear();
                let start = want.len();
                want.resize(start + reference.prefix_len(), 0);
                want.extend_from_slice(&p);
                reference
                    .seal_in_place(ContentType::ApplicationData, &mut want, start)
                    .unwrap();
                for &provider in Provider::ALL {
                    let mut s = sealer_on(suite, provider, seq);
                    let mut from_slice = BytesMut::from(&b"kept"[..]);
                    s.seal(ContentType::ApplicationData, &p, &mut from_slice)
                        .unwrap();
                    assert_eq!(&from_slice[..4], b"kept");
                    assert_eq!(
                        &from_slice[4..],
                        &want[..],
                        "{suite:?} {provider:?} {len} bytes, seq {seq}: seal"
                    );
                    let mut s = sealer_on(suite, provider, seq);
                    let mut in_place = BytesMut::new();
                    in_place.resize(s.prefix_len(), 0);
                    in_place.extend_from_slice(&p);
                    s.seal_in_place(ContentType::ApplicationData, &mut in_place, 0)
                        .unwrap();
                    assert_eq!(
                        &in_place[..],
                        &want[..],
                        "{suite:?} {provider:?} {len} bytes, seq {seq}: seal_in_place"
                    );
                }
            }
            // `want` holds the record sealed at sequence 1.
            assert_eq!(open_at(suite, &want, 1), p, "{suite:?} {len} bytes");
        }
    }
}

/// With `TLSREC_PROVIDER` set (`.ci/run` runs the whole suite once per
/// provider that way), it must name a compiled provider, and that provider
/// is what every opener and sealer, and so every test here, uses by
/// default: a misspelt name fails here instead of silently testing the
/// calibration's choice again.
#[test]
fn the_provider_named_by_the_environment_is_the_default() {
    let name = std::env::var(tlsrec::cipher::PROVIDER_ENV).unwrap_or_default();
    if name.trim().is_empty() {
        return;
    }
    let compiled: Vec<&str> = Provider::ALL.iter().map(|p| p.name()).collect();
    let pinned = Provider::pinned_by_env().unwrap_or_else(|| {
        panic!("TLSREC_PROVIDER={name:?} names no compiled provider (compiled: {compiled:?})")
    });
    let c = Provider::calibration();
    assert_eq!((c.chosen, c.pinned), (pinned, true), "{c:?}");
    assert_eq!(Opener::new().provider(), pinned);
    assert_eq!(Sealer::new().provider(), pinned);
    eprintln!("every test in this process uses {}", pinned.name());
}

/// `seal` asks for exactly the room of the record it writes: into a buffer
/// with room for that record and no more, it seals without growing it.
/// Reserving one byte more (TLS 1.3's content type byte, reserved for
/// TLS 1.2 too until stop 16) made the last record of a run overflow a
/// buffer that earlier runs had sized, and `BytesMut::reserve` then moved
/// every record already in it: 246 KB copied per 256 KiB written with ring
/// and TLS 1.2 (BENCHMARKS.md, "A byte too many").
#[test]
fn seal_needs_no_more_room_than_the_record() {
    for &suite in CipherSuite::ALL {
        for &provider in Provider::ALL {
            for len in [0usize, 1, 1023, 1024, 4096, MAX_PLAINTEXT_LEN] {
                let mut s = Sealer::new();
                s.set_provider(provider);
                s.set_keys(test_keys(suite, 0x5a));
                let exact = s.overhead() + len;
                let id = format!("{suite:?} {} {len}", provider.name());
                // Two records: the second goes after the first, as in a run.
                let mut out = BytesMut::with_capacity(2 * exact);
                assert_eq!(out.capacity(), 2 * exact, "{id}");
                let payload = vec![0x42; len];
                s.seal(ContentType::ApplicationData, &payload, &mut out)
                    .unwrap();
                s.seal(ContentType::ApplicationData, &payload, &mut out)
                    .unwrap();
                assert_eq!(out.len(), 2 * exact, "{id}");
                assert_eq!(out.capacity(), 2 * exact, "{id}: the buffer grew");
            }
        }
    }
}
