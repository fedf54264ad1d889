//! One protection state per direction: keys prepared, then activated at a
//! record boundary, with a sequence number that never wraps.

use core::ops::Range;

use bytes::{Buf, BytesMut};

use super::aead::{AeadCipher, Provider};
use super::CipherSuite;
use crate::alert::AlertDescription;
use crate::error::{Error, Reason};
use crate::keys::RecordKeys;
use crate::record::{
    ContentType, Header, OpaqueRecord, PlainRecord, ProtocolVersion, Version, HEADER_LEN,
    MAX_PLAINTEXT_LEN, TAG_LEN,
};

/// Sequence numbers `0..SEQ_LIMIT` may be used with one key; the record that
/// would need `SEQ_LIMIT` (2^64 - 1) is refused instead of wrapping
/// (RFC 8446 5.3: "Because the size of sequence numbers is 64-bit, they
/// should not wrap."; RFC 5246 6.1: "Sequence numbers ... MUST NOT wrap").
/// OpenSSL 3.0 wraps silently in TLS 1.2 (docs/behaviour.md J1); we never do.
pub const SEQ_LIMIT: u64 = u64::MAX;

#[derive(Clone)]
struct Active {
    keys: RecordKeys,
    suite: CipherSuite,
    /// `suite.version()`, and the explicit nonce's length (8 for TLS 1.2
    /// AES-GCM, else 0): looked at for every record.
    version: Version,
    explicit: usize,
    cipher: AeadCipher,
    /// TLS 1.3 and ChaCha20: the 12-byte IV; TLS 1.2 AES-GCM: salt in [0..4].
    iv: [u8; 12],
    seq: u64,
}

/// Key material stays out of Debug output: `keys` redacts itself and the
/// IV is not printed.
impl core::fmt::Debug for Active {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Active")
            .field("keys", &self.keys)
            .field("suite", &self.suite)
            .field("cipher", &self.cipher)
            .field("iv", &"<redacted>")
            .field("seq", &self.seq)
            .finish()
    }
}

impl Active {
    fn new(keys: &RecordKeys, provider: Provider) -> Self {
        let suite = keys.suite();
        let cipher = AeadCipher::with_provider(provider, suite.aead(), keys.key())
            .expect("RecordKeys checked the key length");
        let mut iv = [0u8; 12];
        iv[..keys.iv().len()].copy_from_slice(keys.iv());
        Active {
            keys: keys.clone(),
            suite,
            version: suite.version(),
            explicit: suite.aead().explicit_nonce_len(suite.version()),
            cipher,
            iv,
            seq: 0,
        }
    }

    #[inline]
    fn version(&self) -> Version {
        self.version
    }

    /// The per-record nonce of TLS 1.3 and ChaCha20-Poly1305 (RFC 8446
    /// 5.3, RFC 7905 2): the IV with the sequence number XORed into its
    /// last 8 bytes.
    #[inline]
    fn xor_nonce(&self) -> [u8; 12] {
        let seq = self.seq.to_be_bytes();
        let mut seq_in_first8 = [0u8; 8];
        seq_in_first8[4..].copy_from_slice(&seq[..4]);
        let first8 = u64::from_ne_bytes(first8_of(&self.iv)) ^ u64::from_ne_bytes(seq_in_first8);
        let last4 = u32::from_ne_bytes(last4_of(&self.iv)) ^ u32::from_ne_bytes(last4_of(&seq));
        nonce_of(first8, last4)
    }

    /// The TLS 1.2 AES-GCM nonce (RFC 5288 3): the 4-byte implicit part
    /// of the IV, then the 8-byte explicit nonce.
    #[inline]
    fn explicit_nonce(&self, explicit: [u8; 8]) -> [u8; 12] {
        let mut first8 = first8_of(&self.iv);
        first8[4..].copy_from_slice(&explicit[..4]);
        nonce_of(
            u64::from_ne_bytes(first8),
            u32::from_ne_bytes(last4_of(&explicit)),
        )
    }

    #[inline]
    fn tls12_aad(&self, typ: ContentType, version: ProtocolVersion, len: usize) -> [u8; 13] {
        let mut aad = [0u8; 13];
        aad[..8].copy_from_slice(&self.seq.to_be_bytes());
        aad[8] = typ.into();
        aad[9..11].copy_from_slice(&version.0.to_be_bytes());
        aad[11..].copy_from_slice(&(len as u16).to_be_bytes());
        aad
    }

    #[inline]
    fn take_seq(&self) -> Result<(), Error> {
        if self.seq == SEQ_LIMIT {
            return Err(Error::SequenceExhausted);
        }
        Ok(())
    }

