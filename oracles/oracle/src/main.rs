//! The live oracle as a program: the differential test's scenarios
//! (tests/oracle, unchanged) run against the libssl this binary is linked
//! with, written as `tlsrec-transcript/1` files and/or replayed through
//! tlsrec. Built once per OpenSSL version (oracles/README.md).
//!
//! ```text
//! tlsrec-oracle [--cases N] [--seed S] [--out DIR] [--check] [--examples K] [--shrink] [--report FILE] [--probe-eof] [--ends] [--fail-on-difference] [--probe-ccs] [--active [--profile VERSION]]
//! ```
//! Case `i` is family `i % 4` (real, crafted, write, reneg) with seed
//! `S + i`, as in tests/differential.rs. `--out` writes each transcript
//! (`DIR/NAME.json`); `--check` replays each in both modes
//! ([`ReplayMode::Followed`], then [`ReplayMode::Driven`]) and prints the
//! differences per family and per kind (the call and the two results);
//! `--shrink` cuts the first example of each kind down by greedy removal of
//! actions (keeping that kind), `--report` writes one JSON line per
//! differing case; `--fail-on-difference` makes any difference exit 1
//! (a scenario the oracle itself cannot run always does). `--probe-eof` ends every scenario with the end of the
//! stream and calls after it (names get `-eof`), which the generator never
//! does. `--ends` makes every case as the differential test's second
//! test does (`Scenario::generate_with_end`: the stream ends one of several
//! ways, calls follow; names get `-end`). `--probe-ccs` runs only a fixed probe: the crafted peer's 1-byte
//! ChangeCipherSpec record after the handshake, in every suite (27
//! scenarios; with `--out` their transcripts, with `--fail-on-difference`
//! exit 1 if tlsrec differs on any). `--active` runs instead the active
//! family of tests/differential_active.rs: tlsrec as a TLS 1.2 client or
//! server with its own handshake, under this release's profile (or
//! `--profile VERSION`'s), against a libssl peer, compared call by call
//! with this libssl in its place (`--cases`, `--seed` as above; the test's
//! own default seed is 15,000,000).

#[allow(dead_code, unreachable_pub, unsafe_code, clippy::all)]
mod oracle {
    include!(concat!(env!("OUT_DIR"), "/oracle.rs"));
}

/// tests/differential_active.rs: `--active`.
#[allow(dead_code, unreachable_pub, unsafe_code, unused_imports, clippy::all)]
mod active {
    include!(concat!(env!("OUT_DIR"), "/active.rs"));
}

use std::collections::BTreeMap;
use std::io::Write as _;
use std::panic::{catch_unwind, AssertUnwindSafe};

use oracle::{record, Family, Scenario};
use serde_json::{json, Map, Value};
use tlsrec::replay::{replay_as, ReplayMode};
use tlsrec::transcript::Transcript;

const FAMILIES: [Family; 4] = [Family::Real, Family::Crafted, Family::Write, Family::Reneg];

/// The release of the linked libssl, e.g. `1.1.1w`, `3.5.5`.
fn openssl_release() -> String {
    openssl::version::version()
        .split_whitespace()
        .nth(1)
        .unwrap_or("unknown")
        .to_string()
}

/// How a case went.
enum Outcome {
    Agree,
    /// The oracle itself could not run the scenario.
    OracleFailed(String),
    /// tlsrec differs: mode, the kind key, the full message.
    Differ {
        mode: &'static str,
        kind: String,
        message: String,
    },
}

