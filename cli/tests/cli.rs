//! The command line as a user meets it: help, version, usage errors (exit 2),
//! `replay` results and `--json`. Runs the built `tlsrec` binary (cargo builds
//! it for the package's integration tests and names it in
//! `CARGO_BIN_EXE_tlsrec`); std's `Command` is all these tests need, so no
//! assert_cmd.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn tlsrec(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tlsrec"))
        .args(args)
        .output()
        .expect("run tlsrec")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn vectors(sub: &str) -> String {
    root().join("vectors").join(sub).display().to_string()
}

/// A fresh empty folder under the target's temp dir.
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tlsrec-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[track_caller]
fn usage_error(args: &[&str], names: &str) {
    let o = tlsrec(args);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
    assert!(err.contains(names), "{args:?}: {err:?} lacks {names:?}");
    assert!(o.stdout.is_empty(), "{args:?}: {}", text(&o.stdout));
}

#[test]
fn version() {
    let o = tlsrec(&["--version"]);
    assert!(o.status.success());
    assert_eq!(
        text(&o.stdout).trim(),
        format!("tlsrec {}", env!("CARGO_PKG_VERSION"))
    );
    // Every command answers --version too.
    let o = tlsrec(&["decode", "--version"]);
    assert!(o.status.success());
}

#[test]
fn per_command_help() {
    for (cmd, flag) in [
        ("replay", "--mode"),
        ("decode", "--keylog"),
        ("bench", "--time-ms"),
    ] {
        for how in [vec![cmd, "--help"], vec![cmd, "-h"], vec!["help", cmd]] {
            let o = tlsrec(&how);
            let out = text(&o.stdout);
            assert!(o.status.success(), "{how:?}: {}", text(&o.stderr));
            assert!(
                out.contains(&format!("Usage: tlsrec {cmd}")) && out.contains(flag),
                "{how:?}: {out}"
            );
        }
    }
    // The top-level help lists every command.
    let out = text(&tlsrec(&["--help"]).stdout);
    for cmd in ["replay", "decode", "bench", "help"] {
        assert!(out.contains(cmd), "{out}");
    }
}

#[test]
fn usage_errors_exit_2_and_name_the_problem() {
    usage_error(&[], "Usage: tlsrec <COMMAND>");
    usage_error(&["frobnicate"], "unrecognized subcommand 'frobnicate'");
    usage_error(&["replay", "--bogus", "x"], "unexpected argument '--bogus'");
    usage_error(&["decode", "--bogus"], "unexpected argument '--bogus'");
    usage_error(&["bench", "--rounds", "0"], "--rounds");
    usage_error(&["bench", "--time-ms", "soon"], "--time-ms");
    usage_error(&["replay"], "<PATH>");
    usage_error(
        &["replay", "/no/such/transcripts"],
        "no such file or folder: /no/such/transcripts",
    );
    usage_error(&["replay", "--mode", "sideways", "x"], "sideways");
    let empty = scratch("empty");
    std::fs::write(empty.join("notes.txt"), "not a transcript").unwrap();
    usage_error(
        &["replay", empty.to_str().unwrap()],
        &format!("no transcripts (*.json) in folder {}", empty.display()),
    );
    usage_error(
        &["decode", "--keylog", "k.log"],
        "--keylog needs the captured bytes",
    );
    usage_error(
        &["decode", "--keylog", "k.log", "--c2s", "a"],
        "--s2c <FILE>",
    );
    usage_error(&["decode"], "nothing to decode");
    usage_error(
        &["decode", "/no/such/transcript.json"],
        "cannot read /no/such/transcript.json",
    );
}

#[test]
fn replay_counts_and_exit_codes() {
    let o = tlsrec(&["replay", &vectors("openssl-samples")]);
    let out = text(&o.stdout);
    assert!(o.status.success(), "{out}");
    let last = out.lines().last().unwrap();
    let (passed, rest) = last.split_once(" passed, ").unwrap();
    assert!(passed.parse::<usize>().unwrap() >= 30, "{last}");
    assert_eq!(rest, "0 failed");

    // A transcript that does not match what it says OpenSSL returned: a
    // finding (exit 1), with its FAIL line.
    let dir = scratch("bad");
    let src = root().join("vectors/openssl-samples/crafted-tls_aes_256_gcm_sha384-s1000-1.json");
    let good = std::fs::read_to_string(&src).unwrap();
    let bad = good.replacen("\"pending\": 0", "\"pending\": 7", 1);
    assert_ne!(good, bad);
    let bad_path = dir.join("bad.json");
    std::fs::write(&bad_path, bad).unwrap();
    let o = tlsrec(&["replay", bad_path.to_str().unwrap()]);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("FAIL ") && out.contains("pending"), "{out}");
    assert_eq!(out.lines().last(), Some("0 passed, 1 failed"));

    // An unparsable transcript is a failed transcript too, not a usage error.
    std::fs::write(dir.join("broken.json"), "{").unwrap();
    let o = tlsrec(&["replay", dir.to_str().unwrap()]);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("cannot read transcript"), "{out}");
    assert_eq!(out.lines().last(), Some("0 passed, 2 failed"));
}

