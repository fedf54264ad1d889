//! Many connections at once ([`many_sessions`]): memory per idle and per
//! busy session over thousands of sessions alive together, for tlsrec and
//! (with `bench-peers`) rustls 0.23 and OpenSSL 3; and bulk throughput of
//! two threads on independent connections against one.
//!
//! Memory is the growth of the process's resident set (`VmRSS` in
//! `/proc/self/status`) while the sessions are made, divided by their
//! number. Not a counting global allocator: OpenSSL allocates with the C
//! library's `malloc`, which a Rust global allocator does not see, so only
//! the RSS counts all three the same way (and this crate forbids unsafe
//! code, which a `GlobalAlloc` needs). The RSS includes what the allocator
//! keeps around the blocks (headers, fragmentation), as a server's memory
//! does. Every set of sessions stays alive until the end, so the RSS only
//! grows and no set reuses memory another one freed; the garbage a set's
//! own setup frees (handshake state of rustls and OpenSSL) is reused by
//! the sessions made after it, which can only lower the peers' figures.

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use super::*;

/// Memory of one implementation's sessions.
#[derive(Debug, Clone, PartialEq)]
pub struct MemRow {
    /// `tlsrec`, `rustls` or `openssl`.
    pub imp: &'static str,
    /// The provider its sessions use.
    pub provider: &'static str,
    /// Bytes per idle session: after a 16 KiB record each way, read, with
    /// the buffers released (tlsrec `Config::release_buffers`, OpenSSL
    /// `SSL_MODE_RELEASE_BUFFERS`, rustls as it is: it has no such option).
    pub idle: f64,
    /// Bytes per busy session: the same exchange with the buffers held
    /// (the defaults).
    pub busy: f64,
}

/// What [`many_sessions`] measured.
#[derive(Debug, Clone, PartialEq)]
pub struct ManyReport {
    /// Sessions per set (each implementation has an idle and a busy set);
    /// a session is one end of a connection, so a set is `sessions / 2`
    /// connections, client and server.
    pub sessions: usize,
    /// The suite of every session.
    pub suite: &'static str,
    /// One row per implementation.
    pub memory: Vec<MemRow>,
    /// tlsrec `bulk-16384` GB/s on one thread (one connection, both ends in
    /// the thread), the best of three 1-second runs.
    pub one_thread: f64,
    /// The same with two threads at once, each on its own connection: both
    /// threads' bytes over the common time, the best of three.
    pub two_threads: f64,
}

impl ManyReport {
    /// `two_threads / one_thread` (the issue's target: at least 1.8).
    #[must_use]
    pub fn scaling(&self) -> f64 {
        self.two_threads / self.one_thread
    }

    /// A small text table.
    #[must_use]
    pub fn to_text(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "memory per session, {} sessions per set ({} connections), {}; bytes of RSS growth (VmRSS) per session",
            self.sessions,
            self.sessions / 2,
            self.suite
        );
        let _ = writeln!(
            s,
            "{:<8} {:<10} {:>12} {:>12}",
            "impl", "provider", "idle", "busy"
        );
        for r in &self.memory {
            let _ = writeln!(
                s,
                "{:<8} {:<10} {:>12.0} {:>12.0}",
                r.imp, r.provider, r.idle, r.busy
            );
        }
        let _ = writeln!(
            s,
            "tlsrec bulk-16384 over independent connections: 1 thread {:.3} GB/s, 2 threads {:.3} GB/s, {:.2}x",
            self.one_thread,
            self.two_threads,
            self.scaling()
        );
        s
    }

    /// JSON lines: one object per memory row, one for the threads.
    #[must_use]
    pub fn to_json(&self) -> String {
        let mut s = String::new();
        for r in &self.memory {
            s.push_str(&format!(
                r#"{{"case":"sessions-{}","suite":"{}","impl":"{}","provider":"{}","idle_bytes":{:.0},"busy_bytes":{:.0}}}"#,
                self.sessions, self.suite, r.imp, r.provider, r.idle, r.busy
            ));
            s.push('\n');
        }
        s.push_str(&format!(
            r#"{{"case":"threads-bulk-16384","suite":"{}","impl":"tlsrec","provider":"{}","one_thread_gbps":{:.4},"two_threads_gbps":{:.4},"scaling":{:.3}}}"#,
            self.suite,
            Provider::default().name(),
            self.one_thread,
            self.two_threads,
            self.scaling()
        ));
        s.push('\n');
        s
    }
}

