//! An active endpoint, client or server, whose handshakes are run by a
//! [`HandshakeDriver`]: the record layer hands it every complete handshake
//! message and carries out what it answers (messages to send, key changes
//! per direction, done, fail with an alert, or pending).
//!
//! This is where renegotiation interleaves with application data, with
//! OpenSSL 3.0's rules (SEMANTICS.md D1-D6):
//!
//! - application data arriving during a renegotiation is returned by
//!   `read` / `peek` if this side started it and the peer's hello has not
//!   arrived (D1, D2); otherwise it is fatal, unexpected_message (D3);
//! - `write` during a renegotiation first runs the handshake, and answers
//!   WantRead while it waits for the peer (D4);
//! - a client-started renegotiation is refused by a server unless allowed
//!   (D6: warning no_renegotiation).
//!
//! Where this goes beyond OpenSSL: handshake flights and alerts never go
//! through the pending-write slot of a blocked `write`. They are sealed in
//! order and queued behind it, so a server whose `write` is blocked can
//! answer a renegotiation ClientHello (OpenSSL 1.0 failed there with "bad
//! write retry" / "error in SSLv3 write server hello"), and the caller's
//! retry rules (E1-E6) still hold for the caller's own data.
//!
//! A driver may return [`Progress::Pending`] (an asynchronous certificate
//! lookup, a session cache miss): the call returns
//! [`SslError::WantCallback`], the message stays where it is, and the next
//! call hands the same message to the driver again. No transport byte is
//! read twice and none is lost (the lesson of OpenSSL's
//! READ_STATE_POST_PROCESS and BoringSSL's PENDING_SESSION).

use std::collections::VecDeque;

use bytes::{Buf, Bytes, BytesMut};

use crate::alert::{AlertDescription, AlertLevel};
use crate::cipher::{CipherSuite, Opener, Sealer};
use crate::deframer::{Deframer, HeaderPolicy};
use crate::error::{Error, Reason};
use crate::handshake::{HandshakeJoiner, HandshakeMessage, HandshakeType, HANDSHAKE_HEADER_LEN};
use crate::keys::{next_traffic_secret, RecordKeys, Secret};
use crate::record::{ContentType, PlainRecord, Version, MAX_PLAINTEXT_LEN};
use crate::session::SslError;

/// Which side of the connection an endpoint is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Sends ClientHello.
    Client,
    /// Answers it.
    Server,
}

/// What a driver asks the record layer to do, in order.
#[derive(Debug)]
pub enum FlightItem {
    /// Send one handshake message (type and body; the header is added).
    Message(HandshakeType, Vec<u8>),
    /// Switch what this side writes to new keys. TLS 1.2: a
    /// ChangeCipherSpec goes out first, sealed with the old keys.
    WriteKeys(RecordKeys),
    /// Switch what this side reads. TLS 1.2: prepared now, in force from the
    /// peer's ChangeCipherSpec; TLS 1.3: from the next record.
    ReadKeys(RecordKeys),
}

/// A driver's answer to a message (or to a request to start).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum Progress {
    /// More messages are expected.
    Continue,
    /// The handshake is complete once the items are carried out.
    Done,
    /// Not now: ask again later with the same message. The items of this
    /// answer are dropped.
    Pending,
    /// Abort with this fatal alert.
    Fail(AlertDescription),
}

/// Runs handshakes for an [`Endpoint`].
pub trait HandshakeDriver {
    /// Begins a handshake this side starts (a client's ClientHello).
    fn start(&mut self, out: &mut Vec<FlightItem>) -> Progress;
    /// A complete handshake message from the peer (never a HelloRequest,
    /// a TLS 1.3 KeyUpdate or NewSessionTicket: the record layer handles
    /// those).
    fn message(&mut self, msg: &HandshakeMessage, out: &mut Vec<FlightItem>) -> Progress;
}

/// Options of an [`Endpoint`].
#[derive(Debug, Clone)]
pub struct EndpointConfig {
    /// OpenSSL's `SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER`.
    pub accept_moving_buffer: bool,
    /// OpenSSL's `SSL_MODE_ENABLE_PARTIAL_WRITE`.
    pub partial_write: bool,
    /// Largest plaintext per record written (512..=16384).
    pub max_send_fragment: usize,
    /// A server answers a client's renegotiation (OpenSSL 3.0:
    /// `SSL_OP_ALLOW_CLIENT_RENEGOTIATION`, off by default).
    pub allow_client_renegotiation: bool,
    /// Outgoing transport capacity (`None`: unbounded).
    pub outgoing_capacity: Option<usize>,
}

