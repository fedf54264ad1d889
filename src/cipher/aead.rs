//! The AEAD primitives behind record protection, used in place, from one of
//! several [`Provider`]s:
//!
//! | provider | cargo feature | crates |
//! |---|---|---|
//! | [`Provider::RustCrypto`] | (always) | `aes-gcm`, `chacha20poly1305` |
//! | [`Provider::Ring`] | `ring` (alias `fast`) | `ring` 0.17 (assembly AES-GCM and ChaCha20-Poly1305) |
//! | [`Provider::AwsLc`] | `aws-lc` | `aws-lc-rs` (AWS-LC) |
//!
//! The record layer ([`Opener`](super::Opener), [`Sealer`](super::Sealer))
//! is generic over the provider: each direction keys its cipher with the
//! provider it was given, [`Provider::default`] unless told otherwise. The
//! default is the fast provider when its feature is on (so that sessions,
//! transcripts and the differential tests run through it), else RustCrypto.
//! [`AeadCipher::new`] is always RustCrypto; [`AeadCipher::with_provider`]
//! picks one. Every provider passes the Wycheproof AEAD vectors (this
//! module's tests).

use aes_gcm::aead::inout::InOutBuf;
use aes_gcm::aead::AeadInOut;
use aes_gcm::{Aes128Gcm, Aes256Gcm, KeyInit};
use chacha20poly1305::ChaCha20Poly1305;

use super::AeadAlgorithm;
use crate::record::TAG_LEN;

const LIMIT: &str = "record-sized inputs are far below the AEAD limits";

/// An implementation of the three AEAD algorithms.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provider {
    /// The RustCrypto crates `aes-gcm` and `chacha20poly1305` (pure Rust,
    /// AES-NI / CLMUL detected at run time).
    RustCrypto,
    /// `aws-lc-rs` (feature `aws-lc`).
    #[cfg(feature = "aws-lc")]
    AwsLc,
    /// `ring` 0.17 (feature `ring`).
    #[cfg(feature = "ring")]
    Ring,
}

impl Provider {
    /// Every provider compiled in, the built-in default first.
    pub const ALL: &'static [Provider] = &[
        #[cfg(feature = "ring")]
        Provider::Ring,
        #[cfg(feature = "aws-lc")]
        Provider::AwsLc,
        Provider::RustCrypto,
    ];

    /// A short name: `rustcrypto`, `aws-lc-rs`, `ring`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Provider::RustCrypto => "rustcrypto",
            #[cfg(feature = "aws-lc")]
            Provider::AwsLc => "aws-lc-rs",
            #[cfg(feature = "ring")]
            Provider::Ring => "ring",
        }
    }

    /// The provider named `name` (as [`name`](Self::name) spells it), if
    /// compiled in.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Provider> {
        Provider::ALL
            .iter()
            .copied()
            .find(|p| p.name().eq_ignore_ascii_case(name))
    }

    /// True for the assembly-backed providers of the optional features.
    #[must_use]
    pub fn is_fast(self) -> bool {
        self != Provider::RustCrypto
    }
}

impl Default for Provider {
    /// The fastest compiled provider on this machine
    /// ([`Provider::calibration`]); RustCrypto when it is the only one. A
    /// session chooses another with
    /// [`Config::provider`](crate::Config::provider), an opener or sealer
    /// with `set_provider`.
    fn default() -> Self {
        Provider::calibration().chosen
    }
}

/// Which provider [`Provider::default`] is, and why: each compiled
/// provider's time to seal one 16 KiB AES-128-GCM record, measured once per
/// process (the best of a few runs, some microseconds in all), or the
/// provider named by the environment variable [`PROVIDER_ENV`].
#[derive(Debug, Clone)]
pub struct Calibration {
    /// The fastest, or the one [`PROVIDER_ENV`] names.
    pub chosen: Provider,
    /// Each provider with its best time in nanoseconds (empty when only one
    /// provider is compiled in, or when [`PROVIDER_ENV`] chose: nothing
    /// measured).
    pub timings: Vec<(Provider, u64)>,
    /// True when [`PROVIDER_ENV`] named a compiled provider and that one
    /// was chosen without measuring.
    pub pinned: bool,
}

