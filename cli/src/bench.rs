//! Throughput workloads and a small measuring loop, shared by `tlsrec bench`
//! and the criterion benchmarks in `benches/`.
//!
//! A [`Workload`] moves a fixed number of plaintext bytes per
//! [`run`](Workload::run); [`measure`] turns runs into GB/s (10^9 bytes per
//! second). The subjects of one comparison ([`Subject`]) are:
//!
//! * `tlsrec`: the record layer (a [`Sealer`], an [`Opener`], a
//!   [`RecordReader`], or two [`Session`]s joined in memory);
//! * `raw`: the provider's AEAD called directly on the same bytes, with no
//!   record layer: the limit (for TLS 1.3 it seals and opens the plaintext
//!   plus the content type byte, the AEAD input every TLS 1.3 record has;
//!   GB/s counts the plaintext alone, as for tlsrec);
//! * `rustls` and `openssl` (module `peers`, feature `bench-peers`, and
//!   always in the criterion benchmarks): rustls 0.23 with the same suite and
//!   provider, and OpenSSL 3 through the `openssl` crate, each as an
//!   in-memory client/server pair.
//!
//! Cases (plaintext bytes per record or per write in the name):
//! `seal-N` / `open-N` (one record; `seal-N` copies the caller's plaintext
//! into the record, `seal-in-place-N` seals plaintext already in the output
//! buffer with [`Sealer::seal_in_place`]), `bulk-N` (writes of N bytes through a
//! session, then reads on the other side), `bulk-zc-N` (the same with the
//! zero-copy calls, module [`zc`]), `bulk-tcp-N` (the same over a loopback
//! TCP connection, the reader in a second thread, module [`tcp`]),
//! `deframe-S` (a 1 MiB stream of
//! 16 KiB records fed to a [`RecordReader`] in segments of S bytes, `whole`
//! for one segment; opened too) and `deframe-plain-S` (the same stream of
//! plaintext records, deframing alone).
//!
//! Beside the table: [`provider_note`] (which provider the library chose
//! and why), [`many_sessions`] (memory per session over thousands of
//! sessions, and two threads against one) and [`plot`] (an SVG of GB/s
//! against record size).

use std::time::{Duration, Instant};

use bytes::BytesMut;

use tlsrec::cipher::Provider;
use tlsrec::record::{ContentType, Header, OpaqueRecord, ProtocolVersion, HEADER_LEN};
use tlsrec::{
    CipherSuite, Config, Deframer, Established, Opener, RecordKeys, RecordReader, Sealer, Session,
    SslError, Version,
};

pub mod many;
#[cfg(feature = "bench-peers")]
pub mod peers;
pub mod plot;
mod raw;
pub mod tcp;
pub mod zc;

pub use many::{many_sessions, threads_text, threads_tries, ManyReport, MemRow, ThreadsTry};
pub use plot::{plot, PLOT_WRITES};
use raw::{raw, RawOp};

/// Work that moves [`bytes`](Self::bytes) plaintext bytes per run.
pub trait Workload {
    /// Plaintext bytes one [`run`](Self::run) moves.
    fn bytes(&self) -> u64;
    /// One run; panics if the bytes do not come out as they went in.
    fn run(&mut self);
}

/// One line of a comparison: what is measured and how.
pub struct Subject {
    /// `seal-16384`, `bulk-64`, `deframe-1448`, ...
    pub case: String,
    /// The cipher suite.
    pub suite: CipherSuite,
    /// `tlsrec`, `raw`, `rustls` or `openssl`.
    pub imp: &'static str,
    /// `rustcrypto`, `aws-lc-rs`, `ring`, `libcrypto`.
    pub provider: &'static str,
    /// The work.
    pub workload: Box<dyn Workload>,
}

impl core::fmt::Debug for Subject {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "{} {} {} {}",
            self.case,
            self.suite.name(),
            self.imp,
            self.provider
        )
    }
}

/// A measured figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// As [`Subject::case`].
    pub case: String,
    /// The suite's IANA name.
    pub suite: &'static str,
    /// As [`Subject::imp`].
    pub imp: &'static str,
    /// As [`Subject::provider`].
    pub provider: &'static str,
    /// 10^9 plaintext bytes per second.
    pub gbps: f64,
}