impl Default for EndpointConfig {
    fn default() -> Self {
        EndpointConfig {
            accept_moving_buffer: false,
            partial_write: false,
            max_send_fragment: MAX_PLAINTEXT_LEN,
            allow_client_renegotiation: false,
            outgoing_capacity: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hs {
    Idle,
    Running {
        /// This side asked for it (SSL_renegotiate, or a client answering a
        /// HelloRequest).
        ours: bool,
        /// The peer's hello (ServerHello / ClientHello) has arrived.
        peer_hello: bool,
    },
}

/// The caller's pending `write` (OpenSSL's `wpend_tot`, `wpend_buf`): its
/// sealed record waits in the queue, flagged `app`.
#[derive(Debug, Default)]
struct Pending {
    /// Plaintext bytes in the pending record.
    tot: usize,
    /// Address of the caller's bytes in it (the retry check).
    addr: usize,
}

/// Sealed bytes waiting for the transport, in the order they were sealed.
#[derive(Debug)]
struct Queued {
    wire: BytesMut,
    /// The caller's pending application record (at most one is queued).
    app: bool,
}

/// An endpoint with a handshake driver, over a sans-IO transport.
pub struct Endpoint {
    role: Role,
    suite: CipherSuite,
    version: Version,
    cfg: EndpointConfig,
    driver: Box<dyn HandshakeDriver>,
    // read side
    input: BytesMut,
    eof: bool,
    deframer: Deframer,
    opener: Opener,
    joiner: HandshakeJoiner,
    rrec: Option<Bytes>,
    stalled: Option<HandshakeMessage>,
    ccs_expected: bool,
    // write side
    sealer: Sealer,
    wpend: Pending,
    wnum: usize,
    queue: VecDeque<Queued>,
    /// TLS 1.3 traffic secrets (read, write), to follow KeyUpdate.
    secrets: Option<(Secret, Secret)>,
    out: BytesMut,
    // connection
    hs: Hs,
    renegotiate: bool,
    dead: bool,
    received_close: bool,
    sent_close: bool,
    handshakes: u64,
}

impl core::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Endpoint")
            .field("role", &self.role)
            .field("version", &self.version)
            .field("hs", &self.hs)
            .field("handshakes", &self.handshakes)
            .field("dead", &self.dead)
            .finish_non_exhaustive()
    }
}

fn fatal(reason: Reason, alert: AlertDescription) -> Error {
    Error::PeerMisbehaved { reason, alert }
}

impl Endpoint {
    /// An endpoint continuing an established connection: `read` and
    /// `write` are the keys in force, both at sequence number 0 unless set
    /// through [`opener_mut`](Self::opener_mut) / [`sealer_mut`](Self::sealer_mut).
    pub fn new(
        role: Role,
        suite: CipherSuite,
        read: RecordKeys,
        write: RecordKeys,
        driver: Box<dyn HandshakeDriver>,
        cfg: EndpointConfig,
    ) -> Self {
        let version = suite.version();
        let mut deframer = Deframer::new();
        deframer.set_policy(HeaderPolicy {
            version: Some(version),
            tls13_protected: version == Version::Tls13,
            allow_ccs: false,
            first_record: false,
        });
        let mut opener = Opener::new();
        opener.set_keys(read);
        let mut sealer = Sealer::new();
        sealer.set_keys(write);
        Endpoint {
            role,
            suite,
            version,
            cfg,
            driver,
            input: BytesMut::new(),
            eof: false,
            deframer,
            opener,
            joiner: HandshakeJoiner::new(),
            rrec: None,
            stalled: None,
            ccs_expected: false,
            sealer,
            wpend: Pending::default(),
            wnum: 0,
            queue: VecDeque::new(),
            secrets: None,
            out: BytesMut::new(),
            hs: Hs::Idle,
            renegotiate: false,
            dead: false,
            received_close: false,
            sent_close: false,
            handshakes: 0,
        }
    }

    /// Completed handshakes since this endpoint was made.
    #[must_use]
    pub fn handshakes(&self) -> u64 {
        self.handshakes
    }

    /// True while a handshake is running.
    #[must_use]
    pub fn in_handshake(&self) -> bool {
        self.hs != Hs::Idle
    }