    /// The header of the next record sealed with `payload_len` bytes of
    /// plaintext and `padding`, once it is known that one may be sealed.
    #[inline]
    fn record_header(
        &self,
        typ: ContentType,
        payload_len: usize,
        padding: usize,
    ) -> Result<Header, Error> {
        self.take_seq()?;
        let (outer_typ, inner_len) = match self.version {
            Version::Tls13 => (ContentType::ApplicationData, payload_len + 1 + padding),
            Version::Tls12 => (typ, payload_len),
        };
        let body_len = self.explicit + inner_len + TAG_LEN;
        if body_len > self.version.max_ciphertext_len() {
            return Err(Error::BadInput("padding makes the record too long"));
        }
        Ok(Header {
            typ: outer_typ,
            version: ProtocolVersion::TLS12,
            len: body_len as u16,
        })
    }

    /// Seals the record at `out[start..]`: its header and explicit nonce
    /// written, its plaintext after them. Appends the TLS 1.3 content type
    /// and padding, encrypts, appends the tag.
    #[inline(always)]
    fn seal_body(&mut self, typ: ContentType, out: &mut BytesMut, start: usize, padding: usize) {
        let prefix = HEADER_LEN + self.explicit;
        let nonce = self.sealing_nonce();
        let tag = match self.version {
            Version::Tls13 => {
                out.extend_from_slice(&[u8::from(typ)]);
                if padding > 0 {
                    out.resize(out.len() + padding, 0);
                }
                let (h, ct) = out[start..].split_at_mut(HEADER_LEN);
                self.cipher.seal_in_place(&nonce, h, ct)
            }
            Version::Tls12 => {
                let inner_len = out.len() - start - prefix;
                let aad = self.tls12_aad(typ, ProtocolVersion::TLS12, inner_len);
                self.cipher
                    .seal_in_place(&nonce, &aad, &mut out[start + prefix..])
            }
        };
        out.extend_from_slice(&tag);
        self.seq += 1;
    }

    /// The nonce of the record sealed next.
    #[inline(always)]
    fn sealing_nonce(&self) -> [u8; 12] {
        if self.explicit > 0 {
            // RFC 5288 3: the explicit nonce must be distinct for each
            // invocation; the sequence number is (as in Go and rustls).
            self.explicit_nonce(self.seq.to_be_bytes())
        } else {
            self.xor_nonce()
        }
    }

    /// [`seal_body`](Self::seal_body) for a provider that seals out of
    /// place, with the plaintext read from `payload` instead of copied
    /// into `out` first (no padding; the header and explicit nonce are in
    /// `out[start..]` already). The record's room is zeroed before the
    /// AEAD writes it: safe code cannot hand it uninitialised memory.
    /// Zeroing 16 KiB costs less than copying it where the copy's source
    /// and destination are not aligned alike, which a record's plaintext
    /// (5 or 13 bytes into it) and the caller's buffer mostly are not:
    /// aws-lc-rs `bulk-16384` 0.82x -> 0.85x raw (TLS 1.3), 0.79x -> 0.86x
    /// (TLS 1.2) on a Zen 4 EPYC (BENCHMARKS.md, issue 17).
    #[inline(always)]
    fn seal_body_from(
        &mut self,
        typ: ContentType,
        payload: &[u8],
        out: &mut BytesMut,
        start: usize,
    ) {
        let nonce = self.sealing_nonce();
        let typ_byte = [u8::from(typ)];
        let extra: &[u8] = match self.version {
            Version::Tls13 => &typ_byte,
            Version::Tls12 => &[],
        };
        let body = out.len();
        out.resize(body + payload.len() + extra.len() + TAG_LEN, 0);
        match self.version {
            Version::Tls13 => {
                let (h, rest) = out[start..].split_at_mut(HEADER_LEN);
                self.cipher.seal_from(&nonce, h, payload, extra, rest);
            }
            Version::Tls12 => {
                let aad = self.tls12_aad(typ, ProtocolVersion::TLS12, payload.len());
                self.cipher
                    .seal_from(&nonce, &aad, payload, extra, &mut out[body..]);
            }
        }
        self.seq += 1;
    }
}

/// Plaintexts of at least this many bytes are sealed out of place where the
/// provider can ([`Active::seal_body_from`]); shorter ones are copied in and
/// sealed in place, the path the 64-byte figures were tuned on. At 1 KiB
/// the out-of-place seal measured 1 to 2 % faster (aws-lc-rs `bulk-1024`,
/// BENCHMARKS.md); between 64 bytes and 1 KiB it was not measured.
const SEAL_FROM_MIN: usize = 1024;

/// A nonce as the AEADs read it: its first 8 bytes, then its last 4,
/// built so that it is written with one store of each (`first8`, `last4`
/// in memory order). The AEADs load a nonce the same way, and a load that
/// spans two stores still on their way to the cache cannot take its bytes
/// from them: it waits until they land. Built byte by byte, or as 4 bytes
/// of IV and 8 of sequence number, the nonce cost a stall in every seal
/// and open (BENCHMARKS.md, "Stalled loads", issue 17).
#[inline(always)]
fn nonce_of(first8: u64, last4: u32) -> [u8; 12] {
    let mut n = [0u8; 12];
    n[..8].copy_from_slice(&first8.to_ne_bytes());
    n[8..].copy_from_slice(&last4.to_ne_bytes());
    n
}

