//! `tlsrec decode` as a tester uses it: two-file input (each direction's
//! bytes in its own file, as a relay writes them) ordered by the protocol,
//! and honest exit codes and diagnoses for bad input. Runs the built binary
//! (`CARGO_BIN_EXE_tlsrec`) with std's `Command`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use tlsrec::transcript::{Step, Transcript};

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

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tlsrec-decode-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A capture as a relay writes it: the key log and each direction's bytes.
struct Capture {
    keylog: Vec<String>,
    c2s: Vec<u8>,
    s2c: Vec<u8>,
}

/// The two directions of a transcript: `recv` steps are s2c, `send` and
/// `drain` wire bytes c2s.
fn split(path: &Path) -> Capture {
    let json = std::fs::read_to_string(path).unwrap();
    let t = Transcript::parse(&json).unwrap();
    let v: Value = serde_json::from_str(&json).unwrap();
    let keylog = v["keylog"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().to_string())
        .collect();
    let (mut c2s, mut s2c) = (Vec::new(), Vec::new());
    for s in &t.steps {
        match s {
            Step::Recv(b) => s2c.extend_from_slice(b),
            Step::Send(b) | Step::Drain { wire: b, .. } => c2s.extend_from_slice(b),
            _ => {}
        }
    }
    Capture { keylog, c2s, s2c }
}

/// Writes the capture's three files; returns their paths as arguments.
fn write(dir: &Path, name: &str, keylog: &[String], c2s: &[u8], s2c: &[u8]) -> [String; 3] {
    let p = |ext: &str| dir.join(format!("{name}.{ext}"));
    std::fs::write(p("keylog"), keylog.join("\n") + "\n").unwrap();
    std::fs::write(p("c2s"), c2s).unwrap();
    std::fs::write(p("s2c"), s2c).unwrap();
    ["keylog", "c2s", "s2c"].map(|e| p(e).display().to_string())
}

/// `decode --json` of the two files: the records and the summary.
fn decode_two(files: &[String; 3]) -> (Output, Vec<Value>, Value) {
    let o = tlsrec(&[
        "decode", "--json", "--keylog", &files[0], "--c2s", &files[1], "--s2c", &files[2],
    ]);
    let mut lines: Vec<Value> = text(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect(l))
        .collect();
    let summary = lines.pop().expect("a summary line")["summary"].clone();
    (o, lines, summary)
}

fn transcripts(prefix: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("vectors/transcripts"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_str().unwrap().starts_with(prefix))
        .collect();
    v.sort();
    v
}

