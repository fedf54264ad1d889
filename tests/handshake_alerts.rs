//! Malformed and out-of-order TLS 1.2 handshake messages get the alert
//! OpenSSL 3.0 sends: every case runs twice, live, with the same peer
//! behaviour: once against tlsrec's handshake (`tlsrec::tls12`) and once
//! against the system libssl (in process, over memory pipes) in the same
//! role, and the alerts they send must be equal.
//!
//! The peer is a tlsrec session in the other role whose handshake driver
//! is wrapped: the case edits what the driver answers (a message's body or
//! type, dropped, duplicated, reordered or added items, in the first
//! handshake or a renegotiation) before the record layer seals it, so the
//! peer's messages are real ones (signed over the tested side's own
//! randoms) except where the case breaks them. A few cases edit the
//! records on the wire instead (a ChangeCipherSpec out of place).
//!
//! Where tlsrec decides otherwise on purpose (it requires the extended
//! master secret and secure renegotiation from either peer, as its module
//! docs say; OpenSSL 3.0 accepts a peer without them in a first handshake),
//! the case says so and checks both answers.
#![cfg(feature = "handshake")]

#[path = "common/certs.rs"]
mod certs;

use std::collections::VecDeque;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};

use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::ssl::{
    ErrorCode, Ssl, SslContextBuilder, SslMethod, SslOptions, SslStream, SslVerifyMode, SslVersion,
};
use openssl::x509::X509;
use tlsrec::handshake::{HandshakeMessage, HandshakeType as T};
use tlsrec::tls12::{
    self, ClientAuth, ClientCertVerification, ClientConfig, Identity, ServerCertVerification,
    ServerConfig,
};
use tlsrec::{
    AlertDescription as A, Config, Error, FlightItem, HandshakeDriver, Progress, Role, Session,
    SslError,
};

// ---------------------------------------------------------------------------
// Keys and certificates (made once per process).
// ---------------------------------------------------------------------------

struct Id {
    key: PKey<Private>,
    cert: X509,
}

fn ec_id() -> &'static Id {
    static ID: OnceLock<Id> = OnceLock::new();
    ID.get_or_init(|| {
        let key = certs::p256_key();
        let cert = certs::self_signed(&key, "localhost");
        Id { key, cert }
    })
}

fn rsa_id() -> &'static Id {
    static ID: OnceLock<Id> = OnceLock::new();
    ID.get_or_init(|| {
        let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
        let cert = certs::self_signed(&key, "localhost");
        Id { key, cert }
    })
}

fn tlsrec_identity(id: &Id) -> Arc<Identity> {
    Arc::new(
        Identity::from_der(
            vec![id.cert.to_der().unwrap()],
            &id.key.private_key_to_pkcs8().unwrap(),
        )
        .unwrap(),
    )
}

// ---------------------------------------------------------------------------
// The cases.
// ---------------------------------------------------------------------------

