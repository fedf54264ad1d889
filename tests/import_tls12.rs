//! `import::from_keylog` for TLS 1.2: OpenSSL 3 (the system libssl through
//! the `openssl` crate) does a whole handshake in memory; tlsrec takes over
//! one side from the client's key log (`CLIENT_RANDOM`) and the two randoms
//! and exchanges application data with the other side, which OpenSSL keeps
//! running. What OpenSSL reads is the check: it authenticates every record
//! tlsrec seals under the imported keys and sequence numbers. The same
//! harness compares a server taken over (`Session::server_from_established`)
//! with an OpenSSL server set to refuse renegotiation, fed the same bytes.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::rc::Rc;
use std::sync::{Arc, Mutex};

#[path = "common/certs.rs"]
mod certs;
mod common;

use common::open_records;
use foreign_types::ForeignTypeRef;
use openssl::ssl::{ErrorCode, Ssl, SslContext, SslMethod, SslOptions, SslStream, SslVersion};
use tlsrec::import::from_keylog;
use tlsrec::keylog::KeyLog;
use tlsrec::Role;
use tlsrec::{
    AlertDescription, CipherSuite, ContentType, Error, Established, Opener, Session, SslError,
};
use tlsrec::{Config, RecordKeys};

// Reason for `unsafe`: `SSL_renegotiate`, which the `openssl` crate does not
// wrap, is a plain C call on the live `SSL` pointer the crate owns for the
// duration of the call. Test code; the library forbids `unsafe`.
unsafe extern "C" {
    fn SSL_renegotiate(s: *mut openssl_sys::SSL) -> std::os::raw::c_int;
}

/// One end of an in-memory transport.
#[derive(Clone, Default)]
struct Pipe {
    rx: Rc<RefCell<VecDeque<u8>>>,
    tx: Rc<RefCell<VecDeque<u8>>>,
}

impl Pipe {
    fn pair() -> (Pipe, Pipe) {
        let a = Pipe::default();
        let b = Pipe {
            rx: a.tx.clone(),
            tx: a.rx.clone(),
        };
        (a, b)
    }
}

impl Read for Pipe {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut q = self.rx.borrow_mut();
        if q.is_empty() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let n = buf.len().min(q.len());
        for (b, x) in buf.iter_mut().zip(q.drain(..n)) {
            *b = x;
        }
        Ok(n)
    }
}

impl Write for Pipe {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.tx.borrow_mut().extend(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// An OpenSSL client and server after a TLS 1.2 handshake with `cipher`,
/// the client's key log lines, and the two randoms.
struct Handshaken {
    client: SslStream<Pipe>,
    server: SslStream<Pipe>,
    keylog: KeyLog,
    client_random: [u8; 32],
    server_random: [u8; 32],
}

fn handshake(cipher: &str) -> Handshaken {
    handshake_with(cipher, SslOptions::empty())
}

fn handshake_with(cipher: &str, server_options: SslOptions) -> Handshaken {
    let key = certs::p256_key();
    let cert = certs::self_signed(&key, "localhost");

    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut c = SslContext::builder(SslMethod::tls()).unwrap();
    c.set_max_proto_version(Some(SslVersion::TLS1_2)).unwrap();
    c.set_cipher_list(cipher).unwrap();
    let log = lines.clone();
    c.set_keylog_callback(move |_, line| log.lock().unwrap().push(line.to_string()));
    let mut s = SslContext::builder(SslMethod::tls()).unwrap();
    s.set_max_proto_version(Some(SslVersion::TLS1_2)).unwrap();
    s.set_cipher_list(cipher).unwrap();
    s.set_options(server_options);
    s.set_private_key(&key).unwrap();
    s.set_certificate(&cert).unwrap();

    let (cp, sp) = Pipe::pair();
    let mut client = Ssl::new(&c.build()).unwrap();
    client.set_connect_state();
    let mut server = Ssl::new(&s.build()).unwrap();
    server.set_accept_state();
    let mut client = SslStream::new(client, cp).unwrap();
    let mut server = SslStream::new(server, sp).unwrap();
    let (mut cdone, mut sdone) = (false, false);
    for _ in 0..20 {
        cdone = cdone || client.do_handshake().is_ok();
        sdone = sdone || server.do_handshake().is_ok();
        if cdone && sdone {
            break;
        }
    }
    assert!(cdone && sdone, "handshake");
    assert_eq!(client.ssl().current_cipher().unwrap().name(), cipher);
    let mut client_random = [0u8; 32];
    let mut server_random = [0u8; 32];
    client.ssl().client_random(&mut client_random);
    client.ssl().server_random(&mut server_random);
    let text = lines.lock().unwrap().join("\n");
    Handshaken {
        client,
        server,
        keylog: KeyLog::parse(&text).unwrap(),
        client_random,
        server_random,
    }
}

/// The state after `h`'s handshake for `side`, from the client's key log
/// and the two randoms.
fn import(h: &Handshaken, suite: CipherSuite, side: Role) -> Established {
    from_keylog(
        &h.keylog,
        suite,
        side,
        &h.client_random,
        &h.server_random,
        AFTER_FINISHED,
        AFTER_FINISHED,
    )
    .unwrap()
}

/// Everything waiting in `pipe`'s incoming direction.
fn drain(pipe: &Pipe) -> Vec<u8> {
    pipe.rx.borrow_mut().drain(..).collect()
}

fn read_all(s: &mut Session) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 1000];
    loop {
        match s.read(&mut buf) {
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(SslError::WantRead) => return got,
            Err(e) => panic!("read: {e}"),
        }
    }
}