/// `TLSREC_PROVIDER`: when set to the [name](Provider::name) of a compiled
/// provider (`rustcrypto`, `ring`, `aws-lc-rs`; `aws-lc` also works, as the
/// feature is spelt), [`Provider::default`] is that provider and nothing
/// is measured. For runs that must be repeatable across machines, and for
/// running the whole test suite once per provider (`.ci/run` does). A value
/// that is empty or names no compiled provider is ignored (the calibration
/// measures as usual); [`Provider::pinned_by_env`] tells which it was.
pub const PROVIDER_ENV: &str = "TLSREC_PROVIDER";

impl Provider {
    /// The measurement behind [`Provider::default`] (made at its first
    /// use): which compiled provider seals fastest on this CPU. Which one
    /// wins depends on the CPU (aws-lc-rs uses VAES / AVX-512 where it
    /// finds them, ring and RustCrypto AES-NI and CLMUL), so a fixed choice
    /// leaves speed unused on some machines.
    pub fn calibration() -> &'static Calibration {
        static CALIBRATION: std::sync::OnceLock<Calibration> = std::sync::OnceLock::new();
        CALIBRATION.get_or_init(|| {
            if let Some(p) = Provider::pinned_by_env() {
                return Calibration {
                    chosen: p,
                    timings: Vec::new(),
                    pinned: true,
                };
            }
            if Provider::ALL.len() == 1 {
                return Calibration {
                    chosen: Provider::ALL[0],
                    timings: Vec::new(),
                    pinned: false,
                };
            }
            let mut buf = vec![0x5au8; 16384];
            let nonce = [7u8; 12];
            let mut timings = Vec::new();
            for &p in Provider::ALL {
                let cipher = AeadCipher::with_provider(p, AeadAlgorithm::Aes128Gcm, &[9; 16])
                    .expect("a 16-byte key");
                let mut best = u64::MAX;
                for _ in 0..5 {
                    let t = std::time::Instant::now();
                    std::hint::black_box(cipher.seal_in_place(
                        &nonce,
                        &[23, 3, 3, 64, 17],
                        &mut buf,
                    ));
                    best = best.min(u64::try_from(t.elapsed().as_nanos()).unwrap_or(u64::MAX));
                }
                timings.push((p, best));
            }
            let chosen = timings
                .iter()
                .min_by_key(|(_, t)| *t)
                .map_or(Provider::ALL[0], |(p, _)| *p);
            Calibration {
                chosen,
                timings,
                pinned: false,
            }
        })
    }

    /// The compiled provider [`PROVIDER_ENV`] names, if it is set and names
    /// one (read each call; [`Provider::default`] reads it once, at its
    /// first use).
    #[must_use]
    pub fn pinned_by_env() -> Option<Provider> {
        let name = std::env::var(PROVIDER_ENV).ok()?;
        let name = name.trim();
        if name.eq_ignore_ascii_case("aws-lc") {
            return Provider::from_name("aws-lc-rs");
        }
        Provider::from_name(name)
    }
}

#[cfg(feature = "aws-lc")]
type AwsLcKey = std::sync::Arc<aws_lc_rs::aead::LessSafeKey>;
#[cfg(feature = "ring")]
type RingKey = std::sync::Arc<ring::aead::LessSafeKey>;

/// A keyed AEAD cipher (key schedule computed once per key).
#[non_exhaustive]
#[derive(Clone)]
pub enum AeadCipher {
    /// AES-128-GCM (RustCrypto).
    Aes128Gcm(Box<Aes128Gcm>),
    /// AES-256-GCM (RustCrypto).
    Aes256Gcm(Box<Aes256Gcm>),
    /// ChaCha20-Poly1305 (RustCrypto).
    ChaCha20Poly1305(Box<ChaCha20Poly1305>),
    /// Any of the three through `aws-lc-rs`.
    #[cfg(feature = "aws-lc")]
    AwsLc(AeadAlgorithm, AwsLcKey),
    /// Any of the three through `ring`.
    #[cfg(feature = "ring")]
    Ring(AeadAlgorithm, RingKey),
}

