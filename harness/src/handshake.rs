//! The `handshake` target's body: tlsrec's TLS 1.2 handshake (`tls12`,
//! both roles) on hostile input. Invariants: no panic; every call ends in
//! progress, a wait for more input, or an error that carries the alert
//! sent (a bad first record aside, which OpenSSL answers with none); a
//! failed session stays failed.

use std::sync::{Arc, OnceLock};

use tlsrec::tls12::{self, ClientConfig, Identity, ServerCertVerification, ServerConfig};
use tlsrec::{Config, Session, SslError};

/// A throwaway self-signed P-256 identity for `localhost` (data/ec.pem,
/// data/ec.key: test material, not a secret).
fn identity() -> Arc<Identity> {
    static ID: OnceLock<Arc<Identity>> = OnceLock::new();
    ID.get_or_init(|| {
        Arc::new(
            Identity::from_pem(
                include_bytes!("../data/ec.pem"),
                include_bytes!("../data/ec.key"),
            )
            .expect("the committed test identity"),
        )
    })
    .clone()
}

fn server() -> Session {
    let cfg = ServerConfig::new(identity());
    tls12::server_session(
        Arc::new(cfg),
        Config {
            allow_client_renegotiation: true,
            ..Config::default()
        },
    )
    .0
}

fn client() -> Session {
    let cfg = ClientConfig::new("localhost", ServerCertVerification::DangerousNone);
    tls12::client_session(Arc::new(cfg), Config::default()).0
}

/// One call's result, checked.
fn checked(r: Result<(), SslError>) -> bool {
    match r {
        Ok(()) | Err(SslError::WantRead) => true,
        Err(SslError::Ssl(e)) => {
            // Only a bad first record goes without an alert (OpenSSL's
            // "wrong version number", docs/behaviour.md F4).
            assert!(
                e.alert().is_some() || matches!(e, tlsrec::Error::InvalidRecord { .. }),
                "an error without an alert: {e:?}"
            );
            false
        }
        Err(SslError::Syscall) => false,
        Err(e) => panic!("unexpected result: {e:?}"),
    }
}

/// Feeds `input` to `s` in segments sized by `cuts`, running the handshake
/// after each.
fn run(s: &mut Session, input: &[u8], cuts: u8) {
    let size = usize::from(cuts % 64) * 13 + 1;
    for seg in input.chunks(size) {
        s.recv(seg);
        if !checked(s.do_handshake()) {
            // Failed: it stays failed, and takes nothing more.
            s.recv(b"more");
            assert!(s.do_handshake().is_err(), "a failed session recovered");
            return;
        }
        let _ = s.take_outgoing(usize::MAX);
    }
}

/// The body. `data[0]` picks the role and how the input is used: the bytes
/// from the peer as they are (the client's ClientHello to a server, a
/// server's flight to a client that sent its hello), or XORed over a
/// genuine flight (so the damage can sit deep in a handshake that got far).
pub fn handshake(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let cuts = mode >> 2;
    match mode & 3 {
        0 => run(&mut server(), rest, cuts),
        1 => {
            let mut c = client();
            let _ = c.do_handshake();
            let _ = c.take_outgoing(usize::MAX);
            run(&mut c, rest, cuts);
        }
        role => {
            // A genuine exchange up to the damaged flight.
            let (mut c, mut s) = (client(), server());
            let _ = c.do_handshake();
            let hello = c.take_outgoing(usize::MAX);
            let xor = |wire: &[u8]| -> Vec<u8> {
                let mut w = wire.to_vec();
                for (i, b) in rest.iter().enumerate() {
                    // Record headers are kept: the damage reaches the
                    // handshake layer.
                    if let Some(x) = w.get_mut(5 + i) {
                        *x ^= b;
                    }
                }
                w
            };
            if role == 2 {
                run(&mut s, &xor(&hello), cuts);
                return;
            }
            s.recv(&hello);
            let _ = s.do_handshake();
            let flight = s.take_outgoing(usize::MAX);
            run(&mut c, &xor(&flight), cuts);
        }
    }
}