impl Figure {
    /// One JSON object:
    /// `{"case":"...","suite":"...","impl":"...","provider":"...","gbps":F}`.
    #[must_use]
    pub fn to_json(&self) -> String {
        format!(
            r#"{{"case":"{}","suite":"{}","impl":"{}","provider":"{}","gbps":{:.4}}}"#,
            self.case, self.suite, self.imp, self.provider, self.gbps
        )
    }
}

/// Runs `w` for about `budget` (after one warm-up run) in batches of about
/// a tenth of it, and returns the best batch's GB/s (the least disturbed by
/// other work on the machine).
pub fn measure(w: &mut dyn Workload, budget: Duration) -> f64 {
    let t = Instant::now();
    w.run();
    let one = t.elapsed().max(Duration::from_nanos(50));
    let per_batch = ((budget.as_secs_f64() / 10.0) / one.as_secs_f64()).clamp(1.0, 1e7) as u64;
    let end = Instant::now() + budget;
    let mut best = 0f64;
    loop {
        let t = Instant::now();
        for _ in 0..per_batch {
            w.run();
        }
        let secs = t.elapsed().as_secs_f64();
        best = best.max((w.bytes() * per_batch) as f64 / secs / 1e9);
        if Instant::now() >= end {
            return best;
        }
    }
}

/// Deterministic filler bytes.
#[must_use]
pub fn data(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 + 7) as u8).collect()
}

/// A copy of `src` placed so that copying it to `dst` runs at full speed:
/// `dst - src` is 2048 modulo 4096. (glibc's `memcpy` uses `rep movsb`
/// for large copies, which on this machine's AMD EPYC runs at about
/// 1.5 GB/s instead of 30 to 50 when the destination lies a few bytes to
/// 63 bytes after the source modulo 4 KiB; see BENCHMARKS.md. Placing the
/// benchmark's own buffers keeps that out of the record-layer figures.)
struct Placed {
    mem: Vec<u8>,
    off: usize,
    len: usize,
}

impl Placed {
    fn new(src: &[u8], dst: usize) -> Placed {
        let mut mem = vec![0u8; src.len() + 8192];
        let base = mem.as_ptr() as usize;
        let want = dst.wrapping_sub(2048) % 4096;
        let off = (want + 4096 - base % 4096) % 4096;
        mem[off..off + src.len()].copy_from_slice(src);
        Placed {
            mem,
            off,
            len: src.len(),
        }
    }

    fn get(&self) -> &[u8] {
        &self.mem[self.off..self.off + self.len]
    }
}

fn keys(suite: CipherSuite, seed: u8) -> RecordKeys {
    let key = vec![seed; suite.aead().key_len()];
    let iv = vec![seed ^ 0x5a; suite.aead().fixed_iv_len(suite.version())];
    RecordKeys::new(suite, &key, &iv).expect("lengths from the suite")
}

// ---------------------------------------------------------------------------
// tlsrec
// ---------------------------------------------------------------------------

struct SealWork {
    sealer: Sealer,
    payload: Placed,
    out: BytesMut,
}

impl Workload for SealWork {
    fn bytes(&self) -> u64 {
        self.payload.len as u64
    }

    fn run(&mut self) {
        self.out.clear();
        self.sealer
            .seal(
                ContentType::ApplicationData,
                self.payload.get(),
                &mut self.out,
            )
            .expect("seal");
        std::hint::black_box(&self.out);
    }
}

/// The plaintext is already in the output buffer, after the room for the
/// header: sealed where it lies (the ciphertext of one run is the next
/// run's plaintext, as with the raw AEAD).
struct SealInPlaceWork {
    sealer: Sealer,
    out: BytesMut,
    /// Where the record starts in `out`.
    start: usize,
    len: usize,
}

impl Workload for SealInPlaceWork {
    fn bytes(&self) -> u64 {
        self.len as u64
    }

    fn run(&mut self) {
        self.out
            .truncate(self.start + self.sealer.prefix_len() + self.len);
        self.sealer
            .seal_in_place(ContentType::ApplicationData, &mut self.out, self.start)
            .expect("seal");
        std::hint::black_box(&self.out);
    }
}

