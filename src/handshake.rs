//! Handshake messages as the record layer sees them: reassembly across
//! records (fragmented, coalesced) and the few fields a passive follower
//! needs from the hellos (randoms, suite, negotiated version).

use bytes::{Buf, Bytes, BytesMut};

use crate::alert::AlertDescription;
use crate::cipher::CipherSuite;
use crate::error::{Error, Reason};
use crate::record::Version;

/// Handshake message header: type (1) and length (3) (RFC 8446 4).
pub const HANDSHAKE_HEADER_LEN: usize = 4;

/// OpenSSL's default bound on a handshake message body for most messages
/// (`SSL3_RT_MAX_PLAIN_LENGTH`-based limits; certificates get 100 KiB:
/// `ssl_max_cert_list` default 100 * 1024). We use one configurable bound.
pub const DEFAULT_MAX_HANDSHAKE_LEN: usize = 100 * 1024 + 4096;

/// The SHA-256 of "HelloRetryRequest" that marks a HelloRetryRequest's random
/// (RFC 8446 4.1.3).
pub const HRR_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// Handshake message types (IANA TLS HandshakeType).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HandshakeType {
    /// 0
    HelloRequest,
    /// 1
    ClientHello,
    /// 2
    ServerHello,
    /// 4
    NewSessionTicket,
    /// 5
    EndOfEarlyData,
    /// 8
    EncryptedExtensions,
    /// 11
    Certificate,
    /// 12
    ServerKeyExchange,
    /// 13
    CertificateRequest,
    /// 14
    ServerHelloDone,
    /// 15
    CertificateVerify,
    /// 16
    ClientKeyExchange,
    /// 20
    Finished,
    /// 24
    KeyUpdate,
    /// 254
    MessageHash,
    /// Anything else.
    Unknown(u8),
}

impl From<u8> for HandshakeType {
    fn from(v: u8) -> Self {
        use HandshakeType::*;
        match v {
            0 => HelloRequest,
            1 => ClientHello,
            2 => ServerHello,
            4 => NewSessionTicket,
            5 => EndOfEarlyData,
            8 => EncryptedExtensions,
            11 => Certificate,
            12 => ServerKeyExchange,
            13 => CertificateRequest,
            14 => ServerHelloDone,
            15 => CertificateVerify,
            16 => ClientKeyExchange,
            20 => Finished,
            24 => KeyUpdate,
            254 => MessageHash,
            x => Unknown(x),
        }
    }
}

impl From<HandshakeType> for u8 {
    fn from(t: HandshakeType) -> u8 {
        use HandshakeType::*;
        match t {
            HelloRequest => 0,
            ClientHello => 1,
            ServerHello => 2,
            NewSessionTicket => 4,
            EndOfEarlyData => 5,
            EncryptedExtensions => 8,
            Certificate => 11,
            ServerKeyExchange => 12,
            CertificateRequest => 13,
            ServerHelloDone => 14,
            CertificateVerify => 15,
            ClientKeyExchange => 16,
            Finished => 20,
            KeyUpdate => 24,
            MessageHash => 254,
            Unknown(x) => x,
        }
    }
}

impl HandshakeType {
    /// The message's name as RFC 8446 spells it.
    #[must_use]
    pub fn name(self) -> &'static str {
        use HandshakeType::*;
        match self {
            HelloRequest => "HelloRequest",
            ClientHello => "ClientHello",
            ServerHello => "ServerHello",
            NewSessionTicket => "NewSessionTicket",
            EndOfEarlyData => "EndOfEarlyData",
            EncryptedExtensions => "EncryptedExtensions",
            Certificate => "Certificate",
            ServerKeyExchange => "ServerKeyExchange",
            CertificateRequest => "CertificateRequest",
            ServerHelloDone => "ServerHelloDone",
            CertificateVerify => "CertificateVerify",
            ClientKeyExchange => "ClientKeyExchange",
            Finished => "Finished",
            KeyUpdate => "KeyUpdate",
            MessageHash => "MessageHash",
            Unknown(_) => "Unknown",
        }
    }
}

/// One complete handshake message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandshakeMessage {
    /// The type.
    pub typ: HandshakeType,
    /// The body (without the 4-byte header).
    pub body: Bytes,
}

/// Reassembles handshake messages from the payloads of handshake records.
#[derive(Debug, Clone)]
pub struct HandshakeJoiner {
    buf: BytesMut,
    max_len: usize,
    /// Bytes of the last payload pushed still buffered (a suffix of `buf`):
    /// what OpenSSL's current record still holds beyond what its state
    /// machine has taken.
    tail: usize,
    /// For the message [`pop`](Self::pop) returned last: the bytes after
    /// its header that came from the last payload pushed.
    popped_after_header: usize,
    /// Bytes at the front of `buf` that OpenSSL has already moved out of
    /// its record (into its handshake fragment or message buffer) because
    /// the handshake asked for more than a whole message.
    pulled: usize,
}

