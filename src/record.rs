//! Record framing: content types, versions, the 5-byte header and the limits
//! that apply to it, and a type per stage of a record's life.
//!
//! An [`OpaqueRecord`] is what came off the wire (possibly encrypted); only an
//! opener (see [`crate::cipher`]) turns it into a [`PlainRecord`], so bytes that
//! have not been authenticated can never reach the caller as plaintext.

use bytes::{Bytes, BytesMut};

/// Length of a record header: type (1), legacy version (2), length (2).
pub const HEADER_LEN: usize = 5;

/// RFC 8446 5.1 and RFC 5246 6.2.1: "The length MUST NOT exceed 2^14 bytes."
/// (OpenSSL `SSL3_RT_MAX_PLAIN_LENGTH`).
pub const MAX_PLAINTEXT_LEN: usize = 1 << 14;

/// RFC 8446 5.2: "The length MUST NOT exceed 2^14 + 256 bytes."
/// (OpenSSL `SSL3_RT_MAX_TLS13_ENCRYPTED_LENGTH` = 16640).
pub const MAX_TLS13_CIPHERTEXT_LEN: usize = MAX_PLAINTEXT_LEN + 256;

/// RFC 5246 6.2.3 allows 2^14 + 2048, but OpenSSL 3.0 refuses more than
/// `SSL3_RT_MAX_ENCRYPTED_LENGTH` = 2^14 + 320 = 16704 (docs/behaviour.md F1), and we
/// follow OpenSSL.
pub const MAX_TLS12_CIPHERTEXT_LEN: usize = MAX_PLAINTEXT_LEN + 320;

/// OpenSSL 3.0's default read buffer is 16712 bytes; a header declaring more
/// than 16712 - 5 = 16707 body bytes fails with `PACKET_LENGTH_TOO_LONG`
/// before any other length check (docs/behaviour.md F1).
pub const MAX_PACKET_LEN: usize = 16707;

/// The largest record (header included) the receive buffer ever holds.
pub const MAX_RECORD_LEN: usize = HEADER_LEN + MAX_PACKET_LEN;

/// AEAD tag length of every suite this crate implements.
pub const TAG_LEN: usize = 16;

/// TLS 1.2 AES-GCM explicit nonce length (RFC 5288 3).
pub const EXPLICIT_NONCE_LEN: usize = 8;

/// Record content type (RFC 8446 5.1, IANA TLS ContentType).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContentType {
    /// 20
    ChangeCipherSpec,
    /// 21
    Alert,
    /// 22
    Handshake,
    /// 23
    ApplicationData,
    /// 24 (RFC 6520)
    Heartbeat,
    /// Any other value.
    Unknown(u8),
}

impl From<u8> for ContentType {
    fn from(v: u8) -> Self {
        match v {
            20 => ContentType::ChangeCipherSpec,
            21 => ContentType::Alert,
            22 => ContentType::Handshake,
            23 => ContentType::ApplicationData,
            24 => ContentType::Heartbeat,
            x => ContentType::Unknown(x),
        }
    }
}

impl From<ContentType> for u8 {
    fn from(v: ContentType) -> u8 {
        match v {
            ContentType::ChangeCipherSpec => 20,
            ContentType::Alert => 21,
            ContentType::Handshake => 22,
            ContentType::ApplicationData => 23,
            ContentType::Heartbeat => 24,
            ContentType::Unknown(x) => x,
        }
    }
}

impl ContentType {
    /// The name used by transcripts and `tlsrec decode`.
    #[must_use]
    pub fn name(self) -> Option<&'static str> {
        match self {
            ContentType::ChangeCipherSpec => Some("change_cipher_spec"),
            ContentType::Alert => Some("alert"),
            ContentType::Handshake => Some("handshake"),
            ContentType::ApplicationData => Some("application_data"),
            ContentType::Heartbeat => Some("heartbeat"),
            ContentType::Unknown(_) => None,
        }
    }

    /// True for the four types TLS 1.2 and 1.3 define for records.
    #[must_use]
    pub fn is_known(self) -> bool {
        matches!(
            self,
            ContentType::ChangeCipherSpec
                | ContentType::Alert
                | ContentType::Handshake
                | ContentType::ApplicationData
        )
    }
}

/// Protocol versions, as the two bytes on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProtocolVersion(pub u16);