struct OpenWork {
    opener: Opener,
    wire: Placed,
    buf: BytesMut,
    len: usize,
}

impl Workload for OpenWork {
    fn bytes(&self) -> u64 {
        self.len as u64
    }

    fn run(&mut self) {
        // The record arrives in the receive buffer (one copy, as the raw
        // open copies its ciphertext), then opens in place.
        self.buf.clear();
        self.buf.extend_from_slice(self.wire.get());
        let rec = OpaqueRecord::from_buf(self.buf.split()).expect("one record");
        self.opener.set_sequence(0).expect("keys are active");
        let plain = self.opener.open(rec).expect("open");
        assert_eq!(plain.payload.len(), self.len);
    }
}

fn sealer(p: Provider, suite: CipherSuite) -> Sealer {
    let mut s = Sealer::new();
    s.set_provider(p);
    s.set_keys(keys(suite, 1));
    s
}

fn opener(p: Provider, suite: CipherSuite) -> Opener {
    let mut o = Opener::new();
    o.set_provider(p);
    o.set_keys(keys(suite, 1));
    o
}

fn tlsrec_seal(p: Provider, suite: CipherSuite, len: usize) -> Box<dyn Workload> {
    let out = BytesMut::with_capacity(len + 64);
    let explicit = suite.aead().explicit_nonce_len(suite.version());
    let dst = out.as_ptr() as usize + HEADER_LEN + explicit;
    Box::new(SealWork {
        sealer: sealer(p, suite),
        payload: Placed::new(&data(len), dst),
        out,
    })
}

fn tlsrec_seal_in_place(p: Provider, suite: CipherSuite, len: usize) -> Box<dyn Workload> {
    let sealer = sealer(p, suite);
    let mut out = BytesMut::with_capacity(len + 128);
    // The plaintext on a 64-byte boundary, as the raw AEAD's buffer is
    // (the allocator's alignment): the caller chooses where records start.
    let prefix = sealer.prefix_len();
    let start = (64 - (out.as_ptr() as usize + prefix) % 64) % 64;
    out.resize(start + prefix, 0);
    out.extend_from_slice(&data(len));
    Box::new(SealInPlaceWork {
        sealer,
        out,
        start,
        len,
    })
}

fn tlsrec_open(p: Provider, suite: CipherSuite, len: usize) -> Box<dyn Workload> {
    let mut wire = BytesMut::new();
    sealer(p, suite)
        .seal(ContentType::ApplicationData, &data(len), &mut wire)
        .expect("seal");
    let buf = BytesMut::with_capacity(wire.len());
    Box::new(OpenWork {
        opener: opener(p, suite),
        wire: Placed::new(&wire, buf.as_ptr() as usize),
        buf,
        len,
    })
}

/// Two sessions joined in memory: `a` writes, `b` reads (each is the other's
/// peer: `a`'s write keys are `b`'s read keys).
pub struct SessionPair {
    /// The writer.
    pub a: Session,
    /// The reader.
    pub b: Session,
    data: Vec<u8>,
    write: usize,
    rbuf: Vec<u8>,
}

impl SessionPair {
    /// A pair for `suite` with the process's default provider, moving
    /// `total` bytes per run in writes of `write` bytes.
    #[must_use]
    pub fn new(suite: CipherSuite, total: usize, write: usize, cfg: Config) -> SessionPair {
        let (k1, k2) = (keys(suite, 1), keys(suite, 2));
        let est = |r: &RecordKeys, w: &RecordKeys| Established {
            suite,
            read: r.clone(),
            read_seq: 0,
            write: w.clone(),
            write_seq: 0,
            secrets: None,
        };
        SessionPair {
            a: Session::client_from_established(est(&k1, &k2), cfg.clone()).expect("keys"),
            b: Session::client_from_established(est(&k2, &k1), cfg).expect("keys"),
            data: data(total),
            write,
            rbuf: vec![0; 16384],
        }
    }

