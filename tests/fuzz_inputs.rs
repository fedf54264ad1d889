//! The fuzz targets' bodies run on generated inputs as ordinary tests, so
//! their invariants hold in every `cargo test` run (the fuzzers run longer),
//! and on every committed seed and regression input under `fuzz/`.

mod common;

use common::heap::Counting;
use common::Rng;
use tlsrec_harness::{decode_input, deframe_open, mode, op, seal_mutate_open, session_ops};

/// Counts live heap bytes per thread, so `session_ops` can check its memory
/// bound here as it does under the fuzzer.
#[global_allocator]
static A: Counting = Counting;

fn live() -> usize {
    // Offset so that frees of memory allocated before the run stay >= 0.
    (common::heap::live() + (1 << 40)) as usize
}

#[test]
fn deframe_open_on_random_and_structured_inputs() {
    let mut rng = Rng::new(99);
    let mut opened = 0;
    for i in 0..3000 {
        let len = rng.below(if i % 10 == 0 { 40_000 } else { 600 });
        let mut data = rng.bytes(len);
        if i % 2 == 0 {
            // Structured: plaintext mode, a run of plausible records, then
            // whatever random tail (often a bad or partial header).
            data = vec![tlsrec::CipherSuite::ALL.len() as u8, rng.below(256) as u8];
            for _ in 0..rng.below(20) {
                let n = rng.below(300);
                data.extend_from_slice(&[
                    [20, 21, 22, 23][rng.below(4)],
                    3,
                    3,
                    (n >> 8) as u8,
                    n as u8,
                ]);
                data.extend(rng.bytes(n));
            }
            let tail = rng.below(12);
            data.extend(rng.bytes(tail));
        }
        opened += deframe_open(&data);
    }
    // Random bytes rarely authenticate, but plaintext-mode inputs do frame.
    assert!(opened > 100, "only {opened} records reached the caller");
}

#[test]
fn seal_mutate_open_on_random_inputs() {
    let mut rng = Rng::new(7);
    let (mut opened, mut clean) = (0, 0);
    for _ in 0..400 {
        let len = 4 + rng.below(60);
        let data = rng.bytes(len);
        let n = seal_mutate_open(&data);
        opened += n;
        if data[1] % 4 == 0 {
            clean += 1;
        }
    }
    assert!(
        clean > 50 && opened > 1000,
        "clean {clean}, opened {opened}"
    );
}

fn u16(n: usize) -> [u8; 2] {
    [(n >> 8) as u8, n as u8]
}

/// A random op program that mostly makes sense: peer records of every
/// type, KeyUpdates, alerts, floods, reads of every size, writes over a
/// bounded transport, EOF, shutdown; with a little raw noise.
fn program(rng: &mut Rng, m: u8) -> Vec<u8> {
    let mut p = vec![
        m,
        rng.below(256) as u8,
        rng.below(256) as u8,
        rng.below(256) as u8,
    ];
    if m % 3 == mode::PASSIVE {
        let kl = b"CLIENT_RANDOM 00 11\n";
        p.extend_from_slice(&u16(kl.len()));
        p.extend_from_slice(kl);
    }
    for _ in 0..rng.below(60) {
        // Half the ops are the benign ones (data and reads), so programs
        // get far before something fatal ends them.
        let code = if rng.below(2) == 0 {
            [
                op::PEER_RECORD,
                op::READ,
                op::PEEK,
                op::PENDING,
                op::WRITE_A,
                op::TAKE,
            ][rng.below(6)]
        } else {
            rng.below(op::COUNT as usize) as u8
        };
        p.push(code);
        match code {
            op::RECV | op::SENT => {
                let n = rng.below(12);
                p.extend_from_slice(&u16(n));
                p.extend(rng.bytes(n));
            }
            op::READ | op::PEEK | op::WRITE_A | op::WRITE_B | op::TAKE => {
                let n = [0, 1, 5, 100, 16384, 20000][rng.below(6)];
                p.extend_from_slice(&u16(n));
            }
            op::CAPACITY => {
                let c = [0, 1, 100, 600, 0xffff][rng.below(5)];
                p.extend_from_slice(&u16(c));
            }
            op::PEER_RECORD => {
                p.push([3, 3, 3, 3, 3, 0, 1, 2, 4][rng.below(9)]);
                let n = [0, 1, 2, 4, 5, 100, 16384, 16385][rng.below(8)];
                p.extend_from_slice(&u16(n));
                // Handshake-looking payloads now and then (bit 7: the
                // payload follows).
                if n <= 5 && rng.below(2) == 0 {
                    let l = p.len();
                    p[l - 3] |= 0x80;
                    let body = [[4, 24, 0, 13][rng.below(4)], 0, 0, 1, rng.below(3) as u8];
                    p.extend_from_slice(&body[..n.min(5)]);
                }
            }
            op::PEER_KEY_UPDATE => p.push(rng.below(3) as u8),
            op::PEER_ALERT => {
                p.extend_from_slice(&[rng.below(3) as u8, [0, 10, 90, 100, 255][rng.below(5)]])
            }
            op::PEER_EMPTY => p.push(rng.below(40) as u8),
            _ => {}
        }
    }
    p
}