/// Appends a sealed record's 5-byte header, written with one 8-byte
/// store (the 3 bytes past it are the record's next bytes, written next).
/// TLS 1.3 seals with the header as its additional data, and the AEADs
/// copy it with loads (4 bytes at offsets 0 and 1) that a 4-byte and a
/// 1-byte store cannot pass on while still in flight (see [`nonce_of`]).
/// `out` has room reserved for the whole record, more than 8 bytes.
#[inline(always)]
fn put_header_in_one_store(out: &mut BytesMut, header: &Header) {
    let mut eight = [0u8; 8];
    eight[..HEADER_LEN].copy_from_slice(&header.encode());
    out.extend_from_slice(&eight);
    out.truncate(out.len() - (8 - HEADER_LEN));
}

#[inline(always)]
fn last4_of(b: &[u8]) -> [u8; 4] {
    let mut l = [0u8; 4];
    l.copy_from_slice(&b[b.len() - 4..]);
    l
}

#[inline(always)]
fn first8_of(b: &[u8]) -> [u8; 8] {
    let mut f = [0u8; 8];
    f.copy_from_slice(&b[..8]);
    f
}

impl Drop for Active {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.iv);
    }
}

/// Common bookkeeping of both directions.
#[derive(Debug, Clone, Default)]
struct DirectionState {
    active: Option<Active>,
    prepared: Option<RecordKeys>,
    epoch: u64,
    provider: Provider,
    /// Opener: refuse a TLS 1.3 inner plaintext (content, type and
    /// padding) over 2^14 + 1 bytes (RFC 8446 5.4); OpenSSL does not.
    inner_plaintext_limit: bool,
    /// Opener: a TLS 1.2 body too short for the explicit nonce and tag is
    /// bad_record_mac (OpenSSL 4.0, RFC 5246 6.2.3.3), not OpenSSL 3.0's
    /// internal_error from its provider.
    short_tls12_bad_mac: bool,
    /// Opener: which reasons a TLS 1.2 record the cipher refuses gets.
    refusals: CipherRefusals,
}

/// Which OpenSSL reason an [`Opener`] reports when its cipher refuses a
/// record: a TLS 1.2 one too short for the explicit nonce and the tag
/// (unless [`Opener::set_short_record_bad_mac`] makes it bad_record_mac), a
/// TLS 1.3 one too short for the tag and the type byte, or a TLS 1.2 one
/// whose tag does not verify. Only the reason differs; the alerts are the
/// same (internal_error for the short TLS 1.2 record, bad_record_mac for
/// the others).
///
/// OpenSSL's error queue holds the cipher's reason, if it pushes one, before
/// libssl's own (`SSLfatal` after the cipher call failed), and the reason a
/// transcript records is the first one.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CipherRefusals {
    /// libssl's own reasons: "internal error" for the short record (1.1.1
    /// `tls1_enc`: the `EVP_CTRL_AEAD_TLS1_AAD` ctrl of its built-in AES-GCM
    /// and ChaCha20-Poly1305 returns 0 without a reason and libssl pushes
    /// `ERR_R_INTERNAL_ERROR`), "decryption failed or bad record mac" for a
    /// bad tag, and "block cipher pad is wrong" for a short TLS 1.3 record
    /// (`tls13_enc` returns 0 for it). OpenSSL 1.1.1.
    Libssl,
    /// The default, as before this choice existed: the short TLS 1.2
    /// record gets OpenSSL 3's provider reason ("invalid aad" from AES-GCM,
    /// "invalid data" from ChaCha20-Poly1305, refusing the AAD's length), a
    /// bad tag and a short TLS 1.3 record libssl's "decryption failed or bad
    /// record mac". The RFC profile (whose short TLS 1.2 record is
    /// bad_record_mac, [`Opener::set_short_record_bad_mac`]).
    #[default]
    ProviderLength,
    /// OpenSSL 3.0 to 4.0: the provider's reasons for both; a TLS 1.2
    /// AES-GCM record whose tag does not verify is "cipher operation failed"
    /// (`ossl_gcm_stream_update` pushes `PROV_R_CIPHER_OPERATION_FAILED`
    /// when its TLS-mode decryption fails; libssl's "decryption failed or
    /// bad record mac" comes second). ChaCha20-Poly1305 pushes nothing
    /// there, so its bad tag stays libssl's.
    Provider,
}

impl CipherRefusals {
    /// The error for a TLS 1.2 record whose tag did not verify (`explicit`:
    /// the suite's explicit nonce length, non-zero for AES-GCM).
    #[cold]
    fn bad_tag(self, version: Version, explicit: usize) -> Error {
        if self == CipherRefusals::Provider && version == Version::Tls12 && explicit > 0 {
            Error::record(
                Reason::CipherOperationFailed,
                AlertDescription::BadRecordMac,
            )
        } else {
            Error::bad_mac()
        }
    }
}

impl DirectionState {
    fn prepare(&mut self, keys: RecordKeys) {
        self.prepared = Some(keys);
    }