    /// Writes everything on `a` with `write(&[u8])`, moves the wire bytes
    /// to `b`, reads everything on `b` with `read(&mut [u8])` into a 16 KiB
    /// buffer; returns the bytes read. The wire bytes change hands as a
    /// buffer (`take_outgoing_buf` -> `recv_buf`, no copy), as a transport
    /// that reads into buffers it owns can hand them over; the buffer `b`
    /// received into the run before goes back to `a`
    /// (`give_outgoing_buf`). The plaintext calls are the SSL-shaped ones:
    /// one copy in on `write`, at most one out on `read`.
    pub fn transfer(&mut self) -> usize {
        for chunk in self.data.chunks(self.write) {
            assert_eq!(self.a.write(chunk), Ok(chunk.len()));
        }
        let spare = self.b.recv_buf(self.a.take_outgoing_buf());
        self.a.give_outgoing_buf(spare);
        let mut got = 0;
        loop {
            match self.b.read(&mut self.rbuf) {
                Ok(n) => got += n,
                Err(SslError::WantRead) => return got,
                Err(e) => panic!("read: {e}"),
            }
        }
    }
}

impl Workload for SessionPair {
    fn bytes(&self) -> u64 {
        self.data.len() as u64
    }

    fn run(&mut self) {
        let n = self.transfer();
        assert_eq!(n, self.data.len());
    }
}

/// Bytes moved per run of a `bulk-N` case: 256 KiB, or 64 KiB for writes
/// under 1 KiB.
#[must_use]
pub fn bulk_total(write: usize) -> usize {
    if write < 1024 {
        64 * 1024
    } else {
        256 * 1024
    }
}

fn tlsrec_bulk(p: Provider, suite: CipherSuite, write: usize) -> Box<dyn Workload> {
    Box::new(SessionPair::new(
        suite,
        bulk_total(write),
        write,
        Config {
            provider: Some(p),
            ..Config::default()
        },
    ))
}

/// Records in the deframing stream (16 KiB each: 1 MiB of plaintext).
pub const STREAM_RECORDS: usize = 64;
const STREAM_RECORD: usize = 16384;

struct DeframeWork {
    reader: RecordReader,
    stream: Vec<u8>,
    segment: usize,
}

impl Workload for DeframeWork {
    fn bytes(&self) -> u64 {
        (STREAM_RECORDS * STREAM_RECORD) as u64
    }

    fn run(&mut self) {
        self.reader
            .opener_mut()
            .set_sequence(0)
            .expect("keys are active");
        let mut got = 0;
        for seg in self.stream.chunks(self.segment) {
            let mut off = 0;
            while off < seg.len() {
                off += self.reader.push(&seg[off..]);
                while let Some(rec) = self.reader.next_record().expect("record") {
                    got += rec.payload.len();
                }
            }
        }
        assert_eq!(got, STREAM_RECORDS * STREAM_RECORD);
    }
}

struct DeframePlainWork {
    deframer: Deframer,
    stream: Vec<u8>,
    segment: usize,
}

impl Workload for DeframePlainWork {
    fn bytes(&self) -> u64 {
        (STREAM_RECORDS * STREAM_RECORD) as u64
    }

    fn run(&mut self) {
        let mut got = 0;
        for seg in self.stream.chunks(self.segment) {
            let mut off = 0;
            while off < seg.len() {
                off += self.deframer.push(&seg[off..]);
                while let Some(rec) = self.deframer.pop().expect("record") {
                    got += rec.wire_bytes().len() - HEADER_LEN;
                }
            }
        }
        assert_eq!(got, STREAM_RECORDS * STREAM_RECORD);
    }
}

fn tlsrec_deframe(p: Provider, suite: CipherSuite, segment: usize) -> Box<dyn Workload> {
    let mut s = sealer(p, suite);
    let mut stream = BytesMut::new();
    let payload = data(STREAM_RECORD);
    for _ in 0..STREAM_RECORDS {
        s.seal(ContentType::ApplicationData, &payload, &mut stream)
            .expect("seal");
    }
    let mut reader = RecordReader::new();
    reader.set_version(suite.version());
    reader.opener_mut().set_provider(p);
    reader.opener_mut().set_keys(keys(suite, 1));
    if suite.version() == Version::Tls13 {
        let mut pol = reader.policy();
        pol.tls13_protected = true;
        pol.allow_ccs = false;
        reader.deframer_mut().set_policy(pol);
    }
    Box::new(DeframeWork {
        reader,
        stream: stream.to_vec(),
        segment,
    })
}

