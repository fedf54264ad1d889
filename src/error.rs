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
    /// OpenSSL 3's AES-GCM provider: a TLS 1.2 record whose tag does not
    /// verify (`PROV_R_CIPHER_OPERATION_FAILED`, queued before libssl's
    /// "decryption failed or bad record mac"); bad_record_mac is sent.
    CipherOperationFailed,
    /// OpenSSL 1.1.1: a TLS 1.3 record too short to hold the tag and the
    /// content type (`tls13_enc` finds it "publicly invalid" and
    /// `ssl3_get_record` reports it so); bad_record_mac is sent.
    BlockCipherPadIsWrong,
    /// TLS 1.3: a ChangeCipherSpec record other than the single byte 01
    /// where OpenSSL's record layer drops CCS records.
    InvalidCcsMessage,
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
            Reason::CipherOperationFailed => "cipher operation failed",
            Reason::BlockCipherPadIsWrong => "block cipher pad is wrong",
            Reason::InvalidCcsMessage => "invalid ccs message",
            Reason::KeyUsageLimit => "record limit of one key reached",
            Reason::NoHandshake => "no handshake to run",
            Reason::HandshakeFailure => "handshake failure",
            Reason::FailedEarlier => "the connection failed earlier",
            Reason::NoTrafficSecret => "no traffic secret to follow a key update",
            Reason::RecordsNotReleased => "records not released",
        }
    }
}

impl Reason {
    /// Whether OpenSSL has this reason (the rest are tlsrec's own, for
    /// failures OpenSSL does not have or reports without a reason).
    fn is_openssl(self) -> bool {
        !matches!(
            self,
            Reason::KeyUsageLimit
                | Reason::NoHandshake
                | Reason::NoTrafficSecret
                // tlsrec's driver hook; OpenSSL's state machine reports its
                // own reason for each failure.
                | Reason::HandshakeFailure
                // tlsrec's model of 4.0's sticky error state: what 4.0
                // queues there is not recorded in any transcript.
                | Reason::FailedEarlier
        )
    }
}

