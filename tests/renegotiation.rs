//! Renegotiation interleaved with application data, between two tlsrec
//! endpoints whose handshakes a scripted driver runs: a test-only TLS 1.2
//! handshake whose messages look real (ClientHello, ServerHello,
//! Certificate, ServerHelloDone, ClientKeyExchange, ChangeCipherSpec,
//! Finished) and whose keys come from a fixed schedule per generation.
//!
//! The three seed cases of the crate each have a named test:
//! (1) the server's application data arriving before its ServerHello;
//! (2) a server whose SSL_write is blocked when the ClientHello arrives;
//! (3) a handshake callback that pauses and resumes.

mod common;

use std::sync::{Arc, Mutex};

use common::Rng;
use tlsrec::handshake::{HandshakeMessage, HandshakeType as T};
use tlsrec::keys::Secret;
use tlsrec::{
    AlertDescription, CipherSuite, Config, Established, FlightItem, HandshakeDriver, Progress,
    RecordKeys, Role, Session, SslError,
};

const SUITE: CipherSuite = CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256;

/// Keys of generation `g` for one direction (0: client writes, 1: server).
fn keys(g: u32, dir: u8) -> RecordKeys {
    let key: Vec<u8> = (0..16)
        .map(|i| (g as u8).wrapping_mul(31) ^ dir ^ i)
        .collect();
    let iv: Vec<u8> = (0..4).map(|i| (g as u8) ^ (dir << 4) ^ i).collect();
    RecordKeys::new(SUITE, &key, &iv).unwrap()
}

/// What a driver saw, shared with the test.
#[derive(Default, Debug)]
struct Log {
    /// Every message handed to the driver, pauses included.
    seen: Vec<(T, Vec<u8>)>,
    /// Messages accepted (not paused).
    accepted: Vec<T>,
    /// Pauses still to give, per message type.
    pause: Vec<(T, u32)>,
    done: u32,
}

struct Scripted {
    role: Role,
    /// The generation the next handshake will have.
    next: u32,
    /// Where the running handshake is (the type expected next).
    expect: Vec<T>,
    log: Arc<Mutex<Log>>,
}

impl Scripted {
    fn new(role: Role, log: Arc<Mutex<Log>>) -> Box<Self> {
        Box::new(Scripted {
            role,
            next: 1,
            expect: match role {
                Role::Client => Vec::new(),
                Role::Server => vec![T::ClientHello],
            },
            log,
        })
    }
}

impl HandshakeDriver for Scripted {
    fn start(&mut self, out: &mut Vec<FlightItem>) -> Progress {
        assert_eq!(self.role, Role::Client);
        let mut body = self.next.to_be_bytes().to_vec();
        body.extend_from_slice(&[0x42; 34]);
        out.push(FlightItem::Message(T::ClientHello, body));
        self.expect = vec![T::ServerHello];
        Progress::Continue
    }

    fn message(&mut self, msg: &HandshakeMessage, out: &mut Vec<FlightItem>) -> Progress {
        let mut log = self.log.lock().unwrap();
        log.seen.push((msg.typ, msg.body.to_vec()));
        if let Some(p) = log.pause.iter_mut().find(|(t, n)| *t == msg.typ && *n > 0) {
            p.1 -= 1;
            return Progress::Pending;
        }
        if !self.expect.contains(&msg.typ) {
            return Progress::Fail(AlertDescription::UnexpectedMessage);
        }
        log.accepted.push(msg.typ);
        let g = self.next;
        match (self.role, msg.typ) {
            (Role::Server, T::ClientHello) => {
                let want = u32::from_be_bytes(msg.body[..4].try_into().unwrap());
                if want != g {
                    return Progress::Fail(AlertDescription::HandshakeFailure);
                }
                out.push(FlightItem::Message(
                    T::ServerHello,
                    vec![3, 3, g as u8, 0x17],
                ));
                // Larger than a 512-byte fragment: split over records.
                out.push(FlightItem::Message(T::Certificate, vec![0x30; 1500]));
                out.push(FlightItem::Message(T::ServerHelloDone, Vec::new()));
                self.expect = vec![T::ClientKeyExchange];
                Progress::Continue
            }
            (Role::Server, T::ClientKeyExchange) => {
                out.push(FlightItem::ReadKeys(keys(g, 0)));
                self.expect = vec![T::Finished];
                Progress::Continue
            }
            (Role::Server, T::Finished) => {
                out.push(FlightItem::WriteKeys(keys(g, 1)));
                out.push(FlightItem::Message(T::Finished, vec![0xf1; 12]));
                self.next += 1;
                self.expect = vec![T::ClientHello];
                log.done += 1;
                Progress::Done
            }
            (Role::Client, T::ServerHello) => {
                self.expect = vec![T::Certificate];
                Progress::Continue
            }
            (Role::Client, T::Certificate) => {
                self.expect = vec![T::ServerHelloDone];
                Progress::Continue
            }
            (Role::Client, T::ServerHelloDone) => {
                out.push(FlightItem::Message(T::ClientKeyExchange, vec![0x04; 65]));
                out.push(FlightItem::ReadKeys(keys(g, 1)));
                out.push(FlightItem::WriteKeys(keys(g, 0)));
                out.push(FlightItem::Message(T::Finished, vec![0xc1; 12]));
                self.expect = vec![T::Finished];
                Progress::Continue
            }
            (Role::Client, T::Finished) => {
                self.next += 1;
                self.expect = Vec::new();
                log.done += 1;
                Progress::Done
            }
            _ => Progress::Fail(AlertDescription::UnexpectedMessage),
        }
    }
}

