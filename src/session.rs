//! An OpenSSL-shaped connection half: `SSL_read`, `SSL_peek`, `SSL_pending`,
//! `SSL_has_pending`, `SSL_write` and `SSL_shutdown` with OpenSSL 3.0's exact
//! results, over a sans-IO transport.
//!
//! The transport is two byte queues the caller drives: received segments go
//! in with [`Session::recv`] (like writing into a memory BIO), outgoing bytes
//! come out with [`Session::take_outgoing`]. The outgoing side can be bounded
//! ([`Session::set_outgoing_capacity`], like an OpenSSL BIO pair) so that
//! writes block and the write-retry rules come into play.
//!
//! The record layer reads exactly one header, then exactly one body, from the
//! received bytes (OpenSSL without read-ahead), so `pending()` and
//! `has_pending()` report what OpenSSL reports.
//!
//! The handshake is followed passively, with keys from an SSLKEYLOGFILE (the
//! endpoint is the client): this is what conformance transcripts and
//! connection take-over need. See [`crate::replay`] for driving a session from
//! a transcript.

use bytes::{Buf, Bytes, BytesMut};

use crate::alert::{AlertDescription, AlertLevel};
use crate::cipher::{Opener, Sealer};
use crate::deframer::Deframer;
use crate::error::{Error, Reason};
use crate::follow::{Dir, DirState, KeyAction, KeyTracker};
use crate::handshake::{HandshakeJoiner, HandshakeMessage, HandshakeType, HANDSHAKE_HEADER_LEN};
use crate::keylog::KeyLog;
use crate::record::{
    ContentType, OpaqueRecord, PlainRecord, Version, HEADER_LEN, MAX_PLAINTEXT_LEN,
};

/// OpenSSL `MAX_EMPTY_RECORDS`: the 33rd consecutive empty record is fatal.
pub const MAX_EMPTY_RECORDS: u32 = 32;

/// OpenSSL `MAX_WARN_ALERT_COUNT`: the 5th consecutive warning alert is fatal.
pub const MAX_WARN_ALERT_COUNT: u32 = 5;

/// The smallest `max_send_fragment` OpenSSL accepts.
pub const MIN_SEND_FRAGMENT: usize = 512;

/// Options, mirroring OpenSSL's modes and options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `SSL_MODE_AUTO_RETRY` (on by default since OpenSSL 1.1.1).
    pub auto_retry: bool,
    /// `SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER`.
    pub accept_moving_buffer: bool,
    /// `SSL_MODE_ENABLE_PARTIAL_WRITE`.
    pub partial_write: bool,
    /// `SSL_set_max_send_fragment` (512..=16384).
    pub max_send_fragment: usize,
    /// `SSL_MODE_RELEASE_BUFFERS`: free idle buffers.
    pub release_buffers: bool,
    /// `SSL_OP_IGNORE_UNEXPECTED_EOF`: EOF counts as close_notify.
    pub ignore_unexpected_eof: bool,
    /// Beyond OpenSSL (off by default): on a write retry, compare the
    /// pending bytes by content instead of by buffer address, so a moved
    /// buffer with the same bytes is accepted and one with other bytes is
    /// refused (OpenSSL cannot tell these apart).
    pub check_retry_content: bool,
    /// Beyond OpenSSL (on by default): in TLS 1.3, before the records
    /// sealed under one key reach the AEAD's limit ([`aead_record_limit`]),
    /// send a KeyUpdate of our own and go on under the next key. Needs the
    /// traffic secrets. OpenSSL 3.0 never does this by itself.
    pub key_update_before_limit: bool,
    /// The record limit per key; `None`: the suite's, from
    /// [`aead_record_limit`]. Reading past it is refused (`internal_error`).
    pub record_limit: Option<u64>,
}

/// NewSessionTicket messages kept for [`Session::take_tickets`] (the newest).
pub const MAX_KEPT_TICKETS: usize = 8;

/// RFC 8446 5.5: "For AES-GCM, up to 2^24.5 full-size records (about 24
/// million) may be encrypted on a given connection while keeping a safety
/// margin of approximately 2^-57 for Authenticated Encryption (AE)
/// security. For ChaCha20/Poly1305, the record sequence number would wrap
/// before the safety limit is reached." (RFC 9147 4.5.3 gives the same
/// confidentiality limits.)
#[must_use]
pub fn aead_record_limit(aead: crate::cipher::AeadAlgorithm) -> u64 {
    use crate::cipher::AeadAlgorithm as A;
    match aead {
        // floor(2^24.5)
        A::Aes128Gcm | A::Aes256Gcm => 23_726_566,
        A::ChaCha20Poly1305 => u64::MAX,
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            auto_retry: true,
            accept_moving_buffer: false,
            partial_write: false,
            max_send_fragment: MAX_PLAINTEXT_LEN,
            release_buffers: false,
            ignore_unexpected_eof: false,
            check_retry_content: false,
            key_update_before_limit: true,
            record_limit: None,
        }
    }
}

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

