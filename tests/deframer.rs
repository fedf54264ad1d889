//! Records from any segmentation: header prefixes, every split offset, 1-byte
//! segments, random splits; bad headers refused before their bodies; memory
//! bounded.

mod common;

use common::{seal_stream, test_keys, Rng};
use tlsrec::record::{HEADER_LEN, MAX_RECORD_LEN};
use tlsrec::{
    AlertDescription, CipherSuite, ContentType, Deframer, Error, PlainRecord, Reason, RecordReader,
};

/// Feeds `wire` to a reader in the given segment sizes, collecting records.
fn read_all(
    suite: CipherSuite,
    wire: &[u8],
    cuts: &mut dyn FnMut(usize) -> usize,
) -> Vec<PlainRecord> {
    let mut r = RecordReader::new();
    r.set_version(suite.version());
    r.opener_mut().set_keys(test_keys(suite, 0x5a));
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < wire.len() {
        let want = cuts(wire.len() - pos).clamp(1, wire.len() - pos);
        let mut seg = &wire[pos..pos + want];
        pos += want;
        while !seg.is_empty() {
            let n = r.push(seg);
            assert!(n <= seg.len(), "consumed more than given");
            seg = &seg[n..];
            while let Some(rec) = r.next_record().unwrap() {
                out.push(rec);
            }
            assert!(r.deframer().buffered() <= MAX_RECORD_LEN);
        }
    }
    assert_eq!(
        r.deframer().buffered(),
        0,
        "a whole stream leaves nothing behind"
    );
    out
}

fn sample_payloads(rng: &mut Rng) -> Vec<(ContentType, Vec<u8>)> {
    let mut v = vec![
        (ContentType::ApplicationData, b"first".to_vec()),
        (ContentType::ApplicationData, Vec::new()),
        (ContentType::Handshake, vec![4, 0, 0, 0]),
        (ContentType::Alert, vec![1, 0]),
        (ContentType::ApplicationData, vec![0xee; 16384]),
    ];
    for _ in 0..6 {
        let n = rng.below(3000);
        v.push((ContentType::ApplicationData, rng.bytes(n)));
    }
    v
}

fn same(a: &[PlainRecord], payloads: &[(ContentType, Vec<u8>)]) {
    assert_eq!(a.len(), payloads.len());
    for (r, (t, p)) in a.iter().zip(payloads) {
        assert_eq!(r.typ, *t);
        assert_eq!(&r.payload[..], &p[..]);
    }
}

#[test]
fn every_segmentation_yields_the_same_records_for_every_suite() {
    let mut rng = Rng::new(1);
    for &suite in CipherSuite::ALL {
        let payloads = sample_payloads(&mut rng);
        let wire = seal_stream(suite, &payloads);
        same(&read_all(suite, &wire, &mut |_| usize::MAX), &payloads);
        same(&read_all(suite, &wire, &mut |_| 1), &payloads);
        same(&read_all(suite, &wire, &mut |_| 1448), &payloads);
        for seed in 0..20 {
            let mut r = Rng::new(seed);
            same(
                &read_all(suite, &wire, &mut |left| 1 + r.below(left.min(40000))),
                &payloads,
            );
        }
    }
}

#[test]
fn a_split_at_every_offset_of_a_small_stream_yields_the_same_records() {
    let payloads = vec![
        (ContentType::ApplicationData, b"abc".to_vec()),
        (ContentType::Handshake, vec![1, 2, 3, 4, 5, 6, 7]),
        (ContentType::ApplicationData, b"the end".to_vec()),
    ];
    for &suite in CipherSuite::ALL {
        let wire = seal_stream(suite, &payloads);
        for cut in 1..wire.len() {
            let mut first = true;
            let got = read_all(suite, &wire, &mut |left| {
                if std::mem::take(&mut first) {
                    cut
                } else {
                    left
                }
            });
            same(&got, &payloads);
        }
    }
}

#[test]
fn every_header_prefix_needs_more_and_a_complete_header_is_checked_at_once() {
    let wire = seal_stream(
        CipherSuite::TLS13_AES_128_GCM_SHA256,
        &[(ContentType::ApplicationData, b"x".to_vec())],
    );
    for n in 0..HEADER_LEN {
        let mut d = Deframer::new();
        assert_eq!(d.push(&wire[..n]), n);
        assert!(d.pop().unwrap().is_none(), "prefix of {n} bytes");
        assert_eq!(d.wanted(), HEADER_LEN - n);
        assert!(d.pending_header().is_none());
    }
    let mut d = Deframer::new();
    d.push(&wire[..HEADER_LEN]);
    assert!(d.pop().unwrap().is_none());
    assert_eq!(
        d.pending_header().unwrap().len as usize,
        wire.len() - HEADER_LEN
    );
    assert_eq!(d.wanted(), wire.len() - HEADER_LEN);
}

