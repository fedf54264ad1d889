//! The peers of the throughput comparison: rustls 0.23 and OpenSSL 3 (the
//! system libssl through the `openssl` crate), each as a client and a server
//! joined in memory in one thread, after a real handshake.
//!
//! Compiled with the `bench-peers` feature (always on for the criterion
//! benchmarks), for `tlsrec bench` and `benches/record.rs`.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::rc::Rc;
use std::sync::Arc;

use super::{bulk_total, data, CipherSuite, Subject, Version, Workload};

/// A self-signed ECDSA P-256 certificate for `localhost` and its key
/// (DER certificate, PKCS#8 key), made with libcrypto.
fn credentials() -> (Vec<u8>, Vec<u8>) {
    use openssl::asn1::Asn1Time;
    use openssl::bn::BigNum;
    use openssl::ec::{EcGroup, EcKey};
    use openssl::hash::MessageDigest;
    use openssl::nid::Nid;
    use openssl::pkey::PKey;
    use openssl::x509::extension::{ExtendedKeyUsage, SubjectAlternativeName};
    use openssl::x509::{X509Builder, X509NameBuilder};

    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).expect("P-256");
    let key = PKey::from_ec_key(EcKey::generate(&group).expect("key")).expect("pkey");
    let mut name = X509NameBuilder::new().expect("name");
    name.append_entry_by_text("CN", "localhost").expect("CN");
    let name = name.build();
    let mut b = X509Builder::new().expect("x509");
    b.set_version(2).expect("v3");
    b.set_serial_number(&BigNum::from_u32(1).unwrap().to_asn1_integer().unwrap())
        .expect("serial");
    b.set_subject_name(&name).expect("subject");
    b.set_issuer_name(&name).expect("issuer");
    b.set_pubkey(&key).expect("pubkey");
    b.set_not_before(&Asn1Time::days_from_now(0).unwrap())
        .expect("not before");
    b.set_not_after(&Asn1Time::days_from_now(365).unwrap())
        .expect("not after");
    let san = SubjectAlternativeName::new()
        .dns("localhost")
        .build(&b.x509v3_context(None, None))
        .expect("san");
    b.append_extension(san).expect("san");
    b.append_extension(ExtendedKeyUsage::new().server_auth().build().unwrap())
        .expect("eku");
    b.sign(&key, MessageDigest::sha256()).expect("sign");
    let cert = b.build();
    (
        cert.to_der().expect("der"),
        key.private_key_to_pkcs8().expect("pkcs8"),
    )
}

fn creds() -> &'static (Vec<u8>, Vec<u8>) {
    static C: std::sync::OnceLock<(Vec<u8>, Vec<u8>)> = std::sync::OnceLock::new();
    C.get_or_init(credentials)
}

// ---------------------------------------------------------------------------
// rustls
// ---------------------------------------------------------------------------

/// The rustls providers measured: `aws-lc-rs` (rustls' default) and `ring`.
/// aws-lc-rs only with the `bench-peers` feature, the one that turns on
/// rustls's second provider (Cargo.toml says why the others do not).
#[cfg(feature = "bench-peers")]
pub const RUSTLS_PROVIDERS: &[&str] = &["aws-lc-rs", "ring"];
/// The rustls providers measured: `ring` (aws-lc-rs needs `bench-peers`).
#[cfg(not(feature = "bench-peers"))]
pub const RUSTLS_PROVIDERS: &[&str] = &["ring"];

/// rustls client and server connected in memory.
pub struct RustlsPair {
    client: rustls::Connection,
    server: rustls::Connection,
    data: Vec<u8>,
    write: usize,
    wire: Vec<u8>,
    rbuf: Vec<u8>,
}

fn rustls_provider(name: &str, suite: CipherSuite) -> rustls::crypto::CryptoProvider {
    let mut p = match name {
        #[cfg(feature = "bench-peers")]
        "aws-lc-rs" => rustls::crypto::aws_lc_rs::default_provider(),
        "ring" => rustls::crypto::ring::default_provider(),
        other => panic!("no rustls provider {other}"),
    };
    p.cipher_suites
        .retain(|s| u16::from(s.suite()) == suite.code());
    assert_eq!(p.cipher_suites.len(), 1, "rustls has {}", suite.name());
    p
}

/// Moves everything `from` has to send into `to`, processing it; returns
/// the plaintext bytes `to` read (into `rbuf`, discarded).
pub(super) fn rustls_pump(
    from: &mut rustls::Connection,
    to: &mut rustls::Connection,
    wire: &mut Vec<u8>,
    rbuf: &mut [u8],
) -> usize {
    wire.clear();
    while from.wants_write() {
        from.write_tls(wire).expect("write_tls");
    }
    let mut rd = &wire[..];
    let mut got = 0;
    while !rd.is_empty() {
        to.read_tls(&mut rd).expect("read_tls");
        to.process_new_packets().expect("process_new_packets");
        loop {
            match to.reader().read(rbuf) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => panic!("rustls read: {e}"),
            }
        }
    }
    got
}