    fn activate(&mut self) -> bool {
        match self.prepared.take() {
            Some(k) => {
                self.active = Some(Active::new(&k, self.provider));
                self.epoch += 1;
                true
            }
            None => false,
        }
    }
}

macro_rules! direction_api {
    () => {
        /// Stores keys to switch to at the next record boundary
        /// ([`activate`](Self::activate)); ChangeCipherSpec, the end of a
        /// TLS 1.3 flight and KeyUpdate all work this way.
        pub fn prepare(&mut self, keys: RecordKeys) {
            self.state.prepare(keys);
        }

        /// Switches to the prepared keys (sequence number 0, epoch + 1).
        /// Returns false (and changes nothing) if no keys were prepared.
        pub fn activate(&mut self) -> bool {
            self.state.activate()
        }

        /// Prepares and activates `keys` at once.
        pub fn set_keys(&mut self, keys: RecordKeys) {
            self.state.prepare(keys);
            self.state.activate();
        }

        /// True once keys are active (records are protected).
        #[inline]
        #[must_use]
        pub fn is_protected(&self) -> bool {
            self.state.active.is_some()
        }

        /// True when keys are prepared and not yet active.
        #[must_use]
        pub fn has_prepared(&self) -> bool {
            self.state.prepared.is_some()
        }

        /// How many times keys were activated (0 = plaintext).
        #[inline]
        #[must_use]
        pub fn epoch(&self) -> u64 {
            self.state.epoch
        }

        /// The sequence number of the next record, once protected.
        #[inline]
        #[must_use]
        pub fn sequence(&self) -> Option<u64> {
            self.state.active.as_ref().map(|a| a.seq)
        }

        /// Sets the next sequence number (to continue a connection whose
        /// earlier records another implementation protected).
        ///
        /// # Errors
        /// [`Error::BadInput`] if no keys are active.
        pub fn set_sequence(&mut self, seq: u64) -> Result<(), Error> {
            match &mut self.state.active {
                Some(a) => {
                    a.seq = seq;
                    Ok(())
                }
                None => Err(Error::BadInput("no keys are active")),
            }
        }

        /// The active keys (to hand a connection over, or to follow it).
        #[must_use]
        pub fn keys(&self) -> Option<&RecordKeys> {
            self.state.active.as_ref().map(|a| &a.keys)
        }

        /// The active suite.
        #[inline]
        #[must_use]
        pub fn suite(&self) -> Option<CipherSuite> {
            self.state.active.as_ref().map(|a| a.suite)
        }

        /// The AEAD provider that keys activated from now on use
        /// ([`Provider::default`] unless set).
        #[must_use]
        pub fn provider(&self) -> Provider {
            self.state.provider
        }

        /// Chooses the AEAD provider for keys activated from now on (the
        /// active keys keep theirs).
        pub fn set_provider(&mut self, provider: Provider) {
            self.state.provider = provider;
        }
    };
}

/// The read direction: opens records in place.
#[derive(Debug, Clone, Default)]
pub struct Opener {
    state: DirectionState,
}

impl Opener {
    /// A plaintext opener (the state before any keys).
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    direction_api!();

    /// Authenticates and decrypts `rec` in place, returning its plaintext
    /// without a copy. Plaintext epoch: the body is returned as it is.
    ///
    /// TLS 1.3 ChangeCipherSpec records are never protected (RFC 8446 5) and
    /// pass through unopened; the caller decides if they are allowed.
    ///
    /// # Errors
    /// `bad_record_mac` for a bad tag or a body too short for one,
    /// `unexpected_message` for a bad TLS 1.3 inner type, `record_overflow`
    /// for plaintext over 2^14, [`Error::SequenceExhausted`].
    pub fn open(&mut self, rec: OpaqueRecord) -> Result<PlainRecord, Error> {
        let OpaqueRecord { header, mut buf } = rec;
        let (typ, plain) = self.open_in_place(&header, &mut buf)?;
        buf.advance(plain.start);
        buf.truncate(plain.len());
        Ok(PlainRecord {
            typ,
            version: header.version,
            payload: buf.freeze(),
        })
    }

    /// Refuses TLS 1.3 records whose inner plaintext (content, content type
    /// and padding) is over 2^14 + 1 bytes with record_overflow, as RFC 8446
    /// 5.4 says; OpenSSL (and this opener by default) accept padding up to
    /// the record's 2^14 + 256 bytes.
    pub fn set_inner_plaintext_limit(&mut self, on: bool) {
        self.state.inner_plaintext_limit = on;
    }

    /// Refuses a TLS 1.2 record whose body cannot hold the explicit nonce
    /// and the tag with bad_record_mac, as OpenSSL 4.0 does and RFC 5246
    /// 6.2.3.3 asks; by default (OpenSSL 1.1.1 to 3.5) with internal_error,
    /// the answer of OpenSSL's cipher to such a length.
    pub fn set_short_record_bad_mac(&mut self, on: bool) {
        self.state.short_tls12_bad_mac = on;
    }