/// A driven session continuing a connection with these keys (sequence
/// numbers at 0), its outgoing transport bounded to `capacity` bytes.
fn driven(
    role: Role,
    est: Established,
    driver: Box<dyn HandshakeDriver + Send>,
    cfg: Config,
    capacity: Option<usize>,
) -> Session {
    let mut s = Session::driven(role, est, driver, cfg).unwrap();
    s.set_outgoing_capacity(capacity);
    s
}

/// An established connection's keys for one side, sequence numbers at 0.
fn est(
    suite: CipherSuite,
    read: RecordKeys,
    write: RecordKeys,
    secrets: Option<(Secret, Secret)>,
) -> Established {
    Established {
        suite,
        read,
        read_seq: 0,
        write,
        write_seq: 0,
        secrets,
    }
}

struct Pair {
    c: Session,
    s: Session,
    clog: Arc<Mutex<Log>>,
    slog: Arc<Mutex<Log>>,
}

fn pair(ccfg: Config, scfg: Config) -> Pair {
    pair_bounded(ccfg, scfg, None, None)
}

fn pair_bounded(ccfg: Config, scfg: Config, ccap: Option<usize>, scap: Option<usize>) -> Pair {
    let clog = Arc::new(Mutex::new(Log::default()));
    let slog = Arc::new(Mutex::new(Log::default()));
    let c = driven(
        Role::Client,
        est(SUITE, keys(0, 1), keys(0, 0), None),
        Scripted::new(Role::Client, clog.clone()),
        ccfg,
        ccap,
    );
    let s = driven(
        Role::Server,
        est(SUITE, keys(0, 0), keys(0, 1), None),
        Scripted::new(Role::Server, slog.clone()),
        scfg,
        scap,
    );
    Pair { c, s, clog, slog }
}

fn allow_reneg() -> Config {
    Config {
        allow_client_renegotiation: true,
        ..Config::default()
    }
}

/// Moves everything one side has sent to the other, in one segment.
fn transfer(from: &mut Session, to: &mut Session) -> usize {
    let b = from.take_outgoing(usize::MAX);
    to.recv(&b);
    b.len()
}

fn read_all(e: &mut Session) -> Result<Vec<u8>, SslError> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match e.read(&mut buf) {
            Ok(n) => got.extend_from_slice(&buf[..n]),
            // WantWrite: a flight waits for the (bounded) transport.
            Err(SslError::WantRead | SslError::WantWrite) => return Ok(got),
            Err(e) => return Err(e),
        }
    }
}

/// Runs both sides until neither has anything to send (collecting data).
fn settle(p: &mut Pair) -> (Vec<u8>, Vec<u8>) {
    let (mut to_c, mut to_s) = (Vec::new(), Vec::new());
    for _ in 0..20 {
        let a = transfer(&mut p.c, &mut p.s);
        to_s.extend(read_all(&mut p.s).unwrap());
        let b = transfer(&mut p.s, &mut p.c);
        to_c.extend(read_all(&mut p.c).unwrap());
        let idle = |e: &Session| e.outgoing_len() == 0 && e.queued_len() == 0;
        if a == 0 && b == 0 && idle(&p.c) && idle(&p.s) {
            break;
        }
    }
    (to_c, to_s)
}

