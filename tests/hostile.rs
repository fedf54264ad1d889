//! A hostile peer: floods, extreme sizes, cut-off streams, malformed alerts,
//! KeyUpdate storms. Each test asserts the exact OpenSSL 3.0 outcome
//! (docs/behaviour.md, the replayed transcripts) and that memory stays bounded:
//! the session takes exactly one record at a time from the received bytes
//! (`unread_input()` says how many it left), and a per-thread counting
//! allocator measures the heap while the session works.

mod common;

use common::heap::peak_growth;
use common::peer::{pair, read, secret, ssl, Peer};

use bytes::BytesMut;
use tlsrec::handshake::DEFAULT_MAX_HANDSHAKE_LEN;
use tlsrec::keylog::KeyLog;
use tlsrec::keys::{RecordKeys, Secret};
use tlsrec::record::{MAX_PLAINTEXT_LEN, MAX_RECORD_LEN};
use tlsrec::session::{MAX_EMPTY_RECORDS, MAX_WARN_ALERT_COUNT};
use tlsrec::{
    AlertDescription, CipherSuite, Config, ContentType, Error, Established, Opener, Reason, Sealer,
    Session, SslError,
};

#[global_allocator]
static A: common::heap::Counting = common::heap::Counting;

/// What one session may hold beyond the received bytes: a record being
/// built, the record being read, a handshake message being joined, and
/// the outgoing alert (with room for allocator rounding).
const SESSION_SLACK: usize = 4 * MAX_RECORD_LEN;

// ---------------------------------------------------------------------------
// The peer
// ---------------------------------------------------------------------------

const TLS12: CipherSuite = CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256;
const TLS12_CHACHA: CipherSuite = CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256;
const TLS13: CipherSuite = CipherSuite::TLS13_AES_128_GCM_SHA256;

fn record_err(reason: Reason, alert: AlertDescription) -> SslError {
    SslError::Ssl(Error::InvalidRecord {
        reason,
        alert: Some(alert),
    })
}

/// F7: after a fatal error every call fails with SYSCALL, but
/// `SSL_shutdown`, which OpenSSL refuses as "shutdown while in init" (a
/// failed connection's state machine counts as in a handshake).
fn assert_dead(c: &mut Session) {
    assert_eq!(read(c, 10), Err(SslError::Syscall));
    let mut b = [0u8; 10];
    assert_eq!(c.peek(&mut b), Err(SslError::Syscall));
    assert_eq!(c.write(b"after"), Err(SslError::Syscall));
    assert_eq!(
        c.shutdown(),
        Err(SslError::Ssl(Error::Misuse {
            reason: Reason::ShutdownWhileInInit,
            alert: None
        }))
    );
}

fn both() -> [CipherSuite; 2] {
    [TLS12, TLS13]
}

/// Seals by hand (a Sealer refuses over-long plaintext): TLS 1.3 with
/// `inner` = content || type, at sequence number `seq`.
fn seal13_by_hand(seq: u64, mut inner: Vec<u8>) -> Vec<u8> {
    let keys = RecordKeys::from_traffic_secret(TLS13, &secret(1)).unwrap();
    let aead = tlsrec::cipher::AeadCipher::new(TLS13.aead(), keys.key()).unwrap();
    let mut nonce: [u8; 12] = keys.iv().try_into().unwrap();
    for (n, s) in nonce[4..].iter_mut().zip(seq.to_be_bytes()) {
        *n ^= s;
    }
    let len = (inner.len() + 16) as u16;
    let header = [23, 3, 3, (len >> 8) as u8, len as u8];
    let tag = aead.seal_in_place(&nonce, &header, &mut inner);
    [&header[..], &inner, &tag].concat()
}