/// The resident set size in bytes (`VmRSS` of `/proc/self/status`; 0
/// where there is none).
#[must_use]
pub fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// The suite of the measurements.
const SUITE: CipherSuite = CipherSuite::TLS13_AES_128_GCM_SHA256;

/// `n` tlsrec sessions (`n / 2` pairs), each pair having sent a 16 KiB
/// record each way and read it.
fn tlsrec_set(n: usize, release: bool, payload: &[u8]) -> Vec<Session> {
    let cfg = Config {
        release_buffers: release,
        ..Config::default()
    };
    let mut rbuf = vec![0u8; 16384];
    let mut v = Vec::with_capacity(n);
    for _ in 0..n / 2 {
        let SessionPair { mut a, mut b, .. } = SessionPair::new(SUITE, 0, 16384, cfg.clone());
        tlsrec_send(&mut a, &mut b, payload, &mut rbuf);
        tlsrec_send(&mut b, &mut a, payload, &mut rbuf);
        v.push(a);
        v.push(b);
    }
    v
}

/// `x` writes `payload`, `y` reads it.
fn tlsrec_send(x: &mut Session, y: &mut Session, payload: &[u8], rbuf: &mut [u8]) {
    assert_eq!(x.write(payload), Ok(payload.len()));
    let wire = x.take_outgoing(usize::MAX);
    y.recv(&wire);
    drop(wire);
    let mut got = 0;
    loop {
        match y.read(rbuf) {
            Ok(k) => got += k,
            Err(SslError::WantRead) => break,
            Err(e) => panic!("read: {e}"),
        }
    }
    assert_eq!(got, payload.len());
}

/// Makes a set with `make` and returns it with the RSS growth per session.
fn grow<T>(n: usize, make: impl FnOnce() -> T) -> (T, f64) {
    let before = rss_bytes();
    let set = make();
    let after = rss_bytes();
    (set, after.saturating_sub(before) as f64 / n as f64)
}

/// Measures memory per session over sets of `n` sessions (`n / 2`
/// connections; 10,000 in `tlsrec bench --sessions`) and the two-thread
/// scaling of `bulk-16384`. Takes some seconds per implementation (the
/// peers make `n` handshakes).
#[must_use]
pub fn many_sessions(n: usize) -> ManyReport {
    let n = n.max(2) & !1;
    let payload = data(16384);
    let mut keep: Vec<Box<dyn std::any::Any>> = Vec::new();
    let mut memory = Vec::new();
    let (idle_set, idle) = grow(n, || tlsrec_set(n, true, &payload));
    keep.push(Box::new(idle_set));
    let (busy_set, busy) = grow(n, || tlsrec_set(n, false, &payload));
    keep.push(Box::new(busy_set));
    memory.push(MemRow {
        imp: "tlsrec",
        provider: Provider::default().name(),
        idle,
        busy,
    });
    #[cfg(feature = "bench-peers")]
    {
        let (rows, sets) = peers_memory(n, &payload);
        memory.extend(rows);
        keep.extend(sets);
    }
    drop(keep);
    let (one_thread, two_threads) = scaling(Duration::from_secs(1));
    ManyReport {
        sessions: n,
        suite: SUITE.name(),
        memory,
        one_thread,
        two_threads,
    }
}

