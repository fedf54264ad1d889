//! Builds the OpenSSL release the feature names into OUT_DIR (static
//! libraries, `no-shared`: openssl-src's own configuration) and hands the
//! install folder and version to the program, which prints them. Cargo keeps
//! the build in the target folder, so a second run costs nothing.

use std::path::Path;

fn main() {
    let (install, version): (&Path, &str);
    #[cfg(feature = "v1_1_1")]
    let artifacts = openssl_src_111::Build::new().build();
    #[cfg(feature = "v1_1_1")]
    let v = openssl_src_111::version();
    #[cfg(feature = "v3_5")]
    let artifacts = openssl_src_300::Build::new().build();
    #[cfg(feature = "v3_5")]
    let v = openssl_src_300::version();
    #[cfg(feature = "v4_0")]
    let artifacts = openssl_src_400::Build::new().build();
    #[cfg(feature = "v4_0")]
    let v = openssl_src_400::version();
    #[cfg(not(any(feature = "v1_1_1", feature = "v3_5", feature = "v4_0")))]
    compile_error!("turn on exactly one of the features v1_1_1, v3_5, v4_0");
    install = artifacts.lib_dir().parent().expect("install folder");
    version = v;
    println!("cargo:rustc-env=OPENSSL_INSTALL_DIR={}", install.display());
    println!("cargo:rustc-env=OPENSSL_SRC_VERSION={version}");
    println!("cargo:rerun-if-changed=build.rs");
}
