//! The handshake as a plug-in: a [`HandshakeDriver`] runs a connection's
//! handshakes (the first one or renegotiations) for a [`Session`] built with
//! [`Session::driven`] (renegotiations of an established connection) or
//! [`Session::handshaking`] (from plaintext, its first handshake too). The
//! session's record layer hands it every complete handshake message and
//! carries out what it answers, in order: messages to send, key changes per
//! direction, then continue, done, pending or fail.
//!
//! The record layer keeps everything else: reading and writing records,
//! the read cursor, alerts, ChangeCipherSpec, KeyUpdate, NewSessionTicket,
//! HelloRequest and OpenSSL's rules for application data met during a
//! renegotiation. A driver sees only the messages of a handshake it runs.
//!
//! A driver may return [`Progress::Pending`] (an asynchronous certificate
//! lookup, a session cache miss): the call returns
//! [`SslError::WantCallback`](crate::SslError::WantCallback), the message
//! stays with the session, and the next call offers the driver the same
//! message again. No transport byte is read twice and none is lost.
//!
//! [`Session`]: crate::Session
//! [`Session::driven`]: crate::Session::driven
//! [`Session::handshaking`]: crate::Session::handshaking

use crate::alert::AlertDescription;
use crate::handshake::{HandshakeMessage, HandshakeType};
use crate::keys::RecordKeys;

/// What a driver asks the record layer to do, in order.
#[derive(Debug)]
pub enum FlightItem {
    /// Send one handshake message (type and body; the 4-byte header is
    /// added), fragmented like application data.
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
    /// Not now: offer the same message again at the next call. The items of
    /// this answer are dropped.
    Pending,
    /// Abort with this fatal alert.
    Fail(AlertDescription),
}

/// Runs handshakes for a [`Session`](crate::Session).
pub trait HandshakeDriver {
    /// Begins a handshake this side starts: a client's ClientHello (a
    /// server's HelloRequest is the record layer's, and the driver then sees
    /// the ClientHello that answers it).
    fn start(&mut self, out: &mut Vec<FlightItem>) -> Progress;
    /// A complete handshake message from the peer, in a handshake that is
    /// running (never a TLS 1.3 KeyUpdate, NewSessionTicket or a
    /// HelloRequest: the record layer handles those).
    fn message(&mut self, msg: &HandshakeMessage, out: &mut Vec<FlightItem>) -> Progress;
}