#[cfg(feature = "bench-peers")]
fn peers_memory(n: usize, payload: &[u8]) -> (Vec<MemRow>, Vec<Box<dyn std::any::Any>>) {
    use super::peers::{openssl_connect, openssl_ctx, rustls_configs, rustls_connect, rustls_pump};
    use std::io::Write;
    let mut rows = Vec::new();
    let mut sets: Vec<Box<dyn std::any::Any>> = Vec::new();

    // rustls (its default provider): no option to release buffers, so the
    // idle and busy sets are made the same way.
    let provider = super::peers::RUSTLS_PROVIDERS[0];
    let configs = rustls_configs(provider, SUITE);
    let rustls_set = || {
        let (mut wire, mut rbuf) = (Vec::new(), vec![0u8; 16384]);
        let mut v = Vec::with_capacity(n);
        for _ in 0..n / 2 {
            let (mut c, mut s) = rustls_connect(&configs);
            c.writer().write_all(payload).expect("write");
            assert_eq!(
                rustls_pump(&mut c, &mut s, &mut wire, &mut rbuf),
                payload.len()
            );
            s.writer().write_all(payload).expect("write");
            assert_eq!(
                rustls_pump(&mut s, &mut c, &mut wire, &mut rbuf),
                payload.len()
            );
            v.push(c);
            v.push(s);
        }
        v
    };
    let (set, idle) = grow(n, rustls_set);
    sets.push(Box::new(set));
    let (set, busy) = grow(n, rustls_set);
    sets.push(Box::new(set));
    rows.push(MemRow {
        imp: "rustls",
        provider,
        idle,
        busy,
    });

    // OpenSSL: one client and one server context per set, as a server has;
    // the idle set with SSL_MODE_RELEASE_BUFFERS.
    let openssl_set = |release: bool| {
        let ctx = |server: bool| {
            let mut b = openssl_ctx(SUITE, server);
            if release {
                b.set_mode(openssl::ssl::SslMode::RELEASE_BUFFERS);
            }
            b.build()
        };
        let (cctx, sctx) = (ctx(false), ctx(true));
        let mut rbuf = vec![0u8; 16384];
        let mut v = Vec::with_capacity(n);
        for _ in 0..n / 2 {
            let (mut c, mut s) = openssl_connect(&cctx, &sctx);
            assert_eq!(c.ssl_write(payload).expect("SSL_write"), payload.len());
            let mut got = 0;
            while got < payload.len() {
                got += s.ssl_read(&mut rbuf).expect("SSL_read");
            }
            assert_eq!(s.ssl_write(payload).expect("SSL_write"), payload.len());
            let mut got = 0;
            while got < payload.len() {
                got += c.ssl_read(&mut rbuf).expect("SSL_read");
            }
            c.get_ref().shrink();
            v.push(c);
            v.push(s);
        }
        v
    };
    let (set, idle) = grow(n, || openssl_set(true));
    sets.push(Box::new(set));
    let (set, busy) = grow(n, || openssl_set(false));
    sets.push(Box::new(set));
    rows.push(MemRow {
        imp: "openssl",
        provider: "libcrypto",
        idle,
        busy,
    });
    (rows, sets)
}

/// tlsrec `bulk-16384` (TLS 1.3 AES-128-GCM, the default provider) on one
/// thread and on two threads with a connection each, for `d` per try,
/// best of three tries: (one, two) in GB/s.
#[must_use]
pub fn scaling(d: Duration) -> (f64, f64) {
    let tries = threads_tries(d, 3);
    let best = |threads: usize| {
        tries
            .iter()
            .filter(|t| t.threads == threads)
            .map(|t| t.gbps)
            .fold(0f64, f64::max)
    };
    (best(1), best(2))
}

/// CPU seconds (user + system) the calling thread has used so far, from
/// `/proc/thread-self/stat` (clock ticks of 1/100 s; `None` where there is
/// none).
#[must_use]
pub fn thread_cpu_secs() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // The fields after the command name (which is in parentheses and may
    // hold spaces): state is field 3, utime 14 and stime 15.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split(' ').collect();
    let ticks = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

/// One try of `bulk-16384` on `threads` threads, each on its own
/// connection (`SessionPair`, TLS 1.3 AES-128-GCM, the default provider),
/// for `d`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ThreadsTry {
    /// Threads, each with its own connection.
    pub threads: usize,
    /// All threads' bytes over the longest thread's wall time, GB/s.
    pub gbps: f64,
    /// All threads' bytes over the CPU time they used, GB per CPU second
    /// (`None` without `/proc/thread-self/stat`). Equal per-CPU-second
    /// figures for one and two threads mean the connections do not slow
    /// each other down (no shared lock, allocator or cache line); the wall
    /// figure then scales with the cores the machine gives the process.
    pub gb_per_cpu_sec: Option<f64>,
    /// CPU seconds used over wall seconds, summed over the threads (at most
    /// `threads`; less when other processes take the cores).
    pub cpu_share: Option<f64>,
}

