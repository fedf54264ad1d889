//! The raw AEAD: the providers' crates called directly on the bytes a
//! record has, with no record layer (the limit every ratio is measured
//! against).

use super::*;

enum Raw {
    Aes128(Box<aes_gcm::Aes128Gcm>),
    Aes256(Box<aes_gcm::Aes256Gcm>),
    ChaCha(Box<chacha20poly1305::ChaCha20Poly1305>),
    #[cfg(feature = "aws-lc")]
    AwsLc(Box<aws_lc_rs::aead::LessSafeKey>),
    #[cfg(feature = "ring")]
    Ring(Box<ring::aead::LessSafeKey>),
}

impl Raw {
    fn new(p: Provider, suite: CipherSuite) -> Raw {
        use aes_gcm::KeyInit;
        use tlsrec::AeadAlgorithm as A;
        let alg = suite.aead();
        let key = vec![0x42; alg.key_len()];
        match p {
            Provider::RustCrypto => match alg {
                A::Aes128Gcm => {
                    Raw::Aes128(Box::new(aes_gcm::Aes128Gcm::new_from_slice(&key).unwrap()))
                }
                A::Aes256Gcm => {
                    Raw::Aes256(Box::new(aes_gcm::Aes256Gcm::new_from_slice(&key).unwrap()))
                }
                A::ChaCha20Poly1305 => Raw::ChaCha(Box::new(
                    chacha20poly1305::ChaCha20Poly1305::new_from_slice(&key).unwrap(),
                )),
            },
            #[cfg(feature = "aws-lc")]
            Provider::AwsLc => {
                use aws_lc_rs::aead as a;
                let algo = match alg {
                    A::Aes128Gcm => &a::AES_128_GCM,
                    A::Aes256Gcm => &a::AES_256_GCM,
                    A::ChaCha20Poly1305 => &a::CHACHA20_POLY1305,
                };
                Raw::AwsLc(Box::new(a::LessSafeKey::new(
                    a::UnboundKey::new(algo, &key).unwrap(),
                )))
            }
            #[cfg(feature = "ring")]
            Provider::Ring => {
                use ring::aead as a;
                let algo = match alg {
                    A::Aes128Gcm => &a::AES_128_GCM,
                    A::Aes256Gcm => &a::AES_256_GCM,
                    A::ChaCha20Poly1305 => &a::CHACHA20_POLY1305,
                };
                Raw::Ring(Box::new(a::LessSafeKey::new(
                    a::UnboundKey::new(algo, &key).unwrap(),
                )))
            }
            // The library has a provider this crate was built without (its
            // feature of the same name adds the raw AEAD).
            other => panic!(
                "{}: build tlsrec-cli with the provider's feature",
                other.name()
            ),
        }
    }

    fn seal(&self, nonce: [u8; 12], aad: &[u8], buf: &mut [u8]) -> [u8; 16] {
        use aes_gcm::aead::AeadInOut;
        let n = nonce.into();
        match self {
            Raw::Aes128(c) => c
                .encrypt_inout_detached(&n, aad, buf.into())
                .unwrap()
                .into(),
            Raw::Aes256(c) => c
                .encrypt_inout_detached(&n, aad, buf.into())
                .unwrap()
                .into(),
            Raw::ChaCha(c) => c
                .encrypt_inout_detached(&n, aad, buf.into())
                .unwrap()
                .into(),
            #[cfg(feature = "aws-lc")]
            Raw::AwsLc(k) => {
                use aws_lc_rs::aead::{Aad, Nonce};
                let t = k
                    .seal_in_place_separate_tag(
                        Nonce::assume_unique_for_key(nonce),
                        Aad::from(aad),
                        buf,
                    )
                    .unwrap();
                t.as_ref().try_into().unwrap()
            }
            #[cfg(feature = "ring")]
            Raw::Ring(k) => {
                use ring::aead::{Aad, Nonce};
                let t = k
                    .seal_in_place_separate_tag(
                        Nonce::assume_unique_for_key(nonce),
                        Aad::from(aad),
                        buf,
                    )
                    .unwrap();
                t.as_ref().try_into().unwrap()
            }
        }
    }

    fn open(&self, nonce: [u8; 12], aad: &[u8], buf: &mut [u8], tag: [u8; 16]) {
        use aes_gcm::aead::AeadInOut;
        let n = nonce.into();
        let t = tag.into();
        match self {
            Raw::Aes128(c) => c.decrypt_inout_detached(&n, aad, buf.into(), &t).unwrap(),
            Raw::Aes256(c) => c.decrypt_inout_detached(&n, aad, buf.into(), &t).unwrap(),
            Raw::ChaCha(c) => c.decrypt_inout_detached(&n, aad, buf.into(), &t).unwrap(),
            #[cfg(feature = "aws-lc")]
            Raw::AwsLc(k) => {
                use aws_lc_rs::aead::{Aad, Nonce};
                k.open_in_place_separate_tag(
                    Nonce::assume_unique_for_key(nonce),
                    Aad::from(aad),
                    &tag,
                    buf,
                )
                .unwrap();
            }
            #[cfg(feature = "ring")]
            Raw::Ring(k) => {
                use ring::aead::{Aad, Nonce, Tag};
                k.open_in_place_separate_tag(
                    Nonce::assume_unique_for_key(nonce),
                    Aad::from(aad),
                    Tag::from(tag),
                    buf,
                    0..,
                )
                .unwrap();
            }
        }
    }
}

