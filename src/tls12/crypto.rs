//! The handshake's crypto: ECDHE with ring, signatures with ring (signing)
//! and rustls-webpki over ring (verifying), certificate paths with
//! rustls-webpki, the transcript hash and the TLS 1.2 PRF (the crate's
//! HMAC / SHA-2).

use pki_types::{CertificateDer, ServerName, UnixTime};
use ring::agreement;
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{self as rsig, EcdsaKeyPair, KeyPair, RsaKeyPair};
use sha2::{Digest, Sha256, Sha384};
use webpki::ring as algs;
use zeroize::Zeroizing;

use crate::alert::AlertDescription as A;
use crate::cipher::{CipherSuite, HashAlgorithm};
use crate::error::Error;
use crate::keys::{tls12_prf, Secret};

use super::{ClientCertVerification, Roots, ServerCertVerification};

macro_rules! codes {
    ($(#[$m:meta])* $name:ident { $( $(#[$d:meta])* $v:ident = $c:expr, )* }) => {
        $(#[$m])*
        #[non_exhaustive]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $( $(#[$d])* $v, )* }
        impl $name {
            /// The IANA code point.
            #[must_use]
            pub fn code(self) -> u16 { match self { $( $name::$v => $c, )* } }
            /// The value with this code point, if implemented.
            #[must_use]
            pub fn from_code(c: u16) -> Option<Self> { match c { $( $c => Some($name::$v), )* _ => None } }
        }
    };
}

codes! {
    /// ECDHE groups (IANA TLS Supported Groups).
    NamedGroup {
        /// secp256r1 (P-256), 23.
        Secp256r1 = 0x0017,
        /// secp384r1 (P-384), 24.
        Secp384r1 = 0x0018,
        /// X25519, 29.
        X25519 = 0x001d,
    }
}

codes! {
    /// Signature schemes (IANA TLS SignatureScheme; in TLS 1.2 the
    /// SignatureAndHashAlgorithm pairs with the same code points).
    SignatureScheme {
        /// rsa_pkcs1_sha256
        RsaPkcs1Sha256 = 0x0401,
        /// rsa_pkcs1_sha384
        RsaPkcs1Sha384 = 0x0501,
        /// rsa_pkcs1_sha512
        RsaPkcs1Sha512 = 0x0601,
        /// ecdsa_secp256r1_sha256 (TLS 1.2: ECDSA with SHA-256, any curve)
        EcdsaSecp256r1Sha256 = 0x0403,
        /// ecdsa_secp384r1_sha384 (TLS 1.2: ECDSA with SHA-384, any curve)
        EcdsaSecp384r1Sha384 = 0x0503,
        /// rsa_pss_rsae_sha256
        RsaPssRsaeSha256 = 0x0804,
        /// rsa_pss_rsae_sha384
        RsaPssRsaeSha384 = 0x0805,
        /// rsa_pss_rsae_sha512
        RsaPssRsaeSha512 = 0x0806,
    }
}

impl SignatureScheme {
    /// rustls-webpki's verification algorithms for this scheme (TLS 1.2
    /// does not bind an ECDSA scheme to a curve: both are tried).
    fn verifiers(self) -> Vec<&'static dyn pki_types::SignatureVerificationAlgorithm> {
        use SignatureScheme as S;
        match self {
            S::RsaPkcs1Sha256 => vec![algs::RSA_PKCS1_2048_8192_SHA256],
            S::RsaPkcs1Sha384 => vec![algs::RSA_PKCS1_2048_8192_SHA384],
            S::RsaPkcs1Sha512 => vec![algs::RSA_PKCS1_2048_8192_SHA512],
            S::RsaPssRsaeSha256 => vec![algs::RSA_PSS_2048_8192_SHA256_LEGACY_KEY],
            S::RsaPssRsaeSha384 => vec![algs::RSA_PSS_2048_8192_SHA384_LEGACY_KEY],
            S::RsaPssRsaeSha512 => vec![algs::RSA_PSS_2048_8192_SHA512_LEGACY_KEY],
            S::EcdsaSecp256r1Sha256 => vec![algs::ECDSA_P256_SHA256, algs::ECDSA_P384_SHA256],
            S::EcdsaSecp384r1Sha384 => vec![algs::ECDSA_P384_SHA384, algs::ECDSA_P256_SHA384],
        }
    }
}

/// Signature algorithms accepted inside certificate chains.
static CHAIN_ALGS: &[&dyn pki_types::SignatureVerificationAlgorithm] = &[
    algs::ECDSA_P256_SHA256,
    algs::ECDSA_P256_SHA384,
    algs::ECDSA_P384_SHA256,
    algs::ECDSA_P384_SHA384,
    algs::RSA_PKCS1_2048_8192_SHA256,
    algs::RSA_PKCS1_2048_8192_SHA384,
    algs::RSA_PKCS1_2048_8192_SHA512,
    algs::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
    algs::RSA_PSS_2048_8192_SHA384_LEGACY_KEY,
    algs::RSA_PSS_2048_8192_SHA512_LEGACY_KEY,
    algs::ED25519,
];

pub(super) fn rng() -> &'static SystemRandom {
    static RNG: std::sync::OnceLock<SystemRandom> = std::sync::OnceLock::new();
    RNG.get_or_init(SystemRandom::new)
}

