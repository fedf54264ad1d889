//! The live oracle: a real OpenSSL 3 client (the system libssl, through the
//! `openssl` crate) driven over in-memory transports, recording
//! `tlsrec-transcript/1` transcripts.
//!
//! This is both the generator of the committed corpus
//! (`cargo run --example gen_transcripts`) and the oracle of the differential
//! tests (`tests/differential.rs`): a scenario is a script of [`Action`]s
//! chosen from a seed; running it against libssl records what OpenSSL
//! returned at every call, and `tlsrec::replay` must return the same.
//!
//! The peer is either a live OpenSSL server (`real`, `reneg`, `write`
//! families) or, once the handshake is done, a crafted server whose records
//! tlsrec's own sealer writes with the keys from the key log (`crafted`):
//! empty records, padding, alerts, KeyUpdate, HelloRequest, faults.
#![allow(dead_code, unreachable_pub, unsafe_code)]

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::io;
use std::os::raw::{c_int, c_long, c_void};
use std::rc::Rc;
use std::sync::{Arc, Mutex, OnceLock};

use bytes::BytesMut;
use foreign_types::ForeignTypeRef;
use openssl::ec::{EcGroup, EcKey};
use openssl::error::ErrorStack;
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::ssl::{
    ErrorCode, Ssl, SslContext, SslContextBuilder, SslMethod, SslMode, SslOptions, SslStream,
    SslVerifyMode, SslVersion,
};
use openssl::x509::{X509Builder, X509NameBuilder, X509};
use serde_json::{json, Map, Value};
use tlsrec::follow::{Dir, Follower};
use tlsrec::keylog::{encode_hex, KeyLog};
use tlsrec::keys::{next_traffic_secret, RecordKeys, Secret};
use tlsrec::{AlertDescription, CipherSuite, ContentType, Sealer, Version};

// libssl entry points and constants the `openssl` crate does not wrap.
#[path = "../common/libssl.rs"]
mod libssl;
use libssl::*;

thread_local! {
    /// The last alert the client wrote (level, description), from libssl's
    /// info callback.
    static LAST_ALERT: Cell<Option<(u8, u8)>> = const { Cell::new(None) };
}

unsafe extern "C" fn info_cb(_ssl: *const openssl_sys::SSL, where_: c_int, ret: c_int) {
    if where_ & SSL_CB_WRITE_ALERT == SSL_CB_WRITE_ALERT {
        LAST_ALERT.with(|a| a.set(Some(((ret >> 8) as u8, ret as u8))));
    }
}

/// xorshift64*: deterministic choices from a seed.
#[derive(Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    pub fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())]
    }
}

// ---------------------------------------------------------------------------
// In-memory transports.
// ---------------------------------------------------------------------------

#[derive(Default)]
struct Wire {
    to_client: VecDeque<u8>,
    client_eof: bool,
    from_client: Vec<u8>,
    /// `Some(c)`: the client's outgoing pipe holds at most c bytes.
    client_cap: Option<usize>,
    to_server: VecDeque<u8>,
    from_server: Vec<u8>,
}

struct End {
    wire: Rc<RefCell<Wire>>,
    client: bool,
}

impl io::Read for End {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut w = self.wire.borrow_mut();
        let eof = self.client && w.client_eof;
        let q = if self.client {
            &mut w.to_client
        } else {
            &mut w.to_server
        };
        if q.is_empty() {
            return if eof {
                Ok(0)
            } else {
                Err(io::ErrorKind::WouldBlock.into())
            };
        }
        let n = buf.len().min(q.len());
        for (d, s) in buf.iter_mut().zip(q.drain(..n)) {
            *d = s;
        }
        Ok(n)
    }
}

impl io::Write for End {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut w = self.wire.borrow_mut();
        if !self.client {
            w.from_server.extend_from_slice(buf);
            return Ok(buf.len());
        }
        let n = match w.client_cap {
            None => buf.len(),
            Some(c) => buf.len().min(c - w.from_client.len()),
        };
        if n == 0 && !buf.is_empty() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        w.from_client.extend_from_slice(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Certificates (made once per process).
// ---------------------------------------------------------------------------

fn self_signed(key: &PKey<Private>) -> Result<X509, ErrorStack> {
    let mut name = X509NameBuilder::new()?;
    name.append_entry_by_nid(Nid::COMMONNAME, "tlsrec.test")?;
    let name = name.build();
    let mut b = X509Builder::new()?;
    b.set_version(2)?;
    b.set_subject_name(&name)?;
    b.set_issuer_name(&name)?;
    b.set_pubkey(key)?;
    b.set_not_before(openssl::asn1::Asn1Time::days_from_now(0)?.as_ref())?;
    b.set_not_after(openssl::asn1::Asn1Time::days_from_now(2)?.as_ref())?;
    b.sign(key, MessageDigest::sha256())?;
    Ok(b.build())
}

fn ec_identity() -> &'static (PKey<Private>, X509) {
    static ID: OnceLock<(PKey<Private>, X509)> = OnceLock::new();
    ID.get_or_init(|| {
        let g = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
        let k = PKey::from_ec_key(EcKey::generate(&g).unwrap()).unwrap();
        let c = self_signed(&k).unwrap();
        (k, c)
    })
}

fn rsa_identity() -> &'static (PKey<Private>, X509) {
    static ID: OnceLock<(PKey<Private>, X509)> = OnceLock::new();
    ID.get_or_init(|| {
        let k = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
        let c = self_signed(&k).unwrap();
        (k, c)
    })
}

// ---------------------------------------------------------------------------
// Scenarios.
// ---------------------------------------------------------------------------

/// How the peer's bytes are cut into segments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seg {
    /// Everything pending as one segment.
    Whole,
    /// 1448-byte segments (a TCP MSS).
    Mtu,
    /// One byte per segment.
    Bytes,
    /// Random sizes 1..4000.
    Random,
    /// Up to one to four bytes into the next record header.
    MidHeader,
}

/// Faults a crafted peer can send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    BadTag,
    Oversize,
    BadVersion,
    BadType,
    /// TLS 1.3: inner plaintext of 2^14 + 1 bytes.
    Overflow,
    /// A ChangeCipherSpec record after the handshake.
    Ccs,
    /// A protected alert record of the wrong length.
    OddAlert,
    /// TLS 1.3: a handshake message not allowed after the handshake.
    BadPostHandshake,
    /// TLS 1.3: KeyUpdate with an illegal request value.
    BadKeyUpdate,
    /// An unprotected application data record after the handshake.
    Plaintext,
}

/// Which of the caller's two buffers a write uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Buf {
    A,
    B,
}

