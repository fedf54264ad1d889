//! Replaying a conformance transcript through a [`Session`] and comparing
//! every step with what OpenSSL returned (rules in `FORMAT.md`).
//!
//! Two ways ([`ReplayMode`]): the session follows the client's handshakes
//! from what OpenSSL sent, or, once the first handshake is done, runs them
//! itself through a [`HandshakeDriver`](crate::driver::HandshakeDriver) that sends the messages OpenSSL
//! sent, sealing its own records; what it sends is then compared with what
//! OpenSSL sent, record by record, as plaintext.

use serde_json::Value;

mod driven;

use driven::{client_script, ReplayDriver, SentCompare};

use crate::cipher::Opener;
use crate::deframer::Deframer;
use crate::keylog::encode_hex;
use crate::record::PlainRecord;
use crate::session::{Config, Profile, Session, SslError};
use crate::transcript::{Outcome, Step, Transcript};

/// The first step where tlsrec and OpenSSL differ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// Step index in the transcript.
    pub index: usize,
    /// The call, e.g. `read(100)`.
    pub call: String,
    /// What OpenSSL returned.
    pub openssl: String,
    /// What tlsrec returned.
    pub tlsrec: String,
}

impl core::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "step {}: {}: OpenSSL {}, tlsrec {}",
            self.index, self.call, self.openssl, self.tlsrec
        )
    }
}

fn short(b: &[u8]) -> String {
    if b.len() <= 12 {
        format!("ok {} bytes {}", b.len(), encode_hex(b))
    } else {
        format!(
            "ok {} bytes {}..{}",
            b.len(),
            encode_hex(&b[..8]),
            encode_hex(&b[b.len() - 4..])
        )
    }
}

fn describe(o: &Outcome) -> String {
    match o {
        Outcome::Bytes(b) => short(b),
        Outcome::Count(n) => format!("ok {n}"),
        Outcome::Err {
            code,
            reason,
            alert,
        } => {
            let mut s = format!("err {code}");
            if let Some(r) = reason {
                s += &format!(" ({r})");
            }
            if let Some(a) = alert {
                s += &format!(" alert {a}");
            }
            s
        }
    }
}

fn describe_err(e: &SslError, profile: Profile) -> String {
    match e {
        SslError::Ssl(err) => {
            let mut s = format!(
                "err SSL ({})",
                err.openssl_reason_in(profile)
                    .map_or_else(|| err.to_string(), str::to_string)
            );
            if let Some(a) = err.alert() {
                s += &format!(" alert {}", a.name());
            }
            s
        }
        e => format!("err {}", e.code()),
    }
}

/// Compares an error with the expected outcome: same code, the same
/// alert when the transcript names one, and the same OpenSSL reason string
/// as `profile`'s release words it
/// ([`Error::openssl_reason_in`](crate::error::Error::openssl_reason_in))
/// when the transcript names one.
fn err_matches(e: &SslError, expect: &Outcome, profile: Profile) -> bool {
    match expect {
        Outcome::Err { code, .. } if code == "SYSCALL" && unexpected_eof(e) => true,
        Outcome::Err {
            code,
            reason,
            alert,
        } => {
            code == e.code()
                && alert
                    .as_ref()
                    .is_none_or(|a| e.alert_sent().map(|x| x.name()) == Some(a.as_str()))
                && reason
                    .as_ref()
                    .is_none_or(|r| openssl_reason(e, profile) == Some(r.as_str()))
        }
        _ => false,
    }
}

/// The reason OpenSSL would queue with `e`, if any.
fn openssl_reason(e: &SslError, profile: Profile) -> Option<&'static str> {
    match e {
        SslError::Ssl(err) => err.openssl_reason_in(profile),
        _ => None,
    }
}

/// libssl 3.0.19 reports the end of stream in the middle of the connection
/// as SSL_ERROR_SSL ("unexpected eof while reading", decode_error sent),
/// and so does tlsrec; the recorder of `vectors/openssl-samples` wrote
/// SYSCALL for that same failure (its transcripts show the decode_error
/// alert going out, which only that failure sends), so a SYSCALL expected
/// there is taken as this error.
fn unexpected_eof(e: &SslError) -> bool {
    matches!(e, SslError::Ssl(err) if err.reason() == Some(crate::error::Reason::UnexpectedEofWhileReading))
}