pub(super) fn random32() -> Result<[u8; 32], A> {
    let mut r = [0u8; 32];
    rng().fill(&mut r).map_err(|_| A::InternalError)?;
    Ok(r)
}

/// An ephemeral ECDHE key.
pub(super) struct Ephemeral {
    pub(super) group: NamedGroup,
    key: agreement::EphemeralPrivateKey,
    pub(super) public: Vec<u8>,
}

fn ring_group(g: NamedGroup) -> &'static agreement::Algorithm {
    match g {
        NamedGroup::X25519 => &agreement::X25519,
        NamedGroup::Secp256r1 => &agreement::ECDH_P256,
        NamedGroup::Secp384r1 => &agreement::ECDH_P384,
    }
}

impl Ephemeral {
    pub(super) fn new(group: NamedGroup) -> Result<Self, A> {
        let key = agreement::EphemeralPrivateKey::generate(ring_group(group), rng())
            .map_err(|_| A::InternalError)?;
        let public = key
            .compute_public_key()
            .map_err(|_| A::InternalError)?
            .as_ref()
            .to_vec();
        Ok(Ephemeral { group, key, public })
    }

    /// The premaster secret with the peer's public value; a value ring
    /// refuses (not on the curve, wrong length, X25519's all-zero result)
    /// is illegal_parameter (OpenSSL: "bad ecpoint").
    pub(super) fn agree(self, peer: &[u8]) -> Result<Secret, A> {
        let peer = agreement::UnparsedPublicKey::new(ring_group(self.group), peer);
        agreement::agree_ephemeral(self.key, &peer, |s| Secret::new(s.to_vec()))
            .map_err(|_| A::IllegalParameter)
    }
}

/// A private key that signs handshakes.
pub(super) enum SigningKey {
    Ecdsa(EcdsaKeyPair, SignatureScheme),
    Rsa(RsaKeyPair),
}

impl SigningKey {
    pub(super) fn from_der(der: &[u8]) -> Result<Self, Error> {
        if let Ok(k) = EcdsaKeyPair::from_pkcs8(&rsig::ECDSA_P256_SHA256_ASN1_SIGNING, der, rng()) {
            return Ok(SigningKey::Ecdsa(k, SignatureScheme::EcdsaSecp256r1Sha256));
        }
        if let Ok(k) = EcdsaKeyPair::from_pkcs8(&rsig::ECDSA_P384_SHA384_ASN1_SIGNING, der, rng()) {
            return Ok(SigningKey::Ecdsa(k, SignatureScheme::EcdsaSecp384r1Sha384));
        }
        if let Ok(k) = RsaKeyPair::from_pkcs8(der).or_else(|_| RsaKeyPair::from_der(der)) {
            return Ok(SigningKey::Rsa(k));
        }
        Err(Error::BadInput(
            "the private key is not a PKCS#8 ECDSA P-256 / P-384 or RSA key",
        ))
    }

    /// The public key as a certificate's SPKI carries it in its BIT STRING:
    /// the uncompressed EC point, or the DER `RSAPublicKey`.
    pub(super) fn public_key(&self) -> &[u8] {
        match self {
            SigningKey::Ecdsa(k, _) => k.public_key().as_ref(),
            SigningKey::Rsa(k) => k.public().as_ref(),
        }
    }