/// Where the client's handshake stands: which server message it waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// In a handshake that no one asked this side to start (a renegotiation
    /// check fired after our own request was used up): OpenSSL's client
    /// stays at TLS_ST_OK and waits for a server message without writing a
    /// ClientHello.
    Request,
    /// ClientHello sent, ServerHello not yet read.
    Hello,
    /// TLS 1.2: reading Certificate .. ServerHelloDone.
    Done,
    /// TLS 1.2: our flight sent; NewSessionTicket / ChangeCipherSpec next.
    Ccs,
    /// Reading up to the server's Finished.
    Finished,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hs {
    Handshaking {
        stage: Stage,
        first: bool,
        /// This side started it (OpenSSL: a client answering HelloRequest
        /// counts), so application data may arrive before the ServerHello.
        ours: bool,
    },
    Established,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dead {
    /// We hit a fatal error: later calls give SYSCALL.
    Local,
    /// The peer sent a fatal alert.
    Remote,
}

/// Internal: a read was interrupted by application data the handshake
/// allows (OpenSSL's `in_read_app_data == 2`).
enum Interrupt {
    Err(SslError),
    AppData,
}

impl From<SslError> for Interrupt {
    fn from(e: SslError) -> Self {
        Interrupt::Err(e)
    }
}

#[derive(Debug, Default)]
struct WritePending {
    /// Sealed bytes not yet taken by the transport (OpenSSL `wb->left`).
    wire: BytesMut,
    /// Plaintext bytes of the pending record (`wpend_tot`, `wpend_ret`).
    tot: usize,
    /// Address of the caller's buffer the pending record came from.
    buf_addr: usize,
    /// Its content (kept only with `check_retry_content`).
    content: Vec<u8>,
    typ: Option<ContentType>,
}

/// One endpoint (the client) of a TLS connection, with OpenSSL 3.0 semantics.
#[derive(Debug)]
pub struct Session {
    cfg: Config,
    // --- transport ---
    input: BytesMut,
    eof: bool,
    out: BytesMut,
    out_capacity: Option<usize>,
    // --- read side ---
    deframer: Deframer,
    opener: Opener,
    /// The current record (OpenSSL `rrec`): its plaintext and read cursor.
    rrec: Option<(ContentType, Bytes)>,
    /// `read_record`: the record taken whole by the last read.
    taken: Option<Bytes>,
    take_whole: bool,
    /// TLS 1.3 NewSessionTicket bodies received, for the caller.
    tickets: Vec<Bytes>,
    joiner: HandshakeJoiner,
    empty_count: u32,
    alert_count: u32,
    warn_alert: u8,
    /// TLS 1.2: ChangeCipherSpec read, Finished not yet.
    ccs_seen: bool,
    // --- write side ---
    sealer: Sealer,
    wnum: usize,
    wpend: WritePending,
    queued_alert: Option<(AlertLevel, AlertDescription)>,
    key_update_due: bool,
    // --- connection ---
    tracker: KeyTracker,
    /// The client's own sent bytes, followed to know its keys.
    mirror: DirState,
    hs: Hs,
    renegotiate: bool,
    /// OpenSSL's `s->renegotiate`: set by SSL_renegotiate (and a
    /// HelloRequest), cleared when a handshake finishes; without it a
    /// starting renegotiation writes no ClientHello.
    renegotiate_requested: bool,
    /// Continues a connection from its keys (no caller reports our own
    /// sent bytes): answers a KeyUpdate by sealing one itself.
    active: bool,
    /// Continues a connection as its server (see
    /// [`Session::server_from_established`]).
    server: bool,
    /// OpenSSL's `s3.total_renegotiations`: renegotiations the check
    /// started. Application data may interrupt only a counted one.
    total_renegotiations: u32,
    in_handshake: bool,
    in_read_app_data: bool,
    received_shutdown: bool,
    sent_shutdown: bool,
    /// `shutdown` is reading for the peer's close_notify (OpenSSL's
    /// `ssl3_read_bytes` with type 0): no record type is asked for.
    shutdown_reading: bool,
    /// What the last read, peek, write or shutdown was left waiting for
    /// (OpenSSL's `rwstate` with the BIO's retry flag), which
    /// `SSL_get_error` reports again for a call that fails without
    /// setting it.
    last_blocked: Option<SslError>,
    dead: Option<Dead>,
}

fn fatal_err(reason: Reason, alert: AlertDescription) -> Error {
    Error::PeerMisbehaved { reason, alert }
}

/// The state of an established connection to continue from (after a
/// handshake done elsewhere): keys and next sequence numbers per direction.
#[derive(Debug, Clone)]
pub struct Established {
    /// The negotiated suite (its version is the connection's).
    pub suite: crate::cipher::CipherSuite,
    /// Keys for what this endpoint reads.
    pub read: crate::keys::RecordKeys,
    /// Sequence number of the next record read.
    pub read_seq: u64,
    /// Keys for what this endpoint writes.
    pub write: crate::keys::RecordKeys,
    /// Sequence number of the next record written.
    pub write_seq: u64,
    /// TLS 1.3: the current traffic secrets `(read, write)`, needed to
    /// follow KeyUpdate.
    pub secrets: Option<(crate::keys::Secret, crate::keys::Secret)>,
}

impl Session {
    /// A client session continuing an established connection.
    ///
    /// # Errors
    /// [`Error::BadInput`] if the keys do not belong to `suite`.
    pub fn client_from_established(est: Established, cfg: Config) -> Result<Self, Error> {
        Session::from_established(est, cfg, false)
    }

    /// A server session continuing an established connection. Records are
    /// read and written as by a client; what differs is the handshake
    /// messages a server may receive afterwards: a TLS 1.3 KeyUpdate is
    /// followed, a NewSessionTicket or CertificateRequest (sent only by
    /// servers, RFC 8446 4.6) is an unexpected message, and a TLS 1.2
    /// ClientHello asking to renegotiate is refused with a warning
    /// `no_renegotiation` alert and the connection goes on (RFC 5246 7.2.2:
    /// "sent ... by the server in response to a client hello after initial
    /// handshaking"; OpenSSL does so with `SSL_OP_NO_RENEGOTIATION`), since
    /// a session taken over has no handshake to run. It cannot
    /// [`renegotiate`](Self::renegotiate) either.
    ///
    /// # Errors
    /// [`Error::BadInput`] if the keys do not belong to `suite`.
    pub fn server_from_established(est: Established, cfg: Config) -> Result<Self, Error> {
        Session::from_established(est, cfg, true)
    }

    fn from_established(est: Established, cfg: Config, server: bool) -> Result<Self, Error> {
        if est.read.suite() != est.suite || est.write.suite() != est.suite {
            return Err(Error::BadInput("keys of another cipher suite"));
        }
        let mut s = Session::passive_client(KeyLog::default(), cfg);
        let v = est.suite.version();
        let secrets = match est.secrets {
            Some((r, w)) => [Some(w), Some(r)],
            None => [None, None],
        };
        s.tracker.set_established(est.suite, secrets);
        s.opener.set_keys(est.read);
        s.opener.set_sequence(est.read_seq)?;
        s.sealer.set_keys(est.write);
        s.sealer.set_sequence(est.write_seq)?;
        s.deframer.set_policy(crate::deframer::HeaderPolicy {
            version: Some(v),
            tls13_protected: v == Version::Tls13,
            allow_ccs: false,
            first_record: false,
        });
        s.hs = Hs::Established;
        s.active = true;
        s.server = server;
        Ok(s)
    }

    /// A client session that follows its handshake passively with keys from
    /// `keylog` (the ClientHello is what the caller reports with
    /// [`observe_sent`](Self::observe_sent)).
    #[must_use]
    pub fn passive_client(keylog: KeyLog, cfg: Config) -> Self {
        Session {
            cfg,
            input: BytesMut::new(),
            eof: false,
            out: BytesMut::new(),
            out_capacity: None,
            deframer: Deframer::new(),
            opener: Opener::new(),
            rrec: None,
            joiner: HandshakeJoiner::new(),
            empty_count: 0,
            alert_count: 0,
            warn_alert: 0,
            ccs_seen: false,
            sealer: Sealer::new(),
            wnum: 0,
            wpend: WritePending::default(),
            queued_alert: None,
            key_update_due: false,
            tracker: KeyTracker::new(keylog),
            mirror: DirState::default(),
            hs: Hs::Handshaking {
                stage: Stage::Hello,
                first: true,
                ours: true,
            },
            renegotiate: false,
            renegotiate_requested: false,
            active: false,
            server: false,
            taken: None,
            take_whole: false,
            tickets: Vec::new(),
            total_renegotiations: 0,
            in_handshake: false,
            in_read_app_data: false,
            received_shutdown: false,
            sent_shutdown: false,
            shutdown_reading: false,
            last_blocked: None,
            dead: None,
        }
    }

    /// The options in force.
    #[must_use]
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// The negotiated version, once known.
    #[must_use]
    pub fn version(&self) -> Option<Version> {
        self.tracker.version()
    }

    /// True once the first handshake has completed.
    #[must_use]
    pub fn is_established(&self) -> bool {
        !matches!(self.hs, Hs::Handshaking { first: true, .. })
    }

    // ------------------------------------------------------------------
    // Transport
    // ------------------------------------------------------------------

    /// A segment from the peer arrives (appended to the received bytes, as
    /// writing into OpenSSL's memory BIO does).
    pub fn recv(&mut self, segment: &[u8]) {
        // A write into the memory BIO clears its retry flags: a WANT_READ
        // left by the last call is no longer what SSL_get_error reports.
        if self.last_blocked == Some(SslError::WantRead) {
            self.last_blocked = None;
        }
        self.input.extend_from_slice(segment);
    }

    /// The transport reports end of stream after the bytes received so far.
    pub fn recv_eof(&mut self) {
        self.eof = true;
    }

    /// Bytes received and not yet taken by the record layer.
    #[must_use]
    pub fn unread_input(&self) -> usize {
        self.input.len()
    }

    /// Bounds the outgoing transport to `capacity` bytes (`None`: unbounded).
    pub fn set_outgoing_capacity(&mut self, capacity: Option<usize>) {
        self.out_capacity = capacity;
    }

    /// The peer takes up to `max` bytes of what this endpoint sent.
    pub fn take_outgoing(&mut self, max: usize) -> Bytes {
        let n = max.min(self.out.len());
        let taken = self.out.split_to(n).freeze();
        if self.cfg.release_buffers && self.out.is_empty() {
            // SSL_MODE_RELEASE_BUFFERS: an idle session holds no buffer
            // (the bytes handed out keep theirs until dropped).
            self.out = BytesMut::new();
        }
        taken
    }

    /// Bytes waiting in the outgoing transport.
    #[must_use]
    pub fn outgoing_len(&self) -> usize {
        self.out.len()
    }

    /// Writes into the bounded transport: how much it took, or `None` if it
    /// is full (would block).
    fn bio_write(&mut self, data: &[u8]) -> Option<usize> {
        let n = match self.out_capacity {
            None => data.len(),
            Some(c) => data.len().min(c.saturating_sub(self.out.len())),
        };
        if n == 0 && !data.is_empty() {
            return None;
        }
        self.out.extend_from_slice(&data[..n]);
        Some(n)
    }

    // ------------------------------------------------------------------
    // Following the handshake passively
    // ------------------------------------------------------------------

    /// Reports bytes this endpoint itself sent (its handshake flights, as a
    /// transcript's `send` steps give them): the session follows them to
    /// learn its ClientHello random and when its own keys change.
    pub fn observe_sent(&mut self, bytes: &[u8]) {
        let mut rest = bytes;
        while !rest.is_empty() || self.mirror.deframer.buffered() > 0 {
            let n = self.mirror.deframer.push(rest);
            rest = &rest[n..];
            let rec = match self.mirror.deframer.pop() {
                Ok(Some(r)) => r,
                Ok(None) if n == 0 => break,
                Ok(None) => continue,
                Err(_) => {
                    self.mirror.failed = true;
                    break;
                }
            };
            if self.mirror.failed {
                continue;
            }
            let typ = rec.header().typ;
            let tls13 = self.tracker.version() == Some(Version::Tls13);
            if tls13 && typ == ContentType::ChangeCipherSpec {
                continue;
            }
            if tls13 && typ == ContentType::ApplicationData && !self.mirror.opener.is_protected() {
                self.mirror.opener.activate();
                self.sync_sealer();
            }
            let Ok(plain) = self.mirror.opener.open(rec) else {
                self.mirror.failed = true;
                continue;
            };
            match plain.typ {
                ContentType::ChangeCipherSpec if !tls13 => {
                    self.mirror.opener.activate();
                    self.sync_sealer();
                }
                ContentType::Handshake => {
                    self.mirror.joiner.push(&plain.payload);
                    while let Ok(Some(m)) = self.mirror.joiner.pop() {
                        let waiting = matches!(
                            self.hs,
                            Hs::Established
                                | Hs::Handshaking {
                                    stage: Stage::Request,
                                    ..
                                }
                        );
                        if m.typ == HandshakeType::ClientHello && waiting {
                            // Our own renegotiation (SSL_renegotiate, or the
                            // answer to a HelloRequest) has begun.
                            self.renegotiate = false;
                            self.total_renegotiations += 1;
                            self.hs = Hs::Handshaking {
                                stage: Stage::Hello,
                                first: false,
                                ours: true,
                            };
                        }
                        let actions = self.tracker.on_message(Dir::C2s, m.typ, &m.body);
                        let [c2s, s2c] = actions;
                        if let Some(a) = c2s {
                            self.mirror.apply(a);
                            self.sync_sealer();
                        }
                        if let Some(a) = s2c {
                            self.apply_read_action(a);
                        }
                    }
                }
                _ => {}
            }
        }
        if self.sealer.is_protected() {
            self.sync_sealer_sequence();
        }
    }

    /// Our sealer takes over the keys the mirror saw activated.
    fn sync_sealer(&mut self) {
        let Some(keys) = self.mirror.opener.keys().cloned() else {
            return;
        };
        if self.sealer.keys() != Some(&keys) {
            self.sealer.set_keys(keys);
        }
        self.sync_sealer_sequence();
    }

    fn sync_sealer_sequence(&mut self) {
        if self.sealer.keys() == self.mirror.opener.keys() {
            if let Some(seq) = self.mirror.opener.sequence() {
                if Some(seq) > self.sealer.sequence() {
                    let _ = self.sealer.set_sequence(seq);
                }
            }
        }
    }

    fn apply_read_action(&mut self, a: KeyAction) {
        match a {
            KeyAction::Now(k) => self.opener.set_keys(k),
            KeyAction::Prepare(k) => self.opener.prepare(k),
            KeyAction::Missing => {}
        }
    }

    /// Runs the handshake on what has been received, as `SSL_do_handshake`
    /// would (used before the first application call).
    ///
    /// # Errors
    /// WantRead until the handshake completes, or the error that ended it.
    pub fn do_handshake(&mut self) -> Result<(), SslError> {
        if let Some(e) = self.dead_error_write() {
            return Err(e);
        }
        match self.handshake_func() {
            Ok(()) => Ok(()),
            Err(Interrupt::Err(e)) => Err(e),
            Err(Interrupt::AppData) => Err(SslError::WantRead),
        }
    }

    // ------------------------------------------------------------------
    // Reading
    // ------------------------------------------------------------------

    /// `SSL_read`: at most one record's bytes; `Ok(0)` only for an empty
    /// `buf` with a record available (OpenSSL returns 0 there too).
    ///
    /// # Errors
    /// As `SSL_get_error` would report.
    pub fn read(&mut self, buf: &mut [u8]) -> Result<usize, SslError> {
        let r = self.read_internal(buf, false);
        self.note_blocked(&r)
    }

    fn note_blocked<T>(&mut self, r: &Result<T, SslError>) -> Result<T, SslError>
    where
        T: Copy,
    {
        self.last_blocked = match r {
            Err(e @ (SslError::WantRead | SslError::WantWrite)) => Some(e.clone()),
            _ => None,
        };
        r.clone()
    }

    /// Like [`read`](Self::read), but hands out what is left of the current
    /// application-data record whole, as `Bytes` split off the receive
    /// buffer: the plaintext is not copied (the AEAD decrypted it in place).
    /// Same results and errors as `read` with a buffer of unlimited size.
    ///
    /// # Errors
    /// As [`read`](Self::read).
    pub fn read_record(&mut self) -> Result<Bytes, SslError> {
        self.take_whole = true;
        // The 1-byte buffer only passes `read`'s checks; nothing is copied.
        let r = self.read_internal(&mut [0u8; 1], false);
        self.take_whole = false;
        r?;
        Ok(self.taken.take().unwrap_or_default())
    }

    /// TLS 1.3 NewSessionTicket messages received since the last call
    /// (their bodies, RFC 8446 4.6.1), for a caller that keeps tickets.
    pub fn take_tickets(&mut self) -> Vec<Bytes> {
        std::mem::take(&mut self.tickets)
    }

    /// `SSL_peek`: like `read` but the bytes stay.
    ///
    /// # Errors
    /// As [`read`](Self::read).
    pub fn peek(&mut self, buf: &mut [u8]) -> Result<usize, SslError> {
        let r = self.read_internal(buf, true);
        self.note_blocked(&r)
    }

    /// `SSL_pending`: bytes left in the current application-data record.
    #[must_use]
    pub fn pending(&self) -> usize {
        if self.deframer.pending_header().is_some() {
            return 0;
        }
        match &self.rrec {
            Some((ContentType::ApplicationData, b)) => b.len(),
            _ => 0,
        }
    }

    /// `SSL_has_pending`: a record not fully read, or unprocessed bytes in
    /// the record layer (not counting what the transport still holds).
    #[must_use]
    pub fn has_pending(&self) -> bool {
        // A header alone counts for nothing (OpenSSL moved it out of its
        // read buffer), as in `read_pending`.
        self.rrec.is_some() || self.read_pending() || self.joiner.buffered() > 0
    }

    fn later_read_error(&self) -> SslError {
        if self.received_shutdown && self.warn_alert == u8::from(AlertDescription::CloseNotify) {
            SslError::ZeroReturn
        } else {
            SslError::Syscall
        }
    }

    /// A write on a failed connection: OpenSSL's state machine refuses
    /// without an error of its own, so `SSL_get_error` says ZERO_RETURN
    /// once a fatal alert arrived with no warning alert but close_notify
    /// before it (`warn_alert` starts at 0, close_notify), else SYSCALL.
    fn dead_error_write(&self) -> Option<SslError> {
        self.dead.map(|_| self.later_read_error())
    }

    fn read_internal(&mut self, buf: &mut [u8], peek: bool) -> Result<usize, SslError> {
        if !peek && !self.take_whole && !buf.is_empty() && self.steady_reading() {
            if let Some(n) = self.read_app_data_fast(buf)? {
                return Ok(n);
            }
        }
        // A6: after close_notify (or a fatal alert) reads return 0 at once.
        if self.received_shutdown {
            return Err(self.later_read_error());
        }
        if self.dead.is_some() {
            // OpenSSL's state machine refuses before `ssl3_read_bytes`
            // resets `rwstate`: SSL_get_error repeats what the last call
            // was left waiting for, else SYSCALL.
            return Err(self.last_blocked.clone().unwrap_or(SslError::Syscall));
        }
        if self.renegotiate {
            self.renegotiate_check(false);
        }
        self.in_read_app_data = true;
        let r = match self.read_bytes(buf, peek) {
            Err(Interrupt::AppData) => {
                // OpenSSL (`ssl3_read_internal`) leaves `in_read_app_data`
                // at 2 after this path, so a later SSL_write whose
                // handshake meets application data stops with SYSCALL.
                self.in_handshake = true;
                let r = self.read_bytes(buf, peek);
                self.in_handshake = false;
                r
            }
            r => {
                self.in_read_app_data = false;
                r
            }
        };
        match r {
            Ok(n) => Ok(n),
            Err(Interrupt::Err(e)) => Err(e),
            Err(Interrupt::AppData) => Err(SslError::WantRead),
        }
    }

    /// Established, nothing unusual under way: no handshake, renegotiation
    /// request, shutdown, failure or partial handshake message. Then a read
    /// of application data takes [`read_app_data_fast`](Self::read_app_data_fast),
    /// which leaves the state `read_bytes` would.
    fn steady_reading(&self) -> bool {
        !self.received_shutdown
            && self.dead.is_none()
            && !self.renegotiate
            && !self.in_handshake
            && !self.ccs_seen
            && matches!(self.hs, Hs::Established)
            && self.joiner.buffered() == 0
    }

    /// The common case of `SSL_read` on a [steady](Self::steady_reading)
    /// session: copies out of the current application-data record, opening
    /// the next record first if none is current. `Ok(None)` when the record
    /// is of another type (it is kept in `rrec` for `read_bytes`).
    #[inline]
    fn read_app_data_fast(&mut self, buf: &mut [u8]) -> Result<Option<usize>, SslError> {
        // `read_internal` leaves it so whenever `read_bytes` ends without
        // meeting application data a handshake allowed.
        self.in_read_app_data = false;
        if self.rrec.is_none() {
            if let Some(n) = self.read_in_place(buf)? {
                return Ok(Some(n));
            }
        }
        if self.rrec.is_none() {
            let rec = self.get_record()?;
            self.rrec = Some((rec.typ, rec.payload));
        }
        let Some((ContentType::ApplicationData, data)) = self.rrec.as_mut() else {
            return Ok(None);
        };
        if data.is_empty() {
            // An empty record kept by a handshake: `read_bytes` uses it up.
            return Ok(None);
        }
        // As `read_bytes`: a non-empty record that is not an alert ends a
        // run of warning alerts.
        self.alert_count = 0;
        let n = buf.len().min(data.len());
        buf[..n].copy_from_slice(&data[..n]);
        data.advance(n);
        if data.is_empty() {
            self.rrec = None;
            self.release_read_buffer();
        }
        Ok(Some(n))
    }

    /// OpenSSL `ssl3_renegotiate_check`: start a requested renegotiation
    /// once nothing is pending in either direction.
    fn renegotiate_check(&mut self, initok: bool) -> bool {
        if self.renegotiate
            && !self.read_pending()
            && self.wpend.wire.is_empty()
            && (initok || matches!(self.hs, Hs::Established))
        {
            self.renegotiate = false;
            self.total_renegotiations += 1;
            // The client writes its ClientHello now (the caller reports the
            // bytes through observe_sent), if a request is still standing.
            self.hs = Hs::Handshaking {
                stage: if self.renegotiate_requested {
                    Stage::Hello
                } else {
                    Stage::Request
                },
                first: false,
                ours: true,
            };
            return true;
        }
        false
    }

    /// `SSL_renegotiate`: asks for a new handshake (TLS 1.2). It starts at
    /// the next read or write once nothing is pending in either direction,
    /// as OpenSSL's `ssl3_renegotiate_check` has it; this passive session
    /// then expects its own ClientHello through
    /// [`observe_sent`](Self::observe_sent).
    ///
    /// # Errors
    /// Refused (not fatal) unless TLS 1.2 was negotiated: TLS 1.3 has no
    /// renegotiation (OpenSSL: `wrong ssl version`).
    pub fn renegotiate(&mut self) -> Result<(), SslError> {
        if self.server {
            return Err(SslError::Ssl(Error::Misuse {
                reason: Reason::NoHandshake,
                alert: None,
            }));
        }
        if self.tracker.version() != Some(Version::Tls12) {
            return Err(SslError::Ssl(Error::Misuse {
                reason: Reason::WrongSslVersion,
                alert: None,
            }));
        }
        self.renegotiate = true;
        self.renegotiate_requested = true;
        Ok(())
    }

    /// OpenSSL's `RECORD_LAYER_read_pending`: bytes of a record read from
    /// the transport in part (its `rbuf.left`, which a whole header moves
    /// into the packet: a header alone leaves nothing pending).
    fn read_pending(&self) -> bool {
        let held = self.deframer.buffered();
        if self.deframer.pending_header().is_some() {
            held > HEADER_LEN
        } else {
            held > 0
        }
    }

    /// A HelloRequest read at TLS_ST_OK: OpenSSL calls
    /// SSL_renegotiate_abbreviated, then `ssl3_renegotiate_check(s, 1)`
    /// (statem_clnt.c, TLS_ST_CR_HELLO_REQ). If it fires, the renegotiation
    /// is counted and the ClientHello goes out; if not (a record half read
    /// or a write pending), the handshake ends at TLS_ST_OK, which clears
    /// `s->renegotiate`: the request waits for a later check, and that one
    /// writes no ClientHello.
    fn hello_request_received(&mut self) {
        self.renegotiate = true;
        self.renegotiate_requested = true;
        if !self.read_pending() && self.wpend.wire.is_empty() {
            self.renegotiate = false;
            self.total_renegotiations += 1;
            self.hs = Hs::Handshaking {
                stage: Stage::Hello,
                first: false,
                ours: true,
            };
        } else {
            self.renegotiate_requested = false;
            self.hs = Hs::Established;
        }
    }

    fn in_init(&self) -> bool {
        matches!(self.hs, Hs::Handshaking { .. })
    }

    /// OpenSSL `ssl3_read_bytes(SSL3_RT_APPLICATION_DATA)`.
    fn read_bytes(&mut self, buf: &mut [u8], peek: bool) -> Result<usize, Interrupt> {
        if !self.in_handshake && self.in_init() {
            self.handshake_func()?;
        }
        loop {
            if self.rrec.is_none()
                && !self.in_init()
                && self.joiner.buffered() >= HANDSHAKE_HEADER_LEN
            {
                // A message whose header an earlier entry read and left
                // (OpenSSL's `handshake_fragment`): into the handshake again.
                self.handshake_func()?;
                if !self.cfg.auto_retry {
                    return Err(SslError::WantRead.into());
                }
                continue;
            }
            let (typ, len) = match &self.rrec {
                Some((t, b)) => (*t, b.len()),
                None => {
                    // `shutdown` meets an empty application data record
                    // too (OpenSSL hands empty records up; a read skips
                    // them, the shutdown's read fails on them).
                    let rec = self.get_record_keeping(self.shutdown_reading)?;
                    let t = rec.typ;
                    let l = rec.payload.len();
                    self.rrec = Some((rec.typ, rec.payload));
                    (t, l)
                }
            };
            if self.tracker.version() == Some(Version::Tls13)
                && self.joiner.is_mid_message()
                && typ != ContentType::Handshake
            {
                return Err(self
                    .fatal(fatal_err(
                        Reason::MixedHandshakeAndNonHandshakeData,
                        AlertDescription::UnexpectedMessage,
                    ))
                    .into());
            }
            if typ != ContentType::Alert && len != 0 {
                self.alert_count = 0;
            }
            if self.ccs_seen && typ != ContentType::Handshake {
                return Err(self
                    .fatal(fatal_err(
                        Reason::DataBetweenCcsAndFinished,
                        AlertDescription::UnexpectedMessage,
                    ))
                    .into());
            }
            if self.received_shutdown {
                self.rrec = None;
                return Err(self.later_read_error().into());
            }
            match typ {
                ContentType::ApplicationData if self.shutdown_reading => {
                    return Err(self.data_after_close_notify().into());
                }
                ContentType::ApplicationData => {
                    if self.in_init() && !self.opener.is_protected() {
                        return Err(self
                            .fatal(fatal_err(
                                Reason::UnexpectedRecord,
                                AlertDescription::UnexpectedMessage,
                            ))
                            .into());
                    }
                    if buf.is_empty() {
                        // A4: the record was read and stays buffered.
                        return Err(SslError::Syscall.into());
                    }
                    if self.take_whole && !peek {
                        if let Some((_, data)) = self.rrec.take() {
                            if data.is_empty() {
                                continue;
                            }
                            let n = data.len();
                            self.taken = Some(data);
                            self.release_read_buffer();
                            return Ok(n);
                        }
                    }
                    let Some((_, data)) = self.rrec.as_mut() else {
                        unreachable!("set above")
                    };
                    let n = buf.len().min(data.len());
                    buf[..n].copy_from_slice(&data[..n]);
                    if !peek {
                        data.advance(n);
                    }
                    // An empty record (kept by a handshake that stopped at
                    // it) is used up even by a peek.
                    if data.is_empty() {
                        self.rrec = None;
                        self.release_read_buffer();
                    }
                    if n == 0 {
                        continue;
                    }
                    return Ok(n);
                }
                ContentType::Handshake if self.in_handshake => {
                    // Reading application data that a handshake allowed
                    // (`in_read_app_data == 2`): OpenSSL 3.0 cannot take a
                    // handshake record here ("we already handled all of
                    // these") and fails with ERR_R_INTERNAL_ERROR, once
                    // the record went into its handshake fragment (read).
                    self.rrec = None;
                    return Err(self
                        .fatal(fatal_err(
                            Reason::InternalError,
                            AlertDescription::UnexpectedMessage,
                        ))
                        .into());
                }
                ContentType::Handshake => {
                    // After our close_notify a TLS 1.2 handshake record is
                    // dropped before any of it reaches the handshake
                    // fragment (with or without auto_retry); TLS 1.3 ones
                    // (KeyUpdate, tickets) are still processed, as OpenSSL
                    // 3.0 does.
                    if self.sent_shutdown && self.tracker.version() != Some(Version::Tls13) {
                        self.rrec = None;
                        if self.cfg.auto_retry {
                            continue;
                        }
                        return Err(SslError::WantRead.into());
                    }
                    // Whole record into the message joiner (OpenSSL copies 4
                    // bytes into handshake_fragment and the statem the rest).
                    if let Some((_, data)) = self.rrec.take() {
                        self.joiner.push(&data);
                    }
                    if self.joiner.buffered() < HANDSHAKE_HEADER_LEN {
                        continue;
                    }
                    // Handshake data outside a handshake: back into init.
                    self.handshake_func()?;
                    if !self.cfg.auto_retry {
                        return Err(SslError::WantRead.into());
                    }
                }
                ContentType::Alert => {
                    let data = self.rrec.take().map(|(_, d)| d).unwrap_or_default();
                    if let Err(e) = self.handle_alert(&data) {
                        // An alert OpenSSL cannot parse (length, level) is
                        // refused before it marks the record read.
                        if let SslError::Ssl(err) = &e {
                            if matches!(
                                err.reason(),
                                Some(Reason::InvalidAlert | Reason::UnknownAlertType)
                            ) {
                                self.rrec = Some((ContentType::Alert, data));
                            }
                        }
                        return Err(e.into());
                    }
                }
                ContentType::ChangeCipherSpec
                | ContentType::Heartbeat
                | ContentType::Unknown(_)
                    if self.sent_shutdown =>
                {
                    return Err(self.data_after_close_notify().into());
                }
                // These refusals leave the record unread in OpenSSL
                // (SSL_has_pending stays true on the failed connection).
                ContentType::ChangeCipherSpec => {
                    return Err(self
                        .fatal(fatal_err(
                            Reason::CcsReceivedEarly,
                            AlertDescription::UnexpectedMessage,
                        ))
                        .into());
                }
                _ => {
                    return Err(self
                        .fatal(fatal_err(
                            Reason::UnexpectedRecord,
                            AlertDescription::UnexpectedMessage,
                        ))
                        .into());
                }
            }
        }
    }

    /// OpenSSL `ssl3_read_bytes` after our close_notify: a record that is
    /// neither an alert nor handshake, and not what the caller asked for
    /// (any such record when `shutdown` reads), fails the connection
    /// without an alert.
    fn data_after_close_notify(&mut self) -> SslError {
        self.rrec = None;
        self.fatal(Error::InvalidRecord {
            reason: Reason::ApplicationDataAfterCloseNotify,
            alert: None,
        })
    }

    /// C1-C4: an alert record. Returns Ok to go on reading.
    fn handle_alert(&mut self, data: &[u8]) -> Result<(), SslError> {
        let tls13 = self.tracker.version() == Some(Version::Tls13);
        if data.len() != 2 {
            return Err(self.fatal(fatal_err(
                Reason::InvalidAlert,
                AlertDescription::UnexpectedMessage,
            )));
        }
        let level = AlertLevel::from(data[0]);
        let desc = AlertDescription::from(data[1]);
        if level == AlertLevel::Warning || (tls13 && desc == AlertDescription::UserCanceled) {
            self.warn_alert = data[1];
            self.alert_count += 1;
            if self.alert_count == MAX_WARN_ALERT_COUNT {
                return Err(self.fatal(fatal_err(
                    Reason::TooManyWarnAlerts,
                    AlertDescription::UnexpectedMessage,
                )));
            }
        }
        if tls13 && desc == AlertDescription::UserCanceled {
            return Ok(());
        }
        if desc == AlertDescription::CloseNotify && (tls13 || level == AlertLevel::Warning) {
            self.received_shutdown = true;
            return Err(SslError::ZeroReturn);
        }
        if level == AlertLevel::Fatal || tls13 {
            self.received_shutdown = true;
            self.dead = Some(Dead::Remote);
            return Err(SslError::Ssl(Error::AlertReceived(desc)));
        }
        if desc == AlertDescription::NoRenegotiation {
            return Err(self.fatal(fatal_err(
                Reason::NoRenegotiation,
                AlertDescription::HandshakeFailure,
            )));
        }
        if level == AlertLevel::Warning {
            return Ok(());
        }
        Err(self.fatal(fatal_err(
            Reason::UnknownAlertType,
            AlertDescription::IllegalParameter,
        )))
    }

    fn release_read_buffer(&mut self) {
        if self.cfg.release_buffers {
            self.deframer.release();
            if self.input.is_empty() {
                self.input = BytesMut::new();
            }
        }
    }

    /// OpenSSL `ssl3_get_record` without read-ahead: exactly a header, then
    /// exactly a body, from the received bytes; empty records skipped.
    fn get_record(&mut self) -> Result<PlainRecord, SslError> {
        self.get_record_keeping(false)
    }

    /// Like `get_record`; with `keep_empty_app` an empty application data
    /// record is returned (counted as empty): OpenSSL's handshake reader
    /// meets it as application data, which may interrupt a handshake.
    fn get_record_keeping(&mut self, keep_empty_app: bool) -> Result<PlainRecord, SslError> {
        loop {
            // A whole record waiting in the received bytes is split off them
            // without a copy; otherwise the bytes go through the deframer.
            let rec = if let Some(r) = self.deframer.pop_from(&mut self.input) {
                r
            } else {
                self.pop_record_slow()?
            };
            let tls13 = self.tracker.version() == Some(Version::Tls13);
            if tls13 && rec.header().typ == ContentType::ChangeCipherSpec {
                // RFC 8446 5: "An implementation may receive an unencrypted
                // record of type change_cipher_spec consisting of the single
                // byte value 0x01 at any time after the first ClientHello
                // message has been sent or received and before the peer's
                // Finished message has been received and MUST simply drop it
                // without further processing." OpenSSL counts it as empty.
                if rec.wire_bytes()[5..] != [1] {
                    return Err(self.fatal(fatal_err(
                        Reason::UnexpectedMessage,
                        AlertDescription::UnexpectedMessage,
                    )));
                }
                self.count_empty()?;
                continue;
            }
            let plain = match self.opener.open(rec) {
                Ok(p) => p,
                Err(e) => return Err(self.fatal(e)),
            };
            if self.accept_opened(plain.typ, plain.payload.len(), keep_empty_app)? {
                return Ok(plain);
            }
        }
    }

    /// The checks on a record just opened: `Ok(true)` to hand it out,
    /// `Ok(false)` to skip it (empty), or the fatal error.
    fn accept_opened(
        &mut self,
        typ: ContentType,
        len: usize,
        keep_empty_app: bool,
    ) -> Result<bool, SslError> {
        // RFC 8446 5.5: "Implementations SHOULD NOT allow the use of a
        // key for more records than the limit": the peer should have
        // updated its key (beyond OpenSSL, which does not count).
        let opened = self.opener.sequence().unwrap_or(0);
        if opened > self.record_limit(self.opener.suite()) {
            return Err(self.fatal(Error::PeerMisbehaved {
                reason: Reason::KeyUsageLimit,
                alert: AlertDescription::InternalError,
            }));
        }
        if len == 0 {
            // B3: TLS 1.3 handshake and alert records may not be empty.
            if self.tracker.version() == Some(Version::Tls13)
                && matches!(typ, ContentType::Handshake | ContentType::Alert)
            {
                return Err(self.fatal(fatal_err(
                    Reason::BadLength,
                    AlertDescription::UnexpectedMessage,
                )));
            }
            self.count_empty()?;
            // OpenSSL 3.0 hands an empty record up like any other: reading
            // skips empty application data and handshake records, while
            // an empty TLS 1.2 alert is an invalid alert and an empty
            // record of any other type an unexpected one.
            let other = !matches!(typ, ContentType::ApplicationData | ContentType::Handshake);
            return Ok((keep_empty_app && typ == ContentType::ApplicationData) || other);
        }
        self.empty_count = 0;
        Ok(true)
    }

    /// The common case of reading on a [steady](Self::steady_reading)
    /// session with no current record: the next record is whole in the
    /// received bytes. It is opened where it lies; application data that
    /// fits `buf` is copied out and the record's bytes dropped (no split,
    /// no reference count). Anything else (another type, more than `buf`
    /// holds) becomes the current record without a copy; an empty record is
    /// skipped. `Ok(None)` then, and when no whole record is there.
    fn read_in_place(&mut self, buf: &mut [u8]) -> Result<Option<usize>, SslError> {
        let Some(header) = self.deframer.whole_record(&self.input) else {
            return Ok(None);
        };
        if header.typ == ContentType::ChangeCipherSpec {
            // TLS 1.3 drops it, TLS 1.2 refuses it: `get_record` decides.
            return Ok(None);
        }
        let total = HEADER_LEN + usize::from(header.len);
        self.deframer.taken();
        let opened = self.opener.open_in_place(&header, &mut self.input[..total]);
        let (typ, plain) = match opened {
            Ok(o) => o,
            Err(e) => {
                self.input.advance(total);
                return Err(self.fatal(e));
            }
        };
        match self.accept_opened(typ, plain.len(), false) {
            Ok(true) => {}
            Ok(false) => {
                self.input.advance(total);
                return Ok(None);
            }
            Err(e) => {
                self.input.advance(total);
                return Err(e);
            }
        }
        let n = plain.len();
        if typ == ContentType::ApplicationData && n <= buf.len() {
            buf[..n].copy_from_slice(&self.input[plain]);
            self.input.advance(total);
            self.alert_count = 0;
            self.release_read_buffer();
            return Ok(Some(n));
        }
        let mut rec = self.input.split_to(total);
        rec.advance(plain.start);
        rec.truncate(n);
        self.rrec = Some((typ, rec.freeze()));
        Ok(None)
    }

    /// The received bytes through the deframer: exactly a header, then
    /// exactly a body (no read-ahead), until a record is whole.
    fn pop_record_slow(&mut self) -> Result<OpaqueRecord, SslError> {
        loop {
            let want = self.deframer.wanted();
            let n = want.min(self.input.len());
            if n > 0 {
                let taken = self.deframer.push(&self.input[..n]);
                self.input.advance(taken);
            }
            match self.deframer.pop() {
                Ok(Some(r)) => return Ok(r),
                Ok(None) => {
                    if !self.input.is_empty() {
                        continue;
                    }
                    return Err(self.at_eof_or_wait());
                }
                Err(e) => {
                    // OpenSSL refuses a header before it reads the body:
                    // nothing of the record stays in its read buffer
                    // (SSL_has_pending is false).
                    self.deframer = Deframer::new();
                    return Err(self.fatal(e));
                }
            }
        }
    }

    fn count_empty(&mut self) -> Result<(), SslError> {
        self.empty_count += 1;
        if self.empty_count > MAX_EMPTY_RECORDS {
            return Err(self.fatal(fatal_err(
                Reason::RecordTooSmall,
                AlertDescription::UnexpectedMessage,
            )));
        }
        Ok(())
    }

    /// No more bytes: wait, or handle the end of the stream (G1, G2).
    fn at_eof_or_wait(&mut self) -> SslError {
        if !self.eof {
            return SslError::WantRead;
        }
        if self.cfg.ignore_unexpected_eof {
            // OpenSSL: SSL_set_shutdown(s, SSL_RECEIVED_SHUTDOWN), which
            // replaces the flags: a close_notify we sent is forgotten (a
            // later SSL_shutdown sends another, SSL_write works again). The
            // bytes of a record cut short stay in the read buffer
            // (SSL_has_pending says so).
            self.received_shutdown = true;
            self.sent_shutdown = false;
            self.warn_alert = u8::from(AlertDescription::CloseNotify);
            return SslError::ZeroReturn;
        }
        // OpenSSL 3.0 sends decode_error and reports SSL_ERROR_SSL with
        // "unexpected eof while reading" (libssl 3.0.19 over a memory BIO,
        // which reports the end of stream as a socket BIO does).
        self.fatal(Error::record(
            Reason::UnexpectedEofWhileReading,
            AlertDescription::DecodeError,
        ))
    }

    /// Marks the connection failed, sends the alert if there is one, and
    /// returns the error to report.
    fn fatal(&mut self, err: Error) -> SslError {
        if self.dead.is_none() {
            self.dead = Some(Dead::Local);
            if let Some(a) = err.alert() {
                self.queued_alert = Some((AlertLevel::Fatal, a));
                self.dispatch_alert();
            }
        }
        SslError::Ssl(err)
    }

    /// Sends a queued alert unless a write is pending (OpenSSL keeps it
    /// queued behind the pending record).
    fn dispatch_alert(&mut self) {
        if !self.wpend.wire.is_empty() {
            return;
        }
        let Some((level, a)) = self.queued_alert.take() else {
            return;
        };
        let mut rec = BytesMut::new();
        if self
            .sealer
            .seal(ContentType::Alert, &[level.into(), a.into()], &mut rec)
            .is_err()
        {
            return;
        }
        let n = self.bio_write(&rec).unwrap_or(0);
        if n < rec.len() {
            rec.advance(n);
            self.wpend.wire = rec;
            if level == AlertLevel::Warning {
                // OpenSSL's `ssl3_dispatch_alert` leaves the alert as the
                // pending write (`wpend_type` alert, `wpend_tot` 2): an
                // SSL_write now is a bad write retry.
                self.wpend.tot = 2;
                self.wpend.buf_addr = 0;
                self.wpend.typ = Some(ContentType::Alert);
            }
        }
    }

    /// Queues a warning alert and sends it now unless a write is pending
    /// (OpenSSL `ssl3_send_alert` with `SSL3_AL_WARNING`).
    fn send_warning(&mut self, a: AlertDescription) {
        self.queued_alert = Some((AlertLevel::Warning, a));
        self.dispatch_alert();
    }

    // ------------------------------------------------------------------
    // The handshake (passive client)
    // ------------------------------------------------------------------

    fn next_handshake_message(&mut self) -> Result<Option<HandshakeMessage>, Interrupt> {
        match self.joiner.pop() {
            Ok(m) => Ok(m),
            Err(e) => {
                // OpenSSL's read_state_machine checks the type (transition)
                // before the size: an unexpected message is that first.
                if self.hs == Hs::Established {
                    if let Some(t) = self.joiner.pending_type() {
                        if !self.post_handshake_type_allowed(t) {
                            return Err(self.unexpected());
                        }
                    }
                }
                Err(self.fatal(e).into())
            }
        }
    }

    /// Messages a client takes after its handshake (OpenSSL's TLS_ST_OK
    /// read transitions); for a server, KeyUpdate and (TLS 1.2) ClientHello.
    fn post_handshake_type_allowed(&self, t: HandshakeType) -> bool {
        use HandshakeType as T;
        if self.server {
            return match self.tracker.version() {
                Some(Version::Tls13) => t == T::KeyUpdate,
                _ => t == T::ClientHello,
            };
        }
        match self.tracker.version() {
            Some(Version::Tls13) => matches!(
                t,
                T::NewSessionTicket | T::KeyUpdate | T::CertificateRequest
            ),
            _ => t == T::HelloRequest,
        }
    }

    /// Bytes held inside the record layer: a record being assembled plus
    /// complete ones not yet read, and a handshake message being joined
    /// (not counting [`unread_input`](Self::unread_input)).
    #[must_use]
    pub fn buffered(&self) -> usize {
        self.deframer.buffered()
            + self.rrec.as_ref().map_or(0, |(_, b)| b.len())
            + self.joiner.buffered()
    }

    /// Reads records for the handshake until a whole message (or a
    /// ChangeCipherSpec) is available: OpenSSL `ssl3_read_bytes(SSL3_RT_HANDSHAKE)`.
    fn read_handshake_input(&mut self) -> Result<Option<HandshakeMessage>, Interrupt> {
        loop {
            if let Some(m) = self.next_handshake_message()? {
                return Ok(Some(m));
            }
            let rec = match self.rrec.take() {
                Some((typ, payload)) => PlainRecord {
                    typ,
                    version: crate::ProtocolVersion::TLS12,
                    payload,
                },
                None => self.get_record_keeping(true)?,
            };
            if self.tracker.version() == Some(Version::Tls13)
                && self.joiner.is_mid_message()
                && rec.typ != ContentType::Handshake
            {
                return Err(self
                    .fatal(fatal_err(
                        Reason::MixedHandshakeAndNonHandshakeData,
                        AlertDescription::UnexpectedMessage,
                    ))
                    .into());
            }
            // As in ssl3_read_bytes: only a non-empty record of another
            // type ends a run of warning alerts.
            if rec.typ != ContentType::Alert && !rec.payload.is_empty() {
                self.alert_count = 0;
            }
            if self.ccs_seen && rec.typ != ContentType::Handshake {
                return Err(self
                    .fatal(fatal_err(
                        Reason::DataBetweenCcsAndFinished,
                        AlertDescription::UnexpectedMessage,
                    ))
                    .into());
            }
            if self.received_shutdown {
                // ssl3_read_bytes: after the peer's close_notify (or fatal
                // alert) a record read is emptied, not marked read (it
                // stays: SSL_has_pending), and the handshake stops;
                // SSL_get_error says ZERO_RETURN or SYSCALL.
                self.rrec = Some((rec.typ, Bytes::new()));
                return Err(self.later_read_error().into());
            }
            match rec.typ {
                ContentType::Handshake => self.joiner.push(&rec.payload),
                ContentType::ChangeCipherSpec => {
                    if self.joiner.is_mid_message() {
                        return Err(self
                            .fatal(fatal_err(
                                Reason::CcsReceivedEarly,
                                AlertDescription::UnexpectedMessage,
                            ))
                            .into());
                    }
                    self.on_ccs(&rec.payload)?;
                }
                ContentType::Alert => self.handle_alert(&rec.payload)?,
                ContentType::ApplicationData => {
                    let allowed = self.app_data_allowed();
                    // Refused or not, the record stays OpenSSL's current
                    // record: SSL_pending still counts it after the error.
                    self.rrec = Some((rec.typ, rec.payload));
                    if allowed {
                        return Err(Interrupt::AppData);
                    }
                    return Err(self
                        .fatal(fatal_err(
                            Reason::UnexpectedRecord,
                            AlertDescription::UnexpectedMessage,
                        ))
                        .into());
                }
                _ => {
                    return Err(self
                        .fatal(fatal_err(
                            Reason::UnexpectedRecord,
                            AlertDescription::UnexpectedMessage,
                        ))
                        .into());
                }
            }
        }
    }

    /// D1: application data in the middle of a handshake is allowed only from
    /// SSL_read, in a handshake this side started, before the peer's hello.
    fn app_data_allowed(&self) -> bool {
        self.in_read_app_data
            && self.total_renegotiations > 0
            && matches!(
                self.hs,
                Hs::Handshaking {
                    stage: Stage::Hello,
                    first: false,
                    ours: true
                }
            )
    }

    fn on_ccs(&mut self, payload: &[u8]) -> Result<(), Interrupt> {
        let ok_stage = matches!(
            self.hs,
            Hs::Handshaking {
                stage: Stage::Ccs | Stage::Done,
                ..
            }
        );
        if !ok_stage || self.tracker.version() != Some(Version::Tls12) {
            return Err(self
                .fatal(fatal_err(
                    Reason::CcsReceivedEarly,
                    AlertDescription::UnexpectedMessage,
                ))
                .into());
        }
        if payload != [1] {
            return Err(self
                .fatal(fatal_err(
                    Reason::BadLength,
                    AlertDescription::IllegalParameter,
                ))
                .into());
        }
        self.opener.activate();
        self.ccs_seen = true;
        if let Hs::Handshaking { first, ours, .. } = self.hs {
            self.hs = Hs::Handshaking {
                stage: Stage::Finished,
                first,
                ours,
            };
        }
        Ok(())
    }

    /// OpenSSL's `handshake_func` for this client: runs until the handshake
    /// is complete, or processes one post-handshake message.
    fn handshake_func(&mut self) -> Result<(), Interrupt> {
        if self.dead.is_some() {
            return Err(SslError::Syscall.into());
        }
        if !self.in_init() && self.key_update_due {
            // OpenSSL 3.0 answers a KeyUpdate that asked for one at the next
            // entry to the state machine, and that entry does nothing else
            // (its write side ends at TLS_ST_OK): a message already read
            // waits for the next entry. The KeyUpdate itself reaches this
            // passive session through `observe_sent`.
            self.key_update_due = false;
            return Ok(());
        }
        if self.hs == Hs::Established
            && self.renegotiate_requested
            && self.tracker.version() == Some(Version::Tls12)
        {
            // OpenSSL's state machine entered (for a handshake message) with
            // `s->renegotiate` set writes a ClientHello before reading
            // anything, and no renegotiation is counted (the check that
            // counts did not fire): application data before the
            // ServerHello is then refused.
            self.hs = Hs::Handshaking {
                stage: Stage::Hello,
                first: false,
                ours: true,
            };
        }
        loop {
            let prev = self.in_handshake;
            self.in_handshake = true;
            let m = self.read_handshake_input();
            self.in_handshake = prev;
            let Some(msg) = m? else { continue };
            self.process_message(msg)?;
            // One post-handshake message, or a whole handshake (a
            // HelloRequest answered at once starts one: keep going).
            if !self.in_init() {
                return Ok(());
            }
        }
    }

    fn unexpected(&mut self) -> Interrupt {
        self.fatal(fatal_err(
            Reason::UnexpectedMessage,
            AlertDescription::UnexpectedMessage,
        ))
        .into()
    }

    fn process_message(&mut self, msg: HandshakeMessage) -> Result<(), Interrupt> {
        use HandshakeType as T;
        let tls13 = self.tracker.version() == Some(Version::Tls13);
        match self.hs {
            Hs::Established => self.post_handshake_message(msg),
            Hs::Handshaking { stage, first, ours } => {
                let next = |stage| Hs::Handshaking { stage, first, ours };
                match (stage, msg.typ) {
                    // Waiting at TLS_ST_OK: a HelloRequest makes this client
                    // write its ClientHello (tls_process_hello_req).
                    (Stage::Request, T::HelloRequest) if msg.body.is_empty() => {
                        self.hello_request_received();
                    }
                    // C8: a HelloRequest during a handshake is ignored.
                    (_, T::HelloRequest) if !tls13 => {
                        if !msg.body.is_empty() {
                            return Err(self
                                .fatal(fatal_err(
                                    Reason::LengthMismatch,
                                    AlertDescription::DecodeError,
                                ))
                                .into());
                        }
                    }
                    (Stage::Hello, T::ServerHello) => {
                        let actions = self.tracker.on_message(Dir::S2c, T::ServerHello, &msg.body);
                        let v = self.tracker.version();
                        let mut p = *self.deframer.policy();
                        p.version = v;
                        p.first_record = false;
                        self.deframer.set_policy(p);
                        self.mirror.set_version(v);
                        let [c2s, s2c] = actions;
                        if let Some(a) = c2s {
                            self.mirror.apply(a);
                        }
                        if let Some(a) = s2c {
                            self.apply_read_action(a);
                        }
                        if self.tracker.awaiting_server_hello() {
                            // HelloRetryRequest: another ClientHello follows.
                            return Ok(());
                        }
                        if v == Some(Version::Tls13) {
                            let mut p = *self.deframer.policy();
                            p.tls13_protected = true;
                            self.deframer.set_policy(p);
                            self.hs = next(Stage::Finished);
                        } else {
                            self.hs = next(Stage::Done);
                        }
                    }
                    (
                        Stage::Done,
                        T::Certificate
                        | T::ServerKeyExchange
                        | T::CertificateRequest
                        | T::Unknown(22),
                    ) => {}
                    (Stage::Done, T::ServerHelloDone) => {
                        // Our flight (ClientKeyExchange, ChangeCipherSpec,
                        // Finished) goes out now; the caller reports it.
                        self.hs = next(Stage::Ccs);
                    }
                    (Stage::Ccs, T::NewSessionTicket) => {}
                    (
                        Stage::Finished,
                        T::EncryptedExtensions
                        | T::Certificate
                        | T::CertificateRequest
                        | T::CertificateVerify,
                    ) if tls13 => {}
                    (Stage::Finished, T::Finished) => {
                        if tls13 {
                            let [_, s2c] =
                                self.tracker.on_message(Dir::S2c, T::Finished, &msg.body);
                            if let Some(a) = s2c {
                                self.apply_read_action(a);
                            }
                            let mut p = *self.deframer.policy();
                            p.allow_ccs = false;
                            self.deframer.set_policy(p);
                        }
                        self.ccs_seen = false;
                        self.renegotiate_requested = false;
                        self.hs = Hs::Established;
                    }
                    _ => return Err(self.unexpected()),
                }
                Ok(())
            }
        }
    }

    fn post_handshake_message(&mut self, msg: HandshakeMessage) -> Result<(), Interrupt> {
        use HandshakeType as T;
        let tls13 = self.tracker.version() == Some(Version::Tls13);
        if !self.post_handshake_type_allowed(msg.typ) {
            return Err(self.unexpected());
        }
        match msg.typ {
            T::NewSessionTicket if tls13 => {
                // Bounded: a peer sending tickets without end cannot make
                // the session grow; the newest are kept.
                if self.tickets.len() == MAX_KEPT_TICKETS {
                    self.tickets.remove(0);
                }
                self.tickets.push(msg.body.clone());
                Ok(())
            }
            T::CertificateRequest if tls13 => Ok(()),
            T::KeyUpdate if tls13 => {
                // RFC 8446 4.6.3: "request_update ... If an implementation
                // receives any other value, it MUST terminate the connection
                // with an "illegal_parameter" alert."
                if msg.body.len() != 1 {
                    return Err(self
                        .fatal(fatal_err(
                            Reason::LengthMismatch,
                            AlertDescription::DecodeError,
                        ))
                        .into());
                }
                if msg.body[0] > 1 {
                    return Err(self
                        .fatal(fatal_err(
                            Reason::BadValue,
                            AlertDescription::IllegalParameter,
                        ))
                        .into());
                }
                // C6 / RFC 8446 5.1: "Handshake messages MUST NOT span key changes."
                if self.joiner.buffered() > 0 {
                    return Err(self
                        .fatal(fatal_err(
                            Reason::NotOnRecordBoundary,
                            AlertDescription::UnexpectedMessage,
                        ))
                        .into());
                }
                let a = self.tracker.key_update(Dir::S2c);
                self.apply_read_action(a);
                if msg.body[0] == 1 {
                    self.key_update_due = true;
                }
                Ok(())
            }
            T::ClientHello if !tls13 => {
                // A server that cannot renegotiate refuses and goes on
                // (OpenSSL `tls_process_client_hello` with
                // SSL_OP_NO_RENEGOTIATION: the message is read, the alert
                // sent, the handshake over).
                self.send_warning(AlertDescription::NoRenegotiation);
                Ok(())
            }
            T::HelloRequest if !tls13 => {
                if !msg.body.is_empty() {
                    return Err(self
                        .fatal(fatal_err(
                            Reason::LengthMismatch,
                            AlertDescription::DecodeError,
                        ))
                        .into());
                }
                self.hello_request_received();
                Ok(())
            }
            _ => Err(self.unexpected()),
        }
    }

    // ------------------------------------------------------------------
    // Writing
    // ------------------------------------------------------------------

    /// `SSL_write`: `Ok(len)` once all of `buf` is sent (with partial writes:
    /// as soon as one record is).
    ///
    /// # Errors
    /// WantWrite while the transport is full (retry with the same buffer and
    /// at least the same length), and OpenSSL's retry errors.
    pub fn write(&mut self, buf: &[u8]) -> Result<usize, SslError> {
        let r = self.write_bytes(ContentType::ApplicationData, buf);
        self.note_blocked(&r)
    }

    /// True while sealed bytes wait for the transport.
    #[must_use]
    pub fn write_pending(&self) -> bool {
        !self.wpend.wire.is_empty()
    }

    fn misuse(&mut self, reason: Reason) -> SslError {
        self.fatal(Error::Misuse {
            reason,
            alert: Some(AlertDescription::InternalError),
        })
    }

    fn write_bytes(&mut self, typ: ContentType, buf: &[u8]) -> Result<usize, SslError> {
        if typ == ContentType::ApplicationData && self.steady_writing(buf.len()) {
            return self.write_record_fast(buf);
        }
        // E8: after our close_notify, writing is refused (not fatal).
        if self.sent_shutdown {
            return Err(SslError::Ssl(Error::Misuse {
                reason: Reason::ProtocolIsShutdown,
                alert: None,
            }));
        }
        if self.renegotiate {
            self.renegotiate_check(false);
        }
        let len = buf.len();
        let mut tot = self.wnum;
        // E1
        if len < tot || (!self.wpend.wire.is_empty() && len < tot + self.wpend.tot) {
            return Err(self.misuse(Reason::BadLength));
        }
        self.wnum = 0;
        if let Some(e) = self.dead_error_write() {
            return Err(e);
        }
        // OpenSSL `ssl3_write_bytes`: a KeyUpdate to answer goes out first,
        // unless earlier records are still pending.
        // (An active session seals its answer itself, below.)
        let key_update_now = self.key_update_due && self.wpend.wire.is_empty() && !self.active;
        if (key_update_now || self.in_init()) && !self.in_handshake {
            match self.handshake_func() {
                Ok(()) => {}
                Err(Interrupt::Err(e)) => return Err(e),
                // OpenSSL 3.0 leaves `rwstate` at SSL_NOTHING when the
                // handshake stops at application data it allows
                // (`in_read_app_data = 2`), so SSL_get_error says SYSCALL;
                // nothing is consumed and the next SSL_read returns the data.
                Err(Interrupt::AppData) => return Err(SslError::Syscall),
            }
        }
        if !self.wpend.wire.is_empty() {
            // E3
            let addr = buf.as_ptr() as usize + tot;
            let moved = if self.cfg.check_retry_content {
                buf.get(tot..tot + self.wpend.tot) != Some(&self.wpend.content[..])
            } else {
                !self.cfg.accept_moving_buffer && self.wpend.buf_addr != addr
            };
            if moved || self.wpend.typ != Some(typ) {
                // ssl3_write_bytes restores `wnum` whenever the pending write
                // fails, so a later shorter call still gets `bad length`.
                self.wnum = tot;
                return Err(self.misuse(Reason::BadWriteRetry));
            }
            if let Err(e) = self.flush_pending() {
                self.wnum = tot;
                return Err(e);
            }
            tot += self.wpend.tot;
        }
        if tot == len {
            self.release_write_buffer();
            return Ok(tot);
        }
        let mut n = len - tot;
        let frag_max = self
            .cfg
            .max_send_fragment
            .clamp(MIN_SEND_FRAGMENT, MAX_PLAINTEXT_LEN);
        loop {
            self.dispatch_alert();
            let frag = n.min(frag_max);
            let chunk = &buf[tot..tot + frag];
            let mut wire = std::mem::take(&mut self.wpend.wire);
            wire.clear();
            if let Err(e) = self.key_update_if_due(&mut wire) {
                return Err(self.fatal(e));
            }
            if let Err(e) = self.sealer.seal(typ, chunk, &mut wire) {
                return Err(self.fatal(e));
            }
            self.wpend.wire = wire;
            self.wpend.tot = frag;
            self.wpend.buf_addr = chunk.as_ptr() as usize;
            self.wpend.typ = Some(typ);
            if self.cfg.check_retry_content {
                self.wpend.content.clear();
                self.wpend.content.extend_from_slice(chunk);
            }
            if let Err(e) = self.flush_pending() {
                self.wnum = tot;
                return Err(e);
            }
            if frag == n || (typ == ContentType::ApplicationData && self.cfg.partial_write) {
                if frag == n {
                    self.release_write_buffer();
                }
                return Ok(tot + frag);
            }
            n -= frag;
            tot += frag;
        }
    }

    /// Established, nothing pending, queued or due (no alert, KeyUpdate,
    /// renegotiation, retry), and `len` bytes fit one record that the
    /// transport has room for. Then a write is one record sealed straight
    /// into the transport queue: what `write_bytes` does, less the copy
    /// through the pending-write buffer.
    fn steady_writing(&self, len: usize) -> bool {
        let frag_max = self
            .cfg
            .max_send_fragment
            .clamp(MIN_SEND_FRAGMENT, MAX_PLAINTEXT_LEN);
        let room = match self.out_capacity {
            None => usize::MAX,
            Some(c) => c.saturating_sub(self.out.len()),
        };
        len > 0
            && len <= frag_max
            && self.wnum == 0
            && self.wpend.wire.is_empty()
            && !self.sent_shutdown
            && !self.renegotiate
            && !self.key_update_due
            && self.dead.is_none()
            && self.queued_alert.is_none()
            && !self.cfg.check_retry_content
            && matches!(self.hs, Hs::Established)
            && room >= self.sealer.overhead() + len
            && self
                .sealer
                .sequence()
                .is_none_or(|seq| seq.saturating_add(2) <= self.record_limit(self.sealer.suite()))
    }

    /// One application-data record of all of `buf`, on a
    /// [steady](Self::steady_writing) session.
    fn write_record_fast(&mut self, buf: &[u8]) -> Result<usize, SslError> {
        if let Err(e) = self
            .sealer
            .seal(ContentType::ApplicationData, buf, &mut self.out)
        {
            return Err(self.fatal(e));
        }
        self.wpend.tot = buf.len();
        self.wpend.buf_addr = buf.as_ptr() as usize;
        self.wpend.typ = Some(ContentType::ApplicationData);
        self.release_write_buffer();
        Ok(buf.len())
    }

    fn record_limit(&self, suite: Option<crate::cipher::CipherSuite>) -> u64 {
        match (self.cfg.record_limit, suite) {
            (Some(l), _) => l,
            (None, Some(s)) => aead_record_limit(s.aead()),
            (None, None) => u64::MAX,
        }
    }

    /// TLS 1.3: seals a KeyUpdate (update_not_requested) into `wire` and
    /// switches to the next write key when the next record would reach the
    /// per-key limit. Refuses to go past the limit when it cannot update.
    fn key_update_if_due(&mut self, wire: &mut BytesMut) -> Result<(), Error> {
        let Some(seq) = self.sealer.sequence() else {
            return Ok(());
        };
        // The peer asked for our update (RFC 8446 4.6.3: "If the
        // request_update field is set to "update_requested", then the
        // receiver MUST send a KeyUpdate of its own with request_update set
        // to "update_not_requested" prior to sending its next Application
        // Data record").
        let asked = self.active && self.key_update_due;
        // The KeyUpdate itself takes one record under the old key.
        let limit = self.record_limit(self.sealer.suite());
        if seq.saturating_add(2) <= limit && !asked {
            return Ok(());
        }
        self.key_update_due = false;
        let tls13 = self.tracker.version() == Some(Version::Tls13);
        if !(tls13 && self.is_established() && (asked || self.cfg.key_update_before_limit)) {
            if seq < limit {
                return Ok(());
            }
            return Err(Error::Misuse {
                reason: Reason::KeyUsageLimit,
                alert: Some(AlertDescription::InternalError),
            });
        }
        match self.tracker.key_update(Dir::C2s) {
            KeyAction::Now(keys) => {
                self.sealer
                    .seal(ContentType::Handshake, &[24, 0, 0, 1, 0], wire)?;
                self.sealer.set_keys(keys);
                Ok(())
            }
            _ if seq < limit => Ok(()),
            _ => Err(Error::Misuse {
                reason: Reason::KeyUsageLimit,
                alert: Some(AlertDescription::InternalError),
            }),
        }
    }

    /// OpenSSL `ssl3_write_pending`: hands the sealed bytes to the transport.
    fn flush_pending(&mut self) -> Result<(), SslError> {
        while !self.wpend.wire.is_empty() {
            let wire = std::mem::take(&mut self.wpend.wire);
            let r = self.bio_write(&wire);
            self.wpend.wire = wire;
            match r {
                Some(n) => self.wpend.wire.advance(n),
                None => return Err(SslError::WantWrite),
            }
        }
        Ok(())
    }

    fn release_write_buffer(&mut self) {
        if self.cfg.release_buffers && self.wpend.wire.is_empty() {
            self.wpend.wire = BytesMut::new();
        }
    }

    /// `SSL_shutdown`: sends close_notify. `Ok(false)` once sent (the peer's
    /// has not arrived), `Ok(true)` once both directions are closed.
    ///
    /// # Errors
    /// WantWrite if the alert could not be handed to the transport.
    pub fn shutdown(&mut self) -> Result<bool, SslError> {
        let r = self.shutdown_internal();
        if matches!(r, Err(SslError::Ssl(_))) {
            // SSL_shutdown's refusals and failures leave `rwstate` alone.
            return r;
        }
        self.note_blocked(&r)
    }

    fn shutdown_internal(&mut self) -> Result<bool, SslError> {
        // OpenSSL 3.0 `SSL_shutdown` refuses, without failing the
        // connection, while in a handshake, and a failed connection counts
        // as in one (its state machine is in its error state).
        if self.dead.is_some() || self.in_init() {
            return Err(SslError::Ssl(Error::Misuse {
                reason: Reason::ShutdownWhileInInit,
                alert: None,
            }));
        }
        if self.sent_shutdown && self.wpend.wire.is_empty() && !self.received_shutdown {
            // `ssl3_shutdown` once our close_notify is out: read on for the
            // peer's (`ssl3_read_bytes` asking for no type); without it the
            // call fails with what the read said.
            // (`ssl3_read_bytes` resets `rwstate` before it reads.)
            self.last_blocked = None;
            self.shutdown_reading = true;
            let r = self.read_bytes(&mut [], false);
            self.shutdown_reading = false;
            if !self.received_shutdown {
                return Err(match r {
                    Err(Interrupt::Err(e)) => e,
                    _ => SslError::WantRead,
                });
            }
            return Ok(self.sent_shutdown);
        }
        if !self.sent_shutdown
            && !self.wpend.wire.is_empty()
            && self.wpend.typ == Some(ContentType::ApplicationData)
        {
            // A record of ours waits for the transport: OpenSSL queues
            // close_notify behind it (`alert_dispatch`) and writes nothing;
            // the call fails, and SSL_get_error reports what the last call
            // was left waiting for (else ZERO_RETURN or SYSCALL).
            self.sent_shutdown = true;
            self.queued_alert = Some((AlertLevel::Warning, AlertDescription::CloseNotify));
            return Err(self
                .last_blocked
                .clone()
                .unwrap_or_else(|| self.later_read_error()));
        }
        if self.sent_shutdown
            && !self.wpend.wire.is_empty()
            && self.wpend.typ == Some(ContentType::ApplicationData)
        {
            // Sending the queued close_notify meets the pending record of
            // another type: OpenSSL's write retry check fails (fatal).
            return Err(self.misuse(Reason::BadWriteRetry));
        }
        if !self.sent_shutdown {
            if !self.wpend.wire.is_empty() {
                // E9: a pending alert record goes first.
                if self.flush_pending().is_err() {
                    return Err(SslError::WantWrite);
                }
            }
            self.sent_shutdown = true;
            let mut rec = BytesMut::new();
            if let Err(e) = self.sealer.seal(ContentType::Alert, &[1, 0], &mut rec) {
                return Err(self.fatal(e));
            }
            self.wpend = WritePending {
                wire: rec,
                tot: 0,
                buf_addr: 0,
                content: Vec::new(),
                typ: Some(ContentType::Alert),
            };
        }
        if self.flush_pending().is_err() {
            return Err(SslError::WantWrite);
        }
        Ok(self.received_shutdown)
    }

    /// True when a KeyUpdate with update_requested arrived and our answer is
    /// due with the next write (C6).
    #[must_use]
    pub fn key_update_due(&self) -> bool {
        self.key_update_due
    }

    /// Test and tool access to the write keys.
    #[must_use]
    pub fn sealer(&self) -> &Sealer {
        &self.sealer
    }

    /// Test and tool access to the read keys.
    #[must_use]
    pub fn opener(&self) -> &Opener {
        &self.opener
    }
}
