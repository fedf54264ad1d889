//! Taking a connection over from rustls 0.23 without losing a byte
//! (feature `rustls`).
//!
//! rustls runs the handshake; tlsrec carries every record after it. The
//! danger is in the seam: TLS 1.3 clients commonly send their first request
//! in the same TCP segment as their Finished (and servers their tickets,
//! KeyUpdate or first data right behind theirs). rustls driven the usual way
//! (`complete_io`, `read_tls` with a big buffer) reads and decrypts those
//! records too, the sequence numbers it hands over have moved past them, and
//! the data is gone. The functions here feed rustls **one whole record at a
//! time and never past the record that completes the handshake**; every
//! byte read after it goes to the tlsrec [`Session`] (`Session::recv`).
//!
//! They also collect the TLS 1.3 traffic secrets that following a KeyUpdate
//! needs ([`TrafficSecrets`], installed as the config's key log, forwarding
//! to the caller's own key log), turn on `enable_secret_extraction` on a
//! copy of the caller's config, and need no crypto provider of their own:
//! the handshake runs with the provider the caller's config was built with.
//!
//! # The whole flow
//!
//! Client, blocking (the async twins are in [`tokio`], feature `tokio`):
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::io::{Read, Write};
//! use std::sync::Arc;
//! use tlsrec::{takeover, Config};
//!
//! # let roots = rustls::RootCertStore::empty();
//! let config = rustls::ClientConfig::builder()
//!     .with_root_certificates(roots)
//!     .with_no_client_auth();
//! let sock = std::net::TcpStream::connect("example.com:443")?;
//! let name = "example.com".try_into()?;
//! // rustls does the handshake; tlsrec carries the connection from here,
//! // with every byte that arrived behind the server's Finished.
//! let mut tls = takeover::connect(Arc::new(config), name, sock, Config::default())?;
//! tls.write_all(b"GET / HTTP/1.0\r\nHost: example.com\r\n\r\n")?;
//! let mut response = Vec::new();
//! tls.read_to_end(&mut response)?;
//! # Ok(()) }
//! ```
//!
//! Server, blocking, with the blind tunnel for clients that do not speak TLS:
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # fn cert_and_key() -> (Vec<rustls::pki_types::CertificateDer<'static>>, rustls::pki_types::PrivateKeyDer<'static>) { unimplemented!() }
//! use std::io::{Read, Write};
//! use std::sync::Arc;
//! use tlsrec::takeover::{self, Accepted};
//! use tlsrec::Config;
//!
//! let (certs, key) = cert_and_key();
//! let config = Arc::new(
//!     rustls::ServerConfig::builder()
//!         .with_no_client_auth()
//!         .with_single_cert(certs, key)?,
//! );
//! let listener = std::net::TcpListener::bind("127.0.0.1:8443")?;
//! let (sock, _) = listener.accept()?;
//! match takeover::accept(config, sock, Config::default())? {
//!     Accepted::Tls(mut tls) => {
//!         // The client's first request may have come with its Finished:
//!         // it is in the session already.
//!         let mut line = [0u8; 1024];
//!         let n = tls.read(&mut line)?;
//!         tls.write_all(&line[..n])?;
//!         tls.shutdown()?;
//!     }
//!     Accepted::NotTls { first_bytes, io } => {
//!         // Not a TLS handshake (an HTTP request, an SSH banner...): the
//!         // bytes read so far, untouched, and the socket, to tunnel on.
//!         # let _ = (first_bytes, io);
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! Callers with their own event loop drive [`Handshake`] (sans-IO: bytes in
//! with [`Handshake::received`], out with [`Handshake::take_outgoing`]).
//! Callers who drive rustls themselves hand the finished connection and the
//! bytes they read past it to [`from_connection`], which refuses a
//! connection that already decrypted application data or still has records
//! to send. Key and secret pairs are `(read, write)` from this endpoint's
//! point of view throughout the crate.
//!
//! Driving rustls yourself: one whole record at a time, never past the
//! handshake, and the rest to the session:
//!
//! ```no_run
//! # fn run(mut config: rustls::ServerConfig, mut sock: std::net::TcpStream) -> Result<(), Box<dyn std::error::Error>> {
//! use std::io::Read;
//! use tlsrec::takeover::{from_connection, TrafficSecrets};
//!
//! // Secret extraction on, and the TLS 1.3 traffic secrets collected.
//! let secrets = TrafficSecrets::install_server(&mut config);
//! let mut conn = rustls::ServerConnection::new(std::sync::Arc::new(config))?;
//! let mut read = Vec::new(); // read from the socket, not given to rustls
//! while conn.is_handshaking() {
//!     while conn.wants_write() {
//!         conn.write_tls(&mut sock)?;
//!     }
//!     let whole = read.get(3..5).map(|l| 5 + usize::from(u16::from_be_bytes([l[0], l[1]])));
//!     match whole {
//!         Some(n) if read.len() >= n => {
//!             let mut record = &read[..n];
//!             while !record.is_empty() {
//!                 conn.read_tls(&mut record)?;
//!             }
//!             read.drain(..n);
//!             conn.process_new_packets()?;
//!         }
//!         _ => {
//!             let mut buf = [0u8; 16384];
//!             let k = sock.read(&mut buf)?;
//!             if k == 0 {
//!                 return Err("EOF in the handshake".into());
//!             }
//!             read.extend_from_slice(&buf[..k]);
//!         }
//!     }
//! }
//! while conn.wants_write() {
//!     conn.write_tls(&mut sock)?;
//! }
//! let session = from_connection(conn, &read, Some(&secrets), tlsrec::Config::default())?;
//! let tls = tlsrec::io::SslStream::new(session, sock);
//! # let _ = tls; Ok(()) }
//! ```
//!
//! rustls 0.23's own API for KeyUpdate after extraction
//! (`dangerous_into_kernel_connection`) exists only for its unbuffered
//! connections and hands out keys, not secrets, so the key-log collector is
//! what works with the connections callers have.

use std::fmt;
use std::io::{self, Read, Write};
use std::sync::{Arc, Mutex};

use crate::error::Error;
use crate::import;
use crate::io::SslStream;
use crate::keys::{RecordKeys, Secret};
use crate::record::{Version, HEADER_LEN, MAX_RECORD_LEN};
use crate::role::Role;
use crate::session::{Config, Established, Session};

#[cfg(feature = "tokio")]
pub mod tokio;

/// Why a takeover failed.
#[non_exhaustive]
#[derive(Debug)]
pub enum TakeoverError {
    /// The transport failed, or ended before the handshake did
    /// ([`io::ErrorKind::UnexpectedEof`]).
    Io(io::Error),
    /// rustls refused the handshake (its alert was sent), or refused to
    /// extract the secrets (`enable_secret_extraction` is off).
    Rustls(rustls::Error),
    /// The keys could not become a session (a suite tlsrec does not have).
    Tls(Error),
    /// [`from_connection`]: the handshake has not completed.
    StillHandshaking,
    /// [`from_connection`]: rustls holds records it has not sent yet
    /// (write them with `write_tls` until `wants_write()` is false).
    UnsentRecords,
    /// [`from_connection`]: rustls already decrypted this many bytes of
    /// application data, which would be lost (its sequence numbers are past
    /// them). Feed rustls one record at a time, never past the record that
    /// completes the handshake ([`Handshake`] does).
    AlreadyDecrypted {
        /// Plaintext bytes waiting in rustls.
        bytes: usize,
    },
}

impl fmt::Display for TakeoverError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TakeoverError::Io(e) => write!(f, "transport: {e}"),
            TakeoverError::Rustls(e) => write!(f, "rustls: {e}"),
            TakeoverError::Tls(e) => write!(f, "tlsrec: {e}"),
            TakeoverError::StillHandshaking => f.write_str("the handshake has not completed"),
            TakeoverError::UnsentRecords => {
                f.write_str("rustls still has records to send (call write_tls first)")
            }
            TakeoverError::AlreadyDecrypted { bytes } => write!(
                f,
                "rustls already decrypted {bytes} bytes of application data: they would be lost \
                 (feed it one record at a time, never past the handshake's last record)"
            ),
        }
    }
}