    pub(super) fn kind(&self) -> &'static str {
        match self {
            SigningKey::Ecdsa(_, SignatureScheme::EcdsaSecp384r1Sha384) => "ECDSA P-384",
            SigningKey::Ecdsa(..) => "ECDSA P-256",
            SigningKey::Rsa(_) => "RSA",
        }
    }

    pub(super) fn is_ecdsa(&self) -> bool {
        matches!(self, SigningKey::Ecdsa(..))
    }

    /// The schemes this key signs with, in our order of preference (RSA:
    /// PSS first, as OpenSSL).
    pub(super) fn schemes(&self) -> &'static [SignatureScheme] {
        use SignatureScheme as S;
        match self {
            SigningKey::Ecdsa(_, S::EcdsaSecp384r1Sha384) => &[S::EcdsaSecp384r1Sha384],
            SigningKey::Ecdsa(..) => &[S::EcdsaSecp256r1Sha256],
            SigningKey::Rsa(_) => &[
                S::RsaPssRsaeSha256,
                S::RsaPssRsaeSha384,
                S::RsaPssRsaeSha512,
                S::RsaPkcs1Sha256,
                S::RsaPkcs1Sha384,
                S::RsaPkcs1Sha512,
            ],
        }
    }

    /// The first scheme, in our order of preference, that this key signs
    /// with and the peer offered.
    pub(super) fn choose(&self, offered: &[SignatureScheme]) -> Option<SignatureScheme> {
        self.schemes().iter().copied().find(|s| offered.contains(s))
    }

    pub(super) fn sign(&self, scheme: SignatureScheme, msg: &[u8]) -> Result<Vec<u8>, A> {
        use SignatureScheme as S;
        match self {
            SigningKey::Ecdsa(k, s) if *s == scheme => k
                .sign(rng(), msg)
                .map(|sig| sig.as_ref().to_vec())
                .map_err(|_| A::InternalError),
            SigningKey::Rsa(k) => {
                let pad: &'static dyn rsig::RsaEncoding = match scheme {
                    S::RsaPkcs1Sha256 => &rsig::RSA_PKCS1_SHA256,
                    S::RsaPkcs1Sha384 => &rsig::RSA_PKCS1_SHA384,
                    S::RsaPkcs1Sha512 => &rsig::RSA_PKCS1_SHA512,
                    S::RsaPssRsaeSha256 => &rsig::RSA_PSS_SHA256,
                    S::RsaPssRsaeSha384 => &rsig::RSA_PSS_SHA384,
                    S::RsaPssRsaeSha512 => &rsig::RSA_PSS_SHA512,
                    _ => return Err(A::InternalError),
                };
                let mut sig = vec![0u8; k.public().modulus_len()];
                k.sign(pad, rng(), msg, &mut sig)
                    .map_err(|_| A::InternalError)?;
                Ok(sig)
            }
            SigningKey::Ecdsa(..) => Err(A::InternalError),
        }
    }
}

/// Checks a handshake signature (ServerKeyExchange, CertificateVerify)
/// with the end-entity certificate's key: a certificate webpki cannot read
/// is bad_certificate; a scheme that does not fit the key is
/// illegal_parameter ("wrong signature type"); a wrong signature is
/// decrypt_error, as in OpenSSL.
pub(super) fn verify_signature(
    cert: &[u8],
    scheme: SignatureScheme,
    msg: &[u8],
    sig: &[u8],
) -> Result<(), A> {
    let der = CertificateDer::from(cert);
    let ee = webpki::EndEntityCert::try_from(&der).map_err(|_| A::BadCertificate)?;
    let mut bad_signature = false;
    for alg in scheme.verifiers() {
        let alg: &dyn pki_types::SignatureVerificationAlgorithm = alg;
        match ee.verify_signature(alg, msg, sig) {
            Ok(()) => return Ok(()),
            Err(webpki::Error::InvalidSignatureForPublicKey) => bad_signature = true,
            Err(_) => {}
        }
    }
    Err(if bad_signature {
        A::DecryptError
    } else {
        A::IllegalParameter
    })
}

/// OpenSSL's alert for a certificate that does not verify
/// (`ssl_x509err2alert`, roughly).
fn chain_alert(e: &webpki::Error) -> A {
    use webpki::Error as E;
    match e {
        E::UnknownIssuer => A::UnknownCa,
        E::CertExpired { .. } | E::CertNotValidYet { .. } => A::CertificateExpired,
        E::BadDer | E::BadDerTime => A::BadCertificate,
        E::CertRevoked => A::CertificateRevoked,
        _ => A::CertificateUnknown,
    }
}

/// The server's chain, for a client.
pub(super) fn verify_server_chain(
    how: &ServerCertVerification,
    chain: &[Vec<u8>],
    name: &str,
) -> Result<(), A> {
    let Some((ee, rest)) = chain.split_first() else {
        return Err(A::DecodeError);
    };
    let der = CertificateDer::from(ee.as_slice());
    let cert = webpki::EndEntityCert::try_from(&der).map_err(|_| A::BadCertificate)?;
    let ServerCertVerification::Roots(roots) = how else {
        return Ok(());
    };
    path(roots, &cert, rest, webpki::KeyUsage::server_auth())?;
    let name = ServerName::try_from(name).map_err(|_| A::InternalError)?;
    cert.verify_is_valid_for_subject_name(&name)
        .map_err(|_| A::CertificateUnknown)
}