#[test]
fn session_ops_on_generated_programs() {
    let mut rng = Rng::new(1234);
    let (mut read, mut writes, mut fatal, mut updates) = (0, 0, 0, 0);
    for i in 0..1500 {
        // 0..=5: the three modes, then the established ones as a server.
        let m = (i % 6) as u8;
        let data = if i % 10 == 9 {
            // Raw noise after a valid header.
            let mut d = vec![m, 0, 0, 0];
            let n = rng.below(400);
            d.extend(rng.bytes(n));
            d
        } else {
            program(&mut rng, m)
        };
        let live_fn = live;
        let st = session_ops(&data, Some(&live_fn));
        read += st.read_bytes;
        writes += st.writes;
        fatal += usize::from(st.fatal);
        updates += st.key_updates;
    }
    // The programs reach data, writes, fatal errors and key updates.
    assert!(
        read > 10_000 && writes > 200 && fatal > 100 && updates > 50,
        "read {read}, writes {writes}, fatal {fatal}, key updates {updates}"
    );
}

#[test]
fn decode_input_on_generated_inputs() {
    let mut rng = Rng::new(5);
    for i in 0..600 {
        let mut d = vec![(i % 2) as u8];
        if i % 2 == 0 {
            let kl: &[u8] = [&b""[..], b"CLIENT_RANDOM zz", b"# c\n\nX 00 01"][i % 3];
            d.extend_from_slice(&u16(kl.len()));
            d.extend_from_slice(kl);
            let n = rng.below(200);
            d.extend_from_slice(&u16(n));
            for _ in 0..2 {
                // Plausible records, then noise.
                for _ in 0..rng.below(4) {
                    let len = rng.below(40);
                    d.extend_from_slice(&[[20, 21, 22, 23][rng.below(4)], 3, 3, 0, len as u8]);
                    d.extend(rng.bytes(len));
                }
                let tail = rng.below(8);
                d.extend(rng.bytes(tail));
            }
        } else {
            let json = [
                "{}",
                "{\"format\":\"tlsrec-transcript/1\",\"steps\":[]}",
                "{\"format\":\"tlsrec-transcript/1\",\"keylog\":[\"bad\"],\"steps\":[]}",
                "{\"format\":\"tlsrec-transcript/1\",\"steps\":[{\"recv\":\"16030300\"},{\"read\":3,\"err\":\"WANT_READ\"},{\"eof\":1}]}",
                "{\"format\":\"tlsrec-transcript/1\",\"steps\":[{\"read\":99999999999999,\"ok\":\"\"}]}",
                "[1,2",
            ][rng.below(6)];
            d.extend_from_slice(json.as_bytes());
        }
        decode_input(&d);
    }
}

/// Every committed seed (and regression input) under `fuzz/corpus` and
/// `fuzz/regressions` goes through its target's body.
#[test]
fn committed_fuzz_inputs() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut ran = 0;
    for dir in ["corpus", "regressions"] {
        for target in [
            "deframe_open",
            "seal_mutate_open",
            "session_ops",
            "decode_input",
        ] {
            let Ok(files) = std::fs::read_dir(root.join(dir).join(target)) else {
                continue;
            };
            for f in files {
                let data = std::fs::read(f.unwrap().path()).unwrap();
                match target {
                    "deframe_open" => {
                        deframe_open(&data);
                    }
                    "seal_mutate_open" => {
                        seal_mutate_open(&data);
                    }
                    "session_ops" => {
                        let live_fn = live;
                        session_ops(&data, Some(&live_fn));
                    }
                    _ => {
                        decode_input(&data);
                    }
                }
                ran += 1;
            }
        }
    }
    assert!(ran >= 40, "only {ran} committed inputs");
}

/// The fuzzer's first session_ops finding (a harness bound, not a session
/// bug): 54 writes of ~23 KB with takes in between grew the outgoing
/// `BytesMut` to 2.5x its largest content, over the 2x the bound allowed.
#[test]
fn session_ops_regression_outgoing_queue_growth() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/regressions/session_ops/heap-bound-outgoing-queue");
    let data = std::fs::read(path).unwrap();
    let live_fn = live;
    let st = session_ops(&data, Some(&live_fn));
    assert_eq!(st.writes, 54);
    assert!(!st.fatal);
}