impl std::error::Error for TakeoverError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TakeoverError::Io(e) => Some(e),
            TakeoverError::Rustls(e) => Some(e),
            TakeoverError::Tls(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for TakeoverError {
    fn from(e: io::Error) -> Self {
        TakeoverError::Io(e)
    }
}

impl From<TakeoverError> for io::Error {
    fn from(e: TakeoverError) -> Self {
        match e {
            TakeoverError::Io(e) => e,
            other => io::Error::new(io::ErrorKind::InvalidData, other),
        }
    }
}

/// What a server takeover found on the connection.
#[derive(Debug)]
pub enum Accepted<S, T> {
    /// A TLS handshake, done: the connection, carried by tlsrec.
    Tls(S),
    /// The first bytes cannot start a TLS handshake
    /// ([`first_bytes::classify`](crate::first_bytes::classify)): every
    /// byte read, unchanged and in order, and the transport, to tunnel on.
    /// Nothing went to rustls and nothing was sent.
    NotTls {
        /// What was read from the transport, untouched.
        first_bytes: Vec<u8>,
        /// The transport, positioned right after `first_bytes`.
        io: T,
    },
}

// ---------------------------------------------------------------------------
// Traffic secrets
// ---------------------------------------------------------------------------

/// Connections whose secrets a [`TrafficSecrets`] keeps at most (the oldest
/// go first), for a collector shared by many connections.
pub const MAX_KEPT_CONNECTIONS: usize = 256;

#[derive(Default)]
struct Entry {
    client_random: Vec<u8>,
    client: Option<Secret>,
    server: Option<Secret>,
}

/// A `rustls::KeyLog` that keeps the TLS 1.3 application traffic secrets
/// (`CLIENT_TRAFFIC_SECRET_0`, `SERVER_TRAFFIC_SECRET_0`) a takeover needs to
/// follow KeyUpdate, and passes every line on to the key log the config had
/// before (an `SSLKEYLOGFILE` writer still gets everything).
///
/// [`connect`] / [`accept`] / [`Handshake`] install one themselves. Callers
/// who drive rustls on their own install one with [`install_client`] /
/// [`install_server`] and pass it to [`from_connection`], which picks the
/// connection's secrets by checking them against its keys.
///
/// [`install_client`]: TrafficSecrets::install_client
/// [`install_server`]: TrafficSecrets::install_server
pub struct TrafficSecrets {
    entries: Mutex<Vec<Entry>>,
    inner: Arc<dyn rustls::KeyLog>,
}

impl fmt::Debug for TrafficSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.entries.lock().map(|e| e.len()).unwrap_or(0);
        f.debug_struct("TrafficSecrets")
            .field("connections", &n)
            .field("inner", &self.inner)
            .finish()
    }
}