impl core::fmt::Debug for AeadCipher {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "AeadCipher({:?}, {})",
            self.algorithm(),
            self.provider().name()
        )
    }
}

/// The AEAD failed to authenticate (bad tag, truncated input).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthError;

impl AeadCipher {
    /// Keys the algorithm with [`Provider::RustCrypto`] (whose failed open
    /// leaves the buffer as it was); `None` if the key length is wrong.
    #[must_use]
    pub fn new(alg: AeadAlgorithm, key: &[u8]) -> Option<Self> {
        Self::with_provider(Provider::RustCrypto, alg, key)
    }

    /// Keys the algorithm with `provider`; `None` if the key length is wrong.
    #[must_use]
    pub fn with_provider(provider: Provider, alg: AeadAlgorithm, key: &[u8]) -> Option<Self> {
        if key.len() != alg.key_len() {
            return None;
        }
        Some(match provider {
            Provider::RustCrypto => match alg {
                AeadAlgorithm::Aes128Gcm => {
                    AeadCipher::Aes128Gcm(Box::new(Aes128Gcm::new_from_slice(key).ok()?))
                }
                AeadAlgorithm::Aes256Gcm => {
                    AeadCipher::Aes256Gcm(Box::new(Aes256Gcm::new_from_slice(key).ok()?))
                }
                AeadAlgorithm::ChaCha20Poly1305 => AeadCipher::ChaCha20Poly1305(Box::new(
                    ChaCha20Poly1305::new_from_slice(key).ok()?,
                )),
            },
            #[cfg(feature = "aws-lc")]
            Provider::AwsLc => {
                use aws_lc_rs::aead as a;
                let algo = match alg {
                    AeadAlgorithm::Aes128Gcm => &a::AES_128_GCM,
                    AeadAlgorithm::Aes256Gcm => &a::AES_256_GCM,
                    AeadAlgorithm::ChaCha20Poly1305 => &a::CHACHA20_POLY1305,
                };
                let k = a::LessSafeKey::new(a::UnboundKey::new(algo, key).ok()?);
                AeadCipher::AwsLc(alg, std::sync::Arc::new(k))
            }
            #[cfg(feature = "ring")]
            Provider::Ring => {
                use ring::aead as a;
                let algo = match alg {
                    AeadAlgorithm::Aes128Gcm => &a::AES_128_GCM,
                    AeadAlgorithm::Aes256Gcm => &a::AES_256_GCM,
                    AeadAlgorithm::ChaCha20Poly1305 => &a::CHACHA20_POLY1305,
                };
                let k = a::LessSafeKey::new(a::UnboundKey::new(algo, key).ok()?);
                AeadCipher::Ring(alg, std::sync::Arc::new(k))
            }
        })
    }

    /// The algorithm keyed.
    #[must_use]
    pub fn algorithm(&self) -> AeadAlgorithm {
        match self {
            AeadCipher::Aes128Gcm(_) => AeadAlgorithm::Aes128Gcm,
            AeadCipher::Aes256Gcm(_) => AeadAlgorithm::Aes256Gcm,
            AeadCipher::ChaCha20Poly1305(_) => AeadAlgorithm::ChaCha20Poly1305,
            #[cfg(feature = "aws-lc")]
            AeadCipher::AwsLc(alg, _) => *alg,
            #[cfg(feature = "ring")]
            AeadCipher::Ring(alg, _) => *alg,
        }
    }

    /// The provider that implements it.
    #[must_use]
    pub fn provider(&self) -> Provider {
        match self {
            AeadCipher::Aes128Gcm(_)
            | AeadCipher::Aes256Gcm(_)
            | AeadCipher::ChaCha20Poly1305(_) => Provider::RustCrypto,
            #[cfg(feature = "aws-lc")]
            AeadCipher::AwsLc(..) => Provider::AwsLc,
            #[cfg(feature = "ring")]
            AeadCipher::Ring(..) => Provider::Ring,
        }
    }

