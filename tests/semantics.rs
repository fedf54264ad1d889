//! docs/behaviour.md, rule by rule: each test is named after the rule it checks
//! and drives a client session with records sealed by a scripted peer.

mod common;

use common::peer::{driven_pair, pair, peek, read, secret, ssl, Peer};

use bytes::BytesMut;
use tlsrec::keys::RecordKeys;
use tlsrec::record::MAX_PLAINTEXT_LEN;
use tlsrec::{AlertDescription, CipherSuite, Config, ContentType, Error, Reason, SslError};

const TLS12: CipherSuite = CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256;
const TLS13: CipherSuite = CipherSuite::TLS13_AES_128_GCM_SHA256;

fn both() -> [CipherSuite; 2] {
    [TLS12, TLS13]
}

#[test]
fn a1_one_record_per_read() {
    for suite in both() {
        let (mut c, mut p) = pair(suite, Config::default());
        c.recv(&[p.app(&[1; 10]), p.app(&[2; 10])].concat());
        assert_eq!(read(&mut c, 100).unwrap(), vec![1; 10]);
        assert_eq!(read(&mut c, 100).unwrap(), vec![2; 10]);
        assert_eq!(read(&mut c, 100), Err(SslError::WantRead));
    }
}

#[test]
fn a2_short_reads_from_the_record_cursor() {
    let (mut c, mut p) = pair(TLS12, Config::default());
    c.recv(&p.app(b"0123456789"));
    assert_eq!(read(&mut c, 4).unwrap(), b"0123");
    assert_eq!(c.pending(), 6);
    assert_eq!(read(&mut c, 100).unwrap(), b"456789");
    assert_eq!(c.pending(), 0);
}

#[test]
fn a3_peek_does_not_consume() {
    let (mut c, mut p) = pair(TLS13, Config::default());
    c.recv(&p.app(b"hello world"));
    assert_eq!(peek(&mut c, 5).unwrap(), b"hello");
    assert_eq!(peek(&mut c, 100).unwrap(), b"hello world");
    assert_eq!(read(&mut c, 6).unwrap(), b"hello ");
    assert_eq!(peek(&mut c, 100).unwrap(), b"world");
    assert_eq!(read(&mut c, 100).unwrap(), b"world");
}

#[test]
fn a4_zero_length_read_decrypts_but_returns_nothing() {
    let (mut c, mut p) = pair(TLS12, Config::default());
    assert_eq!(read(&mut c, 0), Err(SslError::WantRead));
    c.recv(&p.app(b"abc"));
    assert_eq!(read(&mut c, 0), Err(SslError::Syscall));
    assert_eq!(c.pending(), 3, "the record stays buffered");
    assert_eq!(read(&mut c, 10).unwrap(), b"abc");
}

#[test]
fn a6_after_close_notify_reads_return_zero_before_any_io() {
    let (mut c, mut p) = pair(TLS12, Config::default());
    c.recv(&[p.alert(1, AlertDescription::CloseNotify), p.app(b"late")].concat());
    assert_eq!(read(&mut c, 10), Err(SslError::ZeroReturn));
    let left = c.unread_input();
    assert_eq!(peek(&mut c, 10), Err(SslError::ZeroReturn));
    assert_eq!(read(&mut c, 10), Err(SslError::ZeroReturn));
    assert_eq!(
        c.unread_input(),
        left,
        "no more bytes taken from the transport"
    );
}

#[test]
fn a7_pending_counts_only_the_current_application_record() {
    let (mut c, mut p) = pair(TLS12, Config::default());
    let r1 = p.app(b"abcdef");
    let r2 = p.app(b"ghij");
    c.recv(&r1);
    c.recv(&r2[..7]);
    assert_eq!(c.pending(), 0, "nothing decrypted yet");
    assert_eq!(read(&mut c, 2).unwrap(), b"ab");
    assert_eq!(c.pending(), 4, "never counts unprocessed bytes");
    assert_eq!(read(&mut c, 10).unwrap(), b"cdef");
    assert_eq!(read(&mut c, 10), Err(SslError::WantRead));
    assert_eq!(c.pending(), 0, "0 while a record body is still arriving");
    c.recv(&r2[7..]);
    assert_eq!(peek(&mut c, 1).unwrap(), b"g");
    assert_eq!(c.pending(), 4);
}

