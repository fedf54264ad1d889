//! Key schedule pieces the record layer needs: HKDF (RFC 5869),
//! HKDF-Expand-Label (RFC 8446 7.1), traffic keys (RFC 8446 7.3), the
//! KeyUpdate next-generation secret (RFC 8446 7.2) and the TLS 1.2 PRF and
//! key block (RFC 5246 5, 6.3).
//!
//! Secrets and keys are zeroized when dropped and never printed by `Debug`.

use core::fmt;

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Sha256, Sha384};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::cipher::{CipherSuite, HashAlgorithm};
use crate::error::Error;
use crate::record::Version;

/// Secret bytes (a traffic secret, a master secret, a key): wiped on drop,
/// redacted in `Debug`.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// Wraps bytes as a secret.
    #[must_use]
    pub fn new(bytes: Vec<u8>) -> Self {
        Secret(bytes)
    }

    /// The secret bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Length in bytes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<&[u8]> for Secret {
    fn from(b: &[u8]) -> Self {
        Secret(b.to_vec())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({} bytes, redacted)", self.0.len())
    }
}

fn hmac_parts(hash: HashAlgorithm, key: &[u8], parts: &[&[u8]], out: &mut [u8]) {
    macro_rules! run {
        ($h:ty) => {{
            let mut m =
                <Hmac<$h> as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
            for p in parts {
                m.update(p);
            }
            let tag = m.finalize().into_bytes();
            out.copy_from_slice(&tag[..out.len()]);
        }};
    }
    match hash {
        HashAlgorithm::Sha256 => run!(Sha256),
        HashAlgorithm::Sha384 => run!(Sha384),
    }
}

/// HKDF-Extract (RFC 5869 2.2). An empty salt means HashLen zero bytes.
#[must_use]
pub fn hkdf_extract(hash: HashAlgorithm, salt: &[u8], ikm: &[u8]) -> Secret {
    let zeros = [0u8; 48];
    let salt = if salt.is_empty() {
        &zeros[..hash.output_len()]
    } else {
        salt
    };
    let mut out = vec![0u8; hash.output_len()];
    hmac_parts(hash, salt, &[ikm], &mut out);
    Secret(out)
}

/// HKDF-Expand (RFC 5869 2.3) into `out`.
///
/// # Errors
/// [`Error::BadInput`] if `out` is longer than 255 * HashLen ("L <= 255*HashLen").
pub fn hkdf_expand(
    hash: HashAlgorithm,
    prk: &[u8],
    info: &[&[u8]],
    out: &mut [u8],
) -> Result<(), Error> {
    let hl = hash.output_len();
    if out.len() > 255 * hl {
        return Err(Error::BadInput("HKDF output longer than 255 * HashLen"));
    }
    let mut t = Zeroizing::new([0u8; 48]);
    let mut t_len = 0;
    for (i, chunk) in out.chunks_mut(hl).enumerate() {
        let counter = [(i + 1) as u8];
        let mut parts: Vec<&[u8]> = Vec::with_capacity(info.len() + 2);
        parts.push(&t[..t_len]);
        parts.extend_from_slice(info);
        parts.push(&counter);
        let mut block = Zeroizing::new([0u8; 48]);
        hmac_parts(hash, prk, &parts, &mut block[..hl]);
        chunk.copy_from_slice(&block[..chunk.len()]);
        t[..hl].copy_from_slice(&block[..hl]);
        t_len = hl;
    }
    Ok(())
}

/// HKDF-Expand-Label (RFC 8446 7.1):
///
/// ```text
/// struct { uint16 length = Length; opaque label<7..255> = "tls13 " + Label;
///          opaque context<0..255> = Context; } HkdfLabel;
/// ```
///
/// # Errors
/// [`Error::BadInput`] when the label or context is too long for its length byte.
pub fn hkdf_expand_label(
    hash: HashAlgorithm,
    secret: &[u8],
    label: &[u8],
    context: &[u8],
    out: &mut [u8],
) -> Result<(), Error> {
    const PREFIX: &[u8] = b"tls13 ";
    let label_len = PREFIX.len() + label.len();
    if label_len > 255 || context.len() > 255 || out.len() > usize::from(u16::MAX) {
        return Err(Error::BadInput("HKDF label, context or length too long"));
    }
    let length = (out.len() as u16).to_be_bytes();
    let ll = [label_len as u8];
    let cl = [context.len() as u8];
    hkdf_expand(
        hash,
        secret,
        &[&length, &ll, PREFIX, label, &cl, context],
        out,
    )
}

