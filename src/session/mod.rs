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
//! One record layer serves every way a session gets its handshake
//! ([`Session::passive_client`]: followed from an SSLKEYLOGFILE, the caller
//! reporting what it sent; [`Session::client_from_established`] /
//! [`Session::server_from_established`]: taken over after another library's
//! handshake, none to run; [`Session::driven`]: a
//! [`HandshakeDriver`] runs them, first or
//! renegotiation). Only the handshake differs between them: the reading,
//! writing, alert, ChangeCipherSpec, KeyUpdate and renegotiation rules are
//! the same code, with OpenSSL 3.0's results. See [`crate::replay`] for
//! driving a session from a transcript.

use std::collections::VecDeque;

use bytes::{Buf, Bytes, BytesMut};

use crate::alert::{AlertDescription, AlertLevel};
use crate::cipher::{CipherRefusals, Opener, Sealer};
use crate::deframer::Deframer;
use crate::driver::{FlightItem, HandshakeDriver, Progress};
pub use crate::error::SslError;
use crate::error::{Error, Reason};
use crate::follow::{Dir, DirState, KeyAction, KeyTracker};
use crate::handshake::{HandshakeJoiner, HandshakeMessage, HandshakeType, HANDSHAKE_HEADER_LEN};
use crate::keylog::KeyLog;
use crate::record::{
    ContentType, OpaqueRecord, PlainRecord, Version, HEADER_LEN, MAX_PLAINTEXT_LEN,
};
use crate::role::Role;

// The connection is one type; its code is split by path:
// receive.rs (records in, the read cursor, alerts, ChangeCipherSpec),
// send.rs (the pending write, retries, queued handshake records, shutdown),
// handshake.rs (entering the handshake, renegotiation, the followed stages),
// post_handshake.rs (KeyUpdate, tickets, HelloRequest, ClientHello by role),
// driven.rs (a HandshakeDriver's handshakes), followed.rs (observe_sent).
mod driven;
mod followed;
mod handshake;
mod pool;
mod post_handshake;
mod receive;
mod send;
#[cfg(test)]
mod steady_tests;

/// OpenSSL `MAX_EMPTY_RECORDS`: the 33rd consecutive empty record is fatal.
pub const MAX_EMPTY_RECORDS: u32 = 32;

/// OpenSSL `MAX_WARN_ALERT_COUNT`: the 5th consecutive warning alert is fatal.
pub const MAX_WARN_ALERT_COUNT: u32 = 5;

/// The smallest `max_send_fragment` OpenSSL accepts.
pub const MIN_SEND_FRAGMENT: usize = 512;

/// Whose behaviour a session reproduces where implementations differ: one
/// value that selects every such choice (`docs/behaviour.md`, "Profiles").
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Profile {
    /// OpenSSL 3.0, the version the crate is proven against live (3.0.19):
    /// the default, because it is what every rule in `docs/behaviour.md`
    /// and every shipped transcript checks.
    #[default]
    OpenSsl3_0,
    /// OpenSSL 1.1.1 (1.1.1w): 3.0's rules but at the end of the stream:
    /// an unexpected EOF is SYSCALL (ZERO_RETURN once a close_notify came),
    /// no alert is sent, and nothing fails (writes and SSL_shutdown go on).
    OpenSsl1_1_1,
    /// OpenSSL 3.5 LTS (3.5.5): a TLS 1.3 alert other than user_canceled
    /// does not replace the last warning alert; a TLS 1.3 client drops a
    /// ChangeCipherSpec after the handshake until the peer's first
    /// KeyUpdate; a bad write retry forgets the write's progress; a TLS 1.3
    /// close_notify's record stays (SSL_has_pending); SSL_shutdown drops its
    /// close_notify queued behind a pending write; a record thrown away
    /// after the peer's close_notify is never released (the next record
    /// read fails: "records not released").
    OpenSsl3_5,
    /// OpenSSL 4.0 (4.0.3): 3.5's rules, and once the connection has
    /// failed (a call's fatal error, or the peer's fatal alert), every later
    /// read, peek and write reports SSL (its error state sticks) where 3.0
    /// says SYSCALL or ZERO_RETURN; a TLS 1.2 record too short for nonce
    /// and tag is bad_record_mac.
    OpenSsl4_0,
    /// RFC 8446 / 5246 read strictly where OpenSSL is lenient or silent, as
    /// tlsfuzzer expects: a KeyUpdate that asks for one is answered before
    /// anything more is read; a TLS 1.3 inner plaintext over 2^14 + 1 bytes
    /// is record_overflow; a KeyUpdate body of the wrong length is
    /// decode_error; application data between the peer's renegotiation
    /// messages is taken (RFC 5246 allows it), until its ChangeCipherSpec;
    /// a TLS 1.2 record too short for nonce and tag is bad_record_mac.
    /// Elsewhere (the API's error codes) it answers as 3.0.
    Rfc,
}

