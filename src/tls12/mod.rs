//! A TLS 1.2 handshake, client and server, as a [`HandshakeDriver`] (feature
//! `handshake`): a [`Session`] made with [`client_session`] or
//! [`server_session`] runs its first handshake from plaintext and every
//! renegotiation after it, interleaved with application data by the record
//! layer's OpenSSL rules.
//!
//! What it does: ECDHE (X25519, P-256, P-384) with ECDSA (P-256, P-384) or
//! RSA (PKCS#1 v1.5 and PSS) signatures; the TLS 1.2 suites of
//! [`CipherSuite`] (AES-128/256-GCM, ChaCha20-Poly1305); the extended master
//! secret (RFC 7627), required both ways; secure renegotiation (RFC 5746)
//! with the previous handshake's verify_data, required both ways;
//! certificates verified with rustls-webpki against the roots the caller
//! gives ([`ServerCertVerification::Roots`]), or not at all
//! ([`ServerCertVerification::DangerousNone`], for tests); optional client
//! certificates; a server certificate lookup that may pause
//! ([`CertResolution::Pending`]).
//!
//! What it does not: session resumption (IDs or tickets: every handshake is
//! a full one), TLS 1.3 (use rustls and take the connection over), RSA key
//! exchange, finite-field DHE, CBC suites, ALPN, OCSP, compression.
//!
//! The crypto is ring's (key agreement, signatures, randomness: ring is
//! already the crate's fast AEAD provider and has every primitive needed);
//! the PRF and transcript hashes are the crate's own HMAC / SHA-2 code
//! (RustCrypto), as for the record keys.
//!
//! ```no_run
//! use std::net::TcpStream;
//! use std::sync::Arc;
//! use tlsrec::io::SslStream;
//! use tlsrec::tls12::{self, ClientConfig, Roots, ServerCertVerification};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let roots = Roots::from_pem(&std::fs::read("ca.pem")?)?;
//! let cfg = ClientConfig::new("example.com", ServerCertVerification::Roots(Arc::new(roots)));
//! let (session, status) = tls12::client_session(Arc::new(cfg), tlsrec::Config::default());
//! let mut tls = SslStream::new(session, TcpStream::connect("example.com:443")?);
//! tls.do_handshake()?;
//! println!("{:?}", status.last().map(|h| h.suite));
//! tls.ssl_write(b"GET / HTTP/1.0\r\n\r\n")?;
//! tls.session_mut().renegotiate()?; // runs at the next read or write
//! let mut buf = [0u8; 4096];
//! let n = tls.ssl_read(&mut buf)?;
//! # let _ = n;
//! # Ok(())
//! # }
//! ```
//!
//! The rest is docs/handshake.md:
//!
#![doc = include_str!("../../docs/handshake.md")]

use std::fmt;
use std::sync::{Arc, Mutex};

use pki_types::pem::PemObject;
use pki_types::{CertificateDer, PrivateKeyDer};

use crate::cipher::CipherSuite;
use crate::driver::HandshakeDriver;
use crate::error::Error;
use crate::role::Role;
use crate::session::{Config, Session};

mod client;
mod codec;
mod crypto;
mod server;

pub use crypto::{NamedGroup, SignatureScheme};

/// The TLS 1.2 suites, in the default order of preference (ECDSA before
/// RSA, AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305).
pub const DEFAULT_SUITES: &[CipherSuite] = &[
    CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
];

/// The key exchange groups, in the default order of preference.
pub const DEFAULT_GROUPS: &[NamedGroup] = &[
    NamedGroup::X25519,
    NamedGroup::Secp256r1,
    NamedGroup::Secp384r1,
];

/// The signature schemes offered and accepted by default.
pub const DEFAULT_SIGNATURE_SCHEMES: &[SignatureScheme] = &[
    SignatureScheme::EcdsaSecp256r1Sha256,
    SignatureScheme::EcdsaSecp384r1Sha384,
    SignatureScheme::RsaPssRsaeSha256,
    SignatureScheme::RsaPssRsaeSha384,
    SignatureScheme::RsaPssRsaeSha512,
    SignatureScheme::RsaPkcs1Sha256,
    SignatureScheme::RsaPkcs1Sha384,
    SignatureScheme::RsaPkcs1Sha512,
];

/// A certificate chain (end entity first) and its private key.
pub struct Identity {
    chain: Vec<CertificateDer<'static>>,
    key: crypto::SigningKey,
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("certificates", &self.chain.len())
            .field("key", &self.key.kind())
            .finish()
    }
}