    /// Chooses whose reasons a TLS 1.2 record the cipher refuses gets
    /// ([`CipherRefusals`]; the alerts do not change).
    pub fn set_cipher_refusals(&mut self, refusals: CipherRefusals) {
        self.state.refusals = refusals;
    }

    /// What [`open`](Self::open) does, on a record (header and body) in a
    /// buffer the caller keeps: its content type and where its plaintext is
    /// in `rec` once authenticated and decrypted. Only the crate sees it, so
    /// that undecrypted bytes still cannot pass for plaintext.
    #[inline(always)]
    pub(crate) fn open_in_place(
        &mut self,
        header: &Header,
        rec: &mut [u8],
    ) -> Result<(ContentType, Range<usize>), Error> {
        debug_assert_eq!(rec.len(), HEADER_LEN + usize::from(header.len));
        let Some(active) = self.state.active.as_mut() else {
            return plain_range(header.typ, HEADER_LEN, usize::from(header.len));
        };
        if active.version() == Version::Tls13 && header.typ == ContentType::ChangeCipherSpec {
            return Ok((header.typ, HEADER_LEN..rec.len()));
        }
        active.take_seq()?;
        let body_len = rec.len() - HEADER_LEN;
        let explicit = active.explicit;
        let ct_len = ciphertext_len(
            active.version(),
            explicit,
            body_len,
            self.state.short_tls12_bad_mac,
            self.state.refusals,
        )?;
        let (head, rest) = rec.split_at_mut(HEADER_LEN + explicit);
        let (ct, tag) = rest.split_at_mut(ct_len);
        let tag: &[u8; TAG_LEN] = (&*tag).try_into().expect("tag is TAG_LEN bytes");
        match active.version() {
            Version::Tls13 => {
                let nonce = active.xor_nonce();
                active
                    .cipher
                    .open_in_place(&nonce, &head[..HEADER_LEN], ct, tag)
                    .map_err(|_| Error::bad_mac())?;
            }
            Version::Tls12 => {
                let nonce = if explicit > 0 {
                    active.explicit_nonce(first8_of(&head[HEADER_LEN..]))
                } else {
                    active.xor_nonce()
                };
                let aad = active.tls12_aad(header.typ, header.version, ct_len);
                let refusals = self.state.refusals;
                active
                    .cipher
                    .open_in_place(&nonce, &aad, ct, tag)
                    .map_err(|_| refusals.bad_tag(Version::Tls12, explicit))?;
            }
        }
        active.seq += 1;
        let start = HEADER_LEN + explicit;
        if active.version() == Version::Tls12 {
            return plain_range(header.typ, start, ct_len);
        }
        let inner = &rec[start..start + ct_len];
        let (typ, end) = inner_content_type(inner, self.state.inner_plaintext_limit)?;
        plain_range(typ, start, end)
    }

    /// How long the plaintext that [`open_into`](Self::open_into) writes
    /// for this record is (TLS 1.3: content, content type and padding),
    /// when it opens the record out of place: keys active, a provider that
    /// opens out of place, a body long enough for the explicit nonce and
    /// tag (else `open_in_place` refuses it), not a TLS 1.3
    /// ChangeCipherSpec. `None` otherwise.
    #[inline]
    pub(crate) fn out_of_place_len(&self, header: &Header) -> Option<usize> {
        let active = self.state.active.as_ref()?;
        let version = active.version();
        if !active.cipher.opens_out_of_place()
            || (version == Version::Tls13 && header.typ == ContentType::ChangeCipherSpec)
        {
            return None;
        }
        let explicit = active.suite.aead().explicit_nonce_len(version);
        let min = explicit + TAG_LEN + usize::from(version == Version::Tls13);
        usize::from(header.len)
            .checked_sub(explicit + TAG_LEN)
            .filter(|_| usize::from(header.len) >= min)
    }

    /// What [`open_in_place`](Self::open_in_place) does, with the AEAD
    /// reading the ciphertext from `rec` (header and body, left as they
    /// are) and writing the plaintext into `out`, which must be
    /// [`out_of_place_len`](Self::out_of_place_len) bytes: its content type
    /// and its length from the start of `out`. The same checks, errors and
    /// state as `open_in_place` (the sequence number moves on once the
    /// AEAD authenticated the record). `open_in_place` keeps its own copy
    /// of the checks: sharing `plan` and `opened` with it cost 20
    /// instructions per 64-byte record there (callgrind, `bulk-64`, ring);
    /// tests/out_of_place.rs holds the two to the same results. On an error after `out` was written
    /// (a bad tag, or an authenticated TLS 1.3 inner plaintext refused)
    /// `out` is zeroed: nothing unauthenticated or refused is left there.
    pub(crate) fn open_into(
        &mut self,
        header: &Header,
        rec: &[u8],
        out: &mut [u8],
    ) -> Result<(ContentType, usize), Error> {
        debug_assert_eq!(rec.len(), HEADER_LEN + usize::from(header.len));
        debug_assert_eq!(Some(out.len()), self.out_of_place_len(header));
        let plan = self.plan(header, rec)?;
        let active = self
            .state
            .active
            .as_mut()
            .expect("out_of_place_len checked");
        let (ct, tag) = rec[plan.start..].split_at(plan.ct_len);
        let tag: &[u8; TAG_LEN] = tag.try_into().expect("tag is TAG_LEN bytes");
        if active
            .cipher
            .open_into(&plan.nonce, plan.aad(), ct, tag, out)
            .is_err()
        {
            out.fill(0);
            let explicit = plan.start - HEADER_LEN;
            return Err(self.state.refusals.bad_tag(active.version(), explicit));
        }
        let r = self.opened(header.typ, out);
        if r.is_err() {
            out.fill(0);
        }
        r
    }