/// `bulk-16384` on one thread and on two at once, alternated, `rounds`
/// tries of `d` each: the one- and two-thread tries in the order run.
#[must_use]
pub fn threads_tries(d: Duration, rounds: usize) -> Vec<ThreadsTry> {
    let run = |threads: usize| -> ThreadsTry {
        let barrier = Arc::new(Barrier::new(threads));
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let barrier = barrier.clone();
                std::thread::spawn(move || {
                    let mut p =
                        SessionPair::new(SUITE, bulk_total(16384), 16384, Config::default());
                    p.run();
                    barrier.wait();
                    let cpu0 = thread_cpu_secs();
                    let start = Instant::now();
                    let mut bytes = 0u64;
                    while start.elapsed() < d {
                        p.run();
                        bytes += p.bytes();
                    }
                    let wall = start.elapsed();
                    let cpu = match (cpu0, thread_cpu_secs()) {
                        (Some(a), Some(b)) => Some(b - a),
                        _ => None,
                    };
                    (bytes, wall, cpu)
                })
            })
            .collect();
        let res: Vec<(u64, Duration, Option<f64>)> = handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect();
        let wall = res.iter().map(|r| r.1).max().unwrap_or(d).as_secs_f64();
        let bytes = res.iter().map(|r| r.0).sum::<u64>() as f64;
        let cpu: Option<f64> = res.iter().map(|r| r.2).sum();
        ThreadsTry {
            threads,
            gbps: bytes / wall / 1e9,
            gb_per_cpu_sec: cpu.filter(|c| *c > 0.0).map(|c| bytes / c / 1e9),
            cpu_share: cpu.map(|c| c / wall),
        }
    };
    let mut v = Vec::new();
    for _ in 0..rounds.max(1) {
        v.push(run(1));
        v.push(run(2));
    }
    v
}

/// The tries of [`threads_tries`] as text: each try, then the best of
/// each and their ratios (wall and per CPU second).
#[must_use]
pub fn threads_text(tries: &[ThreadsTry]) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "tlsrec bulk-16384, {}, default provider {}, independent connections (one per thread)",
        SUITE.name(),
        Provider::default().name()
    );
    let _ = writeln!(
        s,
        "{:>7} {:>8} {:>14} {:>9}",
        "threads", "GB/s", "GB/CPU-second", "CPU used"
    );
    let opt = |x: Option<f64>, p: usize| x.map_or("-".to_string(), |v| format!("{v:.p$}"));
    for t in tries {
        let _ = writeln!(
            s,
            "{:>7} {:>8.3} {:>14} {:>9}",
            t.threads,
            t.gbps,
            opt(t.gb_per_cpu_sec, 3),
            opt(t.cpu_share, 2)
        );
    }
    let best = |n: usize, f: &dyn Fn(&ThreadsTry) -> Option<f64>| {
        tries
            .iter()
            .filter(|t| t.threads == n)
            .filter_map(f)
            .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))))
    };
    let (w1, w2) = (best(1, &|t| Some(t.gbps)), best(2, &|t| Some(t.gbps)));
    let (c1, c2) = (
        best(1, &|t| t.gb_per_cpu_sec),
        best(2, &|t| t.gb_per_cpu_sec),
    );
    if let (Some(w1), Some(w2)) = (w1, w2) {
        let _ = writeln!(
            s,
            "best: 1 thread {w1:.3} GB/s, 2 threads {w2:.3} GB/s, {:.2}x (target 1.8x)",
            w2 / w1
        );
    }
    if let (Some(c1), Some(c2)) = (c1, c2) {
        let _ = writeln!(
            s,
            "per CPU second: 1 thread {c1:.3}, 2 threads {c2:.3} GB, {:.2}x (1.00x: the connections do not slow each other)",
            c2 / c1
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rss_is_read() {
        assert!(rss_bytes() > 0);
    }

    #[test]
    fn threads_are_measured() {
        let t = threads_tries(Duration::from_millis(30), 1);
        assert_eq!(t.iter().map(|t| t.threads).collect::<Vec<_>>(), [1, 2]);
        assert!(t.iter().all(|t| t.gbps > 0.0));
        assert!(thread_cpu_secs().is_some());
        assert!(threads_text(&t).contains("2 threads"));
    }

    #[test]
    fn a_small_report() {
        let r = many_sessions(40);
        assert_eq!(r.sessions, 40);
        assert!(r.memory.iter().any(|m| m.imp == "tlsrec"));
        assert!(r.one_thread > 0.0 && r.two_threads > 0.0);
        assert!(r.to_text().contains("2 threads"));
        assert_eq!(r.to_json().lines().count(), r.memory.len() + 1);
    }
}
