//! `tlsrec-openssl-build VERSION` prints the install folder of the OpenSSL
//! release this build made for VERSION (1.1.1, 3.5 or 4.0: `OPENSSL_DIR`
//! for openssl-sys); `tlsrec-openssl-build --version VERSION` prints the
//! release. Exit status 2 for a release this build was not asked to make.

use std::process::exit;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (want_version, name) = match args.as_slice() {
        [v] => (false, v.as_str()),
        [flag, v] if flag == "--version" => (true, v.as_str()),
        _ => {
            eprintln!("usage: tlsrec-openssl-build [--version] 1.1.1|3.5|4.0");
            exit(2)
        }
    };
    let (dir, version) = match name {
        "1.1.1" => (
            option_env!("OPENSSL_INSTALL_V1_1_1"),
            option_env!("OPENSSL_SRC_VERSION_V1_1_1"),
        ),
        "3.5" => (
            option_env!("OPENSSL_INSTALL_V3_5"),
            option_env!("OPENSSL_SRC_VERSION_V3_5"),
        ),
        "4.0" => (
            option_env!("OPENSSL_INSTALL_V4_0"),
            option_env!("OPENSSL_SRC_VERSION_V4_0"),
        ),
        _ => (None, None),
    };
    match (dir, version) {
        (Some(d), Some(v)) => println!("{}", if want_version { v } else { d }),
        _ => {
            eprintln!("OpenSSL {name} was not built (features v1_1_1, v3_5, v4_0)");
            exit(2)
        }
    }
}