/// A client's chain, for a server.
pub(super) fn verify_client_chain(
    how: &ClientCertVerification,
    chain: &[Vec<u8>],
) -> Result<(), A> {
    let Some((ee, rest)) = chain.split_first() else {
        return Err(A::DecodeError);
    };
    let der = CertificateDer::from(ee.as_slice());
    let cert = webpki::EndEntityCert::try_from(&der).map_err(|_| A::BadCertificate)?;
    match how {
        ClientCertVerification::DangerousNone => Ok(()),
        ClientCertVerification::Roots(roots) => {
            path(roots, &cert, rest, webpki::KeyUsage::client_auth())
        }
    }
}

fn path(
    roots: &Roots,
    cert: &webpki::EndEntityCert<'_>,
    intermediates: &[Vec<u8>],
    usage: webpki::KeyUsage,
) -> Result<(), A> {
    let anchors: Vec<_> = roots
        .certs
        .iter()
        .filter_map(|c| webpki::anchor_from_trusted_cert(c).ok())
        .collect();
    let inter: Vec<CertificateDer<'_>> = intermediates
        .iter()
        .map(|c| CertificateDer::from(c.as_slice()))
        .collect();
    cert.verify_for_usage(
        CHAIN_ALGS,
        &anchors,
        &inter,
        UnixTime::now(),
        usage,
        None,
        None,
    )
    .map(|_| ())
    .map_err(|e| chain_alert(&e))
}

/// The handshake messages so far (headers included), hashed on demand with
/// the suite's hash once it is known.
#[derive(Default)]
pub(super) struct Transcript {
    bytes: Vec<u8>,
}

impl Transcript {
    pub(super) fn add(&mut self, typ: u8, body: &[u8]) {
        self.bytes.push(typ);
        let len = body.len() as u32;
        self.bytes.extend_from_slice(&len.to_be_bytes()[1..]);
        self.bytes.extend_from_slice(body);
    }

    pub(super) fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub(super) fn hash(&self, h: HashAlgorithm) -> Vec<u8> {
        match h {
            HashAlgorithm::Sha256 => Sha256::digest(&self.bytes).to_vec(),
            HashAlgorithm::Sha384 => Sha384::digest(&self.bytes).to_vec(),
        }
    }
}

/// RFC 7627 4: `master_secret = PRF(pre_master_secret, "extended master
/// secret", session_hash)[0..47]`.
pub(super) fn extended_master_secret(
    suite: CipherSuite,
    pms: &Secret,
    session_hash: &[u8],
) -> Secret {
    let mut ms = Zeroizing::new(vec![0u8; 48]);
    tls12_prf(
        suite.hash(),
        pms.as_bytes(),
        b"extended master secret",
        session_hash,
        &mut ms,
    );
    Secret::new(ms.to_vec())
}

/// RFC 5246 7.4.9: `verify_data = PRF(master_secret, finished_label,
/// Hash(handshake_messages))[0..11]`.
pub(super) fn verify_data(
    suite: CipherSuite,
    ms: &Secret,
    label: &[u8],
    t: &Transcript,
) -> [u8; 12] {
    let mut out = [0u8; 12];
    tls12_prf(
        suite.hash(),
        ms.as_bytes(),
        label,
        &t.hash(suite.hash()),
        &mut out,
    );
    out
}

/// Constant-time comparison of verify_data.
pub(super) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The signature algorithm a suite's certificate signs with.
pub(super) fn suite_is_ecdsa(suite: CipherSuite) -> bool {
    suite.name().contains("_ECDSA_")
}

/// The type of a certificate's public key, and an EC key's curve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum KeyKind {
    /// id-ecPublicKey on this curve (`None`: a curve we do not name).
    Ec(Option<NamedGroup>),
    /// rsaEncryption.
    Rsa,
}

impl KeyKind {
    pub(super) fn is_ec(self) -> bool {
        matches!(self, KeyKind::Ec(_))
    }
}

/// One DER element: (tag, contents, rest).
fn der(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, b) = b.split_first()?;
    let (&first, b) = b.split_first()?;
    let (len, b) = match first {
        n if n < 0x80 => (usize::from(n), b),
        0x81 => (usize::from(*b.first()?), b.get(1..)?),
        0x82 => (
            usize::from(u16::from_be_bytes([*b.first()?, *b.get(1)?])),
            b.get(2..)?,
        ),
        0x83 => (
            usize::from(*b.first()?) << 16 | usize::from(*b.get(1)?) << 8 | usize::from(*b.get(2)?),
            b.get(3..)?,
        ),
        _ => return None,
    };
    (b.len() >= len).then(|| (tag, &b[..len], &b[len..]))
}