/// A client and a server config for `suite` with rustls provider
/// `provider` (shared by every connection made from them).
pub(super) fn rustls_configs(
    provider: &str,
    suite: CipherSuite,
) -> (Arc<rustls::ClientConfig>, Arc<rustls::ServerConfig>) {
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    let (cert, key) = creds();
    let versions: &[&rustls::SupportedProtocolVersion] = match suite.version() {
        Version::Tls13 => &[&rustls::version::TLS13],
        Version::Tls12 => &[&rustls::version::TLS12],
    };
    let prov = Arc::new(rustls_provider(provider, suite));
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from(cert.clone())).expect("root");
    let ccfg = rustls::ClientConfig::builder_with_provider(prov.clone())
        .with_protocol_versions(versions)
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let mut scfg = rustls::ServerConfig::builder_with_provider(prov)
        .with_protocol_versions(versions)
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(cert.clone())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.clone())),
        )
        .expect("server cert");
    scfg.send_tls13_tickets = 0;
    (Arc::new(ccfg), Arc::new(scfg))
}

/// A client and a server connection from `configs`, handshaken in memory.
pub(super) fn rustls_connect(
    configs: &(Arc<rustls::ClientConfig>, Arc<rustls::ServerConfig>),
) -> (rustls::Connection, rustls::Connection) {
    use rustls::pki_types::ServerName;
    let mut client: rustls::Connection = rustls::ClientConnection::new(
        configs.0.clone(),
        ServerName::try_from("localhost").expect("name"),
    )
    .expect("client")
    .into();
    let mut server: rustls::Connection = rustls::ServerConnection::new(configs.1.clone())
        .expect("server")
        .into();
    let (mut wire, mut rbuf) = (Vec::new(), vec![0u8; 16384]);
    while client.is_handshaking() || server.is_handshaking() {
        rustls_pump(&mut client, &mut server, &mut wire, &mut rbuf);
        rustls_pump(&mut server, &mut client, &mut wire, &mut rbuf);
    }
    (client, server)
}

impl RustlsPair {
    /// A pair with rustls provider `provider` (`aws-lc-rs` or `ring`)
    /// negotiating `suite`, moving `total` bytes per run in writes of
    /// `write` bytes from client to server.
    #[must_use]
    pub fn new(provider: &str, suite: CipherSuite, total: usize, write: usize) -> RustlsPair {
        let (mut client, server) = rustls_connect(&rustls_configs(provider, suite));
        client.set_buffer_limit(None);
        RustlsPair {
            client,
            server,
            data: data(total),
            write,
            wire: Vec::new(),
            rbuf: vec![0u8; 16384],
        }
    }
}

impl Workload for RustlsPair {
    fn bytes(&self) -> u64 {
        self.data.len() as u64
    }

    fn run(&mut self) {
        for chunk in self.data.chunks(self.write) {
            self.client.writer().write_all(chunk).expect("write");
        }
        let got = rustls_pump(
            &mut self.client,
            &mut self.server,
            &mut self.wire,
            &mut self.rbuf,
        );
        assert_eq!(got, self.data.len());
    }
}

// ---------------------------------------------------------------------------
// OpenSSL
// ---------------------------------------------------------------------------

/// One end of an in-memory transport (the pair is OpenSSL's BIO pair in
/// spirit; the `openssl` crate wraps it as a custom BIO).
#[derive(Clone, Default)]
pub(super) struct Pipe {
    rx: Rc<RefCell<VecDeque<u8>>>,
    tx: Rc<RefCell<VecDeque<u8>>>,
}

impl Pipe {
    /// Frees what the transport's queues keep (their capacity), so that
    /// memory measurements count OpenSSL and not this in-memory transport.
    pub(super) fn shrink(&self) {
        self.rx.borrow_mut().shrink_to_fit();
        self.tx.borrow_mut().shrink_to_fit();
    }
}