/// One step of a scenario.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// The peer sends `len` bytes of application data (a live server's
    /// SSL_write, or one crafted record with `pad` bytes of TLS 1.3 padding).
    App {
        len: usize,
        pad: usize,
    },
    /// Crafted: `n` empty application data records.
    Empty(usize),
    /// Crafted: an alert (level, description).
    Alert(u8, u8),
    /// The peer sends close_notify.
    Close,
    /// TLS 1.3: the peer sends KeyUpdate (update_requested or not).
    KeyUpdate(bool),
    /// Crafted TLS 1.3: a NewSessionTicket.
    Ticket,
    /// TLS 1.2: the peer asks for a renegotiation (HelloRequest).
    HelloRequest,
    /// TLS 1.2: the client starts a renegotiation (its next call sends it).
    ClientReneg,
    /// Crafted: a faulty record.
    Fault(Fault),
    /// Live server: read what the client sent and go on with its handshake.
    Pump,
    /// Deliver the peer's pending bytes (all, or at most `Some(k)`).
    Deliver(Seg, Option<usize>),
    /// The transport reports end of stream.
    Eof,
    /// A record of header type `typ` whose body is `len` random bytes (no
    /// valid protection: too short for the AEAD, or a bad tag).
    Raw {
        typ: u8,
        len: usize,
    },
    /// Crafted: a record of content type `typ` (TLS 1.3: the inner type)
    /// holding `len` bytes, sealed with the current keys.
    Sealed {
        typ: u8,
        len: usize,
    },
    /// Crafted: one handshake record holding exactly these bytes (message
    /// headers and bodies, whole or in part), sealed with the current keys.
    Handshake(Vec<u8>),
    /// Live server: it reads a bad record from the client's direction and
    /// answers with a fatal alert (bad_record_mac).
    ServerFatal,
    Read(usize),
    Peek(usize),
    Pending,
    /// `SSL_has_pending`.
    HasPending,
    /// The client calls `SSL_shutdown`.
    Shutdown,
    Write(usize, Buf),
    /// From here on the client's outgoing pipe holds at most this many bytes.
    Transport(usize),
    /// The peer takes up to k bytes from the client's outgoing pipe.
    Drain(usize),
}

/// A family of scenarios.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// A live OpenSSL server writes; KeyUpdate, close_notify.
    Real,
    /// A crafted server: edge cases and faults.
    Crafted,
    /// SSL_write over a bounded pipe.
    Write,
    /// TLS 1.2 renegotiation by either side, with application data.
    Reneg,
}

impl Family {
    pub fn name(self) -> &'static str {
        match self {
            Family::Real => "real",
            Family::Crafted => "crafted",
            Family::Write => "write",
            Family::Reneg => "reneg",
        }
    }
}

/// The client's options.
#[derive(Clone, Debug)]
pub struct Options {
    pub auto_retry: bool,
    pub accept_moving_buffer: bool,
    pub partial_write: bool,
    pub max_send_fragment: Option<usize>,
    pub ignore_unexpected_eof: bool,
}

/// A whole scenario: what to connect with and what to do.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: String,
    pub family: Family,
    pub suite: CipherSuite,
    pub options: Options,
    pub server_tickets: usize,
    pub actions: Vec<Action>,
    /// Calls answered with SSL or SYSCALL after which the run stops (after
    /// a fatal error OpenSSL answers everything with an error).
    pub fatal_call_limit: usize,
}

pub const TLS13_SUITES: [CipherSuite; 3] = [
    CipherSuite::TLS13_AES_128_GCM_SHA256,
    CipherSuite::TLS13_AES_256_GCM_SHA384,
    CipherSuite::TLS13_CHACHA20_POLY1305_SHA256,
];

pub const TLS12_SUITES: [CipherSuite; 6] = [
    CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
];

const READ_SIZES: [usize; 12] = [1, 2, 3, 5, 16, 100, 1000, 4096, 16383, 16384, 16385, 20000];

fn call(rng: &mut Rng) -> Action {
    let n = if rng.chance(80) {
        rng.pick(&READ_SIZES)
    } else {
        1 + rng.below(40000)
    };
    match rng.below(10) {
        0..=5 => Action::Read(n),
        6..=7 => Action::Peek(n),
        _ => Action::Pending,
    }
}

fn deliver(rng: &mut Rng, small: bool) -> Action {
    let seg = rng.pick(&[
        Seg::Whole,
        Seg::Mtu,
        Seg::Bytes,
        Seg::Random,
        Seg::MidHeader,
    ]);
    let cap = match seg {
        // One-byte segments: keep transcripts small.
        Seg::Bytes => Some(1 + rng.below(if small { 40 } else { 400 })),
        _ if rng.chance(30) => Some(1 + rng.below(20000)),
        _ => None,
    };
    Action::Deliver(seg, cap)
}

fn app_len(rng: &mut Rng, small: bool) -> usize {
    match rng.below(8) {
        0 => 0,
        1 => 1 + rng.below(5),
        2 => 16384,
        3 => 16385 + rng.below(if small { 3000 } else { 20000 }),
        _ => 1 + rng.below(if small { 3000 } else { 9000 }),
    }
}

/// The steps that carry a renegotiation to its end: each side's flight is
/// delivered and read, with data from the peer and calls mixed in.
fn renegotiation_tail(rng: &mut Rng, small: bool, actions: &mut Vec<Action>) {
    for _ in 0..4 {
        if rng.chance(40) {
            actions.push(Action::App {
                len: 1 + rng.below(if small { 1500 } else { 9000 }),
                pad: 0,
            });
        }
        actions.push(deliver(rng, small));
        actions.push(Action::Deliver(Seg::Whole, None));
        actions.push(call(rng));
        actions.push(Action::Read(rng.pick(&[1, 100, 16384, 20000])));
        if rng.chance(20) {
            actions.push(Action::Write(1 + rng.below(2000), Buf::A));
        }
        actions.push(Action::Pump);
    }
}

