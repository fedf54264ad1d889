//! `do_handshake` on an established connection reads nothing, as
//! `SSL_do_handshake` (ssl_lib.c: it calls the handshake function only
//! `if (SSL_in_init(s) || SSL_in_before(s))`). Found by the
//! `tls12_handshake` fuzz body: a client that had read part of a record of
//! application data failed its next `do_handshake` with unexpected_message.
#![cfg(feature = "handshake")]

#[path = "common/certs.rs"]
mod certs;

use std::sync::Arc;

use tlsrec::tls12::{self, ClientConfig, Identity, ServerCertVerification, ServerConfig};
use tlsrec::{Config, Session, SslError};

fn identity() -> Arc<Identity> {
    let key = certs::p256_key();
    let cert = certs::self_signed(&key, "localhost").to_der().unwrap();
    Arc::new(Identity::from_der(vec![cert], &key.private_key_to_pkcs8().unwrap()).unwrap())
}

fn pump(a: &mut Session, b: &mut Session) {
    for _ in 0..10 {
        let _ = a.do_handshake();
        b.recv(&a.take_outgoing(usize::MAX));
        let _ = b.do_handshake();
        a.recv(&b.take_outgoing(usize::MAX));
    }
}

#[test]
fn do_handshake_when_established_leaves_application_data_for_read() {
    let cc = ClientConfig::new("localhost", ServerCertVerification::DangerousNone);
    let (mut c, _) = tls12::client_session(Arc::new(cc), Config::default());
    let (mut s, _) =
        tls12::server_session(Arc::new(ServerConfig::new(identity())), Config::default());
    pump(&mut c, &mut s);
    assert!(c.is_established() && s.is_established());
    let data: Vec<u8> = (0..3000u32).map(|i| i as u8).collect();
    assert_eq!(s.write(&data).unwrap(), data.len());
    c.recv(&s.take_outgoing(usize::MAX));
    let mut buf = [0u8; 100];
    assert_eq!(c.read(&mut buf).unwrap(), 100);
    // The rest of the record is still unread: do_handshake leaves it.
    assert_eq!(c.do_handshake(), Ok(()));
    assert_eq!(c.outgoing_len(), 0);
    let mut got = buf.to_vec();
    let mut big = [0u8; 4096];
    loop {
        match c.read(&mut big) {
            Ok(n) => got.extend_from_slice(&big[..n]),
            Err(SslError::WantRead) => break,
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(got, data);
    // And the server, with nothing to read, the same.
    assert_eq!(s.do_handshake(), Ok(()));
}
