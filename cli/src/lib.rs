//! The `tlsrec` command-line tool's throughput benchmarks ([`bench`]), shared
//! by `tlsrec bench` and the criterion benchmarks in `benches/`, its capture
//! reader ([`pcap`]), its HTML page ([`html`]) and its live TLS
//! client and server ([`connect`], [`serve`]). Not part of the `tlsrec` library.
#![forbid(unsafe_code)]

// The dependency is renamed in Cargo.toml (see there); the code says `rustls`.
extern crate rustls_peer as rustls;

pub mod bench;
pub mod connect;
pub mod html;
pub mod net;
pub mod pcap;
pub mod serve;