    /// The checks before the AEAD and its inputs: the sequence number is
    /// not used up, the body holds the explicit nonce, the tag and (TLS
    /// 1.3) the content type; the nonce and the additional data.
    #[inline(always)]
    fn plan(&mut self, header: &Header, rec: &[u8]) -> Result<OpenPlan, Error> {
        let active = self.state.active.as_mut().expect("keys are active");
        active.take_seq()?;
        let body_len = rec.len() - HEADER_LEN;
        let explicit = active.explicit;
        let ct_len = ciphertext_len(
            active.version(),
            explicit,
            body_len,
            self.state.short_tls12_bad_mac,
            self.state.refusals,
        )?;
        let mut aad = [0u8; 13];
        let (nonce, aad_len) = match active.version() {
            Version::Tls13 => {
                aad[..HEADER_LEN].copy_from_slice(&rec[..HEADER_LEN]);
                (active.xor_nonce(), HEADER_LEN)
            }
            Version::Tls12 => {
                let nonce = if explicit > 0 {
                    active.explicit_nonce(first8_of(&rec[HEADER_LEN..]))
                } else {
                    active.xor_nonce()
                };
                aad = active.tls12_aad(header.typ, header.version, ct_len);
                (nonce, aad.len())
            }
        };
        Ok(OpenPlan {
            nonce,
            aad,
            aad_len,
            start: HEADER_LEN + explicit,
            ct_len,
        })
    }

    /// After the AEAD authenticated and decrypted the record's `inner`
    /// plaintext: the sequence number moves on; the content type and the
    /// length of the content (TLS 1.3: padding stripped, RFC 8446 5.4).
    #[inline(always)]
    fn opened(&mut self, outer: ContentType, inner: &[u8]) -> Result<(ContentType, usize), Error> {
        let active = self.state.active.as_mut().expect("keys are active");
        active.seq += 1;
        let ct_len = inner.len();
        if active.version() == Version::Tls12 {
            return plain_range(outer, 0, ct_len).map(|(t, r)| (t, r.len()));
        }
        let (typ, end) = inner_content_type(inner, self.state.inner_plaintext_limit)?;
        plain_range(typ, 0, end).map(|(t, r)| (t, r.len()))
    }
}

/// The AEAD's inputs for one record, and where its ciphertext is.
struct OpenPlan {
    nonce: [u8; 12],
    aad: [u8; 13],
    aad_len: usize,
    /// The ciphertext's offset in the record (header and explicit nonce).
    start: usize,
    ct_len: usize,
}

impl OpenPlan {
    fn aad(&self) -> &[u8] {
        &self.aad[..self.aad_len]
    }
}

/// The plaintext's place in the record, once its length is checked.
fn plain_range(
    typ: ContentType,
    start: usize,
    len: usize,
) -> Result<(ContentType, Range<usize>), Error> {
    // RFC 8446 5.1: "The length MUST NOT exceed 2^14 bytes. An endpoint that
    // receives a record that exceeds this length MUST terminate the connection
    // with a "record_overflow" alert."
    if len > MAX_PLAINTEXT_LEN {
        return Err(Error::record(
            Reason::DataLengthTooLong,
            AlertDescription::RecordOverflow,
        ));
    }
    Ok((typ, start..start + len))
}

/// The write direction: seals records into an output buffer.
#[derive(Debug, Clone)]
pub struct Sealer {
    state: DirectionState,
    /// Legacy version written in plaintext record headers.
    plaintext_version: ProtocolVersion,
}

impl Default for Sealer {
    fn default() -> Self {
        Sealer {
            state: DirectionState::default(),
            plaintext_version: ProtocolVersion::TLS12,
        }
    }
}

impl Sealer {
    /// A plaintext sealer (the state before any keys).
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    direction_api!();

    /// Sets the version written in headers of unprotected records
    /// (a first ClientHello is often sent in a TLS 1.0 record).
    pub fn set_plaintext_version(&mut self, v: ProtocolVersion) {
        self.plaintext_version = v;
    }

    /// Bytes a sealed record adds to its plaintext (header, explicit nonce,
    /// TLS 1.3 type byte, tag), padding excluded.
    #[must_use]
    #[inline]
    pub fn overhead(&self) -> usize {
        match &self.state.active {
            None => HEADER_LEN,
            Some(a) => HEADER_LEN + a.explicit + usize::from(a.version == Version::Tls13) + TAG_LEN,
        }
    }

