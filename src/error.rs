//! Errors, shaped around the TLS alert each one sends.
//!
//! Every failure caused by the peer carries the [`AlertDescription`] that
//! OpenSSL 3.0 would send for it (or none, where OpenSSL sends none) and the
//! OpenSSL reason ([`Reason`]) so that callers and conformance tests can match
//! OpenSSL's error queue. Caller mistakes are small, separate variants.

use core::fmt;

use crate::alert::AlertDescription;

/// Who caused an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Initiator {
    /// The local caller (bad arguments, misuse of the API).
    Local,
    /// The peer (malformed or unauthentic bytes, protocol violations, alerts).
    Remote,
}

/// OpenSSL's reason code for a record-layer failure (`ERR_reason_error_string`).
///
/// The text returned by [`Reason::as_str`] is exactly OpenSSL's, so transcripts
/// recorded from libssl can be compared by name.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// Header length above the TLS version's ciphertext limit.
    EncryptedLengthTooLong,
    /// Header length above what the read buffer can hold.
    PacketLengthTooLong,
    /// Plaintext above 2^14 bytes (or the negotiated maximum fragment length).
    DataLengthTooLong,
    /// The AEAD tag did not verify.
    DecryptionFailedOrBadRecordMac,
    /// Record version not the one negotiated.
    WrongVersionNumber,
    /// The first bytes look like an HTTP request, not TLS.
    HttpRequest,
    /// A record of a type that is not allowed here.
    UnexpectedRecord,
    /// A record type that TLS 1.3 protection does not allow.
    BadRecordType,
    /// Too many consecutive empty records.
    RecordTooSmall,
    /// A record or call length that is not acceptable.
    BadLength,
    /// An alert that is not exactly two bytes in one record.
    InvalidAlert,
    /// Too many consecutive warning alerts.
    TooManyWarnAlerts,
    /// The peer refused to renegotiate.
    NoRenegotiation,
    /// An alert level other than warning or fatal.
    UnknownAlertType,
    /// A TLS 1.3 KeyUpdate that did not end on a record boundary.
    NotOnRecordBoundary,
    /// A TLS 1.3 handshake message interleaved with another record type.
    MixedHandshakeAndNonHandshakeData,
    /// A ChangeCipherSpec outside a handshake.
    CcsReceivedEarly,
    /// A TLS 1.2 ChangeCipherSpec record that is not the one byte 01.
    BadChangeCipherSpec,
    /// Records between ChangeCipherSpec and Finished.
    DataBetweenCcsAndFinished,
    /// A message that cannot be parsed.
    LengthMismatch,
    /// A handshake message that is not expected here.
    UnexpectedMessage,
    /// The transport ended in the middle of the stream.
    UnexpectedEofWhileReading,
    /// A sequence number would wrap.
    SequenceCounterWrapped,
    /// A write retried with a different buffer or record type.
    BadWriteRetry,
    /// We already sent close_notify.
    ProtocolIsShutdown,
    /// A handshake message larger than the configured bound.
    ExcessiveMessageSize,
    /// A key for a cipher suite this crate does not implement.
    UnsupportedCipher,
    /// Inputs (keys, key logs) that are malformed.
    BadValue,
    /// A request the negotiated version does not have (renegotiation in
    /// TLS 1.3).
    WrongSslVersion,
    /// OpenSSL's `ERR_R_INTERNAL_ERROR`: what 3.0 reports for a handshake
    /// record met while it reads application data inside a handshake.
    InternalError,
    /// `SSL_shutdown` during a handshake, or after a fatal error (OpenSSL
    /// counts a failed connection as in init).
    ShutdownWhileInInit,
    /// Application data read by `SSL_shutdown` after our close_notify.
    ApplicationDataAfterCloseNotify,
    /// TLS 1.2 AES-GCM: a record too short for the explicit nonce and the
    /// tag (OpenSSL's provider refuses the record's AAD).
    InvalidAad,
    /// TLS 1.2 ChaCha20-Poly1305: a record too short for the tag (OpenSSL's
    /// provider refuses the record's AAD with this reason).
    InvalidData,
    /// Beyond OpenSSL: a key was used for more records than its AEAD's
    /// limit allows (RFC 8446 5.5).
    KeyUsageLimit,
    /// Beyond OpenSSL: a handshake asked of a session that has none to run
    /// (a server taken over after its handshake cannot renegotiate).
    NoHandshake,
    /// A handshake driver failed the handshake (the alert is the driver's).
    HandshakeFailure,
    /// OpenSSL 4.0: a call on a connection that failed earlier.
    FailedEarlier,
    /// Beyond OpenSSL: a TLS 1.3 KeyUpdate arrived (or is due) and the
    /// session has no traffic secret to derive the next keys from (it was
    /// continued without `Established::secrets`). Reported at the KeyUpdate,
    /// where it is the cause, rather than as a bad MAC on the next record.
    NoTrafficSecret,
    /// OpenSSL 3.5 and 4.0: the record layer is asked for a record while
    /// one it handed up was never released (a record thrown away after the
    /// peer's close_notify).
    RecordsNotReleased,
}