/// Case (1): the client has sent its renegotiation ClientHello; the
/// server's application data arrives before the ServerHello. OpenSSL 1.0
/// failed here with unexpected_message; 3.0 (D1, D2) and tlsrec deliver it.
#[test]
fn case1_app_data_before_server_hello_is_delivered() {
    let mut p = pair(Config::default(), allow_reneg());
    p.c.renegotiate().unwrap();
    assert_eq!(p.c.read(&mut [0; 16]), Err(SslError::WantRead));
    assert!(p.c.in_handshake());
    // The server writes before it has read the ClientHello.
    assert_eq!(p.s.write(b"sent before the hello"), Ok(21));
    transfer(&mut p.s, &mut p.c);
    let mut buf = [0u8; 64];
    assert_eq!(p.c.read(&mut buf), Ok(21));
    assert_eq!(&buf[..21], b"sent before the hello");
    assert!(p.c.in_handshake(), "the handshake stays in progress (D2)");
    // The handshake then completes, and data flows under the new keys.
    settle(&mut p);
    assert_eq!((p.c.handshakes(), p.s.handshakes()), (1, 1));
    assert_eq!(p.c.write(b"after"), Ok(5));
    transfer(&mut p.c, &mut p.s);
    assert_eq!(read_all(&mut p.s).unwrap(), b"after");
    assert_eq!(
        p.slog.lock().unwrap().accepted,
        [T::ClientHello, T::ClientKeyExchange, T::Finished]
    );
}

/// D3: once the ServerHello has arrived, application data before the end
/// of the handshake is fatal (unexpected_message), as in OpenSSL 3.0.
#[test]
fn d3_app_data_after_server_hello_is_fatal() {
    let mut p = pair(Config::default(), allow_reneg());
    p.c.renegotiate().unwrap();
    let _ = p.c.read(&mut [0; 16]);
    transfer(&mut p.c, &mut p.s);
    assert_eq!(p.s.read(&mut [0; 16]), Err(SslError::WantRead));
    // The server's flight (ServerHello...) and then data, in one segment.
    assert_eq!(p.s.write(b"too late"), Err(SslError::WantRead));
    let flight = p.s.take_outgoing(usize::MAX);
    p.c.recv(&flight);
    // Data sealed by a peer that ignores D4: seal it with the server's keys.
    let mut rogue = tlsrec::Sealer::new();
    rogue.set_keys(keys(0, 1));
    // After ServerHello, Certificate and ServerHelloDone (one record each).
    rogue.set_sequence(3).unwrap();
    let mut wire = bytes::BytesMut::new();
    rogue
        .seal(tlsrec::ContentType::ApplicationData, b"x", &mut wire)
        .unwrap();
    p.c.recv(&wire);
    match p.c.read(&mut [0; 16]) {
        Err(SslError::Ssl(e)) => {
            assert_eq!(e.alert(), Some(AlertDescription::UnexpectedMessage))
        }
        r => panic!("{r:?}"),
    }
}

/// Case (2): a server's SSL_write is blocked with sealed data pending when
/// the renegotiation ClientHello arrives. OpenSSL tried to write the
/// ServerHello through the pending-write slot and failed ("bad write
/// retry"); here the flight queues behind the pending record, the retry
/// completes, and so does the handshake.
#[test]
fn case2_blocked_server_write_then_renegotiation_completes() {
    let mut p = pair_bounded(Config::default(), allow_reneg(), None, Some(1000));
    let big: Vec<u8> = (0..40_000u32).map(|i| i as u8).collect();
    // The transport takes 1000 bytes: the write blocks with a record pending.
    assert_eq!(p.s.write(&big), Err(SslError::WantWrite));
    assert!(p.s.write_pending());
    // The client starts a renegotiation; its ClientHello reaches the server.
    p.c.renegotiate().unwrap();
    let _ = p.c.read(&mut [0; 16]);
    transfer(&mut p.c, &mut p.s);
    // The server reads it: the ServerHello flight is sealed behind the
    // pending record instead of failing.
    assert_eq!(p.s.read(&mut [0; 16]), Err(SslError::WantRead));
    assert!(p.s.queued_len() > 0);
    // The caller retries its write with the same buffer until it completes,
    // while the client drains the transport.
    let mut to_c = Vec::new();
    let mut done = None;
    for _ in 0..10_000 {
        match p.s.write(&big) {
            Ok(n) => {
                done = Some(n);
                break;
            }
            // WantRead: the renegotiation runs first and waits (D4).
            Err(SslError::WantWrite | SslError::WantRead) => {}
            Err(e) => panic!("server write: {e:?}"),
        }
        transfer(&mut p.s, &mut p.c);
        to_c.extend(read_all(&mut p.c).unwrap());
        transfer(&mut p.c, &mut p.s);
        to_s_ignore(&mut p.s);
    }
    assert_eq!(done, Some(big.len()));
    let (rest, _) = settle(&mut p);
    to_c.extend(rest);
    assert!(
        to_c == big,
        "the client received the blocked write whole: {} of {} bytes, first difference at {:?}",
        to_c.len(),
        big.len(),
        to_c.iter().zip(&big).position(|(a, b)| a != b)
    );
    assert_eq!((p.c.handshakes(), p.s.handshakes()), (1, 1));
}

fn to_s_ignore(s: &mut Session) {
    match s.read(&mut [0; 64]) {
        Ok(_) | Err(SslError::WantRead) | Err(SslError::WantWrite) => {}
        Err(e) => panic!("server read: {e:?}"),
    }
}

