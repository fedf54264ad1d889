//! Criterion benchmarks (HTML reports in `target/criterion/report`), one
//! process, side by side:
//!
//! * `seal-N` / `seal-in-place-N` / `open-N`: one record of N = 64 B,
//!   1 KiB, 16 KiB per suite, tlsrec and the raw AEAD of each provider
//!   compiled in (the raw seal once, in the `seal-N` group);
//! * `bulk-N`: writes of N bytes through a session, then reads on the peer
//!   session, against the raw AEAD (seal + open), rustls 0.23 (ring, and
//!   aws-lc-rs with `--features bench-peers`, the one feature that turns on
//!   rustls's second provider) and OpenSSL 3 (the system libssl) as
//!   in-memory client/server pairs; with it `bulk-zc-N` (tlsrec's zero-copy
//!   calls) and `bulk-tcp-N` (tlsrec, rustls and OpenSSL over a loopback
//!   TCP connection, the reader in a second thread);
//! * `deframe-S`: a 1 MiB stream of 16 KiB records fed to a `RecordReader`
//!   whole, in 1448-byte segments and in 1-byte segments (and
//!   `deframe-plain-S`: deframing alone).
//!
//! `cargo bench` measures the RustCrypto provider; `cargo bench --features
//! fast` adds ring (and `--features aws-lc` aws-lc-rs). The workloads are
//! `tlsrec_cli::bench`'s, the same as `tlsrec bench` measures.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tlsrec_cli::bench::{self, Subject};

fn run(c: &mut Criterion, subjects: Vec<Subject>) {
    let mut groups: Vec<(String, Vec<Subject>)> = Vec::new();
    for s in subjects {
        match groups.iter_mut().find(|(case, _)| *case == s.case) {
            Some((_, v)) => v.push(s),
            None => groups.push((s.case.clone(), vec![s])),
        }
    }
    for (case, subjects) in groups {
        let mut g = c.benchmark_group(case);
        for mut s in subjects {
            g.throughput(Throughput::Bytes(s.workload.bytes()));
            let id = format!("{}/{}/{}", s.suite.name(), s.imp, s.provider);
            g.bench_function(id, |b| b.iter(|| s.workload.run()));
        }
        g.finish();
    }
}

fn seal_open(c: &mut Criterion) {
    run(c, bench::seal_open(bench::SUITES, &[64, 1024, 16384]));
}

fn bulk(c: &mut Criterion) {
    let writes = [16384, 64];
    let mut v = bench::bulk(bench::SUITES, &writes);
    v.extend(bench::peers::bulk(bench::SUITES, &writes));
    // Side by side within each case and suite.
    v.sort_by_key(|s| (s.case.clone(), s.suite.name()));
    run(c, v);
}

fn deframe(c: &mut Criterion) {
    run(c, bench::deframe(&bench::SUITES[..1], bench::SEGMENTS));
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    targets = seal_open, bulk, deframe
}
criterion_main!(benches);