    /// Encrypts `buf` in place and returns the tag.
    #[must_use]
    pub fn seal_in_place(&self, nonce: &[u8; 12], aad: &[u8], buf: &mut [u8]) -> [u8; TAG_LEN] {
        match self {
            AeadCipher::Aes128Gcm(c) => rc_seal(&**c, nonce, aad, buf),
            AeadCipher::Aes256Gcm(c) => rc_seal(&**c, nonce, aad, buf),
            AeadCipher::ChaCha20Poly1305(c) => rc_seal(&**c, nonce, aad, buf),
            #[cfg(feature = "aws-lc")]
            AeadCipher::AwsLc(_, k) => {
                use aws_lc_rs::aead::{Aad, Nonce};
                let tag = k
                    .seal_in_place_separate_tag(
                        Nonce::assume_unique_for_key(*nonce),
                        Aad::from(aad),
                        buf,
                    )
                    .expect(LIMIT);
                tag.as_ref().try_into().expect("16-byte tag")
            }
            #[cfg(feature = "ring")]
            AeadCipher::Ring(_, k) => {
                use ring::aead::{Aad, Nonce};
                let tag = k
                    .seal_in_place_separate_tag(
                        Nonce::assume_unique_for_key(*nonce),
                        Aad::from(aad),
                        buf,
                    )
                    .expect(LIMIT);
                tag.as_ref().try_into().expect("16-byte tag")
            }
        }
    }