impl Scenario {
    /// The scenario of `seed` in `family`. `small` keeps data sizes down
    /// (the committed corpus).
    pub fn generate(family: Family, seed: u64, small: bool) -> Scenario {
        let mut rng = Rng::new(seed ^ ((family as u64) << 56));
        let suite = match family {
            Family::Reneg => rng.pick(&TLS12_SUITES),
            _ if rng.chance(50) => rng.pick(&TLS13_SUITES),
            _ => rng.pick(&TLS12_SUITES),
        };
        let tls13 = suite.version() == Version::Tls13;
        let options = Options {
            auto_retry: rng.chance(60),
            accept_moving_buffer: family == Family::Write && rng.chance(50),
            partial_write: family == Family::Write && rng.chance(50),
            max_send_fragment: (family == Family::Write && rng.chance(50))
                .then(|| rng.pick(&[512, 1000, 4096, 16384])),
            ignore_unexpected_eof: rng.chance(15),
        };
        let server_tickets = if tls13 { rng.below(3) } else { 0 };
        let mut actions = Vec::new();
        let steps = 8 + rng.below(if small { 30 } else { 60 });
        match family {
            Family::Real | Family::Reneg => {
                for _ in 0..steps {
                    let a = match rng.below(20) {
                        0..=4 => Action::App {
                            len: app_len(&mut rng, small),
                            pad: 0,
                        },
                        5..=7 => deliver(&mut rng, small),
                        8..=13 => call(&mut rng),
                        14 => Action::Write(1 + rng.below(3000), rng.pick(&[Buf::A, Buf::B])),
                        15 if tls13 => Action::KeyUpdate(rng.chance(50)),
                        15 | 16 if family == Family::Reneg => {
                            // Usually let the renegotiation run to its end
                            // (the peer answers each flight), with data and
                            // calls in between.
                            if rng.chance(70) {
                                actions.push(Action::HelloRequest);
                                renegotiation_tail(&mut rng, small, &mut actions);
                                continue;
                            }
                            Action::HelloRequest
                        }
                        17 if family == Family::Reneg => {
                            if rng.chance(70) {
                                actions.push(Action::ClientReneg);
                                renegotiation_tail(&mut rng, small, &mut actions);
                                continue;
                            }
                            Action::ClientReneg
                        }
                        16 | 17 => call(&mut rng),
                        _ => Action::Pump,
                    };
                    actions.push(a);
                }
                match rng.below(4) {
                    0 => actions.push(Action::Close),
                    1 => actions.push(Action::Eof),
                    _ => {}
                }
            }
            Family::Crafted => {
                for _ in 0..steps {
                    let a = match rng.below(24) {
                        0..=4 => Action::App {
                            len: app_len(&mut rng, small).min(16384),
                            pad: if tls13 && rng.chance(30) {
                                rng.pick(&[0, 1, 100, 255])
                            } else {
                                0
                            },
                        },
                        5 => Action::Empty(rng.pick(&[1, 2, 5, 31, 32, 33])),
                        6 => Action::Alert(1, rng.pick(&[90, 100, 90, 0, 40, 10, 112, 113, 250])),
                        7 if tls13 => Action::KeyUpdate(rng.chance(50)),
                        7 => Action::HelloRequest,
                        8 if tls13 => Action::Ticket,
                        8 => Action::Alert(1, 90),
                        9..=11 => deliver(&mut rng, small),
                        _ => call(&mut rng),
                    };
                    actions.push(a);
                }
                match rng.below(8) {
                    0 => actions.push(Action::Close),
                    1 => actions.push(Action::Alert(2, rng.pick(&[10, 20, 40, 80]))),
                    2..=4 => actions.push(Action::Fault(rng.pick(&[
                        Fault::BadTag,
                        Fault::Oversize,
                        Fault::BadVersion,
                        Fault::BadType,
                        Fault::Overflow,
                        Fault::Ccs,
                        Fault::OddAlert,
                        Fault::BadPostHandshake,
                        Fault::BadKeyUpdate,
                        Fault::Plaintext,
                    ]))),
                    5 => {
                        // A record cut short, then end of stream.
                        actions.push(Action::App {
                            len: 1 + rng.below(2000),
                            pad: 0,
                        });
                        actions.push(Action::Deliver(Seg::Whole, Some(1 + rng.below(30))));
                        actions.push(Action::Eof);
                    }
                    _ => {}
                }
            }
            Family::Write => {
                if rng.chance(30) {
                    actions.push(Action::App {
                        len: 1 + rng.below(3000),
                        pad: 0,
                    });
                    actions.push(deliver(&mut rng, small));
                    actions.push(call(&mut rng));
                }
                actions.push(Action::Transport(
                    rng.pick(&[1, 100, 1000, 4096, 16406, 17000, 40000]),
                ));
                let mut last = (1000, Buf::A);
                for _ in 0..steps {
                    let a = match rng.below(12) {
                        // Retry the last call as it was, or longer, or moved.
                        0..=2 => Action::Write(last.0, last.1),
                        3 => Action::Write(
                            last.0 + 1 + rng.below(if small { 3000 } else { 20000 }),
                            last.1,
                        ),
                        4 => Action::Write(last.0, if last.1 == Buf::A { Buf::B } else { Buf::A }),
                        5 => Action::Write(last.0.saturating_sub(1).max(1), last.1),
                        6..=7 => Action::Write(
                            {
                                let r = 1 + rng.below(if small { 20000 } else { 60000 });
                                let big = if small { 20000 } else { 40000 };
                                rng.pick(&[1, 100, 1000, 16384, 16385, big, r])
                            },
                            rng.pick(&[Buf::A, Buf::B]),
                        ),
                        _ => Action::Drain(rng.pick(&[1, 5, 100, 4118, 16406, 100000])),
                    };
                    if let Action::Write(n, b) = a {
                        last = (n, b);
                    }
                    actions.push(a);
                }
                actions.push(Action::Drain(1 << 20));
            }
        }
        Scenario {
            name: format!(
                "{}-{}-s{}",
                family.name(),
                suite.name().to_ascii_lowercase(),
                seed
            ),
            family,
            suite,
            options,
            server_tickets,
            actions,
            fatal_call_limit: 3,
        }
    }

    /// The scenario of `seed` in `family` as [`generate`](Self::generate)
    /// makes it, then the stream ends (one of [`StreamEnd`]) and a random mix of
    /// calls follows: read, peek, pending, has_pending, write, shutdown,
    /// with the transport's end of stream and more peer bytes in between.
    /// `ignore_unexpected_eof` is turned on in a further quarter of them.
    pub fn generate_with_end(family: Family, seed: u64, small: bool) -> Scenario {
        let mut s = Scenario::generate(family, seed, small);
        let mut rng = Rng::new(seed ^ 0x0e0f_5eed ^ ((family as u64) << 48));
        let tls13 = s.suite.version() == Version::Tls13;
        if rng.chance(25) {
            s.options.ignore_unexpected_eof = true;
        }
        let end = rng.pick(&StreamEnd::ALL);
        stream_end(&mut rng, family, tls13, end, &mut s.actions);
        calls_after_end(&mut rng, family, &mut s.actions);
        s.name = format!("{}-end", s.name);
        s.fatal_call_limit = 12;
        s
    }
}

/// The ways a stream ends that [`Scenario::generate_with_end`] makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamEnd {
    /// The transport's end of stream at a record boundary.
    EofAtBoundary,
    /// The transport's end of stream inside a record (or its header).
    EofInRecord,
    /// The peer's close_notify.
    CloseReceived,
    /// Our close_notify (`SSL_shutdown`).
    CloseSent,
    /// A fatal alert from the peer.
    FatalAlert,
    /// A fatal error of our own: a record that does not open (too short
    /// for the AEAD, a bad tag) or, crafted, any fault.
    OwnFatal,
}

impl StreamEnd {
    pub const ALL: [StreamEnd; 6] = [
        StreamEnd::EofAtBoundary,
        StreamEnd::EofInRecord,
        StreamEnd::CloseReceived,
        StreamEnd::CloseSent,
        StreamEnd::FatalAlert,
        StreamEnd::OwnFatal,
    ];
}

/// Header types for short and odd records: the four of TLS, heartbeat and
/// values no version defines.
const ODD_TYPES: [u8; 8] = [23, 22, 21, 20, 24, 0x99, 0, 0xff];