impl Identity {
    /// From DER: the chain (end entity first) and a PKCS#8 private key
    /// (ECDSA P-256 / P-384 or RSA), or a PKCS#1 RSA key.
    ///
    /// # Errors
    /// [`Error::BadInput`] for an empty chain, a key ring cannot load or an
    /// end-entity certificate that cannot be parsed; [`Error::KeyMismatch`]
    /// when the key is not the one for that certificate's public key (as
    /// OpenSSL's `SSL_CTX_check_private_key`).
    pub fn from_der(chain: Vec<Vec<u8>>, key: &[u8]) -> Result<Self, Error> {
        if chain.is_empty() {
            return Err(Error::BadInput("an identity needs a certificate"));
        }
        let key = crypto::SigningKey::from_der(key)?;
        let chain: Vec<CertificateDer<'static>> =
            chain.into_iter().map(CertificateDer::from).collect();
        let leaf = webpki::EndEntityCert::try_from(&chain[0])
            .map_err(|_| Error::BadInput("unreadable end-entity certificate"))?;
        let spki = leaf.subject_public_key_info();
        if crypto::spki_key_bits(spki.as_ref()) != Some(key.public_key()) {
            return Err(Error::KeyMismatch);
        }
        Ok(Identity { chain, key })
    }

    /// From PEM: every `CERTIFICATE` in `chain_pem` (end entity first) and
    /// the first private key in `key_pem` (`PRIVATE KEY`, as `openssl
    /// genpkey` and `openssl req -newkey` write, or `RSA PRIVATE KEY`; a
    /// SEC1 `EC PRIVATE KEY` must be converted with `openssl pkcs8 -topk8
    /// -nocrypt`).
    ///
    /// # Errors
    /// [`Error::BadInput`] when no certificate or key is found or the key
    /// cannot be loaded; [`Error::KeyMismatch`] as in
    /// [`from_der`](Self::from_der).
    pub fn from_pem(chain_pem: &[u8], key_pem: &[u8]) -> Result<Self, Error> {
        let chain: Vec<Vec<u8>> = CertificateDer::pem_slice_iter(chain_pem)
            .map(|c| c.map(|c| c.to_vec()))
            .collect::<Result<_, _>>()
            .map_err(|_| Error::BadInput("unreadable PEM certificate"))?;
        let key = PrivateKeyDer::from_pem_slice(key_pem)
            .map_err(|_| Error::BadInput("no readable PEM private key"))?;
        if let PrivateKeyDer::Sec1(_) = key {
            return Err(Error::BadInput(
                "SEC1 EC keys are not supported: convert with openssl pkcs8 -topk8 -nocrypt",
            ));
        }
        Identity::from_der(chain, key.secret_der())
    }

    /// The chain, end entity first (DER).
    #[must_use]
    pub fn chain(&self) -> Vec<&[u8]> {
        self.chain.iter().map(|c| c.as_ref()).collect()
    }
}

/// Trusted root certificates (trust anchors) for [`ServerCertVerification::Roots`]
/// and [`ClientCertVerification::Roots`].
#[derive(Debug, Clone, Default)]
pub struct Roots {
    certs: Vec<CertificateDer<'static>>,
}

impl Roots {
    /// From DER certificates.
    #[must_use]
    pub fn from_der(certs: Vec<Vec<u8>>) -> Self {
        Roots {
            certs: certs.into_iter().map(CertificateDer::from).collect(),
        }
    }

    /// Every `CERTIFICATE` in a PEM bundle.
    ///
    /// # Errors
    /// [`Error::BadInput`] if the PEM cannot be read or holds no certificate.
    pub fn from_pem(pem: &[u8]) -> Result<Self, Error> {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<_, _>>()
            .map_err(|_| Error::BadInput("unreadable PEM certificate"))?;
        if certs.is_empty() {
            return Err(Error::BadInput("no certificate in the PEM bundle"));
        }
        Ok(Roots { certs })
    }

    /// How many roots.
    #[must_use]
    pub fn len(&self) -> usize {
        self.certs.len()
    }

    /// True when there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.certs.is_empty()
    }
}

/// How a client checks the server's certificate.
#[derive(Debug, Clone)]
pub enum ServerCertVerification {
    /// rustls-webpki: a path from the server's certificate (with the
    /// intermediates it sent) to one of these roots, valid now, for server
    /// authentication, and valid for [`ClientConfig::server_name`].
    Roots(Arc<Roots>),
    /// DANGEROUS, for tests only: any certificate is accepted (no path, no
    /// date, no name check), so anyone in the middle can pose as the
    /// server. The signature over the key exchange is still checked
    /// against the certificate's key.
    DangerousNone,
}

