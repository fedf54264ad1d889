//! The `tlsrec` command-line tool.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use tlsrec::decode::{decode_capture, decode_transcript, Decoded};
use tlsrec::keylog::KeyLog;
use tlsrec::transcript::Transcript;

const USAGE: &str = "usage:
  tlsrec decode --keylog KEYLOG --c2s FILE --s2c FILE [--json]
  tlsrec decode TRANSCRIPT.json [--json]";

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

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let res = match args.first().map(String::as_str) {
        Some("decode") => decode(&args[1..]),
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