impl Default for HandshakeJoiner {
    fn default() -> Self {
        HandshakeJoiner {
            buf: BytesMut::new(),
            max_len: DEFAULT_MAX_HANDSHAKE_LEN,
            tail: 0,
            popped_after_header: 0,
            pulled: 0,
        }
    }
}

impl HandshakeJoiner {
    /// An empty joiner with the default message size bound.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the largest acceptable message body.
    pub fn set_max_len(&mut self, n: usize) {
        self.max_len = n;
    }

    /// True when part of a message is buffered (a record boundary inside a
    /// message: TLS 1.3 forbids a key change or another record type here).
    #[must_use]
    pub fn is_mid_message(&self) -> bool {
        !self.buf.is_empty()
    }

    /// Bytes buffered.
    #[must_use]
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// The type of the message being joined, once its first byte is in.
    #[must_use]
    pub fn pending_type(&self) -> Option<HandshakeType> {
        self.buf.first().map(|&b| HandshakeType::from(b))
    }

    /// Adds a handshake record's payload.
    pub fn push(&mut self, payload: &[u8]) {
        self.buf.extend_from_slice(payload);
        self.tail = payload.len();
    }

    /// For the message being joined (its 4-byte header buffered): how many
    /// bytes after its header came with the last payload pushed. OpenSSL's
    /// state machine reads a message's header alone and judges it (type,
    /// declared size) before reading its body: refused there, these bytes
    /// are still unread in its current record.
    #[must_use]
    pub fn after_header(&self) -> usize {
        self.tail
            .min(self.buf.len().saturating_sub(HANDSHAKE_HEADER_LEN))
    }

    /// [`after_header`](Self::after_header) for the message
    /// [`pop`](Self::pop) returned last, as it was before the pop: its body
    /// and what follows it, as far as they came with the last payload.
    #[must_use]
    pub fn popped_after_header(&self) -> usize {
        self.popped_after_header
    }

    /// Drops everything buffered.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.tail = 0;
        self.pulled = 0;
    }

    /// The handshake asks for more than is buffered: OpenSSL reads every
    /// buffered byte out of its record (a header into its handshake
    /// fragment, a body into its message buffer) before the next record.
    pub fn pull_all(&mut self) {
        self.pulled = self.buf.len();
    }

    /// Bytes buffered that OpenSSL would still hold in its current record,
    /// not read: what follows the last message taken, until the handshake
    /// asks for more ([`pull_all`](Self::pull_all)). `SSL_has_pending`
    /// counts these, not a message being joined.
    #[must_use]
    pub fn unpulled(&self) -> usize {
        self.buf.len() - self.pulled
    }

    /// The declared body length of the message being joined, once its
    /// header is in.
    #[must_use]
    pub fn pending_len(&self) -> Option<usize> {
        (self.buf.len() >= HANDSHAKE_HEADER_LEN).then(|| {
            usize::from(self.buf[1]) << 16
                | usize::from(self.buf[2]) << 8
                | usize::from(self.buf[3])
        })
    }

    /// The next complete message, if any.
    ///
    /// # Errors
    /// `illegal_parameter`/`excessive message size` when a header declares a
    /// body over the bound (before the body arrives).
    pub fn pop(&mut self) -> Result<Option<HandshakeMessage>, Error> {
        if self.buf.len() < HANDSHAKE_HEADER_LEN {
            return Ok(None);
        }
        let len = usize::from(self.buf[1]) << 16
            | usize::from(self.buf[2]) << 8
            | usize::from(self.buf[3]);
        // OpenSSL's per-message bounds: KEY_UPDATE_MAX_LENGTH is 1.
        let max = if self.buf[0] == 24 { 1 } else { self.max_len };
        if len > max {
            return Err(Error::misbehaved(
                Reason::ExcessiveMessageSize,
                AlertDescription::IllegalParameter,
            ));
        }
        if self.buf.len() < HANDSHAKE_HEADER_LEN + len {
            return Ok(None);
        }
        let typ = HandshakeType::from(self.buf[0]);
        self.popped_after_header = self.after_header();
        self.buf.advance(HANDSHAKE_HEADER_LEN);
        let body = self.buf.split_to(len).freeze();
        self.tail = self.tail.min(self.buf.len());
        self.pulled = 0;
        Ok(Some(HandshakeMessage { typ, body }))
    }
}

/// What a passive follower needs from a ClientHello.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientHelloInfo {
    /// The client random.
    pub random: [u8; 32],
    /// `legacy_session_id`: a TLS 1.2 session the client offers to resume.
    pub session_id: Vec<u8>,
}

/// What a passive follower needs from a ServerHello.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerHelloInfo {
    /// The server random.
    pub random: [u8; 32],
    /// The chosen suite code point.
    pub suite_code: u16,
    /// The suite, if this crate implements it.
    pub suite: Option<CipherSuite>,
    /// TLS 1.3 if supported_versions says 0x0304, else TLS 1.2 for 0x0303.
    pub version: Option<Version>,
    /// True for a HelloRetryRequest.
    pub is_hrr: bool,
    /// `legacy_session_id_echo`.
    pub session_id: Vec<u8>,
}

