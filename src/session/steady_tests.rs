//! [`SteadyCache`] is sound: whenever it says a fast path's state
//! conditions hold, the full check agrees. Two sessions are driven at
//! random through writes, reads, peeks, partial transfers, a transport
//! that fills up, KeyUpdates, the per-key limit, shutdown, end of stream
//! and corrupt bytes, and the cache is compared with the full check after
//! every call, with the received bytes fast reads used up and not yet
//! dropped ([`Session::input_consumed`]). (Debug builds also check the
//! cache at every use.)

use super::*;
use crate::cipher::CipherSuite;
use crate::keys::{RecordKeys, Secret};

fn keys(suite: CipherSuite, salt: u8) -> RecordKeys {
    let aead = suite.aead();
    let key: Vec<u8> = (0..aead.key_len()).map(|i| i as u8 ^ salt).collect();
    let iv: Vec<u8> = (0..aead.fixed_iv_len(suite.version()))
        .map(|i| (i as u8).wrapping_mul(7) ^ salt)
        .collect();
    RecordKeys::new(suite, &key, &iv).expect("key lengths")
}

fn pair(suite: CipherSuite, cfg: &Config) -> [Session; 2] {
    let (k1, k2) = (keys(suite, 1), keys(suite, 2));
    let secret = |b: u8| Secret::new(vec![b; 32]);
    let tls13 = suite.version() == Version::Tls13;
    let est = |r: &RecordKeys, w: &RecordKeys, rs: u8, ws: u8| Established {
        suite,
        read: r.clone(),
        read_seq: 0,
        write: w.clone(),
        write_seq: 0,
        secrets: tls13.then(|| (secret(rs), secret(ws))),
    };
    [
        Session::client_from_established(est(&k1, &k2, 1, 2), cfg.clone()).expect("keys"),
        Session::server_from_established(est(&k2, &k1, 2, 1), cfg.clone()).expect("keys"),
    ]
}

/// The cache claims nothing the full check denies.
fn assert_sound(s: &Session, step: usize, what: &str) {
    assert!(
        !s.steady.write || s.steady_write_state(),
        "step {step} ({what}): steady.write is stale"
    );
    assert!(
        !s.steady.read || s.steady_read_state(),
        "step {step} ({what}): steady.read is stale"
    );
    // Bytes fast reads used up wait only between fast reads.
    assert!(
        s.input_consumed == 0 || (s.steady.read && s.input_consumed <= s.input.len()),
        "step {step} ({what}): {} bytes consumed, not dropped",
        s.input_consumed
    );
}

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % n
    }
}

fn drive(suite: CipherSuite, cfg: &Config, seed: u64) -> usize {
    let mut rng = Rng(seed | 1);
    let mut s = pair(suite, cfg);
    let data = vec![0x61u8; 20_000];
    let mut buf = vec![0u8; 20_000];
    let mut fast_hits = 0;
    for step in 0..1500 {
        let ended = |x: &Session| x.failure.is_some() || x.sent_shutdown || x.received_shutdown;
        if (ended(&s[0]) || ended(&s[1])) && rng.below(30) == 0 {
            // A new connection, for the steady paths to be met again.
            s = pair(suite, cfg);
        }
        let me = rng.below(2);
        // Mostly the steady calls, so the cache gets used; now and then
        // something that changes the state under it.
        let op = rng.below(40);
        let (a, b) = {
            let [x, y] = &mut s;
            if me == 0 {
                (x, y)
            } else {
                (y, x)
            }
        };
        let what = match op {
            0..=11 => {
                let len = [1, 64, 100, 700, 64, 16385, 0][rng.below(7)];
                let was = a.steady.write;
                let _ = a.write(&data[..len]);
                fast_hits += usize::from(was && a.steady.write);
                "write"
            }
            12..=13 => {
                let len = [1, 64, 700, 0][rng.below(4)];
                let _ = a.write_with(len, |p| p.fill(0x62));
                "write_with"
            }
            14..=17 => {
                let spare = b.recv_buf(a.take_outgoing_buf());
                a.give_outgoing_buf(spare);
                "take_outgoing_buf -> recv_buf"
            }
            18 => {
                // A part of a record: the deframer's slow path.
                let part = a.take_outgoing(1 + rng.below(40));
                b.recv(&part);
                "take_outgoing (part) -> recv"
            }
            19..=28 => {
                let len = [1, 16, 64, 16384, 0][rng.below(5)];
                let was = a.steady.read;
                let _ = a.read(&mut buf[..len]);
                fast_hits += usize::from(was && a.steady.read);
                "read"
            }
            29 => {
                let _ = a.peek(&mut buf[..64]);
                "peek"
            }
            30 => {
                let _ = a.read_record();
                "read_record"
            }
            31 => {
                let _ = a.key_update(rng.below(2) == 1);
                "key_update"
            }
            32 => {
                let cap = [None, Some(0), Some(30), Some(200)][rng.below(4)];
                a.set_outgoing_capacity(cap);
                "set_outgoing_capacity"
            }
            33 => {
                if rng.below(8) == 0 {
                    let _ = a.shutdown();
                    "shutdown"
                } else {
                    let _ = a.do_handshake();
                    "do_handshake"
                }
            }
            34 => {
                if rng.below(8) == 0 {
                    a.recv_eof();
                    "recv_eof"
                } else {
                    let _ = a.take_tickets();
                    "take_tickets"
                }
            }
            35 => {
                if rng.below(6) == 0 {
                    // A record with a bad tag (or a bad header): fatal.
                    a.recv(&[
                        23, 3, 3, 0, 20, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17,
                        18, 19, 20,
                    ]);
                    "recv (corrupt)"
                } else {
                    let _ = a.renegotiate();
                    "renegotiate"
                }
            }
            _ => {
                // Both ways at once, then read what came.
                let spare = b.recv_buf(a.take_outgoing_buf());
                a.give_outgoing_buf(spare);
                let _ = b.read(&mut buf[..16384]);
                assert_sound(b, step, "read after transfer");
                "transfer and read"
            }
        };
        assert_sound(&s[0], step, what);
        assert_sound(&s[1], step, what);
    }
    fast_hits
}

#[test]
fn steady_cache_agrees_with_the_full_check() {
    let suites = [
        CipherSuite::TLS13_AES_128_GCM_SHA256,
        CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    ];
    let cfgs = [
        Config::default(),
        Config {
            release_buffers: true,
            partial_write: true,
            ..Config::default()
        },
        Config {
            // The per-key limit within reach: KeyUpdates before it
            // (TLS 1.3), refusals at it.
            record_limit: Some(40),
            max_send_fragment: 600,
            ..Config::default()
        },
        Config {
            check_retry_content: true,
            accept_moving_buffer: true,
            ..Config::default()
        },
    ];
    let mut hits = 0;
    for suite in suites {
        for cfg in &cfgs {
            for seed in 1..=3u64 {
                hits += drive(suite, cfg, seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
            }
        }
    }
    // The cache was used (not only cleared) for a good share of the calls.
    assert!(hits > 500, "cache used {hits} times");
}