/// The next-generation traffic secret after a KeyUpdate (RFC 8446 7.2):
/// `HKDF-Expand-Label(application_traffic_secret_N, "traffic upd", "", Hash.length)`.
///
/// # Errors
/// [`Error::BadInput`] if `secret` is not `Hash.length` bytes.
pub fn next_traffic_secret(hash: HashAlgorithm, secret: &Secret) -> Result<Secret, Error> {
    if secret.len() != hash.output_len() {
        return Err(Error::BadInput(
            "traffic secret length does not match the suite's hash",
        ));
    }
    let mut out = vec![0u8; hash.output_len()];
    hkdf_expand_label(hash, secret.as_bytes(), b"traffic upd", &[], &mut out)?;
    Ok(Secret(out))
}

/// A direction's record protection keys: suite, AEAD key and IV.
///
/// For TLS 1.2 AES-GCM the IV is the 4-byte implicit salt; otherwise 12 bytes.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct RecordKeys {
    #[zeroize(skip)]
    suite: CipherSuite,
    key: Vec<u8>,
    iv: Vec<u8>,
}

impl fmt::Debug for RecordKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordKeys")
            .field("suite", &self.suite)
            .field("key", &"redacted")
            .field("iv", &"redacted")
            .finish()
    }
}

impl RecordKeys {
    /// Keys from raw bytes, checked against the suite's lengths.
    ///
    /// # Errors
    /// [`Error::BadInput`] when a length is wrong.
    pub fn new(suite: CipherSuite, key: &[u8], iv: &[u8]) -> Result<Self, Error> {
        let aead = suite.aead();
        if key.len() != aead.key_len() {
            return Err(Error::BadInput(
                "key length does not match the cipher suite",
            ));
        }
        if iv.len() != aead.fixed_iv_len(suite.version()) {
            return Err(Error::BadInput("IV length does not match the cipher suite"));
        }
        Ok(RecordKeys {
            suite,
            key: key.to_vec(),
            iv: iv.to_vec(),
        })
    }

    /// TLS 1.3 traffic keys (RFC 8446 7.3):
    /// `key = HKDF-Expand-Label(Secret, "key", "", key_length)`,
    /// `iv = HKDF-Expand-Label(Secret, "iv", "", iv_length)`.
    ///
    /// # Errors
    /// [`Error::BadInput`] for a TLS 1.2 suite or a secret of the wrong length.
    pub fn from_traffic_secret(suite: CipherSuite, secret: &Secret) -> Result<Self, Error> {
        if suite.version() != Version::Tls13 {
            return Err(Error::BadInput("traffic secrets are for TLS 1.3 suites"));
        }
        if secret.len() != suite.hash().output_len() {
            return Err(Error::BadInput(
                "traffic secret length does not match the suite's hash",
            ));
        }
        let mut key = vec![0u8; suite.aead().key_len()];
        let mut iv = vec![0u8; 12];
        hkdf_expand_label(suite.hash(), secret.as_bytes(), b"key", &[], &mut key)?;
        hkdf_expand_label(suite.hash(), secret.as_bytes(), b"iv", &[], &mut iv)?;
        Ok(RecordKeys { suite, key, iv })
    }

    /// The suite.
    #[must_use]
    pub fn suite(&self) -> CipherSuite {
        self.suite
    }

    /// The AEAD key.
    #[must_use]
    pub fn key(&self) -> &[u8] {
        &self.key
    }

    /// The IV (TLS 1.2 AES-GCM: the 4-byte salt).
    #[must_use]
    pub fn iv(&self) -> &[u8] {
        &self.iv
    }
}