/// How a server checks a client's certificate, when it asks for one.
#[derive(Debug, Clone)]
pub enum ClientCertVerification {
    /// rustls-webpki: a path to one of these roots, valid now, for client
    /// authentication.
    Roots(Arc<Roots>),
    /// DANGEROUS, for tests only: any certificate is accepted (the
    /// CertificateVerify signature is still checked against its key).
    DangerousNone,
}

/// Whether a server asks for a client certificate.
#[derive(Debug, Clone)]
pub enum ClientAuth {
    /// Never (the default).
    Off,
    /// Asks; an empty Certificate is accepted.
    Request(ClientCertVerification),
    /// Asks; an empty Certificate fails the handshake (handshake_failure,
    /// as OpenSSL's `SSL_VERIFY_FAIL_IF_NO_PEER_CERT`).
    Require(ClientCertVerification),
}

/// Options of a client.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Sent as SNI (if a DNS name) and checked against the certificate
    /// ([`ServerCertVerification::Roots`]).
    pub server_name: String,
    /// How the server's certificate is checked.
    pub verification: ServerCertVerification,
    /// Suites offered, in order of preference (TLS 1.2 suites only).
    pub suites: Vec<CipherSuite>,
    /// Key exchange groups offered, in order of preference.
    pub groups: Vec<NamedGroup>,
    /// Signature schemes offered for the server's signature.
    pub signature_schemes: Vec<SignatureScheme>,
    /// The certificate sent when the server asks for one (`None`: an empty
    /// Certificate).
    pub identity: Option<Arc<Identity>>,
}

impl ClientConfig {
    /// Every default: all suites, groups and signature schemes, no client
    /// certificate.
    #[must_use]
    pub fn new(server_name: &str, verification: ServerCertVerification) -> Self {
        ClientConfig {
            server_name: server_name.to_string(),
            verification,
            suites: DEFAULT_SUITES.to_vec(),
            groups: DEFAULT_GROUPS.to_vec(),
            signature_schemes: DEFAULT_SIGNATURE_SCHEMES.to_vec(),
            identity: None,
        }
    }
}

/// What a server's certificate lookup sees of a ClientHello.
#[derive(Debug, Clone)]
pub struct ClientHelloInfo {
    /// The SNI host name, if any.
    pub server_name: Option<String>,
    /// The client's suites this crate implements, in its order.
    pub suites: Vec<CipherSuite>,
    /// The client's signature schemes this crate implements.
    pub signature_schemes: Vec<SignatureScheme>,
    /// A renegotiation (not the connection's first handshake).
    pub renegotiation: bool,
}

/// A certificate lookup's answer.
#[derive(Debug, Clone)]
pub enum CertResolution {
    /// Use this identity.
    Ready(Arc<Identity>),
    /// Not yet (an asynchronous lookup): the handshake call returns
    /// `SslError::WantCallback`, and the lookup is asked again, with the same
    /// ClientHello, at the next call.
    Pending,
    /// None fits: the handshake fails with handshake_failure.
    NoCertificate,
}

/// A server's certificate lookup (OpenSSL's certificate callback).
pub trait ResolvesServerCert: Send + Sync {
    /// The identity for this ClientHello.
    fn resolve(&self, hello: &ClientHelloInfo) -> CertResolution;
}

impl ResolvesServerCert for Arc<Identity> {
    fn resolve(&self, _: &ClientHelloInfo) -> CertResolution {
        CertResolution::Ready(self.clone())
    }
}

/// Options of a server.
#[derive(Clone)]
pub struct ServerConfig {
    /// The certificate lookup (an `Arc<Identity>` is one that always
    /// answers with itself).
    pub cert: Arc<dyn ResolvesServerCert>,
    /// Suites accepted, in the server's order of preference (it chooses).
    pub suites: Vec<CipherSuite>,
    /// Groups accepted, in order of preference.
    pub groups: Vec<NamedGroup>,
    /// Signature schemes accepted for a client's CertificateVerify.
    pub signature_schemes: Vec<SignatureScheme>,
    /// Whether to ask for a client certificate.
    pub client_auth: ClientAuth,
    /// Ask only in renegotiations (as `openssl s_server` does for
    /// `GET /renegcert`), not in the first handshake.
    pub client_auth_renegotiation_only: bool,
}

impl fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerConfig")
            .field("suites", &self.suites)
            .field("groups", &self.groups)
            .field("client_auth", &self.client_auth)
            .finish_non_exhaustive()
    }
}

impl ServerConfig {
    /// Every default with one identity: all suites its key can sign for,
    /// all groups, no client certificate.
    #[must_use]
    pub fn new(identity: Arc<Identity>) -> Self {
        ServerConfig::with_resolver(Arc::new(identity))
    }

