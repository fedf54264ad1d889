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
use std::path::PathBuf;

fn main() {
    let src =
        PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap()).join("../../tests/oracle/mod.rs");
    println!("cargo:rerun-if-changed={}", src.display());
    let text = fs::read_to_string(&src).expect("tests/oracle/mod.rs");
    let number = env::var("DEP_OPENSSL_VERSION_NUMBER").expect("openssl-sys version number");
    let number = u64::from_str_radix(&number, 16).expect("hex version number");
    let before_3 = number < 0x3000_0000;
    let tests = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap()).join("../../tests");
    let tests = tests.canonicalize().expect("tests folder");
    println!(
        "cargo:rerun-if-changed={}",
        tests.join("common/libssl.rs").display()
    );
    let mut out = String::new();
    for line in text.lines() {
        let t = line.trim_start();
        if t.starts_with("//!") || t.starts_with("#![") {
            continue;
        }
        let line = line.replace(
            "#[path = \"../common/",
            &format!("#[path = \"{}/common/", tests.display()),
        );
        if before_3 {
            out.push_str(&line.replace("SslOptions::IGNORE_UNEXPECTED_EOF", "SslOptions::empty()"));
        } else {
            out.push_str(&line);
        }
        out.push('\n');
    }
    let dst = PathBuf::from(env::var("OUT_DIR").unwrap()).join("oracle.rs");
    fs::write(dst, out).unwrap();

    // tests/differential_active.rs (`--active`): the same edits, and its
    // `#[path = "common/..."]` modules pointed at tests/common (paths in an
    // `include!`d file are taken from the including file's folder).
    let src = tests.join("differential_active.rs");
    println!("cargo:rerun-if-changed={}", src.display());
    for common in ["certs.rs", "membio.rs"] {
        println!(
            "cargo:rerun-if-changed={}",
            tests.join("common").join(common).display()
        );
    }
    let text = fs::read_to_string(&src).expect("tests/differential_active.rs");
    let mut out = String::new();
    for line in text.lines() {
        let t = line.trim_start();
        if t.starts_with("//!") || t.starts_with("#![") {
            continue;
        }
        let line = line.replace(
            "#[path = \"common/",
            &format!("#[path = \"{}/common/", tests.display()),
        );
        if before_3 {
            out.push_str(&line.replace("SslOptions::IGNORE_UNEXPECTED_EOF", "SslOptions::empty()"));
        } else {
            out.push_str(&line);
        }
        out.push('\n');
    }
    let dst = PathBuf::from(env::var("OUT_DIR").unwrap()).join("active.rs");
    fs::write(dst, out).unwrap();
    println!("cargo:rustc-env=ORACLE_OPENSSL_NUMBER={number:x}");
    if before_3 {
        println!("cargo:rustc-cfg=before_ossl3");
    }
    println!("cargo::rustc-check-cfg=cfg(before_ossl3)");
}
