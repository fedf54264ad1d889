//! The `tlsrec` command-line tool.
//!
//! Exit codes: 0 success; 1 a finding (a transcript that does not replay, a
//! record `decode` could not open or bytes it left over); 2 a usage error
//! (an unknown flag, a missing path, a folder without transcripts, a file
//! that cannot be read or parsed); `connect` and `serve` also 3 (no TCP
//! connection, an address to listen on that is taken), 4 (a certificate
//! not accepted) and 5 (a failed handshake).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use serde_json::json;
use tlsrec::decode::{decode_capture, decode_transcript, Decoded};
use tlsrec::keylog::KeyLog;
use tlsrec::replay::{profile_of, replay_under, ReplayMode};
use tlsrec::transcript::Transcript;
use tlsrec::Profile;
use tlsrec_cli::CliProfile;

/// TLS record layer with OpenSSL 3.0's SSL_read / SSL_write semantics:
/// replay OpenSSL transcripts, decode captured connections, measure throughput.
#[derive(Parser, Debug)]
#[command(name = "tlsrec", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Replay tlsrec-transcript/1 files through a session and compare every
    /// call with what OpenSSL returned.
    ///
    /// Prints a FAIL line for each transcript that differs (the step, the call,
    /// OpenSSL's result and tlsrec's) and last "N passed, M failed". Exit code
    /// 0 if all passed, 1 if any failed, 2 for a usage error (a path that does
    /// not exist, a folder without transcripts).
    Replay(ReplayArgs),
    /// Show every record of a connection: direction, offset, content type,
    /// length, key epoch, sequence number and a summary of the plaintext.
    ///
    /// Input: a transcript (its true order of both directions), or a key log
    /// (SSLKEYLOGFILE) with a pcap / pcapng capture (TCP reassembled, each
    /// record shown with the frames it came in) or with the two directions'
    /// bytes in two files. Exit code
    /// 0 if every record was opened and no bytes are left over, 1 if not (with
    /// what is most likely wrong), 2 for a usage error.
    Decode(DecodeArgs),
    /// Measure throughput (GB/s of plaintext, one thread) of the record layer
    /// against each provider's raw AEAD; rustls 0.23 and OpenSSL 3 too when
    /// built with the `bench-peers` feature.
    Bench(BenchArgs),
    /// Connect to a TLS server, like `openssl s_client`: TLS 1.2 with
    /// tlsrec's own handshake (renegotiations), or TLS 1.3 with rustls's
    /// handshake then tlsrec (KeyUpdates).
    ///
    /// What the server sends goes to stdout; the connection line, the
    /// trace and the summary (bytes each way, renegotiations, key updates,
    /// how it ended) to stderr. Exit code 0 when the server ended with
    /// close_notify; 1 when the connection failed after the handshake (an
    /// alert, EOF without close_notify, a timeout); 2 a usage error (a bad
    /// address or flag, an unreadable certificate, key or CA file); 3 no
    /// TCP connection (unresolvable, refused, unreachable); 4 the server's
    /// certificate was not accepted (or it refused ours); 5 the handshake
    /// failed otherwise.
    Connect(tlsrec_cli::connect::ConnectArgs),
    /// Serve TLS 1.2 (or with --tls1_3, TLS 1.3), like `openssl s_server
    /// -www`: each HTTP request gets a text page (suite, handshakes, counts).
    ///
    /// GET /reneg renegotiates from the server and answers once it
    /// completed (TLS 1.2; 400 in TLS 1.3); GET /keyupdate sends a
    /// KeyUpdate before the page (TLS 1.3; 400 in TLS 1.2); GET /bytes/N
    /// sends N bytes. HTTP/1.1 keeps the connection open,
    /// HTTP/1.0 closes it (close_notify) after the answer. One line per
    /// connection and event on stderr. Exit code 2 for an unreadable
    /// certificate or key, 3 for an address it cannot listen on.
    Serve(tlsrec_cli::serve::ServeArgs),
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// The session follows every handshake from the bytes OpenSSL sent.
    Followed,
    /// The first handshake is followed; the session runs the later ones
    /// itself and what it sends must be what OpenSSL sent.
    Driven,
    /// Both; a transcript passes only if it passes in both modes.
    Both,
}