fn tlsrec_deframe_plain(segment: usize) -> Box<dyn Workload> {
    let mut stream = Vec::new();
    let payload = data(STREAM_RECORD);
    for _ in 0..STREAM_RECORDS {
        let h = Header {
            typ: ContentType::ApplicationData,
            version: ProtocolVersion::TLS12,
            len: STREAM_RECORD as u16,
        };
        stream.extend_from_slice(&h.encode());
        stream.extend_from_slice(&payload);
    }
    Box::new(DeframePlainWork {
        deframer: Deframer::new(),
        stream,
        segment,
    })
}

// ---------------------------------------------------------------------------
// Plans
// ---------------------------------------------------------------------------

/// The suites of the benchmarks: TLS 1.3's three, and TLS 1.2's
/// ECDHE-ECDSA with the same three AEADs (the peers use an ECDSA key).
pub const SUITES: &[CipherSuite] = &[
    CipherSuite::TLS13_AES_128_GCM_SHA256,
    CipherSuite::TLS13_AES_256_GCM_SHA384,
    CipherSuite::TLS13_CHACHA20_POLY1305_SHA256,
    CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
];

/// The headline suites: TLS 1.3's three AEADs (AES-128-GCM,
/// AES-256-GCM, ChaCha20-Poly1305) and TLS 1.2's AES-128-GCM.
pub const HEADLINE_SUITES: &[CipherSuite] = &[
    CipherSuite::TLS13_AES_128_GCM_SHA256,
    CipherSuite::TLS13_AES_256_GCM_SHA384,
    CipherSuite::TLS13_CHACHA20_POLY1305_SHA256,
    CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
];

/// Segment sizes of the deframing cases (`usize::MAX`: the whole stream).
pub const SEGMENTS: &[usize] = &[usize::MAX, 1448, 1];

/// The name of a segment size: `whole` or the number.
#[must_use]
pub fn segment_name(s: usize) -> String {
    if s == usize::MAX {
        "whole".into()
    } else {
        s.to_string()
    }
}

fn subject(
    case: String,
    suite: CipherSuite,
    imp: &'static str,
    provider: &'static str,
    workload: Box<dyn Workload>,
) -> Subject {
    Subject {
        case,
        suite,
        imp,
        provider,
        workload,
    }
}

/// `seal-N`, `seal-in-place-N` and `open-N`: tlsrec and raw, per provider
/// compiled in (`seal-in-place-N` has the raw figure of `seal-N`, the same
/// AEAD call: measured once).
#[must_use]
pub fn seal_open(suites: &[CipherSuite], sizes: &[usize]) -> Vec<Subject> {
    let mut v = Vec::new();
    for &suite in suites {
        for &n in sizes {
            for &p in Provider::ALL {
                let pn = p.name();
                v.push(subject(
                    format!("seal-{n}"),
                    suite,
                    "tlsrec",
                    pn,
                    tlsrec_seal(p, suite, n),
                ));
                v.push(subject(
                    format!("seal-{n}"),
                    suite,
                    "raw",
                    pn,
                    raw(p, suite, RawOp::Seal, n, 1),
                ));
                v.push(subject(
                    format!("seal-in-place-{n}"),
                    suite,
                    "tlsrec",
                    pn,
                    tlsrec_seal_in_place(p, suite, n),
                ));
                v.push(subject(
                    format!("open-{n}"),
                    suite,
                    "tlsrec",
                    pn,
                    tlsrec_open(p, suite, n),
                ));
                v.push(subject(
                    format!("open-{n}"),
                    suite,
                    "raw",
                    pn,
                    raw(p, suite, RawOp::Open, n, 1),
                ));
            }
        }
    }
    v
}

