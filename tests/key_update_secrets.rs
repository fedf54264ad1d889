//! A session continued without traffic secrets cannot follow a TLS 1.3
//! KeyUpdate: it says so at the KeyUpdate (`Reason::NoTrafficSecret`, an
//! internal_error alert), not as a bad MAC on the record after it.

mod common;

use common::peer::{pair, secret};
use tlsrec::keys::RecordKeys;
use tlsrec::{
    AlertDescription, CipherSuite, Config, Error, Established, Reason, Session, SslError,
};

const SUITE: CipherSuite = CipherSuite::TLS13_AES_128_GCM_SHA256;

fn without_secrets() -> (Session, common::peer::Peer) {
    let (_, peer) = pair(SUITE, Config::default());
    let est = Established {
        suite: SUITE,
        read: RecordKeys::from_traffic_secret(SUITE, &secret(1)).unwrap(),
        read_seq: 0,
        write: RecordKeys::from_traffic_secret(SUITE, &secret(2)).unwrap(),
        write_seq: 0,
        secrets: None,
    };
    (
        Session::client_from_established(est, Config::default()).unwrap(),
        peer,
    )
}

#[test]
fn a_key_update_without_secrets_is_reported_as_such() {
    let (mut s, mut peer) = without_secrets();
    let mut wire = peer.app(b"before");
    wire.extend(peer.key_update(0));
    wire.extend(peer.app(b"after"));
    s.recv(&wire);
    assert_eq!(common::peer::read(&mut s, 64), Ok(b"before".to_vec()));
    let err = common::peer::read(&mut s, 64).unwrap_err();
    assert_eq!(
        err,
        SslError::Ssl(Error::Misuse {
            reason: Reason::NoTrafficSecret,
            alert: Some(AlertDescription::InternalError),
        })
    );
    // The alert went out, and the session is done.
    let sent = peer.sent(&mut s);
    assert_eq!(
        sent.last().unwrap().1,
        vec![2, u8::from(AlertDescription::InternalError)]
    );
    assert_eq!(common::peer::read(&mut s, 64), Err(SslError::Syscall));
}

#[test]
fn with_secrets_the_same_stream_reads_through() {
    let (mut s, mut peer) = pair(SUITE, Config::default());
    let mut wire = peer.app(b"before");
    wire.extend(peer.key_update(0));
    wire.extend(peer.app(b"after"));
    s.recv(&wire);
    assert_eq!(common::peer::read(&mut s, 64), Ok(b"before".to_vec()));
    assert_eq!(common::peer::read(&mut s, 64), Ok(b"after".to_vec()));
}