/// Seals by hand: TLS 1.2 ChaCha20-Poly1305 (nonce = IV xor seq, AAD =
/// seq || type || version || plaintext length).
fn seal12_chacha_by_hand(seq: u64, typ: u8, plain: Vec<u8>) -> Vec<u8> {
    let keys = common::test_keys(TLS12_CHACHA, 1);
    let aead = tlsrec::cipher::AeadCipher::new(TLS12_CHACHA.aead(), keys.key()).unwrap();
    let mut nonce: [u8; 12] = keys.iv().try_into().unwrap();
    for (n, s) in nonce[4..].iter_mut().zip(seq.to_be_bytes()) {
        *n ^= s;
    }
    let mut aad = seq.to_be_bytes().to_vec();
    aad.extend_from_slice(&[typ, 3, 3, (plain.len() >> 8) as u8, plain.len() as u8]);
    let mut body = plain;
    let tag = aead.seal_in_place(&nonce, &aad, &mut body);
    let len = (body.len() + 16) as u16;
    [&[typ, 3, 3, (len >> 8) as u8, len as u8][..], &body, &tag].concat()
}

// ---------------------------------------------------------------------------
// B2: empty-record flood
// ---------------------------------------------------------------------------

#[test]
fn empty_record_flood_32_pass_the_33rd_is_record_too_small() {
    for suite in both() {
        // 32 empty records then data: the data.
        let (mut c, mut p) = pair(suite, Config::default());
        for _ in 0..MAX_EMPTY_RECORDS {
            c.recv(&p.app(b""));
        }
        c.recv(&p.app(b"x"));
        assert_eq!(read(&mut c, 10).unwrap(), b"x", "{suite:?}");

        // A flood of 100,000 in one segment: the 33rd is fatal, the rest
        // stays in the transport, untouched and unbuffered.
        let (mut c, mut p) = pair(suite, Config::default());
        let flood: Vec<Vec<u8>> = (0..100_000).map(|_| p.app(b"")).collect();
        let one = flood[0].len();
        let flood = flood.concat();
        c.recv(&flood);
        let (r, grew) = peak_growth(|| read(&mut c, 10));
        assert_eq!(
            r,
            Err(ssl(
                Reason::RecordTooSmall,
                AlertDescription::UnexpectedMessage
            )),
            "{suite:?}"
        );
        assert_eq!(
            c.unread_input(),
            flood.len() - (MAX_EMPTY_RECORDS as usize + 1) * one,
            "{suite:?}: exactly 33 records taken"
        );
        assert!(grew < SESSION_SLACK, "{suite:?}: heap grew {grew}");
        assert_eq!(
            p.sent(&mut c),
            vec![(ContentType::Alert, vec![2, 10])],
            "{suite:?}: unexpected_message sent"
        );
        assert_dead(&mut c);
    }
}

#[test]
fn empty_record_count_persists_across_calls() {
    for suite in both() {
        let (mut c, mut p) = pair(suite, Config::default());
        for _ in 0..MAX_EMPTY_RECORDS {
            c.recv(&p.app(b""));
        }
        assert_eq!(read(&mut c, 10), Err(SslError::WantRead), "{suite:?}");
        c.recv(&p.app(b""));
        assert_eq!(
            read(&mut c, 10),
            Err(ssl(
                Reason::RecordTooSmall,
                AlertDescription::UnexpectedMessage
            )),
            "{suite:?}"
        );
    }
}

// ---------------------------------------------------------------------------
// C2/C3: warning-alert flood
// ---------------------------------------------------------------------------