impl ProtocolVersion {
    /// SSL 3.0.
    pub const SSL3: Self = Self(0x0300);
    /// TLS 1.0, the legacy version of a first ClientHello record.
    pub const TLS10: Self = Self(0x0301);
    /// TLS 1.1.
    pub const TLS11: Self = Self(0x0302);
    /// TLS 1.2, also the legacy record version of every TLS 1.3 record.
    pub const TLS12: Self = Self(0x0303);
    /// TLS 1.3 (only in the supported_versions extension).
    pub const TLS13: Self = Self(0x0304);

    /// Major version byte.
    #[must_use]
    pub fn major(self) -> u8 {
        (self.0 >> 8) as u8
    }
}

/// The two TLS versions this crate protects records for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    /// TLS 1.2 (RFC 5246).
    Tls12,
    /// TLS 1.3 (RFC 8446).
    Tls13,
}

impl Version {
    /// The largest record body (ciphertext) this version accepts (OpenSSL's).
    #[must_use]
    pub fn max_ciphertext_len(self) -> usize {
        match self {
            Version::Tls12 => MAX_TLS12_CIPHERTEXT_LEN,
            Version::Tls13 => MAX_TLS13_CIPHERTEXT_LEN,
        }
    }

    /// The name used by transcripts: `TLS1.2` or `TLS1.3`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Version::Tls12 => "TLS1.2",
            Version::Tls13 => "TLS1.3",
        }
    }
}

/// A parsed record header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Content type (the outer type for TLS 1.3 protected records).
    pub typ: ContentType,
    /// Legacy record version.
    pub version: ProtocolVersion,
    /// Length of the body that follows.
    pub len: u16,
}

impl Header {
    /// Parses the first [`HEADER_LEN`] bytes of `b` (which must hold them).
    #[must_use]
    pub fn parse(b: &[u8; HEADER_LEN]) -> Self {
        Header {
            typ: ContentType::from(b[0]),
            version: ProtocolVersion(u16::from_be_bytes([b[1], b[2]])),
            len: u16::from_be_bytes([b[3], b[4]]),
        }
    }

    /// The header as bytes.
    #[must_use]
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let v = self.version.0.to_be_bytes();
        let l = self.len.to_be_bytes();
        [u8::from(self.typ), v[0], v[1], l[0], l[1]]
    }
}

/// A whole record as received, header included, not yet opened.
///
/// Its body may be ciphertext; the only way to read it as plaintext is through
/// an opener, which authenticates it first.
#[derive(Debug)]
pub struct OpaqueRecord {
    pub(crate) header: Header,
    /// Header and body, split off the receive buffer without a copy.
    pub(crate) buf: BytesMut,
}

impl OpaqueRecord {
    /// The record's header.
    #[must_use]
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The record's bytes as received (header and body, possibly ciphertext).
    #[must_use]
    pub fn wire_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Builds an opaque record from wire bytes (for tests and tools).
    ///
    /// # Errors
    /// [`Error::BadInput`](crate::Error::BadInput) when `wire` is not exactly one record.
    pub fn from_wire(wire: &[u8]) -> Result<Self, crate::Error> {
        Self::from_buf(BytesMut::from(wire))
    }

    /// Builds an opaque record from wire bytes already in a buffer, taking
    /// the buffer without a copy (to open records framed elsewhere in place).
    ///
    /// # Errors
    /// [`Error::BadInput`](crate::Error::BadInput) when `buf` is not exactly one record.
    pub fn from_buf(buf: BytesMut) -> Result<Self, crate::Error> {
        if buf.len() < HEADER_LEN {
            return Err(crate::Error::BadInput("record shorter than its header"));
        }
        let mut h = [0u8; HEADER_LEN];
        h.copy_from_slice(&buf[..HEADER_LEN]);
        let header = Header::parse(&h);
        if usize::from(header.len) != buf.len() - HEADER_LEN {
            return Err(crate::Error::BadInput(
                "record length does not match its header",
            ));
        }
        Ok(OpaqueRecord { header, buf })
    }

    /// Treats the record as plaintext (the initial, unprotected epoch).
    #[must_use]
    pub fn into_plain_unprotected(mut self) -> PlainRecord {
        let _ = self.buf.split_to(HEADER_LEN);
        PlainRecord {
            typ: self.header.typ,
            version: self.header.version,
            payload: self.buf.freeze(),
        }
    }
}

/// An authenticated record: its content type and plaintext.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlainRecord {
    /// Content type (the inner type for TLS 1.3).
    pub typ: ContentType,
    /// The record header's legacy version.
    pub version: ProtocolVersion,
    /// Plaintext, sharing the receive buffer's memory (no copy).
    pub payload: Bytes,
}
