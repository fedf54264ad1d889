#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(unreachable_pub)]
//! tlsrec: a TLS record layer with OpenSSL's exact semantics.
//!
//! ```text
//!  segments from the transport                        caller
//!        │ push / Session::recv                          ▲
//!        ▼                                               │ read / peek (one record at most)
//!  ┌──────────────┐  OpaqueRecord  ┌────────┐  PlainRecord (Bytes, no copy)
//!  │  Deframer    │ ─────────────▶ │ Opener │ ───────────────▶ Session (cursor, pending,
//!  │ (BytesMut,   │  header checked│ (AEAD  │                  alerts, empty records,
//!  │  ≤ 1 record) │  before body   │ in place)                handshake messages)
//!  └──────────────┘                └────────┘
//!
//!  caller ── write ──▶ Session (fragment, retry rules) ──▶ Sealer ──▶ pending wire ──▶ transport
//! ```
//!
//! In the steady state (established, nothing pending or queued) a session
//! takes shorter paths with the same results: a whole record already among
//! the received bytes is opened where it lies and its plaintext copied
//! straight into the caller's buffer (split off without a copy when it does
//! not fit), and a write is sealed straight into the outgoing queue.
//! [`Sealer::seal_in_place`] seals plaintext a caller wrote into the output
//! buffer itself, without the copy [`Sealer::seal`] makes.
//!
//! * [`Deframer`]: whole records out of arbitrarily split segments, with
//!   OpenSSL 3.0's header checks (version, length limits, TLS 1.3 outer type)
//!   applied as soon as the 5 header bytes are in.
//! * [`Opener`] / [`Sealer`]: AEAD record protection for TLS 1.2 and 1.3, one
//!   per direction, keys prepared then activated at a record boundary.
//! * [`keys`]: HKDF-Expand-Label, traffic keys, KeyUpdate, the TLS 1.2 PRF.
//! * [`keylog`]: SSLKEYLOGFILE parsing.
//! * [`Session`]: `SSL_read` / `SSL_peek` / `SSL_pending` / `SSL_write` /
//!   `SSL_shutdown` / `SSL_key_update` with OpenSSL 3.0's results, over a
//!   sans-IO transport. One record layer for every mode: following a
//!   handshake passively ([`Session::passive_client`]), continuing an
//!   established connection as its client or its server
//!   ([`Session::client_from_established`],
//!   [`Session::server_from_established`]; keys from [`import`]), or with a
//!   [`HandshakeDriver`] that runs its handshakes ([`Session::driven`]):
//!   TLS 1.2 renegotiation by either side interleaved with application
//!   data, driver callbacks that pause (`WantCallback`) and resume on the
//!   same message, TLS 1.3 KeyUpdate both ways. Departures from OpenSSL
//!   are named [`Config`] options.
//! * [`follow`] and [`decode`]: following a captured connection with its key
//!   log, record by record.
//! * [`io`]: a session over any `std::io::Read + Write` transport.
//! * `tls12` (feature `handshake`): a TLS 1.2 handshake, client and server,
//!   as a [`HandshakeDriver`]: [`Session::handshaking`] runs the first
//!   handshake from plaintext and every renegotiation (docs/handshake.md).
//! * `takeover` (feature `rustls`): a rustls handshake over the caller's
//!   transport that hands every byte read past it to the session, with the
//!   TLS 1.3 traffic secrets for KeyUpdate collected; [`first_bytes`]: the
//!   blind-tunnel check of what a server reads first.
//!
//! Call order for a session: [`Session::recv`] what arrived (and
//! [`Session::recv_eof`] at the end), call [`Session::read`] /
//! [`Session::write`] as with OpenSSL, and move [`Session::take_outgoing`]
//! to the transport; a `WantRead` / `WantWrite` means "do that, then call
//! again".
//!
//! Two endpoints joined in memory (the peer is a bare [`Sealer`]):
//!
//! ```
//! use tlsrec::{CipherSuite, Config, ContentType, Established, RecordKeys, Sealer, Session, SslError};
//! let suite = CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256;
//! let s2c = RecordKeys::new(suite, &[1; 32], &[2; 12]).unwrap();
//! let c2s = RecordKeys::new(suite, &[3; 32], &[4; 12]).unwrap();
//! let est = Established { suite, read: s2c.clone(), read_seq: 0, write: c2s, write_seq: 0, secrets: None };
//! let mut client = Session::client_from_established(est, Config::default()).unwrap();
//!
//! let mut server = Sealer::new();
//! server.set_keys(s2c);
//! let mut wire = bytes::BytesMut::new();
//! server.seal(ContentType::ApplicationData, b"0123456789", &mut wire).unwrap();
//! client.recv(&wire[..7]); // a segment that ends inside the record
//! let mut buf = [0u8; 4];
//! assert_eq!(client.read(&mut buf), Err(SslError::WantRead));
//! client.recv(&wire[7..]);
//! assert_eq!(client.read(&mut buf), Ok(4)); // short read from the record
//! assert_eq!(client.pending(), 6);
//! ```
//!
//! Features (none by default): `transcript` adds the `transcript` and
//! `replay` modules and `decode::decode_transcript` (the JSON transcript
//! format, with `serde_json`); `handshake` (the `tls12` module); `rustls`,
//! `tokio`, and the AEAD providers
//! `ring` (alias `fast`) and `aws-lc`. The `tlsrec` command-line tool is a
//! package of its own (`cli/` in the repository).
//!
//! [`manual`] is the behaviour catalogue: the OpenSSL 3.0 rules (A1 to J2)
//! that comments and test names cite, each with the tests that check it, and
//! the places where tlsrec deliberately departs from OpenSSL.

pub mod alert;
pub mod cipher;
mod copy;
pub mod decode;
pub mod deframer;
pub mod driver;
pub mod error;
pub mod first_bytes;
pub mod follow;
pub mod handshake;
pub mod import;
pub mod io;
pub mod keylog;
pub mod keys;
#[doc = include_str!("../docs/behaviour.md")]
pub mod manual {}
pub mod reader;
pub mod record;
#[cfg(feature = "transcript")]
pub mod replay;
pub mod role;
pub mod session;
#[cfg(feature = "rustls")]
pub mod takeover;
#[cfg(feature = "handshake")]
pub mod tls12;
#[cfg(feature = "tokio")]
pub mod tokio_io;
#[cfg(feature = "transcript")]
pub mod transcript;

pub use alert::{AlertDescription, AlertLevel};
pub use cipher::{AeadAlgorithm, CipherSuite, HashAlgorithm, Opener, Sealer};
pub use deframer::{Deframer, HeaderPolicy};
pub use driver::{FlightItem, HandshakeDriver, Progress};
pub use error::{Error, Initiator, Reason, SslError};
pub use keys::{RecordKeys, Secret};
pub use reader::RecordReader;
pub use record::{ContentType, Header, OpaqueRecord, PlainRecord, ProtocolVersion, Version};
pub use role::Role;
pub use session::{Config, Established, Profile, Session};

/// The README's examples run as doctests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
