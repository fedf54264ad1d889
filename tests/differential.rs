//! Live differential tests: random scenarios run against the system libssl
//! (an OpenSSL 3 client over in-memory streams), then replayed through
//! tlsrec twice, following the client's handshakes and driving them itself
//! after the first ([`ReplayMode`]); every call must return what OpenSSL
//! returned, and, driven, every record sent must be the one OpenSSL sent.
//! The end-of-stream test ends every scenario one of the ways
//! `oracle::StreamEnd` lists and goes on calling read, peek, pending,
//! has_pending, write and shutdown after the end.
//!
//! `TLSREC_DIFF_CASES` sets the number of cases (default 2000) and
//! `TLSREC_DIFF_SEED` the first seed (default: a fixed one, so a run
//! reproduces; CI may vary it). A failure is shrunk to a minimal script and
//! written to `target/differential/NAME.json` for `tlsrec replay`.
//! `TLSREC_DIFF_SHRINK=0` reports failures unshrunk (the full transcript is
//! written) and `TLSREC_DIFF_MAX_FAILURES` (default 5) sets how many are
//! collected before the run stops: together they survey a run.

mod oracle;

use oracle::{record, Family, Scenario};
use tlsrec::replay::{replay_as, ReplayMode};
use tlsrec::transcript::Transcript;

const FAMILIES: [Family; 4] = [Family::Real, Family::Crafted, Family::Write, Family::Reneg];

/// The handshakes tlsrec's driver completed if tlsrec agrees with OpenSSL
/// on `s` in both modes, else the mismatch and the recorded transcript.
fn check(s: &Scenario) -> Result<u64, (String, String)> {
    let rec = record(s).map_err(|e| (format!("oracle failed: {e}"), String::new()))?;
    let text = serde_json::to_string_pretty(&rec.transcript).unwrap();
    let t = Transcript::parse(&text).map_err(|e| (format!("transcript: {e}"), text.clone()))?;
    replay_as(&t, ReplayMode::Followed).map_err(|m| (format!("followed: {m}"), text.clone()))?;
    let driven =
        replay_as(&t, ReplayMode::Driven).map_err(|m| (format!("driven: {m}"), text.clone()))?;
    Ok(driven.driven_handshakes)
}

