//! The `tlsrec` command-line tool.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use tlsrec::decode::{decode_capture, decode_transcript, Decoded};
use tlsrec::keylog::KeyLog;
use tlsrec::transcript::Transcript;

const USAGE: &str = "usage:
  tlsrec replay PATH...        (transcript files or folders of them)
  tlsrec decode --keylog KEYLOG --c2s FILE --s2c FILE [--json]
  tlsrec decode TRANSCRIPT.json [--json]
  tlsrec bench [--json] [--all] [--time-ms MS] [--rounds N] [--filter TEXT]...";

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn print(d: &Decoded, json: bool) {
    for ev in &d.events {
        println!("{}", if json { ev.to_json() } else { ev.to_text() });
    }
    if !json {
        for (dir, n) in ["c2s", "s2c"].iter().zip(d.trailing) {
            if n > 0 {
                println!("{dir}: {n} bytes at the end are not a whole record");
            }
        }
    }
}

fn decode(args: &[String]) -> Result<(), String> {
    let (mut keylog, mut c2s, mut s2c, mut json, mut file) = (None, None, None, false, None);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut val = || {
            it.next()
                .map(PathBuf::from)
                .ok_or(format!("{a} needs a value\n{USAGE}"))
        };
        match a.as_str() {
            "--keylog" => keylog = Some(val()?),
            "--c2s" => c2s = Some(val()?),
            "--s2c" => s2c = Some(val()?),
            "--json" => json = true,
            s if !s.starts_with("--") && file.is_none() => file = Some(PathBuf::from(s)),
            _ => return Err(format!("unexpected argument {a}\n{USAGE}")),
        }
    }
    let decoded = match (file, keylog, c2s, s2c) {
        (Some(f), None, None, None) => {
            let text =
                String::from_utf8(read(&f)?).map_err(|_| format!("{}: not UTF-8", f.display()))?;
            let t = Transcript::parse(&text).map_err(|e| format!("{}: {e}", f.display()))?;
            decode_transcript(&t)
        }
        (None, Some(k), Some(c), Some(s)) => {
            let text =
                String::from_utf8(read(&k)?).map_err(|_| format!("{}: not UTF-8", k.display()))?;
            let log = KeyLog::parse(&text).map_err(|e| format!("{}: {e}", k.display()))?;
            decode_capture(log, &read(&c)?, &read(&s)?)
        }
        _ => return Err(USAGE.into()),
    };
    print(&decoded, json);
    Ok(())
}

fn collect(path: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| format!("{}: {e}", path.display()))?
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

fn replay(args: &[String]) -> Result<bool, String> {
    use std::io::{IsTerminal, Write};
    if args.is_empty() {
        return Err(USAGE.into());
    }
    let mut files = Vec::new();
    for a in args {
        collect(Path::new(a), &mut files)?;
    }
    let tty = std::io::stderr().is_terminal();
    let (mut passed, mut failed) = (0usize, 0usize);
    for (i, f) in files.iter().enumerate() {
        if tty {
            eprint!("\r[{}/{}] {:<60.60}", i + 1, files.len(), f.display());
            let _ = std::io::stderr().flush();
        }
        let res = std::fs::read_to_string(f)
            .map_err(|e| e.to_string())
            .and_then(|text| Transcript::parse(&text))
            .map(|t| tlsrec::replay::replay(&t).map_err(|m| m.to_string()));
        match res {
            Ok(Ok(())) => passed += 1,
            Ok(Err(m)) => {
                failed += 1;
                if tty {
                    eprint!("\r{:80}\r", "");
                }
                println!("FAIL {}: {m}", f.display());
            }
            Err(e) => {
                failed += 1;
                if tty {
                    eprint!("\r{:80}\r", "");
                }
                println!("FAIL {}: cannot read transcript: {e}", f.display());
            }
        }
    }
    if tty {
        eprint!("\r{:80}\r", "");
    }
    println!("{passed} passed, {failed} failed");
    Ok(failed == 0)
}

/// `tlsrec bench`: the headline throughput table (or JSON lines), measured
/// in this process; rustls and OpenSSL only with the `bench-peers` feature.
fn bench(args: &[String]) -> Result<(), String> {
    use std::io::{IsTerminal, Write};
    use std::time::Duration;
    use tlsrec_cli::bench;
    let (mut json, mut all, mut ms, mut rounds) = (false, false, 120u64, 3usize);
    let mut filter: Vec<String> = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut num = || {
            it.next()
                .and_then(|v| v.parse::<u64>().ok())
                .filter(|&v| v > 0)
                .ok_or(format!("{a} needs a positive number\n{USAGE}"))
        };
        match a.as_str() {
            "--json" => json = true,
            "--all" => all = true,
            "--time-ms" => ms = num()?,
            "--rounds" => rounds = num()? as usize,
            "--filter" => filter.push(
                it.next()
                    .ok_or(format!("--filter needs a value\n{USAGE}"))?
                    .clone(),
            ),
            _ => return Err(format!("unexpected argument {a}\n{USAGE}")),
        }
    }
    let (suites, sizes, writes): (&[tlsrec::CipherSuite], &[usize], &[usize]) = if all {
        (bench::SUITES, &[64, 1024, 16384], &[64, 1024, 16384])
    } else {
        (bench::HEADLINE_SUITES, &[64, 16384], &[64, 16384])
    };
    let tty = std::io::stderr().is_terminal();
    if tty {
        eprint!("setting up (handshakes, keys)...");
    }
    let mut subjects = bench::seal_open(suites, sizes);
    subjects.extend(bench::bulk(suites, writes));
    subjects.extend(bench::deframe(&suites[..1], bench::SEGMENTS));
    #[cfg(feature = "bench-peers")]
    subjects.extend(bench::peers::bulk(suites, writes));
    if !filter.is_empty() {
        subjects.retain(|s| {
            let name = format!("{s:?}");
            filter.iter().all(|f| name.contains(f.as_str()))
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
    if json {
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
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let res = match args.first().map(String::as_str) {
        Some("replay") => match replay(&args[1..]) {
            Ok(true) => Ok(()),
            Ok(false) => return ExitCode::FAILURE,
            Err(e) => Err(e),
        },
        Some("decode") => decode(&args[1..]),
        Some("bench") => bench(&args[1..]),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(())
        }
        _ => Err(USAGE.into()),
    };
    match res {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tlsrec: {e}");
            ExitCode::from(2)
        }
    }
}