/// The call steps that started a renegotiation of the client's own accord:
/// a later ClientHello sent after that call with no HelloRequest from the
/// server outstanding. A transcript has no step for `SSL_renegotiate`; its
/// effect is the ClientHello in the `send` step that follows the call.
fn client_renegotiations(t: &Transcript) -> Vec<usize> {
    use crate::follow::{Dir, Follower};
    use crate::handshake::HandshakeType;
    let mut f = Follower::new(t.keylog.clone());
    let mut marks = Vec::new();
    let mut last_call = None;
    let mut hello_request = false;
    let mut hellos = 0;
    let mut pending: [Vec<u8>; 2] = Default::default();
    for (i, step) in t.steps.iter().enumerate() {
        let (d, bytes) = match step {
            Step::Recv(b) => (Dir::S2c, b),
            Step::Send(b) | Step::Drain { wire: b, .. } => (Dir::C2s, b),
            Step::Read { .. } | Step::Peek { .. } => {
                last_call = Some((i, false));
                continue;
            }
            Step::Write { .. } => {
                last_call = Some((i, true));
                continue;
            }
            _ => continue,
        };
        let k = usize::from(d == Dir::S2c);
        pending[k].extend_from_slice(bytes);
        loop {
            let n = f.push(d, &pending[k]);
            pending[k].drain(..n);
            let Some(ev) = f.next(d) else {
                if n == 0 {
                    break;
                }
                continue;
            };
            for m in &ev.messages {
                match (d, m) {
                    (Dir::S2c, HandshakeType::HelloRequest) => hello_request = true,
                    (Dir::C2s, HandshakeType::ClientHello) => {
                        hellos += 1;
                        // An established SSL_write reads nothing, so a
                        // ClientHello it sent can only come from
                        // SSL_renegotiate; a read may have answered a
                        // HelloRequest instead.
                        match last_call {
                            Some((call, true)) if hellos > 1 => marks.push(call),
                            Some((call, false)) if hellos > 1 && !hello_request => marks.push(call),
                            _ => {}
                        }
                        hello_request = false;
                    }
                    _ => {}
                }
            }
        }
    }
    marks
}

/// The session options a transcript asks for.
#[must_use]
pub fn config_of(t: &Transcript) -> Config {
    let o = &t.options;
    let b = |k: &str, d: bool| o.get(k).and_then(Value::as_bool).unwrap_or(d);
    let d = Config::default();
    Config {
        auto_retry: b("auto_retry", true),
        accept_moving_buffer: b("accept_moving_buffer", false),
        partial_write: b("partial_write", false),
        release_buffers: b("release_buffers", false),
        ignore_unexpected_eof: b("ignore_unexpected_eof", false),
        max_send_fragment: o
            .get("max_send_fragment")
            .and_then(Value::as_u64)
            .map_or(d.max_send_fragment, |m| m as usize),
        // The release that recorded it decides whose rules apply.
        profile: profile_of(t),
        ..d
    }
}

/// The profile a transcript replays under: that of the OpenSSL release it
/// names (`"openssl": "4.0.3"`), else the default (3.0: transcripts without
/// the field come from the system 3.0 library).
#[must_use]
pub fn profile_of(t: &Transcript) -> Profile {
    t.openssl
        .as_deref()
        .and_then(Profile::of_openssl)
        .unwrap_or_default()
}

/// Both sides' outgoing streams, compared record by record (TLS 1.2
/// AES-GCM records differ in their explicit nonce, so they are compared by
/// header and plaintext).
struct WireCompare {
    ours: (Deframer, Opener),
    theirs: (Deframer, Opener),
}