impl Reason {
    /// OpenSSL's text for this reason.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::EncryptedLengthTooLong => "encrypted length too long",
            Reason::PacketLengthTooLong => "packet length too long",
            Reason::DataLengthTooLong => "data length too long",
            Reason::DecryptionFailedOrBadRecordMac => "decryption failed or bad record mac",
            Reason::WrongVersionNumber => "wrong version number",
            Reason::HttpRequest => "http request",
            Reason::UnexpectedRecord => "unexpected record",
            Reason::BadRecordType => "bad record type",
            Reason::RecordTooSmall => "record too small",
            Reason::BadLength => "bad length",
            Reason::InvalidAlert => "invalid alert",
            Reason::TooManyWarnAlerts => "too many warn alerts",
            Reason::NoRenegotiation => "no renegotiation",
            Reason::UnknownAlertType => "unknown alert type",
            Reason::NotOnRecordBoundary => "not on record boundary",
            Reason::MixedHandshakeAndNonHandshakeData => "mixed handshake and non handshake data",
            Reason::CcsReceivedEarly => "ccs received early",
            Reason::BadChangeCipherSpec => "bad change cipher spec",
            Reason::DataBetweenCcsAndFinished => "data between ccs and finished",
            Reason::LengthMismatch => "length mismatch",
            Reason::UnexpectedMessage => "unexpected message",
            Reason::UnexpectedEofWhileReading => "unexpected eof while reading",
            Reason::SequenceCounterWrapped => "sequence ctr wrapped",
            Reason::BadWriteRetry => "bad write retry",
            Reason::ProtocolIsShutdown => "protocol is shutdown",
            Reason::ExcessiveMessageSize => "excessive message size",
            Reason::UnsupportedCipher => "unsupported cipher",
            Reason::BadValue => "bad value",
            Reason::WrongSslVersion => "wrong ssl version",
            Reason::InternalError => "internal error",
            Reason::ShutdownWhileInInit => "shutdown while in init",
            Reason::ApplicationDataAfterCloseNotify => "application data after close notify",
            Reason::InvalidAad => "invalid aad",
            Reason::InvalidData => "invalid data",
            Reason::KeyUsageLimit => "record limit of one key reached",
            Reason::NoHandshake => "no handshake to run",
            Reason::HandshakeFailure => "handshake failure",
            Reason::FailedEarlier => "the connection failed earlier",
            Reason::NoTrafficSecret => "no traffic secret to follow a key update",
            Reason::RecordsNotReleased => "records not released",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything that can go wrong in the record layer.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The peer sent a record that is malformed, too long or unauthentic.
    /// `alert` is what to send (None where OpenSSL sends nothing).
    InvalidRecord {
        /// OpenSSL's reason.
        reason: Reason,
        /// The alert to send to the peer.
        alert: Option<AlertDescription>,
    },
    /// The peer broke the protocol with well-formed records.
    PeerMisbehaved {
        /// OpenSSL's reason.
        reason: Reason,
        /// The alert to send to the peer.
        alert: AlertDescription,
    },
    /// The peer sent a fatal alert (nothing is sent back).
    AlertReceived(AlertDescription),
    /// Our own sequence number for this key is used up: new keys are needed.
    /// Sequence numbers never wrap (RFC 8446 5.3, RFC 5246 6.1).
    SequenceExhausted,
    /// A caller-supplied buffer is too small; `required` bytes are needed.
    InsufficientSize {
        /// How many bytes the output needs.
        required: usize,
    },
    /// Input given by the caller (a key, a key log line, a length) is unusable.
    BadInput(&'static str),
    /// An identity's private key is not the one for its end-entity
    /// certificate's public key (OpenSSL's `SSL_CTX_check_private_key`:
    /// "key values mismatch"): a server would fail every handshake.
    KeyMismatch,
    /// The caller broke OpenSSL's calling rules (a write retried with a
    /// shorter length or another buffer); fatal, like in OpenSSL.
    Misuse {
        /// OpenSSL's reason.
        reason: Reason,
        /// The alert queued for the peer.
        alert: Option<AlertDescription>,
    },
}

impl Error {
    /// The alert to send to the peer for this error, if any.
    #[must_use]
    pub fn alert(&self) -> Option<AlertDescription> {
        match self {
            Error::InvalidRecord { alert, .. } => *alert,
            Error::PeerMisbehaved { alert, .. } => Some(*alert),
            Error::SequenceExhausted => Some(AlertDescription::InternalError),
            Error::Misuse { alert, .. } => *alert,
            _ => None,
        }
    }