/// Case (3): the server's ClientHello callback pauses three times (an
/// asynchronous lookup). Each call returns WantCallback, nothing is read
/// from the transport again, and the fourth call goes on from the same
/// message.
#[test]
fn case3_paused_callback_resumes_without_rereading() {
    let mut p = pair(Config::default(), allow_reneg());
    p.slog.lock().unwrap().pause = vec![(T::ClientHello, 3)];
    p.c.renegotiate().unwrap();
    let _ = p.c.read(&mut [0; 16]);
    let n = transfer(&mut p.c, &mut p.s);
    assert!(n > 0);
    assert_eq!(p.s.read(&mut [0; 16]), Err(SslError::WantCallback));
    assert_eq!(p.s.outgoing_len(), 0, "nothing sent while paused");
    assert_eq!(p.s.read(&mut [0; 16]), Err(SslError::WantCallback));
    // A write while paused reports the pause too, and seals nothing.
    assert_eq!(p.s.write(b"data"), Err(SslError::WantCallback));
    assert_eq!(p.s.outgoing_len(), 0);
    assert_eq!(p.s.read(&mut [0; 16]), Err(SslError::WantRead));
    {
        let log = p.slog.lock().unwrap();
        assert_eq!(log.seen.len(), 4, "the same ClientHello offered four times");
        assert!(log.seen.iter().all(|m| m == &log.seen[0]));
        assert_eq!(log.accepted, [T::ClientHello], "and accepted once");
    }
    settle(&mut p);
    assert_eq!((p.c.handshakes(), p.s.handshakes()), (1, 1));
    // The write the pause refused goes through now.
    assert_eq!(p.s.write(b"data"), Ok(4));
    transfer(&mut p.s, &mut p.c);
    assert_eq!(read_all(&mut p.c).unwrap(), b"data");
}

/// D6: a server refuses a client's renegotiation unless allowed, with a
/// warning no_renegotiation, and its side of the connection goes on; an
/// OpenSSL 3.0 client takes that warning as fatal (C2: handshake_failure,
/// `no renegotiation`), and so does a driven client.
#[test]
fn d6_client_renegotiation_refused_by_default() {
    let mut p = pair(Config::default(), Config::default());
    p.c.renegotiate().unwrap();
    let _ = p.c.read(&mut [0; 16]);
    transfer(&mut p.c, &mut p.s);
    assert_eq!(p.s.read(&mut [0; 16]), Err(SslError::WantRead));
    assert!(!p.s.in_handshake(), "the server refused it");
    assert_eq!(p.s.write(b"still here"), Ok(10));
    transfer(&mut p.s, &mut p.c);
    match p.c.read(&mut [0; 16]) {
        Err(SslError::Ssl(e)) => {
            assert_eq!(e.reason(), Some(tlsrec::Reason::NoRenegotiation));
            assert_eq!(e.alert(), Some(AlertDescription::HandshakeFailure));
        }
        r => panic!("{r:?}"),
    }
    // The client's handshake_failure reaches the server, which ends too.
    transfer(&mut p.c, &mut p.s);
    assert!(matches!(p.s.read(&mut [0; 16]), Err(SslError::Ssl(_))));
    assert_eq!(p.s.handshakes(), 0);
}

/// D5: a server-initiated renegotiation (HelloRequest) is answered by the
/// client's read, and the server's writes wait for the peer (D4).
#[test]
fn d5_server_initiated_renegotiation() {
    let mut p = pair(Config::default(), Config::default());
    p.s.renegotiate().unwrap();
    // D5: the HelloRequest goes out and the server is back at TLS_ST_OK,
    // so the write goes through after it.
    assert_eq!(p.s.write(b"x"), Ok(1), "D5");
    assert!(!p.s.in_handshake());
    transfer(&mut p.s, &mut p.c);
    // The client answers with its ClientHello and, before the ServerHello
    // of a renegotiation it started, reads the server's data (D1).
    let mut buf = [0u8; 16];
    assert_eq!(p.c.read(&mut buf), Ok(1));
    assert_eq!(&buf[..1], b"x");
    assert!(p.c.in_handshake());
    settle(&mut p);
    assert_eq!((p.c.handshakes(), p.s.handshakes()), (1, 1));
    assert_eq!(p.s.write(b"x"), Ok(1));
}