#[test]
fn replay_json_and_modes() {
    let dir = vectors("openssl-samples");
    let o = tlsrec(&["replay", "--json", "--mode", "both", &dir]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect(l))
        .collect();
    let (summary, files) = lines.split_last().unwrap();
    assert!(files.len() >= 30);
    for f in files {
        assert_eq!(f["passed"], true, "{f}");
        assert_eq!(f["modes"]["followed"], "passed", "{f}");
        assert_eq!(f["modes"]["driven"], "passed", "{f}");
        assert!(f["file"].as_str().unwrap().ends_with(".json"));
    }
    assert_eq!(summary["summary"]["passed"], files.len());
    assert_eq!(summary["summary"]["failed"], 0);
    assert_eq!(summary["summary"]["mode"], "both");

    // The default output is the plain one, its last line the count.
    let o = tlsrec(&["replay", "--mode", "driven", &dir]);
    assert!(o.status.success());
    assert_eq!(
        text(&o.stdout).trim(),
        format!("{} passed, 0 failed", files.len())
    );

    // A failing transcript in --json: its mismatch, structured per mode.
    let d = scratch("json-bad");
    let src = root().join("vectors/openssl-samples/crafted-tls_aes_256_gcm_sha384-s1000-1.json");
    let bad = std::fs::read_to_string(src)
        .unwrap()
        .replacen("\"pending\": 0", "\"pending\": 7", 1);
    std::fs::write(d.join("bad.json"), bad).unwrap();
    let o = tlsrec(&["replay", "--json", "--mode", "both", d.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let out = text(&o.stdout);
    let first: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(first["passed"], false);
    assert!(first["modes"]["followed"]["mismatch"]
        .as_str()
        .unwrap()
        .contains("pending"));
}

/// A folder holding transcripts of several releases: each release's counts
/// (and the profile it replayed under), then the usual last line.
#[test]
fn replay_counts_per_release_in_a_mixed_folder() {
    let dir = scratch("mixed");
    let mut want = 0;
    for (sub, n) in [
        ("openssl-1.1.1", 3),
        ("openssl-3.5", 3),
        ("openssl-4.0", 3),
        ("openssl-samples", 2),
    ] {
        let mut names: Vec<PathBuf> = std::fs::read_dir(vectors(sub))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        names.sort();
        // The minimal examples of each release's differences come first:
        // they pass only under their own profile.
        names.sort_by_key(|p| !p.file_name().unwrap().to_str().unwrap().starts_with("min-"));
        for p in names.iter().take(n) {
            let to = dir.join(format!(
                "{sub}-{}",
                p.file_name().unwrap().to_str().unwrap()
            ));
            std::fs::copy(p, to).unwrap();
            want += 1;
        }
    }
    let o = tlsrec(&["replay", "--mode", "both", dir.to_str().unwrap()]);
    let out = text(&o.stdout);
    assert!(o.status.success(), "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines,
        [
            "no release named (profile 3.0): 2 passed, 0 failed",
            "OpenSSL 1.1.1w (profile 1.1.1): 3 passed, 0 failed",
            "OpenSSL 3.5.5 (profile 3.5): 3 passed, 0 failed",
            "OpenSSL 4.0.3 (profile 4.0): 3 passed, 0 failed",
            &format!("{want} passed, 0 failed"),
        ],
        "{out}"
    );

    // --json: the same counts in the summary, and each file's release and
    // profile.
    let o = tlsrec(&["replay", "--json", dir.to_str().unwrap()]);
    let out = text(&o.stdout);
    let last: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    let r = &last["summary"]["releases"];
    assert_eq!(r["OpenSSL 4.0.3"]["profile"], "4.0", "{last}");
    assert_eq!(r["OpenSSL 4.0.3"]["passed"], 3, "{last}");
    assert_eq!(r["no release named"]["passed"], 2, "{last}");
    let first: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(first["release"], "1.1.1w", "{first}");
    assert_eq!(first["profile"], "1.1.1", "{first}");

    // A folder of one release prints only the last line.
    let o = tlsrec(&["replay", &vectors("openssl-samples")]);
    assert_eq!(text(&o.stdout).lines().count(), 1);
}

/// `--profile` replays every transcript under the profile it names: 4.0's
/// minimal differences fail under 3.0's rules and pass under 4.0's; a
/// 3.0 transcript passes under 1.1.1 (the same answers there).
#[test]
fn replay_profile_overrides_the_release() {
    let min = root().join("vectors/openssl-4.0/min-write-tls_aes_128_gcm_sha256-s5000606.json");
    let min = min.to_str().unwrap();
    let o = tlsrec(&["replay", min]);
    assert!(o.status.success(), "{}", text(&o.stdout));
    for p in ["3.0", "3.5", "1.1.1", "rfc"] {
        let o = tlsrec(&["replay", "--profile", p, min]);
        let out = text(&o.stdout);
        assert_eq!(o.status.code(), Some(1), "--profile {p}: {out}");
        assert!(out.contains("tlsrec err SYSCALL"), "--profile {p}: {out}");
        assert_eq!(out.lines().last(), Some("0 passed, 1 failed"));
    }
    let o = tlsrec(&["replay", "--profile", "4.0", min]);
    assert!(o.status.success(), "{}", text(&o.stdout));
    // The profile shows in --json.
    let o = tlsrec(&["replay", "--json", "--profile", "rfc", min]);
    let first: serde_json::Value =
        serde_json::from_str(text(&o.stdout).lines().next().unwrap()).unwrap();
    assert_eq!(first["profile"], "rfc");
    assert_eq!(first["release"], "4.0.3");
    usage_error(&["replay", "--profile", "2.0", min], "'2.0'");
}