#[test]
fn a8_has_pending_sees_partial_records_but_not_the_transport() {
    let (mut c, mut p) = pair(TLS12, Config::default());
    let r1 = p.app(b"abc");
    let r2 = p.app(b"def");
    c.recv(&r1);
    c.recv(&r2);
    assert!(
        !c.has_pending(),
        "read-ahead is off: bytes in the transport do not count"
    );
    assert_eq!(read(&mut c, 1).unwrap(), b"a");
    assert!(c.has_pending());
    assert_eq!(read(&mut c, 10).unwrap(), b"bc");
    assert!(!c.has_pending());
    let (mut c, mut p) = pair(TLS12, Config::default());
    let r = p.app(b"xyz");
    c.recv(&r[..8]);
    assert_eq!(read(&mut c, 10), Err(SslError::WantRead));
    assert!(
        c.has_pending(),
        "a partial record in the record layer counts"
    );
}

#[test]
fn b1_empty_records_are_skipped_in_the_same_read() {
    for suite in both() {
        let (mut c, mut p) = pair(suite, Config::default());
        let mut s = p.app(b"");
        s.extend(p.app(b""));
        if suite == TLS12 {
            s.extend(p.rec(ContentType::Handshake, b""));
        }
        s.extend(p.app(b"data"));
        c.recv(&s);
        assert_eq!(read(&mut c, 10).unwrap(), b"data");
    }
}

#[test]
fn b2_the_33rd_consecutive_empty_record_is_fatal() {
    let (mut c, mut p) = pair(TLS13, Config::default());
    for _ in 0..32 {
        c.recv(&p.app(b""));
    }
    assert_eq!(
        read(&mut c, 10),
        Err(SslError::WantRead),
        "32 empty records then nothing"
    );
    c.recv(&p.app(b""));
    assert_eq!(
        read(&mut c, 10),
        Err(ssl(
            Reason::RecordTooSmall,
            AlertDescription::UnexpectedMessage
        ))
    );
    // The count persists across calls and a non-empty record resets it.
    let (mut c, mut p) = pair(TLS12, Config::default());
    for round in 0..3 {
        for _ in 0..20 {
            c.recv(&p.app(b""));
        }
        assert_eq!(read(&mut c, 10), Err(SslError::WantRead), "round {round}");
        for _ in 0..12 {
            c.recv(&p.app(b""));
        }
        c.recv(&p.app(b"x"));
        assert_eq!(read(&mut c, 10).unwrap(), b"x");
    }
}

#[test]
fn b3_tls13_empty_handshake_or_alert_record_is_fatal() {
    for typ in [ContentType::Handshake, ContentType::Alert] {
        let (mut c, mut p) = pair(TLS13, Config::default());
        c.recv(&p.rec(typ, b""));
        assert_eq!(
            read(&mut c, 10),
            Err(ssl(Reason::BadLength, AlertDescription::UnexpectedMessage))
        );
    }
}

#[test]
fn c1_an_alert_is_exactly_two_bytes() {
    for body in [&[1u8][..], &[1, 0, 0]] {
        let (mut c, mut p) = pair(TLS12, Config::default());
        c.recv(&p.rec(ContentType::Alert, body));
        assert_eq!(
            read(&mut c, 10),
            Err(ssl(
                Reason::InvalidAlert,
                AlertDescription::UnexpectedMessage
            ))
        );
    }
}

#[test]
fn c2_tls12_warning_alerts() {
    // Ignored, whatever auto_retry says...
    for auto_retry in [true, false] {
        let (mut c, mut p) = pair(
            TLS12,
            Config {
                auto_retry,
                ..Config::default()
            },
        );
        c.recv(&[p.alert(1, AlertDescription::UserCanceled), p.app(b"after")].concat());
        assert_eq!(read(&mut c, 10).unwrap(), b"after");
    }
    // ...but the 5th in a row is fatal; a non-alert record resets the count.
    let (mut c, mut p) = pair(TLS12, Config::default());
    for _ in 0..4 {
        c.recv(&p.alert(1, AlertDescription::UserCanceled));
    }
    c.recv(&p.app(b"reset"));
    assert_eq!(read(&mut c, 10).unwrap(), b"reset");
    for _ in 0..5 {
        c.recv(&p.alert(1, AlertDescription::UnrecognizedName));
    }
    assert_eq!(
        read(&mut c, 10),
        Err(ssl(
            Reason::TooManyWarnAlerts,
            AlertDescription::UnexpectedMessage
        ))
    );
    // Warning no_renegotiation: fatal with handshake_failure.
    let (mut c, mut p) = pair(TLS12, Config::default());
    c.recv(&p.alert(1, AlertDescription::NoRenegotiation));
    assert_eq!(
        read(&mut c, 10),
        Err(ssl(
            Reason::NoRenegotiation,
            AlertDescription::HandshakeFailure
        ))
    );
    // A level that is neither warning nor fatal: illegal_parameter.
    let (mut c, mut p) = pair(TLS12, Config::default());
    c.recv(&p.alert(3, AlertDescription::CloseNotify));
    assert_eq!(
        read(&mut c, 10),
        Err(ssl(
            Reason::UnknownAlertType,
            AlertDescription::IllegalParameter
        ))
    );
}