/// OpenSSL's reason for a fatal alert received: libssl pushes
/// `SSL_AD_REASON_OFFSET` (1000, ssl.h) plus the description
/// (`ssl3_read_bytes` / `tls_get_more_records`), and `ERR_reason_error_string`
/// gives the text of the `SSL_R_*` macro with that number. The eleven
/// `SSL_R_SSLV3_ALERT_*` reasons are worded per release ([`V3Wording`]);
/// the others did not change.
///
/// Where each entry comes from:
/// - the numbers: the `SSL_R_SSLV3_ALERT_*`, `SSL_R_TLSV1_ALERT_*`,
///   `SSL_R_TLSV13_ALERT_*` and `SSL_R_TLSV1_*` macros of OpenSSL 3.0.19's
///   `sslerr.h` (`/usr/include/openssl/sslerr.h` on the build machine),
///   each 1000 + the description; every description named here has one.
/// - the strings, each release's error table as built: `strings` of the
///   system libssl 3.0.19 (`/usr/lib/x86_64-linux-gnu/libssl.so.3`), of
///   1.1.1w's `libssl.a` and of 3.5.5's and 4.0.3's `libcrypto.a` (from 3.0
///   on the SSL strings are in libcrypto's `err_all` tables; the oracles'
///   builds of `openssl-src`, `oracles/openssl-build`). All 33 are in each,
///   with only the eleven SSLv3 alerts worded differently. Five are also
///   recorded by libssl in the transcripts of `vectors/` ("tlsv1 alert no
///   renegotiation", "sslv3 alert handshake failure", "tlsv1 unrecognized
///   name", "tlsv1 bad certificate status response", "sslv3 alert bad
///   record mac"), and the oracle runs (`oracles/run.sh 3.5|4.0 --check`)
///   compare them live.
///
/// close_notify (1000) and descriptions without a macro have no string:
/// OpenSSL prints `reason(N)`; `None` here.
fn alert_reason(a: AlertDescription, wording: V3Wording) -> Option<&'static str> {
    use AlertDescription as A;
    // The SSLv3 alerts, worded as 1.1.1 and 3.0, 3.5, 4.0 word them.
    let v3 = |by_release: [&'static str; 3]| by_release[wording as usize];
    Some(match a {
        A::UnexpectedMessage => v3([
            "sslv3 alert unexpected message",
            "ssl/tls alert unexpected message",
            "tls alert unexpected message",
        ]), // 1010
        A::BadRecordMac => v3([
            "sslv3 alert bad record mac",
            "ssl/tls alert bad record mac",
            "tls alert bad record mac",
        ]), // 1020
        A::DecryptionFailed => "tlsv1 alert decryption failed", // 1021
        A::RecordOverflow => "tlsv1 alert record overflow",     // 1022
        A::DecompressionFailure => v3([
            "sslv3 alert decompression failure",
            "ssl/tls alert decompression failure",
            "tls alert decompression failure",
        ]), // 1030
        A::HandshakeFailure => v3([
            "sslv3 alert handshake failure",
            "ssl/tls alert handshake failure",
            "tls alert handshake failure",
        ]), // 1040
        A::NoCertificate => v3([
            "sslv3 alert no certificate",
            "ssl/tls alert no certificate",
            "tls alert no certificate",
        ]), // 1041
        A::BadCertificate => v3([
            "sslv3 alert bad certificate",
            "ssl/tls alert bad certificate",
            "tls alert bad certificate",
        ]), // 1042
        A::UnsupportedCertificate => v3([
            "sslv3 alert unsupported certificate",
            "ssl/tls alert unsupported certificate",
            "tls alert unsupported certificate",
        ]), // 1043
        A::CertificateRevoked => v3([
            "sslv3 alert certificate revoked",
            "ssl/tls alert certificate revoked",
            "tls alert certificate revoked",
        ]), // 1044
        A::CertificateExpired => v3([
            "sslv3 alert certificate expired",
            "ssl/tls alert certificate expired",
            "tls alert certificate expired",
        ]), // 1045
        A::CertificateUnknown => v3([
            "sslv3 alert certificate unknown",
            "ssl/tls alert certificate unknown",
            "tls alert certificate unknown",
        ]), // 1046
        A::IllegalParameter => v3([
            "sslv3 alert illegal parameter",
            "ssl/tls alert illegal parameter",
            "tls alert illegal parameter",
        ]), // 1047
        A::UnknownCa => "tlsv1 alert unknown ca",               // 1048
        A::AccessDenied => "tlsv1 alert access denied",         // 1049
        A::DecodeError => "tlsv1 alert decode error",           // 1050
        A::DecryptError => "tlsv1 alert decrypt error",         // 1051
        A::ExportRestriction => "tlsv1 alert export restriction", // 1060
        A::ProtocolVersion => "tlsv1 alert protocol version",   // 1070
        A::InsufficientSecurity => "tlsv1 alert insufficient security", // 1071
        A::InternalError => "tlsv1 alert internal error",       // 1080
        A::InappropriateFallback => "tlsv1 alert inappropriate fallback", // 1086
        A::UserCanceled => "tlsv1 alert user cancelled",        // 1090 (OpenSSL's spelling)
        A::NoRenegotiation => "tlsv1 alert no renegotiation",   // 1100
        A::MissingExtension => "tlsv13 alert missing extension", // 1109
        A::UnsupportedExtension => "tlsv1 unsupported extension", // 1110
        A::CertificateUnobtainable => "tlsv1 certificate unobtainable", // 1111
        A::UnrecognizedName => "tlsv1 unrecognized name",       // 1112
        A::BadCertificateStatusResponse => "tlsv1 bad certificate status response", // 1113
        A::BadCertificateHashValue => "tlsv1 bad certificate hash value", // 1114
        A::UnknownPskIdentity => "tlsv1 alert unknown psk identity", // 1115
        A::CertificateRequired => "tlsv13 alert certificate required", // 1116
        A::NoApplicationProtocol => "tlsv1 alert no application protocol", // 1120
        A::CloseNotify | A::Unknown(_) => return None,
    })
}

/// How a release words the reasons of the eleven SSLv3 alerts received
/// (`SSL_R_SSLV3_ALERT_*`), seen in each release's built error table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum V3Wording {
    /// 1.1.1 and 3.0 (the order indexes `alert_reason`'s triples): "sslv3 alert handshake failure".
    Sslv3,
    /// 3.5 (from 3.2 on, oracles/compare.py): "ssl/tls alert handshake
    /// failure".
    SslTls,
    /// 4.0: "tls alert handshake failure".
    Tls,
}

