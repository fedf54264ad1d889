//! Entry points shared by the `cargo fuzz` targets (in `fuzz/`) and the unit
//! tests that run them on generated inputs. Each one checks invariants and
//! panics if one breaks; none may panic for any other reason.

use bytes::BytesMut;

use crate::cipher::{CipherSuite, Sealer};
use crate::keys::RecordKeys;
use crate::reader::RecordReader;
use crate::record::{ContentType, MAX_PLAINTEXT_LEN, MAX_RECORD_LEN};

fn keys(suite: CipherSuite) -> RecordKeys {
    let k: Vec<u8> = (0..suite.aead().key_len() as u8).collect();
    let iv: Vec<u8> = (0..suite.aead().fixed_iv_len(suite.version()) as u8)
        .map(|b| b ^ 0x55)
        .collect();
    RecordKeys::new(suite, &k, &iv).expect("lengths from the suite")
}

/// Splits `data` into segments using `cuts` as a source of sizes.
fn feed(reader: &mut RecordReader, stream: &[u8], cuts: &[u8]) -> Vec<(ContentType, Vec<u8>)> {
    let mut out = Vec::new();
    let (mut pos, mut ci, mut given, mut taken) = (0usize, 0usize, 0usize, 0usize);
    while pos < stream.len() {
        let c = cuts.get(ci % cuts.len().max(1)).copied().unwrap_or(255);
        ci += 1;
        let size = (usize::from(c) * 97 + 1).min(stream.len() - pos);
        let seg = &stream[pos..pos + size];
        pos += size;
        let mut off = 0;
        loop {
            let n = reader.push(&seg[off..]);
            given += seg.len() - off;
            taken += n;
            // Conservation: never more taken than given.
            assert!(n <= seg.len() - off && taken <= given);
            off += n;
            assert!(
                reader.deframer().buffered() <= MAX_RECORD_LEN,
                "receive buffer over its bound"
            );
            let mut progressed = false;
            loop {
                match reader.next_record() {
                    Ok(Some(r)) => {
                        assert!(r.payload.len() <= MAX_PLAINTEXT_LEN);
                        out.push((r.typ, r.payload.to_vec()));
                        progressed = true;
                    }
                    Ok(None) => break,
                    Err(e) => {
                        // Errors are sticky and take no more bytes.
                        assert_eq!(reader.next_record().unwrap_err(), e);
                        assert_eq!(reader.push(b"more"), 0);
                        return out;
                    }
                }
            }
            if off == seg.len() {
                break;
            }
            assert!(progressed || n > 0, "no progress possible: stuck");
            given -= seg.len() - off; // the rest is offered again
        }
    }
    out
}

/// Arbitrary bytes as a record stream: byte 0 picks a suite (or plaintext),
/// byte 1 the segmentation; the rest is the stream. Returns how many
/// records were opened.
pub fn deframe_open(data: &[u8]) -> usize {
    if data.len() < 2 {
        return 0;
    }
    let mut r = RecordReader::new();
    let pick = usize::from(data[0]) % (CipherSuite::ALL.len() + 1);
    if let Some(&suite) = CipherSuite::ALL.get(pick) {
        r.set_version(suite.version());
        r.opener_mut().set_keys(keys(suite));
    }
    feed(&mut r, &data[2..], &data[1..2]).len()
}

/// Seals payloads described by `data`, flips the bits it names, feeds the
/// result in the segments it names: unmodified streams open to exactly the
/// sealed payloads; modified ones fail or open to a prefix of them.
/// Returns how many records were opened.
pub fn seal_mutate_open(data: &[u8]) -> usize {
    if data.len() < 4 {
        return 0;
    }
    let suite = CipherSuite::ALL[usize::from(data[0]) % CipherSuite::ALL.len()];
    let flips = usize::from(data[1] % 4);
    let (spec, rest) = data[2..].split_at(data.len().min(34) - 2);
    let mut sealer = Sealer::new();
    sealer.set_keys(keys(suite));
    let mut wire = BytesMut::new();
    let mut sent = Vec::new();
    for (i, &b) in spec.iter().enumerate() {
        let typ = [
            ContentType::ApplicationData,
            ContentType::Handshake,
            ContentType::Alert,
        ][usize::from(b % 3)];
        let len = usize::from(b) * 67 % (MAX_PLAINTEXT_LEN + 1);
        let payload: Vec<u8> = (0..len).map(|j| (i * 31 + j) as u8).collect();
        sealer
            .seal(typ, &payload, &mut wire)
            .expect("sealing a valid payload");
        sent.push((typ, payload));
    }
    let mut wire = wire.to_vec();
    let mut flipped = false;
    for f in 0..flips {
        if wire.is_empty() || rest.len() < 2 * f + 2 {
            break;
        }
        let at =
            usize::from(u16::from_be_bytes([rest[2 * f], rest[2 * f + 1]])) * 13 % (wire.len() * 8);
        wire[at / 8] ^= 1 << (at % 8);
        flipped = true;
    }
    let mut r = RecordReader::new();
    r.set_version(suite.version());
    r.opener_mut().set_keys(keys(suite));
    let got = feed(&mut r, &wire, rest);
    if flipped {
        assert!(
            got.len() <= sent.len() && got[..] == sent[..got.len()],
            "a tampered stream produced a record never sent"
        );
    } else {
        assert_eq!(got, sent);
    }
    got.len()
}
