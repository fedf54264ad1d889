//! Alert levels and descriptions (RFC 8446 6, RFC 5246 7.2).

use core::fmt;

/// Alert level (RFC 5246 7.2). TLS 1.3 ignores the level except for close_notify
/// and user_canceled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertLevel {
    /// 1
    Warning,
    /// 2
    Fatal,
    /// Any other value (an error in TLS <= 1.2: illegal_parameter).
    Unknown(u8),
}

impl From<u8> for AlertLevel {
    fn from(v: u8) -> Self {
        match v {
            1 => AlertLevel::Warning,
            2 => AlertLevel::Fatal,
            x => AlertLevel::Unknown(x),
        }
    }
}

impl From<AlertLevel> for u8 {
    fn from(v: AlertLevel) -> u8 {
        match v {
            AlertLevel::Warning => 1,
            AlertLevel::Fatal => 2,
            AlertLevel::Unknown(x) => x,
        }
    }
}

macro_rules! alerts {
    ($( $(#[$doc:meta])* $name:ident = $val:expr, $text:expr; )*) => {
        /// Alert description (IANA TLS Alerts registry).
        #[non_exhaustive]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum AlertDescription {
            $( $(#[$doc])* #[doc = $text] $name, )*
            /// A value this crate does not name.
            Unknown(u8),
        }

        impl From<u8> for AlertDescription {
            fn from(v: u8) -> Self {
                match v { $( $val => AlertDescription::$name, )* x => AlertDescription::Unknown(x) }
            }
        }

        impl From<AlertDescription> for u8 {
            fn from(v: AlertDescription) -> u8 {
                match v { $( AlertDescription::$name => $val, )* AlertDescription::Unknown(x) => x }
            }
        }

        impl AlertDescription {
            /// The registry name, e.g. `bad_record_mac` (as in transcripts).
            #[must_use]
            pub fn name(self) -> &'static str {
                match self { $( AlertDescription::$name => $text, )* AlertDescription::Unknown(_) => "unknown" }
            }

            /// Parses a registry name such as `decode_error`.
            #[must_use]
            pub fn from_name(name: &str) -> Option<Self> {
                match name { $( $text => Some(AlertDescription::$name), )* _ => None }
            }
        }
    };
}

alerts! {
    CloseNotify = 0, "close_notify";
    UnexpectedMessage = 10, "unexpected_message";
    BadRecordMac = 20, "bad_record_mac";
    DecryptionFailed = 21, "decryption_failed";
    RecordOverflow = 22, "record_overflow";
    DecompressionFailure = 30, "decompression_failure";
    HandshakeFailure = 40, "handshake_failure";
    NoCertificate = 41, "no_certificate";
    BadCertificate = 42, "bad_certificate";
    UnsupportedCertificate = 43, "unsupported_certificate";
    CertificateRevoked = 44, "certificate_revoked";
    CertificateExpired = 45, "certificate_expired";
    CertificateUnknown = 46, "certificate_unknown";
    IllegalParameter = 47, "illegal_parameter";
    UnknownCa = 48, "unknown_ca";
    AccessDenied = 49, "access_denied";
    DecodeError = 50, "decode_error";
    DecryptError = 51, "decrypt_error";
    ExportRestriction = 60, "export_restriction";
    ProtocolVersion = 70, "protocol_version";
    InsufficientSecurity = 71, "insufficient_security";
    InternalError = 80, "internal_error";
    InappropriateFallback = 86, "inappropriate_fallback";
    UserCanceled = 90, "user_canceled";
    NoRenegotiation = 100, "no_renegotiation";
    MissingExtension = 109, "missing_extension";
    UnsupportedExtension = 110, "unsupported_extension";
    CertificateUnobtainable = 111, "certificate_unobtainable";
    UnrecognizedName = 112, "unrecognized_name";
    BadCertificateStatusResponse = 113, "bad_certificate_status_response";
    BadCertificateHashValue = 114, "bad_certificate_hash_value";
    UnknownPskIdentity = 115, "unknown_psk_identity";
    CertificateRequired = 116, "certificate_required";
    NoApplicationProtocol = 120, "no_application_protocol";
}

impl fmt::Display for AlertDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AlertDescription::Unknown(x) => write!(f, "alert({x})"),
            a => f.write_str(a.name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_byte_round_trips() {
        for b in 0..=255u8 {
            let d = AlertDescription::from(b);
            assert_eq!(u8::from(d), b);
            if let AlertDescription::Unknown(_) = d {
                continue;
            }
            assert_eq!(AlertDescription::from_name(d.name()), Some(d));
        }
        assert_eq!(AlertDescription::from(20), AlertDescription::BadRecordMac);
        assert_eq!(AlertDescription::from(50).name(), "decode_error");
    }
}