#[test]
fn c3_tls13_alerts() {
    // user_canceled is ignored but counted.
    let (mut c, mut p) = pair(TLS13, Config::default());
    c.recv(&[p.alert(2, AlertDescription::UserCanceled), p.app(b"ok")].concat());
    assert_eq!(read(&mut c, 10).unwrap(), b"ok");
    for _ in 0..5 {
        c.recv(&p.alert(1, AlertDescription::UserCanceled));
    }
    assert_eq!(
        read(&mut c, 10),
        Err(ssl(
            Reason::TooManyWarnAlerts,
            AlertDescription::UnexpectedMessage
        ))
    );
    // close_notify at any level closes.
    let (mut c, mut p) = pair(TLS13, Config::default());
    c.recv(&p.alert(2, AlertDescription::CloseNotify));
    assert_eq!(read(&mut c, 10), Err(SslError::ZeroReturn));
    // Any other alert is fatal whatever its level.
    let (mut c, mut p) = pair(TLS13, Config::default());
    c.recv(&p.alert(1, AlertDescription::UnrecognizedName));
    assert_eq!(
        read(&mut c, 10),
        Err(SslError::Ssl(Error::AlertReceived(
            AlertDescription::UnrecognizedName
        )))
    );
}

#[test]
fn c4_a_fatal_alert_received_sends_nothing_and_later_reads_say_zero_return() {
    let (mut c, mut p) = pair(TLS12, Config::default());
    c.recv(&p.alert(2, AlertDescription::HandshakeFailure));
    let e = read(&mut c, 10).unwrap_err();
    assert_eq!(
        e,
        SslError::Ssl(Error::AlertReceived(AlertDescription::HandshakeFailure))
    );
    assert_eq!(e.alert_sent(), None);
    assert_eq!(c.outgoing_len(), 0, "no alert is sent back");
    assert_eq!(read(&mut c, 10), Err(SslError::ZeroReturn));
    // Writes too: OpenSSL's SSL_get_error finds no error of the call and
    // warn_alert still at 0 (close_notify): ZERO_RETURN (libssl 3.0.19,
    // crafted scenarios of the differential test).
    assert_eq!(c.write(b"x"), Err(SslError::ZeroReturn));
}

#[test]
fn c5_post_handshake_messages_and_auto_retry() {
    let nst = |p: &mut Peer| p.hs(4, &[0; 20]);
    let (mut c, mut p) = pair(
        TLS13,
        Config {
            auto_retry: false,
            ..Config::default()
        },
    );
    c.recv(&[nst(&mut p), p.app(b"data")].concat());
    assert_eq!(
        read(&mut c, 10),
        Err(SslError::WantRead),
        "auto_retry off: WANT_READ after the message"
    );
    assert_eq!(read(&mut c, 10).unwrap(), b"data");
    let (mut c, mut p) = pair(TLS13, Config::default());
    c.recv(&[nst(&mut p), p.app(b"data")].concat());
    assert_eq!(
        read(&mut c, 10).unwrap(),
        b"data",
        "auto_retry on: goes on to the next record"
    );
}

#[test]
fn c6_key_update_switches_keys_on_a_record_boundary() {
    let (mut c, mut p) = pair(TLS13, Config::default());
    c.recv(&p.hs(24, &[1]));
    p.next_keys();
    c.recv(&p.app(b"new keys"));
    assert_eq!(read(&mut c, 20).unwrap(), b"new keys");
    assert!(
        c.key_update_due(),
        "update_requested is answered by the next write"
    );
    assert_eq!(c.outgoing_len(), 0, "SSL_read sends nothing for it");
    // A KeyUpdate followed by more handshake bytes in the same record.
    let (mut c, mut p) = pair(TLS13, Config::default());
    c.recv(&p.rec(ContentType::Handshake, &[24, 0, 0, 1, 0, 4, 0]));
    assert_eq!(
        read(&mut c, 10),
        Err(ssl(
            Reason::NotOnRecordBoundary,
            AlertDescription::UnexpectedMessage
        ))
    );
    // request_update other than 0 or 1.
    let (mut c, mut p) = pair(TLS13, Config::default());
    c.recv(&p.hs(24, &[2]));
    assert_eq!(
        read(&mut c, 10),
        Err(ssl(Reason::BadValue, AlertDescription::IllegalParameter))
    );
}