impl Read for Pipe {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut rx = self.rx.borrow_mut();
        if rx.is_empty() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        rx.read(buf)
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

/// OpenSSL client and server connected in memory.
pub struct OpensslPair {
    client: openssl::ssl::SslStream<Pipe>,
    server: openssl::ssl::SslStream<Pipe>,
    data: Vec<u8>,
    write: usize,
    rbuf: Vec<u8>,
}

/// A client and a server connected in memory from `cctx` / `sctx`,
/// handshaken.
pub(super) fn openssl_connect(
    cctx: &openssl::ssl::SslContext,
    sctx: &openssl::ssl::SslContext,
) -> (openssl::ssl::SslStream<Pipe>, openssl::ssl::SslStream<Pipe>) {
    use openssl::ssl::{ErrorCode, Ssl, SslStream};
    let a = Pipe::default();
    let b = Pipe {
        rx: a.tx.clone(),
        tx: a.rx.clone(),
    };
    let mut cs = Ssl::new(cctx).unwrap();
    cs.set_connect_state();
    let mut ss = Ssl::new(sctx).unwrap();
    ss.set_accept_state();
    let mut client = SslStream::new(cs, a).unwrap();
    let mut server = SslStream::new(ss, b).unwrap();
    let (mut c_done, mut s_done) = (false, false);
    for _ in 0..20 {
        if !c_done {
            match client.do_handshake() {
                Ok(()) => c_done = true,
                Err(e) if e.code() == ErrorCode::WANT_READ => {}
                Err(e) => panic!("openssl client handshake: {e}"),
            }
        }
        if !s_done {
            match server.do_handshake() {
                Ok(()) => s_done = true,
                Err(e) if e.code() == ErrorCode::WANT_READ => {}
                Err(e) => panic!("openssl server handshake: {e}"),
            }
        }
        if c_done && s_done {
            break;
        }
    }
    assert!(c_done && s_done, "openssl handshake did not finish");
    (client, server)
}

impl OpensslPair {
    /// A pair negotiating `suite`, moving `total` bytes per run in writes of
    /// `write` bytes from client to server.
    #[must_use]
    pub fn new(suite: CipherSuite, total: usize, write: usize) -> OpensslPair {
        let (client, server) = openssl_connect(
            &openssl_ctx(suite, false).build(),
            &openssl_ctx(suite, true).build(),
        );
        assert_eq!(
            client.ssl().current_cipher().map(|c| c.standard_name()),
            Some(Some(suite.name())),
            "negotiated suite"
        );
        OpensslPair {
            client,
            server,
            data: data(total),
            write,
            rbuf: vec![0; 16384],
        }
    }
}

impl Workload for OpensslPair {
    fn bytes(&self) -> u64 {
        self.data.len() as u64
    }