/// `--active`: the active family (tests/differential_active.rs) against
/// this libssl: tlsrec with its own TLS 1.2 handshake, as client or
/// server, under this release's profile, against a libssl peer, compared
/// with this libssl in the same place. Prints each differing case (up to
/// 20; shrunk with `--shrink`) and a summary; returns how many differ.
/// `--profile VERSION` runs tlsrec under another release's profile
/// instead: the check must then find differences (1.1.1w and 4.0.3 under
/// the 3.0 profile: 18 of 300 and 20 of the first 38 cases from seed
/// 15,000,000 differ).
fn run_active(
    release: &str,
    profile_override: Option<&str>,
    seed: u64,
    cases: u64,
    shrink: bool,
) -> usize {
    let profile = tlsrec::Profile::of_openssl(release)
        .unwrap_or_else(|| panic!("no profile for OpenSSL {release}"));
    let profile = match profile_override {
        Some(v) => tlsrec::Profile::of_openssl(v)
            .unwrap_or_else(|| panic!("--profile {v}: 1.1.1, 3.0, 3.5 or 4.0")),
        None => profile,
    };
    let linked = active::Linked {
        profile,
        options_of_3_0: !cfg!(before_ossl3),
    };
    assert!(active::LINKED.set(linked).is_ok(), "set once");
    eprintln!(
        "{} (built against headers {}), active family under {profile:?}, {cases} cases from seed {seed}",
        openssl::version::version(),
        env!("ORACLE_OPENSSL_NUMBER")
    );
    let sum = active::run_cases(seed, cases, None, 20, shrink, false);
    for f in &sum.failures {
        println!("- {f}");
    }
    println!(
        "--active: {} of {} cases differ ({} actions, {} handshakes completed by the subjects)",
        sum.failures.len(),
        sum.ran,
        sum.actions,
        sum.handshakes
    );
    sum.failures.len()
}

/// The scenario as this libssl can run it: 1.1.1 has no
/// SSL_OP_IGNORE_UNEXPECTED_EOF, so the option is off there.
/// Case `seed` of `family`: as tests/differential.rs's first test makes it,
/// or with `ends` as its second (`Scenario::generate_with_end`: the stream
/// ends one of several ways and calls follow).
fn scenario(family: Family, seed: u64, ends: bool) -> Scenario {
    if ends {
        Scenario::generate_with_end(family, seed, true)
    } else {
        Scenario::generate(family, seed, true)
    }
}

fn adapt(mut s: Scenario) -> Scenario {
    if cfg!(before_ossl3) {
        s.options.ignore_unexpected_eof = false;
    }
    s
}

/// `--probe-eof`: the scenario, then everything pending delivered, end of
/// stream, and calls after it. The generator never calls anything after
/// `Eof`, where versions are known to differ (1.1.1 and 3.0 report an
/// unexpected EOF differently). The name gets `-eof`.
fn probe_eof(mut s: Scenario) -> Scenario {
    use oracle::{Action, Seg};
    s.name.push_str("-eof");
    s.actions.retain(|a| *a != Action::Eof);
    s.actions.extend([
        Action::Deliver(Seg::Whole, None),
        Action::Eof,
        Action::Read(100),
        Action::Peek(100),
        Action::Pending,
        Action::Read(100),
    ]);
    s
}

/// `--probe-ccs`: the crafted peer's 1-byte ChangeCipherSpec record after
/// the handshake, read with and without data before it, in every suite.
/// Prints what OpenSSL answered and whether tlsrec agrees; with `out`,
/// writes each transcript as `OUT/NAME.json`. Returns how many differ.
fn probe_ccs(release: &str, out: Option<&str>) -> usize {
    let mut differ = 0;
    use oracle::{Action, Options, Seg, TLS12_SUITES, TLS13_SUITES};
    let scripts: [(&str, Vec<Action>); 3] = [
        (
            "ccs, read",
            vec![
                Action::Fault(oracle::Fault::Ccs),
                Action::Deliver(Seg::Whole, None),
                Action::Read(100),
            ],
        ),
        (
            "data, ccs, read, read",
            vec![
                Action::App { len: 3, pad: 0 },
                Action::Fault(oracle::Fault::Ccs),
                Action::Deliver(Seg::Whole, None),
                Action::Read(100),
                Action::Read(100),
            ],
        ),
        (
            "data, ccs, read, peek",
            vec![
                Action::App { len: 3, pad: 0 },
                Action::Fault(oracle::Fault::Ccs),
                Action::Deliver(Seg::Whole, None),
                Action::Read(100),
                Action::Peek(100),
            ],
        ),
    ];
    for suite in TLS12_SUITES.iter().chain(TLS13_SUITES.iter()) {
        for (i, (label, actions)) in scripts.iter().enumerate() {
            let s = Scenario {
                name: format!(
                    "crafted-{}-ccs-probe-{}",
                    suite.name().to_ascii_lowercase(),
                    i + 1
                ),
                family: Family::Crafted,
                suite: *suite,
                options: Options {
                    auto_retry: true,
                    accept_moving_buffer: false,
                    partial_write: false,
                    max_send_fragment: None,
                    ignore_unexpected_eof: false,
                },
                server_tickets: 0,
                actions: actions.clone(),
                fatal_call_limit: 3,
            };
            let (outcome, text) = run_case(&s, release);
            if let (Some(dir), Some(t)) = (out, &text) {
                std::fs::create_dir_all(dir).expect("--out folder");
                std::fs::write(format!("{dir}/{}.json", s.name), t).expect("write transcript");
            }
            let calls: Vec<String> = text
                .and_then(|t| serde_json::from_str::<Value>(&t).ok())
                .and_then(|v| v.get("steps").and_then(Value::as_array).cloned())
                .unwrap_or_default()
                .iter()
                .filter(|st| st.get("read").is_some() || st.get("peek").is_some())
                .map(|st| {
                    let mut o = st.as_object().cloned().unwrap_or_default();
                    if let Some(Value::String(h)) = o.get("ok") {
                        let n = h.len() / 2;
                        o.insert("ok".into(), format!("{n} bytes").into());
                    }
                    Value::Object(o).to_string()
                })
                .collect();
            let verdict = match outcome {
                Outcome::Agree => "tlsrec agrees".to_string(),
                Outcome::OracleFailed(e) => {
                    differ += 1;
                    format!("oracle failed: {e}")
                }
                Outcome::Differ { message, .. } => {
                    differ += 1;
                    format!("tlsrec differs: {message}")
                }
            };
            println!(
                "{} [{label}]: {}; {verdict}",
                suite.name(),
                calls.join(", ")
            );
        }
    }
    differ
}