#[test]
fn c7_tls13_handshake_fragment_then_other_record_type_is_fatal() {
    let (mut c, mut p) = pair(TLS13, Config::default());
    c.recv(
        &[
            p.rec(ContentType::Handshake, &[4, 0, 0, 20, 0, 0]),
            p.app(b"x"),
        ]
        .concat(),
    );
    assert_eq!(
        read(&mut c, 10),
        Err(ssl(
            Reason::MixedHandshakeAndNonHandshakeData,
            AlertDescription::UnexpectedMessage
        ))
    );
}

#[test]
fn c8_hello_request_with_a_body_is_refused_on_its_header() {
    // After the handshake (TLS_ST_OK) a HelloRequest's bound is 0 bytes:
    // one declaring a body is excessive message size, refused before the
    // body is read (it may not even be there).
    for body_sent in [&[1u8][..], &[]] {
        let (mut c, mut p) = pair(TLS12, Config::default());
        c.recv(&p.rec(
            ContentType::Handshake,
            &[&[0u8, 0, 0, 1][..], body_sent].concat(),
        ));
        assert_eq!(
            read(&mut c, 10),
            Err(ssl(
                Reason::ExcessiveMessageSize,
                AlertDescription::IllegalParameter
            ))
        );
        // The header alone was read out of the record (rule 13 of
        // docs/rules-stream-end.md).
        assert_eq!(c.has_pending(), !body_sent.is_empty());
    }
    // During a handshake an empty HelloRequest is skipped; one declaring a
    // body has no transition: unexpected_message, at its header.
    let (mut c, mut p) = driven_pair(TLS12, Config::default());
    c.recv(&[p.hs(0, &[]), p.hs(0, &[]), p.app(b"data")].concat());
    assert_eq!(read(&mut c, 10).unwrap(), b"data");
    assert!(c.in_handshake());
    c.recv(&p.rec(ContentType::Handshake, &[0, 0, 0, 5, 1]));
    assert_eq!(
        read(&mut c, 10),
        Err(ssl(
            Reason::UnexpectedMessage,
            AlertDescription::UnexpectedMessage
        ))
    );
    assert!(c.has_pending(), "the byte after the header is unread");
}

#[test]
fn c9_change_cipher_spec_outside_a_handshake() {
    let (mut c, mut p) = pair(TLS12, Config::default());
    c.recv(&p.rec(ContentType::ChangeCipherSpec, &[1]));
    assert_eq!(
        read(&mut c, 10),
        Err(ssl(
            Reason::CcsReceivedEarly,
            AlertDescription::UnexpectedMessage
        ))
    );
    // TLS 1.3 after the handshake: refused at the header.
    let (mut c, _) = pair(TLS13, Config::default());
    c.recv(&[20, 3, 3, 0, 1, 1]);
    assert_eq!(
        read(&mut c, 10),
        Err(SslError::Ssl(Error::InvalidRecord {
            reason: Reason::BadRecordType,
            alert: Some(AlertDescription::UnexpectedMessage)
        }))
    );
}

#[test]
fn c10_auto_retry_is_on_by_default() {
    assert!(Config::default().auto_retry);
}

#[test]
fn c11_two_tickets_then_data_without_auto_retry() {
    let (mut c, mut p) = pair(
        TLS13,
        Config {
            auto_retry: false,
            ..Config::default()
        },
    );
    c.recv(&[p.hs(4, &[0; 8]), p.hs(4, &[1; 8]), p.app(b"data")].concat());
    assert_eq!(read(&mut c, 10), Err(SslError::WantRead));
    assert_eq!(read(&mut c, 10), Err(SslError::WantRead));
    assert_eq!(read(&mut c, 10).unwrap(), b"data");
}

#[test]
fn d1_d2_application_data_before_the_server_hello_of_our_renegotiation() {
    // A HelloRequest makes the client renegotiate at once (its ClientHello
    // goes out); the server's data that arrives before its ServerHello is
    // delivered and the handshake stays in progress.
    let (mut c, mut p) = driven_pair(
        TLS12,
        Config {
            auto_retry: false,
            ..Config::default()
        },
    );
    c.recv(&[p.hs(0, &[]), p.app(b"interleaved")].concat());
    assert_eq!(read(&mut c, 20).unwrap(), b"interleaved");
    assert_eq!(read(&mut c, 20), Err(SslError::WantRead));
    assert!(c.is_established(), "the first handshake is long done");
    assert!(c.in_handshake(), "the renegotiation is in progress (D2)");
    let sent = p.sent(&mut c);
    assert_eq!(sent.len(), 1, "the ClientHello: {sent:?}");
    assert_eq!((sent[0].0, sent[0].1[0]), (ContentType::Handshake, 1));
}