    /// Room to leave before the plaintext of a record sealed with
    /// [`seal_in_place`](Self::seal_in_place): the header and, for TLS 1.2
    /// AES-GCM, the explicit nonce (5 or 13 bytes).
    #[must_use]
    #[inline]
    pub fn prefix_len(&self) -> usize {
        match &self.state.active {
            None => HEADER_LEN,
            Some(a) => HEADER_LEN + a.explicit,
        }
    }

    /// Appends one sealed record holding `payload` to `out`: the payload is
    /// copied into `out`, then encrypted there; from 1 KiB on, where the
    /// provider seals out of place (aws-lc-rs; RustCrypto for TLS 1.2), the
    /// record's room is zeroed and the AEAD reads `payload` and writes the
    /// ciphertext there in one pass. The same bytes either way.
    ///
    /// # Errors
    /// [`Error::BadInput`] if `payload` is over 2^14 bytes,
    /// [`Error::SequenceExhausted`] when this key may seal no more records.
    /// `out` is left as it was.
    #[inline]
    pub fn seal(
        &mut self,
        typ: ContentType,
        payload: &[u8],
        out: &mut BytesMut,
    ) -> Result<(), Error> {
        self.seal_padded(typ, payload, 0, out)
    }

    /// Like [`seal`](Self::seal) with `padding` zero bytes after the TLS 1.3
    /// inner content type (RFC 8446 5.4). Ignored for TLS 1.2 and plaintext.
    ///
    /// # Errors
    /// As [`seal`](Self::seal); also if the record would exceed 2^14 + 256.
    #[inline]
    pub fn seal_padded(
        &mut self,
        typ: ContentType,
        payload: &[u8],
        padding: usize,
        out: &mut BytesMut,
    ) -> Result<(), Error> {
        if payload.len() > MAX_PLAINTEXT_LEN {
            return Err(Error::BadInput("record payload over 2^14 bytes"));
        }
        let start = out.len();
        let Some(active) = self.state.active.as_mut() else {
            let h = Header {
                typ,
                version: self.plaintext_version,
                len: payload.len() as u16,
            };
            out.reserve(HEADER_LEN + payload.len());
            out.extend_from_slice(&h.encode());
            crate::copy::extend_in_pieces(out, payload);
            return Ok(());
        };
        // Every check before `out` is touched: it stays as it was on an error.
        let header = active.record_header(typ, payload.len(), padding)?;
        // The record's exact size: one byte more (TLS 1.3's content type
        // byte reserved for TLS 1.2 too, until stop 16) made the last record
        // of a run that had filled a buffer sized by earlier runs overflow
        // it by that byte, and `reserve` then moved every record already
        // in the buffer to its start: 246 KB copied per 256 KiB written
        // (ring TLS 1.2 `bulk-16384`, BENCHMARKS.md).
        out.reserve(HEADER_LEN + usize::from(header.len));
        put_header_in_one_store(out, &header);
        if active.explicit > 0 {
            out.extend_from_slice(&active.seq.to_be_bytes());
        }
        if padding == 0
            && payload.len() >= SEAL_FROM_MIN
            && active
                .cipher
                .seals_out_of_place(active.version == Version::Tls13)
        {
            active.seal_body_from(typ, payload, out, start);
            return Ok(());
        }
        crate::copy::extend_in_pieces(out, payload);
        active.seal_body(typ, out, start, padding);
        Ok(())
    }

    /// Seals, without copying it, the plaintext a caller has put in `out`
    /// after [`prefix_len`](Self::prefix_len) bytes of room at `start`: the
    /// room gets the header (and explicit nonce), the plaintext is
    /// encrypted where it is, and the TLS 1.3 content type and the tag are
    /// appended. For callers that produce plaintext straight into the
    /// output buffer (the copy [`seal`](Self::seal) makes is then saved).
    ///
    /// ```
    /// # use tlsrec::{CipherSuite, ContentType, RecordKeys, Sealer};
    /// # let keys = RecordKeys::new(CipherSuite::TLS13_AES_128_GCM_SHA256, &[7; 16], &[9; 12]).unwrap();
    /// let mut sealer = Sealer::new();
    /// sealer.set_keys(keys);
    /// let mut out = bytes::BytesMut::new();
    /// let start = out.len();
    /// out.resize(start + sealer.prefix_len(), 0);
    /// out.extend_from_slice(b"hello"); // or read a file straight into `out`
    /// sealer.seal_in_place(ContentType::ApplicationData, &mut out, start).unwrap();
    /// assert_eq!(out.len(), 5 + 5 + 1 + 16);
    /// ```
    ///
    /// # Errors
    /// [`Error::BadInput`] if `out` is shorter than `start` plus the room,
    /// or the plaintext is over 2^14 bytes; [`Error::SequenceExhausted`].
    /// `out` is left as it was.
    pub fn seal_in_place(
        &mut self,
        typ: ContentType,
        out: &mut BytesMut,
        start: usize,
    ) -> Result<(), Error> {
        self.seal_in_place_padded(typ, out, start, 0)
    }