impl Profile {
    /// RFC profile: answer a KeyUpdate with update_requested at once
    /// (OpenSSL: at the next entry to the handshake).
    pub(crate) fn answers_key_update_at_once(self) -> bool {
        self == Profile::Rfc
    }

    /// RFC profile: the TLS 1.3 inner plaintext limit of RFC 8446 5.4.
    pub(crate) fn limits_inner_plaintext(self) -> bool {
        self == Profile::Rfc
    }

    /// The alert for a KeyUpdate whose body is longer than one byte: RFC
    /// 8446 6.2 decode_error, or OpenSSL's illegal_parameter ("excessive
    /// message size": its limit for the message is one byte).
    pub(crate) fn long_key_update(self) -> Error {
        match self {
            Profile::Rfc => fatal_err(Reason::LengthMismatch, AlertDescription::DecodeError),
            _ => Error::misbehaved(
                Reason::ExcessiveMessageSize,
                AlertDescription::IllegalParameter,
            ),
        }
    }

    /// Whether a TLS 1.3 alert `desc` becomes the "last warning alert" a
    /// later read's error is judged by (3.0: every warning-level one; 3.5
    /// and 4.0: only user_canceled).
    pub(crate) fn tls13_alert_is_remembered(self, desc: AlertDescription) -> bool {
        match self {
            Profile::OpenSsl3_5 | Profile::OpenSsl4_0 => desc == AlertDescription::UserCanceled,
            _ => true,
        }
    }

    /// 4.0: a failed connection's later reads, peeks and writes report SSL
    /// first of all, whether the failure was ours or the peer's fatal alert
    /// (both leave the state machine in `MSG_FLOW_ERROR`); 3.0 says SYSCALL,
    /// or after the peer's alert ZERO_RETURN / SYSCALL by the last warning.
    pub(crate) fn failure_sticks(self) -> bool {
        self == Profile::OpenSsl4_0
    }

    /// 1.1.1: an unexpected EOF is SYSCALL, no alert sent.
    pub(crate) fn eof_is_syscall(self) -> bool {
        self == Profile::OpenSsl1_1_1
    }

    /// 4.0 and the RFC profile: a TLS 1.2 record too short for the
    /// explicit nonce and the tag is bad_record_mac (RFC 5246 6.2.3.3);
    /// 1.1.1 to 3.5 answer internal_error (their cipher refuses the length).
    pub(crate) fn short_record_is_bad_mac(self) -> bool {
        matches!(self, Profile::OpenSsl4_0 | Profile::Rfc)
    }

    /// The reason for a TLS 1.2 record the cipher refuses (the alert is
    /// the same): 3.0 to 4.0 report their cipher provider's reason, queued
    /// first ("invalid aad" / "invalid data" for a short record, "cipher
    /// operation failed" for an AES-GCM tag that does not verify); 1.1.1's
    /// built-in ciphers queue none, so libssl's own is first ("internal
    /// error", "decryption failed or bad record mac", and for a short TLS
    /// 1.3 record "block cipher pad is wrong"). The RFC profile keeps the
    /// default wording (3.0's, as for its other reasons).
    pub(crate) fn cipher_refusals(self) -> CipherRefusals {
        match self {
            Profile::OpenSsl1_1_1 => CipherRefusals::Libssl,
            Profile::Rfc => CipherRefusals::ProviderLength,
            Profile::OpenSsl3_0 | Profile::OpenSsl3_5 | Profile::OpenSsl4_0 => {
                CipherRefusals::Provider
            }
        }
    }

    /// 3.5 and 4.0: a TLS 1.3 client goes on dropping a ChangeCipherSpec
    /// record (the byte 01, counted as an empty record) after the
    /// handshake, for as long as it reads under the first handshake's keys
    /// (their record layer keeps `is_first_handshake` set until a KeyUpdate
    /// replaces it). 1.1.1, 3.0 and RFC 8446 5: after the peer's Finished it
    /// is an unexpected record (bad record type).
    pub(crate) fn drops_ccs_after_handshake(self) -> bool {
        matches!(self, Profile::OpenSsl3_5 | Profile::OpenSsl4_0)
    }