/// `bulk-N`: tlsrec sessions and the raw AEAD (seal then open of each
/// record), per provider compiled in; with them `bulk-zc-N` (the zero-copy
/// calls, [`zc`]) and `bulk-tcp-N` (over loopback TCP, [`tcp`]), whose raw
/// figure is `bulk-N`'s (the same records sealed and opened; the table
/// shows it on their lines).
#[must_use]
pub fn bulk(suites: &[CipherSuite], writes: &[usize]) -> Vec<Subject> {
    bulk_cases(suites, writes, true)
}

/// The subjects of `tlsrec bench --plot`: `bulk-N` and `bulk-zc-N` (tlsrec
/// and raw, every provider) at each of [`PLOT_WRITES`], and with
/// `bench-peers` rustls' and OpenSSL's `bulk-N`; in memory only (the plot
/// does not draw the TCP cases).
#[must_use]
pub fn plot_subjects(suites: &[CipherSuite]) -> Vec<Subject> {
    #[allow(unused_mut)]
    let mut v = bulk_cases(suites, PLOT_WRITES, false);
    #[cfg(feature = "bench-peers")]
    v.extend(peers::bulk_in_memory(suites, PLOT_WRITES));
    v
}

fn bulk_cases(suites: &[CipherSuite], writes: &[usize], tcp: bool) -> Vec<Subject> {
    let mut v = Vec::new();
    for &suite in suites {
        for &w in writes {
            let case = format!("bulk-{w}");
            let records = bulk_total(w).div_ceil(w.min(16384));
            for &p in Provider::ALL {
                let pn = p.name();
                v.push(subject(
                    case.clone(),
                    suite,
                    "tlsrec",
                    pn,
                    tlsrec_bulk(p, suite, w),
                ));
                v.push(subject(
                    case.clone(),
                    suite,
                    "raw",
                    pn,
                    raw(p, suite, RawOp::SealOpen, w.min(16384), records),
                ));
                v.push(subject(
                    case.clone(),
                    suite,
                    "copies",
                    pn,
                    raw(p, suite, RawOp::SealOpenCopied, w.min(16384), records),
                ));
                if w <= 16384 {
                    v.push(subject(
                        format!("bulk-zc-{w}"),
                        suite,
                        "copies",
                        pn,
                        raw(p, suite, RawOp::SealOpenZeroed, w, records),
                    ));
                    v.push(subject(
                        format!("bulk-zc-{w}"),
                        suite,
                        "tlsrec",
                        pn,
                        Box::new(zc::ZcPair::new(
                            suite,
                            bulk_total(w),
                            w,
                            Config {
                                provider: Some(p),
                                ..Config::default()
                            },
                        )),
                    ));
                }
                if tcp {
                    v.push(subject(
                        format!("bulk-tcp-{w}"),
                        suite,
                        "tlsrec",
                        pn,
                        tcp::tlsrec_tcp(p, suite, w),
                    ));
                }
            }
        }
    }
    v
}

/// `deframe-S` (tlsrec and raw open of the same records, per provider) and
/// `deframe-plain-S` (deframing alone).
#[must_use]
pub fn deframe(suites: &[CipherSuite], segments: &[usize]) -> Vec<Subject> {
    let mut v = Vec::new();
    for &suite in suites {
        for &s in segments {
            let case = format!("deframe-{}", segment_name(s));
            for &p in Provider::ALL {
                let pn = p.name();
                v.push(subject(
                    case.clone(),
                    suite,
                    "tlsrec",
                    pn,
                    tlsrec_deframe(p, suite, s),
                ));
                v.push(subject(
                    case.clone(),
                    suite,
                    "raw",
                    pn,
                    raw(p, suite, RawOp::Open, STREAM_RECORD, STREAM_RECORDS),
                ));
            }
            v.push(subject(
                format!("deframe-plain-{}", segment_name(s)),
                suite,
                "tlsrec",
                "none",
                tlsrec_deframe_plain(s),
            ));
        }
    }
    v
}

