//! `Config::profile`: each choice the RFC profile makes differently from
//! OpenSSL 3.0, checked both ways (each test fails under the other
//! profile's choice).

mod common;

use common::peer::{pair, read, ssl, Peer};
use tlsrec::{AlertDescription, CipherSuite, Config, ContentType, Profile, Reason, Session};

const TLS13: CipherSuite = CipherSuite::TLS13_AES_128_GCM_SHA256;

fn with(profile: Profile) -> (Session, Peer) {
    pair(
        TLS13,
        Config {
            profile,
            ..Config::default()
        },
    )
}

/// A KeyUpdate with update_requested: OpenSSL 3.0's read sends nothing (the
/// answer waits for the next entry to the handshake); the RFC profile
/// answers before it reads further, as tlsfuzzer expects.
#[test]
fn key_update_request_is_answered_at_once_only_by_the_rfc_profile() {
    for (profile, answered) in [(Profile::OpenSsl3_0, false), (Profile::Rfc, true)] {
        let (mut c, mut p) = with(profile);
        let mut wire = p.key_update(1);
        wire.extend(p.app(b"after"));
        c.recv(&wire);
        assert_eq!(read(&mut c, 20).unwrap(), b"after");
        assert_eq!(c.outgoing_len() > 0, answered, "{profile:?}");
        assert_eq!(c.key_update_due(), !answered, "{profile:?}");
        if answered {
            assert_eq!(
                p.sent(&mut c),
                [(ContentType::Handshake, vec![24, 0, 0, 1, 0])]
            );
        }
    }
}

/// RFC 8446 5.4: "the full encoded TLSInnerPlaintext MUST NOT exceed 2^14 +
/// 1 octets". 16,376 bytes of data, the type byte and 9 bytes of padding
/// make 16,386: OpenSSL 3.0 takes the record, the RFC profile refuses it
/// with record_overflow. 16,375 bytes and 9 of padding (16,385) pass both.
#[test]
fn over_padded_tls13_record_is_record_overflow_only_in_the_rfc_profile() {
    for (profile, refused) in [(Profile::OpenSsl3_0, false), (Profile::Rfc, true)] {
        let (mut c, mut p) = with(profile);
        let mut wire = bytes::BytesMut::new();
        p.sealer
            .seal_padded(ContentType::ApplicationData, &[7; 16375], 9, &mut wire)
            .unwrap();
        c.recv(&wire);
        assert_eq!(read(&mut c, 20000).unwrap().len(), 16375, "{profile:?}");
        let mut wire = bytes::BytesMut::new();
        p.sealer
            .seal_padded(ContentType::ApplicationData, &[7; 16376], 9, &mut wire)
            .unwrap();
        c.recv(&wire);
        let r = read(&mut c, 20000);
        if refused {
            assert_eq!(
                r,
                Err(ssl_record(
                    Reason::DataLengthTooLong,
                    AlertDescription::RecordOverflow
                ))
            );
        } else {
            assert_eq!(r.unwrap().len(), 16376);
        }
    }
}

fn ssl_record(reason: Reason, alert: AlertDescription) -> tlsrec::SslError {
    tlsrec::SslError::Ssl(tlsrec::Error::InvalidRecord {
        reason,
        alert: Some(alert),
    })
}

/// A KeyUpdate whose body is two bytes: OpenSSL 3.0 stops at its header
/// (its limit for the message is one byte): illegal_parameter, "excessive
/// message size"; the RFC profile: decode_error (RFC 8446 6.2: "the length
/// of the message was incorrect"), as tlsfuzzer and BoGo expect.
#[test]
fn long_key_update_body_alert_depends_on_the_profile() {
    for (profile, expect) in [
        (
            Profile::OpenSsl3_0,
            ssl(
                Reason::ExcessiveMessageSize,
                AlertDescription::IllegalParameter,
            ),
        ),
        (
            Profile::Rfc,
            ssl(Reason::LengthMismatch, AlertDescription::DecodeError),
        ),
    ] {
        let (mut c, mut p) = with(profile);
        c.recv(&p.rec(ContentType::Handshake, &[24, 0, 0, 2, 1, 0]));
        assert_eq!(read(&mut c, 20), Err(expect), "{profile:?}");
    }
}

/// The end of the stream in the middle of the connection: OpenSSL 3.0 sends
/// decode_error and reports SSL ("unexpected eof while reading"); 1.1.1
/// reports SYSCALL and sends nothing (from its source: the oracle cannot
/// show 1.1.1 an EOF).
#[test]
fn unexpected_eof_is_ssl_in_3_0_and_syscall_in_1_1_1() {
    for (profile, expect_ssl) in [(Profile::OpenSsl3_0, true), (Profile::OpenSsl1_1_1, false)] {
        let (mut c, mut p) = with(profile);
        let rec = p.app(b"cut short");
        c.recv(&rec[..rec.len() - 3]);
        c.recv_eof();
        let r = read(&mut c, 20);
        if expect_ssl {
            match r {
                Err(tlsrec::SslError::Ssl(e)) => {
                    assert_eq!(e.reason(), Some(Reason::UnexpectedEofWhileReading));
                }
                r => panic!("{profile:?}: {r:?}"),
            }
            assert_eq!(
                p.sent(&mut c),
                [(
                    ContentType::Alert,
                    vec![2, u8::from(AlertDescription::DecodeError)]
                )]
            );
        } else {
            assert_eq!(r, Err(tlsrec::SslError::Syscall), "{profile:?}");
            assert_eq!(c.outgoing_len(), 0, "no alert");
        }
    }
}
