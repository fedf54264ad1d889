//! The fuzz targets' bodies run on generated inputs as ordinary tests, so
//! their invariants hold in every `cargo test` run (the fuzzers run longer).

mod common;

use common::Rng;
use tlsrec::fuzzing::{deframe_open, seal_mutate_open};

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