    /// The alert for a TLS 1.3 ChangeCipherSpec record that is not the
    /// byte 01 where the record layer drops CCS records ("invalid ccs
    /// message" in every release): 1.1.1 and 3.0 `ssl3_get_record` send
    /// illegal_parameter (1.1.1w's source; 3.0.19's `s_server -tls1_3
    /// -msg`, given a TLS 1.3 ClientHello and then a CCS of 02, sends it
    /// and logs "invalid ccs message"); 3.5's and 4.0's `tls_get_more_records`
    /// unexpected_message (their sources, and `oracles/run.sh 3.5|4.0
    /// --ends --check`), as RFC 8446 5 asks ("MUST abort the handshake with
    /// an "unexpected_message" alert").
    pub(crate) fn bad_tls13_ccs_alert(self) -> AlertDescription {
        match self {
            Profile::OpenSsl1_1_1 | Profile::OpenSsl3_0 => AlertDescription::IllegalParameter,
            Profile::OpenSsl3_5 | Profile::OpenSsl4_0 | Profile::Rfc => {
                AlertDescription::UnexpectedMessage
            }
        }
    }

    /// 3.5 and 4.0: the record of a TLS 1.3 close_notify is not released
    /// when the read returns at it (`ssl3_read_bytes`), so SSL_has_pending
    /// says true from then on; 1.1.1 and 3.0: false.
    pub(crate) fn keeps_tls13_close_notify_record(self) -> bool {
        matches!(self, Profile::OpenSsl3_5 | Profile::OpenSsl4_0)
    }

    /// 3.5 and 4.0: SSL_shutdown's close_notify, queued behind an
    /// application data record still pending, is dropped when a later
    /// SSL_shutdown tries to send it (`ssl3_dispatch_alert` finds a write
    /// pending that is not its own: `alert_dispatch` = none, -1, no error
    /// of its own; the connection lives on). 1.1.1 and 3.0 try the write
    /// and fail it as a bad write retry (fatal).
    pub(crate) fn drops_alert_behind_pending_write(self) -> bool {
        matches!(self, Profile::OpenSsl3_5 | Profile::OpenSsl4_0)
    }

    /// 3.5 and 4.0: a record read after the peer's close_notify (by a
    /// handshake that reads, e.g. a renegotiation inside SSL_write) is
    /// thrown away without being released to the record layer
    /// (`ssl3_read_bytes` steps `curr_rec` past it): SSL_has_pending is
    /// false after it, and the next record asked of the record layer fails
    /// (`tls_read_record`: records not released, internal_error). 1.1.1
    /// and 3.0 empty the record but leave it unread: SSL_has_pending stays
    /// true and each later read meets it again (0, nothing fails).
    pub(crate) fn leaves_discarded_record_unreleased(self) -> bool {
        matches!(self, Profile::OpenSsl3_5 | Profile::OpenSsl4_0)
    }

    /// 1.1.1 and 3.0: a write that fails as a bad write retry keeps what
    /// the interrupted write had sent (`wnum`), so a later shorter write is
    /// "bad length". 3.5 and 4.0 (`tls_write_check_pending` returns before
    /// `wnum` is restored) forget it: a later write as long as the pending
    /// record passes that check and meets the failed connection (SYSCALL in
    /// 3.5; 4.0's sticky error state answers first).
    pub(crate) fn bad_write_retry_keeps_progress(self) -> bool {
        !matches!(self, Profile::OpenSsl3_5 | Profile::OpenSsl4_0)
    }

    /// The profile of the OpenSSL release `version` names (`"4.0.3"`),
    /// if it has one.
    #[must_use]
    pub fn of_openssl(version: &str) -> Option<Profile> {
        let mut parts = version.split('.');
        match (parts.next(), parts.next()) {
            (Some("1"), Some("1")) => Some(Profile::OpenSsl1_1_1),
            (Some("3"), Some("0")) => Some(Profile::OpenSsl3_0),
            (Some("3"), Some("5")) => Some(Profile::OpenSsl3_5),
            (Some("4"), Some("0")) => Some(Profile::OpenSsl4_0),
            _ => None,
        }
    }