/// The subjects of `tlsrec bench`, as `cli/src/main.rs` builds them: for
/// [`HEADLINE_SUITES`] (`all`: [`SUITES`]) `seal-N` / `open-N` at 64 and
/// 16384 bytes (`all`: and 1024), `bulk-N`, `bulk-zc-N`, `bulk-tcp-N` at
/// the same sizes, `deframe-S` for the first suite, and with `bench-peers`
/// the peers' `bulk-N` and `bulk-tcp-N`. The default set took 110 s with
/// three providers at 3 rounds of 120 ms here.
#[must_use]
pub fn headline_subjects(all: bool) -> Vec<Subject> {
    let (suites, sizes): (&[CipherSuite], &[usize]) = if all {
        (SUITES, &[64, 1024, 16384])
    } else {
        (HEADLINE_SUITES, &[64, 16384])
    };
    let mut v = seal_open(suites, sizes);
    v.extend(bulk(suites, sizes));
    v.extend(deframe(&suites[..1], SEGMENTS));
    #[cfg(feature = "bench-peers")]
    v.extend(peers::bulk(suites, sizes));
    v
}

/// The ratio of `num` to `den`, or `None` if either is missing.
#[must_use]
pub fn ratio(num: Option<f64>, den: Option<f64>) -> Option<f64> {
    match (num, den) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    }
}

/// The case whose raw (and peer) figures a case is compared with:
/// `bulk-zc-N` and `bulk-tcp-N` have the raw figure of `bulk-N` (the same
/// records sealed and opened), `seal-in-place-N` that of `seal-N`;
/// `bulk-zc-N` also the peers' `bulk-N` (they have no zero-copy call in
/// the API measured). Any other case: itself.
#[must_use]
pub fn base_case(case: &str, for_peers: bool) -> String {
    if let Some(n) = case.strip_prefix("seal-in-place-") {
        return format!("seal-{n}");
    }
    if let Some(n) = case.strip_prefix("bulk-zc-") {
        return format!("bulk-{n}");
    }
    if let Some(n) = case.strip_prefix("bulk-tcp-") {
        if !for_peers {
            return format!("bulk-{n}");
        }
    }
    case.to_string()
}

/// The headline table: one line per tlsrec figure with the raw AEAD of the
/// same provider, the raw AEAD with the copies the calls measured cannot
/// avoid (`copies`: `bulk-N` the copy in on `write` and out on `read`,
/// `bulk-zc-N` the zeroing of the room; the same case only), and the peers
/// (rustls with the same provider where it has one, else with aws-lc-rs;
/// OpenSSL with libcrypto), and the ratios (compared cases: [`base_case`]).
#[must_use]
pub fn table(figs: &[Figure]) -> String {
    use std::fmt::Write;
    let find = |case: &str, suite: &str, imp: &str, prov: Option<&str>| {
        figs.iter()
            .find(|f| {
                f.case == case
                    && f.suite == suite
                    && f.imp == imp
                    && prov.is_none_or(|p| f.provider == p)
            })
            .map(|f| f.gbps)
    };
    let cell = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{v:.3}"));
    let rcell = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{v:.2}x"));
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<18} {:<46} {:<10} {:>8} {:>8} {:>7} {:>8} {:>7} {:>8} {:>8} {:>8} {:>8}",
        "case",
        "suite",
        "provider",
        "tlsrec",
        "raw",
        "/raw",
        "copies",
        "/copies",
        "rustls",
        "/rustls",
        "openssl",
        "/openssl"
    );
    for f in figs.iter().filter(|f| f.imp == "tlsrec") {
        let raw = find(&f.case, f.suite, "raw", Some(f.provider))
            .or_else(|| find(&base_case(&f.case, false), f.suite, "raw", Some(f.provider)));
        let copies = find(&f.case, f.suite, "copies", Some(f.provider));
        let peer_case = base_case(&f.case, true);
        let rustls = find(&peer_case, f.suite, "rustls", Some(f.provider))
            .or_else(|| find(&peer_case, f.suite, "rustls", Some("aws-lc-rs")));
        let ossl = find(&peer_case, f.suite, "openssl", None);
        let _ = writeln!(
            s,
            "{:<18} {:<46} {:<10} {:>8} {:>8} {:>7} {:>8} {:>7} {:>8} {:>8} {:>8} {:>8}",
            f.case,
            f.suite,
            f.provider,
            cell(Some(f.gbps)),
            cell(raw),
            rcell(ratio(Some(f.gbps), raw)),
            cell(copies),
            rcell(ratio(Some(f.gbps), copies)),
            cell(rustls),
            rcell(ratio(Some(f.gbps), rustls)),
            cell(ossl),
            rcell(ratio(Some(f.gbps), ossl)),
        );
    }
    s
}