    /// The read state (keys, sequence number).
    pub fn opener_mut(&mut self) -> &mut Opener {
        &mut self.opener
    }

    /// The write state (keys, sequence number).
    pub fn sealer_mut(&mut self) -> &mut Sealer {
        &mut self.sealer
    }

    // ---------------------------------------------------------------
    // Transport
    // ---------------------------------------------------------------

    /// A segment from the peer arrives.
    pub fn recv(&mut self, segment: &[u8]) {
        self.input.extend_from_slice(segment);
    }

    /// The transport reports end of stream.
    pub fn recv_eof(&mut self) {
        self.eof = true;
    }

    /// The peer takes up to `max` bytes of what this endpoint sent. Sealed
    /// records waiting for room (a pending write, queued flights) move into
    /// the transport as room appears.
    pub fn take_outgoing(&mut self, max: usize) -> Bytes {
        let n = max.min(self.out.len());
        let b = self.out.split_to(n).freeze();
        self.pump();
        b
    }

    /// Bytes in the outgoing transport.
    #[must_use]
    pub fn outgoing_len(&self) -> usize {
        self.out.len()
    }

    /// Sealed bytes not yet in the transport (a pending write, handshake
    /// records and alerts, in sealing order).
    #[must_use]
    pub fn queued_len(&self) -> usize {
        self.queue.iter().map(|q| q.wire.len()).sum()
    }

    /// True while the caller's last `write` returned WantWrite with sealed
    /// bytes that the next `write` (the retry) accounts for.
    #[must_use]
    pub fn write_pending(&self) -> bool {
        self.wpend.tot > 0
    }

    /// The pending record has bytes the transport has not taken yet.
    fn app_queued(&self) -> bool {
        self.queue.iter().any(|q| q.app)
    }

    /// TLS 1.3: the traffic secrets in force (read, write), so that
    /// KeyUpdate in either direction can be followed.
    pub fn set_traffic_secrets(&mut self, read: Secret, write: Secret) {
        self.secrets = Some((read, write));
    }

    fn room(&self) -> usize {
        match self.cfg.outgoing_capacity {
            None => usize::MAX,
            Some(c) => c.saturating_sub(self.out.len()),
        }
    }

    /// Moves sealed bytes into the transport in the order they were sealed.
    fn pump(&mut self) {
        loop {
            let room = self.room();
            let Some(q) = self.queue.front_mut() else {
                return;
            };
            if room == 0 {
                return;
            }
            let n = room.min(q.wire.len());
            self.out.extend_from_slice(&q.wire[..n]);
            q.wire.advance(n);
            if q.wire.is_empty() {
                self.queue.pop_front();
            }
        }
    }

    /// Seals a non-application record into the queue behind everything
    /// sealed before it.
    fn enqueue(&mut self, typ: ContentType, payload: &[u8]) -> Result<(), Error> {
        let mut rec = BytesMut::new();
        for chunk in payload.chunks(self.cfg.max_send_fragment.max(1)) {
            self.sealer.seal(typ, chunk, &mut rec)?;
        }
        self.queue.push_back(Queued {
            wire: rec,
            app: false,
        });
        self.pump();
        Ok(())
    }

    // ---------------------------------------------------------------
    // Handshakes
    // ---------------------------------------------------------------

    /// Asks for a new handshake (TLS 1.2 renegotiation). It starts at the
    /// next call once no write is pending (D4); a server sends
    /// HelloRequest, a client its ClientHello.
    ///
    /// # Errors
    /// Refused for TLS 1.3 (`wrong ssl version`), not fatal.
    pub fn renegotiate(&mut self) -> Result<(), SslError> {
        if self.version != Version::Tls12 {
            return Err(SslError::Ssl(Error::Misuse {
                reason: Reason::WrongSslVersion,
                alert: None,
            }));
        }
        self.renegotiate = true;
        Ok(())
    }

