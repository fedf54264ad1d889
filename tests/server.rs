//! `Session::server_from_established`: a server taken over after its
//! handshake reads and writes records as a client does, and answers the
//! handshake messages only a client may send after the handshake: a TLS 1.2
//! ClientHello is refused with a warning `no_renegotiation` alert (and the
//! connection goes on), a TLS 1.3 KeyUpdate is followed, a NewSessionTicket
//! is an unexpected message.

mod common;

use bytes::BytesMut;
use common::open_records;
use tlsrec::keys::{next_traffic_secret, Secret};
use tlsrec::{
    AlertDescription, CipherSuite, Config, ContentType, Error, Established, Opener, Reason,
    RecordKeys, Sealer, Session, SslError, Version,
};

fn secret(b: u8) -> Secret {
    Secret::new(vec![b; 32])
}

fn keys(suite: CipherSuite, b: u8) -> RecordKeys {
    match suite.version() {
        Version::Tls13 => RecordKeys::from_traffic_secret(suite, &secret(b)).unwrap(),
        Version::Tls12 => {
            let a = suite.aead();
            RecordKeys::new(
                suite,
                &vec![b; a.key_len()],
                &vec![b; a.fixed_iv_len(Version::Tls12)],
            )
            .unwrap()
        }
    }
}

/// The server session, the client's sealer (the server's read keys) and
/// the client's opener (the server's write keys).
fn server(suite: CipherSuite, cfg: Config) -> (Session, Sealer, Opener) {
    let tls13 = suite.version() == Version::Tls13;
    let est = Established {
        suite,
        read: keys(suite, 1),
        read_seq: 0,
        write: keys(suite, 2),
        write_seq: 0,
        secrets: tls13.then(|| (secret(1), secret(2))),
    };
    let s = Session::server_from_established(est, cfg).unwrap();
    let mut client = Sealer::new();
    client.set_keys(keys(suite, 1));
    let mut opener = Opener::new();
    opener.set_keys(keys(suite, 2));
    (s, client, opener)
}

fn read_all(s: &mut Session) -> Result<Vec<u8>, SslError> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(SslError::WantRead) => return Ok(got),
            Err(e) => return Err(e),
        }
    }
}

/// Reading fails with unexpected_message (the alert we then send).
fn expect_unexpected_message(s: &mut Session) {
    match read_all(s) {
        Err(SslError::Ssl(e)) => {
            assert_eq!(e.alert(), Some(AlertDescription::UnexpectedMessage))
        }
        r => panic!("{r:?}"),
    }
}

/// A ClientHello message (type 1) with an arbitrary body.
fn client_hello() -> Vec<u8> {
    let body = vec![3u8; 80];
    let mut m = vec![1, 0, 0, body.len() as u8];
    m.extend_from_slice(&body);
    m
}

#[test]
fn tls12_client_hello_is_refused_with_a_warning_and_the_connection_goes_on() {
    let suite = CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256;
    for segment in [usize::MAX, 1] {
        let (mut s, mut client, mut opener) = server(suite, Config::default());
        let mut wire = BytesMut::new();
        client
            .seal(ContentType::ApplicationData, b"before", &mut wire)
            .unwrap();
        client
            .seal(ContentType::Handshake, &client_hello(), &mut wire)
            .unwrap();
        client
            .seal(ContentType::ApplicationData, b"after", &mut wire)
            .unwrap();
        let mut got = Vec::new();
        for seg in wire.chunks(segment.min(wire.len())) {
            s.recv(seg);
            got.extend(read_all(&mut s).unwrap());
        }
        assert_eq!(got, b"beforeafter");
        assert_eq!(s.write(b"reply"), Ok(5));
        let out = s.take_outgoing(usize::MAX);
        assert_eq!(
            open_records(&mut opener, &out),
            vec![
                (ContentType::Alert, vec![1, 100]),
                (ContentType::ApplicationData, b"reply".to_vec()),
            ],
            "segment {segment}"
        );
    }
}

#[test]
fn tls12_refusal_waits_behind_a_blocked_write() {
    let suite = CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384;
    let (mut s, mut client, mut opener) = server(suite, Config::default());
    s.set_outgoing_capacity(Some(100));
    let data = vec![7u8; 1000];
    assert_eq!(s.write(&data), Err(SslError::WantWrite));
    let mut wire = BytesMut::new();
    client
        .seal(ContentType::Handshake, &client_hello(), &mut wire)
        .unwrap();
    s.recv(&wire);
    assert_eq!(read_all(&mut s), Ok(Vec::new()));
    // The pending record goes first, whole; the alert is sent with the
    // next record.
    let mut out = Vec::new();
    s.set_outgoing_capacity(None);
    out.extend_from_slice(&s.take_outgoing(usize::MAX));
    assert_eq!(s.write(&data), Ok(1000));
    assert_eq!(s.write(b"next"), Ok(4));
    out.extend_from_slice(&s.take_outgoing(usize::MAX));
    assert_eq!(
        open_records(&mut opener, &out),
        vec![
            (ContentType::ApplicationData, data.clone()),
            (ContentType::Alert, vec![1, 100]),
            (ContentType::ApplicationData, b"next".to_vec()),
        ]
    );
}

#[test]
fn tls12_hello_request_is_unexpected_at_a_server() {
    let suite = CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256;
    let (mut s, mut client, mut opener) = server(suite, Config::default());
    let mut wire = BytesMut::new();
    client
        .seal(ContentType::Handshake, &[0, 0, 0, 0], &mut wire)
        .unwrap();
    s.recv(&wire);
    expect_unexpected_message(&mut s);
    let out = s.take_outgoing(usize::MAX);
    assert_eq!(
        open_records(&mut opener, &out),
        vec![(ContentType::Alert, vec![2, 10])]
    );
}