#[test]
fn warning_alert_flood_the_5th_is_too_many_warn_alerts() {
    // TLS 1.2: any warning alert counts; TLS 1.3: only user_canceled is a
    // warning (every other alert is fatal whatever its level).
    for (suite, desc) in [
        (TLS12, AlertDescription::UnrecognizedName),
        (TLS13, AlertDescription::UserCanceled),
    ] {
        let (mut c, mut p) = pair(suite, Config::default());
        for _ in 0..MAX_WARN_ALERT_COUNT - 1 {
            c.recv(&p.alert(1, desc));
        }
        c.recv(&p.app(b"four"));
        assert_eq!(read(&mut c, 10).unwrap(), b"four", "{suite:?}");

        let (mut c, mut p) = pair(suite, Config::default());
        let flood: Vec<Vec<u8>> = (0..20_000).map(|_| p.alert(1, desc)).collect();
        let one = flood[0].len();
        let flood = flood.concat();
        c.recv(&flood);
        let (r, grew) = peak_growth(|| read(&mut c, 10));
        assert_eq!(
            r,
            Err(ssl(
                Reason::TooManyWarnAlerts,
                AlertDescription::UnexpectedMessage
            )),
            "{suite:?}"
        );
        assert_eq!(
            c.unread_input(),
            flood.len() - MAX_WARN_ALERT_COUNT as usize * one,
            "{suite:?}: exactly 5 alerts taken"
        );
        assert!(grew < SESSION_SLACK, "{suite:?}: heap grew {grew}");
        assert_eq!(p.sent(&mut c), vec![(ContentType::Alert, vec![2, 10])]);
        assert_dead(&mut c);
    }
}

#[test]
fn a_tls13_warning_level_alert_other_than_user_canceled_is_fatal_at_once() {
    let (mut c, mut p) = pair(TLS13, Config::default());
    c.recv(&p.alert(1, AlertDescription::UnrecognizedName));
    assert_eq!(
        read(&mut c, 10),
        Err(SslError::Ssl(Error::AlertReceived(
            AlertDescription::UnrecognizedName
        )))
    );
    assert_eq!(c.outgoing_len(), 0, "C4: no alert is sent back");
}

// ---------------------------------------------------------------------------
// A1, I2: a stream of 1-byte records
// ---------------------------------------------------------------------------

#[test]
fn one_byte_records_one_per_read_exactly_one_record_taken() {
    for suite in [TLS12, TLS12_CHACHA, TLS13] {
        for segmented in [false, true] {
            let (mut c, mut p) = pair(suite, Config::default());
            let n = 3000;
            let stream: Vec<Vec<u8>> = (0..n).map(|i| p.app(&[i as u8])).collect();
            let one = stream[0].len();
            let wire = stream.concat();
            if segmented {
                // 1-byte segments, read as they come.
                let mut got = Vec::new();
                for b in &wire {
                    c.recv(std::slice::from_ref(b));
                    match read(&mut c, 100) {
                        Ok(v) => got.extend(v),
                        Err(SslError::WantRead) => {}
                        Err(e) => panic!("{suite:?}: {e}"),
                    }
                    assert!(c.unread_input() <= 1, "{suite:?}: bytes left behind");
                }
                assert_eq!(got, (0..n).map(|i| i as u8).collect::<Vec<_>>());
            } else {
                c.recv(&wire);
                let (_, grew) = peak_growth(|| {
                    for i in 0..n {
                        assert_eq!(read(&mut c, 100).unwrap(), vec![i as u8], "{suite:?}");
                        assert_eq!(c.pending(), 0);
                        assert_eq!(
                            c.unread_input(),
                            wire.len() - (i + 1) * one,
                            "{suite:?}: one record per read"
                        );
                    }
                });
                assert!(grew < SESSION_SLACK, "{suite:?}: heap grew {grew}");
            }
            assert_eq!(read(&mut c, 100), Err(SslError::WantRead));
        }
    }
}

// ---------------------------------------------------------------------------
// F1/F2: maximum-size records
// ---------------------------------------------------------------------------