fn openssl_read(s: &mut SslStream<Pipe>, want: usize) -> Vec<u8> {
    let mut got = vec![0u8; want];
    let mut at = 0;
    while at < want {
        at += s
            .ssl_read(&mut got[at..])
            .expect("OpenSSL reads what tlsrec sent");
    }
    got
}

const CASES: [(&str, CipherSuite); 3] = [
    (
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    ),
    (
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    ),
    (
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    ),
];

/// Each side's Finished was its first protected record: the sequence
/// numbers go on from 1.
const AFTER_FINISHED: u64 = 1;

#[test]
fn tlsrec_continues_as_the_client_with_openssl_as_the_server() {
    for (name, suite) in CASES {
        let mut h = handshake(name);
        let est = import(&h, suite, Role::Client);
        let mut s = Session::client_from_established(est, Config::default()).unwrap();
        let mut msg = b"from the OpenSSL server ".repeat(50);
        msg.truncate(1000);
        h.server.ssl_write(&msg).unwrap();
        s.recv(&drain(h.client.get_ref()));
        assert_eq!(read_all(&mut s), msg, "{name}");
        let reply = vec![0x42u8; 20000];
        assert_eq!(s.write(&reply), Ok(reply.len()));
        h.client
            .get_ref()
            .tx
            .borrow_mut()
            .extend(s.take_outgoing(usize::MAX).iter());
        assert_eq!(openssl_read(&mut h.server, reply.len()), reply, "{name}");
    }
}

#[test]
fn tlsrec_continues_as_the_server_with_openssl_as_the_client() {
    for (name, suite) in CASES {
        let mut h = handshake(name);
        let est = import(&h, suite, Role::Server);
        let mut s = Session::server_from_established(est, Config::default()).unwrap();
        h.client.ssl_write(b"request from OpenSSL").unwrap();
        s.recv(&drain(h.server.get_ref()));
        assert_eq!(read_all(&mut s), b"request from OpenSSL", "{name}");
        assert_eq!(s.write(b"response from tlsrec"), Ok(20));
        h.server
            .get_ref()
            .tx
            .borrow_mut()
            .extend(s.take_outgoing(usize::MAX).iter());
        assert_eq!(
            openssl_read(&mut h.client, 20),
            b"response from tlsrec",
            "{name}"
        );
    }
}

/// The wrong randoms, or a key log without the connection, give keys
/// that OpenSSL's records do not open under, or no keys at all.
#[test]
fn wrong_randoms_or_a_missing_line_do_not_import() {
    let (name, suite) = CASES[0];
    let mut h = handshake(name);
    let mut swapped = from_keylog(
        &h.keylog,
        suite,
        Role::Client,
        &h.client_random,
        &h.client_random,
        AFTER_FINISHED,
        AFTER_FINISHED,
    )
    .map(|est| Session::client_from_established(est, Config::default()).unwrap())
    .unwrap();
    h.server.ssl_write(b"data").unwrap();
    swapped.recv(&drain(h.client.get_ref()));
    let mut buf = [0u8; 16];
    match swapped.read(&mut buf) {
        Err(SslError::Ssl(e)) => assert_eq!(
            e.alert(),
            Some(tlsrec::AlertDescription::BadRecordMac),
            "{e}"
        ),
        r => panic!("{r:?}"),
    }
    let other = [9u8; 32];
    assert!(from_keylog(
        &h.keylog,
        suite,
        Role::Client,
        &other,
        &h.server_random,
        AFTER_FINISHED,
        AFTER_FINISHED,
    )
    .is_err());
}