const CLIENT_LABEL: &str = "CLIENT_TRAFFIC_SECRET_0";
const SERVER_LABEL: &str = "SERVER_TRAFFIC_SECRET_0";

impl TrafficSecrets {
    /// A collector forwarding to `inner` (the config's previous key log).
    #[must_use]
    pub fn new(inner: Arc<dyn rustls::KeyLog>) -> Self {
        TrafficSecrets {
            entries: Mutex::new(Vec::new()),
            inner,
        }
    }

    /// Makes `config` ready for a takeover: `enable_secret_extraction` on,
    /// and a collector as its key log (forwarding to the one it had).
    pub fn install_client(config: &mut rustls::ClientConfig) -> Arc<TrafficSecrets> {
        let log = Arc::new(TrafficSecrets::new(config.key_log.clone()));
        config.key_log = log.clone();
        config.enable_secret_extraction = true;
        log
    }

    /// [`install_client`](Self::install_client) for a server config.
    pub fn install_server(config: &mut rustls::ServerConfig) -> Arc<TrafficSecrets> {
        let log = Arc::new(TrafficSecrets::new(config.key_log.clone()));
        config.key_log = log.clone();
        config.enable_secret_extraction = true;
        log
    }

    /// The `(read, write)` secrets of the connection `est` continues (as
    /// `role`), removed from the collector: the pair whose keys are `est`'s.
    fn take_matching(&self, role: Role, est: &Established) -> Option<(Secret, Secret)> {
        let mut entries = self.entries.lock().ok()?;
        let gives = |s: &Secret, k: &RecordKeys| {
            RecordKeys::from_traffic_secret(est.suite, s).is_ok_and(|d| d == *k)
        };
        let i = entries.iter().position(|e| match (&e.client, &e.server) {
            (Some(c), Some(s)) => {
                let (r, w) = match role {
                    Role::Client => (s, c),
                    Role::Server => (c, s),
                };
                gives(r, &est.read) && gives(w, &est.write)
            }
            _ => false,
        })?;
        let e = entries.remove(i);
        let (c, s) = (e.client?, e.server?);
        Some(match role {
            Role::Client => (s, c),
            Role::Server => (c, s),
        })
    }
}