/// (offset, epoch, seq, type, summary) of each record of `dir`, in order.
fn rows(records: &[Value], dir: &str) -> Vec<(u64, u64, Value, Value, String)> {
    records
        .iter()
        .filter(|r| r["dir"] == dir)
        .map(|r| {
            (
                r["offset"].as_u64().unwrap(),
                r["epoch"].as_u64().unwrap(),
                r["seq"].clone(),
                r["type"].clone(),
                r["summary"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Every renegotiating transcript, written as two files and decoded from
/// them: every record opens and each direction's records (offset, epoch,
/// sequence number, type, summary) are those `tlsrec decode TRANSCRIPT`
/// gives, where the transcript has the true order of the two directions.
/// (The guess this replaced failed on 107 of these 120.)
#[test]
fn two_file_renegotiations_match_the_transcript() {
    let dir = scratch("reneg");
    let all = transcripts("reneg-");
    assert!(all.len() >= 100, "{} renegotiating transcripts", all.len());
    let mut most_epochs = 0;
    for path in &all {
        let name = path.file_stem().unwrap().to_str().unwrap();
        let cap = split(path);
        let files = write(&dir, name, &cap.keylog, &cap.c2s, &cap.s2c);
        let (o, two, summary) = decode_two(&files);
        let t = tlsrec(&["decode", "--json", path.to_str().unwrap()]);
        let mut one: Vec<Value> = text(&t.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let true_summary = one.pop().unwrap()["summary"].clone();
        for d in ["c2s", "s2c"] {
            let (a, b) = (rows(&two, d), rows(&one, d));
            assert_eq!(a, b, "{name} {d}");
            most_epochs = most_epochs.max(a.last().map_or(0, |r| r.1));
        }
        // The end-of-stream transcripts (`*-end`) may end in a record
        // spoiled on purpose; the others open whole.
        if !name.ends_with("-end") {
            assert_eq!(summary["not_opened"], 0, "{name}: {summary}");
        }
        assert_eq!(
            summary["not_opened"], true_summary["not_opened"],
            "{name}: {summary}"
        );
        // Only what the transcript itself leaves over (a stream cut by the
        // script) may be left over, and then the exit code says so.
        assert_eq!(summary["trailing"], true_summary["trailing"], "{name}");
        assert_eq!(o.status.success(), t.status.success(), "{name}");
    }
    assert!(most_epochs >= 4, "several renegotiations: {most_epochs}");
}

/// A TLS 1.2 capture in the two-file order puts the client's
/// ChangeCipherSpec and Finished before the server's (a full handshake),
/// and the server's application data after the client's.
#[test]
fn two_file_tls12_handshake_in_protocol_order() {
    let dir = scratch("order");
    let path = &transcripts("reneg-tls_ecdhe_rsa_with_aes_128_gcm_sha256-s1.")[0];
    let cap = split(path);
    let files = write(&dir, "o", &cap.keylog, &cap.c2s, &cap.s2c);
    let (o, recs, _) = decode_two(&files);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let seq: Vec<String> = recs
        .iter()
        .take(11)
        .map(|r| {
            format!(
                "{} {}",
                r["dir"].as_str().unwrap(),
                r["summary"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        seq,
        [
            "c2s ClientHello",
            "s2c ServerHello",
            "s2c Certificate",
            "s2c ServerKeyExchange",
            "s2c ServerHelloDone",
            "c2s ClientKeyExchange",
            "c2s change_cipher_spec",
            "c2s Finished",
            "s2c NewSessionTicket",
            "s2c change_cipher_spec",
            "s2c Finished",
        ]
    );
}

fn tls13_capture() -> (String, Capture) {
    let path = &transcripts("real-tls_aes_128_gcm_sha256-s13.")[0];
    (path.display().to_string(), split(path))
}

fn tls12_capture() -> Capture {
    split(&transcripts("reneg-tls_ecdhe_rsa_with_aes_128_gcm_sha256-s1.")[0])
}

/// Runs text and JSON decode of the files; checks exit code 1, the message
/// on stderr, and the kind among the JSON errors.
#[track_caller]
fn bad(files: &[String; 3], kind: &str, message: &str) -> Value {
    let o = tlsrec(&[
        "decode", "--keylog", &files[0], "--c2s", &files[1], "--s2c", &files[2],
    ]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains(message), "{err:?} lacks {message:?}");
    let (o, _, summary) = decode_two(files);
    assert_eq!(o.status.code(), Some(1));
    let errors = summary["errors"].as_array().unwrap();
    assert!(
        errors.iter().any(|e| e["kind"] == kind),
        "{kind} not in {summary}"
    );
    summary
}

#[test]
fn good_capture_exits_0_with_nothing_on_stderr() {
    let dir = scratch("good");
    let (_, cap) = tls13_capture();
    let files = write(&dir, "g", &cap.keylog, &cap.c2s, &cap.s2c);
    let (o, recs, summary) = decode_two(&files);
    assert!(o.status.success(), "{summary}");
    assert!(recs.len() > 5);
    assert_eq!(summary["not_opened"], 0);
    assert_eq!(summary["trailing"], serde_json::json!({"c2s": 0, "s2c": 0}));
    assert_eq!(summary["errors"], serde_json::json!([]));
    let o = tlsrec(&[
        "decode", "--keylog", &files[0], "--c2s", &files[1], "--s2c", &files[2],
    ]);
    assert!(o.status.success());
    assert!(o.stderr.is_empty(), "{}", text(&o.stderr));
}

/// The key log is another connection's: no line for this client random.
#[test]
fn no_keylog_line_for_the_client_random() {
    let dir = scratch("nokey");
    for (name, cap) in [("tls13", tls13_capture().1), ("tls12", tls12_capture())] {
        let other: Vec<String> = cap
            .keylog
            .iter()
            .map(|l| {
                let mut f: Vec<String> = l.split(' ').map(str::to_string).collect();
                f[1] = "ab".repeat(32);
                f.join(" ")
            })
            .collect();
        let files = write(&dir, name, &other, &cap.c2s, &cap.s2c);
        let s = bad(
            &files,
            "no_keylog_line",
            "the key log has no line for client random",
        );
        assert!(s["not_opened"].as_u64().unwrap() > 0, "{name}: {s}");
        assert!(
            s.to_string().contains("1 other client random"),
            "{name}: {s}"
        );
    }
}

/// The key log has lines for this client random but wrong secrets: the
/// first protected record does not open; the bytes after it are counted as
/// not decoded, not as "not a whole record".
#[test]
fn secrets_that_do_not_open_the_first_protected_record() {
    let dir = scratch("wrong");
    for (name, cap) in [("tls13", tls13_capture().1), ("tls12", tls12_capture())] {
        let wrong: Vec<String> = cap
            .keylog
            .iter()
            .map(|l| {
                let mut f: Vec<String> = l.split(' ').map(str::to_string).collect();
                f[2] = "5a".repeat(f[2].len() / 2);
                f.join(" ")
            })
            .collect();
        let files = write(&dir, name, &wrong, &cap.c2s, &cap.s2c);
        let s = bad(&files, "wrong_secrets", "do not open the first protected");
        let o = tlsrec(&[
            "decode", "--keylog", &files[0], "--c2s", &files[1], "--s2c", &files[2],
        ]);
        let err = text(&o.stderr);
        assert!(!err.contains("not a whole record"), "{name}: {err}");
        assert!(
            err.contains("which did not open, are not decoded"),
            "{name}: {err}"
        );
        let trailing = &s["trailing"];
        assert!(
            trailing["c2s"].as_u64().unwrap() + trailing["s2c"].as_u64().unwrap() > 0,
            "{name}: {s}"
        );
        assert!(s["stopped_at"]["s2c"].is_u64() || s["stopped_at"]["c2s"].is_u64());
    }
}

/// --c2s and --s2c given the other way round.
#[test]
fn directions_swapped() {
    let dir = scratch("swap");
    for (name, cap) in [("tls13", tls13_capture().1), ("tls12", tls12_capture())] {
        let files = write(&dir, name, &cap.keylog, &cap.s2c, &cap.c2s);
        let s = bad(&files, "directions_swapped", "the directions are swapped");
        // The most likely cause comes first.
        assert_eq!(s["errors"][0]["kind"], "directions_swapped", "{name}: {s}");
    }
}

/// The records of a transcript as `decode --json` gives them.
fn records_of(path: &str) -> Vec<Value> {
    let t = tlsrec(&["decode", "--json", path]);
    text(&t.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn first_app(recs: &[Value], d: &str) -> usize {
    recs.iter()
        .find(|r| r["dir"] == d && r["type"] == "application_data")
        .map(|r| r["offset"].as_u64().unwrap() as usize)
        .unwrap()
}

/// The capture starts after the handshake (the relay was started late).
#[test]
fn capture_that_starts_mid_connection() {
    let dir = scratch("mid");
    // TLS 1.2: both directions from their first application data record on.
    let path = transcripts("reneg-tls_ecdhe_rsa_with_aes_128_gcm_sha256-s1.")[0].clone();
    let cap = split(&path);
    let recs = records_of(path.to_str().unwrap());
    let (c, s) = (first_app(&recs, "c2s"), first_app(&recs, "s2c"));
    let files = write(&dir, "m12", &cap.keylog, &cap.c2s[c..], &cap.s2c[s..]);
    let sum = bad(
        &files,
        "mid_connection",
        "c2s starts with application_data, not a ClientHello: the capture starts mid-connection",
    );
    assert_eq!(sum["errors"][0]["kind"], "mid_connection", "{sum}");
    // TLS 1.3: the server's bytes from its first application data on (its
    // records would otherwise pass for plaintext application data).
    let (path, cap) = tls13_capture();
    let recs = records_of(&path);
    let s = first_app(&recs, "s2c");
    let files = write(&dir, "m13", &cap.keylog, &cap.c2s, &cap.s2c[s..]);
    bad(
        &files,
        "mid_connection",
        "s2c starts with application_data, not a ServerHello",
    );
    // Cut inside a record, not at its start: not a record at all.
    let files = write(&dir, "m2", &cap.keylog, &cap.c2s[7..], &cap.s2c);
    bad(
        &files,
        "mid_connection",
        "c2s starts with bytes that are not a TLS record",
    );
}

/// A capture cut in the middle of its last record: the trailing bytes are
/// counted (text and JSON) and the exit code is 1.
#[test]
fn bytes_left_over() {
    let dir = scratch("trail");
    let (_, cap) = tls13_capture();
    let files = write(
        &dir,
        "t",
        &cap.keylog,
        &cap.c2s,
        &cap.s2c[..cap.s2c.len() - 3],
    );
    let s = bad(
        &files,
        "trailing_bytes",
        "bytes at the end are not a whole record",
    );
    assert_eq!(s["trailing"]["c2s"], 0);
    assert!(s["trailing"]["s2c"].as_u64().unwrap() > 0);
    assert_eq!(s["not_opened"], 0);
}