/// A client taken over after its handshake has none to run: a HelloRequest
/// gets a warning no_renegotiation (OpenSSL's client with
/// SSL_OP_NO_RENEGOTIATION) and the server's data goes on being read.
#[test]
fn d_taken_over_client_refuses_hello_request() {
    let (mut c, mut p) = pair(TLS12, Config::default());
    c.recv(&[p.hs(0, &[]), p.app(b"still here")].concat());
    assert_eq!(read(&mut c, 20).unwrap(), b"still here");
    assert!(!c.in_handshake());
    assert_eq!(
        p.sent(&mut c),
        [(
            ContentType::Alert,
            vec![1, u8::from(AlertDescription::NoRenegotiation)]
        )]
    );
}

#[test]
fn d3_application_data_after_the_server_hello_is_fatal() {
    let (mut c, mut p) = driven_pair(TLS12, Config::default());
    let mut sh = vec![3, 3];
    sh.extend([7; 32]);
    sh.extend([0, 0xc0, 0x2f, 0]);
    c.recv(&[p.hs(0, &[]), p.hs(2, &sh), p.app(b"too late")].concat());
    assert_eq!(
        read(&mut c, 20),
        Err(ssl(
            Reason::UnexpectedRecord,
            AlertDescription::UnexpectedMessage
        ))
    );
}

#[test]
fn e1_a_retry_shorter_than_what_is_pending_is_bad_length() {
    let (mut c, _) = pair(TLS12, Config::default());
    c.set_outgoing_capacity(Some(10));
    let buf = vec![7u8; 1000];
    assert_eq!(c.write(&buf), Err(SslError::WantWrite));
    let e = c.write(&buf[..999]).unwrap_err();
    assert_eq!(
        e,
        SslError::Ssl(Error::Misuse {
            reason: Reason::BadLength,
            alert: Some(AlertDescription::InternalError)
        })
    );
    assert_eq!(
        c.write(&buf),
        Err(SslError::Syscall),
        "fatal: later calls fail"
    );
}

#[test]
fn e3_a_moved_buffer_is_a_bad_write_retry_unless_allowed() {
    let a = vec![1u8; 3000];
    let b = a.clone();
    let (mut c, _) = pair(TLS12, Config::default());
    c.set_outgoing_capacity(Some(100));
    assert_eq!(c.write(&a), Err(SslError::WantWrite));
    assert!(matches!(
        c.write(&b),
        Err(SslError::Ssl(Error::Misuse {
            reason: Reason::BadWriteRetry,
            ..
        }))
    ));
    assert_eq!(c.write(&a), Err(SslError::Syscall));

    let (mut c, mut p) = pair(
        TLS12,
        Config {
            accept_moving_buffer: true,
            ..Config::default()
        },
    );
    c.set_outgoing_capacity(Some(100));
    assert_eq!(c.write(&a), Err(SslError::WantWrite));
    c.set_outgoing_capacity(None);
    assert_eq!(c.write(&b), Ok(3000));
    assert_eq!(
        p.sent(&mut c),
        vec![(ContentType::ApplicationData, a.clone())]
    );

    // Beyond OpenSSL: compare by content.
    let other = vec![2u8; 3000];
    let (mut c, _) = pair(
        TLS12,
        Config {
            check_retry_content: true,
            ..Config::default()
        },
    );
    c.set_outgoing_capacity(Some(100));
    assert_eq!(c.write(&a), Err(SslError::WantWrite));
    assert_eq!(
        c.write(&b),
        Err(SslError::WantWrite),
        "same bytes elsewhere: accepted"
    );
    assert!(matches!(
        c.write(&other),
        Err(SslError::Ssl(Error::Misuse {
            reason: Reason::BadWriteRetry,
            ..
        }))
    ));
}

#[test]
fn e4_a_longer_retry_sends_and_returns_the_whole_length() {
    let data: Vec<u8> = (0..60000u32).map(|i| i as u8).collect();
    let (mut c, mut p) = pair(TLS13, Config::default());
    c.set_outgoing_capacity(Some(20000));
    assert_eq!(c.write(&data[..40000]), Err(SslError::WantWrite));
    let first = p.sent(&mut c);
    c.set_outgoing_capacity(None);
    assert_eq!(c.write(&data), Ok(60000));
    let rest = p.sent(&mut c);
    let all: Vec<u8> = first.into_iter().chain(rest).flat_map(|(_, b)| b).collect();
    assert_eq!(all, data, "nothing sealed twice, lost or reordered");
}