#[derive(clap::Args, Debug)]
struct ReplayArgs {
    /// Transcript files, or folders searched recursively for *.json.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// How the session runs the client's handshakes.
    #[arg(long, value_enum, default_value_t = Mode::Followed)]
    mode: Mode,
    /// One JSON object per transcript, then {"summary": ...}.
    #[arg(long)]
    json: bool,
    /// Replay every transcript under this profile, whichever release
    /// recorded it (default: the profile of the release its "openssl"
    /// field names; 3.0 when it names none).
    #[arg(long, value_enum, value_name = "PROFILE")]
    profile: Option<CliProfile>,
}

/// How `replay` names a profile (as `--profile` takes it).
fn profile_name(p: Profile) -> &'static str {
    match p {
        Profile::OpenSsl1_1_1 => "1.1.1",
        Profile::OpenSsl3_0 => "3.0",
        Profile::OpenSsl3_5 => "3.5",
        Profile::OpenSsl4_0 => "4.0",
        Profile::Rfc => "rfc",
        _ => "other",
    }
}

#[derive(clap::Args, Debug)]
struct DecodeArgs {
    /// A tlsrec-transcript/1 file; with --keylog, a capture (pcap or pcapng).
    #[arg(value_name = "FILE", conflicts_with_all = ["c2s", "s2c"])]
    input: Option<PathBuf>,
    /// The key log (SSLKEYLOGFILE format) of the captured connections.
    #[arg(long, value_name = "KEYLOG")]
    keylog: Option<PathBuf>,
    /// The bytes the client sent, as one file.
    #[arg(long, value_name = "FILE", requires_all = ["keylog", "s2c"])]
    c2s: Option<PathBuf>,
    /// The bytes the server sent, as one file.
    #[arg(long, value_name = "FILE", requires_all = ["keylog", "c2s"])]
    s2c: Option<PathBuf>,
    /// One JSON object per record, then {"summary": ...} with the
    /// trailing bytes and the errors.
    #[arg(long)]
    json: bool,
    /// Also write a self-contained HTML page to FILE: the two directions
    /// side by side, each record a box, segment cuts and key changes marked.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
struct BenchArgs {
    /// JSON lines (one object per measurement) instead of the table.
    #[arg(long)]
    json: bool,
    /// Every suite and size (the default measures the headline suites with
    /// 64-byte and 16 KiB records).
    #[arg(long)]
    all: bool,
    /// Milliseconds per round of each measurement.
    #[arg(long, value_name = "MS", default_value_t = 120,
          value_parser = clap::value_parser!(u64).range(1..))]
    time_ms: u64,
    /// Rounds per measurement; the best is reported.
    #[arg(long, value_name = "N", default_value_t = 3,
          value_parser = clap::value_parser!(u64).range(1..))]
    rounds: u64,
    /// Measure only subjects whose name contains TEXT (repeat: all must match),
    /// e.g. --filter seal --filter AES_128.
    #[arg(long, value_name = "TEXT")]
    filter: Vec<String>,
    /// Instead of the table: GB/s against record size (bulk transfers of 64
    /// to 16384-byte writes) for tlsrec, the raw AEAD, rustls and OpenSSL,
    /// drawn into FILE (SVG).
    #[arg(long, value_name = "FILE.svg")]
    plot: Option<PathBuf>,
    /// Instead of the table: N sessions alive at once; memory per idle
    /// session (buffers released) and per busy one, and two threads against
    /// one (about 40 s and 1.5 GB at 10000).
    #[arg(long, value_name = "N",
          value_parser = clap::value_parser!(u64).range(2..))]
    sessions: Option<u64>,
    /// Instead of the table: bulk-16384 on one thread and on two threads
    /// (a connection each), alternated --rounds times for --time-ms each
    /// (give it 1000 or more); GB/s and GB per CPU second, and the ratios.
    #[arg(long)]
    threads: bool,
}

/// What went wrong: a usage error (exit 2) or a finding (exit 1, already
/// reported).
enum Failure {
    Usage(String),
    Finding,
    /// `connect` / `serve`: an exit code and what to say.
    Exit(u8, String),
}

