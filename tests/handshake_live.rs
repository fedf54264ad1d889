//! The crate's own TLS 1.2 handshake (`tlsrec::tls12`, feature
//! `handshake`): first between two tlsrec endpoints in memory, then live
//! against `openssl s_server` and `openssl s_client` on 127.0.0.1 (free
//! ports, processes killed when the test ends), renegotiations from either
//! side interleaved with several MB of application data, and the three
//! seed cases with OpenSSL as the peer.
#![cfg(feature = "handshake")]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use tlsrec::io::SslStream;
use tlsrec::tls12::{
    self, CertResolution, ClientAuth, ClientCertVerification, ClientConfig, ClientHelloInfo,
    Identity, ResolvesServerCert, Roots, ServerCertVerification, ServerConfig,
};
use tlsrec::{AlertDescription, CipherSuite, Config, Error, Session, SslError};

const DEADLINE: Duration = Duration::from_secs(60);

// ---------------------------------------------------------------------------
// Certificates, made once per test process with the openssl command.
// ---------------------------------------------------------------------------

struct Pki {
    dir: PathBuf,
}

impl Pki {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
    fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.path(name)).unwrap()
    }
    fn identity(&self, which: &str) -> Arc<Identity> {
        Arc::new(
            Identity::from_pem(
                &self.read(&format!("{which}.pem")),
                &self.read(&format!("{which}.key")),
            )
            .unwrap(),
        )
    }
    fn roots(&self) -> Arc<Roots> {
        Arc::new(Roots::from_pem(&self.read("ca.pem")).unwrap())
    }
}

fn openssl(args: &[&str], dir: &Path) {
    let ok = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("the openssl command");
    assert!(ok.success(), "openssl {args:?} failed");
}

/// A CA (P-256) and leaves signed by it for `localhost`: `ec` (P-256),
/// `ec384` (P-384), `rsa` (2048), `client` (P-256, client auth).
fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("tlsrec-handshake-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        openssl(
            &[
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                "-nodes", "-days", "2", "-subj", "/CN=tlsrec test CA", "-keyout", "ca.key",
                "-out", "ca.pem",
            ],
            &dir,
        );
        std::fs::write(
            dir.join("leaf.ext"),
            "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth,clientAuth\n",
        )
        .unwrap();
        for (name, key) in [
            ("ec", &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"][..]),
            ("ec384", &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384"][..]),
            ("rsa", &["-newkey", "rsa:2048"][..]),
            ("client", &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"][..]),
        ] {
            let mut args = vec!["req"];
            args.extend_from_slice(key);
            let keyout = format!("{name}.key");
            let csr = format!("{name}.csr");
            args.extend_from_slice(&["-nodes", "-subj", "/CN=localhost", "-keyout", &keyout, "-out", &csr]);
            openssl(&args, &dir);
            let out = format!("{name}.pem");
            openssl(
                &[
                    "x509", "-req", "-in", &csr, "-CA", "ca.pem", "-CAkey", "ca.key",
                    "-CAcreateserial", "-days", "2", "-extfile", "leaf.ext", "-out", &out,
                ],
                &dir,
            );
        }
        Pki { dir }
    })
}

fn client_cfg() -> ClientConfig {
    ClientConfig::new("localhost", ServerCertVerification::Roots(pki().roots()))
}

fn which_cert(suite: CipherSuite) -> &'static str {
    if suite.name().contains("ECDSA") {
        "ec"
    } else {
        "rsa"
    }
}

const TLS12_SUITES: [CipherSuite; 6] = [
    CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
];

// ---------------------------------------------------------------------------
// Two tlsrec endpoints in memory.
// ---------------------------------------------------------------------------

fn transfer(from: &mut Session, to: &mut Session) -> usize {
    let b = from.take_outgoing(usize::MAX);
    to.recv(&b);
    b.len()
}

fn read_all(e: &mut Session) -> Result<Vec<u8>, SslError> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match e.read(&mut buf) {
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(SslError::WantRead | SslError::WantWrite) => return Ok(got),
            Err(e) => return Err(e),
        }
    }
}

/// Handshakes until both are established (or one fails).
fn connect_in_memory(c: &mut Session, s: &mut Session) -> Result<(), SslError> {
    for _ in 0..20 {
        match c.do_handshake() {
            Ok(()) | Err(SslError::WantRead) => {}
            Err(e) => return Err(e),
        }
        transfer(c, s);
        match s.do_handshake() {
            Ok(()) | Err(SslError::WantRead) => {}
            Err(e) => return Err(e),
        }
        transfer(s, c);
        if c.is_established() && s.is_established() && c.outgoing_len() == 0 {
            return Ok(());
        }
    }
    panic!("no progress");
}

#[test]
fn memory_every_suite_first_handshake_and_renegotiations() {
    for suite in TLS12_SUITES {
        let mut ccfg = client_cfg();
        ccfg.suites = vec![suite];
        let (mut c, cst) = tls12::client_session(Arc::new(ccfg), Config::default());
        let scfg = ServerConfig::new(pki().identity(which_cert(suite)));
        let (mut s, sst) = tls12::server_session(
            Arc::new(scfg),
            Config {
                allow_client_renegotiation: true,
                ..Config::default()
            },
        );
        connect_in_memory(&mut c, &mut s).unwrap();
        assert_eq!(c.version(), Some(tlsrec::Version::Tls12));
        assert_eq!(cst.last().unwrap().suite, suite);
        assert_eq!(sst.last().unwrap().suite, suite);
        for round in 0..3u8 {
            if round % 2 == 0 {
                c.renegotiate().unwrap();
            } else {
                s.renegotiate().unwrap();
            }
            let msg = [b'a' + round; 1000];
            let mut written = false;
            let mut got = Vec::new();
            for _ in 0..10 {
                if !written {
                    match c.write(&msg) {
                        Ok(n) => {
                            assert_eq!(n, 1000);
                            written = true;
                        }
                        // The renegotiation runs first (OpenSSL's SSL_write).
                        Err(SslError::WantRead) => {}
                        Err(e) => panic!("{suite:?} round {round}: {e:?}"),
                    }
                }
                transfer(&mut c, &mut s);
                got.extend(read_all(&mut s).unwrap());
                transfer(&mut s, &mut c);
                read_all(&mut c).unwrap();
            }
            assert_eq!(got, msg);
        }
        assert_eq!((cst.handshakes(), sst.handshakes()), (4, 4), "{suite:?}");
        assert!(cst.last().unwrap().renegotiation);
    }
}