/// Edits a driver's answer; true once it applied (it is not asked again).
type ItemEdit = Box<dyn Fn(&mut Vec<FlightItem>) -> bool + Send + Sync>;
/// Edits the peer's records on their way to the tested side (whole records
/// of one write); true once it applied.
type WireEdit = Box<dyn Fn(&mut Vec<Vec<u8>>) -> bool + Send + Sync>;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Reneg {
    /// First handshake only.
    No,
    /// The edit applies in a renegotiation the peer starts after the first
    /// handshake completed.
    ByPeer,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Both send this alert.
    Same(A),
    /// tlsrec fails with `.0` on purpose; OpenSSL 3.0 sends `.1` (None:
    /// completes the handshake).
    Differs(A, Option<A>, &'static str),
    /// Neither sends an alert for it (the handshake fails later at the
    /// peer, whose transcript differs).
    NoAlert,
}

struct Case {
    name: &'static str,
    /// The tested side's role.
    role: Role,
    rsa: bool,
    client_auth: bool,
    peer_has_cert: bool,
    reneg: Reneg,
    edit: Option<ItemEdit>,
    wire: Option<WireEdit>,
    expect: Expect,
}

fn case(name: &'static str, role: Role, expect: A) -> Case {
    Case {
        name,
        role,
        rsa: false,
        client_auth: false,
        peer_has_cert: false,
        reneg: Reneg::No,
        edit: None,
        wire: None,
        expect: Expect::Same(expect),
    }
}

impl Case {
    fn edit(mut self, f: impl Fn(&mut Vec<FlightItem>) -> bool + Send + Sync + 'static) -> Self {
        self.edit = Some(Box::new(f));
        self
    }
    fn wire(mut self, f: impl Fn(&mut Vec<Vec<u8>>) -> bool + Send + Sync + 'static) -> Self {
        self.wire = Some(Box::new(f));
        self
    }
    fn reneg(mut self) -> Self {
        self.reneg = Reneg::ByPeer;
        self
    }
    fn rsa(mut self) -> Self {
        self.rsa = true;
        self
    }
    fn client_auth(mut self, peer_has_cert: bool) -> Self {
        self.client_auth = true;
        self.peer_has_cert = peer_has_cert;
        self
    }
    fn no_alert(mut self) -> Self {
        self.expect = Expect::NoAlert;
        self
    }
    fn differs(mut self, tlsrec: A, openssl: Option<A>, why: &'static str) -> Self {
        self.expect = Expect::Differs(tlsrec, openssl, why);
        self
    }
}

fn pos(items: &[FlightItem], t: T) -> Option<usize> {
    items
        .iter()
        .position(|i| matches!(i, FlightItem::Message(x, _) if *x == t))
}

/// The body of the first message of type `t` edited.
fn body(
    t: T,
    f: impl Fn(&mut Vec<u8>) + Send + Sync + 'static,
) -> impl Fn(&mut Vec<FlightItem>) -> bool {
    move |items| {
        for i in items.iter_mut() {
            if let FlightItem::Message(x, b) = i {
                if *x == t {
                    f(b);
                    return true;
                }
            }
        }
        false
    }
}

/// The first message of type `t` becomes type `to`.
fn retype(t: T, to: T) -> impl Fn(&mut Vec<FlightItem>) -> bool {
    move |items| match pos(items, t) {
        Some(p) => {
            if let FlightItem::Message(x, _) = &mut items[p] {
                *x = to;
            }
            true
        }
        None => false,
    }
}

fn drop_msg(t: T) -> impl Fn(&mut Vec<FlightItem>) -> bool {
    move |items| match pos(items, t) {
        Some(p) => {
            items.remove(p);
            true
        }
        None => false,
    }
}

fn dup(t: T) -> impl Fn(&mut Vec<FlightItem>) -> bool {
    move |items| match pos(items, t) {
        Some(p) => {
            if let FlightItem::Message(x, b) = &items[p] {
                let m = FlightItem::Message(*x, b.clone());
                items.insert(p + 1, m);
            }
            true
        }
        None => false,
    }
}

/// A message inserted before the first of type `before`.
fn insert(before: T, t: T, b: Vec<u8>) -> impl Fn(&mut Vec<FlightItem>) -> bool {
    move |items| match pos(items, before) {
        Some(p) => {
            items.insert(p, FlightItem::Message(t, b.clone()));
            true
        }
        None => false,
    }
}

/// The peer's Finished and its ChangeCipherSpec (its WriteKeys) swapped.
fn finished_before_ccs() -> impl Fn(&mut Vec<FlightItem>) -> bool {
    |items| {
        let w = items
            .iter()
            .position(|i| matches!(i, FlightItem::WriteKeys(_)));
        match (w, pos(items, T::Finished)) {
            (Some(w), Some(f)) if w < f => {
                items.swap(w, f);
                true
            }
            _ => false,
        }
    }
}

/// The peer's ChangeCipherSpec (its WriteKeys) moved before the message of
/// type `t`.
fn ccs_before(t: T) -> impl Fn(&mut Vec<FlightItem>) -> bool {
    move |items| {
        let w = items
            .iter()
            .position(|i| matches!(i, FlightItem::WriteKeys(_)));
        match (w, pos(items, t)) {
            (Some(w), Some(p)) if p < w => {
                let k = items.remove(w);
                items.insert(p, k);
                true
            }
            _ => false,
        }
    }
}

/// The extensions block of a hello (its offset in `b`), parsed.
fn hello_exts(b: &[u8], server: bool) -> usize {
    let mut i = 2 + 32;
    i += 1 + usize::from(b[i]);
    if server {
        i += 3;
    } else {
        i += 2 + usize::from(u16::from_be_bytes([b[i], b[i + 1]]));
        i += 1 + usize::from(b[i]);
    }
    i
}

fn ext_list(b: &[u8], server: bool) -> Vec<(u16, Vec<u8>)> {
    let i = hello_exts(b, server);
    let mut j = i + 2;
    let mut out = Vec::new();
    while j + 4 <= b.len() {
        let t = u16::from_be_bytes([b[j], b[j + 1]]);
        let n = usize::from(u16::from_be_bytes([b[j + 2], b[j + 3]]));
        out.push((t, b[j + 4..j + 4 + n].to_vec()));
        j += 4 + n;
    }
    out
}

fn set_ext_list(b: &mut Vec<u8>, server: bool, exts: &[(u16, Vec<u8>)]) {
    let i = hello_exts(b, server);
    b.truncate(i);
    let mut block = Vec::new();
    for (t, e) in exts {
        block.extend_from_slice(&t.to_be_bytes());
        block.extend_from_slice(&(e.len() as u16).to_be_bytes());
        block.extend_from_slice(e);
    }
    b.extend_from_slice(&(block.len() as u16).to_be_bytes());
    b.extend_from_slice(&block);
}

/// The hello's extensions edited.
fn exts(
    t: T,
    f: impl Fn(&mut Vec<(u16, Vec<u8>)>) + Send + Sync + 'static,
) -> impl Fn(&mut Vec<FlightItem>) -> bool {
    let server = t == T::ServerHello;
    body(t, move |b| {
        let mut e = ext_list(b, server);
        f(&mut e);
        set_ext_list(b, server, &e);
    })
}

const RI: u16 = 0xff01;
const EMS: u16 = 23;
const GROUPS: u16 = 10;
const POINT_FORMATS: u16 = 11;
const SIG_ALGS: u16 = 13;

fn without(t: u16) -> impl Fn(&mut Vec<(u16, Vec<u8>)>) {
    move |e| e.retain(|(x, _)| *x != t)
}

fn replace_ext(t: u16, v: Vec<u8>) -> impl Fn(&mut Vec<(u16, Vec<u8>)>) {
    move |e| {
        for (x, b) in e.iter_mut() {
            if *x == t {
                *b = v.clone();
            }
        }
    }
}

/// A plaintext record inserted before the first record holding a
/// handshake message of type `t`.
fn record_before(t: u8, rec: Vec<u8>) -> impl Fn(&mut Vec<Vec<u8>>) -> bool {
    move |recs| match recs
        .iter()
        .position(|r| r[0] == 22 && r.len() > 5 && r[5] == t)
    {
        Some(p) => {
            recs.insert(p, rec.clone());
            true
        }
        None => false,
    }
}

/// The peer's first ChangeCipherSpec record replaced by `rec`.
fn replace_ccs(rec: Vec<u8>) -> impl Fn(&mut Vec<Vec<u8>>) -> bool {
    move |recs| match recs.iter().position(|r| r[0] == 20) {
        Some(p) => {
            recs[p] = rec.clone();
            true
        }
        None => false,
    }
}

const CCS: [u8; 6] = [20, 3, 3, 0, 1, 1];

fn cases() -> Vec<Case> {
    use Role::{Client as C, Server as S};
    vec![
        // ---- the tested side is a client: the peer's ServerHello ..
        case("ServerHello truncated", C, A::DecodeError)
            .edit(body(T::ServerHello, |b| b.truncate(30))),
        case("ServerHello with a trailing byte", C, A::DecodeError)
            .edit(body(T::ServerHello, |b| b.push(0))),
        case(
            "ServerHello extensions length one too long",
            C,
            A::DecodeError,
        )
        .edit(body(T::ServerHello, |b| {
            let i = hello_exts(b, true);
            let n = u16::from_be_bytes([b[i], b[i + 1]]) + 1;
            b[i..i + 2].copy_from_slice(&n.to_be_bytes());
        })),
        case("ServerHello version TLS 1.1", C, A::ProtocolVersion)
            .edit(body(T::ServerHello, |b| b[1] = 2)),
        case(
            "ServerHello version TLS 1.3 in legacy_version",
            C,
            A::ProtocolVersion,
        )
        .edit(body(T::ServerHello, |b| b[1] = 4)),
        case("ServerHello suite not offered", C, A::IllegalParameter).edit(body(
            T::ServerHello,
            |b| {
                let i = hello_exts(b, true) - 3;
                b[i..i + 2].copy_from_slice(&[0x00, 0x9c]);
            },
        )),
        case("ServerHello suite unknown", C, A::IllegalParameter).edit(body(T::ServerHello, |b| {
            let i = hello_exts(b, true) - 3;
            b[i..i + 2].copy_from_slice(&[0xfe, 0xfe]);
        })),
        case("ServerHello compression 1", C, A::IllegalParameter).edit(body(T::ServerHello, |b| {
            let i = hello_exts(b, true) - 1;
            b[i] = 1;
        })),
        case("ServerHello duplicate extension", C, A::IllegalParameter).edit(exts(
            T::ServerHello,
            |e| {
                let d = e[0].clone();
                e.push(d);
            },
        )),
        // An unknown type is ignored (the handshake then fails at the
        // peer: the transcripts differ).
        case("ServerHello unknown extension", C, A::CloseNotify)
            .edit(exts(T::ServerHello, |e| e.push((0x1234, vec![]))))
            .no_alert(),
        case("ServerHello unknown extension twice", C, A::CloseNotify)
            .edit(exts(T::ServerHello, |e| {
                e.push((0x1234, vec![]));
                e.push((0x1234, vec![1]));
            }))
            .no_alert(),
        case(
            "ServerHello unsolicited session_ticket",
            C,
            A::UnsupportedExtension,
        )
        .edit(exts(T::ServerHello, |e| e.push((35, vec![])))),
        case("ServerHello unsolicited ALPN", C, A::UnsupportedExtension)
            .edit(exts(T::ServerHello, |e| {
                e.push((16, vec![0, 3, 2, b'h', b'2']))
            })),
        case(
            "ServerHello key_share in TLS 1.2",
            C,
            A::UnsupportedExtension,
        )
        .edit(exts(T::ServerHello, |e| e.push((51, vec![0, 29, 0, 1, 9])))),
        case(
            "ServerHello signature_algorithms (not a ServerHello extension)",
            C,
            A::IllegalParameter,
        )
        .edit(exts(T::ServerHello, |e| {
            e.push((SIG_ALGS, vec![0, 2, 4, 3]))
        })),
        case("ServerHello use_srtp (DTLS only)", C, A::IllegalParameter)
            .edit(exts(T::ServerHello, |e| {
                e.insert(0, (14, vec![0, 2, 0, 1, 0]))
            })),
        case("ServerHello server_name not empty", C, A::DecodeError)
            .edit(exts(T::ServerHello, |e| e.push((0, vec![0])))),
        case("ServerHello session id of 33 bytes", C, A::IllegalParameter).edit(body(
            T::ServerHello,
            |b| {
                b[34] = 33;
                b.splice(35..35, [7u8; 33]);
            },
        )),
        case(
            "ServerHello without renegotiation_info",
            C,
            A::HandshakeFailure,
        )
        .edit(exts(T::ServerHello, without(RI))),
        case(
            "ServerHello renegotiation_info not empty",
            C,
            A::IllegalParameter,
        )
        .edit(exts(T::ServerHello, replace_ext(RI, vec![1, 0]))),
        case(
            "ServerHello renegotiation_info malformed",
            C,
            A::DecodeError,
        )
        .edit(exts(T::ServerHello, replace_ext(RI, vec![]))),
        case(
            "ServerHello without extended_master_secret",
            C,
            A::HandshakeFailure,
        )
        .edit(exts(T::ServerHello, without(EMS)))
        .differs(
            A::HandshakeFailure,
            None,
            "tlsrec requires the extended master secret (RFC 7627 5.2 lets a client abort)",
        ),
        // tls_parse_stoc_ems reads no body.
        case(
            "ServerHello extended_master_secret not empty",
            C,
            A::CloseNotify,
        )
        .edit(exts(T::ServerHello, replace_ext(EMS, vec![0])))
        .no_alert(),
        case("ServerHello ec_point_formats empty list", C, A::DecodeError)
            .edit(exts(T::ServerHello, replace_ext(POINT_FORMATS, vec![0]))),
        case("ServerHello ec_point_formats malformed", C, A::DecodeError)
            .edit(exts(T::ServerHello, replace_ext(POINT_FORMATS, vec![3, 0]))),
        case("ServerHello twice", C, A::UnexpectedMessage).edit(dup(T::ServerHello)),
        // .. Certificate ..
        case("Certificate truncated", C, A::DecodeError)
            .edit(body(T::Certificate, |b| b.truncate(20))),
        case("Certificate with a trailing byte", C, A::DecodeError)
            .edit(body(T::Certificate, |b| b.push(0))),
        case("Certificate empty", C, A::DecodeError)
            .edit(body(T::Certificate, |b| *b = vec![0, 0, 0])),
        case("Certificate not DER", C, A::BadCertificate).edit(body(T::Certificate, |b| {
            *b = vec![0, 0, 7, 0, 0, 4, 1, 2, 3, 4];
        })),
        case("Certificate RSA for an ECDSA suite", C, A::IllegalParameter).edit(body(
            T::Certificate,
            |b| {
                let c = rsa_id().cert.to_der().unwrap();
                let n = c.len() + 3;
                *b = vec![
                    (n >> 16) as u8,
                    (n >> 8) as u8,
                    n as u8,
                    0,
                    (c.len() >> 8) as u8,
                    c.len() as u8,
                ];
                b.extend_from_slice(&c);
            },
        )),
        case("Certificate missing", C, A::UnexpectedMessage).edit(drop_msg(T::Certificate)),
        case("Certificate twice", C, A::UnexpectedMessage).edit(dup(T::Certificate)),
        // .. ServerKeyExchange ..
        case("ServerKeyExchange truncated", C, A::DecodeError)
            .edit(body(T::ServerKeyExchange, |b| b.truncate(10))),
        case("ServerKeyExchange with a trailing byte", C, A::DecodeError)
            .edit(body(T::ServerKeyExchange, |b| b.push(0))),
        case("ServerKeyExchange explicit curve", C, A::IllegalParameter)
            .edit(body(T::ServerKeyExchange, |b| b[0] = 1)),
        case(
            "ServerKeyExchange group not offered",
            C,
            A::IllegalParameter,
        )
        .edit(body(T::ServerKeyExchange, |b| {
            b[1..3].copy_from_slice(&[0, 25])
        })),
        case("ServerKeyExchange bad signature", C, A::DecryptError).edit(body(
            T::ServerKeyExchange,
            |b| {
                let n = b.len();
                b[n - 8] ^= 1;
            },
        )),
        case(
            "ServerKeyExchange signed over another point",
            C,
            A::DecryptError,
        )
        .edit(body(T::ServerKeyExchange, |b| b[5] ^= 1)),
        case(
            "ServerKeyExchange scheme not offered",
            C,
            A::HandshakeFailure,
        )
        .edit(body(T::ServerKeyExchange, |b| {
            let i = 4 + usize::from(b[3]);
            b[i..i + 2].copy_from_slice(&[2, 3]); // ecdsa_sha1
        })),
        case(
            "ServerKeyExchange ecdsa_secp521r1_sha512 not offered",
            C,
            A::HandshakeFailure,
        )
        .edit(body(T::ServerKeyExchange, |b| {
            let i = 4 + usize::from(b[3]);
            b[i..i + 2].copy_from_slice(&[6, 3]);
        })),
        case("ServerKeyExchange unknown scheme", C, A::IllegalParameter).edit(body(
            T::ServerKeyExchange,
            |b| {
                let i = 4 + usize::from(b[3]);
                b[i..i + 2].copy_from_slice(&[0x12, 0x34]);
            },
        )),
        case(
            "ServerKeyExchange truncated in the signature",
            C,
            A::DecodeError,
        )
        .edit(body(T::ServerKeyExchange, |b| {
            let n = b.len();
            b.truncate(n - 3);
        })),
        // The value is checked at our ClientKeyExchange, after the
        // signature (which no longer fits).
        case(
            "ServerKeyExchange X25519 all-zero point",
            C,
            A::DecryptError,
        )
        .edit(body(T::ServerKeyExchange, |b| {
            if b[1..3] == [0, 29] {
                b[4..36].fill(0);
            }
        })),
        case(
            "ServerKeyExchange point of the wrong length",
            C,
            A::IllegalParameter,
        )
        .edit(body(T::ServerKeyExchange, |b| {
            b[3] -= 1;
            b.remove(4);
        })),
        case(
            "ServerKeyExchange RSA scheme for an ECDSA suite",
            C,
            A::IllegalParameter,
        )
        .edit(body(T::ServerKeyExchange, |b| {
            let i = 4 + usize::from(b[3]);
            b[i..i + 2].copy_from_slice(&[4, 1]);
        })),
        case("ServerKeyExchange empty point", C, A::IllegalParameter).edit(body(
            T::ServerKeyExchange,
            |b| {
                let n = usize::from(b[3]);
                b.drain(4..4 + n);
                b[3] = 0;
            },
        )),
        case("ServerKeyExchange missing", C, A::UnexpectedMessage)
            .edit(drop_msg(T::ServerKeyExchange)),
        // .. CertificateRequest, ServerHelloDone ..
        case("CertificateRequest truncated", C, A::DecodeError)
            .client_auth(true)
            .edit(body(T::CertificateRequest, |b| b.truncate(3))),
        case("CertificateRequest with a trailing byte", C, A::DecodeError)
            .client_auth(true)
            .edit(body(T::CertificateRequest, |b| b.push(0))),
        case("ServerHelloDone with a body", C, A::IllegalParameter)
            .edit(body(T::ServerHelloDone, |b| b.push(0))),
        case(
            "ServerHelloDone before ServerKeyExchange",
            C,
            A::UnexpectedMessage,
        )
        .edit(insert(T::ServerKeyExchange, T::ServerHelloDone, vec![])),
        case("Finished instead of ServerHello", C, A::UnexpectedMessage)
            .edit(retype(T::ServerHello, T::Finished)),
        case("ClientHello sent to a client", C, A::UnexpectedMessage)
            .edit(retype(T::Certificate, T::ClientHello)),
        case("unknown message type 99", C, A::UnexpectedMessage).edit(insert(
            T::Certificate,
            T::Unknown(99),
            vec![],
        )),
        // A HelloRequest in the middle of a handshake is ignored (RFC 5246
        // 7.4.1.1); one with a body is not a HelloRequest.
        case("HelloRequest before Certificate", C, A::CloseNotify)
            .edit(insert(T::Certificate, T::HelloRequest, vec![]))
            .no_alert(),
        case(
            "HelloRequest with a body before Certificate",
            C,
            A::UnexpectedMessage,
        )
        .edit(insert(T::Certificate, T::HelloRequest, vec![0])),
        case("HelloRequest sent to a server", S, A::UnexpectedMessage).edit(insert(
            T::ClientKeyExchange,
            T::HelloRequest,
            vec![],
        )),
        case(
            "ChangeCipherSpec before ServerHello",
            C,
            A::UnexpectedMessage,
        )
        .wire(record_before(2, CCS.to_vec())),
        case(
            "ChangeCipherSpec before ServerHelloDone",
            C,
            A::UnexpectedMessage,
        )
        .wire(record_before(14, CCS.to_vec())),
        case("ChangeCipherSpec of two bytes", C, A::UnexpectedMessage)
            .wire(record_before(2, vec![20, 3, 3, 0, 2, 1, 1])),
        // In its place: OpenSSL's tls_get_message_header ("bad change
        // cipher spec"), as tlsfuzzer's test-ccs expects.
        case(
            "server ChangeCipherSpec of two bytes in its place",
            C,
            A::UnexpectedMessage,
        )
        .wire(replace_ccs(vec![20, 3, 3, 0, 2, 1, 1])),
        case(
            "server ChangeCipherSpec of value 2 in its place",
            C,
            A::UnexpectedMessage,
        )
        .wire(replace_ccs(vec![20, 3, 3, 0, 1, 2])),
        // .. the server's Finished.
        case("server Finished wrong", C, A::DecryptError).edit(body(T::Finished, |b| b[0] ^= 1)),
        case("server Finished one byte long", C, A::DecodeError)
            .edit(body(T::Finished, |b| b.push(0))),
        case("server Finished of 65 bytes", C, A::IllegalParameter)
            .edit(body(T::Finished, |b| b.resize(65, 0))),
        case(
            "server Finished before its ChangeCipherSpec",
            C,
            A::UnexpectedMessage,
        )
        .edit(finished_before_ccs()),
        // .. and in a renegotiation the server starts.
        case(
            "renegotiation ServerHello without renegotiation_info",
            C,
            A::HandshakeFailure,
        )
        .reneg()
        .edit(exts(T::ServerHello, without(RI))),
        case(
            "renegotiation ServerHello with an empty renegotiation_info",
            C,
            A::IllegalParameter,
        )
        .reneg()
        .edit(exts(T::ServerHello, replace_ext(RI, vec![0]))),
        case(
            "renegotiation ServerHello with a wrong verify_data",
            C,
            A::IllegalParameter,
        )
        .reneg()
        .edit(exts(T::ServerHello, |e| {
            for (x, b) in e.iter_mut() {
                if *x == RI {
                    b[5] ^= 1;
                }
            }
        })),
        case(
            "renegotiation ServerKeyExchange bad signature",
            C,
            A::DecryptError,
        )
        .reneg()
        .edit(body(T::ServerKeyExchange, |b| {
            let n = b.len();
            b[n - 8] ^= 1;
        })),
        case("renegotiation Certificate missing", C, A::UnexpectedMessage)
            .reneg()
            .edit(drop_msg(T::Certificate)),
        case("renegotiation server Finished wrong", C, A::DecryptError)
            .reneg()
            .edit(body(T::Finished, |b| b[3] ^= 1)),
        // RSA server certificate.
        case("RSA ServerKeyExchange bad signature", C, A::DecryptError)
            .rsa()
            .edit(body(T::ServerKeyExchange, |b| {
                let n = b.len();
                b[n - 8] ^= 1;
            })),
        case(
            "RSA ServerKeyExchange ECDSA scheme for an RSA suite",
            C,
            A::IllegalParameter,
        )
        .rsa()
        .edit(body(T::ServerKeyExchange, |b| {
            let i = 4 + usize::from(b[3]);
            b[i..i + 2].copy_from_slice(&[4, 3]);
        })),
        // ---- the tested side is a server: the peer's ClientHello ..
        case("ClientHello truncated", S, A::DecodeError)
            .edit(body(T::ClientHello, |b| b.truncate(20))),
        case("ClientHello with a trailing byte", S, A::DecodeError)
            .edit(body(T::ClientHello, |b| b.push(0))),
        case("ClientHello suites of odd length", S, A::DecodeError).edit(body(
            T::ClientHello,
            |b| {
                let i = 2 + 32 + 1 + usize::from(b[34]);
                let n = u16::from_be_bytes([b[i], b[i + 1]]);
                b[i..i + 2].copy_from_slice(&(n - 1).to_be_bytes());
            },
        )),
        case("ClientHello duplicate extension", S, A::IllegalParameter).edit(exts(
            T::ClientHello,
            |e| {
                let d = e[1].clone();
                e.push(d);
            },
        )),
        case("ClientHello unknown extension twice", S, A::BadRecordMac).edit(exts(
            T::ClientHello,
            |e| {
                e.push((0x1234, vec![]));
                e.push((0x1234, vec![1]));
            },
        )),
        case("ClientHello use_srtp (DTLS only)", S, A::IllegalParameter)
            .edit(exts(T::ClientHello, |e| {
                e.insert(0, (14, vec![0, 2, 0, 1, 0]))
            })),
        case("ClientHello session id of 33 bytes", S, A::DecodeError).edit(body(
            T::ClientHello,
            |b| {
                b[34] = 33;
                b.splice(35..35, [7u8; 33]);
            },
        )),
        case("ClientHello no suite in common", S, A::HandshakeFailure).edit(body(
            T::ClientHello,
            |b| {
                let i = 2 + 32 + 1 + usize::from(b[34]);
                b[i + 2..i + 4].copy_from_slice(&[0x00, 0x9c]);
                b[i + 4..i + 6].copy_from_slice(&[0x00, 0x9d]);
                let n = usize::from(u16::from_be_bytes([b[i], b[i + 1]]));
                for k in (i + 6..i + 2 + n).step_by(2) {
                    b[k..k + 2].copy_from_slice(&[0x00, 0x9c]);
                }
            },
        )),
        case("ClientHello no group in common", S, A::HandshakeFailure)
            .edit(exts(T::ClientHello, replace_ext(GROUPS, vec![0, 2, 0, 25]))),
        case("ClientHello version TLS 1.1", S, A::ProtocolVersion)
            .edit(body(T::ClientHello, |b| b[1] = 2)),
        case("ClientHello without null compression", S, A::DecodeError).edit(body(
            T::ClientHello,
            |b| {
                let i = 2 + 32 + 1 + usize::from(b[34]);
                let i = i + 2 + usize::from(u16::from_be_bytes([b[i], b[i + 1]]));
                b[i + 1] = 1;
            },
        )),
        case(
            "ClientHello without renegotiation_info or SCSV",
            S,
            A::HandshakeFailure,
        )
        .edit(exts(T::ClientHello, without(RI)))
        .differs(
            A::HandshakeFailure,
            None,
            "tlsrec requires secure renegotiation from a client (RFC 5746 3.6 allows a legacy one)",
        ),
        case(
            "ClientHello renegotiation_info not empty",
            S,
            A::HandshakeFailure,
        )
        .edit(exts(T::ClientHello, replace_ext(RI, vec![1, 0]))),
        case(
            "ClientHello without extended_master_secret",
            S,
            A::HandshakeFailure,
        )
        .edit(exts(T::ClientHello, without(EMS)))
        .differs(
            A::HandshakeFailure,
            None,
            "tlsrec requires the extended master secret (RFC 7627 5.3 lets a server abort)",
        ),
        case(
            "ClientHello extended_master_secret not empty",
            S,
            A::DecodeError,
        )
        .edit(exts(T::ClientHello, replace_ext(EMS, vec![0]))),
        case("ClientHello supported_groups malformed", S, A::DecodeError)
            .edit(exts(T::ClientHello, replace_ext(GROUPS, vec![0, 3, 0, 29]))),
        case(
            "ClientHello signature_algorithms malformed",
            S,
            A::DecodeError,
        )
        .edit(exts(T::ClientHello, replace_ext(SIG_ALGS, vec![0, 1, 4]))),
        case(
            "ClientHello ec_point_formats without uncompressed",
            S,
            A::HandshakeFailure,
        )
        .edit(exts(T::ClientHello, replace_ext(POINT_FORMATS, vec![1, 1]))),
        case("ClientHello twice", S, A::UnexpectedMessage).edit(dup(T::ClientHello)),
        case("ServerHello sent to a server", S, A::UnexpectedMessage)
            .edit(retype(T::ClientHello, T::ServerHello)),
        case(
            "ChangeCipherSpec before ClientHello",
            S,
            A::UnexpectedMessage,
        )
        .wire(record_before(1, CCS.to_vec())),
        case(
            "client ChangeCipherSpec of two bytes in its place",
            S,
            A::UnexpectedMessage,
        )
        .wire(replace_ccs(vec![20, 3, 3, 0, 2, 1, 1])),
        // .. ClientKeyExchange ..
        case("ClientKeyExchange truncated", S, A::DecodeError)
            .edit(body(T::ClientKeyExchange, |b| b.truncate(10))),
        case("ClientKeyExchange with a trailing byte", S, A::DecodeError)
            .edit(body(T::ClientKeyExchange, |b| b.push(0))),
        case(
            "ClientKeyExchange with an empty body",
            S,
            A::HandshakeFailure,
        )
        .edit(body(T::ClientKeyExchange, |b| b.clear())),
        case("ClientKeyExchange of 2049 bytes", S, A::IllegalParameter)
            .edit(body(T::ClientKeyExchange, |b| b.resize(2049, 0))),
        case("ClientKeyExchange empty point", S, A::IllegalParameter)
            .edit(body(T::ClientKeyExchange, |b| *b = vec![0])),
        case(
            "ClientKeyExchange X25519 all-zero point",
            S,
            A::IllegalParameter,
        )
        .edit(body(T::ClientKeyExchange, |b| {
            *b = [&[32u8][..], &[0; 32]].concat()
        })),
        case(
            "ClientKeyExchange point of the wrong length",
            S,
            A::IllegalParameter,
        )
        .edit(body(T::ClientKeyExchange, |b| {
            *b = [&[31u8][..], &[9; 31]].concat()
        })),
        case("ClientKeyExchange missing", S, A::UnexpectedMessage)
            .edit(drop_msg(T::ClientKeyExchange)),
        case(
            "ChangeCipherSpec before ClientKeyExchange",
            S,
            A::UnexpectedMessage,
        )
        .edit(ccs_before(T::ClientKeyExchange)),
        case("Certificate not asked for", S, A::UnexpectedMessage).edit(insert(
            T::ClientKeyExchange,
            T::Certificate,
            vec![0, 0, 0],
        )),
        // .. client certificates ..
        case(
            "client Certificate empty when required",
            S,
            A::HandshakeFailure,
        )
        .client_auth(false),
        case("client Certificate truncated", S, A::DecodeError)
            .client_auth(true)
            .edit(body(T::Certificate, |b| b.truncate(10))),
        case("client CertificateVerify bad signature", S, A::DecryptError)
            .client_auth(true)
            .edit(body(T::CertificateVerify, |b| {
                let n = b.len();
                b[n - 8] ^= 1;
            })),
        case("client CertificateVerify truncated", S, A::DecodeError)
            .client_auth(true)
            .edit(body(T::CertificateVerify, |b| b.truncate(3))),
        case(
            "client CertificateVerify RSA-PSS scheme for an EC key",
            S,
            A::IllegalParameter,
        )
        .client_auth(true)
        .edit(body(T::CertificateVerify, |b| {
            b[0..2].copy_from_slice(&[8, 4])
        })),
        case(
            "client CertificateVerify scheme not offered",
            S,
            A::HandshakeFailure,
        )
        .client_auth(true)
        .edit(body(T::CertificateVerify, |b| {
            b[0..2].copy_from_slice(&[6, 3])
        })),
        case("client CertificateVerify missing", S, A::UnexpectedMessage)
            .client_auth(true)
            .edit(drop_msg(T::CertificateVerify)),
        // .. the client's Finished.
        case("client Finished wrong", S, A::DecryptError).edit(body(T::Finished, |b| b[0] ^= 1)),
        case("client Finished short", S, A::DecodeError)
            .edit(body(T::Finished, |b| b.truncate(11))),
        case("client Finished of 65 bytes", S, A::IllegalParameter)
            .edit(body(T::Finished, |b| b.resize(65, 0))),
        case(
            "client Finished before its ChangeCipherSpec",
            S,
            A::UnexpectedMessage,
        )
        .edit(finished_before_ccs()),
        // .. and in a renegotiation the client starts.
        case(
            "renegotiation ClientHello with an empty renegotiation_info",
            S,
            A::HandshakeFailure,
        )
        .reneg()
        .edit(exts(T::ClientHello, replace_ext(RI, vec![0]))),
        case(
            "renegotiation ClientHello without renegotiation_info",
            S,
            A::HandshakeFailure,
        )
        .reneg()
        .edit(exts(T::ClientHello, without(RI))),
        case(
            "renegotiation ClientHello with the SCSV",
            S,
            A::HandshakeFailure,
        )
        .reneg()
        .edit(body(T::ClientHello, |b| {
            let i = 2 + 32 + 1 + usize::from(b[34]);
            b[i + 2..i + 4].copy_from_slice(&[0x00, 0xff]);
        })),
        case(
            "renegotiation ClientKeyExchange bad point",
            S,
            A::IllegalParameter,
        )
        .reneg()
        .edit(body(T::ClientKeyExchange, |b| {
            *b = [&[32u8][..], &[0; 32]].concat()
        })),
        case("renegotiation client Finished wrong", S, A::DecryptError)
            .reneg()
            .edit(body(T::Finished, |b| b[0] ^= 1)),
    ]
}

// ---------------------------------------------------------------------------
// The peer: a tlsrec session whose driver's answers the case edits.
// ---------------------------------------------------------------------------

struct Editing {
    inner: Box<dyn HandshakeDriver + Send>,
    edit: Option<Arc<Case>>,
    /// The edit applies from now on (the handshake it is for has begun).
    armed: Arc<AtomicBool>,
    done: Arc<AtomicBool>,
}

impl Editing {
    fn apply(&self, out: &mut Vec<FlightItem>) {
        if !self.armed.load(Ordering::SeqCst) || self.done.load(Ordering::SeqCst) {
            return;
        }
        if let Some(f) = self.edit.as_ref().and_then(|c| c.edit.as_ref()) {
            if f(out) {
                self.done.store(true, Ordering::SeqCst);
            }
        }
    }
}

impl HandshakeDriver for Editing {
    fn start(&mut self, out: &mut Vec<FlightItem>) -> Progress {
        let p = self.inner.start(out);
        self.apply(out);
        p
    }
    fn message(&mut self, msg: &HandshakeMessage, out: &mut Vec<FlightItem>) -> Progress {
        let p = self.inner.message(msg, out);
        self.apply(out);
        p
    }
}

// ---------------------------------------------------------------------------
// The tested side: tlsrec or libssl, in the case's role.
// ---------------------------------------------------------------------------

#[derive(Default)]
struct Pipe {
    inp: VecDeque<u8>,
    out: Vec<u8>,
}

impl io::Read for Pipe {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.inp.is_empty() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let n = buf.len().min(self.inp.len());
        for (d, s) in buf.iter_mut().zip(self.inp.drain(..n)) {
            *d = s;
        }
        Ok(n)
    }
}

