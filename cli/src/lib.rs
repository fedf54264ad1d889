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

/// `--profile`'s values: an OpenSSL release line, or the strict RFC one.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum CliProfile {
    /// OpenSSL 1.1.1.
    #[value(name = "1.1.1")]
    V1_1_1,
    /// OpenSSL 3.0.
    #[value(name = "3.0")]
    V3_0,
    /// OpenSSL 3.5 LTS.
    #[value(name = "3.5")]
    V3_5,
    /// OpenSSL 4.0.
    #[value(name = "4.0")]
    V4_0,
    /// RFC 8446 / 5246 read strictly.
    Rfc,
}

impl CliProfile {
    /// The library's profile.
    #[must_use]
    pub fn profile(self) -> tlsrec::Profile {
        match self {
            CliProfile::V1_1_1 => tlsrec::Profile::OpenSsl1_1_1,
            CliProfile::V3_0 => tlsrec::Profile::OpenSsl3_0,
            CliProfile::V3_5 => tlsrec::Profile::OpenSsl3_5,
            CliProfile::V4_0 => tlsrec::Profile::OpenSsl4_0,
            CliProfile::Rfc => tlsrec::Profile::Rfc,
        }
    }
}