/// A record too short for the AEAD or just long enough: body lengths 0 to
/// nonce + tag + 1 (TLS 1.2 AES-GCM: 25; ChaCha20-Poly1305 and TLS 1.3: 17).
fn short_record(rng: &mut Rng, crafted: bool) -> Action {
    let typ = rng.pick(&ODD_TYPES);
    if crafted && rng.chance(30) {
        // Sealed: an empty or one-byte plaintext (TLS 1.2: body nonce + tag
        // (+ 1); TLS 1.3: tag + 1 (+ 1)).
        return Action::Sealed {
            typ,
            len: rng.below(2),
        };
    }
    Action::Raw {
        typ,
        len: rng.below(26),
    }
}

fn stream_end(
    rng: &mut Rng,
    family: Family,
    tls13: bool,
    end: StreamEnd,
    actions: &mut Vec<Action>,
) {
    let crafted = family == Family::Crafted;
    if actions.contains(&Action::Eof) {
        // The base script already ended the stream.
        return;
    }
    let flush = |rng: &mut Rng, actions: &mut Vec<Action>| {
        actions.push(Action::Deliver(Seg::Whole, None));
        if rng.chance(30) {
            actions.push(call(rng));
        }
    };
    match end {
        StreamEnd::EofAtBoundary => {
            if rng.chance(50) {
                actions.push(Action::App {
                    len: 1 + rng.below(3000),
                    pad: 0,
                });
            }
            flush(rng, actions);
            actions.push(Action::Eof);
        }
        StreamEnd::EofInRecord => {
            flush(rng, actions);
            actions.push(Action::App {
                len: 1 + rng.below(3000),
                pad: 0,
            });
            // Every record is at least 22 bytes (header, one byte, tag).
            let seg = rng.pick(&[Seg::Whole, Seg::Bytes, Seg::Random]);
            actions.push(Action::Deliver(seg, Some(1 + rng.below(21))));
            actions.push(Action::Eof);
        }
        StreamEnd::CloseReceived => {
            actions.push(Action::Close);
            actions.push(deliver(rng, true));
        }
        StreamEnd::CloseSent => actions.push(Action::Shutdown),
        StreamEnd::FatalAlert => {
            if crafted {
                let desc = rng.pick(&[0, 10, 20, 40, 42, 80, 90, 112]);
                actions.push(Action::Alert(2, desc));
            } else {
                actions.push(Action::ServerFatal);
            }
            actions.push(deliver(rng, true));
        }
        StreamEnd::OwnFatal => {
            let a = if crafted && rng.chance(40) {
                Action::Fault(rng.pick(&[
                    Fault::BadTag,
                    Fault::Oversize,
                    Fault::BadVersion,
                    Fault::BadType,
                    Fault::Overflow,
                    Fault::Ccs,
                    Fault::OddAlert,
                    Fault::BadPostHandshake,
                    Fault::BadKeyUpdate,
                    Fault::Plaintext,
                ]))
            } else if rng.chance(80) {
                short_record(rng, crafted)
            } else {
                // A bad tag on a live connection.
                Action::Raw {
                    typ: 23,
                    len: 26 + rng.below(100),
                }
            };
            let _ = tls13;
            actions.push(a);
            actions.push(deliver(rng, true));
        }
    }
}

/// A random mix of calls after the end, with the transport's end of
/// stream, more peer bytes and the peer's close_notify in between.
fn calls_after_end(rng: &mut Rng, family: Family, actions: &mut Vec<Action>) {
    let mut eof = actions.contains(&Action::Eof);
    let n = 2 + rng.below(8);
    for _ in 0..n {
        let size = if rng.chance(80) {
            rng.pick(&[1, 5, 100, 16384, 20000])
        } else {
            1 + rng.below(40000)
        };
        let a = match rng.below(20) {
            0..=4 => Action::Read(size),
            5..=6 => Action::Peek(size),
            7 => Action::Pending,
            8..=9 => Action::HasPending,
            10..=11 => Action::Write(1 + rng.below(3000), rng.pick(&[Buf::A, Buf::B])),
            12..=13 => Action::Shutdown,
            14 if family == Family::Write => Action::Drain(rng.pick(&[1, 100, 100000])),
            14 | 15 if !eof => {
                eof = true;
                Action::Eof
            }
            16 if !eof => {
                actions.push(Action::App {
                    len: 1 + rng.below(300),
                    pad: 0,
                });
                deliver(rng, true)
            }
            17 if !eof => {
                actions.push(Action::Close);
                deliver(rng, true)
            }
            18 if !eof => deliver(rng, true),
            _ => Action::Read(size),
        };
        actions.push(a);
    }
}

// ---------------------------------------------------------------------------
// Running a scenario against libssl.
// ---------------------------------------------------------------------------

fn client_ctx(s: &Scenario, keylog: Arc<Mutex<Vec<String>>>) -> Result<SslContext, ErrorStack> {
    let mut b = SslContextBuilder::new(SslMethod::tls_client())?;
    b.set_verify(SslVerifyMode::NONE);
    versions(&mut b, s.suite)?;
    b.set_keylog_callback(move |_, line| keylog.lock().unwrap().push(line.to_string()));
    let mut mode = SslMode::empty();
    if s.options.accept_moving_buffer {
        mode |= SslMode::ACCEPT_MOVING_WRITE_BUFFER;
    }
    if s.options.partial_write {
        mode |= SslMode::ENABLE_PARTIAL_WRITE;
    }
    b.set_mode(mode);
    if s.options.ignore_unexpected_eof {
        b.set_options(SslOptions::IGNORE_UNEXPECTED_EOF);
    }
    // SAFETY: see the block comment at the extern declarations.
    unsafe {
        if !s.options.auto_retry {
            SSL_CTX_ctrl(
                b.as_ptr(),
                SSL_CTRL_CLEAR_MODE,
                SSL_MODE_AUTO_RETRY,
                std::ptr::null_mut(),
            );
        }
        if let Some(m) = s.options.max_send_fragment {
            SSL_CTX_ctrl(
                b.as_ptr(),
                SSL_CTRL_SET_MAX_SEND_FRAGMENT,
                m as c_long,
                std::ptr::null_mut(),
            );
        }
        SSL_CTX_set_info_callback(b.as_ptr(), Some(info_cb));
    }
    Ok(b.build())
}

fn server_ctx(s: &Scenario) -> Result<SslContext, ErrorStack> {
    let mut b = SslContextBuilder::new(SslMethod::tls_server())?;
    versions(&mut b, s.suite)?;
    let ecdsa = s.suite.name().contains("ECDSA");
    let (k, c) = if ecdsa || s.suite.version() == Version::Tls13 {
        ec_identity()
    } else {
        rsa_identity()
    };
    b.set_private_key(k)?;
    b.set_certificate(c)?;
    b.set_num_tickets(s.server_tickets)?;
    // Off by default from 3.0 on; 1.1.1 reserves the bit.
    b.set_options(SslOptions::from_bits_retain(ALLOW_CLIENT_RENEGOTIATION));
    Ok(b.build())
}

fn versions(b: &mut SslContextBuilder, suite: CipherSuite) -> Result<(), ErrorStack> {
    if suite.version() == Version::Tls13 {
        b.set_min_proto_version(Some(SslVersion::TLS1_3))?;
        b.set_max_proto_version(Some(SslVersion::TLS1_3))?;
        b.set_ciphersuites(suite.openssl_name())?;
    } else {
        b.set_min_proto_version(Some(SslVersion::TLS1_2))?;
        b.set_max_proto_version(Some(SslVersion::TLS1_2))?;
        b.set_cipher_list(suite.openssl_name())?;
    }
    Ok(())
}

