//! Live differential tests: random scenarios run against the system libssl
//! (an OpenSSL 3 client over in-memory streams), then replayed through
//! tlsrec twice, following the client's handshakes and driving them itself
//! after the first ([`ReplayMode`]); every call must return what OpenSSL
//! returned, and, driven, every record sent must be the one OpenSSL sent.
//!
//! `TLSREC_DIFF_CASES` sets the number of cases (default 2000) and
//! `TLSREC_DIFF_SEED` the first seed (default: a fixed one, so a run
//! reproduces; CI may vary it). A failure is shrunk to a minimal script and
//! written to `target/differential/NAME.json` for `tlsrec replay`.

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
    let cases = env_u64("TLSREC_DIFF_CASES", 2000);
    let first = env_u64("TLSREC_DIFF_SEED", 1_000_000);
    let mut failures = Vec::new();
    let mut steps = 0usize;
    let mut driven_handshakes = 0u64;
    for i in 0..cases {
        let family = FAMILIES[(i % 4) as usize];
        let s = Scenario::generate(family, first + i, true);
        if std::env::var_os("TLSREC_DIFF_VERBOSE").is_some() {
            eprintln!("{}", s.name);
        }
        match check(&s) {
            Ok(n) => {
                steps += s.actions.len();
                driven_handshakes += n;
            }
            Err((m, _)) if m.starts_with("oracle failed") => panic!("{}: {m}", s.name),
            Err(_) => {
                let (min, msg, text) = shrink(s);
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
                if failures.len() >= 5 {
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
}