#[test]
fn maximum_size_records_2_14_is_read_2_14_plus_1_is_record_overflow() {
    for suite in [TLS12, TLS12_CHACHA, TLS13] {
        let (mut c, mut p) = pair(suite, Config::default());
        let big: Vec<u8> = (0..MAX_PLAINTEXT_LEN).map(|i| (i * 7) as u8).collect();
        c.recv(&[p.app(&big), p.app(&big)].concat());
        assert_eq!(read(&mut c, 20_000).unwrap(), big, "{suite:?}");
        // A short read leaves the rest pending.
        assert_eq!(read(&mut c, 100).unwrap(), big[..100]);
        assert_eq!(c.pending(), MAX_PLAINTEXT_LEN - 100);
        assert_eq!(read(&mut c, 20_000).unwrap(), big[100..]);
    }
    // TLS 1.3: 2^14 + 200 bytes of padding is fine.
    let (mut c, mut p) = pair(TLS13, Config::default());
    let mut out = BytesMut::new();
    p.sealer
        .seal_padded(
            ContentType::ApplicationData,
            &[9; MAX_PLAINTEXT_LEN],
            200,
            &mut out,
        )
        .unwrap();
    c.recv(&out);
    assert_eq!(read(&mut c, 20_000).unwrap().len(), MAX_PLAINTEXT_LEN);

    // TLS 1.3: an inner plaintext of 2^14 + 1 content bytes.
    let (mut c, _) = pair(TLS13, Config::default());
    let mut inner = vec![5u8; MAX_PLAINTEXT_LEN + 1];
    inner.push(23);
    c.recv(&seal13_by_hand(0, inner));
    assert_eq!(
        read(&mut c, 20_000),
        Err(record_err(
            Reason::DataLengthTooLong,
            AlertDescription::RecordOverflow
        ))
    );
    assert_dead(&mut c);

    // TLS 1.2 (ChaCha20-Poly1305): 2^14 + 1 plaintext bytes.
    let (mut c, _) = pair(TLS12_CHACHA, Config::default());
    c.recv(&seal12_chacha_by_hand(
        0,
        23,
        vec![5u8; MAX_PLAINTEXT_LEN + 1],
    ));
    assert_eq!(
        read(&mut c, 20_000),
        Err(record_err(
            Reason::DataLengthTooLong,
            AlertDescription::RecordOverflow
        ))
    );
}

#[test]
fn an_over_long_header_is_refused_before_its_body() {
    // F1: 2^14 + 256 + 1 (TLS 1.3), 2^14 + 320 + 1 (TLS 1.2); only the 5
    // header bytes have arrived, nothing more is waited for.
    for (suite, len) in [(TLS13, 16641u16), (TLS12, 16705), (TLS12, 0xffff)] {
        let (mut c, _) = pair(suite, Config::default());
        c.recv(&[23, 3, 3, (len >> 8) as u8, len as u8]);
        let want = if len > 16707 {
            Reason::PacketLengthTooLong
        } else {
            Reason::EncryptedLengthTooLong
        };
        assert_eq!(
            read(&mut c, 10),
            Err(record_err(want, AlertDescription::RecordOverflow)),
            "{suite:?} {len}"
        );
        assert_eq!(c.unread_input(), 0);
    }
}

// ---------------------------------------------------------------------------
// A handshake message declaring 16 MB
// ---------------------------------------------------------------------------

/// The 4-byte header alone, then a long body in records the client never
/// takes: the session fails at the header without buffering the body.
fn huge_message(suite: CipherSuite, typ: u8) -> (Result<Vec<u8>, SslError>, usize, Session, Peer) {
    let (mut c, mut p) = pair(suite, Config::default());
    let head = p.rec(ContentType::Handshake, &[typ, 0xff, 0xff, 0xff]);
    let body: Vec<u8> = (0..64)
        .flat_map(|_| p.rec(ContentType::Handshake, &[0; MAX_PLAINTEXT_LEN]))
        .collect();
    c.recv(&head);
    c.recv(&body);
    let (r, grew) = peak_growth(|| read(&mut c, 10));
    assert_eq!(
        c.unread_input(),
        body.len(),
        "only the header's record taken"
    );
    (r, grew, c, p)
}