/// What running a scenario produced.
pub struct Recorded {
    pub transcript: Value,
    /// Application data the live server read from the client, in order.
    pub server_received: Vec<u8>,
    /// What the client wrote successfully (the prefix counts), in order.
    pub client_wrote: Vec<u8>,
}

struct Run<'a> {
    s: &'a Scenario,
    rng: Rng,
    wire: Rc<RefCell<Wire>>,
    /// The client. Its read side is an OpenSSL memory BIO (`rbio`), not
    /// the stream's own BIO, so that the end of stream is reported as
    /// OpenSSL's own BIOs report it (`BIO_eof`); the `openssl` crate's BIO
    /// answers no `BIO_CTRL_EOF`, and libssl then takes a 0-byte read for
    /// a failed read, not for the end of the stream. Every call on the
    /// client therefore goes through [`Run::client_ffi`], never through
    /// `SslStream` methods that would look for the crate's state in it.
    client: SslStream<End>,
    rbio: *mut openssl_sys::BIO,
    server: SslStream<End>,
    steps: Vec<Value>,
    keylog: Arc<Mutex<Vec<String>>>,
    /// Peer bytes produced and not yet delivered.
    s2c_pending: VecDeque<u8>,
    /// Offsets (within the peer's whole stream) where records start.
    s2c_starts: Vec<u64>,
    s2c_produced: u64,
    s2c_delivered: u64,
    /// All bytes each side sent (to follow the connection).
    c2s_all: Vec<u8>,
    s2c_all: Vec<u8>,
    crafted: Option<Crafter>,
    bounded: bool,
    bufs: [Vec<u8>; 2],
    fatal_calls: usize,
    /// Server writes that could not go out yet (during a renegotiation).
    server_backlog: VecDeque<Vec<u8>>,
    server_received: Vec<u8>,
    client_wrote: Vec<u8>,
    data_byte: u8,
}

/// The crafted peer: tlsrec's sealer continuing the server's direction.
struct Crafter {
    sealer: Sealer,
    suite: CipherSuite,
    secret: Option<Secret>,
}

fn hex(b: &[u8]) -> String {
    encode_hex(b)
}

impl<'a> Run<'a> {
    fn new(s: &'a Scenario) -> Result<Self, ErrorStack> {
        let keylog = Arc::new(Mutex::new(Vec::new()));
        let cctx = client_ctx(s, keylog.clone())?;
        let sctx = server_ctx(s)?;
        let wire = Rc::new(RefCell::new(Wire::default()));
        let mut cssl = Ssl::new(&cctx)?;
        cssl.set_connect_state();
        let mut sssl = Ssl::new(&sctx)?;
        sssl.set_accept_state();
        let client = SslStream::new(
            cssl,
            End {
                wire: wire.clone(),
                client: true,
            },
        )?;
        // SAFETY: see the extern block. SSL_set_bio took two references to
        // the stream's BIO (read and write side); SSL_set0_rbio drops the
        // read side's and takes over the new memory BIO.
        let rbio = unsafe {
            let m = openssl_sys::BIO_new(openssl_sys::BIO_s_mem());
            assert!(!m.is_null(), "BIO_new");
            SSL_set0_rbio(client.ssl().as_ptr(), m);
            m
        };
        let server = SslStream::new(
            sssl,
            End {
                wire: wire.clone(),
                client: false,
            },
        )?;
        let mut rng = Rng::new(
            s.name
                .bytes()
                .fold(7u64, |h, b| h.wrapping_mul(31) ^ b as u64),
        );
        let bufs = [
            (0..70000).map(|_| rng.next_u64() as u8).collect(),
            (0..70000).map(|_| rng.next_u64() as u8).collect(),
        ];
        Ok(Run {
            s,
            rng,
            wire,
            client,
            rbio,
            server,
            steps: Vec::new(),
            keylog,
            s2c_pending: VecDeque::new(),
            s2c_starts: Vec::new(),
            s2c_produced: 0,
            s2c_delivered: 0,
            c2s_all: Vec::new(),
            s2c_all: Vec::new(),
            crafted: None,
            bounded: false,
            bufs,
            fatal_calls: 0,
            server_backlog: VecDeque::new(),
            server_received: Vec::new(),
            client_wrote: Vec::new(),
            data_byte: b'a',
        })
    }

    /// Client output so far becomes a `send` step and the server's input.
    fn flush_client(&mut self) {
        if self.bounded {
            return;
        }
        let out = std::mem::take(&mut self.wire.borrow_mut().from_client);
        if !out.is_empty() {
            self.steps.push(json!({ "send": hex(&out) }));
            self.c2s_all.extend_from_slice(&out);
            self.wire.borrow_mut().to_server.extend(out);
        }
    }

    /// Server output (whole records) joins the peer's pending bytes.
    fn take_server_output(&mut self) {
        let out = std::mem::take(&mut self.wire.borrow_mut().from_server);
        self.produce(&out);
    }

    fn produce(&mut self, bytes: &[u8]) {
        // Note record starts, assuming `bytes` starts on a record boundary
        // unless a previous chunk was a partial record (truncation).
        let mut at = 0usize;
        while at + 5 <= bytes.len() {
            self.s2c_starts.push(self.s2c_produced + at as u64);
            let len = u16::from_be_bytes([bytes[at + 3], bytes[at + 4]]) as usize;
            at += 5 + len;
        }
        self.s2c_produced += bytes.len() as u64;
        self.s2c_pending.extend(bytes.iter().copied());
        self.s2c_all.extend_from_slice(bytes);
    }

    fn handshake(&mut self) -> Result<(), String> {
        let mut client_done = false;
        for _ in 0..16 {
            // SAFETY: see the extern block.
            match self.client_ffi(|ssl| unsafe { openssl_sys::SSL_do_handshake(ssl) }) {
                Ok(_) => client_done = true,
                Err(("WANT_READ", _)) => {}
                Err(e) => return Err(format!("client handshake: {e:?}")),
            }
            self.flush_client();
            if client_done {
                break;
            }
            match self.server.do_handshake() {
                Ok(()) => {}
                Err(e) if e.code() == ErrorCode::WANT_READ => {}
                Err(e) => return Err(format!("server handshake: {e}")),
            }
            let out = std::mem::take(&mut self.wire.borrow_mut().from_server);
            if !out.is_empty() {
                self.steps.push(json!({ "recv": hex(&out) }));
                self.s2c_all.extend_from_slice(&out);
                self.s2c_produced += out.len() as u64;
                self.s2c_delivered += out.len() as u64;
                self.feed_client(&out);
            }
        }
        if !client_done {
            return Err("handshake did not finish".into());
        }
        // The server reads the client's last flight (TLS 1.3: it then sends
        // its tickets, which are delivered with the rest).
        match self.server.do_handshake() {
            Ok(()) => {}
            Err(e) if e.code() == ErrorCode::WANT_READ => {}
            Err(e) => return Err(format!("server handshake end: {e}")),
        }
        self.take_server_output();
        Ok(())
    }

