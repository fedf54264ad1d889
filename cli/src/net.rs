//! What `tlsrec connect` and `tlsrec serve` share: exit codes, how a failed
//! call is told, the transport that keeps a copy of both directions for
//! `--trace`, and the key log that goes with it.

use std::fmt;
use std::io::{self, Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tlsrec::error::Reason;
use tlsrec::{AlertDescription, Error, SslError};

/// Exit code: the connection failed after the handshake (a fatal alert, a
/// protocol error, EOF without close_notify, a timeout).
pub const EXIT_FAILED: u8 = 1;
/// Exit code: a usage error (a flag, an address that is not HOST:PORT, a
/// certificate, key or CA file that cannot be read).
pub const EXIT_USAGE: u8 = 2;
/// Exit code: no TCP connection (a name that does not resolve, nothing
/// listening, unreachable), or a port `serve` cannot listen on.
pub const EXIT_NETWORK: u8 = 3;
/// Exit code: the peer's certificate was not accepted.
pub const EXIT_CERTIFICATE: u8 = 4;
/// Exit code: the handshake failed otherwise (an alert from the peer, a
/// protocol error, the peer closed during it).
pub const EXIT_HANDSHAKE: u8 = 5;

/// Why a command ends with a non-zero exit code, and what to tell.
#[derive(Debug)]
pub struct Failed {
    /// The exit code (one of the `EXIT_` constants).
    pub code: u8,
    /// One line saying what went wrong.
    pub message: String,
}

impl Failed {
    /// A failure with exit code `code`.
    pub fn new(code: u8, message: impl Into<String>) -> Self {
        Failed {
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for Failed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Reads a file a flag names, or a usage error naming the flag and file.
pub fn read_file(flag: &str, path: &Path) -> Result<Vec<u8>, Failed> {
    std::fs::read(path)
        .map_err(|e| Failed::new(EXIT_USAGE, format!("{flag} {}: {e}", path.display())))
}

/// The alerts that say a certificate was refused.
#[must_use]
pub fn is_certificate_alert(a: AlertDescription) -> bool {
    matches!(
        a,
        AlertDescription::BadCertificate
            | AlertDescription::UnsupportedCertificate
            | AlertDescription::CertificateRevoked
            | AlertDescription::CertificateExpired
            | AlertDescription::CertificateUnknown
            | AlertDescription::UnknownCa
            | AlertDescription::CertificateRequired
    )
}

/// How a connection ended (or failed), as the summary says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// The peer's close_notify.
    CloseNotify,
    /// TCP EOF without close_notify.
    Eof,
    /// The peer's fatal alert.
    AlertReceived(AlertDescription),
    /// This side failed the connection (sending `alert`, if any).
    Failed {
        /// What went wrong.
        error: String,
        /// The alert sent.
        alert: Option<AlertDescription>,
    },
    /// The transport failed.
    Io(String),
}

impl End {
    /// What a failed call says about the connection. `io` is the
    /// transport error behind a `Syscall`, if one was.
    #[must_use]
    pub fn of(e: &SslError, io: Option<io::Error>) -> End {
        match e {
            SslError::ZeroReturn => End::CloseNotify,
            SslError::Ssl(Error::AlertReceived(a)) => End::AlertReceived(*a),
            SslError::Ssl(err) if err.reason() == Some(Reason::UnexpectedEofWhileReading) => {
                End::Eof
            }
            SslError::Ssl(err) => End::Failed {
                error: err.to_string(),
                alert: err.alert(),
            },
            SslError::Syscall => match io {
                Some(e) if e.kind() == io::ErrorKind::UnexpectedEof => End::Eof,
                Some(e) => End::Io(e.to_string()),
                None => End::Eof,
            },
            other => End::Io(format!("unexpected {}", other.code())),
        }
    }

    /// True for the one clean end: the peer's close_notify.
    #[must_use]
    pub fn is_clean(&self) -> bool {
        *self == End::CloseNotify
    }
}

impl fmt::Display for End {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            End::CloseNotify => f.write_str("close_notify"),
            End::Eof => f.write_str("EOF without close_notify"),
            End::AlertReceived(a) => write!(f, "fatal alert {a} from the peer"),
            End::Failed {
                error,
                alert: Some(a),
            } => write!(f, "{error} (sent alert {a})"),
            End::Failed { error, alert: None } => f.write_str(error),
            End::Io(e) => write!(f, "transport error: {e}"),
        }
    }
}

/// Both directions' bytes as they went over the transport.
#[derive(Debug, Default)]
pub struct Captured {
    /// What this side sent.
    pub sent: Vec<u8>,
    /// What this side received.
    pub received: Vec<u8>,
}

/// A transport that keeps a copy of every byte both ways when `capture`
/// is set (for `--trace`).
#[derive(Debug)]
pub struct Recorder<T> {
    inner: T,
    capture: Option<Arc<Mutex<Captured>>>,
}

impl<T> Recorder<T> {
    /// Wraps `inner`; `capture` collects the bytes.
    pub fn new(inner: T, capture: Option<Arc<Mutex<Captured>>>) -> Self {
        Recorder { inner, capture }
    }

    /// The transport.
    pub fn get_ref(&self) -> &T {
        &self.inner
    }
}

impl<T: Read> Read for Recorder<T> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(c) = &self.capture {
            lock(c).received.extend_from_slice(&buf[..n]);
        }
        Ok(n)
    }
}

impl<T: Write> Write for Recorder<T> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        if let Some(c) = &self.capture {
            lock(c).sent.extend_from_slice(&buf[..n]);
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Locks a mutex, poisoned or not.
pub fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Key-log lines (SSLKEYLOGFILE) collected from rustls.
#[derive(Debug, Default, Clone)]
pub struct KeyLogLines(pub Arc<Mutex<String>>);

impl rustls::KeyLog for KeyLogLines {
    fn log(&self, label: &str, client_random: &[u8], secret: &[u8]) {
        use tlsrec::keylog::encode_hex;
        let line = format!(
            "{label} {} {}\n",
            encode_hex(client_random),
            encode_hex(secret)
        );
        lock(&self.0).push_str(&line);
    }
}

/// The pause of a loop that made no progress: short at first, up to 5 ms.
pub fn idle_pause(idle_rounds: &mut u32) {
    *idle_rounds = idle_rounds.saturating_add(1);
    let ms = (*idle_rounds / 50).clamp(0, 5);
    std::thread::sleep(if ms == 0 {
        Duration::from_micros(200)
    } else {
        Duration::from_millis(u64::from(ms))
    });
}
