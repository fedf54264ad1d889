//! Decodes a captured connection record by record, with its key log: the
//! record-boundary conformance view of `tlsrec decode`, from the library.
//!
//! ```sh
//! cargo run --example decode_capture                       # RFC 8448's 1-RTT trace
//! cargo run --example decode_capture -- KEYLOG C2S S2C     # your own capture
//! ```

use tlsrec::decode::decode_capture;
use tlsrec::keylog::KeyLog;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/vectors/captures/rfc8448-1rtt");
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (keylog, c2s, s2c) = match &args[..] {
        [k, c, s] => (k.clone(), c.clone(), s.clone()),
        [] => (
            format!("{dir}/keylog.txt"),
            format!("{dir}/c2s.bin"),
            format!("{dir}/s2c.bin"),
        ),
        _ => return Err("usage: decode_capture [KEYLOG C2S S2C]".into()),
    };
    let keylog = KeyLog::parse(&std::fs::read_to_string(keylog)?)?;
    let decoded = decode_capture(keylog, &std::fs::read(c2s)?, &std::fs::read(s2c)?);
    for record in &decoded.events {
        println!(
            "{:<4} offset {:>6}  epoch {}  seq {:>4}  {}",
            record.dir.name(),
            record.offset,
            record.epoch,
            record.seq.map_or("-".to_string(), |s| s.to_string()),
            record.summary()
        );
    }
    Ok(())
}