/// Both sides renegotiate again and again under load: random segments,
/// bounded transports, moved buffers, paused callbacks. No byte is lost,
/// duplicated or reordered in either direction.
#[test]
fn repeated_renegotiation_under_load_keeps_both_streams_exact() {
    for seed in 0..12u64 {
        let mut rng = Rng::new(seed);
        let cap = [Some(700), Some(20_000), None][seed as usize % 3];
        let frag = [512, 1000, 16384][(seed as usize / 3) % 3];
        // Writes meet the peer's data during renegotiations all the time:
        // with OpenSSL's SYSCALL there the caller could not tell when to
        // read; and HelloRequests arrive while writes are pending, which
        // OpenSSL 3.0 turns into a wait on both sides. The load runs with
        // the two documented departures.
        let cfg = |moving| Config {
            max_send_fragment: frag,
            accept_moving_buffer: moving,
            allow_client_renegotiation: true,
            want_read_when_write_meets_app_data: true,
            deferred_renegotiation_sends_hello: true,
            ..Config::default()
        };
        let mut p = pair_bounded(cfg(seed % 2 == 0), cfg(true), cap, cap);
        let total = 300_000;
        let data = [rng.bytes(total), rng.bytes(total)];
        let mut sent = [0usize; 2];
        let mut got: [Vec<u8>; 2] = [Vec::new(), Vec::new()];
        let mut retry: [Option<usize>; 2] = [None, None];
        let mut scratch = vec![0u8; 70_000];
        let mut steps = 0;
        while got[0].len() < total
            || got[1].len() < total
            || p.c.handshakes().min(p.s.handshakes()) < 5
        {
            steps += 1;
            assert!(
                steps < 200_000,
                "{}",
                format!(
                "seed {seed}: no progress: client hs {} q {} out {} pend {} / server hs {} q {} out {} pend {} / retry {:?} / clog {:?} / slog {:?}",
                p.c.in_handshake(),
                p.c.queued_len(),
                p.c.outgoing_len(),
                p.c.write_pending(),
                p.s.in_handshake(),
                p.s.queued_len(),
                p.s.outgoing_len(),
                p.s.write_pending(),
                retry,
                p.clog.lock().unwrap().accepted,
                p.slog.lock().unwrap().accepted
                        )
            );
            if rng.below(12) == 0 {
                let _ = if rng.below(2) == 0 {
                    p.c.renegotiate()
                } else {
                    p.s.renegotiate()
                };
            }
            if steps == 10 || rng.below(40) == 0 {
                let log = if rng.below(2) == 0 { &p.clog } else { &p.slog };
                let t = [T::ClientHello, T::ServerHello, T::Finished][rng.below(3)];
                log.lock().unwrap().pause.push((t, 1 + rng.below(2) as u32));
            }
            for i in 0..2 {
                let e = if i == 0 { &mut p.c } else { &mut p.s };
                if sent[i] < total {
                    let n = retry[i]
                        .take()
                        .unwrap_or_else(|| (1 + rng.below(30_000)).min(total - sent[i]));
                    let src = &data[i][sent[i]..sent[i] + n];
                    // A moved buffer: the same bytes from another address.
                    let r = if rng.below(3) == 0 && (i == 1 || seed % 2 == 0) {
                        scratch[..n].copy_from_slice(src);
                        e.write(&scratch[..n])
                    } else {
                        e.write(src)
                    };
                    match r {
                        Ok(k) => sent[i] += k,
                        Err(SslError::WantWrite | SslError::WantRead | SslError::WantCallback) => {
                            retry[i] = Some(n)
                        }
                        Err(err) => panic!("seed {seed} side {i} write: {err:?}"),
                    }
                }
                let out = e.take_outgoing(1 + rng.below(9000));
                let peer = if i == 0 { &mut p.s } else { &mut p.c };
                for seg in out.chunks(1 + rng.below(2000)) {
                    peer.recv(seg);
                }
                let mut buf = vec![0u8; 1 + rng.below(20_000)];
                match peer.read(&mut buf) {
                    Ok(k) => {
                        got[i].extend_from_slice(&buf[..k]);
                        let g = &got[i];
                        assert!(
                            data[i].starts_with(g),
                            "seed {seed} step {steps}: stream {i} went wrong at {:?} of {} (read {k}); found at {:?}; sent {}\nclient {:?}\nserver {:?}",
                            g.iter().zip(&data[i]).position(|(a, b)| a != b),
                            g.len(),
                            data[i].windows(k).position(|w| w == &g[g.len() - k..]),
                            sent[i],
                            p.c,
                            p.s
                        );
                    }
                    Err(SslError::WantRead | SslError::WantCallback | SslError::WantWrite) => {}
                    Err(err) => panic!(
                        "seed {seed} step {steps}: {} read: {err:?}\nclient {:?} {:?}\nserver {:?} {:?}",
                        if i == 0 { "server" } else { "client" },
                        p.c,
                        p.clog.lock().unwrap(),
                        p.s,
                        p.slog.lock().unwrap()
                    ),
                }
            }
        }
        for i in 0..2 {
            if got[i] != data[i] {
                let at = got[i].iter().zip(&data[i]).position(|(a, b)| a != b);
                panic!(
                    "seed {seed}: stream {i} differs: {} of {} bytes, first difference at {at:?}",
                    got[i].len(),
                    data[i].len()
                );
            }
        }
        let done = p.c.handshakes().min(p.s.handshakes());
        let pauses = |log: &Arc<Mutex<Log>>| {
            let log = log.lock().unwrap();
            log.seen.len() - log.accepted.len()
        };
        let paused = pauses(&p.clog) + pauses(&p.slog);
        if std::env::var_os("RENEG_DEBUG").is_some() {
            eprintln!("seed {seed}: {done} renegotiations, {paused} pauses, {steps} steps");
        }
        assert!(
            done >= 5,
            "seed {seed}: only {done} renegotiations finished"
        );
        assert!(paused >= 1, "seed {seed}: no callback paused");
    }
}

