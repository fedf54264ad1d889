//! The `tlsrec` command-line tool's throughput benchmarks ([`bench`]), shared
//! by `tlsrec bench` and the criterion benchmarks in `benches/`, its capture
//! reader ([`pcap`]) and its HTML page ([`html`]). Not part of the `tlsrec` library.
#![forbid(unsafe_code)]

// The dependency is renamed in Cargo.toml (see there); the code says `rustls`.
#[cfg(feature = "bench-peers")]
extern crate rustls_peer as rustls;

pub mod bench;
pub mod html;
pub mod pcap;