fn decode_err() -> Error {
    Error::misbehaved(Reason::LengthMismatch, AlertDescription::DecodeError)
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        if self.0.len() < n {
            return Err(decode_err());
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }
    fn u8(&mut self) -> Result<u8, Error> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, Error> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
    fn vec8(&mut self) -> Result<&'a [u8], Error> {
        let n = self.u8()?;
        self.take(usize::from(n))
    }
    fn vec16(&mut self) -> Result<&'a [u8], Error> {
        let n = self.u16()?;
        self.take(usize::from(n))
    }
}

/// Parses the random and session id of a ClientHello body.
///
/// # Errors
/// `decode_error` when the body is too short.
pub fn parse_client_hello(body: &[u8]) -> Result<ClientHelloInfo, Error> {
    let mut r = Reader(body);
    r.u16()?; // legacy_version
    let random = r.take(32)?.try_into().expect("32 bytes");
    let session_id = r.vec8().map(<[u8]>::to_vec).unwrap_or_default();
    Ok(ClientHelloInfo { random, session_id })
}

/// Parses the fields of a ServerHello body that select the record protection.
///
/// # Errors
/// `decode_error` for a truncated or malformed body.
pub fn parse_server_hello(body: &[u8]) -> Result<ServerHelloInfo, Error> {
    let mut r = Reader(body);
    let legacy = r.u16()?;
    let random: [u8; 32] = r.take(32)?.try_into().expect("32 bytes");
    let session_id = r.vec8()?.to_vec();
    let suite_code = r.u16()?;
    r.u8()?; // compression
    let mut selected = None;
    if !r.0.is_empty() {
        let mut ext = Reader(r.vec16()?);
        while !ext.0.is_empty() {
            let typ = ext.u16()?;
            let data = ext.vec16()?;
            // supported_versions (RFC 8446 4.2.1): "selected_version".
            if typ == 43 && data.len() == 2 {
                selected = Some(u16::from_be_bytes([data[0], data[1]]));
            }
        }
    }
    let v = selected.unwrap_or(legacy);
    let version = match v {
        0x0304 => Some(Version::Tls13),
        0x0303 => Some(Version::Tls12),
        _ => None,
    };
    Ok(ServerHelloInfo {
        random,
        suite_code,
        suite: CipherSuite::from_code(suite_code),
        version,
        is_hrr: random == HRR_RANDOM,
        session_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hrr_random_is_sha256_of_its_name() {
        use sha2::Digest;
        let d = sha2::Sha256::digest(b"HelloRetryRequest");
        assert_eq!(&d[..], &HRR_RANDOM[..]);
    }

    #[test]
    fn joiner_says_what_follows_a_header_in_the_last_record() {
        // A message whose header and 2 of its 5 body bytes came in one
        // record: 2 bytes follow the header there.
        let mut j = HandshakeJoiner::new();
        j.push(&[20, 0]);
        assert_eq!(j.after_header(), 0);
        j.push(&[0, 5, 1, 2]);
        assert_eq!(j.after_header(), 2);
        assert_eq!(j.pending_len(), Some(5));
        assert!(j.pop().unwrap().is_none());
        // The handshake asks for more: everything buffered is pulled.
        j.pull_all();
        assert_eq!(j.unpulled(), 0);
        // The rest and a second message in one record: popping the first
        // says its 5 body bytes came 3 with this record, plus the 4 of the
        // next message after it; those 4 are not pulled yet.
        j.push(&[3, 4, 5, 0, 0, 0, 0]);
        let m = j.pop().unwrap().unwrap();
        assert_eq!(m.body.as_ref(), &[1, 2, 3, 4, 5]);
        assert_eq!(j.popped_after_header(), 3 + 4);
        assert_eq!(j.unpulled(), 4);
        assert_eq!(j.after_header(), 0);
        j.clear();
        assert_eq!((j.buffered(), j.unpulled()), (0, 0));
    }

    #[test]
    fn joiner_handles_fragments_and_coalesced_messages() {
        let msgs: Vec<u8> = [
            &[20u8, 0, 0, 3, 1, 2, 3][..],
            &[24, 0, 0, 1, 0],
            &[4, 0, 0, 0],
        ]
        .concat();
        for cut in 0..msgs.len() {
            let mut j = HandshakeJoiner::new();
            let mut got = Vec::new();
            for part in [&msgs[..cut], &msgs[cut..]] {
                j.push(part);
                while let Some(m) = j.pop().unwrap() {
                    got.push((m.typ, m.body.to_vec()));
                }
            }
            assert_eq!(
                got,
                vec![
                    (HandshakeType::Finished, vec![1, 2, 3]),
                    (HandshakeType::KeyUpdate, vec![0]),
                    (HandshakeType::NewSessionTicket, vec![])
                ]
            );
            assert!(!j.is_mid_message());
        }
        let mut j = HandshakeJoiner::new();
        j.set_max_len(10);
        j.push(&[11, 0, 0, 11]);
        assert_eq!(
            j.pop().unwrap_err().alert(),
            Some(AlertDescription::IllegalParameter)
        );
    }
}