    /// TLS 1.3: sends KeyUpdate (asking the peer to update too if
    /// `request_peer`) and switches what this side writes to the next
    /// generation of keys (RFC 8446 4.6.3), in order behind anything sealed
    /// before.
    ///
    /// # Errors
    /// Refused for TLS 1.2 and without traffic secrets
    /// ([`set_traffic_secrets`](Self::set_traffic_secrets)).
    pub fn key_update(&mut self, request_peer: bool) -> Result<(), SslError> {
        if self.version != Version::Tls13 || self.secrets.is_none() {
            return Err(SslError::Ssl(Error::Misuse {
                reason: Reason::WrongSslVersion,
                alert: None,
            }));
        }
        if self.dead {
            return Err(SslError::Syscall);
        }
        self.enqueue(
            ContentType::Handshake,
            &[24, 0, 0, 1, u8::from(request_peer)],
        )
        .map_err(|e| self.fail(e))?;
        let suite = self.suite;
        if let Some((read, write)) = self.secrets.take() {
            let next = next_traffic_secret(suite.hash(), &write)
                .and_then(|n| RecordKeys::from_traffic_secret(suite, &n).map(|k| (n, k)));
            match next {
                Ok((w, k)) => {
                    self.sealer.set_keys(k);
                    self.secrets = Some((read, w));
                }
                Err(e) => return Err(self.fail(e)),
            }
        }
        Ok(())
    }

    /// Starts a requested renegotiation if nothing is pending (OpenSSL
    /// `ssl3_renegotiate_check`).
    fn renegotiate_check(&mut self) -> Result<(), SslError> {
        if !self.renegotiate || self.hs != Hs::Idle || self.write_pending() {
            return Ok(());
        }
        self.renegotiate = false;
        self.hs = Hs::Running {
            ours: true,
            peer_hello: false,
        };
        match self.role {
            Role::Server => {
                let r = self.enqueue(ContentType::Handshake, &[0, 0, 0, 0]);
                r.map_err(|e| self.fail(e))
            }
            Role::Client => {
                let mut items = Vec::new();
                let p = self.driver.start(&mut items);
                self.carry_out(p, items)
            }
        }
    }

    fn carry_out(&mut self, p: Progress, items: Vec<FlightItem>) -> Result<(), SslError> {
        match p {
            Progress::Pending => return Err(SslError::WantCallback),
            Progress::Fail(a) => {
                return Err(self.fail(fatal(Reason::UnexpectedMessage, a)));
            }
            Progress::Continue | Progress::Done => {}
        }
        for item in items {
            let r = match item {
                FlightItem::Message(typ, body) => {
                    let mut m = Vec::with_capacity(HANDSHAKE_HEADER_LEN + body.len());
                    m.push(u8::from(typ));
                    m.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
                    m.extend_from_slice(&body);
                    self.enqueue(ContentType::Handshake, &m)
                }
                FlightItem::WriteKeys(k) => {
                    let r = if self.version == Version::Tls12 {
                        self.enqueue(ContentType::ChangeCipherSpec, &[1])
                    } else {
                        Ok(())
                    };
                    self.sealer.set_keys(k);
                    r
                }
                FlightItem::ReadKeys(k) => {
                    if self.version == Version::Tls12 {
                        self.opener.prepare(k);
                        self.ccs_expected = true;
                    } else {
                        self.opener.set_keys(k);
                    }
                    Ok(())
                }
            };
            r.map_err(|e| self.fail(e))?;
        }
        if p == Progress::Done {
            self.hs = Hs::Idle;
            self.handshakes += 1;
        }
        Ok(())
    }

    /// A complete handshake message from the peer.
    fn on_message(&mut self, msg: HandshakeMessage) -> Result<(), SslError> {
        use HandshakeType as T;
        if self.version == Version::Tls13 {
            return self.post_handshake_tls13(&msg);
        }
        match (self.role, self.hs, msg.typ) {
            (Role::Client, Hs::Idle, T::HelloRequest) => {
                // A client answering a HelloRequest counts as starting it.
                self.renegotiate = true;
                return self.renegotiate_check();
            }
            // A HelloRequest in a handshake is ignored (RFC 5246 7.4.1.1).
            (Role::Client, _, T::HelloRequest) => return Ok(()),
            (Role::Server, Hs::Idle, T::ClientHello) => {
                if !self.cfg.allow_client_renegotiation {
                    // D6: refused with a warning; the connection goes on.
                    let r = self.enqueue(
                        ContentType::Alert,
                        &[
                            AlertLevel::Warning.into(),
                            AlertDescription::NoRenegotiation.into(),
                        ],
                    );
                    return r.map_err(|e| self.fail(e));
                }
                self.hs = Hs::Running {
                    ours: false,
                    peer_hello: true,
                };
            }
            (_, Hs::Idle, _) => {
                return Err(self.fail(fatal(
                    Reason::UnexpectedMessage,
                    AlertDescription::UnexpectedMessage,
                )));
            }
            (_, Hs::Running { ours, .. }, t) => {
                let hello = match self.role {
                    Role::Client => t == T::ServerHello,
                    Role::Server => t == T::ClientHello,
                };
                if hello {
                    self.hs = Hs::Running {
                        ours,
                        peer_hello: true,
                    };
                }
            }
        }
        self.drive(msg)
    }