impl rustls::KeyLog for TrafficSecrets {
    fn log(&self, label: &str, client_random: &[u8], secret: &[u8]) {
        let client = label == CLIENT_LABEL;
        if client || label == SERVER_LABEL {
            if let Ok(mut entries) = self.entries.lock() {
                let i = match entries
                    .iter()
                    .position(|e| e.client_random == client_random)
                {
                    Some(i) => i,
                    None => {
                        if entries.len() == MAX_KEPT_CONNECTIONS {
                            entries.remove(0);
                        }
                        entries.push(Entry {
                            client_random: client_random.to_vec(),
                            ..Entry::default()
                        });
                        entries.len() - 1
                    }
                };
                let slot = if client {
                    &mut entries[i].client
                } else {
                    &mut entries[i].server
                };
                *slot = Some(Secret::new(secret.to_vec()));
            }
        }
        if self.inner.will_log(label) {
            self.inner.log(label, client_random, secret);
        }
    }

    fn will_log(&self, label: &str) -> bool {
        label == CLIENT_LABEL || label == SERVER_LABEL || self.inner.will_log(label)
    }
}

// ---------------------------------------------------------------------------
// The sans-IO handshake
// ---------------------------------------------------------------------------

/// What [`Handshake::step`] needs next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Send [`Handshake::take_outgoing`], then read from the transport and
    /// pass the bytes to [`Handshake::received`] (the first call, for a
    /// client, is where its ClientHello is sent).
    NeedRead,
    /// The handshake is complete: send [`Handshake::take_outgoing`], then
    /// [`Handshake::finish`].
    Done,
    /// Server only: the first bytes are not a TLS handshake. Nothing went
    /// to rustls; [`Handshake::into_received`] gives them back.
    NotTls,
}

/// A rustls handshake fed one record at a time, sans-IO, ending in a tlsrec
/// [`Session`] that holds every byte read past the handshake.
///
/// ```text
/// loop {
///     let step = hs.step();                 // on error: send take_outgoing (the alert), fail
///     send(hs.take_outgoing()?);
///     match step? {
///         Step::NeedRead => hs.received(&read()),     // end of stream: fail
///         Step::Done => break,
///         Step::NotTls => return tunnel(hs.into_received()),
///     }
/// }
/// let session = hs.finish(tlsrec::Config::default())?;
/// ```
#[derive(Debug)]
pub struct Handshake {
    conn: rustls::Connection,
    /// Read from the transport and not given to rustls.
    received: Vec<u8>,
    /// Server: the first bytes are still to be classified.
    sniff: bool,
    log: Arc<TrafficSecrets>,
}