fn header_error(policy_version: Option<tlsrec::Version>, tls13: bool, header: [u8; 5]) -> Error {
    let mut d = Deframer::new();
    let mut p = *d.policy();
    p.version = policy_version;
    p.tls13_protected = tls13;
    p.allow_ccs = false;
    p.first_record = false;
    d.set_policy(p);
    assert_eq!(d.push(&header), 5);
    let e = d.pop().unwrap_err();
    // Sticky, and no more bytes accepted.
    assert_eq!(d.pop().unwrap_err(), e);
    assert_eq!(d.push(&[0; 10]), 0);
    e
}

#[test]
fn bad_headers_are_refused_before_the_body_arrives() {
    use tlsrec::Version::*;
    let rec = |reason, alert| Error::InvalidRecord {
        reason,
        alert: Some(alert),
    };
    // F1: lengths, OpenSSL's thresholds.
    assert_eq!(
        header_error(Some(Tls13), true, [23, 3, 3, 0x41, 0x01]),
        rec(
            Reason::EncryptedLengthTooLong,
            AlertDescription::RecordOverflow
        )
    ); // 16641
    assert_eq!(
        header_error(Some(Tls12), false, [23, 3, 3, 0x41, 0x41]),
        rec(
            Reason::EncryptedLengthTooLong,
            AlertDescription::RecordOverflow
        )
    ); // 16705
    assert_eq!(
        header_error(Some(Tls12), false, [23, 3, 3, 0x41, 0x44]),
        rec(
            Reason::PacketLengthTooLong,
            AlertDescription::RecordOverflow
        )
    ); // 16708
       // F4: wrong version after negotiation.
    assert_eq!(
        header_error(Some(Tls12), false, [23, 3, 1, 0, 10]),
        rec(
            Reason::WrongVersionNumber,
            AlertDescription::ProtocolVersion
        )
    );
    assert_eq!(
        header_error(Some(Tls13), true, [23, 3, 4, 0, 10]),
        rec(Reason::WrongVersionNumber, AlertDescription::DecodeError)
    );
    // F5/F6: TLS 1.3 protected outer type must be 23.
    for t in [20u8, 21, 22, 24, 99] {
        assert_eq!(
            header_error(Some(Tls13), true, [t, 3, 3, 0, 20]),
            rec(Reason::BadRecordType, AlertDescription::UnexpectedMessage)
        );
    }
    // F4: first record with a major version other than 3: no alert.
    let mut d = Deframer::new();
    d.push(b"GET / HTTP/1.1\r\n");
    assert_eq!(
        d.pop().unwrap_err(),
        Error::InvalidRecord {
            reason: Reason::HttpRequest,
            alert: None
        }
    );
    let mut d = Deframer::new();
    d.push(&[22, 2, 0, 0, 4]);
    assert_eq!(
        d.pop().unwrap_err(),
        Error::InvalidRecord {
            reason: Reason::WrongVersionNumber,
            alert: None
        }
    );
}

#[test]
fn limits_are_exact_at_the_boundary() {
    use tlsrec::Version::*;
    for (v, ok, bad) in [(Tls13, 16640u16, 16641u16), (Tls12, 16704, 16705)] {
        let mut d = Deframer::new();
        d.set_policy(tlsrec::HeaderPolicy {
            version: Some(v),
            tls13_protected: v == Tls13,
            allow_ccs: false,
            first_record: false,
        });
        let [a, b] = ok.to_be_bytes();
        d.push(&[23, 3, 3, a, b]);
        assert!(d.pop().unwrap().is_none());
        let [a, b] = bad.to_be_bytes();
        let mut d2 = Deframer::new();
        d2.set_policy(*d.policy());
        d2.push(&[23, 3, 3, a, b]);
        assert!(d2.pop().is_err());
    }
}