/// Records `s` and adds the `openssl` field (after `oracle`).
fn transcript(s: &Scenario, release: &str) -> Result<Value, String> {
    let rec = record(s)?;
    let Value::Object(m) = rec.transcript else {
        return Err("transcript is not an object".into());
    };
    let mut out = Map::new();
    for (k, v) in m {
        let after = k == "oracle";
        out.insert(k, v);
        if after {
            out.insert("openssl".into(), release.into());
        }
    }
    Ok(Value::Object(out))
}

/// `read(100)` -> `read`; `ok 5 bytes ...` -> `ok`; numbers -> `N`.
fn kind_of(m: &tlsrec::replay::Mismatch) -> String {
    let call = m.call.split('(').next().unwrap_or("").to_string();
    let norm = |r: &str| {
        if r.starts_with("ok") {
            "ok".to_string()
        } else if !r.is_empty() && r.chars().all(|c| c.is_ascii_digit()) {
            "N".to_string()
        } else if r.ends_with("bytes") || r.ends_with("bytes sent") || r.contains(" records where ")
        {
            r.split_whitespace()
                .map(|w| {
                    if w.chars().all(|c| c.is_ascii_digit()) {
                        "N"
                    } else {
                        w
                    }
                })
                .collect::<Vec<_>>()
                .join(" ")
        } else {
            r.to_string()
        }
    };
    format!(
        "{call}: OpenSSL {} / tlsrec {}",
        norm(&m.openssl),
        norm(&m.tlsrec)
    )
}

fn check(text: &str) -> Outcome {
    let t = match Transcript::parse(text) {
        Ok(t) => t,
        Err(e) => {
            return Outcome::Differ {
                mode: "parse",
                kind: "Transcript::parse refused it".into(),
                message: e,
            }
        }
    };
    for (mode, name) in [
        (ReplayMode::Followed, "followed"),
        (ReplayMode::Driven, "driven"),
    ] {
        match catch_unwind(AssertUnwindSafe(|| replay_as(&t, mode))) {
            Ok(Ok(_)) => {}
            Ok(Err(m)) => {
                return Outcome::Differ {
                    mode: name,
                    kind: kind_of(&m),
                    message: m.to_string(),
                }
            }
            Err(_) => {
                return Outcome::Differ {
                    mode: name,
                    kind: "tlsrec panicked".into(),
                    message: "tlsrec panicked".into(),
                }
            }
        }
    }
    Outcome::Agree
}

fn run_case(s: &Scenario, release: &str) -> (Outcome, Option<String>) {
    let v = match catch_unwind(AssertUnwindSafe(|| transcript(s, release))) {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => return (Outcome::OracleFailed(e), None),
        Err(_) => return (Outcome::OracleFailed("oracle panicked".into()), None),
    };
    let text = serde_json::to_string(&v).unwrap();
    (check(&text), Some(text))
}