#[test]
fn tls13_server_follows_key_update_and_refuses_a_ticket() {
    let suite = CipherSuite::TLS13_AES_128_GCM_SHA256;
    let (mut s, mut client, mut opener) = server(suite, Config::default());
    let mut wire = BytesMut::new();
    // KeyUpdate with update_requested, then data under the client's next key.
    client
        .seal(ContentType::Handshake, &[24, 0, 0, 1, 1], &mut wire)
        .unwrap();
    let next = next_traffic_secret(suite.hash(), &secret(1)).unwrap();
    client.set_keys(RecordKeys::from_traffic_secret(suite, &next).unwrap());
    client
        .seal(ContentType::ApplicationData, b"new key", &mut wire)
        .unwrap();
    s.recv(&wire);
    assert_eq!(read_all(&mut s).unwrap(), b"new key");
    // Our answer: a KeyUpdate before the next data, which goes under our
    // next key.
    assert_eq!(s.write(b"ok"), Ok(2));
    let out = s.take_outgoing(usize::MAX);
    let len = u16::from_be_bytes([out[3], out[4]]) as usize;
    let (first, rest) = out.split_at(5 + len);
    assert_eq!(
        open_records(&mut opener, first),
        vec![(ContentType::Handshake, vec![24, 0, 0, 1, 0])]
    );
    let ours = next_traffic_secret(suite.hash(), &secret(2)).unwrap();
    let mut opener = Opener::new();
    opener.set_keys(RecordKeys::from_traffic_secret(suite, &ours).unwrap());
    assert_eq!(
        open_records(&mut opener, rest),
        vec![(ContentType::ApplicationData, b"ok".to_vec())]
    );
    // A NewSessionTicket is for clients only.
    let mut wire = BytesMut::new();
    client
        .seal(ContentType::Handshake, &[4, 0, 0, 2, 0, 0], &mut wire)
        .unwrap();
    s.recv(&wire);
    expect_unexpected_message(&mut s);
    assert_eq!(
        open_records(&mut opener, &s.take_outgoing(usize::MAX)),
        vec![(ContentType::Alert, vec![2, 10])]
    );
    assert!(s.take_tickets().is_empty());
}

#[test]
fn a_server_taken_over_cannot_renegotiate_and_that_is_not_fatal() {
    let suite = CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256;
    let (mut s, mut client, mut opener) = server(suite, Config::default());
    match s.renegotiate() {
        Err(SslError::Ssl(Error::Misuse { reason, alert })) => {
            assert_eq!(reason, Reason::NoHandshake);
            assert_eq!(alert, None);
        }
        r => panic!("{r:?}"),
    }
    let mut wire = BytesMut::new();
    client
        .seal(ContentType::ApplicationData, b"still here", &mut wire)
        .unwrap();
    s.recv(&wire);
    assert_eq!(read_all(&mut s).unwrap(), b"still here");
    assert_eq!(s.write(b"yes"), Ok(3));
    assert_eq!(
        open_records(&mut opener, &s.take_outgoing(usize::MAX)),
        vec![(ContentType::ApplicationData, b"yes".to_vec())]
    );
}

/// The refusal itself meets a full transport: the rest of the alert record
/// is a pending write of type alert (OpenSSL: `wpend_type` alert), so a
/// write now is a bad write retry, while shutdown sends the rest of the
/// alert first, then close_notify.
#[test]
fn tls12_refusal_blocked_by_the_transport_is_a_pending_alert() {
    let suite = CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256;
    let mut wire = BytesMut::new();
    {
        let (_, mut client, _) = server(suite, Config::default());
        client
            .seal(ContentType::Handshake, &client_hello(), &mut wire)
            .unwrap();
    }

    // A write after the blocked alert: refused even with moving buffers
    // allowed and an application write before it, since the pending
    // record's type is the alert's.
    let cfg = Config {
        accept_moving_buffer: true,
        ..Config::default()
    };
    let (mut s, _, mut opener) = server(suite, cfg);
    assert_eq!(s.write(b"x"), Ok(1));
    let first = s.take_outgoing(usize::MAX);
    assert_eq!(
        open_records(&mut opener, &first),
        vec![(ContentType::ApplicationData, b"x".to_vec())]
    );
    s.set_outgoing_capacity(Some(10));
    s.recv(&wire);
    assert_eq!(read_all(&mut s), Ok(Vec::new()));
    assert_eq!(s.outgoing_len(), 10, "the alert record in part");
    assert!(s.queued_len() > 0, "the alert's rest waits");
    assert!(!s.write_pending(), "no write of the caller's is owed");
    match s.write(b"data") {
        Err(SslError::Ssl(e)) => assert_eq!(e.reason(), Some(Reason::BadWriteRetry)),
        r => panic!("{r:?}"),
    }

    // Shutdown instead: the alert's rest, then close_notify.
    let (mut s, _, mut opener) = server(suite, Config::default());
    s.set_outgoing_capacity(Some(10));
    s.recv(&wire);
    assert_eq!(read_all(&mut s), Ok(Vec::new()));
    let mut out = s.take_outgoing(usize::MAX).to_vec();
    s.set_outgoing_capacity(None);
    assert_eq!(s.shutdown(), Ok(false));
    out.extend_from_slice(&s.take_outgoing(usize::MAX));
    assert_eq!(
        open_records(&mut opener, &out),
        vec![
            (ContentType::Alert, vec![1, 100]),
            (ContentType::Alert, vec![1, 0]),
        ]
    );
}