impl WireCompare {
    fn new(s: &Session) -> Self {
        let mk = || {
            let mut o = Opener::new();
            if let Some(k) = s.sealer().keys() {
                o.set_keys(k.clone());
                if let Some(seq) = s.sealer().sequence() {
                    let _ = o.set_sequence(seq);
                }
            }
            let mut d = Deframer::new();
            let mut p = *d.policy();
            p.first_record = false;
            d.set_policy(p);
            (d, o)
        };
        WireCompare {
            ours: mk(),
            theirs: mk(),
        }
    }

    fn records(
        side: &mut (Deframer, Opener),
        mut data: &[u8],
    ) -> Result<Vec<(Vec<u8>, PlainRecord)>, String> {
        let mut out = Vec::new();
        loop {
            let n = side.0.push(data);
            data = &data[n..];
            match side.0.pop() {
                Ok(Some(r)) => {
                    let head = r.wire_bytes()[..5].to_vec();
                    let p = side.1.open(r).map_err(|e| e.to_string())?;
                    out.push((head, p));
                }
                Ok(None) if data.is_empty() => return Ok(out),
                Ok(None) => {}
                Err(e) => return Err(e.to_string()),
            }
        }
    }

    fn compare(&mut self, ours: &[u8], theirs: &[u8]) -> Result<(), String> {
        if ours.len() != theirs.len() {
            return Err(format!("{} bytes drained", ours.len()));
        }
        let a = Self::records(&mut self.ours, ours)?;
        let b = Self::records(&mut self.theirs, theirs)?;
        if a.len() != b.len() {
            return Err(format!("{} records where OpenSSL has {}", a.len(), b.len()));
        }
        for (i, ((ha, pa), (hb, pb))) in a.iter().zip(&b).enumerate() {
            if ha != hb || pa.typ != pb.typ || pa.payload != pb.payload {
                return Err(format!(
                    "record {i} differs (header {} vs {})",
                    encode_hex(ha),
                    encode_hex(hb)
                ));
            }
        }
        Ok(())
    }
}

/// How [`replay_as`] runs the client's handshakes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayMode {
    /// Followed throughout from the bytes OpenSSL sent
    /// ([`Session::observe_sent`]).
    Followed,
    /// The first handshake is followed; from then on the session runs its
    /// handshakes itself ([`Session::drive_with`]) with a driver that sends
    /// the messages OpenSSL sent, seals its own records (renegotiation
    /// flights, KeyUpdate, alerts), and what it sends must be what OpenSSL
    /// sent (compared as plaintext, record by record).
    Driven,
}

/// Replays `t` as the session follows it ([`ReplayMode::Followed`]);
/// `Ok(())` if every step matches, else the first mismatch.
///
/// # Errors
/// The first step where tlsrec's result differs from OpenSSL's.
pub fn replay(t: &Transcript) -> Result<(), Mismatch> {
    replay_as(t, ReplayMode::Followed).map(|_| ())
}

/// What a replay that matched went through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Replayed {
    /// Driven: the step after which the session ran its own handshakes.
    pub driven_from: Option<usize>,
    /// Driven: handshakes its driver completed.
    pub driven_handshakes: u64,
}

/// Replays `t` in `mode`; `Ok(())` if every step matches, else the first
/// mismatch.
///
/// # Errors
/// The first step where tlsrec's result (or, driven, what it sent) differs
/// from OpenSSL's.
pub fn replay_as(t: &Transcript, mode: ReplayMode) -> Result<Replayed, Mismatch> {
    replay_under(t, mode, profile_of(t))
}

/// Replays `t` in `mode` under `profile`, whichever release recorded it
/// (`tlsrec replay --profile`): which profile's rules a transcript agrees
/// with.
///
/// # Errors
/// As [`replay_as`].
pub fn replay_under(
    t: &Transcript,
    mode: ReplayMode,
    profile: Profile,
) -> Result<Replayed, Mismatch> {
    replay_fed(t, mode, profile, Feed::Copy)
}