    /// RFC profile: application data arriving in a renegotiation is taken by
    /// a read until the peer's ChangeCipherSpec, whoever started it, between
    /// the fragments of the peer's ClientHello too (OpenSSL 3.0: only before
    /// the peer's hello, in one this side started: D1).
    pub(crate) fn takes_app_data_in_renegotiation(self) -> bool {
        self == Profile::Rfc
    }
}

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
    /// `SSL_OP_ALLOW_CLIENT_RENEGOTIATION` (off by default, as in OpenSSL
    /// 3.0): a [driven](Session::driven) server runs a renegotiation a
    /// client asks for; otherwise it refuses with a warning
    /// `no_renegotiation` and the connection goes on.
    pub allow_client_renegotiation: bool,
    /// Beyond OpenSSL (on by default): handshake records a
    /// [driven](Session::driven) session must send while the caller's own
    /// write is blocked with a record pending are sealed and queued behind
    /// that record, in order, instead of failing. OpenSSL writes the
    /// handshake through the same pending-write slot and fails there
    /// (3.0: `bad length` for a message shorter than the pending write, as
    /// a ServerHello is, else `bad write retry`; 1.0: "error in SSLv3 write
    /// server hello"). On by default because it changes nothing OpenSSL
    /// would have done without failing: the queue is only used where
    /// OpenSSL ends the connection.
    pub queue_flights_behind_write: bool,
    /// Beyond OpenSSL (off by default): when a `write` runs a renegotiation
    /// and meets application data that a `read` could take (one this side
    /// started, before the peer's hello: D1), the write returns `WantRead`
    /// and the record waits for the next read (and so does a
    /// `do_handshake`). OpenSSL 3.0 reports `SSL_ERROR_SYSCALL` there
    /// (nothing consumed); the default keeps that.
    pub want_read_when_write_meets_app_data: bool,
    /// Beyond OpenSSL (off by default): a renegotiation whose start was
    /// deferred still begins with this side's hello, or not at all. OpenSSL
    /// 3.0 can lose the request and then enter a handshake that sends
    /// nothing and waits for the peer (`s->renegotiate` cleared while its
    /// check is still due): when a HelloRequest arrives while a write is
    /// pending or a record is half read (`tls_process_hello_req` ends the
    /// handshake at TLS_ST_OK), or when `renegotiate` is called during a
    /// handshake. Against a peer that waits too, neither side moves. With
    /// this on, such a request is kept until its hello can go out.
    pub deferred_renegotiation_sends_hello: bool,
    /// Whose behaviour to reproduce where implementations differ.
    pub profile: Profile,
    /// The AEAD provider this session's keys use (`None`: the default,
    /// [`Provider::default`](crate::cipher::Provider::default)).
    pub provider: Option<crate::cipher::Provider>,
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
#[inline]
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
            allow_client_renegotiation: false,
            queue_flights_behind_write: true,
            want_read_when_write_meets_app_data: false,
            deferred_renegotiation_sends_hello: false,
            provider: None,
            profile: Profile::OpenSsl3_0,
        }
    }
}

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
    /// A driven handshake past the peer's hello: the driver knows the
    /// rest; a TLS 1.2 ChangeCipherSpec is taken once it prepared read keys.
    Driven,
}

/// Whether a handshake is running (OpenSSL's `in_init`), and where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HandshakeState {
    /// A handshake is running (the first, or a renegotiation).
    Handshaking {
        /// Which message is awaited.
        stage: Stage,
        /// The connection's first handshake.
        first: bool,
        /// This side started it (OpenSSL: a client answering HelloRequest
        /// counts), so application data may arrive before the ServerHello.
        ours: bool,
    },
    /// No handshake is running.
    Established,
}

/// Why the connection is over: later calls give SYSCALL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
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

/// How a session's handshakes are run (the one thing that differs between
/// a followed, a taken-over and a driven session).
enum Mode {
    /// Followed from a key log: the caller reports what this endpoint
    /// (a client) sent through [`Session::observe_sent`].
    Follow,
    /// Taken over after its handshake: none can run (renegotiation is
    /// refused both ways); TLS 1.3 KeyUpdate is sealed here.
    TakenOver,
    /// A driver runs the handshakes; records are sealed here.
    Driven(Box<dyn HandshakeDriver + Send>),
}

impl core::fmt::Debug for Mode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Mode::Follow => "Follow",
            Mode::TakenOver => "TakenOver",
            Mode::Driven(_) => "Driven",
        })
    }
}

#[derive(Debug, Default)]
struct PendingWrite {
    /// Sealed bytes not yet taken by the transport (OpenSSL `wb->left`).
    wire: BytesMut,
    /// Plaintext bytes of the pending record (`wpend_tot`, `wpend_ret`).
    tot: usize,
    /// Address of the caller's buffer the pending record came from.
    buf_addr: usize,
    /// Its content (kept only with `check_retry_content`).
    content: Vec<u8>,
    typ: Option<ContentType>,
    /// The pending record's bytes went to the transport ahead of the retry
    /// (only when handshake records were queued behind them): the retry
    /// still counts them, as if it had sent them itself.
    sent_ahead: bool,
}