/// TLS 1.2 PRF (RFC 5246 5): `PRF(secret, label, seed) = P_hash(secret, label + seed)`,
/// with `P_hash` the suite's hash (SHA-256 unless the suite says SHA-384).
pub fn tls12_prf(hash: HashAlgorithm, secret: &[u8], label: &[u8], seed: &[u8], out: &mut [u8]) {
    let hl = hash.output_len();
    // A(1) = HMAC(secret, label + seed)
    let mut a = Zeroizing::new([0u8; 48]);
    hmac_parts(hash, secret, &[label, seed], &mut a[..hl]);
    for chunk in out.chunks_mut(hl) {
        let mut block = Zeroizing::new([0u8; 48]);
        hmac_parts(hash, secret, &[&a[..hl], label, seed], &mut block[..hl]);
        chunk.copy_from_slice(&block[..chunk.len()]);
        let mut next = Zeroizing::new([0u8; 48]);
        hmac_parts(hash, secret, &[&a[..hl]], &mut next[..hl]);
        a[..hl].copy_from_slice(&next[..hl]);
    }
}

/// The TLS 1.2 key block of an AEAD suite (RFC 5246 6.3, no MAC keys):
/// `key_block = PRF(master_secret, "key expansion", server_random + client_random)`,
/// split as client_write_key, server_write_key, client_write_IV, server_write_IV.
///
/// Returns `(client_write, server_write)`.
///
/// # Errors
/// [`Error::BadInput`] for a TLS 1.3 suite or a master secret that is not 48 bytes.
pub fn tls12_key_block(
    suite: CipherSuite,
    master_secret: &Secret,
    client_random: &[u8; 32],
    server_random: &[u8; 32],
) -> Result<(RecordKeys, RecordKeys), Error> {
    if suite.version() != Version::Tls12 {
        return Err(Error::BadInput(
            "the TLS 1.2 key block needs a TLS 1.2 suite",
        ));
    }
    if master_secret.len() != 48 {
        return Err(Error::BadInput("a TLS 1.2 master secret is 48 bytes"));
    }
    let aead = suite.aead();
    let kl = aead.key_len();
    let il = aead.fixed_iv_len(Version::Tls12);
    let mut block = Zeroizing::new(vec![0u8; 2 * (kl + il)]);
    let mut seed = [0u8; 64];
    seed[..32].copy_from_slice(server_random);
    seed[32..].copy_from_slice(client_random);
    tls12_prf(
        suite.hash(),
        master_secret.as_bytes(),
        b"key expansion",
        &seed,
        &mut block,
    );
    let (ck, rest) = block.split_at(kl);
    let (sk, rest) = rest.split_at(kl);
    let (civ, siv) = rest.split_at(il);
    Ok((
        RecordKeys::new(suite, ck, civ)?,
        RecordKeys::new(suite, sk, siv)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_prints_secret_bytes() {
        let s = Secret::new(vec![0xab; 32]);
        let d = format!("{s:?}");
        assert!(!d.contains("ab") && !d.contains("171"), "{d}");
        let k = RecordKeys::new(
            CipherSuite::TLS13_AES_128_GCM_SHA256,
            &[0xcd; 16],
            &[0xef; 12],
        )
        .unwrap();
        let d = format!("{k:?}");
        assert!(
            !d.contains("cd") && !d.contains("205") && !d.contains("239"),
            "{d}"
        );
    }

    #[test]
    fn lengths_are_checked() {
        assert!(
            RecordKeys::new(CipherSuite::TLS13_AES_128_GCM_SHA256, &[0; 32], &[0; 12]).is_err()
        );
        assert!(RecordKeys::new(
            CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
            &[0; 16],
            &[0; 12]
        )
        .is_err());
        assert!(RecordKeys::new(
            CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
            &[0; 16],
            &[0; 4]
        )
        .is_ok());
        let mut out = vec![0u8; 255 * 32 + 1];
        assert!(hkdf_expand(HashAlgorithm::Sha256, &[0; 32], &[], &mut out).is_err());
        assert!(next_traffic_secret(HashAlgorithm::Sha384, &Secret::new(vec![0; 32])).is_err());
    }
}