/// TLS 1.3 between two driven sessions: KeyUpdate on demand in both
/// directions, with and without update_requested, interleaved with data;
/// each KeyUpdate goes out at the next call that enters the handshake
/// (OpenSSL's `SSL_key_update`), an answer before the next data, and every
/// record after an update is sealed and opened under the next generation.
#[test]
fn tls13_key_updates_both_ways_keep_data_flowing() {
    let suite = CipherSuite::TLS13_AES_256_GCM_SHA384;
    let secret = |b: u8| Secret::new(vec![b; 48]);
    let end = |role, r: u8, w: u8| {
        let keys = |b| RecordKeys::from_traffic_secret(suite, &secret(b)).unwrap();
        driven(
            role,
            est(suite, keys(r), keys(w), Some((secret(r), secret(w)))),
            Scripted::new(role, Arc::new(Mutex::new(Log::default()))),
            Config::default(),
            None,
        )
    };
    let mut c = end(Role::Client, 2, 1);
    let mut s = end(Role::Server, 1, 2);
    let mut rng = Rng::new(13);
    let mut expect_c = Vec::new();
    // Generations of each direction's keys, counted independently.
    let (mut c_gen, mut s_gen) = (0u32, 0u32);
    for round in 0..200 {
        match rng.below(4) {
            0 => {
                let req = rng.below(2) == 0;
                c.key_update(req).unwrap();
                c_gen += 1;
                s_gen += u32::from(req);
            }
            1 => {
                let req = rng.below(2) == 0;
                s.key_update(req).unwrap();
                s_gen += 1;
                c_gen += u32::from(req);
            }
            _ => {}
        }
        let len = 1 + rng.below(3000);
        let d = rng.bytes(len);
        assert_eq!(s.write(&d), Ok(d.len()), "round {round}");
        expect_c.extend_from_slice(&d);
        // Deliver in random segments, reading as they come.
        let out = s.take_outgoing(usize::MAX);
        let mut got = Vec::new();
        for seg in out.chunks(1 + rng.below(700)) {
            c.recv(seg);
            got.extend(read_all(&mut c).unwrap());
        }
        assert_eq!(got, d, "round {round}");
        // The client answers: its KeyUpdates (asked for by its caller, or
        // owed to the server) go out before its next data, as in OpenSSL.
        assert_eq!(c.write(b"ack"), Ok(3), "round {round}");
        s.recv(&c.take_outgoing(usize::MAX));
        assert_eq!(read_all(&mut s).unwrap(), b"ack", "round {round}");
        // And the server's answer owed to the client, before its next data.
        assert_eq!(s.write(b"ack2"), Ok(4), "round {round}");
        c.recv(&s.take_outgoing(usize::MAX));
        assert_eq!(read_all(&mut c).unwrap(), b"ack2", "round {round}");
        assert!(!c.key_update_due() && !s.key_update_due(), "round {round}");
    }
    assert!(!expect_c.is_empty());
    // Each side's write keys are the RFC 8446 7.2 successors of its first
    // secret, as many times as counted, and the peer reads with the same.
    let nth = |b: u8, n: u32| {
        let mut sec = secret(b);
        for _ in 0..n {
            sec = tlsrec::keys::next_traffic_secret(suite.hash(), &sec).unwrap();
        }
        RecordKeys::from_traffic_secret(suite, &sec).unwrap()
    };
    assert!(c_gen > 20 && s_gen > 20, "{c_gen} {s_gen}");
    assert_eq!(c.sealer().keys(), Some(&nth(1, c_gen)));
    assert_eq!(s.opener().keys(), Some(&nth(1, c_gen)));
    assert_eq!(s.sealer().keys(), Some(&nth(2, s_gen)));
    assert_eq!(c.opener().keys(), Some(&nth(2, s_gen)));
}