/// Greedy one-at-a-time removal of actions while the case still differs
/// in the same kind (tests/differential.rs's shrink, kind-preserving).
fn shrink(mut s: Scenario, kind: &str, release: &str) -> (Scenario, String, String) {
    let (mut msg, mut text) = match run_case(&s, release) {
        (Outcome::Differ { message, .. }, Some(t)) => (message, t),
        _ => (String::new(), String::new()),
    };
    let mut i = s.actions.len();
    let mut tries = 0;
    while i > 0 && tries < 400 {
        i -= 1;
        tries += 1;
        let mut t = s.clone();
        t.actions.remove(i);
        if let (
            Outcome::Differ {
                kind: k, message, ..
            },
            Some(x),
        ) = run_case(&t, release)
        {
            if k == kind {
                s = t;
                msg = message;
                text = x;
            }
        }
    }
    (s, msg, text)
}

#[derive(Default)]
struct FamilyCount {
    cases: u64,
    differ: u64,
    followed: u64,
    driven: u64,
    oracle_failed: u64,
}

struct Kind {
    count: u64,
    per_family: BTreeMap<&'static str, u64>,
    /// (actions, family, seed, name, mode, message)
    first: Vec<(usize, &'static str, u64, String, &'static str, String)>,
}

fn main() {
    let mut cases = 200u64;
    let mut seed = 5_000_000u64;
    let mut out: Option<String> = None;
    let mut do_check = false;
    let mut examples = 3usize;
    let mut do_shrink = false;
    let mut report: Option<String> = None;
    let mut eof = false;
    let mut strict = false;
    let mut ccs = false;
    let mut ends = false;
    let mut active = false;
    let mut profile: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().unwrap_or_else(|| panic!("{a} needs a value"));
        match a.as_str() {
            "--cases" => cases = val().parse().expect("--cases N"),
            "--seed" => seed = val().parse().expect("--seed S"),
            "--out" => out = Some(val()),
            "--check" => do_check = true,
            "--examples" => examples = val().parse().expect("--examples K"),
            "--shrink" => do_shrink = true,
            "--report" => report = Some(val()),
            "--probe-eof" => eof = true,
            "--fail-on-difference" => strict = true,
            "--probe-ccs" => ccs = true,
            "--ends" => ends = true,
            "--active" => active = true,
            "--profile" => profile = Some(val()),
            "--version" => {
                println!("{}", openssl::version::version());
                return;
            }
            _ => {
                eprintln!("usage: tlsrec-oracle [--cases N] [--seed S] [--out DIR] [--check] [--examples K] [--shrink] [--report FILE] [--probe-eof] [--ends] [--fail-on-difference] [--probe-ccs] [--active [--profile VERSION]]");
                std::process::exit(2);
            }
        }
    }
    if active {
        let differ = run_active(
            &openssl_release(),
            profile.as_deref(),
            seed,
            cases,
            do_shrink,
        );
        if strict && differ > 0 {
            std::process::exit(1);
        }
        return;
    }
    if ccs {
        let differ = probe_ccs(&openssl_release(), out.as_deref());
        println!("--probe-ccs: {differ} of 27 differ");
        if strict && differ > 0 {
            std::process::exit(1);
        }
        return;
    }
    if out.is_none() && !do_check {
        eprintln!("nothing to do: give --out DIR and/or --check");
        std::process::exit(2);
    }
    let release = openssl_release();
    if let Some(dir) = &out {
        std::fs::create_dir_all(dir).expect("output folder");
    }
    let mut report_file = report.map(|p| std::fs::File::create(p).expect("report file"));
    eprintln!(
        "{} (built against headers {}), {cases} cases from seed {seed}",
        openssl::version::version(),
        env!("ORACLE_OPENSSL_NUMBER")
    );
    let started = std::time::Instant::now();
    let mut fams: BTreeMap<&'static str, FamilyCount> = BTreeMap::new();
    let mut kinds: BTreeMap<String, Kind> = BTreeMap::new();
    let mut oracle_failures = Vec::new();
    let mut written = 0u64;
    for i in 0..cases {
        let family = FAMILIES[(i % 4) as usize];
        let case_seed = seed + i;
        let mut s = adapt(scenario(family, case_seed, ends));
        if eof {
            s = probe_eof(s);
        }
        let fc = fams.entry(family.name()).or_default();
        fc.cases += 1;
        let (outcome, text) = if do_check {
            run_case(&s, &release)
        } else {
            match transcript(&s, &release) {
                Ok(v) => (Outcome::Agree, Some(serde_json::to_string(&v).unwrap())),
                Err(e) => (Outcome::OracleFailed(e), None),
            }
        };
        if let (Some(dir), Some(text)) = (&out, &text) {
            std::fs::write(format!("{dir}/{}.json", s.name), format!("{text}\n"))
                .expect("write transcript");
            written += 1;
        }
        match outcome {
            Outcome::Agree => {}
            Outcome::OracleFailed(e) => {
                fc.oracle_failed += 1;
                if oracle_failures.len() < 10 {
                    oracle_failures.push(format!("{}: {e}", s.name));
                }
            }
            Outcome::Differ {
                mode,
                kind,
                message,
            } => {
                fc.differ += 1;
                if mode == "driven" {
                    fc.driven += 1;
                } else {
                    fc.followed += 1;
                }
                if let Some(f) = report_file.as_mut() {
                    let line = json!({
                        "openssl": release, "family": family.name(), "seed": case_seed,
                        "name": s.name, "actions": s.actions.len(), "mode": mode,
                        "kind": kind, "mismatch": message,
                    });
                    writeln!(f, "{line}").unwrap();
                }
                let k = kinds.entry(kind).or_insert_with(|| Kind {
                    count: 0,
                    per_family: BTreeMap::new(),
                    first: Vec::new(),
                });
                k.count += 1;
                *k.per_family.entry(family.name()).or_default() += 1;
                k.first.push((
                    s.actions.len(),
                    family.name(),
                    case_seed,
                    s.name.clone(),
                    mode,
                    message,
                ));
                k.first.sort_by_key(|e| e.0);
                k.first.truncate(examples.max(1));
            }
        }
    }
    let secs = started.elapsed().as_secs_f64();
    if let Some(dir) = &out {
        println!("{written} transcripts in {dir}");
    }
    for e in &oracle_failures {
        println!("oracle failed: {e}");
    }
    if !do_check {
        return;
    }
    println!("OpenSSL {release}: {cases} cases from seed {seed} in {secs:.1} s");
    println!("family    cases  differ  (followed  driven-only)  oracle-failed");
    let mut total = FamilyCount::default();
    for (name, c) in &fams {
        println!(
            "{name:<8} {:>6} {:>7}  ({:>8} {:>12})  {:>13}",
            c.cases, c.differ, c.followed, c.driven, c.oracle_failed
        );
        total.cases += c.cases;
        total.differ += c.differ;
        total.followed += c.followed;
        total.driven += c.driven;
        total.oracle_failed += c.oracle_failed;
    }
    println!(
        "{:<8} {:>6} {:>7}  ({:>8} {:>12})  {:>13}",
        "total", total.cases, total.differ, total.followed, total.driven, total.oracle_failed
    );
    println!("\nkinds of difference (call: OpenSSL result / tlsrec result):");
    for (kind, k) in &kinds {
        let fam: Vec<String> = k
            .per_family
            .iter()
            .map(|(f, n)| format!("{f} {n}"))
            .collect();
        println!("- {kind}\n    {} cases ({})", k.count, fam.join(", "));
        for (n, family, case_seed, name, mode, message) in &k.first {
            println!("    e.g. {family} seed {case_seed} ({name}, {n} actions, {mode}): {message}");
        }
        if do_shrink {
            let (n, family, case_seed, _, _, _) = k.first[0];
            let fam = FAMILIES
                .iter()
                .copied()
                .find(|f| f.name() == family)
                .unwrap();
            let mut s = adapt(scenario(fam, case_seed, ends));
            if eof {
                s = probe_eof(s);
            }
            let (min, msg, text) = shrink(s, kind, &release);
            println!(
                "    minimal ({} of {n} actions): {msg}\n      script: {:?}",
                min.actions.len(),
                min.actions
            );
            if let Some(dir) = &out {
                let d = format!("{dir}/minimal");
                std::fs::create_dir_all(&d).unwrap();
                std::fs::write(format!("{d}/{}.json", min.name), format!("{text}\n")).unwrap();
            }
        }
    }
    println!(
        "\n{} passed, {} failed",
        total.cases - total.differ - total.oracle_failed,
        total.differ
    );
    if total.oracle_failed > 0 || (strict && total.differ > 0) {
        std::process::exit(1);
    }
}
