//! Builds each OpenSSL release a feature names into its own folder under
//! OUT_DIR (static libraries, `no-shared`: openssl-src's own configuration),
//! the releases side by side on threads, and hands the install folders and
//! versions to the program, which prints them. Cargo keeps the builds in the
//! target folder, so a second run costs nothing.

use std::path::PathBuf;
use std::thread;
use std::time::Instant;

type Job = (&'static str, Box<dyn FnOnce(PathBuf) -> (PathBuf, &'static str) + Send>);

fn main() {
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    // openssl-src asks the `cc` crate for -O2, and `cc` appends $CFLAGS
    // after its own flags: -O0 here (the last -O wins) makes the three
    // builds much faster (oracles/README.md). The oracles' scenarios are a
    // few kilobytes each, and the assembly routines are still used. Set
    // CFLAGS to choose otherwise; it is read before any thread starts.
    if std::env::var_os("CFLAGS").is_none() {
        std::env::set_var("CFLAGS", "-O0");
    }
    println!("cargo:rerun-if-env-changed=CFLAGS");
    let mut jobs: Vec<Job> = Vec::new();
    #[cfg(feature = "v1_1_1")]
    jobs.push((
        "V1_1_1",
        Box::new(|dir| {
            let a = openssl_src_111::Build::new().out_dir(dir).build();
            (a.lib_dir().to_path_buf(), openssl_src_111::version())
        }),
    ));
    #[cfg(feature = "v3_5")]
    jobs.push((
        "V3_5",
        Box::new(|dir| {
            let a = openssl_src_300::Build::new().out_dir(dir).build();
            (a.lib_dir().to_path_buf(), openssl_src_300::version())
        }),
    ));
    #[cfg(feature = "v4_0")]
    jobs.push((
        "V4_0",
        Box::new(|dir| {
            let a = openssl_src_400::Build::new().out_dir(dir).build();
            (a.lib_dir().to_path_buf(), openssl_src_400::version())
        }),
    ));
    if jobs.is_empty() {
        panic!("turn on at least one of the features v1_1_1, v3_5, v4_0");
    }
    let running: Vec<_> = jobs
        .into_iter()
        .map(|(name, job)| {
            let dir = out.join(name.to_lowercase());
            let start = Instant::now();
            let handle = thread::spawn(move || {
                let r = job(dir);
                (r, start.elapsed().as_secs())
            });
            (name, handle)
        })
        .collect();
    for (name, handle) in running {
        let ((lib, version), secs) = handle.join().expect("an OpenSSL build panicked");
        // Kept in the build script's output file (target/.../output).
        println!("built OpenSSL {version} in {secs} s");
        let install = lib.parent().expect("install folder");
        println!("cargo:rustc-env=OPENSSL_INSTALL_{name}={}", install.display());
        println!("cargo:rustc-env=OPENSSL_SRC_VERSION_{name}={version}");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