#[test]
fn a_16_mb_handshake_message_is_excessive_message_size_without_buffering_it() {
    // TLS 1.3 NewSessionTicket (OpenSSL's bound: 131338 bytes) and TLS 1.2
    // HelloRequest (bound 0): illegal_parameter, excessive message size,
    // at the header.
    for (suite, typ) in [(TLS13, 4u8), (TLS12, 0)] {
        let (r, grew, mut c, mut p) = huge_message(suite, typ);
        assert_eq!(
            r,
            Err(ssl(
                Reason::ExcessiveMessageSize,
                AlertDescription::IllegalParameter
            )),
            "{suite:?}"
        );
        assert!(grew < SESSION_SLACK, "{suite:?}: heap grew {grew}");
        assert_eq!(p.sent(&mut c), vec![(ContentType::Alert, vec![2, 47])]);
        assert_dead(&mut c);
    }
}

#[test]
fn a_large_allowed_handshake_message_is_joined_across_records_then_data_reads() {
    // A TLS 1.3 NewSessionTicket of DEFAULT_MAX_HANDSHAKE_LEN bytes (under
    // OpenSSL's 131338) spread over records: skipped, then the data reads.
    let (mut c, mut p) = pair(TLS13, Config::default());
    let n = DEFAULT_MAX_HANDSHAKE_LEN;
    let mut msg = vec![4, (n >> 16) as u8, (n >> 8) as u8, n as u8];
    msg.resize(4 + n, 0x11);
    let mut wire: Vec<u8> = msg
        .chunks(MAX_PLAINTEXT_LEN)
        .flat_map(|ch| p.rec(ContentType::Handshake, ch))
        .collect();
    wire.extend(p.app(b"after the ticket"));
    c.recv(&wire);
    let (r, grew) = peak_growth(|| read(&mut c, 100));
    assert_eq!(r.unwrap(), b"after the ticket");
    assert!(
        grew < 3 * n + SESSION_SLACK,
        "heap grew {grew} for a {n}-byte message"
    );
}

#[test]
fn a_tls13_key_update_longer_than_1_byte_is_excessive_message_size() {
    // OpenSSL 3.0 statem.c read_state_machine: after the header,
    // `message_size > max_message_size(s)` -> SSLfatal(ILLEGAL_PARAMETER,
    // EXCESSIVE_MESSAGE_SIZE); statem_clnt.c: TLS_ST_CR_KEY_UPDATE ->
    // KEY_UPDATE_MAX_LENGTH (1).
    let (mut c, mut p) = pair(TLS13, Config::default());
    c.recv(&p.rec(ContentType::Handshake, &[24, 0, 0, 2, 0, 0]));
    assert_eq!(
        read(&mut c, 10),
        Err(ssl(
            Reason::ExcessiveMessageSize,
            AlertDescription::IllegalParameter
        ))
    );
}

#[test]
fn a_16_mb_message_of_an_unexpected_type_is_unexpected_message() {
    // OpenSSL 3.0 read_state_machine runs transition() (unexpected_message
    // for a ServerHello after the handshake) before the size check.
    let (r, ..) = huge_message(TLS13, 2);
    assert_eq!(
        r,
        Err(ssl(
            Reason::UnexpectedMessage,
            AlertDescription::UnexpectedMessage
        ))
    );
}

// ---------------------------------------------------------------------------
// G1/G2: a record that never completes, then EOF
// ---------------------------------------------------------------------------

