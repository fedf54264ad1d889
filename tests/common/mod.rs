//! Helpers shared by the integration tests.
#![allow(dead_code, unreachable_pub)]

pub mod heap;
pub mod peer;
#[cfg(feature = "rustls")]
pub mod takeover;

use bytes::BytesMut;
use tlsrec::{CipherSuite, ContentType, RecordKeys, Sealer, Version};

/// xorshift64*: a small deterministic generator so failures reproduce.
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
    /// Uniform in 0..n (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }
}

pub fn hex(s: &str) -> Vec<u8> {
    tlsrec::keylog::decode_hex(s).expect("test hex")
}

/// Deterministic keys for a suite (not from any vector: for round trips).
pub fn test_keys(suite: CipherSuite, salt: u8) -> RecordKeys {
    let aead = suite.aead();
    let key: Vec<u8> = (0..aead.key_len()).map(|i| i as u8 ^ salt).collect();
    let iv: Vec<u8> = (0..aead.fixed_iv_len(suite.version()))
        .map(|i| (i as u8).wrapping_mul(7) ^ salt)
        .collect();
    RecordKeys::new(suite, &key, &iv).unwrap()
}

/// Seals `payloads` (type, bytes) under `suite` and returns the wire stream.
pub fn seal_stream(suite: CipherSuite, payloads: &[(ContentType, Vec<u8>)]) -> Vec<u8> {
    let mut s = Sealer::new();
    s.set_keys(test_keys(suite, 0x5a));
    let mut out = BytesMut::new();
    for (t, p) in payloads {
        s.seal(*t, p, &mut out).unwrap();
    }
    out.to_vec()
}

pub fn version_of(suite: CipherSuite) -> Version {
    suite.version()
}

/// Every record in `wire` (whole records only), opened in order with
/// `opener` (the sender's keys and next sequence number): (type, plaintext).
pub fn open_records(opener: &mut tlsrec::Opener, wire: &[u8]) -> Vec<(ContentType, Vec<u8>)> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < wire.len() {
        let len = u16::from_be_bytes([wire[at + 3], wire[at + 4]]) as usize;
        let rec = tlsrec::OpaqueRecord::from_wire(&wire[at..at + 5 + len]).unwrap();
        let p = opener.open(rec).unwrap();
        out.push((p.typ, p.payload.to_vec()));
        at += 5 + len;
    }
    out
}

/// A port for an openssl s_server: below the kernel's ephemeral range
/// (32768 and up on Linux), where the listeners this process binds to port
/// 0 (and other tests' probes) get theirs, so no test's own listener takes
/// the port between the check here and s_server's bind. Each one is handed
/// out once per process.
pub fn s_server_port() -> u16 {
    use std::net::TcpListener;
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let base = 10_000 + (std::process::id() as usize * 97) % 20_000;
    loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let port = (10_000 + (base + n * 7) % 22_000) as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}
