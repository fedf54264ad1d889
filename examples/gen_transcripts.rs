//! Generates the transcript corpus: scenarios run against the system libssl
//! and recorded as `tlsrec-transcript/1` files.
//!
//! ```sh
//! cargo run --release --example gen_transcripts -- vectors/transcripts 70 100 50 120
//! ```
//! writes that many transcripts of each family (real, crafted, write,
//! reneg), seeds 1..=N; the committed corpus was made with these numbers.
//! With `--end` the scenarios end their stream and go on calling after it
//! (`Scenario::generate_with_end`, files named `*-end.json`):
//!
//! ```sh
//! cargo run --release --example gen_transcripts -- vectors/transcripts --end 10 10 10 10
//! ```

#[path = "../tests/oracle/mod.rs"]
mod oracle;

use oracle::{record, Family, Scenario};

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().unwrap_or_else(|| "vectors/transcripts".into());
    let rest: Vec<String> = args.collect();
    let ends = rest.iter().any(|a| a == "--end");
    let counts: Vec<u64> = rest.iter().filter_map(|c| c.parse().ok()).collect();
    let count = |i: usize, d: u64| counts.get(i).copied().unwrap_or(d);
    std::fs::create_dir_all(&dir).expect("output folder");
    let mut written = 0;
    let families = [
        (Family::Real, count(0, 70)),
        (Family::Crafted, count(1, 100)),
        (Family::Write, count(2, 50)),
        (Family::Reneg, count(3, 120)),
    ];
    for (family, n) in families {
        for seed in 1..=n {
            let s = if ends {
                Scenario::generate_with_end(family, seed, true)
            } else {
                Scenario::generate(family, seed, true)
            };
            let rec = record(&s).unwrap_or_else(|e| panic!("{}: {e}", s.name));
            let path = format!("{dir}/{}.json", s.name);
            let text = serde_json::to_string(&rec.transcript).unwrap();
            std::fs::write(&path, text + "\n").expect("write transcript");
            written += 1;
        }
    }
    println!("{written} transcripts in {dir}");
}
