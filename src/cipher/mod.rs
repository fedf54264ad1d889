//! Record protection: AEAD sealing and opening for TLS 1.2 and TLS 1.3, one
//! state per direction with its own sequence number.
//!
//! | version | nonce | additional data | body |
//! |---|---|---|---|
//! | TLS 1.3 (RFC 8446 5.2, 5.3) | `iv XOR seq` | the record header | `AEAD(content ‖ type ‖ zeros)` |
//! | TLS 1.2 AES-GCM (RFC 5288 3) | `salt(4) ‖ explicit(8)` | `seq ‖ type ‖ version ‖ length` | `explicit ‖ AEAD(content)` |
//! | TLS 1.2 ChaCha20 (RFC 7905 2) | `iv XOR seq` | `seq ‖ type ‖ version ‖ length` | `AEAD(content)` |
//!
//! Decryption happens in place in the receive buffer, and only after the tag
//! has verified (the AEAD crates compute the tag over the ciphertext first);
//! on failure the buffer keeps its ciphertext and nothing is handed out.

mod aead;
mod direction;
mod suite;

pub use aead::{AeadCipher, AuthError, Calibration, Provider, PROVIDER_ENV};
pub use direction::{CipherRefusals, Opener, Sealer, SEQ_LIMIT};
pub use suite::{AeadAlgorithm, CipherSuite, HashAlgorithm};