/// What the raw AEAD does per record: seal, open, or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RawOp {
    Seal,
    /// Copy the ciphertext into the work buffer (as a receive buffer
    /// would), then authenticate and decrypt it in place.
    Open,
    SealOpen,
    /// `SealOpen` with the copies the SSL-shaped calls cannot avoid: the
    /// plaintext copied from the caller's bytes into the record's place
    /// (`write(&[u8])`) before the seal, and out into the caller's 16 KiB
    /// buffer after the open (`read(&mut [u8])`).
    SealOpenCopied,
    /// `SealOpen` with what the zero-copy write cannot avoid: the record's
    /// room zeroed before the plaintext goes in (`write_with` hands out
    /// initialised memory) and the 8-byte stamp `bulk-zc-N` writes.
    SealOpenZeroed,
}

struct RawWork {
    raw: Raw,
    op: RawOp,
    len: usize,
    records: usize,
    buf: Vec<u8>,
    ct: Placed,
    tag: [u8; 16],
    /// The caller's plaintext (`SealOpenCopied`).
    src: Placed,
    /// The caller's read buffer (`SealOpenCopied`).
    out: Vec<u8>,
    /// TLS 1.3: the inner content type byte follows the plaintext.
    type_byte: bool,
}

impl Workload for RawWork {
    fn bytes(&self) -> u64 {
        (self.len * self.records) as u64
    }

    fn run(&mut self) {
        let aad = [23u8, 3, 3, 0x40, 0x11];
        for i in 0..self.records {
            let nonce = nonce(i as u64);
            match self.op {
                RawOp::Seal => {
                    let t = self.raw.seal(nonce, &aad, &mut self.buf);
                    std::hint::black_box(t);
                }
                RawOp::Open => {
                    self.buf.copy_from_slice(self.ct.get());
                    self.raw.open(self::nonce(0), &aad, &mut self.buf, self.tag);
                }
                RawOp::SealOpen => {
                    let t = self.raw.seal(nonce, &aad, &mut self.buf);
                    self.raw.open(nonce, &aad, &mut self.buf, t);
                }
                RawOp::SealOpenCopied => {
                    let len = self.len;
                    self.buf[..len].copy_from_slice(self.src.get());
                    if self.type_byte {
                        self.buf[len] = 23;
                    }
                    let t = self.raw.seal(nonce, &aad, &mut self.buf);
                    self.raw.open(nonce, &aad, &mut self.buf, t);
                    self.out[..len].copy_from_slice(&self.buf[..len]);
                    std::hint::black_box(&self.out);
                }
                RawOp::SealOpenZeroed => {
                    let len = self.len;
                    self.buf[..len].fill(0);
                    let k = len.min(8);
                    self.buf[..k].copy_from_slice(&(i as u64).to_le_bytes()[..k]);
                    if self.type_byte {
                        self.buf[len] = 23;
                    }
                    let t = self.raw.seal(nonce, &aad, &mut self.buf);
                    self.raw.open(nonce, &aad, &mut self.buf, t);
                }
            }
        }
        std::hint::black_box(&self.buf);
    }
}

pub(super) fn raw(
    p: Provider,
    suite: CipherSuite,
    op: RawOp,
    len: usize,
    records: usize,
) -> Box<dyn Workload> {
    let raw = Raw::new(p, suite);
    // The AEAD input of the record: TLS 1.3 protects the content type byte
    // with the plaintext (RFC 8446 5.2), so no record layer can do less.
    let aead_len = match suite.version() {
        Version::Tls13 => len + 1,
        Version::Tls12 => len,
    };
    let mut ct = data(aead_len);
    let aad = [23u8, 3, 3, 0x40, 0x11];
    let tag = raw.seal(nonce(0), &aad, &mut ct);
    let buf = data(aead_len);
    let ct = Placed::new(&ct, buf.as_ptr() as usize);
    // The caller's plaintext, placed as the ciphertext is (away from the
    // work buffer's 4 KiB alias); read into a 16 KiB buffer, as `bulk-N`.
    let src = Placed::new(&data(len), buf.as_ptr() as usize);
    Box::new(RawWork {
        raw,
        op,
        len,
        records,
        buf,
        ct,
        tag,
        src,
        out: vec![0; len.max(16384)],
        type_byte: suite.version() == Version::Tls13,
    })
}

pub(super) fn nonce(seq: u64) -> [u8; 12] {
    let mut n = [7u8; 12];
    n[4..].copy_from_slice(&seq.to_be_bytes());
    n
}