/// One endpoint (the client) of a TLS connection, with OpenSSL 3.0 semantics.
pub struct Session {
    cfg: Config,
    // --- transport ---
    input: BytesMut,
    /// Bytes at the front of `input` that fast reads used up and that are
    /// not yet advanced past (`BytesMut::advance` is about 40 instructions,
    /// a tenth of a 64-byte record's read besides the AEAD): a run of fast
    /// reads advances once, when the buffer is used up or anything else
    /// runs ([`Session::leave_fast_paths`]). Zero everywhere else.
    input_consumed: usize,
    /// `input` is a buffer of the session's own (filled since it last
    /// went to the thread's spares, `pool`), not one `recv_buf` adopted.
    input_held: bool,
    eof: bool,
    out: BytesMut,
    out_capacity: Option<usize>,
    // --- read side ---
    deframer: Deframer,
    opener: Opener,
    /// The current record (OpenSSL `rrec`): its plaintext and read cursor.
    current_record: Option<(ContentType, Bytes)>,
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
    write_progress: usize,
    pending_write: PendingWrite,
    queued_alert: Option<(AlertLevel, AlertDescription)>,
    /// [`Session::write_with`]'s plaintext when it cannot be sealed in
    /// place (kept, so a retry passes the same buffer).
    staged: Vec<u8>,
    /// Handshake records (a driven session's flights, KeyUpdates) sealed
    /// but not yet taken by the transport, in sealing order, behind the
    /// pending write's bytes (`pending_write.wire`).
    behind: VecDeque<BytesMut>,
    /// A KeyUpdate to send (OpenSSL `s->key_update`): `Some(request_peer)`;
    /// `Some(false)` is also the answer owed to a peer that asked.
    key_update: Option<bool>,
    /// The caller asked for a KeyUpdate: the next call enters the state
    /// machine for it (OpenSSL sets `in_init`).
    key_update_asked: bool,
    // --- connection ---
    tracker: KeyTracker,
    /// The client's own sent bytes, followed to know its keys.
    mirror: DirState,
    handshake_state: HandshakeState,
    renegotiate: bool,
    /// OpenSSL's `s->renegotiate`: set by SSL_renegotiate (and a
    /// HelloRequest), cleared when a handshake finishes; without it a
    /// starting renegotiation writes no ClientHello.
    renegotiate_requested: bool,
    /// Client or server.
    role: Role,
    /// Where handshakes come from.
    mode: Mode,
    /// A message the driver paused on, offered again at the next call.
    stalled: Option<HandshakeMessage>,
    /// A driven handshake this side starts: the driver's `start` (client)
    /// or a HelloRequest (server) is still to be carried out.
    start_due: bool,
    /// TLS 1.2, driven: read keys are prepared, the peer's
    /// ChangeCipherSpec may come.
    ccs_expected: bool,
    /// Handshakes completed by a driver.
    handshakes: u64,
    /// OpenSSL's `s3.total_renegotiations`: renegotiations the check
    /// started. Application data may interrupt only a counted one.
    total_renegotiations: u32,
    /// The handshake code is running now (OpenSSL's `in_handshake`), as
    /// against a handshake being in progress ([`Session::in_handshake`]).
    handshake_running: bool,
    in_read_app_data: bool,
    received_shutdown: bool,
    /// 3.5 and 4.0: a record handed up by the record layer was thrown away
    /// unreleased ([`Profile::leaves_discarded_record_unreleased`]); the
    /// next record read fails.
    unreleased_record: bool,
    sent_shutdown: bool,
    /// Our hello (a client's ClientHello, a server's HelloRequest) is to be
    /// written at the next run of the handshake: its pre-work clears the
    /// shutdown flags ([`Session::hello_pre_work`]).
    hello_pre_work: bool,
    /// `shutdown` is reading for the peer's close_notify (OpenSSL's
    /// `ssl3_read_bytes` with type 0): no record type is asked for.
    shutdown_reading: bool,
    /// What the last read, peek, write or shutdown was left waiting for
    /// (OpenSSL's `rwstate` with the BIO's retry flag), which
    /// `SSL_get_error` reports again for a call that fails without
    /// setting it.
    last_blocked: Option<SslError>,
    failure: Option<Failure>,
    /// What the last `write`, `read` or `read_record` found of the state
    /// that their fast paths need, so that the next such call need not
    /// look at every field again.
    steady: SteadyCache,
}

/// The session's state, with buffers as lengths only: a session is the
/// kind of value that ends up in a log line, and its buffers hold
/// plaintext (records received, read in part or already read, the bytes a
/// blocked write keeps, handshake messages). Keys redact themselves.
impl core::fmt::Debug for Session {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Session")
            .field("role", &self.role)
            .field("mode", &self.mode)
            .field("profile", &self.cfg.profile)
            .field("handshake_state", &self.handshake_state)
            .field("handshakes", &self.handshakes)
            .field("sealer", &self.sealer)
            .field("opener", &self.opener)
            // Bytes received and not yet made into records (still sealed).
            .field(
                "received",
                &(self.unread_input() + self.deframer.buffered()),
            )
            .field(
                "current_record",
                &self.current_record.as_ref().map(|(t, d)| (t, d.len())),
            )
            .field("tickets", &self.tickets.len())
            .field("eof", &self.eof)
            // Sealed bytes not yet taken by the transport.
            .field(
                "outgoing",
                &(self.out.len()
                    + self.pending_write.wire.len()
                    + self.behind.iter().map(BytesMut::len).sum::<usize>()),
            )
            .field("pending_write_len", &self.pending_write.tot)
            .field("queued_alert", &self.queued_alert)
            .field("key_update", &self.key_update)
            .field("sent_shutdown", &self.sent_shutdown)
            .field("received_shutdown", &self.received_shutdown)
            .field("last_blocked", &self.last_blocked)
            .field("failure", &self.failure)
            .finish_non_exhaustive()
    }
}

