//! The `tlsrec` command-line tool's throughput benchmarks ([`bench`]), shared
//! by `tlsrec bench` and the criterion benchmarks in `benches/`, and its
//! capture reader ([`pcap`]). Not part of the `tlsrec` library.
#![forbid(unsafe_code)]

// The dependency is renamed in Cargo.toml (see there); the code says `rustls`.
#[cfg(feature = "bench-peers")]
extern crate rustls_peer as rustls;

pub mod bench;
pub mod pcap;
