//! Brings tests/oracle/mod.rs (the differential test's scenario generator
//! and recorder) and tests/differential_active.rs (the active family:
//! tlsrec as an endpoint with its own TLS 1.2 handshake, client or server,
//! against libssl in its place) into this program unchanged but for these
//! mechanical edits:
//!
//! - its inner attributes and `//!` lines are dropped (an `include!`d file
//!   cannot carry them; src/main.rs puts the same `allow`s on the module);
//! - against OpenSSL 1.1.x only, `SslOptions::IGNORE_UNEXPECTED_EOF`, which
//!   the `openssl` crate defines from 3.0 on (1.1.1 has no such option),
//!   becomes `SslOptions::empty()`. src/main.rs turns the option off in
//!   every scenario before recording against 1.1.1, so that line never runs
//!   and no transcript claims an option that was not set (the active family
//!   does the same through its `LINKED` setting);
//! - the `#[path = ...]` modules of both (tests/common: the libssl
//!   declarations, certificates, memory BIOs) get absolute paths.
//!
//! `DEP_OPENSSL_VERSION_NUMBER` is openssl-sys's report of the headers it
//! found (its `links = "openssl"` metadata).

use std::env;
use std::fs;
use std::path::{Path, PathBuf};

fn main() {
    let here = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let tests = here
        .join("../../tests")
        .canonicalize()
        .expect("tests folder");
    let number = env::var("DEP_OPENSSL_VERSION_NUMBER").expect("openssl-sys version number");
    let number = u64::from_str_radix(&number, 16).expect("hex version number");
    let before_3 = number < 0x3000_0000;
    let out_dir = PathBuf::from(env::var("OUT_DIR").unwrap());
    for common in ["libssl.rs", "certs.rs", "membio.rs"] {
        println!(
            "cargo:rerun-if-changed={}",
            tests.join("common").join(common).display()
        );
    }
    // tests/oracle/mod.rs and tests/differential_active.rs (`--active`).
    for (src, dst) in [
        ("oracle/mod.rs", "oracle.rs"),
        ("differential_active.rs", "active.rs"),
    ] {
        let src = tests.join(src);
        println!("cargo:rerun-if-changed={}", src.display());
        let text = fs::read_to_string(&src).expect("a file of tests/");
        fs::write(out_dir.join(dst), edit(&text, &tests, before_3)).unwrap();
    }
    println!("cargo:rustc-env=ORACLE_OPENSSL_NUMBER={number:x}");
    if before_3 {
        println!("cargo:rustc-cfg=before_ossl3");
    }
    println!("cargo::rustc-check-cfg=cfg(before_ossl3)");
}

/// The edits above: inner attributes and `//!` lines dropped, `#[path]`
/// modules of tests/common (from tests/ or tests/oracle/) made absolute
/// (paths in an `include!`d file are taken from the including file's
/// folder), and before 3.0 the option 1.1.1 lacks replaced.
fn edit(text: &str, tests: &Path, before_3: bool) -> String {
    let common = format!("#[path = \"{}/common/", tests.display());
    let mut out = String::new();
    for line in text.lines() {
        let t = line.trim_start();
        if t.starts_with("//!") || t.starts_with("#![") {
            continue;
        }
        let mut line = line
            .replace("#[path = \"../common/", &common)
            .replace("#[path = \"common/", &common);
        if before_3 {
            line = line.replace("SslOptions::IGNORE_UNEXPECTED_EOF", "SslOptions::empty()");
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}