    /// Every default with a certificate lookup.
    #[must_use]
    pub fn with_resolver(cert: Arc<dyn ResolvesServerCert>) -> Self {
        ServerConfig {
            cert,
            suites: DEFAULT_SUITES.to_vec(),
            groups: DEFAULT_GROUPS.to_vec(),
            signature_schemes: DEFAULT_SIGNATURE_SCHEMES.to_vec(),
            client_auth: ClientAuth::Off,
            client_auth_renegotiation_only: false,
        }
    }
}

/// What one completed handshake negotiated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandshakeSummary {
    /// The suite.
    pub suite: CipherSuite,
    /// The ECDHE group.
    pub group: NamedGroup,
    /// The scheme of the server's key exchange signature.
    pub signature_scheme: SignatureScheme,
    /// The peer's certificate chain (DER; empty for a client that sent none).
    pub peer_certificates: Vec<Vec<u8>>,
    /// A renegotiation (not the first handshake).
    pub renegotiation: bool,
    /// The server asked for a client certificate.
    pub client_cert_requested: bool,
}

#[derive(Debug, Default)]
struct StatusInner {
    completed: u64,
    last: Option<HandshakeSummary>,
    lookups: u64,
    /// Each handshake's client random and master secret (Secret redacts
    /// itself in Debug).
    secrets: Vec<([u8; 32], crate::keys::Secret)>,
}

/// A view of a driver's handshakes, shared with the driver inside the
/// session (cheap to clone).
#[derive(Debug, Clone, Default)]
pub struct Status(Arc<Mutex<StatusInner>>);

impl Status {
    /// Handshakes the driver completed (the first and renegotiations).
    #[must_use]
    pub fn handshakes(&self) -> u64 {
        self.lock().completed
    }

    /// What the last completed handshake negotiated.
    #[must_use]
    pub fn last(&self) -> Option<HandshakeSummary> {
        self.lock().last.clone()
    }

    /// Times a server driver asked its certificate lookup (a pause makes it
    /// ask again).
    #[must_use]
    pub fn cert_lookups(&self) -> u64 {
        self.lock().lookups
    }

    /// The key log of every handshake whose master secret was computed so
    /// far, in SSLKEYLOGFILE format: one `CLIENT_RANDOM <client random>
    /// <master secret>` line each (hex), renegotiations included, for
    /// `tlsrec decode`, [`KeyLog::parse`](crate::keylog::KeyLog::parse) or
    /// Wireshark. Secret material: it decrypts the connection.
    #[must_use]
    pub fn key_log(&self) -> String {
        use crate::keylog::encode_hex;
        self.lock()
            .secrets
            .iter()
            .map(|(cr, ms)| {
                format!(
                    "CLIENT_RANDOM {} {}\n",
                    encode_hex(cr),
                    encode_hex(ms.as_bytes())
                )
            })
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, StatusInner> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn completed(&self, summary: HandshakeSummary) {
        let mut s = self.lock();
        s.completed += 1;
        s.last = Some(summary);
    }

    fn master_secret(&self, client_random: [u8; 32], ms: &crate::keys::Secret) {
        self.lock().secrets.push((client_random, ms.clone()));
    }

    fn looked_up(&self) {
        self.lock().lookups += 1;
    }
}

/// A client driver and its status handle (for [`Session::handshaking`] or
/// [`Session::drive_with`]).
#[must_use]
pub fn client(cfg: Arc<ClientConfig>) -> (Box<dyn HandshakeDriver + Send>, Status) {
    let status = Status::default();
    (Box::new(client::Client::new(cfg, status.clone())), status)
}

/// A server driver and its status handle.
#[must_use]
pub fn server(cfg: Arc<ServerConfig>) -> (Box<dyn HandshakeDriver + Send>, Status) {
    let status = Status::default();
    (Box::new(server::Server::new(cfg, status.clone())), status)
}

/// A client session whose first handshake (and every renegotiation) this
/// module runs: `Session::handshaking(Role::Client, ..)`.
#[must_use]
pub fn client_session(cfg: Arc<ClientConfig>, session: Config) -> (Session, Status) {
    let (driver, status) = client(cfg);
    (Session::handshaking(Role::Client, driver, session), status)
}

/// A server session whose first handshake (and every renegotiation) this
/// module runs: `Session::handshaking(Role::Server, ..)`. Renegotiations the
/// client asks for run only with [`Config::allow_client_renegotiation`].
#[must_use]
pub fn server_session(cfg: Arc<ServerConfig>, session: Config) -> (Session, Status) {
    let (driver, status) = server(cfg);
    (Session::handshaking(Role::Server, driver, session), status)
}