/// Which AEAD provider the library chose as its default and why: each
/// compiled provider's measured time to seal a 16 KiB AES-128-GCM record
/// ([`Provider::calibration`], once per process), for `tlsrec bench` to
/// print first.
#[must_use]
pub fn provider_note() -> String {
    let c = Provider::calibration();
    if c.pinned {
        return format!(
            "default provider: {} (named by {}; nothing measured)",
            c.chosen.name(),
            tlsrec::cipher::PROVIDER_ENV
        );
    }
    if c.timings.is_empty() {
        return format!(
            "default provider: {} (the only one compiled in; nothing to choose)",
            c.chosen.name()
        );
    }
    let times: Vec<String> = c
        .timings
        .iter()
        .map(|(p, ns)| {
            format!(
                "{} {ns} ns ({:.2} GB/s)",
                p.name(),
                16384.0 / (*ns).max(1) as f64
            )
        })
        .collect();
    format!(
        "default provider: {} (fastest to seal a 16 KiB AES-128-GCM record on this CPU, best of 5 at first use: {})",
        c.chosen.name(),
        times.join(", ")
    )
}

/// Measures every subject in `rounds` interleaved rounds of `budget` each
/// (the best round counts), calling `progress(done, total, subject)` before
/// each measurement.
pub fn run_all(
    subjects: &mut [Subject],
    budget: Duration,
    rounds: usize,
    mut progress: impl FnMut(usize, usize, &Subject),
) -> Vec<Figure> {
    let total = subjects.len() * rounds;
    let mut best = vec![0f64; subjects.len()];
    for r in 0..rounds {
        for (i, s) in subjects.iter_mut().enumerate() {
            progress(r * best.len() + i, total, s);
            best[i] = best[i].max(measure(&mut *s.workload, budget));
        }
    }
    subjects
        .iter()
        .zip(best)
        .map(|(s, gbps)| Figure {
            case: s.case.clone(),
            suite: s.suite.name(),
            imp: s.imp,
            provider: s.provider,
            gbps,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_note_names_the_default() {
        let note = provider_note();
        assert!(note.contains(Provider::default().name()), "{note}");
    }

    #[test]
    fn zero_copy_and_tcp_lines_compare_with_bulk() {
        assert_eq!(base_case("bulk-zc-64", false), "bulk-64");
        assert_eq!(base_case("bulk-zc-64", true), "bulk-64");
        assert_eq!(base_case("bulk-tcp-64", false), "bulk-64");
        assert_eq!(base_case("bulk-tcp-64", true), "bulk-tcp-64");
        assert_eq!(base_case("seal-64", false), "seal-64");
        assert_eq!(base_case("seal-in-place-64", false), "seal-64");
        let f = |case: &str, imp, gbps| Figure {
            case: case.into(),
            suite: "S",
            imp,
            provider: "p",
            gbps,
        };
        let t = table(&[f("bulk-64", "raw", 2.0), f("bulk-zc-64", "tlsrec", 1.0)]);
        assert!(t.contains("0.50x"), "{t}");
        // `copies` is compared on the same case only: bulk-zc-64's own.
        let t = table(&[
            f("bulk-64", "copies", 4.0),
            f("bulk-zc-64", "copies", 1.25),
            f("bulk-zc-64", "tlsrec", 1.0),
        ]);
        assert!(t.contains(" 1.250 ") && t.contains("0.80x"), "{t}");
        assert!(!t.contains("0.25x"), "{t}");
    }

    #[test]
    fn raw_with_copies_runs_every_suite() {
        for &suite in SUITES {
            for op in [RawOp::SealOpenCopied, RawOp::SealOpenZeroed] {
                for len in [1, 64, 16384] {
                    let mut w = raw(Provider::RustCrypto, suite, op, len, 2);
                    assert_eq!(w.bytes(), 2 * len as u64);
                    w.run();
                }
            }
        }
    }
}