    fn drive(&mut self, msg: HandshakeMessage) -> Result<(), SslError> {
        let mut items = Vec::new();
        let p = self.driver.message(&msg, &mut items);
        if p == Progress::Pending {
            self.stalled = Some(msg);
        }
        self.carry_out(p, items)
    }

    fn post_handshake_tls13(&mut self, msg: &HandshakeMessage) -> Result<(), SslError> {
        match msg.typ {
            HandshakeType::NewSessionTicket if self.role == Role::Client => Ok(()),
            HandshakeType::KeyUpdate => {
                // RFC 8446 4.6.3: request_update is 0 or 1; "If an
                // implementation receives any other value, it MUST terminate
                // the connection with an "illegal_parameter" alert."
                let requested = match msg.body[..] {
                    [0] => false,
                    [1] => true,
                    _ => {
                        return Err(
                            self.fail(fatal(Reason::BadValue, AlertDescription::IllegalParameter))
                        )
                    }
                };
                // RFC 8446 5.1: "Handshake messages MUST NOT span key changes."
                if self.joiner.is_mid_message() {
                    return Err(self.fail(fatal(
                        Reason::NotOnRecordBoundary,
                        AlertDescription::UnexpectedMessage,
                    )));
                }
                let suite = self.suite;
                let Some((read, write)) = self.secrets.take() else {
                    return Err(self.fail(Error::BadInput("KeyUpdate needs the traffic secrets")));
                };
                let next = |s: &Secret| {
                    next_traffic_secret(suite.hash(), s)
                        .and_then(|n| RecordKeys::from_traffic_secret(suite, &n).map(|k| (n, k)))
                };
                let (read, keys) = next(&read).map_err(|e| self.fail(e))?;
                self.opener.set_keys(keys);
                let write = if requested {
                    // Our KeyUpdate, then our new keys (in sealing order).
                    self.enqueue(ContentType::Handshake, &[24, 0, 0, 1, 0])
                        .map_err(|e| self.fail(e))?;
                    let (w, k) = next(&write).map_err(|e| self.fail(e))?;
                    self.sealer.set_keys(k);
                    w
                } else {
                    write
                };
                self.secrets = Some((read, write));
                Ok(())
            }
            _ => Err(self.fail(fatal(
                Reason::UnexpectedMessage,
                AlertDescription::UnexpectedMessage,
            ))),
        }
    }

    /// Runs a stalled driver callback again, then any complete message the
    /// joiner holds.
    fn resume(&mut self) -> Result<(), SslError> {
        if let Some(msg) = self.stalled.take() {
            self.drive(msg)?;
        }
        while let Some(msg) = self.joiner.pop().map_err(|e| self.fail(e))? {
            self.on_message(msg)?;
        }
        Ok(())
    }

    fn fail(&mut self, e: Error) -> SslError {
        if !self.dead {
            self.dead = true;
            if let Some(a) = e.alert() {
                let _ = self.enqueue(ContentType::Alert, &[AlertLevel::Fatal.into(), a.into()]);
            }
        }
        SslError::Ssl(e)
    }

    // ---------------------------------------------------------------
    // Reading
    // ---------------------------------------------------------------

    fn get_record(&mut self) -> Result<Option<PlainRecord>, SslError> {
        loop {
            let want = self.deframer.wanted().min(self.input.len());
            if want > 0 {
                let n = self.deframer.push(&self.input[..want]);
                self.input.advance(n);
            }
            match self.deframer.pop() {
                Ok(Some(rec)) => {
                    let plain = self.opener.open(rec).map_err(|e| self.fail(e))?;
                    if plain.payload.is_empty() && plain.typ != ContentType::ApplicationData {
                        continue;
                    }
                    return Ok(Some(plain));
                }
                Ok(None) if !self.input.is_empty() => {}
                Ok(None) => {
                    if self.eof {
                        self.dead = true;
                        return Err(SslError::Syscall);
                    }
                    return Ok(None);
                }
                Err(e) => return Err(self.fail(e)),
            }
        }
    }