impl Handshake {
    /// A client handshake with `config` (copied, with secret extraction and
    /// a [`TrafficSecrets`] collector added) to `server_name`.
    ///
    /// # Errors
    /// What `rustls::ClientConnection::new` refuses.
    pub fn client(
        config: Arc<rustls::ClientConfig>,
        server_name: rustls::pki_types::ServerName<'static>,
    ) -> Result<Self, TakeoverError> {
        let mut config = (*config).clone();
        let log = TrafficSecrets::install_client(&mut config);
        let conn = rustls::ClientConnection::new(Arc::new(config), server_name)
            .map_err(TakeoverError::Rustls)?;
        Ok(Handshake {
            conn: conn.into(),
            received: Vec::new(),
            sniff: false,
            log,
        })
    }

    /// A server handshake with `config` (copied, with secret extraction and
    /// a [`TrafficSecrets`] collector added). The first bytes are checked
    /// before rustls sees them ([`Step::NotTls`]).
    ///
    /// # Errors
    /// What `rustls::ServerConnection::new` refuses.
    pub fn server(config: Arc<rustls::ServerConfig>) -> Result<Self, TakeoverError> {
        let mut config = (*config).clone();
        let log = TrafficSecrets::install_server(&mut config);
        let conn =
            rustls::ServerConnection::new(Arc::new(config)).map_err(TakeoverError::Rustls)?;
        Ok(Handshake {
            conn: conn.into(),
            received: Vec::new(),
            sniff: true,
            log,
        })
    }

    /// No check of the first bytes ([`Step::NotTls`] never comes): every
    /// byte goes to rustls, which answers what cannot start a handshake
    /// with its alert. For a server that speaks only TLS.
    #[must_use]
    pub fn tls_only(mut self) -> Self {
        self.sniff = false;
        self
    }

    /// Which end this handshake is.
    #[must_use]
    pub fn role(&self) -> Role {
        match self.conn {
            rustls::Connection::Client(_) => Role::Client,
            rustls::Connection::Server(_) => Role::Server,
        }
    }

    /// The rustls connection (for what it negotiated: ALPN, SNI, the peer's
    /// certificates).
    #[must_use]
    pub fn connection(&self) -> &rustls::Connection {
        &self.conn
    }

    /// Bytes read from the transport.
    pub fn received(&mut self, bytes: &[u8]) {
        self.received.extend_from_slice(bytes);
    }

    /// Bytes read and not given to rustls (after [`Step::Done`]: what
    /// arrived behind the handshake, for the session).
    #[must_use]
    pub fn buffered(&self) -> &[u8] {
        &self.received
    }

    /// What rustls has to send.
    ///
    /// # Errors
    /// Never in practice (rustls writes into a `Vec`).
    pub fn take_outgoing(&mut self) -> Result<Vec<u8>, TakeoverError> {
        let mut out = Vec::new();
        while self.conn.wants_write() {
            self.conn.write_tls(&mut out)?;
        }
        Ok(out)
    }

    /// Feeds rustls the whole records received, one at a time, and stops
    /// after the one that completes the handshake.
    ///
    /// # Errors
    /// [`TakeoverError::Rustls`] when rustls refuses the handshake (send
    /// [`take_outgoing`](Self::take_outgoing): its alert).
    pub fn step(&mut self) -> Result<Step, TakeoverError> {
        loop {
            if !self.conn.is_handshaking() {
                return Ok(Step::Done);
            }
            if self.sniff {
                match crate::first_bytes::classify(&self.received) {
                    crate::first_bytes::FirstBytes::NeedMore => return Ok(Step::NeedRead),
                    crate::first_bytes::FirstBytes::NotTls => return Ok(Step::NotTls),
                    crate::first_bytes::FirstBytes::Tls => self.sniff = false,
                }
            }
            let Some(len) = whole_record(&self.received) else {
                return Ok(Step::NeedRead);
            };
            let mut record = &self.received[..len];
            while !record.is_empty() {
                if self.conn.read_tls(&mut record)? == 0 {
                    // rustls takes nothing more after the peer's
                    // close_notify: the handshake cannot end.
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the peer closed during the handshake",
                    )
                    .into());
                }
            }
            self.received.drain(..len);
            self.conn
                .process_new_packets()
                .map_err(TakeoverError::Rustls)?;
        }
    }

    /// Every byte received so far (after [`Step::NotTls`]: the first bytes,
    /// untouched).
    #[must_use]
    pub fn into_received(self) -> Vec<u8> {
        self.received
    }

    /// The tlsrec session continuing the connection, holding the bytes
    /// received past the handshake. Call after [`Step::Done`] and after
    /// sending [`take_outgoing`](Self::take_outgoing).
    ///
    /// # Errors
    /// As [`from_connection`].
    pub fn finish(self, cfg: Config) -> Result<Session, TakeoverError> {
        from_connection(self.conn, &self.received, Some(self.log.as_ref()), cfg)
    }
}

