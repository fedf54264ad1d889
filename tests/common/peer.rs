//! A scripted peer for driving one client [`Session`]: it seals the
//! records the client reads (with the client's read keys) and opens what
//! the client wrote. Shared by `tests/semantics.rs` and `tests/hostile.rs`.

use bytes::BytesMut;
use tlsrec::handshake::{HandshakeMessage, HandshakeType};
use tlsrec::keys::{next_traffic_secret, RecordKeys, Secret};
use tlsrec::{
    AlertDescription, CipherSuite, Config, ContentType, Deframer, Error, Established, FlightItem,
    HandshakeDriver, Opener, Progress, Reason, Role, Sealer, Session, SslError, Version,
};

/// The server side of a test connection.
pub struct Peer {
    pub suite: CipherSuite,
    pub sealer: Sealer,
    pub opener: Opener,
    pub from_client: Deframer,
    /// TLS 1.3: the traffic secret the sealer's keys come from.
    pub secret: Secret,
}

pub fn secret(b: u8) -> Secret {
    Secret::new(vec![b; 32])
}

/// A client session continuing an established connection of `suite`, and
/// its peer. TLS 1.3 keys come from traffic secrets 1 (server to client)
/// and 2, so KeyUpdate can be followed.
pub fn pair(suite: CipherSuite, cfg: Config) -> (Session, Peer) {
    pair_with(suite, cfg, |est, cfg| {
        Session::client_from_established(est, cfg).unwrap()
    })
}

/// A driver that only starts handshakes: its ClientHello goes out and it
/// takes whatever comes next (enough for the record-layer rules of a
/// renegotiation's start).
pub struct HelloOnly;

impl HandshakeDriver for HelloOnly {
    fn start(&mut self, out: &mut Vec<FlightItem>) -> Progress {
        out.push(FlightItem::Message(HandshakeType::ClientHello, vec![3, 3]));
        Progress::Continue
    }

    fn message(&mut self, _msg: &HandshakeMessage, _out: &mut Vec<FlightItem>) -> Progress {
        Progress::Continue
    }
}

/// As [`pair`], with a client that can renegotiate (driven by [`HelloOnly`]).
pub fn driven_pair(suite: CipherSuite, cfg: Config) -> (Session, Peer) {
    pair_with(suite, cfg, |est, cfg| {
        Session::driven(Role::Client, est, Box::new(HelloOnly), cfg).unwrap()
    })
}

fn pair_with(
    suite: CipherSuite,
    cfg: Config,
    make: impl FnOnce(Established, Config) -> Session,
) -> (Session, Peer) {
    let tls13 = suite.version() == Version::Tls13;
    let (s2c, c2s) = if tls13 {
        (
            RecordKeys::from_traffic_secret(suite, &secret(1)).unwrap(),
            RecordKeys::from_traffic_secret(suite, &secret(2)).unwrap(),
        )
    } else {
        (super::test_keys(suite, 1), super::test_keys(suite, 2))
    };
    let est = Established {
        suite,
        read: s2c.clone(),
        read_seq: 0,
        write: c2s.clone(),
        write_seq: 0,
        secrets: tls13.then(|| (secret(1), secret(2))),
    };
    let client = make(est, cfg);
    let mut sealer = Sealer::new();
    sealer.set_keys(s2c);
    let mut opener = Opener::new();
    opener.set_keys(c2s);
    (
        client,
        Peer {
            suite,
            sealer,
            opener,
            from_client: Deframer::new(),
            secret: secret(1),
        },
    )
}

impl Peer {
    pub fn rec(&mut self, typ: ContentType, payload: &[u8]) -> Vec<u8> {
        let mut out = BytesMut::new();
        self.sealer.seal(typ, payload, &mut out).unwrap();
        out.to_vec()
    }

    pub fn app(&mut self, payload: &[u8]) -> Vec<u8> {
        self.rec(ContentType::ApplicationData, payload)
    }

    pub fn alert(&mut self, level: u8, desc: AlertDescription) -> Vec<u8> {
        self.rec(ContentType::Alert, &[level, u8::from(desc)])
    }

    /// A handshake message of type `typ` (bodies under 64 KiB).
    pub fn hs(&mut self, typ: u8, body: &[u8]) -> Vec<u8> {
        let mut m = vec![typ, 0, (body.len() >> 8) as u8, body.len() as u8];
        m.extend_from_slice(body);
        self.rec(ContentType::Handshake, &m)
    }

    /// TLS 1.3: switch to the next generation of keys (after a KeyUpdate
    /// was sent).
    pub fn next_keys(&mut self) {
        self.secret = next_traffic_secret(self.suite.hash(), &self.secret).unwrap();
        self.sealer
            .set_keys(RecordKeys::from_traffic_secret(self.suite, &self.secret).unwrap());
    }

    /// TLS 1.3: a KeyUpdate record, then the next generation of keys.
    pub fn key_update(&mut self, request: u8) -> Vec<u8> {
        let r = self.rec(ContentType::Handshake, &[24, 0, 0, 1, request]);
        self.next_keys();
        r
    }

    /// Every record the client sent, opened.
    pub fn sent(&mut self, client: &mut Session) -> Vec<(ContentType, Vec<u8>)> {
        let n = client.outgoing_len();
        let wire = client.take_outgoing(n);
        let mut rest = &wire[..];
        let mut out = Vec::new();
        loop {
            let k = self.from_client.push(rest);
            rest = &rest[k..];
            while let Some(r) = self.from_client.pop().unwrap() {
                let p = self.opener.open(r).unwrap();
                out.push((p.typ, p.payload.to_vec()));
            }
            if rest.is_empty() {
                return out;
            }
        }
    }
}

pub fn read(c: &mut Session, n: usize) -> Result<Vec<u8>, SslError> {
    let mut b = vec![0; n];
    c.read(&mut b).map(|k| b[..k].to_vec())
}

pub fn peek(c: &mut Session, n: usize) -> Result<Vec<u8>, SslError> {
    let mut b = vec![0; n];
    c.peek(&mut b).map(|k| b[..k].to_vec())
}

/// The error a peer's protocol violation gives.
pub fn ssl(reason: Reason, alert: AlertDescription) -> SslError {
    SslError::Ssl(Error::PeerMisbehaved { reason, alert })
}