/// What a server's read of everything received gives, call by call, up to
/// the first error.
#[derive(Debug, PartialEq)]
enum Got {
    Data(Vec<u8>),
    WantRead,
    /// A fatal alert from the peer.
    Alert(u8),
}

fn openssl_reads(s: &mut SslStream<Pipe>) -> Vec<Got> {
    let mut out = Vec::new();
    let mut buf = [0u8; 1000];
    loop {
        match s.ssl_read(&mut buf) {
            Ok(n) => out.push(Got::Data(buf[..n].to_vec())),
            Err(e) if e.code() == ErrorCode::WANT_READ => {
                out.push(Got::WantRead);
                return out;
            }
            Err(e) => {
                // OpenSSL reports a received fatal alert as reason
                // `SSL_AD_REASON_OFFSET + description` (1000 + d).
                let reason = e
                    .ssl_error()
                    .and_then(|st| st.errors().first().map(|x| x.reason_code()))
                    .expect("an SSL error");
                assert!(reason > 1000, "{e:?}");
                out.push(Got::Alert((reason - 1000) as u8));
                return out;
            }
        }
    }
}

fn tlsrec_reads(s: &mut Session) -> Vec<Got> {
    let mut out = Vec::new();
    let mut buf = [0u8; 1000];
    loop {
        match s.read(&mut buf) {
            Ok(n) => out.push(Got::Data(buf[..n].to_vec())),
            Err(SslError::WantRead) => {
                out.push(Got::WantRead);
                return out;
            }
            Err(SslError::Ssl(Error::AlertReceived(d))) => {
                out.push(Got::Alert(u8::from(d)));
                return out;
            }
            Err(e) => panic!("{e:?}"),
        }
    }
}

/// A client asks to renegotiate. An OpenSSL server with
/// `SSL_OP_NO_RENEGOTIATION` and a tlsrec server taken over, fed the same
/// bytes, read the same data, send the same records (a warning
/// no_renegotiation; compared as plaintext, since OpenSSL's explicit
/// nonces start at a random value), and then both read the OpenSSL
/// client's fatal handshake_failure.
#[test]
fn a_server_taken_over_refuses_renegotiation_as_openssl_does() {
    for (name, suite) in CASES {
        let mut h = handshake_with(name, SslOptions::NO_RENEGOTIATION);
        let est = import(&h, suite, Role::Server);
        // Opens what a server sends (the server's write keys).
        let mut from_server = Opener::new();
        from_server.set_keys(RecordKeys::clone(&est.write));
        from_server.set_sequence(AFTER_FINISHED).unwrap();
        let mut from_ours = from_server.clone();
        let mut ours = Session::server_from_established(est, Config::default()).unwrap();

        h.client.ssl_write(b"before").unwrap();
        // SAFETY: see the extern block.
        assert_eq!(unsafe { SSL_renegotiate(h.client.ssl().as_ptr()) }, 1);
        assert!(
            h.client.do_handshake().is_err(),
            "waits for the ServerHello"
        );
        let to_server = drain(h.server.get_ref());
        assert!(to_server.len() > 100, "data and a ClientHello");

        // The same bytes to both servers.
        h.server.get_ref().rx.borrow_mut().extend(&to_server);
        let theirs_read = openssl_reads(&mut h.server);
        ours.recv(&to_server);
        let ours_read = tlsrec_reads(&mut ours);
        assert_eq!(ours_read, theirs_read, "{name}");
        assert_eq!(
            ours_read,
            vec![Got::Data(b"before".to_vec()), Got::WantRead],
            "{name}"
        );
        let theirs_sent = drain(h.client.get_ref());
        let ours_sent = ours.take_outgoing(usize::MAX);
        let theirs_records = open_records(&mut from_server, &theirs_sent);
        assert_eq!(
            open_records(&mut from_ours, &ours_sent),
            theirs_records,
            "{name}"
        );
        assert_eq!(
            theirs_records,
            vec![(ContentType::Alert, vec![1, 100])],
            "{name}"
        );

        // The OpenSSL client gets the refusal and ends the connection.
        h.client.get_ref().rx.borrow_mut().extend(&theirs_sent);
        assert!(h.client.do_handshake().is_err(), "{name}");
        let to_server = drain(h.server.get_ref());
        h.server.get_ref().rx.borrow_mut().extend(&to_server);
        ours.recv(&to_server);
        let theirs_read = openssl_reads(&mut h.server);
        assert_eq!(tlsrec_reads(&mut ours), theirs_read, "{name}");
        assert_eq!(
            theirs_read,
            vec![Got::Alert(u8::from(AlertDescription::HandshakeFailure))],
            "{name}"
        );
    }
}