/// The length of the whole record at the start of `buf`, if it is all there.
fn whole_record(buf: &[u8]) -> Option<usize> {
    let len = HEADER_LEN + usize::from(u16::from_be_bytes([*buf.get(3)?, *buf.get(4)?]));
    (buf.len() >= len).then_some(len)
}

/// A tlsrec session continuing the connection `conn` completed, for callers
/// who drove rustls themselves. `leftover` is every byte read from the
/// transport and not given to rustls; it goes to the session first
/// ([`Session::recv`]). `secrets`: the collector installed in the config
/// ([`TrafficSecrets::install_client`]) for TLS 1.3 KeyUpdate; without it,
/// or if rustls already followed a KeyUpdate, a KeyUpdate fails with
/// [`Reason::NoTrafficSecret`](crate::Reason::NoTrafficSecret).
///
/// rustls must not have been given a byte past the record that completed the
/// handshake: bytes it holds of a record it has not processed cannot be seen
/// from outside and would be lost. [`Handshake`] feeds it that way.
///
/// # Errors
/// [`TakeoverError::StillHandshaking`], [`TakeoverError::UnsentRecords`],
/// [`TakeoverError::AlreadyDecrypted`] (rustls decrypted application data:
/// refused, since it would be lost), [`TakeoverError::Rustls`] (secret
/// extraction not enabled), [`TakeoverError::Tls`] (a suite tlsrec lacks).
pub fn from_connection(
    conn: impl Into<rustls::Connection>,
    leftover: &[u8],
    secrets: Option<&TrafficSecrets>,
    cfg: Config,
) -> Result<Session, TakeoverError> {
    let mut conn = conn.into();
    if conn.is_handshaking() {
        return Err(TakeoverError::StillHandshaking);
    }
    if conn.wants_write() {
        return Err(TakeoverError::UnsentRecords);
    }
    let state = conn.process_new_packets().map_err(TakeoverError::Rustls)?;
    if state.plaintext_bytes_to_read() > 0 {
        return Err(TakeoverError::AlreadyDecrypted {
            bytes: state.plaintext_bytes_to_read(),
        });
    }
    let role = match conn {
        rustls::Connection::Client(_) => Role::Client,
        rustls::Connection::Server(_) => Role::Server,
    };
    let suite = conn
        .negotiated_cipher_suite()
        .ok_or(TakeoverError::StillHandshaking)?;
    let extracted = conn
        .dangerous_extract_secrets()
        .map_err(TakeoverError::Rustls)?;
    let mut est = import::from_rustls(suite, extracted, None).map_err(TakeoverError::Tls)?;
    if est.suite.version() == Version::Tls13 {
        est.secrets = secrets.and_then(|s| s.take_matching(role, &est));
    }
    let mut session = match role {
        Role::Client => Session::client_from_established(est, cfg),
        Role::Server => Session::server_from_established(est, cfg),
    }
    .map_err(TakeoverError::Tls)?;
    session.recv(leftover);
    Ok(session)
}