/// With `queue_flights_behind_write` off, a driven server answers a
/// ClientHello as OpenSSL 3.0 does while its own write is blocked: the
/// ServerHello passes through the pending-write slot, shorter than the
/// pending record, `bad length` (checked against libssl in
/// tests/handshake_seed2.rs).
#[test]
fn flights_fail_behind_a_blocked_write_without_the_queue() {
    let scfg = Config {
        queue_flights_behind_write: false,
        ..allow_reneg()
    };
    let mut p = pair_bounded(Config::default(), scfg, None, Some(1000));
    let big = vec![5u8; 40_000];
    assert_eq!(p.s.write(&big), Err(SslError::WantWrite));
    p.c.renegotiate().unwrap();
    let _ = p.c.read(&mut [0; 16]);
    transfer(&mut p.c, &mut p.s);
    match p.s.read(&mut [0; 16]) {
        Err(SslError::Ssl(e)) => assert_eq!(e.reason(), Some(tlsrec::Reason::BadLength)),
        r => panic!("{r:?}"),
    }
}

/// A write that runs this side's renegotiation and meets the peer's
/// application data before its hello: fatal by default (D3, the record came
/// to a write), `WantRead` with `want_read_when_write_meets_app_data`, and
/// then the read takes the record and the handshake completes.
#[test]
fn write_meeting_app_data_is_syscall_or_want_read() {
    for want_read in [false, true] {
        let ccfg = Config {
            want_read_when_write_meets_app_data: want_read,
            ..Config::default()
        };
        let mut p = pair(ccfg, allow_reneg());
        p.c.renegotiate().unwrap();
        assert_eq!(p.c.write(b"mine"), Err(SslError::WantRead), "D4");
        assert_eq!(p.s.write(b"theirs"), Ok(6));
        transfer(&mut p.s, &mut p.c);
        let r = p.c.write(b"mine");
        if !want_read {
            match r {
                Err(SslError::Ssl(e)) => {
                    assert_eq!(e.reason(), Some(tlsrec::Reason::UnexpectedRecord))
                }
                r => panic!("{r:?}"),
            }
            continue;
        }
        assert_eq!(r, Err(SslError::WantRead));
        let mut buf = [0u8; 16];
        assert_eq!(p.c.read(&mut buf), Ok(6));
        assert_eq!(&buf[..6], b"theirs");
        settle(&mut p);
        assert_eq!((p.c.handshakes(), p.s.handshakes()), (1, 1));
        assert_eq!(p.c.write(b"mine"), Ok(4));
        transfer(&mut p.c, &mut p.s);
        assert_eq!(read_all(&mut p.s).unwrap(), b"mine");
    }
}

/// A HelloRequest read while the client's write is pending is deferred
/// (D4). OpenSSL 3.0 then clears the request: once the write is done the
/// renegotiation starts without a ClientHello and the client waits for the
/// server, which waits for the client. With
/// `deferred_renegotiation_sends_hello` the ClientHello goes out.
#[test]
fn deferred_hello_request_waits_or_sends_hello() {
    for sends in [false, true] {
        let ccfg = Config {
            deferred_renegotiation_sends_hello: sends,
            ..Config::default()
        };
        let mut p = pair_bounded(ccfg, Config::default(), Some(100), None);
        let big = vec![7u8; 5000];
        assert_eq!(p.c.write(&big), Err(SslError::WantWrite));
        p.s.renegotiate().unwrap();
        assert_eq!(p.s.do_handshake(), Ok(()), "HelloRequest out (D5)");
        transfer(&mut p.s, &mut p.c);
        assert_eq!(p.c.read(&mut [0; 16]), Err(SslError::WantRead));
        assert!(!p.c.in_handshake(), "deferred: a write is pending");
        let mut got = Vec::new();
        loop {
            transfer(&mut p.c, &mut p.s);
            got.extend(read_all(&mut p.s).unwrap());
            match p.c.write(&big) {
                Ok(n) => {
                    assert_eq!(n, big.len());
                    break;
                }
                Err(SslError::WantWrite) => {}
                Err(e) => panic!("{e:?}"),
            }
        }
        transfer(&mut p.c, &mut p.s);
        got.extend(read_all(&mut p.s).unwrap());
        assert_eq!(got, big, "the server read the client's data (D1)");
        // The next call starts the deferred renegotiation.
        assert_eq!(p.c.read(&mut [0; 16]), Err(SslError::WantRead));
        assert!(p.c.in_handshake());
        let hello = p.c.take_outgoing(usize::MAX);
        if !sends {
            assert!(hello.is_empty(), "OpenSSL 3.0 writes no ClientHello here");
            continue;
        }
        assert!(!hello.is_empty(), "the ClientHello");
        p.s.recv(&hello);
        settle(&mut p);
        assert_eq!((p.c.handshakes(), p.s.handshakes()), (1, 1));
    }
}