impl io::Write for Pipe {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.out.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

enum Tested {
    Tlsrec(Box<Session>),
    Libssl(SslStream<Pipe>, bool),
}

/// What a call on the tested side came to.
#[derive(Debug, PartialEq, Eq)]
enum Step {
    Going,
    Failed(String),
}

impl Tested {
    fn recv(&mut self, b: &[u8]) {
        match self {
            Tested::Tlsrec(s) => s.recv(b),
            Tested::Libssl(s, _) => s.get_mut().inp.extend(b.iter().copied()),
        }
    }
    fn take(&mut self) -> Vec<u8> {
        match self {
            Tested::Tlsrec(s) => s.take_outgoing(usize::MAX).to_vec(),
            Tested::Libssl(s, _) => std::mem::take(&mut s.get_mut().out),
        }
    }
    fn established(&self) -> bool {
        match self {
            Tested::Tlsrec(s) => s.is_established() && !s.in_handshake(),
            Tested::Libssl(s, hs) => *hs && s.ssl().is_init_finished(),
        }
    }
    fn step(&mut self) -> Step {
        match self {
            Tested::Tlsrec(s) => {
                let mut buf = [0u8; 1024];
                let r = if s.is_established() {
                    s.read(&mut buf).map(|_| ())
                } else {
                    s.do_handshake()
                };
                match r {
                    Ok(()) | Err(SslError::WantRead | SslError::WantWrite) => Step::Going,
                    Err(e) => Step::Failed(format!("{e}")),
                }
            }
            Tested::Libssl(s, hs) => {
                let r = if *hs {
                    let mut buf = [0u8; 1024];
                    s.ssl_read(&mut buf).map(|_| ())
                } else {
                    let r = s.do_handshake();
                    if r.is_ok() {
                        *hs = true;
                    }
                    r
                };
                match r {
                    Ok(()) => Step::Going,
                    Err(e)
                        if e.code() == ErrorCode::WANT_READ
                            || e.code() == ErrorCode::WANT_WRITE =>
                    {
                        Step::Going
                    }
                    Err(e) => Step::Failed(format!("{e}")),
                }
            }
        }
    }
}

const SUITES: &str = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:\
ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:\
ECDHE-RSA-CHACHA20-POLY1305";
const SIGALGS: &str = "ECDSA+SHA256:ECDSA+SHA384:rsa_pss_rsae_sha256:rsa_pss_rsae_sha384:\
rsa_pss_rsae_sha512:RSA+SHA256:RSA+SHA384:RSA+SHA512";

/// libssl configured as tlsrec's defaults are: TLS 1.2, the same suites,
/// groups and signature algorithms; no certificate checks; client
/// renegotiation allowed.
fn libssl(c: &Case) -> Tested {
    let server = c.role == Role::Server;
    let method = if server {
        SslMethod::tls_server()
    } else {
        SslMethod::tls_client()
    };
    let mut b = SslContextBuilder::new(method).unwrap();
    b.set_min_proto_version(Some(SslVersion::TLS1_2)).unwrap();
    b.set_max_proto_version(Some(SslVersion::TLS1_2)).unwrap();
    b.set_cipher_list(SUITES).unwrap();
    b.set_groups_list("X25519:P-256:P-384").unwrap();
    b.set_sigalgs_list(SIGALGS).unwrap();
    // SSL_OP_ALLOW_CLIENT_RENEGOTIATION (3.0: SSL_OP_BIT(8)), no tickets.
    b.set_options(SslOptions::from_bits_retain(1 << 8) | SslOptions::NO_TICKET);
    if server {
        let id = if c.rsa { rsa_id() } else { ec_id() };
        b.set_certificate(&id.cert).unwrap();
        b.set_private_key(&id.key).unwrap();
        if c.client_auth {
            b.set_verify_callback(
                SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT,
                |_, _| true,
            );
        }
    } else {
        b.set_verify(SslVerifyMode::NONE);
        if c.client_auth {
            b.set_certificate(&ec_id().cert).unwrap();
            b.set_private_key(&ec_id().key).unwrap();
        }
    }
    let ctx = b.build();
    let mut ssl = Ssl::new(&ctx).unwrap();
    if server {
        ssl.set_accept_state();
    } else {
        // As tlsrec's client: SNI for the server name.
        ssl.set_hostname("localhost").unwrap();
        ssl.set_connect_state();
    }
    Tested::Libssl(SslStream::new(ssl, Pipe::default()).unwrap(), false)
}

fn tlsrec_side(c: &Case) -> Tested {
    let cfg = Config {
        allow_client_renegotiation: true,
        ..Config::default()
    };
    Tested::Tlsrec(Box::new(match c.role {
        Role::Client => {
            let mut cc = ClientConfig::new("localhost", ServerCertVerification::DangerousNone);
            if c.client_auth {
                cc.identity = Some(tlsrec_identity(ec_id()));
            }
            tls12::client_session(Arc::new(cc), cfg).0
        }
        Role::Server => {
            let mut sc = ServerConfig::new(tlsrec_identity(if c.rsa { rsa_id() } else { ec_id() }));
            if c.client_auth {
                sc.client_auth = ClientAuth::Require(ClientCertVerification::DangerousNone);
            }
            tls12::server_session(Arc::new(sc), cfg).0
        }
    }))
}

/// The peer for a case, with its edit armed now (first handshake) or at
/// the renegotiation.
fn peer(c: &Arc<Case>, armed: Arc<AtomicBool>, done: Arc<AtomicBool>) -> Session {
    let cfg = Config {
        allow_client_renegotiation: true,
        ..Config::default()
    };
    let (inner, role) = match c.role {
        Role::Client => {
            let id = tlsrec_identity(if c.rsa { rsa_id() } else { ec_id() });
            let mut sc = ServerConfig::new(id);
            if c.client_auth {
                sc.client_auth = ClientAuth::Request(ClientCertVerification::DangerousNone);
            }
            (tls12::server(Arc::new(sc)).0, Role::Server)
        }
        Role::Server => {
            let mut cc = ClientConfig::new("localhost", ServerCertVerification::DangerousNone);
            if c.peer_has_cert {
                cc.identity = Some(tlsrec_identity(ec_id()));
            }
            (tls12::client(Arc::new(cc)).0, Role::Client)
        }
    };
    let d = Editing {
        inner,
        edit: Some(c.clone()),
        armed,
        done,
    };
    Session::handshaking(role, Box::new(d), cfg)
}

fn records(b: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i + 5 <= b.len() {
        let n = usize::from(u16::from_be_bytes([b[i + 3], b[i + 4]]));
        out.push(b[i..(i + 5 + n).min(b.len())].to_vec());
        i += 5 + n;
    }
    out
}

/// The result of one run: the alert the tested side sent (None: none),
/// and what happened, for the failure message.
#[derive(Debug)]
struct Run {
    alert: Option<A>,
    detail: String,
}

fn run(c: &Arc<Case>, mut t: Tested) -> Run {
    let armed = Arc::new(AtomicBool::new(c.reneg == Reneg::No));
    let done = Arc::new(AtomicBool::new(false));
    let mut p = peer(c, armed.clone(), done.clone());
    let wire_done = AtomicBool::new(false);
    let mut t_ccs = false;
    let mut alert = None;
    let mut failed = None;
    let mut reneg_started = false;
    let rounds = AtomicU32::new(0);
    let mut peer_err = None;
    let mut last_out = String::new();
    for _ in 0..40 {
        rounds.fetch_add(1, Ordering::SeqCst);
        if failed.is_none() {
            if let Step::Failed(e) = t.step() {
                failed = Some(e);
            }
        }
        let out = t.take();
        if !out.is_empty() {
            last_out = out
                .iter()
                .rev()
                .take(24)
                .rev()
                .map(|b| format!("{b:02x}"))
                .collect();
        }
        for r in records(&out) {
            if r[0] == 20 {
                t_ccs = true;
            } else if r[0] == 21 && !t_ccs && r.len() == 7 && r[5] == 2 {
                alert = Some(A::from(r[6]));
            }
        }
        p.recv(&out);
        let mut buf = [0u8; 1024];
        let r = if p.is_established() {
            p.read(&mut buf).map(|_| ())
        } else {
            p.do_handshake()
        };
        match r {
            Err(SslError::Ssl(Error::AlertReceived(a))) => {
                alert.get_or_insert(a);
                peer_err = Some(format!("peer received {a:?}"));
            }
            Err(SslError::Ssl(e)) => peer_err = Some(format!("peer failed: {e}")),
            _ => {}
        }
        if failed.is_some() && out.is_empty() {
            break;
        }
        if c.reneg == Reneg::ByPeer && !reneg_started && t.established() && p.is_established() {
            reneg_started = true;
            armed.store(true, Ordering::SeqCst);
            p.renegotiate().unwrap();
            // A write makes the peer start it (a read would wait for data).
            let _ = p.write(b"x");
        }
        let mut recs = records(&p.take_outgoing(usize::MAX));
        if let Some(w) = &c.wire {
            if !wire_done.load(Ordering::SeqCst) && w(&mut recs) {
                wire_done.store(true, Ordering::SeqCst);
            }
        }
        t.recv(&recs.concat());
    }
    let applied = done.load(Ordering::SeqCst)
        || wire_done.load(Ordering::SeqCst)
        || c.edit.is_none() && c.wire.is_none();
    Run {
        alert,
        detail: format!(
            "edit applied {applied}, tested side: {}, {}; its last bytes {last_out}",
            failed.unwrap_or_else(|| "no failure".into()),
            peer_err.unwrap_or_default()
        ),
    }
}

#[test]
fn malformed_and_out_of_order_messages_get_openssls_alert() {
    let mut bad = Vec::new();
    let all = cases();
    let n = all.len();
    for c in all {
        let c = Arc::new(c);
        let ours = run(&c, tlsrec_side(&c));
        let theirs = run(&c, libssl(&c));
        let ok = match c.expect {
            Expect::Same(a) => ours.alert == Some(a) && theirs.alert == Some(a),
            Expect::Differs(a, b, _) => ours.alert == Some(a) && theirs.alert == b,
            Expect::NoAlert => ours.alert.is_none() && theirs.alert.is_none(),
        };
        if !ok {
            bad.push(format!(
                "{} ({:?}): expected {:?}\n    tlsrec {:?} ({})\n    libssl {:?} ({})",
                c.name, c.role, c.expect, ours.alert, ours.detail, theirs.alert, theirs.detail
            ));
        }
    }
    assert!(
        bad.is_empty(),
        "{} of {n} cases differ:\n{}",
        bad.len(),
        bad.join("\n")
    );
}
