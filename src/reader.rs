//! A receive pipeline: deframer then opener, one record at a time.

use crate::cipher::Opener;
use crate::deframer::{Deframer, HeaderPolicy};
use crate::error::Error;
use crate::record::{PlainRecord, Version};

/// Reads protected records from arbitrarily segmented bytes.
///
/// ```
/// use tlsrec::{CipherSuite, ContentType, RecordKeys, RecordReader, Sealer};
/// let keys = RecordKeys::new(CipherSuite::TLS13_AES_128_GCM_SHA256, &[7; 16], &[9; 12]).unwrap();
/// let mut sealer = Sealer::new();
/// sealer.set_keys(keys.clone());
/// let mut wire = bytes::BytesMut::new();
/// sealer.seal(ContentType::ApplicationData, b"hello", &mut wire).unwrap();
///
/// let mut reader = RecordReader::new();
/// reader.set_version(tlsrec::Version::Tls13);
/// reader.opener_mut().set_keys(keys);
/// for byte in wire.chunks(1) {          // one byte per segment
///     assert_eq!(reader.push(byte), 1);
/// }
/// let rec = reader.next_record().unwrap().unwrap();
/// assert_eq!((rec.typ, &rec.payload[..]), (ContentType::ApplicationData, &b"hello"[..]));
/// assert!(reader.next_record().unwrap().is_none());
/// ```
#[derive(Debug, Default)]
pub struct RecordReader {
    deframer: Deframer,
    opener: Opener,
    failed: Option<Error>,
}

impl RecordReader {
    /// A reader in the plaintext state, any `3.x` record version accepted.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Fixes the negotiated version: record versions other than `0x0303` are
    /// refused, and the version's ciphertext limit applies.
    pub fn set_version(&mut self, v: Version) {
        let mut p = *self.deframer.policy();
        p.version = Some(v);
        p.first_record = false;
        self.deframer.set_policy(p);
    }

    /// The deframer (to adjust its [`HeaderPolicy`]).
    pub fn deframer_mut(&mut self) -> &mut Deframer {
        &mut self.deframer
    }

    /// The deframer.
    #[must_use]
    pub fn deframer(&self) -> &Deframer {
        &self.deframer
    }

    /// The header policy in force.
    #[must_use]
    pub fn policy(&self) -> HeaderPolicy {
        *self.deframer.policy()
    }

    /// The opener (to prepare and activate keys).
    pub fn opener_mut(&mut self) -> &mut Opener {
        &mut self.opener
    }

    /// The opener.
    #[must_use]
    pub fn opener(&self) -> &Opener {
        &self.opener
    }

    /// Takes as much of `data` as the buffer has room for; returns the count.
    #[inline]
    pub fn push(&mut self, data: &[u8]) -> usize {
        // After a failure the deframer refuses more bytes itself.
        self.deframer.push(data)
    }

    /// The next authenticated record, or `Ok(None)` if more bytes are needed.
    ///
    /// # Errors
    /// Any deframing or opening error; errors are sticky.
    #[inline]
    pub fn next_record(&mut self) -> Result<Option<PlainRecord>, Error> {
        // The common case for a segment that completes nothing (a failed
        // reader never waits: it reports its error below).
        if self.deframer.waiting() {
            return Ok(None);
        }
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let res = match self.deframer.pop() {
            // The common case for a segment that completes no record.
            Ok(None) => return Ok(None),
            Ok(Some(rec)) => self.opener.open(rec).map(Some),
            Err(e) => Err(e),
        };
        if let Err(e) = &res {
            self.failed = Some(e.clone());
            self.deframer.refuse_more();
        }
        res
    }
}