const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const OID_RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const OID_P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];

/// The key type of a certificate (its SubjectPublicKeyInfo algorithm), as
/// OpenSSL's `ssl_cert_lookup_by_pkey` needs it; `None` for any other key
/// type or a certificate that does not parse that far.
pub(super) fn key_kind(cert: &[u8]) -> Option<KeyKind> {
    let (_, cert, _) = der(cert)?;
    let (_, tbs, _) = der(cert)?;
    let mut r = tbs;
    let (tag, _, rest) = der(r)?;
    if tag == 0xa0 {
        r = rest; // version
    }
    // serial, signature, issuer, validity, subject
    for _ in 0..5 {
        r = der(r)?.2;
    }
    let (_, spki, _) = der(r)?;
    let (_, alg, _) = der(spki)?;
    let (tag, oid, params) = der(alg)?;
    if tag != 6 {
        return None;
    }
    if oid == OID_RSA_ENCRYPTION {
        return Some(KeyKind::Rsa);
    }
    if oid != OID_EC_PUBLIC_KEY {
        return None;
    }
    let curve = match der(params) {
        Some((6, c, _)) if c == OID_P256 => Some(NamedGroup::Secp256r1),
        Some((6, c, _)) if c == OID_P384 => Some(NamedGroup::Secp384r1),
        _ => None,
    };
    Some(KeyKind::Ec(curve))
}

/// An EC certificate key's curve is in `groups` and in `peer_groups` (a
/// ClientHello's list; `None`: it sent none).
pub(super) fn curve_usable(
    curve: NamedGroup,
    groups: &[NamedGroup],
    peer_groups: Option<&[NamedGroup]>,
) -> bool {
    groups.contains(&curve) && peer_groups.is_none_or(|p| p.contains(&curve))
}

/// A peer's TLS 1.2 signature scheme checked as OpenSSL 3.0's
/// `tls12_check_peer_sigalg` checks it against the peer's key: a scheme
/// OpenSSL does not know, or one for another key type, is illegal_parameter
/// ("wrong signature type"); an EC key on a curve not in `groups` is
/// illegal_parameter ("wrong curve"); a scheme for the key that we did not
/// offer is handshake_failure ("wrong signature type": OpenSSL's SHA-1
/// fallback fails its security level).
pub(super) fn check_peer_scheme(
    code: u16,
    key: KeyKind,
    groups: &[NamedGroup],
    peer_groups: Option<&[NamedGroup]>,
    offered: &[SignatureScheme],
) -> Result<SignatureScheme, A> {
    // OpenSSL's sigalg_lookup_tbl entries usable with each key type
    // (ECDSA with SHA-2 / SHA-224 / SHA-1; RSA PKCS#1 and RSA-PSS with an
    // rsaEncryption key).
    let fits = match key {
        KeyKind::Ec(_) => matches!(code, 0x0403 | 0x0503 | 0x0603 | 0x0303 | 0x0203),
        KeyKind::Rsa => matches!(
            code,
            0x0401 | 0x0501 | 0x0601 | 0x0301 | 0x0201 | 0x0804 | 0x0805 | 0x0806
        ),
    };
    if !fits {
        return Err(A::IllegalParameter);
    }
    if let KeyKind::Ec(curve) = key {
        // tls1_check_group_id(s, curve, 1): ours, and a server also checks
        // the client's list (if it sent one).
        if !curve.is_some_and(|c| curve_usable(c, groups, peer_groups)) {
            return Err(A::IllegalParameter);
        }
    }
    SignatureScheme::from_code(code)
        .filter(|s| offered.contains(s))
        .ok_or(A::HandshakeFailure)
}

/// The subject public key (the BIT STRING's bits) of a DER
/// `SubjectPublicKeyInfo`: `SEQUENCE { AlgorithmIdentifier, BIT STRING }`.
pub(super) fn spki_key_bits(spki: &[u8]) -> Option<&[u8]> {
    let (0x30, body, _) = der(spki)? else {
        return None;
    };
    let (0x30, _alg, rest) = der(body)? else {
        return None;
    };
    let (0x03, bits, _) = der(rest)? else {
        return None;
    };
    match bits.split_first()? {
        (0, key) => Some(key),
        _ => None,
    }
}