    /// Verifies `tag` over `buf` and, only if it is valid, decrypts `buf` in
    /// place. With RustCrypto `buf` is left as it was on failure; ring and
    /// aws-lc-rs decrypt while they authenticate and zero `buf` on failure
    /// (no plaintext is released either way; the record layer drops a
    /// record that failed to open).
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
        match self {
            AeadCipher::Aes128Gcm(c) => rc_open(&**c, nonce, aad, buf, tag),
            AeadCipher::Aes256Gcm(c) => rc_open(&**c, nonce, aad, buf, tag),
            AeadCipher::ChaCha20Poly1305(c) => rc_open(&**c, nonce, aad, buf, tag),
            #[cfg(feature = "aws-lc")]
            AeadCipher::AwsLc(_, k) => {
                use aws_lc_rs::aead::{Aad, Nonce};
                k.open_in_place_separate_tag(
                    Nonce::assume_unique_for_key(*nonce),
                    Aad::from(aad),
                    tag,
                    buf,
                )
                .map(|_| ())
                .map_err(|_| AuthError)
            }
            #[cfg(feature = "ring")]
            AeadCipher::Ring(_, k) => {
                use ring::aead::{Aad, Nonce, Tag};
                k.open_in_place_separate_tag(
                    Nonce::assume_unique_for_key(*nonce),
                    Aad::from(aad),
                    Tag::from(*tag),
                    buf,
                    0..,
                )
                .map(|_| ())
                .map_err(|_| AuthError)
            }
        }
    }

    /// True when [`seal_from`](Self::seal_from) reads the plaintext from
    /// the caller's slice and writes the ciphertext into `out` in one pass
    /// (two different buffers); false when it copies the plaintext into
    /// `out` and seals it there (ring 0.17 has no out-of-place seal;
    /// RustCrypto has one only for plaintext in one slice, so not with
    /// `extra_in`, TLS 1.3's inner content type). The record layer seals
    /// plaintexts of 1 KiB and more this way where it is true, after
    /// zeroing the record's room (safe code cannot hand the AEAD
    /// uninitialised memory): on a Zen 4 EPYC that beat copying in, on a
    /// Zen 5 the two cost the same (BENCHMARKS.md, issue 17).
    #[must_use]
    pub fn seals_out_of_place(&self, with_extra_in: bool) -> bool {
        match self {
            AeadCipher::Aes128Gcm(_)
            | AeadCipher::Aes256Gcm(_)
            | AeadCipher::ChaCha20Poly1305(_) => !with_extra_in,
            #[cfg(feature = "aws-lc")]
            AeadCipher::AwsLc(..) => true,
            #[cfg(feature = "ring")]
            AeadCipher::Ring(..) => false,
        }
    }

    /// True when [`open_into`](Self::open_into) decrypts from the
    /// ciphertext's buffer straight into `out` (aws-lc-rs, RustCrypto);
    /// false when it copies the ciphertext into `out` and opens it there
    /// (ring 0.17 opens in place only).
    #[must_use]
    pub fn opens_out_of_place(&self) -> bool {
        match self {
            AeadCipher::Aes128Gcm(_)
            | AeadCipher::Aes256Gcm(_)
            | AeadCipher::ChaCha20Poly1305(_) => true,
            #[cfg(feature = "aws-lc")]
            AeadCipher::AwsLc(..) => true,
            #[cfg(feature = "ring")]
            AeadCipher::Ring(..) => false,
        }
    }

    /// Encrypts `plaintext` followed by `extra_in` into `out`, which must
    /// be `plaintext.len() + extra_in.len() + TAG_LEN` bytes: the
    /// ciphertext of `plaintext`, then that of `extra_in`, then the tag.
    /// The same bytes as copying both into `out` and calling
    /// [`seal_in_place`](Self::seal_in_place) on them (then appending the
    /// tag), which is what it does where
    /// [`seals_out_of_place`](Self::seals_out_of_place) is false.
    /// `extra_in` is for TLS 1.3's inner content type (and padding), which
    /// is not in the caller's slice.
    ///
    /// # Panics
    /// If `out` has the wrong length.
    pub fn seal_from(
        &self,
        nonce: &[u8; 12],
        aad: &[u8],
        plaintext: &[u8],
        extra_in: &[u8],
        out: &mut [u8],
    ) {
        let (p, e) = (plaintext.len(), extra_in.len());
        assert_eq!(out.len(), p + e + TAG_LEN, "seal_from: output length");
        match self {
            AeadCipher::Aes128Gcm(c) if e == 0 => rc_seal_from(&**c, nonce, aad, plaintext, out),
            AeadCipher::Aes256Gcm(c) if e == 0 => rc_seal_from(&**c, nonce, aad, plaintext, out),
            AeadCipher::ChaCha20Poly1305(c) if e == 0 => {
                rc_seal_from(&**c, nonce, aad, plaintext, out);
            }
            #[cfg(feature = "aws-lc")]
            AeadCipher::AwsLc(_, k) => {
                use aws_lc_rs::aead::{Aad, Nonce};
                let (ct, extra_and_tag) = out.split_at_mut(p);
                k.seal_out_of_place_scatter(
                    Nonce::assume_unique_for_key(*nonce),
                    Aad::from(aad),
                    plaintext,
                    ct,
                    extra_in,
                    extra_and_tag,
                )
                .expect(LIMIT);
            }
            _ => {
                let (body, tag) = out.split_at_mut(p + e);
                crate::copy::copy_in_pieces(&mut body[..p], plaintext);
                body[p..].copy_from_slice(extra_in);
                tag.copy_from_slice(&self.seal_in_place(nonce, aad, body));
            }
        }
    }

    /// Verifies `tag` over `ciphertext` and decrypts it into `out` (as long
    /// as `ciphertext`); the same result as
    /// [`open_in_place`](Self::open_in_place) on a copy of `ciphertext`,
    /// which is what it does where
    /// [`opens_out_of_place`](Self::opens_out_of_place) is false.
    ///
    /// # Errors
    /// [`AuthError`] if the tag does not verify. `out` then holds no
    /// plaintext: RustCrypto checks the tag before it decrypts and leaves
    /// `out` as it was; aws-lc-rs (AWS-LC zeroes its output on failure) and
    /// ring (which decrypted a copy) leave zeros.
    ///
    /// # Panics
    /// If `out` and `ciphertext` differ in length.
    pub fn open_into(
        &self,
        nonce: &[u8; 12],
        aad: &[u8],
        ciphertext: &[u8],
        tag: &[u8; TAG_LEN],
        out: &mut [u8],
    ) -> Result<(), AuthError> {
        assert_eq!(out.len(), ciphertext.len(), "open_into: output length");
        match self {
            AeadCipher::Aes128Gcm(c) => rc_open_into(&**c, nonce, aad, ciphertext, tag, out),
            AeadCipher::Aes256Gcm(c) => rc_open_into(&**c, nonce, aad, ciphertext, tag, out),
            AeadCipher::ChaCha20Poly1305(c) => rc_open_into(&**c, nonce, aad, ciphertext, tag, out),
            #[cfg(feature = "aws-lc")]
            AeadCipher::AwsLc(_, k) => {
                use aws_lc_rs::aead::{Aad, Nonce};
                let r = k.open_separate_gather(
                    Nonce::assume_unique_for_key(*nonce),
                    Aad::from(aad),
                    ciphertext,
                    tag,
                    out,
                );
                if r.is_err() {
                    // AWS-LC zeroes `out` itself (`EVP_AEAD_CTX_open_gather`);
                    // aws-lc-rs documents it as unspecified, so again here.
                    out.fill(0);
                    return Err(AuthError);
                }
                Ok(())
            }
            #[cfg(feature = "ring")]
            AeadCipher::Ring(..) => {
                crate::copy::copy_in_pieces(out, ciphertext);
                let r = self.open_in_place(nonce, aad, out, tag);
                if r.is_err() {
                    out.fill(0);
                }
                r
            }
        }
    }
}