/// Which of the session's receive calls a replay hands the peer's segments
/// to. OpenSSL has one way in (a write into the memory BIO); the session's
/// three must give the same results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feed {
    /// [`Session::recv`]: the segment is copied.
    Copy,
    /// [`Session::recv_buf`]: the session adopts the caller's buffer.
    Adopt,
    /// [`Session::recv_with`]: the segment is written into room the
    /// session hands out.
    Fill,
}

/// [`replay_under`], the segments handed over with `feed`.
///
/// # Errors
/// As [`replay_as`].
pub fn replay_fed(
    t: &Transcript,
    mode: ReplayMode,
    profile: Profile,
    feed: Feed,
) -> Result<Replayed, Mismatch> {
    let cfg = Config {
        profile,
        ..config_of(t)
    };
    let mut s = Session::passive_client(t.keylog.clone(), cfg);
    let mut script = match mode {
        ReplayMode::Driven => Some(client_script(t)),
        ReplayMode::Followed => None,
    };
    let mut driven = false;
    let mut driven_from = None;
    let mut sent = SentCompare::new(t);
    let max_write = t
        .steps
        .iter()
        .map(|st| {
            if let Step::Write { n, .. } = st {
                *n
            } else {
                0
            }
        })
        .max()
        .unwrap_or(0);
    let mut bufs = [vec![0u8; max_write.max(1)], vec![0u8; max_write.max(1)]];
    let mut wire: Option<WireCompare> = None;
    let mut bounded = false;
    // Transcripts from this project's generator say where SSL_renegotiate
    // was called; for others, infer it from the ClientHellos sent.
    let explicit = t
        .steps
        .iter()
        .any(|s| matches!(s, Step::Renegotiate { .. }));
    let renegotiating_calls = if explicit {
        Vec::new()
    } else {
        client_renegotiations(t)
    };
    for (index, step) in t.steps.iter().enumerate() {
        if renegotiating_calls.contains(&index) {
            // The caller had called SSL_renegotiate before this call (the
            // transcript shows it by the ClientHello the call sent).
            let _ = s.renegotiate();
        }
        let fail = |call: String, openssl: String, tlsrec: String| {
            Err(Mismatch {
                index,
                call,
                openssl,
                tlsrec,
            })
        };
        match step {
            Step::Recv(b) => {
                match feed {
                    Feed::Copy => s.recv(b),
                    Feed::Adopt => {
                        s.recv_buf(bytes::BytesMut::from(&b[..]));
                    }
                    Feed::Fill => {
                        let _ = s.recv_with(b.len(), |room| {
                            room.copy_from_slice(b);
                            Ok::<usize, std::convert::Infallible>(b.len())
                        });
                    }
                }
                if !s.is_established() {
                    let _ = s.do_handshake();
                }
                if script.is_some() {
                    sent.server(b);
                }
            }
            Step::Send(b) if driven => {
                if script
                    .as_ref()
                    .is_some_and(|sc| sc.implicit_starts.contains(&index))
                {
                    let _ = s.renegotiate();
                    let _ = s.do_handshake();
                }
                let ours = if bounded {
                    bytes::Bytes::new()
                } else {
                    let all = s.outgoing_len();
                    s.take_outgoing(all)
                };
                if let Err(e) = sent.client(b, &ours) {
                    return fail("send".into(), format!("{} bytes", b.len()), e);
                }
            }
            Step::Send(b) => {
                if !bounded {
                    let all = s.outgoing_len();
                    let _ = s.take_outgoing(all);
                }
                s.observe_sent(b);
                if script.is_some() {
                    let _ = sent.client(b, b);
                }
            }
            Step::Eof => s.recv_eof(),
            Step::Renegotiate { ok } => {
                let got = u64::from(s.renegotiate().is_ok());
                if got != *ok {
                    return fail("renegotiate()".into(), format!("{ok}"), format!("{got}"));
                }
            }
            Step::Read { n, expect } | Step::Peek { n, expect } => {
                let peek = matches!(step, Step::Peek { .. });
                let call = format!("{}({n})", if peek { "peek" } else { "read" });
                let mut buf = vec![0u8; *n];
                let r = if peek {
                    s.peek(&mut buf)
                } else {
                    s.read(&mut buf)
                };
                let ok = match (&r, expect) {
                    (Ok(k), Outcome::Bytes(b)) => &buf[..*k] == b.as_slice() && *k > 0,
                    (Err(e), o) => err_matches(e, o, profile),
                    _ => false,
                };
                if !ok {
                    let got = match &r {
                        Ok(k) => short(&buf[..*k]),
                        Err(e) => describe_err(e, profile),
                    };
                    return fail(call, describe(expect), got);
                }
            }
            Step::Pending(k) => {
                let p = s.pending();
                if p != *k {
                    return fail("pending()".into(), format!("{k}"), format!("{p}"));
                }
            }
            Step::HasPending(h) => {
                let got = s.has_pending();
                if got != *h {
                    return fail("has_pending()".into(), format!("{h}"), format!("{got}"));
                }
            }
            Step::Shutdown { expect } => {
                let r = s.shutdown();
                let ok = match (&r, expect) {
                    (Ok(done), Outcome::Count(c)) => usize::from(*done) == *c,
                    (Err(e), o) => err_matches(e, o, profile),
                    _ => false,
                };
                if !ok {
                    let got = match &r {
                        Ok(done) => format!("ok {}", u8::from(*done)),
                        Err(e) => describe_err(e, profile),
                    };
                    return fail("shutdown()".into(), describe(expect), got);
                }
            }
            Step::Transport { capacity } => {
                let all = s.outgoing_len();
                let _ = s.take_outgoing(all);
                s.set_outgoing_capacity(Some(*capacity));
                bounded = true;
                wire = Some(WireCompare::new(&s));
            }
            Step::Write {
                n,
                buf,
                data,
                expect,
            } => {
                let b = &mut bufs[usize::from(*buf != 'A')];
                b[..*n].copy_from_slice(data);
                let r = s.write(&b[..*n]);
                let call = format!("write({n}, buf {buf})");
                let ok = match (&r, expect) {
                    (Ok(0), o) => err_matches(&SslError::Syscall, o, profile),
                    (Ok(k), Outcome::Count(c)) => k == c,
                    (Err(e), o) => err_matches(e, o, profile),
                    _ => false,
                };
                if !ok {
                    let got = match &r {
                        Ok(k) => format!("ok {k}"),
                        Err(e) => describe_err(e, profile),
                    };
                    return fail(call, describe(expect), got);
                }
            }
            Step::Drain { n, wire: theirs } => {
                let ours = s.take_outgoing(*n);
                let cmp = wire.get_or_insert_with(|| WireCompare::new(&s));
                if let Err(e) = cmp.compare(&ours, theirs) {
                    return fail(format!("drain({n})"), format!("{} bytes", theirs.len()), e);
                }
                if script.is_some() {
                    if let Err(e) = sent.client(theirs, &ours) {
                        return fail(format!("drain({n})"), format!("{} bytes", theirs.len()), e);
                    }
                }
            }
        }
        // Driven: once the client's first handshake is over, the session
        // runs the rest itself.
        if let Some(sc) = script.as_mut() {
            let ready = !driven
                && sc.switch_after.is_some_and(|k| index >= k)
                && s.is_established()
                && !s.in_handshake();
            if ready {
                if let Some(tracker) = sc.tracker.take() {
                    let driver = ReplayDriver {
                        tracker,
                        script: std::mem::take(&mut sc.messages),
                        write_keys: None,
                        finished_sent: true,
                        expect: Vec::new(),
                    };
                    driven = s.drive_with(Box::new(driver)).is_ok();
                    if driven {
                        driven_from = Some(index);
                    }
                }
            }
        }
    }
    if driven && !bounded && s.outgoing_len() > 0 {
        return Err(Mismatch {
            index: t.steps.len(),
            call: "end".into(),
            openssl: "nothing more sent".into(),
            tlsrec: format!("{} bytes sent", s.outgoing_len()),
        });
    }
    Ok(Replayed {
        driven_from,
        driven_handshakes: s.handshakes(),
    })
}