/// A `connect` / `serve` result: usage errors as every command's.
fn net(r: Result<(), tlsrec_cli::net::Failed>) -> Result<(), Failure> {
    r.map_err(|f| {
        if f.code == tlsrec_cli::net::EXIT_USAGE {
            Failure::Usage(f.message)
        } else {
            Failure::Exit(f.code, f.message)
        }
    })
}

fn usage(msg: impl Into<String>) -> Failure {
    Failure::Usage(msg.into())
}

fn read(path: &Path) -> Result<Vec<u8>, Failure> {
    std::fs::read(path).map_err(|e| usage(format!("cannot read {}: {e}", path.display())))
}

fn read_text(path: &Path) -> Result<String, Failure> {
    String::from_utf8(read(path)?).map_err(|_| usage(format!("{}: not UTF-8", path.display())))
}

/// Prints the records (stdout) and what is wrong (stderr; with `--json` in
/// the summary object on stdout).
fn print(d: &Decoded, json: bool) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    for ev in &d.events {
        let line = if json { ev.to_json() } else { ev.to_text() };
        // A closed pipe (`| head`) ends the listing, not the diagnosis.
        if writeln!(out, "{line}").is_err() {
            break;
        }
    }
    drop(out);
    let opened = d.events.iter().filter(|e| e.plain.is_some()).count();
    if json {
        let dirs = |v: [serde_json::Value; 2]| {
            let [c, s] = v;
            json!({"c2s": c, "s2c": s})
        };
        let errors: Vec<serde_json::Value> = d
            .problems
            .iter()
            .map(|p| {
                json!({"kind": p.kind.name(), "dir": p.dir.map(|d| d.name()),
                       "offset": p.offset, "message": p.message})
            })
            .collect();
        println!(
            "{}",
            json!({"summary": {
                "records": d.events.len(),
                "opened": opened,
                "not_opened": d.events.len() - opened,
                "trailing": dirs(d.trailing.map(|n| json!(n))),
                "stopped_at": dirs(d.stopped_at.map(|o| json!(o))),
                "errors": errors,
            }})
        );
    } else {
        for p in &d.problems {
            eprintln!("tlsrec decode: {}", p.message);
        }
    }
}

/// A record as the HTML page shows it.
fn html_row(
    ev: &tlsrec::follow::RecordEvent,
    time: Option<f64>,
    segments: Vec<String>,
) -> tlsrec_cli::html::Row {
    let t = ev.content_type();
    tlsrec_cli::html::Row {
        dir: ev.dir.name(),
        offset: ev.offset,
        typ: t
            .name()
            .map_or_else(|| format!("type {}", u8::from(t)), str::to_string),
        length: ev.header.len,
        epoch: ev.epoch,
        seq: ev.seq,
        summary: ev.summary(),
        time,
        segments,
        failed: ev.plain.is_none(),
    }
}

fn write_html(
    path: &Path,
    title: &str,
    sections: &[tlsrec_cli::html::Section],
) -> Result<(), Failure> {
    std::fs::write(path, tlsrec_cli::html::render(title, sections))
        .map_err(|e| usage(format!("cannot write {}: {e}", path.display())))
}

fn keylog(k: &Path) -> Result<KeyLog, Failure> {
    KeyLog::parse(&read_text(k)?).map_err(|e| usage(format!("{}: {e}", k.display())))
}