    fn keylog(&self) -> Vec<String> {
        self.keylog.lock().unwrap().clone()
    }

    /// Take over the server's direction with tlsrec's sealer.
    fn start_crafting(&mut self) -> Result<(), String> {
        let kl = KeyLog::parse(&self.keylog().join("\n")).map_err(|e| format!("{e:?}"))?;
        let mut f = Follower::new(kl);
        for (dir, bytes) in [(Dir::C2s, &self.c2s_all), (Dir::S2c, &self.s2c_all)] {
            f.push(dir, bytes);
        }
        // Interleave so each side's keys are known (c2s first: ClientHello).
        loop {
            let a = f.next(Dir::C2s).is_some();
            let b = f.next(Dir::S2c).is_some();
            if !a && !b {
                break;
            }
        }
        let sealer = f
            .continue_sealing(Dir::S2c)
            .ok_or("no server keys to continue with")?;
        let secret = self
            .keylog()
            .iter()
            .find_map(|l| l.strip_prefix("SERVER_TRAFFIC_SECRET_0 "))
            .and_then(|rest| rest.split(' ').nth(1))
            .map(|h| Secret::new(tlsrec::keylog::decode_hex(h).unwrap()));
        self.crafted = Some(Crafter {
            sealer,
            suite: self.s.suite,
            secret,
        });
        Ok(())
    }

    fn next_data(&mut self, len: usize) -> Vec<u8> {
        let b = self.data_byte;
        self.data_byte = if b == b'z' { b'a' } else { b + 1 };
        let mut v = vec![b; len];
        if len > 0 {
            v[len - 1] = self.rng.next_u64() as u8;
        }
        v
    }

    fn seal(&mut self, typ: ContentType, payload: &[u8], pad: usize) {
        let c = self.crafted.as_mut().expect("crafting");
        let mut out = BytesMut::new();
        c.sealer
            .seal_padded(typ, payload, pad, &mut out)
            .expect("seal");
        self.produce(&out);
    }

    fn key_update_crafted(&mut self, requested: bool) {
        self.seal(ContentType::Handshake, &[24, 0, 0, 1, requested as u8], 0);
        let c = self.crafted.as_mut().unwrap();
        let suite = c.suite;
        let next = next_traffic_secret(suite.hash(), c.secret.as_ref().unwrap()).unwrap();
        c.sealer
            .set_keys(RecordKeys::from_traffic_secret(suite, &next).unwrap());
        c.secret = Some(next);
    }

    fn fault(&mut self, f: Fault) {
        let tls13 = self.s.suite.version() == Version::Tls13;
        match f {
            Fault::BadTag => {
                let c = self.crafted.as_mut().unwrap();
                let mut out = BytesMut::new();
                c.sealer
                    .seal(ContentType::ApplicationData, b"tampered", &mut out)
                    .unwrap();
                let n = out.len();
                out[n - 1] ^= 0x80;
                self.produce(&out);
            }
            Fault::Oversize => {
                let len: usize = if tls13 { 16641 } else { 16705 };
                let mut v = vec![23, 3, 3, (len >> 8) as u8, len as u8];
                v.extend(std::iter::repeat_n(0x42, len));
                self.produce(&v);
            }
            Fault::BadVersion | Fault::BadType => {
                let c = self.crafted.as_mut().unwrap();
                let mut out = BytesMut::new();
                c.sealer
                    .seal(ContentType::ApplicationData, b"header", &mut out)
                    .unwrap();
                if f == Fault::BadVersion {
                    out[1] = 3;
                    out[2] = 1 + self.rng.below(2) as u8;
                } else {
                    out[0] = self.rng.pick(&[0x19, 0x20, 0x18]);
                }
                self.produce(&out);
            }
            Fault::Overflow if tls13 => {
                let d = self.next_data(16384);
                self.seal(ContentType::ApplicationData, &d, 1);
            }
            Fault::Overflow => self.fault(Fault::BadTag),
            Fault::Ccs => self.produce(&[20, 3, 3, 0, 1, 1]),
            Fault::OddAlert => {
                let body: &[u8] = if self.rng.chance(50) {
                    &[2]
                } else {
                    &[2, 40, 0]
                };
                self.seal(ContentType::Alert, body, 0);
            }
            Fault::BadPostHandshake if tls13 => {
                // A Finished after the handshake.
                self.seal(ContentType::Handshake, &[20, 0, 0, 2, 0, 0], 0);
            }
            Fault::BadKeyUpdate if tls13 => {
                self.seal(ContentType::Handshake, &[24, 0, 0, 1, 2], 0);
            }
            Fault::BadPostHandshake | Fault::BadKeyUpdate => {
                // TLS 1.2: a ServerHelloDone out of place.
                self.seal(ContentType::Handshake, &[14, 0, 0, 0], 0);
            }
            Fault::Plaintext => self.produce(&[23, 3, 3, 0, 3, 1, 2, 3]),
        }
    }

    fn deliver(&mut self, seg: Seg, cap: Option<usize>) {
        let mut left = cap.unwrap_or(usize::MAX).min(self.s2c_pending.len());
        while left > 0 {
            let n = match seg {
                Seg::Whole => left,
                Seg::Mtu => left.min(1448),
                Seg::Bytes => 1,
                Seg::Random => left.min(1 + self.rng.below(4000)),
                Seg::MidHeader => {
                    // Up to a few bytes into the next header after the first byte.
                    let next = self
                        .s2c_starts
                        .iter()
                        .find(|&&o| o > self.s2c_delivered)
                        .map(|&o| (o - self.s2c_delivered) as usize);
                    match next {
                        Some(k) => left.min(k + 1 + self.rng.below(4)),
                        None => left,
                    }
                }
            };
            let seg: Vec<u8> = self.s2c_pending.drain(..n).collect();
            self.s2c_delivered += n as u64;
            left -= n;
            self.steps.push(json!({ "recv": hex(&seg) }));
            self.feed_client(&seg);
        }
    }

    /// Feeds the client's read side (its memory BIO).
    fn feed_client(&mut self, bytes: &[u8]) {
        // SAFETY: see the extern block; `bytes` outlives the call.
        let n = unsafe {
            openssl_sys::BIO_write(self.rbio, bytes.as_ptr().cast(), bytes.len() as c_int)
        };
        assert_eq!(n as usize, bytes.len(), "memory BIO write");
    }

    /// Runs one libssl call on the client: `Ok(ret)` if it succeeded
    /// (ret > 0; `SSL_shutdown`: ret >= 0), else what `SSL_get_error` said
    /// and the first reason of the error queue, which is emptied before
    /// the call and drained for SSL and SYSCALL as the `openssl` crate does.
    fn client_ffi(
        &mut self,
        f: impl FnOnce(*mut openssl_sys::SSL) -> c_int,
    ) -> Result<c_int, (&'static str, Option<String>)> {
        self.client_ffi_min(1, f)
    }