/// `Profile::Rfc`: RFC 5246 lets application data interleave with a
/// renegotiation's messages, so the server's data after its ServerHello,
/// fatal in OpenSSL 3.0 (D3, the test above), is read, and the
/// renegotiation goes on to its end.
#[test]
fn rfc_profile_takes_app_data_after_the_server_hello() {
    let rfc = Config {
        profile: tlsrec::Profile::Rfc,
        ..Config::default()
    };
    let mut p = pair(rfc, allow_reneg());
    p.c.renegotiate().unwrap();
    let _ = p.c.read(&mut [0; 16]);
    transfer(&mut p.c, &mut p.s);
    assert_eq!(p.s.read(&mut [0; 16]), Err(SslError::WantRead));
    let flight = p.s.take_outgoing(usize::MAX);
    p.c.recv(&flight);
    // Data sealed by a peer that writes during its renegotiation, after
    // ServerHello, Certificate and ServerHelloDone (one record each).
    let mut rogue = tlsrec::Sealer::new();
    rogue.set_keys(keys(0, 1));
    rogue.set_sequence(3).unwrap();
    let mut wire = bytes::BytesMut::new();
    rogue
        .seal(
            tlsrec::ContentType::ApplicationData,
            b"interleaved",
            &mut wire,
        )
        .unwrap();
    p.c.recv(&wire);
    let mut buf = [0u8; 16];
    assert_eq!(p.c.read(&mut buf), Ok(11));
    assert_eq!(&buf[..11], b"interleaved");
    assert!(p.c.in_handshake());
    // (The real server did not seal that record, so the two cannot go on
    // together.) The client has answered the server's flight.
    assert!(p.c.outgoing_len() > 0, "the client's flight");
}

/// tlsfuzzer's "Application data inside Client Hello" (its
/// test-interleaved-application-data-and-fragmented-handshakes-in-renegotiation):
/// the client's renegotiation ClientHello in two records with an
/// application data record between them. RFC 5246 6.2.1 ("data of
/// different TLS record layer content types MAY be interleaved";
/// "recipients MUST receive and process interleaved application layer
/// traffic during handshakes subsequent to the first one"): the RFC profile
/// reads the data and then answers the hello. OpenSSL 3.0 refuses it
/// (unexpected record, unexpected_message), as `openssl s_server
/// -client_renegotiation` 3.0.19 does under tlsfuzzer.
#[test]
fn app_data_between_client_hello_fragments_is_read_only_by_the_rfc_profile() {
    for profile in [tlsrec::Profile::OpenSsl3_0, tlsrec::Profile::Rfc] {
        let scfg = Config {
            profile,
            ..allow_reneg()
        };
        let mut p = pair(Config::default(), scfg);
        // The client's records, sealed as the client would seal them
        // (client-to-server keys of the first handshake, sequence 0 on).
        let mut client = tlsrec::Sealer::new();
        client.set_keys(keys(0, 0));
        let mut hello = vec![1, 0, 0, 38];
        hello.extend_from_slice(&1u32.to_be_bytes());
        hello.extend_from_slice(&[0x42; 34]);
        let mut wire = bytes::BytesMut::new();
        client
            .seal(tlsrec::ContentType::Handshake, &hello[..20], &mut wire)
            .unwrap();
        client
            .seal(
                tlsrec::ContentType::ApplicationData,
                b"GET / HTTP/1.0",
                &mut wire,
            )
            .unwrap();
        p.s.recv(&wire);
        let mut buf = [0u8; 32];
        let r = p.s.read(&mut buf);
        if profile == tlsrec::Profile::OpenSsl3_0 {
            match r {
                Err(SslError::Ssl(e)) => {
                    assert_eq!(e.reason(), Some(tlsrec::Reason::UnexpectedRecord));
                    assert_eq!(e.alert(), Some(AlertDescription::UnexpectedMessage));
                }
                r => panic!("3.0: {r:?}"),
            }
            continue;
        }
        assert_eq!(r, Ok(14), "{profile:?}");
        assert_eq!(&buf[..14], b"GET / HTTP/1.0");
        assert_eq!(p.s.outgoing_len(), 0, "no answer before the whole hello");
        let mut wire = bytes::BytesMut::new();
        client
            .seal(tlsrec::ContentType::Handshake, &hello[20..], &mut wire)
            .unwrap();
        p.s.recv(&wire);
        assert_eq!(p.s.read(&mut buf), Err(SslError::WantRead));
        assert!(p.s.in_handshake());
        assert!(p.s.outgoing_len() > 0, "the server's flight");
        assert_eq!(
            p.slog.lock().unwrap().accepted,
            [T::ClientHello],
            "the hello, whole"
        );
    }
}