#[test]
fn e5_records_carry_at_most_max_send_fragment_bytes() {
    let (mut c, _) = pair(
        TLS12,
        Config {
            max_send_fragment: 512,
            ..Config::default()
        },
    );
    assert_eq!(c.write(&[0u8; 1300]), Ok(1300));
    let wire = c.take_outgoing(usize::MAX);
    let mut lens = Vec::new();
    let mut off = 0;
    while off < wire.len() {
        let l = usize::from(u16::from_be_bytes([wire[off + 3], wire[off + 4]]));
        lens.push(l);
        off += 5 + l;
    }
    assert_eq!(lens, vec![536, 536, 300]);
}

#[test]
fn e6_partial_writes_return_after_each_record() {
    let data = vec![9u8; 60000];
    let (mut c, mut p) = pair(
        TLS13,
        Config {
            partial_write: true,
            ..Config::default()
        },
    );
    assert_eq!(c.write(&data), Ok(16384));
    let mut sent = p.sent(&mut c);
    c.set_outgoing_capacity(Some(0));
    assert_eq!(c.write(&data[16384..]), Err(SslError::WantWrite));
    assert_eq!(c.write(&data[16384..]), Err(SslError::WantWrite));
    c.set_outgoing_capacity(None);
    let n = c.write(&data[16384..]).unwrap();
    assert!(n >= 16384);
    sent.extend(p.sent(&mut c));
    let total: usize = sent.iter().map(|(_, b)| b.len()).sum();
    assert_eq!(total, 16384 + n);
}

#[test]
fn e7_zero_length_write_sends_nothing() {
    let (mut c, _) = pair(TLS12, Config::default());
    assert_eq!(c.write(&[]), Ok(0));
    assert_eq!(c.outgoing_len(), 0);
}

#[test]
fn e8_after_our_close_notify_writes_fail_but_reads_go_on() {
    let (mut c, mut p) = pair(TLS12, Config::default());
    assert_eq!(c.shutdown(), Ok(false));
    assert_eq!(p.sent(&mut c), vec![(ContentType::Alert, vec![1, 0])]);
    assert!(matches!(
        c.write(b"x"),
        Err(SslError::Ssl(Error::Misuse {
            reason: Reason::ProtocolIsShutdown,
            ..
        }))
    ));
    // G5: the peer's data is still read.
    c.recv(&p.app(b"still here"));
    assert_eq!(read(&mut c, 20).unwrap(), b"still here");
}

#[test]
fn f1_record_length_limits() {
    for (suite, len) in [(TLS12, 16705u16), (TLS13, 16641)] {
        let (mut c, _) = pair(suite, Config::default());
        c.recv(&[23, 3, 3, (len >> 8) as u8, len as u8]);
        assert_eq!(
            read(&mut c, 10),
            Err(SslError::Ssl(Error::InvalidRecord {
                reason: Reason::EncryptedLengthTooLong,
                alert: Some(AlertDescription::RecordOverflow)
            })),
            "{suite:?}: refused before the body arrives"
        );
    }
}

#[test]
fn f2_plaintext_over_2_14_is_record_overflow() {
    // 2^14 + padding is fine.
    let (mut c, mut p) = pair(TLS13, Config::default());
    let mut out = BytesMut::new();
    p.sealer
        .seal_padded(
            ContentType::ApplicationData,
            &[5; MAX_PLAINTEXT_LEN],
            200,
            &mut out,
        )
        .unwrap();
    c.recv(&out);
    assert_eq!(read(&mut c, 20000).unwrap().len(), MAX_PLAINTEXT_LEN);
    // 2^14 + 1 content bytes (sealed by hand: a Sealer refuses it).
    let keys = RecordKeys::from_traffic_secret(TLS13, &secret(1)).unwrap();
    let aead = tlsrec::cipher::AeadCipher::new(TLS13.aead(), keys.key()).unwrap();
    let mut nonce: [u8; 12] = keys.iv().try_into().unwrap();
    nonce[11] ^= 1; // sequence number 1
    let mut inner = vec![5u8; MAX_PLAINTEXT_LEN + 1];
    inner.push(23);
    let len = (inner.len() + 16) as u16;
    let header = [23, 3, 3, (len >> 8) as u8, len as u8];
    let tag = aead.seal_in_place(&nonce, &header, &mut inner);
    c.recv(&[&header[..], &inner, &tag].concat());
    assert_eq!(
        read(&mut c, 20000),
        Err(SslError::Ssl(Error::InvalidRecord {
            reason: Reason::DataLengthTooLong,
            alert: Some(AlertDescription::RecordOverflow)
        }))
    );
}

