//! SSLKEYLOGFILE (NSS key log format) parsing.
//!
//! Each line is `LABEL <client_random hex> <secret hex>`; `#` starts a
//! comment. One file may hold many connections and, for TLS 1.2, one
//! `CLIENT_RANDOM` line per handshake (renegotiations included): entries are
//! looked up by label and the ClientHello random of the handshake.

use crate::error::Error;
use crate::keys::Secret;

/// The labels of the NSS key log format.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum KeyLogLabel {
    /// TLS 1.2 master secret (48 bytes).
    ClientRandom,
    /// TLS 1.3 client early traffic secret.
    ClientEarlyTrafficSecret,
    /// TLS 1.3 client handshake traffic secret.
    ClientHandshakeTrafficSecret,
    /// TLS 1.3 server handshake traffic secret.
    ServerHandshakeTrafficSecret,
    /// TLS 1.3 first client application traffic secret.
    ClientTrafficSecret0,
    /// TLS 1.3 first server application traffic secret.
    ServerTrafficSecret0,
    /// TLS 1.3 exporter secret.
    ExporterSecret,
    /// TLS 1.3 early exporter secret.
    EarlyExporterSecret,
    /// A label this crate does not use (kept, not an error).
    Other(String),
}

impl KeyLogLabel {
    fn parse(s: &str) -> Self {
        match s {
            "CLIENT_RANDOM" => KeyLogLabel::ClientRandom,
            "CLIENT_EARLY_TRAFFIC_SECRET" => KeyLogLabel::ClientEarlyTrafficSecret,
            "CLIENT_HANDSHAKE_TRAFFIC_SECRET" => KeyLogLabel::ClientHandshakeTrafficSecret,
            "SERVER_HANDSHAKE_TRAFFIC_SECRET" => KeyLogLabel::ServerHandshakeTrafficSecret,
            "CLIENT_TRAFFIC_SECRET_0" => KeyLogLabel::ClientTrafficSecret0,
            "SERVER_TRAFFIC_SECRET_0" => KeyLogLabel::ServerTrafficSecret0,
            "EXPORTER_SECRET" => KeyLogLabel::ExporterSecret,
            "EARLY_EXPORTER_SECRET" => KeyLogLabel::EarlyExporterSecret,
            other => KeyLogLabel::Other(other.to_string()),
        }
    }
}

/// One key log line.
#[derive(Debug, Clone)]
pub struct KeyLogEntry {
    /// The label.
    pub label: KeyLogLabel,
    /// The ClientHello random of the handshake it belongs to.
    pub client_random: [u8; 32],
    /// The secret.
    pub secret: Secret,
}

/// A parsed key log: every entry, in file order.
#[derive(Debug, Clone, Default)]
pub struct KeyLog {
    entries: Vec<KeyLogEntry>,
}

/// A key log line that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyLogError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub what: &'static str,
}

impl core::fmt::Display for KeyLogError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "key log line {}: {}", self.line, self.what)
    }
}

impl std::error::Error for KeyLogError {}

impl From<KeyLogError> for Error {
    fn from(e: KeyLogError) -> Self {
        Error::BadInput(e.what)
    }
}

/// Decodes a hex string (either case).
///
/// # Errors
/// A message for odd lengths or non-hex characters.
pub fn decode_hex(s: &str) -> Result<Vec<u8>, &'static str> {
    let s = s.as_bytes();
    if s.len() % 2 != 0 {
        return Err("odd number of hex digits");
    }
    fn nib(c: u8) -> Result<u8, &'static str> {
        match c {
            b'0'..=b'9' => Ok(c - b'0'),
            b'a'..=b'f' => Ok(c - b'a' + 10),
            b'A'..=b'F' => Ok(c - b'A' + 10),
            _ => Err("not a hex digit"),
        }
    }
    s.chunks(2)
        .map(|p| Ok(nib(p[0])? << 4 | nib(p[1])?))
        .collect()
}

/// Encodes bytes as lowercase hex.
#[must_use]
pub fn encode_hex(b: &[u8]) -> String {
    const D: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(b.len() * 2);
    for &x in b {
        s.push(D[usize::from(x >> 4)] as char);
        s.push(D[usize::from(x & 15)] as char);
    }
    s
}