/// The RustCrypto AEADs this module calls: in/out buffers, a 12-byte
/// nonce, a 16-byte tag (one bound for the four helpers below).
trait RcAead:
    AeadInOut
    + aes_gcm::aead::AeadCore<
        NonceSize = aes_gcm::aead::consts::U12,
        TagSize = aes_gcm::aead::consts::U16,
    >
{
}

impl<C> RcAead for C where
    C: AeadInOut
        + aes_gcm::aead::AeadCore<
            NonceSize = aes_gcm::aead::consts::U12,
            TagSize = aes_gcm::aead::consts::U16,
        >
{
}

fn rc_seal<C>(c: &C, nonce: &[u8; 12], aad: &[u8], buf: &mut [u8]) -> [u8; TAG_LEN]
where
    C: RcAead,
{
    let n = (*nonce).into();
    c.encrypt_inout_detached(&n, aad, buf.into())
        .expect(LIMIT)
        .into()
}

fn rc_open<C>(
    c: &C,
    nonce: &[u8; 12],
    aad: &[u8],
    buf: &mut [u8],
    tag: &[u8; TAG_LEN],
) -> Result<(), AuthError>
where
    C: RcAead,
{
    let n = (*nonce).into();
    let t = (*tag).into();
    c.decrypt_inout_detached(&n, aad, buf.into(), &t)
        .map_err(|_| AuthError)
}

fn rc_seal_from<C>(c: &C, nonce: &[u8; 12], aad: &[u8], plaintext: &[u8], out: &mut [u8])
where
    C: RcAead,
{
    let n = (*nonce).into();
    let (ct, tag) = out.split_at_mut(plaintext.len());
    let buf = InOutBuf::new(plaintext, ct).expect("equal lengths");
    let t = c.encrypt_inout_detached(&n, aad, buf).expect(LIMIT);
    tag.copy_from_slice(&t);
}