    fn seal_in_place_padded(
        &mut self,
        typ: ContentType,
        out: &mut BytesMut,
        start: usize,
        padding: usize,
    ) -> Result<(), Error> {
        let prefix = self.prefix_len();
        let Some(payload_len) = out.len().checked_sub(start + prefix) else {
            return Err(Error::BadInput("no room for the record header"));
        };
        if payload_len > MAX_PLAINTEXT_LEN {
            return Err(Error::BadInput("record payload over 2^14 bytes"));
        }
        let Some(active) = self.state.active.as_mut() else {
            let h = Header {
                typ,
                version: self.plaintext_version,
                len: payload_len as u16,
            };
            out[start..start + HEADER_LEN].copy_from_slice(&h.encode());
            return Ok(());
        };
        let header = active.record_header(typ, payload_len, padding)?;
        out[start..start + HEADER_LEN].copy_from_slice(&header.encode());
        if active.explicit > 0 {
            out[start + HEADER_LEN..start + prefix].copy_from_slice(&active.seq.to_be_bytes());
        }
        active.seal_body(typ, out, start, padding);
        Ok(())
    }
}

/// The ciphertext's length in a record body of `body_len` bytes, once the
/// body is known to hold the explicit nonce, the tag and (TLS 1.3) the
/// content type; both open paths (in place, into the caller's buffer) ask
/// here, so they refuse a short record alike.
#[inline(always)]
fn ciphertext_len(
    version: Version,
    explicit: usize,
    body_len: usize,
    short_tls12_bad_mac: bool,
    refusals: CipherRefusals,
) -> Result<usize, Error> {
    // TLS 1.3: a tag alone (no type byte) is refused as bad_record_mac,
    // like OpenSSL (docs/behaviour.md B3).
    let min = explicit + TAG_LEN + usize::from(version == Version::Tls13);
    if body_len < min {
        if version == Version::Tls12 && !short_tls12_bad_mac {
            // OpenSSL 3.0 hands the record's AAD to the provider before it
            // decrypts; the provider refuses a length that cannot hold the
            // explicit nonce and the tag (AES-GCM: "invalid aad") or the tag
            // (ChaCha20-Poly1305: "invalid data"), and libssl fails with
            // internal_error, whatever the record's type. 1.1.1's built-in
            // ciphers refuse it without a reason of their own: libssl's
            // ERR_R_INTERNAL_ERROR is the reason ([`CipherRefusals`]).
            let reason = if refusals == CipherRefusals::Libssl {
                Reason::InternalError
            } else if explicit > 0 {
                Reason::InvalidAad
            } else {
                Reason::InvalidData
            };
            return Err(Error::record(reason, AlertDescription::InternalError));
        }
        if version == Version::Tls13 && refusals == CipherRefusals::Libssl {
            // 1.1.1 `tls13_enc` returns 0 ("publicly invalid") for a record
            // shorter than the tag and the type byte, and `ssl3_get_record`
            // reports that as "block cipher pad is wrong" (bad_record_mac,
            // as ever); 3.0 and later say "decryption failed or bad record
            // mac" (seen live, `oracles/run.sh 1.1.1 --ends --check`).
            return Err(Error::record(
                Reason::BlockCipherPadIsWrong,
                AlertDescription::BadRecordMac,
            ));
        }
        return Err(Error::bad_mac());
    }
    Ok(body_len - explicit - TAG_LEN)
}

/// A TLS 1.3 record's decrypted `TLSInnerPlaintext`: its content type and
/// where its content ends (the padding stripped). Both open paths ask
/// here.
#[inline(always)]
fn inner_content_type(inner: &[u8], limit: bool) -> Result<(ContentType, usize), Error> {
    // RFC 8446 5.4: "the full encoded TLSInnerPlaintext MUST NOT exceed
    // 2^14 + 1 octets" (5.1: record_overflow).
    if limit && inner.len() > MAX_PLAINTEXT_LEN + 1 {
        return Err(Error::record(
            Reason::DataLengthTooLong,
            AlertDescription::RecordOverflow,
        ));
    }
    // RFC 8446 5.4: strip the zero padding; the last non-zero byte is the
    // content type. "If a receiving implementation does not find a non-zero
    // octet in the cleartext, it MUST terminate the connection with an
    // "unexpected_message" alert."
    let Some(end) = inner.iter().rposition(|&b| b != 0) else {
        return Err(Error::record(
            Reason::BadRecordType,
            AlertDescription::UnexpectedMessage,
        ));
    };
    let typ = ContentType::from(inner[end]);
    if !matches!(
        typ,
        ContentType::ApplicationData | ContentType::Alert | ContentType::Handshake
    ) {
        return Err(Error::record(
            Reason::BadRecordType,
            AlertDescription::UnexpectedMessage,
        ));
    }
    Ok((typ, end))
}
