//! `import::from_keylog` against RFC 8448's 1-RTT trace: a session built
//! from the key log and the two randoms reads the server's application
//! record and seals the client's one byte for byte as the RFC shows.

use tlsrec::import::from_keylog;
use tlsrec::keylog::KeyLog;
use tlsrec::{CipherSuite, Config, Role, Session};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/vectors/captures/rfc8448-1rtt");

fn capture() -> (KeyLog, Vec<u8>, Vec<u8>) {
    let kl = KeyLog::parse(&std::fs::read_to_string(format!("{DIR}/keylog.txt")).unwrap()).unwrap();
    let c2s = std::fs::read(format!("{DIR}/c2s.bin")).unwrap();
    let s2c = std::fs::read(format!("{DIR}/s2c.bin")).unwrap();
    (kl, c2s, s2c)
}

/// Offsets from RFC 8448 section 3 (the decode test checks the same layout):
/// the ClientHello and ServerHello randoms sit 11 bytes into their records;
/// the application data records are at c2s 259 and s2c 1001, 72 bytes each.
fn randoms(c2s: &[u8], s2c: &[u8]) -> ([u8; 32], [u8; 32]) {
    (
        c2s[11..43].try_into().unwrap(),
        s2c[11..43].try_into().unwrap(),
    )
}

const SUITE: CipherSuite = CipherSuite::TLS13_AES_128_GCM_SHA256;

#[test]
fn client_side_reads_the_servers_record_and_seals_its_own_exactly() {
    let (kl, c2s, s2c) = capture();
    let (cr, sr) = randoms(&c2s, &s2c);
    // The server sent its NewSessionTicket at sequence 0 before the data.
    let est = from_keylog(&kl, SUITE, Role::Client, &cr, &sr, 1, 0).unwrap();
    let mut s = Session::client_from_established(est, Config::default()).unwrap();
    s.recv(&s2c[1001..1073]);
    let mut buf = [0u8; 64];
    let n = s.read(&mut buf).unwrap();
    let rfc_payload: Vec<u8> = (0..50u8).collect();
    assert_eq!(&buf[..n], &rfc_payload[..]);
    // The client's own record: TLS 1.3 sealing is deterministic.
    assert_eq!(s.write(&rfc_payload), Ok(50));
    assert_eq!(&s.take_outgoing(usize::MAX)[..], &c2s[259..331]);
}

#[test]
fn server_side_reads_the_clients_record() {
    let (kl, c2s, s2c) = capture();
    let (cr, sr) = randoms(&c2s, &s2c);
    let est = from_keylog(&kl, SUITE, Role::Server, &cr, &sr, 0, 1).unwrap();
    let mut s = Session::client_from_established(est, Config::default()).unwrap();
    s.recv(&c2s[259..331]);
    let mut buf = [0u8; 64];
    assert_eq!(s.read(&mut buf), Ok(50));
    assert_eq!(&buf[..50], &(0..50u8).collect::<Vec<_>>()[..]);
}

#[test]
fn a_random_the_key_log_lacks_is_refused() {
    let (kl, c2s, s2c) = capture();
    let (_, sr) = randoms(&c2s, &s2c);
    assert!(from_keylog(&kl, SUITE, Role::Client, &[7; 32], &sr, 0, 0).is_err());
}