    fn client_ffi_min(
        &mut self,
        ok_from: c_int,
        f: impl FnOnce(*mut openssl_sys::SSL) -> c_int,
    ) -> Result<c_int, (&'static str, Option<String>)> {
        let ssl = self.client.ssl().as_ptr();
        // SSL_get_error's manual: "The current thread's error queue must be
        // empty before the TLS/SSL I/O operation is attempted, or
        // SSL_get_error() will not work reliably." (An SSL_shutdown that
        // returns 1 may leave the peer's fatal alert queued; the server's
        // calls in this thread drain the same queue.)
        // SAFETY: plain libcrypto call on this thread's queue.
        unsafe { openssl_sys::ERR_clear_error() };
        let ret = f(ssl);
        if ret >= ok_from {
            return Ok(ret);
        }
        // SAFETY: see the extern block.
        let code = match ErrorCode::from_raw(unsafe { openssl_sys::SSL_get_error(ssl, ret) }) {
            ErrorCode::WANT_READ => "WANT_READ",
            ErrorCode::WANT_WRITE => "WANT_WRITE",
            ErrorCode::ZERO_RETURN => "ZERO_RETURN",
            ErrorCode::SYSCALL => "SYSCALL",
            ErrorCode::SSL => "SSL",
            _ => "OTHER",
        };
        let reason = matches!(code, "SSL" | "SYSCALL")
            .then(ErrorStack::get)
            .and_then(|s| {
                s.errors()
                    .first()
                    .and_then(|x| x.reason())
                    .map(String::from)
            });
        Err((code, reason))
    }