#[test]
fn f3_bad_tag_is_bad_record_mac_and_the_alert_is_sent() {
    let (mut c, mut p) = pair(TLS12, Config::default());
    let mut r = p.app(b"secret");
    let last = r.len() - 1;
    r[last] ^= 1;
    c.recv(&r);
    let e = read(&mut c, 10).unwrap_err();
    assert_eq!(e.alert_sent(), Some(AlertDescription::BadRecordMac));
    assert_eq!(p.sent(&mut c), vec![(ContentType::Alert, vec![2, 20])]);
    // F7: every later call fails with SYSCALL.
    assert_eq!(read(&mut c, 10), Err(SslError::Syscall));
    assert_eq!(peek(&mut c, 10), Err(SslError::Syscall));
    assert_eq!(c.write(b"x"), Err(SslError::Syscall));
    assert_eq!(c.pending(), 0);
}

#[test]
fn f4_wrong_record_version_after_negotiation() {
    for (suite, alert) in [
        (TLS12, AlertDescription::ProtocolVersion),
        (TLS13, AlertDescription::DecodeError),
    ] {
        let (mut c, mut p) = pair(suite, Config::default());
        let mut r = p.app(b"x");
        r[2] = 1;
        c.recv(&r);
        assert_eq!(read(&mut c, 10).unwrap_err().alert_sent(), Some(alert));
    }
}

#[test]
fn f5_unknown_content_types() {
    let (mut c, mut p) = pair(TLS12, Config::default());
    c.recv(&p.rec(ContentType::Heartbeat, b"hb"));
    assert_eq!(
        read(&mut c, 10),
        Err(ssl(
            Reason::UnexpectedRecord,
            AlertDescription::UnexpectedMessage
        ))
    );
}

#[test]
fn g1_eof_mid_stream_fails_and_sends_decode_error() {
    let (mut c, mut p) = pair(TLS13, Config::default());
    let r = p.app(b"cut short");
    c.recv(&r[..10]);
    c.recv_eof();
    assert_eq!(
        read(&mut c, 20),
        Err(SslError::Ssl(Error::InvalidRecord {
            reason: Reason::UnexpectedEofWhileReading,
            alert: Some(AlertDescription::DecodeError)
        }))
    );
    assert_eq!(p.sent(&mut c), vec![(ContentType::Alert, vec![2, 50])]);
    assert_eq!(read(&mut c, 20), Err(SslError::Syscall));
}

#[test]
fn g2_ignore_unexpected_eof_counts_as_close_notify() {
    let (mut c, mut p) = pair(
        TLS12,
        Config {
            ignore_unexpected_eof: true,
            ..Config::default()
        },
    );
    let r = p.app(b"cut short");
    c.recv(&r[..10]);
    c.recv_eof();
    assert_eq!(read(&mut c, 20), Err(SslError::ZeroReturn));
    assert_eq!(c.outgoing_len(), 0);
}

#[test]
fn g3_close_notify_is_zero_return_every_time_and_we_may_still_write() {
    let (mut c, mut p) = pair(TLS13, Config::default());
    c.recv(&[p.app(b"last"), p.alert(1, AlertDescription::CloseNotify)].concat());
    assert_eq!(read(&mut c, 10).unwrap(), b"last");
    for _ in 0..3 {
        assert_eq!(read(&mut c, 10), Err(SslError::ZeroReturn));
    }
    assert_eq!(c.write(b"reply"), Ok(5));
    assert_eq!(
        p.sent(&mut c),
        vec![(ContentType::ApplicationData, b"reply".to_vec())]
    );
}

#[test]
fn g4_shutdown_sends_close_notify_then_completes_when_the_peer_closes() {
    let (mut c, mut p) = pair(TLS12, Config::default());
    c.set_outgoing_capacity(Some(0));
    assert_eq!(c.shutdown(), Err(SslError::WantWrite));
    c.set_outgoing_capacity(None);
    assert_eq!(c.shutdown(), Ok(false));
    assert_eq!(p.sent(&mut c), vec![(ContentType::Alert, vec![1, 0])]);
    c.recv(&p.alert(1, AlertDescription::CloseNotify));
    assert_eq!(read(&mut c, 10), Err(SslError::ZeroReturn));
    assert_eq!(c.shutdown(), Ok(true));
}

#[test]
fn tls12_records_sealed_here_open_at_the_peer_in_order() {
    let (mut c, mut p) = pair(TLS12, Config::default());
    for i in 0..5u8 {
        assert_eq!(c.write(&[i; 100]), Ok(100));
    }
    let sent = p.sent(&mut c);
    assert_eq!(sent.len(), 5);
    for (i, (_, b)) in sent.iter().enumerate() {
        assert_eq!(b, &vec![i as u8; 100]);
    }
}

