//! `{:?}` of a session shows its state, never plaintext or key material:
//! a session is the kind of value that ends up in a log line.

use tlsrec::{CipherSuite, Config, Established, RecordKeys, Session};

const SECRET: &[u8] = b"PLAINTEXT-SECRET-do-not-log";

fn pair(suite: CipherSuite) -> (Session, Session) {
    // Key and IV bytes no other field holds (0xA5 = 165, 0x3C = 60), so
    // their Debug forms can be looked for.
    let key = |salt: u8| {
        RecordKeys::new(
            suite,
            &vec![0xA5 ^ salt; suite.aead().key_len()],
            &vec![0x3C ^ salt; suite.aead().fixed_iv_len(suite.version())],
        )
        .unwrap()
    };
    let est = |r: u8, w: u8| Established {
        suite,
        read: key(r),
        read_seq: 0,
        write: key(w),
        write_seq: 0,
        secrets: None,
    };
    (
        Session::client_from_established(est(0, 1), Config::default()).unwrap(),
        Session::server_from_established(est(1, 0), Config::default()).unwrap(),
    )
}

/// Every form `Debug` gives bytes in: `b"..."` (`Bytes`, `BytesMut`), a
/// list of decimals (`Vec<u8>`, arrays), lower-case hex.
fn forms(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes).into_owned();
    let decimals = format!("{bytes:?}");
    let decimals = decimals[1..decimals.len() - 1].to_string();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    vec![text, decimals, hex]
}

fn assert_clean(what: &str, debug: &str, suite: CipherSuite) {
    let key_run = [0xA5u8; 4];
    let iv_run = [0x3Cu8; 4];
    for (name, bytes) in [
        ("plaintext", &SECRET[6..16]),
        ("a key", &key_run[..]),
        ("an IV", &iv_run[..]),
    ] {
        for form in forms(bytes) {
            assert!(
                !debug.contains(&form),
                "{what} ({suite:?}): Debug shows {name} as {form:?}:\n{debug}"
            );
        }
    }
}

#[test]
fn a_session_debug_shows_no_plaintext_and_no_keys() {
    for suite in [
        CipherSuite::TLS13_AES_128_GCM_SHA256,
        CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    ] {
        let (mut client, mut server) = pair(suite);
        // Two records: the reader takes part of the first, so plaintext
        // sits in its current record and ciphertext in its input.
        assert_eq!(client.write(SECRET), Ok(SECRET.len()));
        assert_eq!(client.write(SECRET), Ok(SECRET.len()));
        let wire = client.take_outgoing_buf();
        server.recv(&wire);
        let mut four = [0u8; 4];
        assert_eq!(server.read(&mut four), Ok(4));
        assert_eq!(&four, &SECRET[..4]);

        let debug = format!("{server:?}");
        assert_clean("reader holding a record in part", &debug, suite);
        // It still says what a reader of the log needs.
        for field in ["current_record", "received", "role"] {
            assert!(debug.contains(field), "{field} missing:\n{debug}");
        }
        // The plaintext really is there, behind the Debug output.
        let mut rest = [0u8; 64];
        let n = server.read(&mut rest).unwrap();
        assert_eq!(&rest[..n], &SECRET[4..]);

        // A writer whose records are still in its outgoing buffer.
        assert_eq!(client.write(SECRET), Ok(SECRET.len()));
        assert_clean("writer with records unsent", &format!("{client:?}"), suite);
        // Pretty-printed too.
        assert_clean("pretty", &format!("{server:#?}"), suite);
    }
}