fn decode(a: &DecodeArgs) -> Result<(), Failure> {
    let decoded = match (&a.input, &a.keylog, &a.c2s, &a.s2c) {
        (Some(f), None, None, None) => {
            let t = Transcript::parse(&read_text(f)?)
                .map_err(|e| usage(format!("{}: {e}", f.display())))?;
            decode_transcript(&t)
        }
        (Some(f), Some(k), None, None) => return decode_pcap(a, &keylog(k)?, f),
        (None, Some(k), Some(c), Some(s)) => decode_capture(keylog(k)?, &read(c)?, &read(s)?),
        (None, Some(_), None, None) => {
            return Err(usage(
                "--keylog needs the captured bytes: a capture file (pcap or pcapng), \
                 or --c2s FILE --s2c FILE",
            ))
        }
        _ => {
            return Err(usage(
                "nothing to decode: give a TRANSCRIPT, or --keylog KEYLOG with a capture \
                 file or --c2s FILE --s2c FILE",
            ))
        }
    };
    print(&decoded, a.json);
    if let Some(h) = &a.html {
        let title = match (&a.input, &a.c2s) {
            (Some(f), _) => format!("tlsrec decode {}", f.display()),
            (None, Some(c)) => format!("tlsrec decode --c2s {}", c.display()),
            _ => "tlsrec decode".to_string(),
        };
        let sec = tlsrec_cli::html::Section {
            title: title.clone(),
            rows: decoded
                .events
                .iter()
                .map(|e| html_row(e, None, Vec::new()))
                .collect(),
            problems: decoded.problems.iter().map(|p| p.message.clone()).collect(),
        };
        write_html(h, &title, &[sec])?;
    }
    if decoded.problems.is_empty() {
        Ok(())
    } else {
        Err(Failure::Finding)
    }
}

/// Every TCP connection of a pcap / pcapng file, decoded: its records in the
/// order of the packets' timestamps (each record at the time its last byte
/// came; the protocol's order where they tie), each with its segments.
fn decode_pcap(a: &DecodeArgs, log: &KeyLog, file: &Path) -> Result<(), Failure> {
    use std::io::Write;
    use tlsrec::decode::{Problem, ProblemKind};
    use tlsrec::follow::Dir;
    use tlsrec_cli::pcap::connections;
    let conns = connections(&read(file)?).map_err(|e| usage(format!("{}: {e}", file.display())))?;
    if conns.is_empty() {
        return Err(usage(format!(
            "{}: no TCP connection with data in this capture",
            file.display()
        )));
    }
    let mut bad = false;
    let mut sections = Vec::new();
    let mut out = std::io::stdout().lock();
    for (n, c) in conns.iter().enumerate() {
        let n = n + 1;
        let [c2s, s2c] = &c.streams;
        let mut d = decode_capture(log.clone(), &c2s.bytes, &s2c.bytes);
        for (i, s) in c.streams.iter().enumerate() {
            if s.after_gap > 0 {
                d.problems.push(Problem {
                    kind: ProblemKind::TrailingBytes,
                    dir: Some([Dir::C2s, Dir::S2c][i]),
                    offset: Some(s.bytes.len() as u64),
                    message: format!(
                        "{}: {} bytes after offset {} are missing from the capture (a gap: segments not captured)",
                        ["c2s", "s2c"][i],
                        s.after_gap,
                        s.bytes.len()
                    ),
                });
            }
        }
        let stream = |ev: &tlsrec::follow::RecordEvent| &c.streams[usize::from(ev.dir == Dir::S2c)];
        let span = |ev: &tlsrec::follow::RecordEvent| {
            (ev.offset, ev.offset + 5 + u64::from(ev.header.len))
        };
        let mut order: Vec<usize> = (0..d.events.len()).collect();
        order.sort_by_key(|&i| {
            let ev = &d.events[i];
            let (_, end) = span(ev);
            stream(ev).time_of(end.saturating_sub(1))
        });
        let head = format!(
            "connection {n}: {} -> {} (c2s {} bytes, s2c {} bytes; segments retransmitted {}, out of order {})",
            c.client,
            c.server,
            c2s.bytes.len(),
            s2c.bytes.len(),
            c2s.retransmitted + s2c.retransmitted,
            c2s.out_of_order + s2c.out_of_order
        );
        if a.json {
            let _ = writeln!(
                out,
                "{}",
                json!({"connection": n, "client": c.client.to_string(),
                       "server": c.server.to_string()})
            );
        } else {
            let _ = writeln!(out, "{head}");
        }
        let mut section = tlsrec_cli::html::Section {
            title: format!("connection {n}: {} -> {}", c.client, c.server),
            rows: Vec::new(),
            problems: d.problems.iter().map(|p| p.message.clone()).collect(),
        };
        for &i in &order {
            let ev = &d.events[i];
            let (start, end) = span(ev);
            let segs = stream(ev).segments_of(start, end);
            let time = stream(ev).time_of(end.saturating_sub(1));
            let cuts: Vec<String> = segs
                .iter()
                .map(|s| {
                    // Where the segment cut the record: the record's bytes
                    // in this segment.
                    let (a, b) = (s.start.max(start), s.end.min(end));
                    if a == start && b == end {
                        format!("#{}", s.frame)
                    } else {
                        format!("#{}[{}..{}]", s.frame, a - start, b - start)
                    }
                })
                .collect();
            section
                .rows
                .push(html_row(ev, time.map(|t| t.as_secs_f64()), cuts.clone()));
            if a.json {
                let mut v: serde_json::Value =
                    serde_json::from_str(&ev.to_json()).expect("to_json is JSON");
                v["connection"] = json!(n);
                v["time"] = json!(time.map(|t| t.as_secs_f64()));
                v["segments"] = segs
                    .iter()
                    .map(|s| json!({"frame": s.frame, "start": s.start, "end": s.end}))
                    .collect();
                let _ = writeln!(out, "{v}");
            } else {
                let frames = &cuts;
                let t = time.map_or("-".into(), |t| format!("{:.6}", t.as_secs_f64()));
                let _ = writeln!(
                    out,
                    "{t:>17}  {}  frames {}",
                    ev.to_text(),
                    frames.join(" ")
                );
            }
        }
        if a.json {
            let errors: Vec<serde_json::Value> = d
                .problems
                .iter()
                .map(|p| {
                    json!({"kind": p.kind.name(), "dir": p.dir.map(|d| d.name()),
                           "offset": p.offset, "message": p.message})
                })
                .collect();
            let opened = d.events.iter().filter(|e| e.plain.is_some()).count();
            let [tc, ts] = d.trailing;
            let [sc, ss] = d.stopped_at;
            let _ = writeln!(
                out,
                "{}",
                json!({"summary": {
                    "connection": n,
                    "records": d.events.len(), "opened": opened,
                    "not_opened": d.events.len() - opened,
                    "trailing": {"c2s": tc, "s2c": ts},
                    "stopped_at": {"c2s": sc, "s2c": ss},
                    "retransmitted": c2s.retransmitted + s2c.retransmitted,
                    "out_of_order": c2s.out_of_order + s2c.out_of_order,
                    "errors": errors,
                }})
            );
        } else {
            for p in &d.problems {
                eprintln!("tlsrec decode: connection {n}: {}", p.message);
            }
        }
        bad |= !d.problems.is_empty();
        sections.push(section);
    }
    drop(out);
    if let Some(h) = &a.html {
        write_html(h, &format!("tlsrec decode {}", file.display()), &sections)?;
    }
    if bad {
        Err(Failure::Finding)
    } else {
        Ok(())
    }
}