/// Greedy one-at-a-time removal of actions while the case still fails.
fn shrink(mut s: Scenario) -> (Scenario, String, String) {
    let (mut msg, mut text) = check(&s).expect_err("shrink needs a failing case");
    let mut i = s.actions.len();
    let mut tries = 0;
    while i > 0 && tries < 400 {
        i -= 1;
        tries += 1;
        let mut t = s.clone();
        t.actions.remove(i);
        if let Err((m, x)) = check(&t) {
            if !m.starts_with("oracle failed") {
                s = t;
                msg = m;
                text = x;
            }
        }
    }
    (s, msg, text)
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn tlsrec_agrees_with_libssl_on_random_scenarios() {
    run(false);
}

/// The same scenarios, each ending its stream (EOF at a record boundary
/// or inside a record, close_notify received or sent, a fatal alert
/// received, a fatal error of our own) and going on with calls after it.
#[test]
fn tlsrec_agrees_with_libssl_after_the_end_of_the_stream() {
    run(true);
}

fn run(ends: bool) {
    let cases = env_u64("TLSREC_DIFF_CASES", 2000);
    let first = env_u64("TLSREC_DIFF_SEED", 1_000_000);
    let mut failures = Vec::new();
    let mut steps = 0usize;
    let mut driven_handshakes = 0u64;
    let mut ignoring_eof = 0u64;
    for i in 0..cases {
        let family = FAMILIES[(i % 4) as usize];
        let s = if ends {
            Scenario::generate_with_end(family, first + i, true)
        } else {
            Scenario::generate(family, first + i, true)
        };
        ignoring_eof += u64::from(s.options.ignore_unexpected_eof);
        if std::env::var_os("TLSREC_DIFF_VERBOSE").is_some() {
            eprintln!("{}", s.name);
        }
        match check(&s) {
            Ok(n) => {
                steps += s.actions.len();
                driven_handshakes += n;
            }
            Err((m, _)) if m.starts_with("oracle failed") => panic!("{}: {m}", s.name),
            Err((m, t)) => {
                let (min, msg, text) = if env_u64("TLSREC_DIFF_SHRINK", 1) == 0 {
                    (s, m, t)
                } else {
                    shrink(s)
                };
                let dir =
                    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/differential");
                std::fs::create_dir_all(&dir).unwrap();
                let path = dir.join(format!("{}.json", min.name));
                std::fs::write(&path, text).unwrap();
                failures.push(format!(
                    "{}: {msg}\n  minimal script ({} actions): {:?}\n  transcript: {}",
                    min.name,
                    min.actions.len(),
                    min.actions,
                    path.display()
                ));
                if failures.len() as u64 >= env_u64("TLSREC_DIFF_MAX_FAILURES", 5) {
                    break;
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) differ from libssl:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // The scripts did something: a run of empty scenarios would pass vacuously.
    assert!(
        steps as u64 >= cases * 8,
        "{steps} actions in {cases} cases"
    );
    eprintln!("{cases} cases, {steps} actions, {driven_handshakes} driven handshakes");
    // And the driven mode ran renegotiations of its own.
    assert!(
        driven_handshakes >= cases / 20,
        "{driven_handshakes} driven handshakes in {cases} cases"
    );
    // End of stream with SSL_OP_IGNORE_UNEXPECTED_EOF in at least a sixth.
    eprintln!("{ignoring_eof} of {cases} scenarios with ignore_unexpected_eof");
    assert!(
        !ends || ignoring_eof * 6 >= cases,
        "ignore_unexpected_eof in only {ignoring_eof} of {cases} scenarios"
    );
}

/// Issue #12: records of every body length from 0 to nonce + tag + 1
/// (TLS 1.2 AES-GCM: 0..=25; ChaCha20-Poly1305 and TLS 1.3: 0..=17), of a
/// valid and an invalid header type, unprotected (random bytes) and, where
/// the length allows, sealed with the current keys; after each, calls on
/// the connection. Every suite, both versions, deterministic.
#[test]
fn short_records_of_every_length_agree_with_libssl() {
    use oracle::{Action, Buf, Seg, TLS12_SUITES, TLS13_SUITES};
    use tlsrec::Version;
    let mut failures = Vec::new();
    let mut cases = 0;
    for (k, suite) in TLS12_SUITES.iter().chain(TLS13_SUITES.iter()).enumerate() {
        let aes12 = suite.version() == Version::Tls12 && !suite.name().contains("CHACHA");
        let max = if aes12 { 8 + 16 + 1 } else { 16 + 1 };
        let mut records: Vec<Action> = Vec::new();
        for len in 0..=max {
            for typ in [23u8, 0x99] {
                records.push(Action::Raw { typ, len });
            }
        }
        for typ in [23u8, 20, 21, 22, 24, 0x99] {
            for len in [0, 1] {
                records.push(Action::Sealed { typ, len });
            }
        }
        for (j, rec) in records.into_iter().enumerate() {
            let mut s = Scenario::generate(Family::Crafted, 9_000_000 + k as u64, true);
            s.suite = *suite;
            s.server_tickets = 0;
            s.name = format!("crafted-{}-short-{j}", suite.name().to_ascii_lowercase());
            s.fatal_call_limit = 12;
            s.actions = vec![
                Action::App { len: 10, pad: 0 },
                rec,
                Action::App { len: 5, pad: 0 },
                Action::Deliver(Seg::Whole, None),
                Action::Read(100),
                Action::HasPending,
                Action::Pending,
                Action::Read(100),
                Action::Write(10, Buf::A),
                Action::Shutdown,
                Action::Peek(5),
            ];
            cases += 1;
            if let Err((m, _)) = check(&s) {
                failures.push(format!("{} ({:?}): {m}", s.name, s.actions[1]));
            }
        }
    }
    assert!(cases >= 300, "{cases} cases");
    assert!(
        failures.is_empty(),
        "{} of {cases} differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Issue #12: handshake messages OpenSSL refuses on their 4-byte header
/// (a type its state machine does not take there, a declared size over its
/// bound), whole, cut short by the record's end, or with their header split
/// over two records; and one refused on its body. What `SSL_has_pending`
/// says afterwards shows how much of the record OpenSSL read: the header
/// alone (docs/rules-stream-end.md, rule 13). Every suite, both versions,
/// deterministic.
#[test]
fn handshake_messages_refused_on_their_header_agree_with_libssl() {
    use oracle::{Action, Buf, Seg, TLS12_SUITES, TLS13_SUITES};
    use tlsrec::Version;
    let mut failures = Vec::new();
    let mut cases = 0;
    for (k, suite) in TLS12_SUITES.iter().chain(TLS13_SUITES.iter()).enumerate() {
        let tls13 = suite.version() == Version::Tls13;
        // A type the client does not take after the handshake: Finished
        // (TLS 1.3), ServerHelloDone (TLS 1.2); and one it takes whose
        // declared size is over the bound (KeyUpdate: 1 byte; TLS 1.2:
        // HelloRequest, 0 bytes).
        let refused: u8 = if tls13 { 20 } else { 14 };
        let bounded: u8 = if tls13 { 24 } else { 0 };
        let hs = |bytes: &[u8]| Action::Handshake(bytes.to_vec());
        let mut records: Vec<Vec<Action>> = vec![
            vec![hs(&[refused, 0, 0, 0])],
            vec![hs(&[refused, 0, 0, 2, 0, 0])],
            vec![hs(&[refused, 0, 0, 1, 0, 7, 7, 7])],
            vec![hs(&[refused, 0, 0, 100, 1, 2, 3]), hs(&[9; 97])],
            vec![hs(&[refused, 0]), hs(&[0, 2, 5, 5])],
            vec![hs(&[refused, 0]), hs(&[0, 0])],
            vec![hs(&[0x63, 0, 0, 1, 0])],
            vec![hs(&[bounded, 0, 0, 2])],
            vec![hs(&[bounded, 0, 0, 2, 0, 0])],
            vec![hs(&[bounded, 0, 0, 9, 0]), hs(&[0; 8])],
        ];
        if tls13 {
            // A NewSessionTicket taken, then what follows it in its record:
            // part of a header (moved into OpenSSL's handshake fragment
            // when it reads on), completed by the next record or not.
            let body = [0u8, 0, 0, 9, 1, 2, 3, 4, 1, 7, 0, 1, 0xaa, 0, 0];
            let nst = [&[4u8, 0, 0, body.len() as u8][..], &body].concat();
            records.push(vec![hs(&[&nst[..], &[0, 0]].concat())]);
            records.push(vec![hs(&[&nst[..], &[20, 0]].concat()), hs(&[0, 0])]);
            records.push(vec![hs(&[&nst[..], &nst[..2]].concat()), hs(&nst[2..])]);
            records.push(vec![hs(&[&nst[..], &nst[..]].concat())]);
        } else {
            // A HelloRequest (the renegotiation starts: what follows it is
            // read by the handshake) then: a byte of the next header, a
            // HelloRequest skipped, one declaring a body, a message out of
            // place.
            for rest in [
                &[0u8][..],
                &[0, 0],
                &[0, 0, 0, 0],
                &[0, 0, 0, 1, 0],
                &[0, 0, 0, 1],
                &[14, 0, 0, 0],
                &[14, 0, 0, 3, 1, 2, 3],
            ] {
                records.push(vec![hs(&[&[0u8, 0, 0, 0][..], rest].concat())]);
            }
        }
        for (j, recs) in records
            .into_iter()
            .flat_map(|r| [(r.clone(), true), (r, false)])
            .enumerate()
        {
            let (recs, auto_retry) = recs;
            let mut s = Scenario::generate(Family::Crafted, 9_100_000 + k as u64, true);
            s.options.auto_retry = auto_retry;
            s.suite = *suite;
            s.server_tickets = 0;
            s.name = format!("crafted-{}-header-{j}", suite.name().to_ascii_lowercase());
            s.fatal_call_limit = 12;
            let what = format!("{recs:?}");
            let mut actions = vec![Action::App { len: 10, pad: 0 }];
            actions.extend(recs);
            actions.extend([
                // First with nothing after the handshake records.
                Action::Deliver(Seg::Whole, None),
                Action::Read(100),
                Action::Read(100),
                Action::HasPending,
                Action::App { len: 5, pad: 0 },
                Action::Deliver(Seg::Whole, None),
                Action::Read(100),
                Action::HasPending,
                Action::Read(100),
                Action::HasPending,
                Action::Pending,
                Action::Read(100),
                Action::Write(10, Buf::A),
                Action::Shutdown,
                Action::Peek(5),
                Action::HasPending,
            ]);
            s.actions = actions;
            cases += 1;
            if let Err((m, _)) = check(&s) {
                failures.push(format!("{} ({what}): {m}", s.name));
            }
        }
    }
    assert!(cases >= 250, "{cases} cases");
    assert!(
        failures.is_empty(),
        "{} of {cases} differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Issue #12: the client's hello clears OpenSSL's shutdown flags
/// (`s->shutdown = 0` in the ClientHello's pre-work), whether our
/// close_notify went out or the peer's arrived before it; and `SSL_peek`
/// after the peer's close_notify reports what the last call was left
/// waiting for (docs/rules-stream-end.md, rules 14 and 15). Scripts on a
/// live OpenSSL server, every TLS 1.2 suite, auto_retry on and off.
#[test]
fn our_hello_after_a_close_notify_agrees_with_libssl() {
    use oracle::{Action as A, Buf, Seg, TLS12_SUITES};
    let d = || A::Deliver(Seg::Whole, None);
    let scripts: Vec<Vec<A>> = vec![
        // Our close_notify, then our renegotiation's ClientHello.
        vec![
            A::ClientReneg,
            A::Shutdown,
            A::Read(100),
            A::Write(10, Buf::A),
            A::Shutdown,
        ],
        vec![
            A::ClientReneg,
            A::Shutdown,
            A::Write(10, Buf::A),
            A::Pump,
            d(),
            A::Read(100),
            A::Write(10, Buf::B),
            A::Shutdown,
            A::Pump,
            d(),
            A::Shutdown,
            A::Read(100),
        ],
        // The peer's close_notify, then our ClientHello (a write starts it).
        vec![
            A::Close,
            d(),
            A::Read(100),
            A::ClientReneg,
            A::Write(10, Buf::A),
            A::Peek(5),
            A::Read(100),
            A::HasPending,
            A::Pump,
            d(),
            A::Read(100),
            A::Write(10, Buf::B),
        ],
        // The peer's HelloRequest and close_notify in one delivery: the
        // ClientHello goes out first, the close_notify is read after it.
        vec![
            A::HelloRequest,
            A::Close,
            d(),
            A::Read(100),
            A::Write(10, Buf::A),
            A::Peek(1),
            A::Peek(1),
            A::Read(5),
            A::Peek(1),
            A::Shutdown,
        ],
        vec![
            A::HelloRequest,
            A::Close,
            d(),
            A::Read(100),
            A::Write(10, Buf::A),
            A::Pump,
            d(),
            A::Peek(1),
            A::Write(10, Buf::A),
            A::Read(5),
        ],
    ];
    let mut failures = Vec::new();
    let mut cases = 0;
    for (k, suite) in TLS12_SUITES.iter().enumerate() {
        for (j, script) in scripts.iter().enumerate() {
            for auto_retry in [true, false] {
                let mut s = Scenario::generate(Family::Reneg, 9_200_000 + k as u64, true);
                s.options.auto_retry = auto_retry;
                s.suite = *suite;
                s.name = format!(
                    "reneg-{}-hello-{j}-{}",
                    suite.name().to_ascii_lowercase(),
                    u8::from(auto_retry)
                );
                s.fatal_call_limit = 12;
                s.actions = script.clone();
                cases += 1;
                if let Err((m, _)) = check(&s) {
                    failures.push(format!("{}: {m}", s.name));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {cases} differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