impl KeyLog {
    /// Parses a whole key log. Blank lines and `#` comments are skipped.
    ///
    /// # Errors
    /// The first malformed line (wrong field count, bad hex, a client random
    /// that is not 32 bytes, an empty secret, a CLIENT_RANDOM secret that is
    /// not 48 bytes).
    pub fn parse(text: &str) -> Result<Self, KeyLogError> {
        let mut log = KeyLog::default();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            log.add_line(line)
                .map_err(|what| KeyLogError { line: i + 1, what })?;
        }
        Ok(log)
    }

    /// Parses one line and adds it.
    ///
    /// # Errors
    /// What is wrong with the line.
    pub fn add_line(&mut self, line: &str) -> Result<(), &'static str> {
        let mut it = line.split_ascii_whitespace();
        let (Some(label), Some(cr), Some(secret), None) =
            (it.next(), it.next(), it.next(), it.next())
        else {
            return Err("expected three fields: LABEL CLIENT_RANDOM SECRET");
        };
        let cr = decode_hex(cr)?;
        let client_random: [u8; 32] = cr
            .as_slice()
            .try_into()
            .map_err(|_| "client random is not 32 bytes")?;
        let secret = decode_hex(secret)?;
        if secret.is_empty() {
            return Err("empty secret");
        }
        let label = KeyLogLabel::parse(label);
        if label == KeyLogLabel::ClientRandom && secret.len() != 48 {
            return Err("CLIENT_RANDOM master secret is not 48 bytes");
        }
        self.entries.push(KeyLogEntry {
            label,
            client_random,
            secret: Secret::new(secret),
        });
        Ok(())
    }

    /// Every entry in file order.
    #[must_use]
    pub fn entries(&self) -> &[KeyLogEntry] {
        &self.entries
    }

    /// The secret logged under `label` for the handshake with `client_random`
    /// (the last one, if logged twice).
    #[must_use]
    pub fn find(&self, label: &KeyLogLabel, client_random: &[u8; 32]) -> Option<&Secret> {
        self.entries
            .iter()
            .rev()
            .find(|e| &e.label == label && &e.client_random == client_random)
            .map(|e| &e.secret)
    }

    /// The TLS 1.2 master secret of the handshake with `client_random`.
    #[must_use]
    pub fn master_secret(&self, client_random: &[u8; 32]) -> Option<&Secret> {
        self.find(&KeyLogLabel::ClientRandom, client_random)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CR1: &str = "6abfee51df8d8142777d0ab38e56bba20ad6c09a57d53f35e83e726cb171be25";

    #[test]
    fn parses_tls13_and_tls12_lines_of_several_connections() {
        let ms = "ab".repeat(48);
        let text = format!(
            "# comment\n\nSERVER_HANDSHAKE_TRAFFIC_SECRET {CR1} {s}\nCLIENT_TRAFFIC_SECRET_0 {CR1} {c}\n\
             CLIENT_RANDOM {cr2} {ms}\nCLIENT_RANDOM {cr3} {ms}\nFUTURE_LABEL {cr3} 00\n",
            s = "11".repeat(32),
            c = "22".repeat(48),
            cr2 = "01".repeat(32),
            cr3 = "02".repeat(32),
        );
        let log = KeyLog::parse(&text).unwrap();
        assert_eq!(log.entries().len(), 5);
        let cr1: [u8; 32] = decode_hex(CR1).unwrap().try_into().unwrap();
        let s = log
            .find(&KeyLogLabel::ServerHandshakeTrafficSecret, &cr1)
            .unwrap();
        assert_eq!(s.as_bytes(), &[0x11; 32]);
        assert_eq!(
            log.find(&KeyLogLabel::ClientTrafficSecret0, &cr1)
                .unwrap()
                .len(),
            48
        );
        assert!(log
            .find(&KeyLogLabel::ClientHandshakeTrafficSecret, &cr1)
            .is_none());
        assert_eq!(log.master_secret(&[2; 32]).unwrap().as_bytes(), &[0xab; 48]);
        assert!(log.master_secret(&[3; 32]).is_none());
        assert_eq!(
            log.entries()[4].label,
            KeyLogLabel::Other("FUTURE_LABEL".into())
        );
    }

    #[test]
    fn malformed_lines_name_their_line() {
        for (text, what) in [
            (
                "CLIENT_RANDOM 00",
                "expected three fields: LABEL CLIENT_RANDOM SECRET",
            ),
            ("CLIENT_RANDOM zz 00", "not a hex digit"),
            ("CLIENT_RANDOM 0011 00", "client random is not 32 bytes"),
            (
                &format!("CLIENT_RANDOM {CR1} 0011"),
                "CLIENT_RANDOM master secret is not 48 bytes",
            ),
            (
                &format!("CLIENT_RANDOM {CR1} 001"),
                "odd number of hex digits",
            ),
            (
                &format!("X {CR1} 00 extra"),
                "expected three fields: LABEL CLIENT_RANDOM SECRET",
            ),
        ] {
            let err = KeyLog::parse(&format!("# ok\n{text}\n")).unwrap_err();
            assert_eq!(err, KeyLogError { line: 2, what }, "{text}");
        }
    }

    #[test]
    fn hex_round_trips() {
        let b: Vec<u8> = (0..=255).collect();
        assert_eq!(decode_hex(&encode_hex(&b)).unwrap(), b);
        assert_eq!(decode_hex("ABcd").unwrap(), vec![0xab, 0xcd]);
    }
}