fn rc_open_into<C>(
    c: &C,
    nonce: &[u8; 12],
    aad: &[u8],
    ciphertext: &[u8],
    tag: &[u8; TAG_LEN],
    out: &mut [u8],
) -> Result<(), AuthError>
where
    C: RcAead,
{
    let n = (*nonce).into();
    let t = (*tag).into();
    let buf = InOutBuf::new(ciphertext, out).expect("equal lengths");
    // aes-gcm and chacha20poly1305 compute the tag over the ciphertext and
    // decrypt only if it matches: on failure `out` is untouched.
    c.decrypt_inout_detached(&n, aad, buf, &t)
        .map_err(|_| AuthError)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALGS: [AeadAlgorithm; 3] = [
        AeadAlgorithm::Aes128Gcm,
        AeadAlgorithm::Aes256Gcm,
        AeadAlgorithm::ChaCha20Poly1305,
    ];

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// Project Wycheproof's AEAD vectors (TLS shapes: 96-bit IV, 128-bit
    /// tag, AES-128/256) through every provider compiled in: valid vectors
    /// seal and open, invalid ones fail without releasing plaintext (the
    /// buffer holds the ciphertext, or zeros).
    #[test]
    fn wycheproof_every_provider() {
        let files = [
            ("aes_gcm_test.json", 79 + 54),
            ("chacha20_poly1305_test.json", 256 + 60),
        ];
        for (file, expect) in files {
            let path = format!("{}/vectors/wycheproof/{file}", env!("CARGO_MANIFEST_DIR"));
            let v: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            for &p in Provider::ALL {
                let mut n = 0;
                for g in v["testGroups"].as_array().unwrap() {
                    let alg = match (file.starts_with("aes"), g["keySize"].as_u64().unwrap()) {
                        (true, 128) => AeadAlgorithm::Aes128Gcm,
                        (true, 256) => AeadAlgorithm::Aes256Gcm,
                        (false, 256) => AeadAlgorithm::ChaCha20Poly1305,
                        _ => continue,
                    };
                    if g["ivSize"] != 96 || g["tagSize"] != 128 {
                        continue;
                    }
                    for t in g["tests"].as_array().unwrap() {
                        let f = |k: &str| hex(t[k].as_str().unwrap());
                        let id = format!("{} {file} {}", p.name(), t["tcId"]);
                        let c = AeadCipher::with_provider(p, alg, &f("key")).unwrap();
                        let iv: [u8; 12] = f("iv").try_into().unwrap();
                        let (aad, msg, ct) = (f("aad"), f("msg"), f("ct"));
                        let Ok(tag) = <[u8; 16]>::try_from(f("tag").as_slice()) else {
                            n += 1;
                            continue;
                        };
                        let mut buf = ct.clone();
                        let r = c.open_in_place(&iv, &aad, &mut buf, &tag);
                        match t["result"].as_str().unwrap() {
                            "valid" => {
                                assert_eq!((r, &buf), (Ok(()), &msg), "{id}");
                                let mut buf = msg.clone();
                                let got = c.seal_in_place(&iv, &aad, &mut buf);
                                assert_eq!((buf, got), (ct, tag), "{id}");
                            }
                            "invalid" => {
                                assert_eq!(r, Err(AuthError), "{id}");
                                let zeros = vec![0u8; buf.len()];
                                assert!(buf == ct || buf == zeros, "{id}: plaintext released");
                            }
                            other => panic!("{id}: {other}"),
                        }
                        n += 1;
                    }
                }
                assert_eq!(n, expect, "{} {file}", p.name());
            }
        }
    }

    /// `Provider::default` is the provider the calibration measured fastest.
    #[test]
    fn the_default_provider_is_the_fastest_measured() {
        let c = Provider::calibration();
        assert_eq!(Provider::default(), c.chosen);
        if let Some(p) = Provider::pinned_by_env() {
            assert_eq!((c.chosen, c.pinned), (p, true), "{c:?}");
            assert!(c.timings.is_empty());
            return;
        }
        assert!(!c.pinned);
        if Provider::ALL.len() == 1 {
            assert!(c.timings.is_empty(), "nothing to choose, nothing measured");
            return;
        }
        assert_eq!(c.timings.len(), Provider::ALL.len());
        let best = c.timings.iter().map(|(_, t)| *t).min().unwrap();
        assert!(c.timings.contains(&(c.chosen, best)), "{c:?}");
    }

    /// `seal_from` and `open_into` (out of place where the provider can)
    /// give the bytes `seal_in_place` and `open_in_place` give, for every
    /// provider and algorithm, with and without `extra_in`; a failed
    /// `open_into` leaves no plaintext in `out`.
    #[test]
    fn out_of_place_matches_in_place() {
        for alg in ALGS {
            let key: Vec<u8> = (0..alg.key_len() as u8).map(|b| b ^ 0x5c).collect();
            for &p in Provider::ALL {
                let c = AeadCipher::with_provider(p, alg, &key).unwrap();
                for len in [0usize, 1, 15, 16, 17, 255, 16383, 16384] {
                    for extra in [&[][..], &[23], &[22, 0, 0, 0]] {
                        let pt: Vec<u8> = (0..len).map(|i| (i * 13 + len) as u8).collect();
                        let nonce = [len as u8; 12];
                        let aad = [23u8, 3, 3, (len >> 8) as u8, len as u8];
                        let id = format!("{} {alg:?} {len} {extra:?}", p.name());
                        // In place: plaintext and extra in one buffer, tag after.
                        let mut want = pt.clone();
                        want.extend_from_slice(extra);
                        let tag = c.seal_in_place(&nonce, &aad, &mut want);
                        want.extend_from_slice(&tag);
                        let mut got = vec![0xa5u8; len + extra.len() + TAG_LEN];
                        c.seal_from(&nonce, &aad, &pt, extra, &mut got);
                        assert_eq!(got, want, "{id}");
                        let (ct, tag) = got.split_at(len + extra.len());
                        let tag: &[u8; TAG_LEN] = tag.try_into().unwrap();
                        let mut out = vec![0xa5u8; ct.len()];
                        c.open_into(&nonce, &aad, ct, tag, &mut out).unwrap();
                        assert_eq!(&out[..len], &pt[..], "{id}");
                        assert_eq!(&out[len..], extra, "{id}");
                        // A flipped bit in the ciphertext (or the tag when
                        // there is none) fails, and `out` holds no plaintext.
                        let mut bad_ct = ct.to_vec();
                        let mut bad_tag = *tag;
                        match bad_ct.last_mut() {
                            Some(b) => *b ^= 0x80,
                            None => bad_tag[0] ^= 1,
                        }
                        let before = vec![0xa5u8; ct.len()];
                        let mut out = before.clone();
                        assert_eq!(
                            c.open_into(&nonce, &aad, &bad_ct, &bad_tag, &mut out),
                            Err(AuthError),
                            "{id}"
                        );
                        let zeros = vec![0u8; out.len()];
                        assert!(out == before || out == zeros, "{id}: plaintext released");
                        if p == Provider::RustCrypto {
                            assert_eq!(out, before, "{id}: RustCrypto checks first");
                        }
                    }
                }
                let extra_out = c.seals_out_of_place(true);
                assert_eq!(
                    (
                        c.seals_out_of_place(false),
                        extra_out,
                        c.opens_out_of_place()
                    ),
                    match p.name() {
                        "ring" => (false, false, false),
                        "aws-lc-rs" => (true, true, true),
                        _ => (true, false, true),
                    },
                    "{}",
                    p.name()
                );
            }
        }
    }

    /// Every provider compiled in seals to the same bytes and opens what the
    /// others sealed; a flipped bit fails everywhere.
    #[test]
    fn providers_agree() {
        for alg in ALGS {
            let key: Vec<u8> = (0..alg.key_len() as u8).collect();
            for len in [0usize, 1, 15, 16, 17, 64, 1000, 16385] {
                let pt: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
                let nonce = [3u8; 12];
                let aad = [23u8, 3, 3, 0, 1];
                let mut sealed = Vec::new();
                for &p in Provider::ALL {
                    let c = AeadCipher::with_provider(p, alg, &key).unwrap();
                    assert_eq!((c.algorithm(), c.provider()), (alg, p));
                    let mut buf = pt.clone();
                    let tag = c.seal_in_place(&nonce, &aad, &mut buf);
                    sealed.push((buf, tag));
                }
                assert!(sealed.windows(2).all(|w| w[0] == w[1]), "{alg:?} {len}");
                let (ct, tag) = &sealed[0];
                for &p in Provider::ALL {
                    let c = AeadCipher::with_provider(p, alg, &key).unwrap();
                    let mut buf = ct.clone();
                    c.open_in_place(&nonce, &aad, &mut buf, tag).unwrap();
                    assert_eq!(buf, pt);
                    let mut bad = *tag;
                    bad[len % 16] ^= 1;
                    let mut buf = ct.clone();
                    assert_eq!(
                        c.open_in_place(&nonce, &aad, &mut buf, &bad),
                        Err(AuthError)
                    );
                }
            }
            for &p in Provider::ALL {
                assert!(AeadCipher::with_provider(p, alg, &key[1..]).is_none());
                assert_eq!(Provider::from_name(p.name()), Some(p));
            }
        }
    }
}