    /// OpenSSL's reason for this error, where it has one.
    #[must_use]
    pub fn reason(&self) -> Option<Reason> {
        match self {
            Error::InvalidRecord { reason, .. }
            | Error::PeerMisbehaved { reason, .. }
            | Error::Misuse { reason, .. } => Some(*reason),
            Error::SequenceExhausted => Some(Reason::SequenceCounterWrapped),
            _ => None,
        }
    }

    /// Who caused the error.
    #[must_use]
    pub fn initiator(&self) -> Initiator {
        match self {
            Error::InvalidRecord { .. }
            | Error::PeerMisbehaved { .. }
            | Error::AlertReceived(_) => Initiator::Remote,
            _ => Initiator::Local,
        }
    }

    pub(crate) fn record(reason: Reason, alert: AlertDescription) -> Self {
        Error::InvalidRecord {
            reason,
            alert: Some(alert),
        }
    }

    pub(crate) fn bad_mac() -> Self {
        Error::record(
            Reason::DecryptionFailedOrBadRecordMac,
            AlertDescription::BadRecordMac,
        )
    }

    pub(crate) fn misbehaved(reason: Reason, alert: AlertDescription) -> Self {
        Error::PeerMisbehaved { reason, alert }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidRecord { reason, alert } => match alert {
                Some(a) => write!(f, "invalid record: {reason} (alert {a})"),
                None => write!(f, "invalid record: {reason}"),
            },
            Error::PeerMisbehaved { reason, alert } => {
                write!(f, "peer misbehaved: {reason} (alert {alert})")
            }
            Error::AlertReceived(a) => write!(f, "received fatal alert: {a}"),
            Error::SequenceExhausted => f.write_str("sequence number exhausted for this key"),
            Error::InsufficientSize { required } => {
                write!(f, "buffer too small: {required} bytes required")
            }
            Error::BadInput(what) => write!(f, "bad input: {what}"),
            Error::KeyMismatch => f.write_str(
                "the private key does not match the certificate's public key (key values mismatch)",
            ),
            Error::Misuse { reason, .. } => write!(f, "call not allowed: {reason}"),
        }
    }
}

impl std::error::Error for Error {}

/// What a call failed with, as `SSL_get_error` would say.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SslError {
    /// `SSL_ERROR_WANT_READ`: more bytes from the peer are needed.
    WantRead,
    /// `SSL_ERROR_WANT_WRITE`: the transport must take bytes first.
    WantWrite,
    /// `SSL_ERROR_ZERO_RETURN`: the peer closed (close_notify).
    ZeroReturn,
    /// `SSL_ERROR_SYSCALL` with an empty error queue (EOF, or any call after
    /// a fatal error).
    Syscall,
    /// `SSL_ERROR_SSL`: a protocol error; the alert sent is `err.alert()`.
    Ssl(Error),
    /// A handshake callback asked to pause; call again to resume.
    WantCallback,
}

impl SslError {
    /// The code as transcripts spell it (`WANT_READ`, ...).
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            SslError::WantRead => "WANT_READ",
            SslError::WantWrite => "WANT_WRITE",
            SslError::ZeroReturn => "ZERO_RETURN",
            SslError::Syscall => "SYSCALL",
            SslError::Ssl(_) => "SSL",
            SslError::WantCallback => "WANT_CALLBACK",
        }
    }

    /// The alert this endpoint sent because of the error, if any.
    #[must_use]
    pub fn alert_sent(&self) -> Option<AlertDescription> {
        match self {
            SslError::Ssl(e) => e.alert(),
            _ => None,
        }
    }
}

impl core::fmt::Display for SslError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SslError::Ssl(e) => write!(f, "SSL: {e}"),
            other => f.write_str(other.code()),
        }
    }
}

impl std::error::Error for SslError {}