/// Which fast paths' state conditions are known to hold
/// ([`Session::steady_write_state`], [`Session::steady_read_state`]): the
/// bulk of a steady `write` or `read` is those checks, not the record.
///
/// Sound because nothing changes the fields checked between two calls on
/// the session, and a fast path that succeeds changes none of them (the
/// write path: the outgoing bytes, the sealer, the pending write's length
/// and address; the read path: the received bytes, the opener, the
/// current record, the counts of empty and alert records). So:
/// - only `write` and `write_with` set `write`, and only `read` and
///   `read_record` set `read`, each after the full check passed and its
///   fast path succeeded;
/// - any other outcome of those calls (an error, the slow path) clears
///   both;
/// - every other `&mut self` method of `Session` clears both first
///   ([`Session::leave_fast_paths`]).
///
/// Debug builds check every use against the full check.
#[derive(Debug, Default, Clone, Copy)]
struct SteadyCache {
    write: bool,
    read: bool,
}

fn fatal_err(reason: Reason, alert: AlertDescription) -> Error {
    Error::PeerMisbehaved { reason, alert }
}

/// A TLS 1.3 KeyUpdate message (RFC 8446 4.6.3): type 24, length 1,
/// `request_update`.
fn key_update_message(request_peer: bool) -> [u8; 5] {
    [24, 0, 0, 1, u8::from(request_peer)]
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
        Session::from_established(est, cfg, Role::Client)
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
        Session::from_established(est, cfg, Role::Server)
    }

    /// A session continuing an established connection in `role`, taken over
    /// after its handshake ([`client_from_established`](Self::client_from_established)
    /// or [`server_from_established`](Self::server_from_established)).
    ///
    /// # Errors
    /// [`Error::BadInput`] if the keys do not belong to `suite`.
    pub fn from_established(est: Established, cfg: Config, role: Role) -> Result<Self, Error> {
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
        s.handshake_state = HandshakeState::Established;
        s.mode = Mode::TakenOver;
        s.role = role;
        Ok(s)
    }

    /// A client session that follows its handshake passively with keys from
    /// `keylog` (the ClientHello is what the caller reports with
    /// [`observe_sent`](Self::observe_sent)).
    #[must_use]
    pub fn passive_client(keylog: KeyLog, cfg: Config) -> Self {
        let mut opener = Opener::new();
        let mut sealer = Sealer::new();
        if let Some(p) = cfg.provider {
            opener.set_provider(p);
            sealer.set_provider(p);
        }
        opener.set_inner_plaintext_limit(cfg.profile.limits_inner_plaintext());
        opener.set_short_record_bad_mac(cfg.profile.short_record_is_bad_mac());
        opener.set_cipher_refusals(cfg.profile.cipher_refusals());
        Session {
            cfg,
            input: BytesMut::new(),
            input_consumed: 0,
            input_held: false,
            eof: false,
            out: BytesMut::new(),
            out_capacity: None,
            deframer: Deframer::new(),
            opener,
            current_record: None,
            joiner: HandshakeJoiner::new(),
            empty_count: 0,
            alert_count: 0,
            warn_alert: 0,
            ccs_seen: false,
            sealer,
            write_progress: 0,
            pending_write: PendingWrite::default(),
            queued_alert: None,
            behind: VecDeque::new(),
            staged: Vec::new(),
            key_update: None,
            key_update_asked: false,
            tracker: KeyTracker::new(keylog),
            mirror: DirState::default(),
            handshake_state: HandshakeState::Handshaking {
                stage: Stage::Hello,
                first: true,
                ours: true,
            },
            renegotiate: false,
            renegotiate_requested: false,
            role: Role::Client,
            mode: Mode::Follow,
            stalled: None,
            start_due: false,
            ccs_expected: false,
            handshakes: 0,
            taken: None,
            take_whole: false,
            tickets: Vec::new(),
            total_renegotiations: 0,
            handshake_running: false,
            in_read_app_data: false,
            received_shutdown: false,
            unreleased_record: false,
            sent_shutdown: false,
            hello_pre_work: false,
            shutdown_reading: false,
            last_blocked: None,
            failure: None,
            steady: SteadyCache::default(),
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
        !matches!(
            self.handshake_state,
            HandshakeState::Handshaking { first: true, .. }
        )
    }

    /// Client or server.
    #[must_use]
    pub fn role(&self) -> Role {
        self.role
    }

    /// True while a handshake (a renegotiation) is in progress.
    #[must_use]
    pub fn in_handshake(&self) -> bool {
        self.in_init()
    }

    /// Handshakes a [driver](Self::driven) completed on this session.
    #[must_use]
    pub fn handshakes(&self) -> u64 {
        self.handshakes
    }

    /// Sealed bytes not yet taken by the transport: the pending write's
    /// record and handshake records queued behind it.
    #[must_use]
    pub fn queued_len(&self) -> usize {
        self.pending_write.wire.len() + self.behind.iter().map(BytesMut::len).sum::<usize>()
    }

    /// A segment from the peer arrives (appended to the received bytes, as
    /// writing into OpenSSL's memory BIO does).
    pub fn recv(&mut self, segment: &[u8]) {
        self.leave_fast_paths();
        self.bytes_arrive();
        self.input_room(segment.len());
        crate::copy::extend_in_pieces(&mut self.input, segment);
    }

    /// What every receive call does first. A write into OpenSSL's memory
    /// BIO clears its retry flags: a WANT_READ left by the last call is no
    /// longer what SSL_get_error reports (a call that fails without
    /// setting `rwstate`, such as a shutdown queued behind a pending
    /// record, then says SYSCALL or ZERO_RETURN).
    fn bytes_arrive(&mut self) {
        if self.last_blocked == Some(SslError::WantRead) {
            self.last_blocked = None;
        }
    }

    /// Room for `need` received bytes: with none waiting, the receive
    /// buffer's own memory if nothing else holds it, else a spare buffer.
    fn input_room(&mut self, need: usize) {
        if self.input.is_empty() && need > 0 && !self.input.try_reclaim(need) {
            self.input = pool::take(need);
        }
        self.input_held = true;
    }

    /// Room for `need` bytes to send, as [`input_room`](Self::input_room).
    #[inline]
    fn out_room(&mut self, need: usize) {
        if self.out.is_empty() && !self.out.try_reclaim(need) {
            self.out = pool::take(need);
        }
    }

    /// Every `&mut self` method but the fast paths' own calls this first,
    /// and those calls do on any other outcome: what runs next may change
    /// what the fast paths check ([`SteadyCache`]), and sees the received
    /// bytes without those fast reads used up.
    #[inline]
    fn leave_fast_paths(&mut self) {
        self.steady = SteadyCache::default();
        self.drop_consumed_input();
    }

    /// Advances `input` past the bytes fast reads used up.
    #[inline]
    fn drop_consumed_input(&mut self) {
        if self.input_consumed > 0 {
            self.input.advance(std::mem::take(&mut self.input_consumed));
        }
    }

    /// Everything received was read: the receive buffer goes to the
    /// thread's spares (freed with `release_buffers`).
    #[inline(never)]
    fn input_drained(&mut self) {
        if self.cfg.release_buffers {
            self.input = BytesMut::new();
            self.input_held = false;
        } else if std::mem::take(&mut self.input_held) {
            pool::give(std::mem::take(&mut self.input));
        }
    }

    /// Like [`recv`](Self::recv), taking a segment the caller owns: when no
    /// received bytes are waiting, the session adopts the buffer instead of
    /// copying it, so records are opened where the transport put them and
    /// [`read_record`](Self::read_record) hands out slices of it. (With
    /// bytes waiting, it is appended as `recv` does.)
    ///
    /// Returns an empty buffer for the caller to use again: the receive
    /// buffer the segment replaced (or the segment itself once copied).
    /// Handed to a writer's [`give_outgoing_buf`](Self::give_outgoing_buf)
    /// (or filled by the transport for the next `recv_buf`), its memory is
    /// reused once the records `read_record` handed out of it are dropped:
    /// buffers then go round without an allocation per record, also
    /// between threads. (An adopted buffer stays with the session once
    /// read, for the next `recv_buf` to hand back; the session's own
    /// buffers go to the thread's spares instead.)
    pub fn recv_buf(&mut self, mut segment: BytesMut) -> BytesMut {
        self.leave_fast_paths();
        self.bytes_arrive();
        if self.input.is_empty() {
            std::mem::swap(&mut self.input, &mut segment);
            // The caller's buffer: kept once drained, for the next
            // `recv_buf` to hand back (not put with the thread's spares,
            // which may be another thread's than the writer's).
            self.input_held = false;
        } else {
            crate::copy::extend_in_pieces(&mut self.input, &segment);
        }
        segment.clear();
        segment
    }

    /// Receives straight into the session's buffer: `fill` is given `max`
    /// bytes of (zeroed) room at its end, writes what the transport has
    /// into it (a socket read, say) and says how many bytes it wrote; no
    /// copy. Its error, if any, is passed back and nothing is received.
    ///
    /// # Errors
    /// Whatever `fill` returned.
    pub fn recv_with<E>(
        &mut self,
        max: usize,
        fill: impl FnOnce(&mut [u8]) -> Result<usize, E>,
    ) -> Result<usize, E> {
        self.leave_fast_paths();
        self.input_room(max);
        let start = self.input.len();
        self.input.resize(start + max, 0);
        let r = fill(&mut self.input[start..]);
        let n = match &r {
            Ok(n) => {
                self.bytes_arrive();
                (*n).min(max)
            }
            Err(_) => 0,
        };
        self.input.truncate(start + n);
        r
    }

    /// [`recv_buf`](Self::recv_buf) for a `Bytes` (what
    /// [`take_outgoing`](Self::take_outgoing) gives): adopted without a
    /// copy when no other handle shares its memory.
    pub fn recv_bytes(&mut self, segment: Bytes) {
        self.leave_fast_paths();
        match segment.try_into_mut() {
            Ok(m) => {
                self.recv_buf(m);
            }
            Err(b) => self.recv(&b),
        }
    }

    /// The transport reports end of stream after the bytes received so far.
    pub fn recv_eof(&mut self) {
        self.leave_fast_paths();
        self.eof = true;
    }

    /// Bytes received and not yet taken by the record layer.
    #[must_use]
    pub fn unread_input(&self) -> usize {
        self.input.len() - self.input_consumed
    }

    /// Bounds the outgoing transport to `capacity` bytes (`None`: unbounded).
    pub fn set_outgoing_capacity(&mut self, capacity: Option<usize>) {
        self.leave_fast_paths();
        self.out_capacity = capacity;
    }

    /// The peer takes up to `max` bytes of what this endpoint sent.
    pub fn take_outgoing(&mut self, max: usize) -> Bytes {
        self.leave_fast_paths();
        let n = max.min(self.out.len());
        if n == 0 {
            // Not a split: an empty one would share (and first promote) the
            // buffer, which then could not be reused in place.
            return Bytes::new();
        }
        let taken = self.out.split_to(n).freeze();
        if self.out.is_empty() {
            // SSL_MODE_RELEASE_BUFFERS: an idle session holds no buffer
            // (the bytes handed out keep theirs until dropped). Without it
            // the buffer goes to the thread's spares (`pool`).
            let buf = std::mem::take(&mut self.out);
            if !self.cfg.release_buffers {
                pool::give(buf);
            }
        }
        taken
    }

    /// Everything waiting in the outgoing transport, as one buffer no other
    /// handle shares (the peer's [`recv_buf`](Self::recv_buf) adopts it
    /// without a copy). The session writes next into the buffer last given
    /// with [`give_outgoing_buf`](Self::give_outgoing_buf), else into a new
    /// one (an allocation per call, where
    /// [`take_outgoing`](Self::take_outgoing) reuses its buffer).
    pub fn take_outgoing_buf(&mut self) -> BytesMut {
        self.leave_fast_paths();
        std::mem::take(&mut self.out)
    }

    /// Gives the session a buffer to write into next: one that
    /// [`take_outgoing_buf`](Self::take_outgoing_buf) handed out (once the
    /// transport is done with it) or that the peer's
    /// [`recv_buf`](Self::recv_buf) returned. Its bytes are dropped and its
    /// memory reused when no other handle (a record `read_record` handed
    /// out) still shares it. Ignored while sealed bytes wait to be taken,
    /// and with [`Config::release_buffers`] (an idle session holds no
    /// buffer).
    pub fn give_outgoing_buf(&mut self, mut buf: BytesMut) {
        self.leave_fast_paths();
        if self.out.is_empty() && !self.cfg.release_buffers {
            buf.clear();
            self.out = buf;
        }
    }

    /// Bytes waiting in the outgoing transport.
    #[must_use]
    pub fn outgoing_len(&self) -> usize {
        self.out.len()
    }

    /// Writes into the bounded transport: how much it took, or `None` if it
    /// is full (would block).
    fn write_to_transport(&mut self, data: &[u8]) -> Option<usize> {
        let n = match self.out_capacity {
            None => data.len(),
            Some(c) => data.len().min(c.saturating_sub(self.out.len())),
        };
        if n == 0 && !data.is_empty() {
            return None;
        }
        self.out_room(n);
        crate::copy::extend_in_pieces(&mut self.out, &data[..n]);
        Some(n)
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
