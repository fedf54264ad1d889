//! A bulk transfer as `tlsrec bench`'s `bulk-N` makes it (16 KiB writes on
//! one session, the wire bytes to its peer, reads until WantRead), with the
//! reader's buffer size chosen, to compare the read paths under callgrind
//! in one binary: with a buffer that holds a record's inner plaintext the
//! record is opened straight into it (docs/behaviour.md I3); with a shorter
//! one it is opened in place and copied out.
//!
//! ```sh
//! cargo run --release --features fast,aws-lc --example bulk_read -- SUITE PROVIDER READ_BUFFER ROUNDS
//! ```
//!
//! e.g. `TLS_AES_128_GCM_SHA256 aws-lc-rs 16384 200`. Prints the bytes
//! moved.

use tlsrec::cipher::Provider;
use tlsrec::{CipherSuite, Config, Established, RecordKeys, Session, SslError};

fn keys(suite: CipherSuite, salt: u8) -> RecordKeys {
    let a = suite.aead();
    RecordKeys::new(
        suite,
        &vec![salt; a.key_len()],
        &vec![salt ^ 0x33; a.fixed_iv_len(suite.version())],
    )
    .expect("key lengths")
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [suite, provider, rbuf, rounds] = &args[..] else {
        eprintln!("usage: bulk_read SUITE PROVIDER READ_BUFFER ROUNDS");
        std::process::exit(2);
    };
    let suite = *CipherSuite::ALL
        .iter()
        .find(|s| s.name() == suite.as_str())
        .expect("a suite name, e.g. TLS_AES_128_GCM_SHA256");
    let provider = Provider::from_name(provider).expect("a compiled provider");
    let mut rbuf = vec![0u8; rbuf.parse().expect("a buffer size")];
    let rounds: usize = rounds.parse().expect("a round count");
    let est = |r: u8, w: u8| Established {
        suite,
        read: keys(suite, r),
        read_seq: 0,
        write: keys(suite, w),
        write_seq: 0,
        secrets: None,
    };
    let cfg = Config {
        provider: Some(provider),
        ..Config::default()
    };
    let mut a = Session::client_from_established(est(1, 2), cfg.clone()).expect("keys");
    let mut b = Session::client_from_established(est(2, 1), cfg).expect("keys");
    let data = vec![0x5au8; 256 * 1024];
    let mut moved = 0usize;
    for _ in 0..rounds {
        for chunk in data.chunks(16384) {
            assert_eq!(a.write(chunk), Ok(chunk.len()));
        }
        let wire = a.take_outgoing(usize::MAX);
        b.recv(&wire);
        drop(wire);
        loop {
            match b.read(&mut rbuf) {
                Ok(n) => moved += n,
                Err(SslError::WantRead) => break,
                Err(e) => panic!("read: {e}"),
            }
        }
    }
    assert_eq!(moved, rounds * data.len());
    println!("{moved}");
}