#[test]
fn a_record_that_never_completes_then_eof() {
    for suite in both() {
        // Cut inside the header, right after it, and inside the body.
        for cut in [3usize, 5, 40] {
            let (mut c, mut p) = pair(suite, Config::default());
            let r = p.app(&[7; 100]);
            c.recv(&r[..cut]);
            assert_eq!(read(&mut c, 200), Err(SslError::WantRead));
            assert_eq!(read(&mut c, 200), Err(SslError::WantRead), "still waiting");
            c.recv_eof();
            // 3.0.19 reports SSL_ERROR_SSL and sends decode_error.
            assert_eq!(
                read(&mut c, 200),
                Err(record_err(
                    Reason::UnexpectedEofWhileReading,
                    AlertDescription::DecodeError
                )),
                "{suite:?} {cut}"
            );
            assert_eq!(
                p.sent(&mut c),
                vec![(ContentType::Alert, vec![2, 50])],
                "{suite:?} {cut}"
            );
            assert_dead(&mut c);

            // SSL_OP_IGNORE_UNEXPECTED_EOF: close_notify, the partial
            // record dropped, nothing sent; ZERO_RETURN every time.
            let cfg = Config {
                ignore_unexpected_eof: true,
                ..Config::default()
            };
            let (mut c, mut p) = pair(suite, cfg);
            let r = p.app(&[7; 100]);
            c.recv(&r[..cut]);
            c.recv_eof();
            assert_eq!(read(&mut c, 200), Err(SslError::ZeroReturn));
            assert_eq!(read(&mut c, 200), Err(SslError::ZeroReturn));
            assert_eq!(c.outgoing_len(), 0);
            // OpenSSL keeps the bytes of the cut record in its read buffer
            // (a whole header alone is no longer there): SSL_has_pending.
            assert_eq!(c.has_pending(), cut != 5, "{suite:?} {cut}");
        }
    }
}

// ---------------------------------------------------------------------------
// C1: alerts of odd lengths
// ---------------------------------------------------------------------------

#[test]
fn alerts_of_odd_lengths_are_invalid_alert() {
    for suite in both() {
        for body in [&[2u8][..], &[1, 0, 0], &[2, 40, 2, 40], &[1; 100]] {
            let (mut c, mut p) = pair(suite, Config::default());
            c.recv(&p.rec(ContentType::Alert, body));
            assert_eq!(
                read(&mut c, 10),
                Err(ssl(
                    Reason::InvalidAlert,
                    AlertDescription::UnexpectedMessage
                )),
                "{suite:?} {} bytes",
                body.len()
            );
            assert_eq!(p.sent(&mut c), vec![(ContentType::Alert, vec![2, 10])]);
            assert_dead(&mut c);
        }
    }
    // An empty alert record: TLS 1.2 counts it as empty and then refuses
    // it as an invalid alert (OpenSSL 3.0.19, differential test
    // `short_records_of_every_length_agree_with_libssl`), TLS 1.3 refuses
    // it (B3: BAD_LENGTH).
    let (mut c, mut p) = pair(TLS12, Config::default());
    c.recv(&[p.rec(ContentType::Alert, b""), p.app(b"ok")].concat());
    assert_eq!(
        read(&mut c, 10),
        Err(ssl(
            Reason::InvalidAlert,
            AlertDescription::UnexpectedMessage
        ))
    );
    let (mut c, mut p) = pair(TLS13, Config::default());
    c.recv(&p.rec(ContentType::Alert, b""));
    assert_eq!(
        read(&mut c, 10),
        Err(ssl(Reason::BadLength, AlertDescription::UnexpectedMessage))
    );
    // An alert split over two records (1 byte each) is two invalid alerts:
    // the first fails.
    let (mut c, mut p) = pair(TLS12, Config::default());
    c.recv(
        &[
            p.rec(ContentType::Alert, &[1]),
            p.rec(ContentType::Alert, &[0]),
        ]
        .concat(),
    );
    assert_eq!(
        read(&mut c, 10),
        Err(ssl(
            Reason::InvalidAlert,
            AlertDescription::UnexpectedMessage
        ))
    );
}

// ---------------------------------------------------------------------------
// C6: a KeyUpdate storm
// ---------------------------------------------------------------------------