    fn run(&mut self) {
        use openssl::ssl::ErrorCode;
        for chunk in self.data.chunks(self.write) {
            assert_eq!(
                self.client.ssl_write(chunk).expect("SSL_write"),
                chunk.len()
            );
        }
        let mut got = 0;
        loop {
            match self.server.ssl_read(&mut self.rbuf) {
                Ok(n) => got += n,
                Err(e) if e.code() == ErrorCode::WANT_READ => break,
                Err(e) => panic!("SSL_read: {e}"),
            }
        }
        assert_eq!(got, self.data.len());
    }
}

/// `bulk-N` for the peers: rustls with each of its providers, and OpenSSL;
/// and the same over loopback TCP, `bulk-tcp-N` ([`bulk_tcp`]).
#[must_use]
pub fn bulk(suites: &[CipherSuite], writes: &[usize]) -> Vec<Subject> {
    let mut v = bulk_in_memory(suites, writes);
    v.extend(bulk_tcp(suites, writes));
    v
}

/// `bulk-N` for the peers, in memory only (what [`plot`](super::plot)
/// draws).
#[must_use]
pub fn bulk_in_memory(suites: &[CipherSuite], writes: &[usize]) -> Vec<Subject> {
    let mut v = Vec::new();
    for &suite in suites {
        for &w in writes {
            let case = format!("bulk-{w}");
            for &p in RUSTLS_PROVIDERS {
                v.push(Subject {
                    case: case.clone(),
                    suite,
                    imp: "rustls",
                    provider: p,
                    workload: Box::new(RustlsPair::new(p, suite, bulk_total(w), w)),
                });
            }
            v.push(Subject {
                case: case.clone(),
                suite,
                imp: "openssl",
                provider: "libcrypto",
                workload: Box::new(OpensslPair::new(suite, bulk_total(w), w)),
            });
        }
    }
    v
}

// ---------------------------------------------------------------------------
// Over loopback TCP
// ---------------------------------------------------------------------------

/// `bulk-tcp-N` for rustls: the pair of [`RustlsPair::new`] (handshake in
/// memory), then each connection over one end of a loopback socket: the
/// client writes each chunk and `write_tls`es it at once (what rustls'
/// `StreamOwned` does), the server `read_tls`es, processes and reads into
/// 16 KiB in the reader thread.
fn rustls_tcp(provider: &str, suite: CipherSuite, write: usize) -> Box<dyn Workload> {
    let RustlsPair {
        mut client,
        mut server,
        ..
    } = RustlsPair::new(provider, suite, 0, write);
    let (mut c, mut s) = super::tcp::tcp_pair();
    let wsock = c.try_clone().expect("clone");
    Box::new(super::tcp::TcpBulk::new(
        bulk_total(write),
        write,
        Box::new(move |chunk| {
            client.writer().write_all(chunk).expect("write");
            while client.wants_write() {
                client.write_tls(&mut c).expect("write_tls");
            }
        }),
        wsock,
        Box::new(move |buf| loop {
            match server.reader().read(buf) {
                Ok(n) if n > 0 => return n,
                Ok(_) => return 0,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => panic!("rustls read: {e}"),
            }
            match server.read_tls(&mut s) {
                Ok(0) | Err(_) => return 0,
                Ok(_) => {
                    server.process_new_packets().expect("process_new_packets");
                }
            }
        }),
    ))
}

/// The context builder of a client or server for `suite` (the server with
/// the ECDSA credentials, no tickets; no verification).
pub(super) fn openssl_ctx(suite: CipherSuite, server: bool) -> openssl::ssl::SslContextBuilder {
    use openssl::pkey::PKey;
    use openssl::ssl::{SslContext, SslMethod, SslVerifyMode, SslVersion};
    use openssl::x509::X509;
    let (cert, key) = creds();
    let mut b = SslContext::builder(SslMethod::tls()).expect("ctx");
    let v = match suite.version() {
        Version::Tls13 => SslVersion::TLS1_3,
        Version::Tls12 => SslVersion::TLS1_2,
    };
    b.set_min_proto_version(Some(v)).unwrap();
    b.set_max_proto_version(Some(v)).unwrap();
    match suite.version() {
        Version::Tls13 => b.set_ciphersuites(suite.openssl_name()).unwrap(),
        Version::Tls12 => b.set_cipher_list(suite.openssl_name()).unwrap(),
    }
    if server {
        b.set_certificate(&X509::from_der(cert).unwrap()).unwrap();
        b.set_private_key(&PKey::private_key_from_der(key).unwrap())
            .unwrap();
        b.set_num_tickets(0).unwrap();
    }
    b.set_verify(SslVerifyMode::NONE);
    b
}

/// `bulk-tcp-N` for OpenSSL: `SslStream`s straight over the sockets (the
/// socket BIO), the handshake over the connection, `ssl_write` of each
/// chunk, `ssl_read` into 16 KiB in the reader thread.
fn openssl_tcp(suite: CipherSuite, write: usize) -> Box<dyn Workload> {
    use openssl::ssl::{ErrorCode, Ssl};
    let (c, s) = super::tcp::tcp_pair();
    let wsock = c.try_clone().expect("clone");
    let sctx = openssl_ctx(suite, true).build();
    let accept = std::thread::spawn(move || {
        Ssl::new(&sctx)
            .unwrap()
            .accept(s)
            .map_err(|e| e.to_string())
    });
    let mut client = Ssl::new(&openssl_ctx(suite, false).build())
        .unwrap()
        .connect(c)
        .expect("openssl connect");
    let mut server = accept
        .join()
        .expect("accept thread")
        .expect("openssl accept");
    assert_eq!(
        client.ssl().current_cipher().map(|c| c.standard_name()),
        Some(Some(suite.name())),
        "negotiated suite"
    );
    Box::new(super::tcp::TcpBulk::new(
        bulk_total(write),
        write,
        Box::new(move |chunk| {
            assert_eq!(client.ssl_write(chunk).expect("SSL_write"), chunk.len());
        }),
        wsock,
        Box::new(move |buf| match server.ssl_read(buf) {
            Ok(n) => n,
            Err(e) if e.code() == ErrorCode::ZERO_RETURN || e.code() == ErrorCode::SYSCALL => 0,
            Err(e) => panic!("SSL_read: {e}"),
        }),
    ))
}

/// `bulk-tcp-N` for the peers: rustls with each of its providers, and
/// OpenSSL, over loopback TCP (module `tcp`).
#[must_use]
pub fn bulk_tcp(suites: &[CipherSuite], writes: &[usize]) -> Vec<Subject> {
    let mut v = Vec::new();
    for &suite in suites {
        for &w in writes {
            let case = format!("bulk-tcp-{w}");
            for &p in RUSTLS_PROVIDERS {
                v.push(Subject {
                    case: case.clone(),
                    suite,
                    imp: "rustls",
                    provider: p,
                    workload: rustls_tcp(p, suite, w),
                });
            }
            v.push(Subject {
                case: case.clone(),
                suite,
                imp: "openssl",
                provider: "libcrypto",
                workload: openssl_tcp(suite, w),
            });
        }
    }
    v
}
