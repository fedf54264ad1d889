//! The AEAD primitives behind record protection (RustCrypto `aes-gcm`,
//! `chacha20poly1305`), used in place.

use aes_gcm::aead::AeadInOut;
use aes_gcm::{Aes128Gcm, Aes256Gcm, KeyInit};
use chacha20poly1305::ChaCha20Poly1305;

use super::AeadAlgorithm;
use crate::record::TAG_LEN;

/// A keyed AEAD cipher (key schedule computed once per key).
#[derive(Clone)]
pub enum AeadCipher {
    /// AES-128-GCM.
    Aes128Gcm(Box<Aes128Gcm>),
    /// AES-256-GCM.
    Aes256Gcm(Box<Aes256Gcm>),
    /// ChaCha20-Poly1305.
    ChaCha20Poly1305(Box<ChaCha20Poly1305>),
}

impl core::fmt::Debug for AeadCipher {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            AeadCipher::Aes128Gcm(_) => "AeadCipher(AES-128-GCM)",
            AeadCipher::Aes256Gcm(_) => "AeadCipher(AES-256-GCM)",
            AeadCipher::ChaCha20Poly1305(_) => "AeadCipher(ChaCha20-Poly1305)",
        })
    }
}

/// The AEAD failed to authenticate (bad tag, truncated input).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthError;

impl AeadCipher {
    /// Keys the algorithm; `None` if the key length is wrong.
    #[must_use]
    pub fn new(alg: AeadAlgorithm, key: &[u8]) -> Option<Self> {
        Some(match alg {
            AeadAlgorithm::Aes128Gcm => {
                AeadCipher::Aes128Gcm(Box::new(Aes128Gcm::new_from_slice(key).ok()?))
            }
            AeadAlgorithm::Aes256Gcm => {
                AeadCipher::Aes256Gcm(Box::new(Aes256Gcm::new_from_slice(key).ok()?))
            }
            AeadAlgorithm::ChaCha20Poly1305 => {
                AeadCipher::ChaCha20Poly1305(Box::new(ChaCha20Poly1305::new_from_slice(key).ok()?))
            }
        })
    }

    /// Encrypts `buf` in place and returns the tag.
    #[must_use]
    pub fn seal_in_place(&self, nonce: &[u8; 12], aad: &[u8], buf: &mut [u8]) -> [u8; TAG_LEN] {
        let n = (*nonce).into();
        let tag = match self {
            AeadCipher::Aes128Gcm(c) => c.encrypt_inout_detached(&n, aad, buf.into()),
            AeadCipher::Aes256Gcm(c) => c.encrypt_inout_detached(&n, aad, buf.into()),
            AeadCipher::ChaCha20Poly1305(c) => c.encrypt_inout_detached(&n, aad, buf.into()),
        }
        .expect("record-sized inputs are far below the AEAD limits");
        tag.into()
    }

    /// Verifies `tag` over `buf` and, only if it is valid, decrypts `buf` in
    /// place. On failure `buf` is left as it was.
    ///
    /// # Errors
    /// [`AuthError`] if the tag does not verify.
    pub fn open_in_place(
        &self,
        nonce: &[u8; 12],
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8; TAG_LEN],
    ) -> Result<(), AuthError> {
        let n = (*nonce).into();
        let t = (*tag).into();
        match self {
            AeadCipher::Aes128Gcm(c) => c.decrypt_inout_detached(&n, aad, buf.into(), &t),
            AeadCipher::Aes256Gcm(c) => c.decrypt_inout_detached(&n, aad, buf.into(), &t),
            AeadCipher::ChaCha20Poly1305(c) => c.decrypt_inout_detached(&n, aad, buf.into(), &t),
        }
        .map_err(|_| AuthError)
    }
}