#[test]
fn key_update_storm_keys_rotate_memory_stays_flat_data_reads() {
    const N: usize = 5000;
    let (mut c, mut p) = pair(TLS13, Config::default());
    let epoch0 = c.opener().epoch();
    let mut wire = Vec::new();
    for _ in 0..N {
        wire.extend(p.key_update(0));
    }
    wire.extend(p.app(b"after the storm"));
    c.recv(&wire);
    // One read follows every KeyUpdate (AUTO_RETRY) and returns the data
    // sealed under the 5000th generation of keys.
    let (r, grew) = peak_growth(|| read(&mut c, 100));
    assert_eq!(r.unwrap(), b"after the storm");
    assert_eq!(c.opener().epoch(), epoch0 + N as u64, "one rotation each");
    assert!(grew < SESSION_SLACK, "heap grew {grew} over {N} KeyUpdates");
    assert_eq!(c.outgoing_len(), 0, "SSL_read sends nothing for them");
    assert!(!c.key_update_due());

    // Without AUTO_RETRY each KeyUpdate ends a read with WANT_READ (C5).
    let cfg = Config {
        auto_retry: false,
        ..Config::default()
    };
    let (mut c, mut p) = pair(TLS13, cfg);
    let mut wire = Vec::new();
    for _ in 0..200 {
        wire.extend(p.key_update(0));
    }
    wire.extend(p.key_update(1));
    wire.extend(p.app(b"data"));
    c.recv(&wire);
    let (_, grew) = peak_growth(|| {
        for i in 0..201 {
            assert_eq!(read(&mut c, 100), Err(SslError::WantRead), "KeyUpdate {i}");
        }
        assert_eq!(read(&mut c, 100).unwrap(), b"data");
    });
    assert!(grew < SESSION_SLACK, "heap grew {grew}");
    assert!(c.key_update_due(), "the last one asked for an update");
    assert_eq!(
        c.outgoing_len(),
        0,
        "answered by the next write, not a read"
    );
}

