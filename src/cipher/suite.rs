//! Cipher suites and their parameters.

use crate::record::Version;

/// The AEAD algorithms of the suites this crate implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AeadAlgorithm {
    /// AES-128-GCM (RFC 5116).
    Aes128Gcm,
    /// AES-256-GCM (RFC 5116).
    Aes256Gcm,
    /// ChaCha20-Poly1305 (RFC 8439).
    ChaCha20Poly1305,
}

impl AeadAlgorithm {
    /// Key length in bytes.
    #[must_use]
    pub fn key_len(self) -> usize {
        match self {
            AeadAlgorithm::Aes128Gcm => 16,
            AeadAlgorithm::Aes256Gcm | AeadAlgorithm::ChaCha20Poly1305 => 32,
        }
    }

    /// IV length from the key schedule: 12 for TLS 1.3 and ChaCha20, 4 (the
    /// implicit salt) for TLS 1.2 AES-GCM (RFC 5288 3).
    #[must_use]
    pub fn fixed_iv_len(self, version: Version) -> usize {
        match (self, version) {
            (AeadAlgorithm::Aes128Gcm | AeadAlgorithm::Aes256Gcm, Version::Tls12) => 4,
            _ => 12,
        }
    }

    /// Bytes of explicit nonce carried in each record (TLS 1.2 AES-GCM only).
    #[must_use]
    pub fn explicit_nonce_len(self, version: Version) -> usize {
        match (self, version) {
            (AeadAlgorithm::Aes128Gcm | AeadAlgorithm::Aes256Gcm, Version::Tls12) => 8,
            _ => 0,
        }
    }
}

/// Hash function of a suite's key schedule (HKDF or the TLS 1.2 PRF).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashAlgorithm {
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
}

impl HashAlgorithm {
    /// Output length in bytes.
    #[must_use]
    pub fn output_len(self) -> usize {
        match self {
            HashAlgorithm::Sha256 => 32,
            HashAlgorithm::Sha384 => 48,
        }
    }
}

macro_rules! suites {
    ($( $(#[$doc:meta])* $name:ident = $code:expr, $iana:expr, $ossl:expr, $ver:ident, $aead:ident, $hash:ident; )*) => {
        /// A cipher suite this crate can protect records for.
        #[allow(non_camel_case_types)]
        #[non_exhaustive]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum CipherSuite {
            $( $(#[$doc])* #[doc = $iana] $name, )*
        }

        impl CipherSuite {
            /// Every suite, TLS 1.3 first.
            pub const ALL: &'static [CipherSuite] = &[$( CipherSuite::$name, )*];

            /// The IANA code point.
            #[must_use]
            pub fn code(self) -> u16 {
                match self { $( CipherSuite::$name => $code, )* }
            }

            /// The suite with this IANA code point, if implemented.
            #[must_use]
            pub fn from_code(code: u16) -> Option<Self> {
                match code { $( $code => Some(CipherSuite::$name), )* _ => None }
            }

            /// The IANA name, e.g. `TLS_AES_128_GCM_SHA256`.
            #[must_use]
            pub fn name(self) -> &'static str {
                match self { $( CipherSuite::$name => $iana, )* }
            }

            /// OpenSSL's name, e.g. `ECDHE-RSA-AES128-GCM-SHA256`.
            #[must_use]
            pub fn openssl_name(self) -> &'static str {
                match self { $( CipherSuite::$name => $ossl, )* }
            }

            /// Parses an IANA or OpenSSL name (case-insensitive).
            #[must_use]
            pub fn from_name(name: &str) -> Option<Self> {
                $( if name.eq_ignore_ascii_case($iana) || name.eq_ignore_ascii_case($ossl) {
                    return Some(CipherSuite::$name);
                } )*
                None
            }

            /// The protocol version this suite belongs to.
            #[must_use]
            pub fn version(self) -> Version {
                match self { $( CipherSuite::$name => Version::$ver, )* }
            }

            /// The AEAD algorithm.
            #[must_use]
            pub fn aead(self) -> AeadAlgorithm {
                match self { $( CipherSuite::$name => AeadAlgorithm::$aead, )* }
            }

            /// The key schedule's hash.
            #[must_use]
            pub fn hash(self) -> HashAlgorithm {
                match self { $( CipherSuite::$name => HashAlgorithm::$hash, )* }
            }
        }
    };
}

suites! {
    TLS13_AES_128_GCM_SHA256 = 0x1301, "TLS_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256", Tls13, Aes128Gcm, Sha256;
    TLS13_AES_256_GCM_SHA384 = 0x1302, "TLS_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384", Tls13, Aes256Gcm, Sha384;
    TLS13_CHACHA20_POLY1305_SHA256 = 0x1303, "TLS_CHACHA20_POLY1305_SHA256", "TLS_CHACHA20_POLY1305_SHA256", Tls13, ChaCha20Poly1305, Sha256;
    TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 = 0xc02b, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256", Tls12, Aes128Gcm, Sha256;
    TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 = 0xc02c, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384", Tls12, Aes256Gcm, Sha384;
    TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 = 0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256", Tls12, Aes128Gcm, Sha256;
    TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 = 0xc030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384", Tls12, Aes256Gcm, Sha384;
    TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 = 0xcca8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-RSA-CHACHA20-POLY1305", Tls12, ChaCha20Poly1305, Sha256;
    TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 = 0xcca9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305", Tls12, ChaCha20Poly1305, Sha256;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_names_round_trip() {
        for &s in CipherSuite::ALL {
            assert_eq!(CipherSuite::from_code(s.code()), Some(s));
            assert_eq!(CipherSuite::from_name(s.name()), Some(s));
            assert_eq!(CipherSuite::from_name(s.openssl_name()), Some(s));
            assert_eq!(
                s.name().starts_with("TLS_AES") || s.name().starts_with("TLS_CHACHA"),
                s.version() == Version::Tls13
            );
        }
        assert_eq!(CipherSuite::from_code(0x009c), None);
    }
}