    /// Processes records until application data is at hand (`app`), the
    /// handshake is idle (`!app`), or more input is needed.
    fn process(&mut self, app: bool) -> Result<(), SslError> {
        loop {
            self.resume()?;
            self.renegotiate_check()?;
            if self.rrec.is_some() {
                if app || self.hs == Hs::Idle {
                    return Ok(());
                }
                // A handshake driven by a write waits behind application
                // data the caller has not read yet (it came before the
                // peer's hello, D1): read it first.
                return Err(SslError::WantRead);
            }
            if !app && self.hs == Hs::Idle {
                return Ok(());
            }
            let Some(rec) = self.get_record()? else {
                return Err(SslError::WantRead);
            };
            match rec.typ {
                ContentType::ApplicationData => {
                    if self.joiner.is_mid_message() && self.version == Version::Tls13 {
                        return Err(self.fail(fatal(
                            Reason::MixedHandshakeAndNonHandshakeData,
                            AlertDescription::UnexpectedMessage,
                        )));
                    }
                    if let Hs::Running { ours, peer_hello } = self.hs {
                        // D1/D3: only in a renegotiation this side started,
                        // only before the peer's hello.
                        if ours && !peer_hello && !app {
                            // Met by a write or do_handshake. OpenSSL 3.0
                            // fails here (D3) or reports SYSCALL; tlsrec keeps
                            // the record for the next read and says so.
                            if !rec.payload.is_empty() {
                                self.rrec = Some(rec.payload);
                            }
                            return Err(SslError::WantRead);
                        }
                        if !ours || peer_hello {
                            self.rrec = Some(rec.payload);
                            return Err(self.fail(fatal(
                                Reason::UnexpectedRecord,
                                AlertDescription::UnexpectedMessage,
                            )));
                        }
                    }
                    if !rec.payload.is_empty() {
                        self.rrec = Some(rec.payload);
                    }
                }
                ContentType::Handshake => self.joiner.push(&rec.payload),
                ContentType::ChangeCipherSpec => {
                    if !self.ccs_expected || rec.payload[..] != [1] || self.joiner.is_mid_message()
                    {
                        return Err(self.fail(fatal(
                            Reason::CcsReceivedEarly,
                            AlertDescription::UnexpectedMessage,
                        )));
                    }
                    self.ccs_expected = false;
                    self.opener.activate();
                }
                ContentType::Alert => self.on_alert(&rec.payload)?,
                _ => {
                    return Err(self.fail(fatal(
                        Reason::UnexpectedRecord,
                        AlertDescription::UnexpectedMessage,
                    )))
                }
            }
        }
    }

    fn on_alert(&mut self, a: &[u8]) -> Result<(), SslError> {
        if a.len() != 2 {
            return Err(self.fail(fatal(Reason::InvalidAlert, AlertDescription::DecodeError)));
        }
        let desc = AlertDescription::from(a[1]);
        if desc == AlertDescription::CloseNotify {
            self.received_close = true;
            return Err(SslError::ZeroReturn);
        }
        if AlertLevel::from(a[0]) == AlertLevel::Fatal {
            self.dead = true;
            return Err(SslError::Ssl(Error::AlertReceived(desc)));
        }
        // Warnings (no_renegotiation): the handshake we asked for is off.
        if desc == AlertDescription::NoRenegotiation && self.role == Role::Client {
            if let Hs::Running { ours: true, .. } = self.hs {
                self.hs = Hs::Idle;
            }
        }
        Ok(())
    }

    fn read_inner(&mut self, buf: &mut [u8], peek: bool) -> Result<usize, SslError> {
        if self.received_close {
            return Err(SslError::ZeroReturn);
        }
        if self.dead {
            return Err(SslError::Syscall);
        }
        self.process(true)?;
        let Some(data) = self.rrec.as_mut() else {
            return Err(SslError::WantRead);
        };
        let n = buf.len().min(data.len());
        buf[..n].copy_from_slice(&data[..n]);
        if !peek {
            data.advance(n);
            if data.is_empty() {
                self.rrec = None;
            }
        }
        Ok(n)
    }

    /// `SSL_read`: at most one record's data.
    ///
    /// # Errors
    /// WantRead, WantCallback (a driver paused: call again), ZeroReturn,
    /// Syscall, Ssl.
    pub fn read(&mut self, buf: &mut [u8]) -> Result<usize, SslError> {
        self.read_inner(buf, false)
    }

