//! Prints the install folder of the OpenSSL release this build made
//! (`OPENSSL_DIR` for openssl-sys), or with `--version` the release.

fn main() {
    if std::env::args().nth(1).as_deref() == Some("--version") {
        println!("{}", env!("OPENSSL_SRC_VERSION"));
    } else {
        println!("{}", env!("OPENSSL_INSTALL_DIR"));
    }
}