    /// Records a call's result, with the alert the client sent during it.
    fn result(
        &mut self,
        mut step: Map<String, Value>,
        r: Result<Value, (&'static str, Option<String>)>,
    ) {
        match r {
            Ok(v) => {
                step.insert("ok".into(), v);
            }
            Err((code, reason)) => {
                step.insert("err".into(), code.into());
                if let Some(reason) = reason {
                    step.insert("reason".into(), reason.into());
                }
                if let Some((2, d)) = LAST_ALERT.with(Cell::take) {
                    step.insert("alert".into(), AlertDescription::from(d).name().into());
                }
                if matches!(code, "SSL" | "SYSCALL") {
                    self.fatal_calls += 1;
                }
            }
        }
        self.steps.push(Value::Object(step));
        self.flush_client();
    }

    fn client_call(&mut self, a: &Action) {
        LAST_ALERT.with(|x| x.set(None));
        match *a {
            Action::Read(n) | Action::Peek(n) => {
                let mut buf = vec![0u8; n];
                let peek = matches!(a, Action::Peek(_));
                let mut k = 0usize;
                let (p, kp) = (buf.as_mut_ptr().cast::<c_void>(), &mut k as *mut usize);
                // SAFETY: see the extern block; `buf` holds n bytes.
                let r = self.client_ffi(|ssl| unsafe {
                    if peek {
                        openssl_sys::SSL_peek_ex(ssl, p, n, kp)
                    } else {
                        openssl_sys::SSL_read_ex(ssl, p, n, kp)
                    }
                });
                let mut step = Map::new();
                step.insert(if peek { "peek" } else { "read" }.into(), n.into());
                self.result(step, r.map(|_| hex(&buf[..k]).into()));
            }
            Action::Pending => {
                let k = self.client.ssl().pending();
                self.steps.push(json!({ "pending": k }));
            }
            Action::HasPending => {
                // SAFETY: see the extern block.
                let h = unsafe { SSL_has_pending(self.client.ssl().as_ptr()) };
                self.steps.push(json!({ "has_pending": h == 1 }));
            }
            Action::Shutdown => {
                // SAFETY: see the extern block.
                let r = self
                    .client_ffi_min(0, |ssl| unsafe { openssl_sys::SSL_shutdown(ssl) })
                    .map(Value::from);
                let mut step = Map::new();
                step.insert("shutdown".into(), true.into());
                self.result(step, r);
            }
            Action::Write(n, b) => {
                let i = b as usize;
                // Fresh contents for the call (a retry keeps what was there
                // only if the caller keeps it: both happen in real programs).
                if self.rng.chance(20) {
                    let fill = self.rng.next_u64() as u8;
                    self.bufs[i][..n.min(70000)].fill(fill);
                }
                let n = n.min(70000);
                let mut k = 0usize;
                let (p, kp) = (self.bufs[i].as_ptr().cast::<c_void>(), &mut k as *mut usize);
                // SAFETY: see the extern block; the buffer holds n bytes.
                let r = self
                    .client_ffi(|ssl| unsafe { openssl_sys::SSL_write_ex(ssl, p, n, kp) })
                    .map(|_| k);
                if let Ok(k) = r {
                    let done = self.bufs[i][..k].to_vec();
                    self.client_wrote.extend_from_slice(&done);
                }
                let mut step = Map::new();
                step.insert("write".into(), n.into());
                step.insert("buf".into(), if b == Buf::A { "A" } else { "B" }.into());
                step.insert("data".into(), hex(&self.bufs[i][..n]).into());
                self.result(step, r.map(Value::from));
            }
            _ => unreachable!(),
        }
    }

    fn pump_server(&mut self) {
        let mut buf = vec![0u8; 1 << 15];
        for _ in 0..64 {
            match self.server.ssl_read(&mut buf) {
                Ok(n) => self.server_received.extend_from_slice(&buf[..n]),
                Err(_) => break,
            }
        }
        // Writes held back while the server was renegotiating.
        while let Some(d) = self.server_backlog.pop_front() {
            match self.server.ssl_write(&d) {
                Ok(n) if n == d.len() => {}
                Ok(n) => self.server_backlog.push_front(d[n..].to_vec()),
                Err(_) => {
                    self.server_backlog.push_front(d);
                    break;
                }
            }
        }
        self.take_server_output();
    }

    fn act(&mut self, a: &Action) -> Result<(), String> {
        let tls13 = self.s.suite.version() == Version::Tls13;
        match *a {
            Action::App { len, pad } => {
                let d = self.next_data(len);
                if self.crafted.is_some() {
                    let len = len.min(16384);
                    // Valid records only here: content, type byte and padding
                    // within 2^14 + 1 (Fault::Overflow goes past it).
                    let pad = pad.min(16384 - len);
                    self.seal(ContentType::ApplicationData, &d[..len], pad);
                } else if len > 0 {
                    if self.server_backlog.is_empty() {
                        match self.server.ssl_write(&d) {
                            Ok(n) if n == d.len() => {}
                            Ok(n) => self.server_backlog.push_back(d[n..].to_vec()),
                            Err(_) => self.server_backlog.push_back(d),
                        }
                    } else {
                        self.server_backlog.push_back(d);
                    }
                    self.take_server_output();
                }
            }
            Action::Empty(n) => {
                for _ in 0..n {
                    self.seal(ContentType::ApplicationData, &[], 0);
                }
            }
            Action::Alert(level, desc) => {
                if self.crafted.is_some() {
                    self.seal(ContentType::Alert, &[level, desc], 0);
                }
            }
            Action::Close => {
                if self.crafted.is_some() {
                    self.seal(ContentType::Alert, &[1, 0], 0);
                } else {
                    let _ = self.server.shutdown();
                    self.take_server_output();
                }
            }
            Action::KeyUpdate(req) if tls13 => {
                if self.crafted.is_some() {
                    self.key_update_crafted(req);
                } else {
                    // SAFETY: see the extern block.
                    let ok = unsafe { SSL_key_update(self.server.ssl().as_ptr(), req as c_int) };
                    if ok == 1 {
                        let _ = self.server.do_handshake();
                        // An empty write flushes the KeyUpdate in 3.0 only
                        // with data; a one-byte write carries it out.
                        let d = self.next_data(1);
                        if self.server.ssl_write(&d).is_err() {
                            self.server_backlog.push_back(d);
                        }
                    }
                    self.take_server_output();
                }
            }
            Action::KeyUpdate(_) => {}
            Action::Ticket if tls13 => {
                // NewSessionTicket: lifetime, age_add, nonce, ticket, no extensions.
                let mut m = vec![4, 0, 0, 0];
                m.extend_from_slice(&[0, 0, 0x1c, 0x20, 1, 2, 3, 4, 1, 9, 0, 8]);
                m.extend_from_slice(&[7; 8]);
                m.extend_from_slice(&[0, 0]);
                let l = m.len() - 4;
                m[3] = l as u8;
                self.seal(ContentType::Handshake, &m, 0);
            }
            Action::Ticket => {}
            Action::HelloRequest if !tls13 => {
                if self.crafted.is_some() {
                    self.seal(ContentType::Handshake, &[0, 0, 0, 0], 0);
                } else {
                    // SAFETY: see the extern block.
                    unsafe { SSL_renegotiate(self.server.ssl().as_ptr()) };
                    let _ = self.server.do_handshake();
                    self.take_server_output();
                }
            }
            Action::HelloRequest => {}
            Action::ClientReneg => {
                if !tls13 && self.crafted.is_none() {
                    // SAFETY: see the extern block.
                    let r = unsafe { SSL_renegotiate(self.client.ssl().as_ptr()) };
                    self.steps.push(json!({ "renegotiate": true, "ok": r }));
                }
            }
            Action::Fault(f) => {
                if self.crafted.is_some() {
                    self.fault(f);
                }
            }
            Action::Pump => {
                if self.crafted.is_none() {
                    self.pump_server();
                }
            }
            Action::Deliver(seg, cap) => self.deliver(seg, cap),
            Action::Eof => {
                // A memory BIO with no bytes left and an EOF return of 0
                // reads 0 without retry and says BIO_eof: the end of stream.
                // SAFETY: see the extern block.
                unsafe {
                    openssl_sys::BIO_ctrl(
                        self.rbio,
                        openssl_sys::BIO_C_SET_BUF_MEM_EOF_RETURN,
                        0,
                        std::ptr::null_mut(),
                    );
                }
                self.wire.borrow_mut().client_eof = true;
                self.steps.push(json!({ "eof": true }));
            }
            Action::Raw { typ, len } => {
                let mut v = vec![typ, 3, 3, (len >> 8) as u8, len as u8];
                v.extend((0..len).map(|_| self.rng.next_u64() as u8));
                self.produce(&v);
            }
            Action::Sealed { typ, len } => {
                if self.crafted.is_some() {
                    let d = self.next_data(len);
                    self.seal(ContentType::from(typ), &d, 0);
                }
            }
            Action::Handshake(ref bytes) => {
                if self.crafted.is_some() {
                    self.seal(ContentType::Handshake, bytes, 0);
                }
            }
            Action::ServerFatal => {
                if self.crafted.is_none() {
                    // A record that cannot open under any keys: the server
                    // answers with a fatal alert.
                    let mut v = vec![23, 3, 3, 0, 40];
                    v.extend((0..40).map(|_| self.rng.next_u64() as u8));
                    self.wire.borrow_mut().to_server.extend(v);
                    self.pump_server();
                }
            }
            Action::Read(_)
            | Action::Peek(_)
            | Action::Pending
            | Action::HasPending
            | Action::Shutdown
            | Action::Write(..) => self.client_call(a),
            Action::Transport(c) => {
                let queued = self.wire.borrow().from_client.len();
                if queued > 0 {
                    return Err("client output not flushed".into());
                }
                self.bounded = true;
                self.wire.borrow_mut().client_cap = Some(c);
                self.steps.push(json!({ "transport": { "capacity": c } }));
            }
            Action::Drain(k) => {
                if !self.bounded {
                    return Ok(());
                }
                let out: Vec<u8> = {
                    let mut w = self.wire.borrow_mut();
                    let k = k.min(w.from_client.len());
                    w.from_client.drain(..k).collect()
                };
                if !out.is_empty() {
                    self.steps
                        .push(json!({ "drain": out.len(), "wire": hex(&out) }));
                    self.c2s_all.extend_from_slice(&out);
                    self.wire.borrow_mut().to_server.extend(out);
                    self.pump_server();
                }
            }
        }
        Ok(())
    }
}

/// Runs `s` against libssl and records the transcript.
pub fn record(s: &Scenario) -> Result<Recorded, String> {
    let mut run = Run::new(s).map_err(|e| e.to_string())?;
    run.handshake()?;
    if s.family == Family::Crafted {
        // Deliver the tickets first so the follower has seen every record
        // the server sealed (its sequence number continues after them).
        run.start_crafting()?;
    }
    for a in &s.actions {
        // After a fatal error OpenSSL answers everything with an error; a
        // few calls show it, more add nothing.
        if run.fatal_calls >= s.fatal_call_limit {
            break;
        }
        run.act(a)?;
    }
    let version = match s.suite.version() {
        Version::Tls13 => "TLS1.3",
        Version::Tls12 => "TLS1.2",
    };
    let mut options = Map::new();
    options.insert("auto_retry".into(), s.options.auto_retry.into());
    if s.family == Family::Write {
        options.insert(
            "accept_moving_buffer".into(),
            s.options.accept_moving_buffer.into(),
        );
        options.insert("partial_write".into(), s.options.partial_write.into());
        if let Some(m) = s.options.max_send_fragment {
            options.insert("max_send_fragment".into(), m.into());
        }
    }
    if s.options.ignore_unexpected_eof {
        options.insert("ignore_unexpected_eof".into(), true.into());
    }
    let script: Vec<String> = s.actions.iter().map(|a| format!("{a:?}")).collect();
    let transcript = json!({
        "format": "tlsrec-transcript/1",
        "name": s.name,
        "oracle": format!("{} client over in-memory streams (rust openssl crate, tests/oracle)", openssl::version::version()),
        "role": "client",
        "version": version,
        "cipher_suite": s.suite.name(),
        "options": options,
        "keylog": run.keylog(),
        "notes": { "family": s.family.name(), "server_tickets": s.server_tickets, "script": script },
        "steps": run.steps,
    });
    Ok(Recorded {
        transcript,
        server_received: run.server_received,
        client_wrote: run.client_wrote,
    })
}