    /// `SSL_peek`.
    ///
    /// # Errors
    /// As [`read`](Self::read).
    pub fn peek(&mut self, buf: &mut [u8]) -> Result<usize, SslError> {
        self.read_inner(buf, true)
    }

    /// Runs a handshake in progress as far as the bytes at hand allow.
    ///
    /// # Errors
    /// WantRead while the peer's messages are missing; application data is
    /// fatal here (D3).
    pub fn do_handshake(&mut self) -> Result<(), SslError> {
        if self.dead {
            return Err(SslError::Syscall);
        }
        self.process(false)
    }

    // ---------------------------------------------------------------
    // Writing
    // ---------------------------------------------------------------

    /// `SSL_write` with OpenSSL's retry rules: after WantWrite, call again
    /// with the same buffer (the same address unless
    /// `accept_moving_buffer`) and at least the same length.
    ///
    /// # Errors
    /// WantWrite, WantRead (a renegotiation waits for the peer, D4),
    /// WantCallback, `bad length`, `bad write retry`, Syscall.
    pub fn write(&mut self, buf: &[u8]) -> Result<usize, SslError> {
        let len = buf.len();
        let mut tot = self.wnum;
        let pending = self.write_pending();
        if len < tot || (pending && len < tot + self.wpend.tot) {
            return Err(self.fail(Error::Misuse {
                reason: Reason::BadLength,
                alert: Some(AlertDescription::InternalError),
            }));
        }
        self.wnum = 0;
        if self.dead || self.sent_close {
            return Err(SslError::Syscall);
        }
        if pending {
            let addr = buf.as_ptr() as usize + tot;
            if !self.cfg.accept_moving_buffer && addr != self.wpend.addr {
                self.wnum = tot;
                return Err(self.fail(Error::Misuse {
                    reason: Reason::BadWriteRetry,
                    alert: Some(AlertDescription::InternalError),
                }));
            }
            self.pump();
            if self.app_queued() {
                self.wnum = tot;
                return Err(SslError::WantWrite);
            }
            tot += self.wpend.tot;
            self.wpend.tot = 0;
            if self.cfg.partial_write || tot == len {
                return Ok(tot);
            }
        }
        // D4: a renegotiation runs first; it may need the peer.
        if let Err(e) = self.resume().and_then(|()| self.renegotiate_check()) {
            self.wnum = tot;
            return Err(e);
        }
        if self.hs != Hs::Idle {
            if let Err(e) = self.process(false) {
                self.wnum = tot;
                return Err(e);
            }
        }
        let frag = self.cfg.max_send_fragment.clamp(512, MAX_PLAINTEXT_LEN);
        while tot < len {
            let n = frag.min(len - tot);
            let chunk = &buf[tot..tot + n];
            let overhead = self.sealer.overhead();
            if self.queue.is_empty() && self.room() >= n + overhead {
                // The common case: sealed straight into the transport.
                if let Err(e) = self
                    .sealer
                    .seal(ContentType::ApplicationData, chunk, &mut self.out)
                {
                    return Err(self.fail(e));
                }
                tot += n;
                if self.cfg.partial_write {
                    return Ok(tot);
                }
                continue;
            }
            let mut wire = BytesMut::with_capacity(n + overhead);
            if let Err(e) = self
                .sealer
                .seal(ContentType::ApplicationData, chunk, &mut wire)
            {
                return Err(self.fail(e));
            }
            self.queue.push_back(Queued { wire, app: true });
            self.wpend = Pending {
                tot: n,
                addr: chunk.as_ptr() as usize,
            };
            self.pump();
            if self.app_queued() {
                self.wnum = tot;
                return Err(SslError::WantWrite);
            }
            self.wpend.tot = 0;
            tot += n;
            if self.cfg.partial_write {
                return Ok(tot);
            }
        }
        Ok(tot)
    }

    /// `SSL_shutdown`: queues close_notify. `Ok(true)` once the peer's has
    /// arrived too.
    ///
    /// # Errors
    /// Syscall after a fatal error.
    pub fn shutdown(&mut self) -> Result<bool, SslError> {
        if self.dead {
            return Err(SslError::Syscall);
        }
        if !self.sent_close {
            self.sent_close = true;
            let r = self.enqueue(ContentType::Alert, &[1, 0]);
            r.map_err(|e| self.fail(e))?;
        }
        Ok(self.received_close)
    }
}