impl V3Wording {
    fn of(profile: crate::session::Profile) -> Self {
        use crate::session::Profile;
        match profile {
            Profile::OpenSsl1_1_1 | Profile::OpenSsl3_0 | Profile::Rfc => V3Wording::Sslv3,
            Profile::OpenSsl3_5 => V3Wording::SslTls,
            Profile::OpenSsl4_0 => V3Wording::Tls,
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

    /// OpenSSL's reason string for this error, as `ERR_reason_error_string`
    /// gives it for the first error OpenSSL 3.0 queues where tlsrec returns
    /// this one (what transcripts record as `"reason"`), or `None` where
    /// OpenSSL queues no reason of its own (caller mistakes, limits and
    /// checks beyond OpenSSL). [`openssl_reason_in`](Self::openssl_reason_in)
    /// gives another release's wording.
    ///
    /// A fatal alert received is OpenSSL's `SSL_AD_REASON_OFFSET + desc`
    /// (e.g. `sslv3 alert handshake failure`, `tlsv1 alert no renegotiation`,
    /// `tlsv1 unrecognized name`); close_notify and descriptions OpenSSL has
    /// no reason for give `None` (OpenSSL prints `reason(N)`). For the
    /// other errors it is [`reason`](Self::reason)'s text.
    #[must_use]
    pub fn openssl_reason(&self) -> Option<&'static str> {
        self.openssl_reason_in(crate::session::Profile::OpenSsl3_0)
    }

    /// [`openssl_reason`](Self::openssl_reason) as the release of `profile`
    /// words it: for the SSLv3 alerts received 1.1.1 and 3.0 say "sslv3
    /// alert ...", 3.5 "ssl/tls alert ...", 4.0 "tls alert ..."; the RFC
    /// profile uses 3.0's. Which reason a profile picks (e.g. for a
    /// short TLS 1.2 record) is already in the error itself.
    #[must_use]
    pub fn openssl_reason_in(&self, profile: crate::session::Profile) -> Option<&'static str> {
        match self {
            Error::AlertReceived(a) => alert_reason(*a, V3Wording::of(profile)),
            _ => self.reason().filter(|r| r.is_openssl()).map(Reason::as_str),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openssl_reason_of_alerts_received() {
        let r = |d: u8| Error::AlertReceived(AlertDescription::from(d)).openssl_reason();
        // As libssl recorded them in vectors/.
        assert_eq!(r(100), Some("tlsv1 alert no renegotiation"));
        assert_eq!(r(40), Some("sslv3 alert handshake failure"));
        assert_eq!(r(112), Some("tlsv1 unrecognized name"));
        assert_eq!(r(113), Some("tlsv1 bad certificate status response"));
        assert_eq!(r(20), Some("sslv3 alert bad record mac"));
        // No SSL_R_ macro: no string.
        assert_eq!(r(0), None);
        assert_eq!(r(200), None);
        // Every description with a macro has a string of the macro's family,
        // and no two share one.
        let mut seen = std::collections::HashSet::new();
        for d in 1..=255u8 {
            if let Some(s) = r(d) {
                assert!(
                    ["sslv3 alert ", "tlsv1 ", "tlsv13 alert "]
                        .iter()
                        .any(|p| s.starts_with(p)),
                    "{d}: {s}"
                );
                assert!(seen.insert(s), "{d}: {s} twice");
                assert!(!matches!(
                    AlertDescription::from(d),
                    AlertDescription::Unknown(_)
                ));
            }
        }
        assert_eq!(seen.len(), 33);
        // 3.5 and 4.0: the eleven SSLv3 alerts are "ssl/tls alert ...".
        use crate::session::Profile;
        let in35 = |d: u8| {
            Error::AlertReceived(AlertDescription::from(d)).openssl_reason_in(Profile::OpenSsl3_5)
        };
        assert_eq!(in35(40), Some("ssl/tls alert handshake failure"));
        assert_eq!(in35(100), Some("tlsv1 alert no renegotiation"));
        let renamed = (1..=255u8).filter(|&d| in35(d) != r(d)).count();
        assert_eq!(renamed, 11);
        // 4.0: the same eleven are "tls alert ..." (its libcrypto's table).
        let in40 = |d: u8| {
            Error::AlertReceived(AlertDescription::from(d)).openssl_reason_in(Profile::OpenSsl4_0)
        };
        assert_eq!(in40(10), Some("tls alert unexpected message"));
        assert_eq!(in40(20), Some("tls alert bad record mac"));
        assert_eq!(in40(40), Some("tls alert handshake failure"));
        assert_eq!(in40(47), Some("tls alert illegal parameter"));
        assert_eq!(in40(100), Some("tlsv1 alert no renegotiation"));
        for d in 1..=255u8 {
            let e = Error::AlertReceived(AlertDescription::from(d));
            // Renamed in 4.0 exactly where 3.5 renamed, each from its own
            // "ssl/tls alert X" to "tls alert X".
            match (in35(d), in40(d)) {
                (Some(a), Some(b)) if a != r(d).unwrap() => {
                    assert_eq!(a.strip_prefix("ssl/tls "), b.strip_prefix("tls "), "{d}");
                }
                (a, b) => assert_eq!(a, b, "{d}"),
            }
            assert_eq!(e.openssl_reason_in(Profile::OpenSsl1_1_1), r(d));
            assert_eq!(e.openssl_reason_in(Profile::Rfc), r(d));
        }
    }

    #[test]
    fn openssl_reason_is_none_for_tlsrec_s_own_reasons() {
        let e = |reason| Error::Misuse {
            reason,
            alert: None,
        };
        assert_eq!(e(Reason::FailedEarlier).openssl_reason(), None);
        assert_eq!(e(Reason::KeyUsageLimit).openssl_reason(), None);
        assert_eq!(
            e(Reason::BadWriteRetry).openssl_reason(),
            Some("bad write retry")
        );
        assert_eq!(
            Error::SequenceExhausted.openssl_reason(),
            Some("sequence ctr wrapped")
        );
        assert_eq!(Error::BadInput("x").openssl_reason(), None);
        assert_eq!(
            Error::record(
                Reason::CipherOperationFailed,
                AlertDescription::BadRecordMac
            )
            .openssl_reason(),
            Some("cipher operation failed")
        );
    }
}