#[test]
fn key_update_storm_in_one_byte_segments() {
    let (mut c, mut p) = pair(TLS13, Config::default());
    let mut wire = Vec::new();
    for _ in 0..300 {
        wire.extend(p.key_update(0));
        wire.extend(p.app(b"d"));
    }
    let mut got = Vec::new();
    for b in &wire {
        c.recv(std::slice::from_ref(b));
        match read(&mut c, 10) {
            Ok(v) => got.extend(v),
            Err(SslError::WantRead) => {}
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(got, vec![b'd'; 300]);
}

// ---------------------------------------------------------------------------
// Key hygiene: Debug never shows key material
// ---------------------------------------------------------------------------

/// Every window of 4 bytes of `secret`, as lower- and upper-case hex and
/// as a Debug decimal list (`[222, 173, 190, 239` or `222, 173, 190, 239`).
fn forms(secret: &[u8]) -> Vec<String> {
    let mut f = Vec::new();
    for w in secret.windows(4) {
        let hex: String = w.iter().map(|b| format!("{b:02x}")).collect();
        f.push(hex.to_uppercase());
        f.push(hex);
        let dec: Vec<String> = w.iter().map(u8::to_string).collect();
        f.push(dec.join(", "));
        f.push(dec.join(","));
        let hexlist: Vec<String> = w.iter().map(|b| format!("{b:#04x}")).collect();
        f.push(hexlist.join(", "));
    }
    f
}

fn assert_hidden(what: &str, debug: &str, secrets: &[(&str, &[u8])]) {
    for (name, s) in secrets {
        for form in forms(s) {
            assert!(
                !debug.contains(&form),
                "{what}'s Debug shows the {name} ({form:?}):\n{debug}"
            );
        }
    }
}

/// Distinctive key material: no 4-byte window looks like a small counter.
fn material(n: usize, seed: u64) -> Vec<u8> {
    let mut rng = common::Rng::new(seed);
    (0..n).map(|_| 0x80 | rng.next_u64() as u8).collect()
}

fn keylog_text(cr: &[u8], secret: &[u8]) -> String {
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    format!(
        "CLIENT_RANDOM {} {}\nCLIENT_TRAFFIC_SECRET_0 {} {}\n",
        hex(cr),
        hex(&secret[..48]),
        hex(cr),
        hex(&secret[..32])
    )
}

#[test]
fn debug_output_never_contains_keys() {
    let key = material(32, 1);
    let secret_bytes = material(48, 2);
    let secret = Secret::new(secret_bytes.clone());
    assert_hidden(
        "Secret",
        &format!("{secret:?}"),
        &[("secret", &secret_bytes)],
    );

    for suite in [TLS12, TLS12_CHACHA, TLS13] {
        let klen = suite.aead().key_len();
        let keys = RecordKeys::new(
            suite,
            &key[..klen],
            &material(12, 3)[..suite.aead().fixed_iv_len(suite.version())],
        )
        .unwrap();
        let secrets: &[(&str, &[u8])] = &[("key", &key[..klen])];
        assert_hidden("RecordKeys", &format!("{keys:?}"), secrets);
        let mut sealer = Sealer::new();
        sealer.set_keys(keys.clone());
        assert_hidden("Sealer", &format!("{sealer:?}"), secrets);
        let mut opener = Opener::new();
        opener.set_keys(keys.clone());
        opener.prepare(keys.clone());
        assert_hidden("Opener", &format!("{opener:?}"), secrets);

        let tls13 = suite.version() == tlsrec::Version::Tls13;
        let est = Established {
            suite,
            read: keys.clone(),
            read_seq: 5,
            write: keys.clone(),
            write_seq: 7,
            secrets: tls13.then(|| (secret.clone(), secret.clone())),
        };
        assert_hidden("Established", &format!("{est:?}"), secrets);
        let mut s = Session::client_from_established(est, Config::default()).unwrap();
        s.recv(b"\x17\x03\x03\x00\x20");
        let _ = s.write(b"hello");
        let all: &[(&str, &[u8])] = &[("key", &key[..klen]), ("secret", &secret_bytes)];
        assert_hidden("Session", &format!("{s:?}"), all);
        assert_hidden("Session (pretty)", &format!("{s:#?}"), all);
    }

    let cr = [0x42u8; 32];
    let log = KeyLog::parse(&keylog_text(&cr, &secret_bytes)).unwrap();
    assert_hidden("KeyLog", &format!("{log:?}"), &[("secret", &secret_bytes)]);
    assert_hidden(
        "KeyLog (pretty)",
        &format!("{log:#?}"),
        &[("secret", &secret_bytes)],
    );
    let s = Session::passive_client(log, Config::default());
    assert_hidden(
        "Session (passive)",
        &format!("{s:?}"),
        &[("secret", &secret_bytes)],
    );
}

#[test]
fn debug_output_never_contains_ivs() {
    for suite in [TLS12, TLS12_CHACHA, TLS13] {
        let klen = suite.aead().key_len();
        let ivlen = suite.aead().fixed_iv_len(suite.version());
        let iv = material(12, 3);
        let keys = RecordKeys::new(suite, &material(32, 1)[..klen], &iv[..ivlen]).unwrap();
        let secrets: &[(&str, &[u8])] = &[("iv", &iv[..ivlen])];
        assert_hidden("RecordKeys", &format!("{keys:?}"), secrets);
        let mut sealer = Sealer::new();
        sealer.set_keys(keys.clone());
        assert_hidden("Sealer", &format!("{sealer:?}"), secrets);
        let mut opener = Opener::new();
        opener.set_keys(keys.clone());
        assert_hidden("Opener", &format!("{opener:?}"), secrets);
    }
}

// ---------------------------------------------------------------------------
// Found by the decode_input fuzzer
// ---------------------------------------------------------------------------

#[test]
fn replay_of_a_write_step_whose_data_is_not_n_bytes_does_not_panic() {
    // Minimized from fuzz/regressions/decode_input/replay-write-data-length.
    let text = r#"{"format":"tlsrec-transcript/1","steps":[{"write":4,"buf":"A","data":"616263","ok":4}]}"#;
    let r = std::panic::catch_unwind(|| {
        tlsrec::transcript::Transcript::parse(text).map(|t| tlsrec::replay::replay(&t).is_ok())
    });
    assert!(r.is_ok(), "replay panicked");
}
