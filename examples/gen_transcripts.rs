//! Generates the transcript corpus: scenarios run against the system libssl
//! and recorded as `tlsrec-transcript/1` files.
//!
//! ```sh
//! cargo run --release --example gen_transcripts -- vectors/transcripts 100
//! ```
//! writes COUNT transcripts per family (real, crafted, write, reneg) and
//! COUNT more renegotiation ones, seeds 1..=COUNT.

#[path = "../tests/oracle/mod.rs"]
mod oracle;

use oracle::{record, Family, Scenario};

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().unwrap_or_else(|| "vectors/transcripts".into());
    let count: u64 = args.next().and_then(|c| c.parse().ok()).unwrap_or(100);
    std::fs::create_dir_all(&dir).expect("output folder");
    let mut written = 0;
    for family in [Family::Real, Family::Crafted, Family::Write, Family::Reneg] {
        let n = if family == Family::Reneg { 2 * count } else { count };
        for seed in 1..=n {
            let s = Scenario::generate(family, seed, true);
            let rec = record(&s).unwrap_or_else(|e| panic!("{}: {e}", s.name));
            let path = format!("{dir}/{}.json", s.name);
            let text = serde_json::to_string(&rec.transcript).unwrap();
            std::fs::write(&path, text + "\n").expect("write transcript");
            written += 1;
        }
    }
    println!("{written} transcripts in {dir}");
}