/// The transcripts under `path` (itself if a file), sorted.
fn collect(path: &Path, out: &mut Vec<PathBuf>) -> Result<(), Failure> {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| usage(format!("cannot read folder {}: {e}", path.display())))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() || p.extension().is_some_and(|x| x == "json") {
                collect(&p, out)?;
            }
        }
    } else {
        out.push(path.to_path_buf());
    }
    Ok(())
}

/// One transcript in one mode under one profile: `Ok` or why not.
fn replay_one(t: &Transcript, mode: ReplayMode, profile: Profile) -> Result<(), String> {
    replay_under(t, mode, profile)
        .map(|_| ())
        .map_err(|m| m.to_string())
}

/// Per release counts of a replay: the release a transcript names (`None`:
/// it names none), the profile it replayed under, passed, failed.
#[derive(Default)]
struct PerRelease(std::collections::BTreeMap<Option<String>, (&'static str, usize, usize)>);

impl PerRelease {
    fn add(&mut self, release: Option<&str>, profile: Profile, ok: bool) {
        let e = self
            .0
            .entry(release.map(str::to_string))
            .or_insert((profile_name(profile), 0, 0));
        if ok {
            e.1 += 1;
        } else {
            e.2 += 1;
        }
    }

    fn label(release: Option<&String>) -> String {
        release.map_or_else(
            || "no release named".to_string(),
            |r| format!("OpenSSL {r}"),
        )
    }
}

fn mode_name(m: ReplayMode) -> &'static str {
    match m {
        ReplayMode::Followed => "followed",
        ReplayMode::Driven => "driven",
    }
}

fn replay(a: &ReplayArgs) -> Result<(), Failure> {
    use std::io::{IsTerminal, Write};
    let mut files = Vec::new();
    for p in &a.paths {
        if !p.exists() {
            return Err(usage(format!("no such file or folder: {}", p.display())));
        }
        let before = files.len();
        collect(p, &mut files)?;
        if files.len() == before {
            return Err(usage(format!(
                "no transcripts (*.json) in folder {}",
                p.display()
            )));
        }
    }
    let modes: &[ReplayMode] = match a.mode {
        Mode::Followed => &[ReplayMode::Followed],
        Mode::Driven => &[ReplayMode::Driven],
        Mode::Both => &[ReplayMode::Followed, ReplayMode::Driven],
    };
    let tty = !a.json && std::io::stderr().is_terminal();
    let clear = || {
        if tty {
            eprint!("\r{:80}\r", "");
        }
    };
    let (mut passed, mut failed) = (0usize, 0usize);
    let mut per_release = PerRelease::default();
    for (i, f) in files.iter().enumerate() {
        if tty {
            eprint!("\r[{}/{}] {:<60.60}", i + 1, files.len(), f.display());
            let _ = std::io::stderr().flush();
        }
        let parsed = std::fs::read_to_string(f)
            .map_err(|e| e.to_string())
            .and_then(|text| Transcript::parse(&text));
        let t = match parsed {
            Ok(t) => t,
            Err(e) => {
                failed += 1;
                clear();
                if a.json {
                    println!(
                        "{}",
                        json!({"file": f.display().to_string(), "passed": false,
                               "error": format!("cannot read transcript: {e}")})
                    );
                } else {
                    println!("FAIL {}: cannot read transcript: {e}", f.display());
                }
                continue;
            }
        };
        let profile = a
            .profile
            .map_or_else(|| profile_of(&t), CliProfile::profile);
        let results: Vec<(ReplayMode, Result<(), String>)> = modes
            .iter()
            .map(|&m| (m, replay_one(&t, m, profile)))
            .collect();
        let ok = results.iter().all(|(_, r)| r.is_ok());
        per_release.add(t.openssl.as_deref(), profile, ok);
        if ok {
            passed += 1;
        } else {
            failed += 1;
            clear();
        }
        if a.json {
            let per_mode: serde_json::Map<String, serde_json::Value> = results
                .iter()
                .map(|(m, r)| {
                    let v = match r {
                        Ok(()) => json!("passed"),
                        Err(e) => json!({ "mismatch": e }),
                    };
                    (mode_name(*m).to_string(), v)
                })
                .collect();
            println!(
                "{}",
                json!({"file": f.display().to_string(), "passed": ok, "modes": per_mode,
                       "release": t.openssl, "profile": profile_name(profile)})
            );
        } else {
            for (m, r) in &results {
                if let Err(e) = r {
                    if modes.len() > 1 {
                        println!("FAIL {} ({}): {e}", f.display(), mode_name(*m));
                    } else {
                        println!("FAIL {}: {e}", f.display());
                    }
                }
            }
        }
    }
    clear();
    if a.json {
        let releases: serde_json::Map<String, serde_json::Value> = per_release
            .0
            .iter()
            .map(|(r, (p, ok, bad))| {
                (
                    PerRelease::label(r.as_ref()),
                    json!({"profile": p, "passed": ok, "failed": bad}),
                )
            })
            .collect();
        println!(
            "{}",
            json!({"summary": {"passed": passed, "failed": failed,
                               "mode": format!("{:?}", a.mode).to_lowercase(),
                               "releases": releases}})
        );
    } else {
        // A folder mixing releases: each one's counts first (a file that
        // could not be read names no release and is only in the total).
        if per_release.0.len() > 1 {
            for (r, (p, ok, bad)) in &per_release.0 {
                println!(
                    "{} (profile {p}): {ok} passed, {bad} failed",
                    PerRelease::label(r.as_ref())
                );
            }
        }
        println!("{passed} passed, {failed} failed");
    }
    if failed == 0 {
        Ok(())
    } else {
        Err(Failure::Finding)
    }
}

/// `tlsrec bench`: the headline throughput table (or JSON lines), measured
/// in this process; rustls and OpenSSL only with the `bench-peers` feature.
fn bench(a: &BenchArgs) -> Result<(), Failure> {
    use std::io::{IsTerminal, Write};
    use std::time::Duration;
    use tlsrec_cli::bench;
    let (ms, rounds) = (a.time_ms, a.rounds as usize);
    if a.threads {
        let tries = bench::threads_tries(Duration::from_millis(ms), rounds);
        print!("{}", bench::threads_text(&tries));
        return Ok(());
    }
    if let Some(n) = a.sessions {
        let r = bench::many_sessions(usize::try_from(n).unwrap_or(usize::MAX));
        if a.json {
            println!("{}", r.to_json());
        } else {
            print!("{}", r.to_text());
        }
        return Ok(());
    }
    if !a.json {
        println!("{}", bench::provider_note());
    }
    let tty = std::io::stderr().is_terminal();
    if tty {
        eprint!("setting up (handshakes, keys)...");
    }
    let mut subjects = if a.plot.is_some() {
        bench::plot_subjects(if a.all {
            bench::SUITES
        } else {
            bench::HEADLINE_SUITES
        })
    } else {
        bench::headline_subjects(a.all)
    };
    if !a.filter.is_empty() {
        subjects.retain(|s| {
            let name = format!("{s:?}");
            a.filter.iter().all(|f| name.contains(f.as_str()))
        });
    }
    let figs = bench::run_all(
        &mut subjects,
        Duration::from_millis(ms),
        rounds,
        |done, total, s| {
            if tty {
                let w = 30;
                let fill = done * w / total.max(1);
                eprint!(
                    "\r[{}{}] {:>3}/{} {:<60.60}",
                    "#".repeat(fill),
                    " ".repeat(w - fill),
                    done + 1,
                    total,
                    format!("{s:?}")
                );
                let _ = std::io::stderr().flush();
            }
        },
    );
    if tty {
        eprint!("\r{:110}\r", "");
    }
    if a.json {
        for f in &figs {
            println!("{}", f.to_json());
        }
        return Ok(());
    }
    println!(
        "GB/s = 10^9 plaintext bytes per second, one thread; best of {rounds} rounds of {ms} ms; providers: {}",
        tlsrec::cipher::Provider::ALL
            .iter()
            .map(|p| p.name())
            .collect::<Vec<_>>()
            .join(", ")
    );
    if cfg!(not(feature = "bench-peers")) {
        println!("(tlsrec vs the raw AEAD only: build with --features bench-peers for rustls 0.23 and OpenSSL 3)");
    }
    print!("{}", bench::table(&figs));
    if let Some(path) = &a.plot {
        bench::plot(&figs, path)
            .map_err(|e| Failure::Usage(format!("cannot write {}: {e}", path.display())))?;
        println!("plot: {}", path.display());
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (name, res) = match &cli.cmd {
        Cmd::Replay(a) => ("replay", replay(a)),
        Cmd::Decode(a) => ("decode", decode(a)),
        Cmd::Bench(a) => ("bench", bench(a)),
        Cmd::Connect(a) => ("connect", net(tlsrec_cli::connect::run(a))),
        Cmd::Serve(a) => ("serve", net(tlsrec_cli::serve::run(a))),
    };
    match res {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Finding) => ExitCode::FAILURE,
        Err(Failure::Exit(code, msg)) => {
            eprintln!("tlsrec {name}: {msg}");
            ExitCode::from(code)
        }
        Err(Failure::Usage(msg)) => {
            // clap's own format and exit code (2), with the command's usage line.
            let mut cmd = Cli::command();
            let sub = cmd
                .find_subcommand_mut(name)
                .expect("every command is a subcommand")
                .clone()
                .bin_name(format!("tlsrec {name}"));
            sub.clone()
                .error(clap::error::ErrorKind::ValueValidation, msg)
                .exit()
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn command_line_is_consistent() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