/// E9 as OpenSSL 3.0 does it: the close_notify queues behind the pending
/// record, the call reports the write's WANT_WRITE, and the next shutdown
/// meets the pending record of another type: a fatal bad write retry.
#[test]
fn e9_shutdown_during_a_blocked_write_is_want_write_then_bad_write_retry() {
    let (mut c, _) = pair(TLS12, Config::default());
    c.set_outgoing_capacity(Some(100));
    let data = vec![1u8; 3000];
    assert_eq!(c.write(&data), Err(SslError::WantWrite));
    let queued = c.outgoing_len();
    assert_eq!(c.shutdown(), Err(SslError::WantWrite));
    assert_eq!(c.outgoing_len(), queued, "nothing written");
    match c.shutdown() {
        Err(SslError::Ssl(e)) => assert_eq!(e.reason(), Some(Reason::BadWriteRetry)),
        r => panic!("{r:?}"),
    }
    // E8 comes first for a write after shutdown.
    match c.write(&data) {
        Err(SslError::Ssl(e)) => assert_eq!(e.reason(), Some(Reason::ProtocolIsShutdown)),
        r => panic!("{r:?}"),
    }
}

/// C6 with many requests: OpenSSL 3.0 answers each KeyUpdate that asked for
/// one at the next entry to its state machine, and that entry does nothing
/// else, so 32 requests read in one `SSL_read` get 32 answers (OpenSSL
/// 3.0.19 sends 32), each under the next generation of this side's keys.
/// A taken-over session seals them itself and must send as many.
#[test]
fn c6_every_requested_key_update_is_answered() {
    use tlsrec::keys::next_traffic_secret;
    let (mut c, mut p) = pair(TLS13, Config::default());
    let mut wire = Vec::new();
    for _ in 0..32 {
        wire.extend(p.key_update(1));
    }
    wire.extend(p.app(b"data"));
    c.recv(&wire);
    assert_eq!(read(&mut c, 20).unwrap(), b"data");
    assert_eq!(c.write(b"mine"), Ok(4));
    // Open what the client sent, following its key updates.
    let out = c.take_outgoing(usize::MAX);
    let mut secret = secret(2);
    let mut opener = tlsrec::Opener::new();
    opener.set_keys(RecordKeys::from_traffic_secret(TLS13, &secret).unwrap());
    let mut deframer = tlsrec::Deframer::new();
    let mut rest = &out[..];
    let (mut updates, mut data) = (0, Vec::new());
    loop {
        let k = deframer.push(rest);
        rest = &rest[k..];
        while let Some(r) = deframer.pop().unwrap() {
            let plain = opener.open(r).unwrap();
            match plain.typ {
                ContentType::Handshake => {
                    assert_eq!(&plain.payload[..], [24, 0, 0, 1, 0], "update_not_requested");
                    updates += 1;
                    secret = next_traffic_secret(TLS13.hash(), &secret).unwrap();
                    opener.set_keys(RecordKeys::from_traffic_secret(TLS13, &secret).unwrap());
                }
                ContentType::ApplicationData => data.extend_from_slice(&plain.payload),
                t => panic!("{t:?}"),
            }
        }
        if rest.is_empty() {
            break;
        }
    }
    assert_eq!(updates, 32, "one answer per request");
    assert_eq!(data, b"mine");
}

/// Bytes arriving clear a WANT_READ the last call left, whichever receive
/// call brings them (OpenSSL: a write into the memory BIO clears its retry
/// flags, and `SSL_shutdown` that only queues its close_notify behind a
/// pending record leaves `rwstate` alone, so `SSL_get_error` falls through
/// to SYSCALL once the BIO no longer says "retry read").
#[test]
fn h1_bytes_arriving_clear_a_want_read_whichever_call_brings_them() {
    for feed in 0..4 {
        let (mut c, mut p) = pair(TLS12, Config::default());
        c.set_outgoing_capacity(Some(10));
        assert_eq!(c.write(&[5u8; 1000]), Err(SslError::WantWrite));
        assert_eq!(read(&mut c, 100), Err(SslError::WantRead));
        let rec = p.app(b"hello");
        match feed {
            0 => c.recv(&rec),
            1 => {
                c.recv_buf(BytesMut::from(&rec[..]));
            }
            2 => {
                let n = c
                    .recv_with(rec.len(), |room| {
                        room.copy_from_slice(&rec);
                        Ok::<usize, ()>(rec.len())
                    })
                    .unwrap();
                assert_eq!(n, rec.len());
            }
            // Nothing arrives: the WANT_READ stays what the call reports.
            _ => {}
        }
        let want = if feed == 3 {
            SslError::WantRead
        } else {
            SslError::Syscall
        };
        assert_eq!(c.shutdown(), Err(want), "feed {feed}");
    }
}