// ---------------------------------------------------------------------------
// Blocking
// ---------------------------------------------------------------------------

/// Runs a client handshake with rustls over the blocking transport `io`,
/// then continues the connection with tlsrec, holding every byte that came
/// behind the server's Finished. See the [module docs](self).
///
/// # Errors
/// [`TakeoverError`]: the transport, rustls's refusal of the handshake.
pub fn connect<T: Read + Write>(
    config: Arc<rustls::ClientConfig>,
    server_name: rustls::pki_types::ServerName<'static>,
    io: T,
    cfg: Config,
) -> Result<SslStream<T>, TakeoverError> {
    match drive(Handshake::client(config, server_name)?, io, cfg)? {
        Accepted::Tls(s) => Ok(s),
        // A client does not classify what it reads.
        Accepted::NotTls { .. } => Err(TakeoverError::StillHandshaking),
    }
}

/// Runs a server handshake with rustls over the blocking transport `io`,
/// then continues the connection with tlsrec, holding every byte that came
/// behind the client's Finished; or, if the first bytes cannot start a TLS
/// handshake, gives them back untouched with the transport
/// ([`Accepted::NotTls`]). See the [module docs](self).
///
/// # Errors
/// [`TakeoverError`]: the transport, rustls's refusal of the handshake.
pub fn accept<T: Read + Write>(
    config: Arc<rustls::ServerConfig>,
    io: T,
    cfg: Config,
) -> Result<Accepted<SslStream<T>, T>, TakeoverError> {
    drive(Handshake::server(config)?, io, cfg)
}

/// Runs a server handshake with rustls over the blocking transport `io`,
/// as [`accept`] does but for a server that speaks only TLS: the first
/// bytes are not checked ([`Handshake::tls_only`]), so whatever cannot
/// start a handshake (an oversized first record, an HTTP request) goes to
/// rustls, which refuses it with its alert, as a TLS server answers.
///
/// # Errors
/// [`TakeoverError`]: the transport, rustls's refusal of the handshake.
pub fn accept_tls<T: Read + Write>(
    config: Arc<rustls::ServerConfig>,
    io: T,
    cfg: Config,
) -> Result<SslStream<T>, TakeoverError> {
    match drive(Handshake::server(config)?.tls_only(), io, cfg)? {
        Accepted::Tls(s) => Ok(s),
        // Nothing is classified without the check.
        Accepted::NotTls { .. } => Err(TakeoverError::StillHandshaking),
    }
}

fn drive<T: Read + Write>(
    mut hs: Handshake,
    mut io: T,
    cfg: Config,
) -> Result<Accepted<SslStream<T>, T>, TakeoverError> {
    let mut buf = vec![0u8; MAX_RECORD_LEN];
    loop {
        let step = hs.step();
        if step.is_ok() {
            // What rustls answered (or, at the end, its last flight) goes
            // out before anything more is read.
            send(&mut io, &hs.take_outgoing()?)?;
        }
        match step {
            Ok(Step::NeedRead) => {}
            Ok(Step::Done) => {
                let session = hs.finish(cfg)?;
                return Ok(Accepted::Tls(SslStream::new(session, io)));
            }
            Ok(Step::NotTls) => {
                return Ok(Accepted::NotTls {
                    first_bytes: hs.into_received(),
                    io,
                })
            }
            Err(e) => {
                // rustls's alert, if it has one; the refusal is the error.
                if let Ok(out) = hs.take_outgoing() {
                    let _ = send(&mut io, &out);
                }
                return Err(e);
            }
        }
        let n = loop {
            match io.read(&mut buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                r => break r?,
            }
        };
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the transport ended during the handshake",
            )
            .into());
        }
        hs.received(&buf[..n]);
    }
}

fn send<T: Write>(io: &mut T, bytes: &[u8]) -> io::Result<()> {
    if !bytes.is_empty() {
        io.write_all(bytes)?;
        io.flush()?;
    }
    Ok(())
}