#[test]
fn memory_is_bounded_whatever_the_peer_sends() {
    // A flood of tiny records offered all at once: the buffer takes at most
    // one maximum record, the caller keeps the rest.
    let one = [23u8, 3, 3, 0, 1, 0xaa];
    let flood: Vec<u8> = one.iter().copied().cycle().take(6 * 100_000).collect();
    let mut d = Deframer::new();
    let mut off = 0;
    let mut popped = 0;
    while off < flood.len() {
        let n = d.push(&flood[off..]);
        off += n;
        assert!(d.buffered() <= MAX_RECORD_LEN);
        assert!(
            d.capacity() <= 2 * MAX_RECORD_LEN,
            "capacity {}",
            d.capacity()
        );
        while let Some(r) = d.pop().unwrap() {
            assert_eq!(r.wire_bytes(), &one);
            popped += 1;
        }
    }
    assert_eq!(popped, 100_000);
    // A record that never completes: the buffer stops growing at one record.
    let mut d = Deframer::new();
    d.push(&[23, 3, 3, 0x41, 0x00]);
    let junk = vec![0u8; 100_000];
    let taken = d.push(&junk);
    assert_eq!(taken, MAX_RECORD_LEN - 5);
    assert_eq!(d.push(&junk), 0);
    let rec = d.pop().unwrap().unwrap();
    assert_eq!(rec.wire_bytes().len(), 5 + 0x4100);
    assert_eq!(d.buffered(), MAX_RECORD_LEN - rec.wire_bytes().len());
    d.release();
    assert!(
        d.capacity() > 0,
        "release keeps a buffer that still holds bytes"
    );
    // Once everything is consumed, release frees the memory (RELEASE_BUFFERS).
    let mut d = Deframer::new();
    d.push(&one);
    drop(d.pop().unwrap().unwrap());
    assert!(d.capacity() > 0);
    d.release();
    assert_eq!(
        d.capacity(),
        0,
        "an idle deframer holds no memory after release"
    );
}

#[test]
fn plaintext_is_handed_out_without_a_copy() {
    // The payload of an opened record points into the receive buffer's
    // allocation: its address lies inside the record's wire bytes.
    let suite = CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256;
    let wire = seal_stream(suite, &[(ContentType::ApplicationData, vec![1; 1000])]);
    let mut d = Deframer::new();
    d.push(&wire);
    let rec = d.pop().unwrap().unwrap();
    let wire_range =
        rec.wire_bytes().as_ptr() as usize..rec.wire_bytes().as_ptr() as usize + wire.len();
    let mut o = tlsrec::Opener::new();
    o.set_keys(test_keys(suite, 0x5a));
    let p = o.open(rec).unwrap();
    assert_eq!(&p.payload[..], &[1; 1000][..]);
    let at = p.payload.as_ptr() as usize;
    assert!(wire_range.contains(&at) && wire_range.contains(&(at + 999)));
}

/// One-byte segments have a path of their own in `push`: it stops at one
/// maximum record, takes nothing after a refused header, and a reader whose
/// record failed to open takes nothing more either.
#[test]
fn one_byte_pushes_respect_the_limit_and_failures() {
    // Up to one maximum record, one byte at a time, then nothing.
    let mut d = Deframer::new();
    for &b in &[23u8, 3, 3, 0x41, 0x00] {
        assert_eq!(d.push(&[b]), 1);
    }
    let mut taken = 5;
    while d.push(&[0]) == 1 {
        taken += 1;
        assert!(taken <= MAX_RECORD_LEN, "took more than one record");
    }
    assert_eq!(taken, MAX_RECORD_LEN);
    assert_eq!(d.room(), 0);

    // After a refused header (version 4.0), even with room reserved.
    let mut d = Deframer::new();
    assert_eq!(d.push(&[23, 4, 0, 0, 1]), 5);
    assert!(d.pop().is_err());
    for _ in 0..10 {
        assert_eq!(d.push(&[0]), 0, "a failed deframer takes no byte");
    }
    assert_eq!(d.buffered(), 5);

    // A reader whose record failed to open (wrong keys): no byte more, and
    // the error stays.
    let suite = CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256;
    let wire = seal_stream(suite, &[(ContentType::ApplicationData, vec![1; 100])]);
    let mut r = RecordReader::new();
    r.set_version(tlsrec::Version::Tls12);
    r.opener_mut().set_keys(test_keys(suite, 0x33));
    for &b in &wire {
        assert_eq!(r.push(&[b]), 1);
    }
    assert!(r.next_record().is_err());
    for _ in 0..10 {
        assert_eq!(r.push(&[0]), 0, "a failed reader takes no byte");
        assert!(r.next_record().is_err(), "the error is sticky");
    }
}
