//! Known-answer tests from published sources (issue 2).
//!
//! Every expected value here comes from a published text copied into
//! `vectors/`, never from this crate:
//!
//! * `vectors/rfc5869/rfc5869.txt`: RFC 5869 appendix A (HKDF), SHA-256 cases.
//! * `vectors/prf/tls12_prf_sha256.txt`: the TLS 1.2 PRF (P_SHA256) vector
//!   from the IETF TLS mailing list.
//! * `vectors/rfc8448/rfc8448.txt`: RFC 8448 (TLS 1.3 traces), sections 3-7:
//!   every traffic key / IV derivation and every record, opened and re-sealed.
//! * `vectors/wycheproof/*.json`: Project Wycheproof AES-GCM, ChaCha20-Poly1305
//!   and HKDF vectors (Apache-2.0, `vectors/wycheproof/LICENSE`).
//! * `vectors/captures/rfc8448-1rtt/`: RFC 8448 section 3 as a capture (record
//!   streams and an NSS key log), written by `make_rfc8448.py` from the RFC text.
//!
//! The parsers count what they find and the tests assert the counts, so a
//! parser that finds nothing cannot pass.

use std::collections::HashMap;

use bytes::BytesMut;
use tlsrec::keys::{hkdf_expand, hkdf_extract, tls12_prf};
use tlsrec::{
    CipherSuite, ContentType, HashAlgorithm, OpaqueRecord, Opener, ProtocolVersion, RecordKeys,
    Sealer, Secret,
};

const RFC5869: &str = include_str!("../vectors/rfc5869/rfc5869.txt");
const RFC8448: &str = include_str!("../vectors/rfc8448/rfc8448.txt");
const PRF_VECTOR: &str = include_str!("../vectors/prf/tls12_prf_sha256.txt");

/// Hex to bytes, ignoring whitespace (the test's own decoder, independent of
/// the crate's).
fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s
        .bytes()
        .filter(|b| !b.is_ascii_whitespace())
        .map(|b| match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            b'A'..=b'F' => b - b'A' + 10,
            _ => panic!("not a hex digit {:?} in {s:?}", b as char),
        })
        .collect();
    assert!(digits.len() % 2 == 0, "odd number of hex digits in {s:?}");
    digits.chunks(2).map(|p| p[0] << 4 | p[1]).collect()
}

fn is_hex_run(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_hexdigit())
}

// ---------------------------------------------------------------------------
// RFC 5869 appendix A
// ---------------------------------------------------------------------------

#[derive(Debug, Default)]
struct HkdfCase {
    name: String,
    hash: String,
    len: usize,
    values: HashMap<String, Vec<u8>>,
}

/// `(N octets)` at the end of a value line, if any, and the text before it.
fn strip_octets(s: &str) -> (&str, Option<usize>) {
    let s = s.trim();
    if let Some(open) = s.rfind('(') {
        if let Some(n) = s[open + 1..].strip_suffix(" octets)") {
            if let Ok(n) = n.parse() {
                return (s[..open].trim(), Some(n));
            }
        }
    }
    (s, None)
}

/// The test cases of RFC 5869 appendix A: `Hash`, `IKM`, `salt`, `info`, `L`,
/// `PRK`, `OKM`, hex values continued on following lines, `(N octets)` checked.
fn parse_rfc5869(text: &str) -> Vec<HkdfCase> {
    let lines: Vec<&str> = text.lines().collect();
    let mut cases: Vec<HkdfCase> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        i += 1;
        if line.starts_with("A.") && line.contains("Test Case") {
            cases.push(HkdfCase {
                name: line.trim().to_string(),
                ..HkdfCase::default()
            });
            continue;
        }
        let Some(case) = cases.last_mut() else {
            continue;
        };
        let Some((key, value)) = line.split_once(" = ") else {
            continue;
        };
        if !line.starts_with("   ") || line.starts_with("    ") {
            continue;
        }
        let key = key.trim().to_string();
        let value = value.trim();
        match key.as_str() {
            "Hash" => case.hash = value.to_string(),
            "L" => case.len = value.parse().expect("L is a number"),
            _ => {
                if value.starts_with("not provided") {
                    continue; // SHA-1 test case 7 only
                }
                let (first, mut n) = strip_octets(value);
                let mut hexs = String::new();
                if let Some(h) = first.strip_prefix("0x") {
                    hexs.push_str(h);
                    // continuation lines: indented hex, the last one may end "(N octets)"
                    while n.is_none() && i < lines.len() {
                        let (cont, m) = strip_octets(lines[i]);
                        if !lines[i].starts_with("          ") || !is_hex_run(cont) {
                            break;
                        }
                        hexs.push_str(cont);
                        n = m;
                        i += 1;
                    }
                } else {
                    assert!(
                        first.is_empty(),
                        "{}: unexpected value {value:?}",
                        case.name
                    );
                }
                let bytes = hex(&hexs);
                if let Some(n) = n {
                    assert_eq!(bytes.len(), n, "{}: {key} octet count", case.name);
                }
                case.values.insert(key, bytes);
            }
        }
    }
    cases
}

#[test]
fn rfc5869_hkdf_sha256_test_cases() {
    let cases = parse_rfc5869(RFC5869);
    assert_eq!(cases.len(), 7, "RFC 5869 has test cases A.1 to A.7");
    let mut run = 0;
    for case in cases.iter().filter(|c| c.hash == "SHA-256") {
        let v = |k: &str| {
            case.values
                .get(k)
                .unwrap_or_else(|| panic!("{}: no {k}", case.name))
        };
        let prk = hkdf_extract(HashAlgorithm::Sha256, v("salt"), v("IKM"));
        assert_eq!(prk.as_bytes(), &v("PRK")[..], "{}: PRK", case.name);
        let mut okm = vec![0u8; case.len];
        hkdf_expand(
            HashAlgorithm::Sha256,
            prk.as_bytes(),
            &[v("info")],
            &mut okm,
        )
        .unwrap();
        assert_eq!(okm, *v("OKM"), "{}: OKM", case.name);
        assert_eq!(okm.len(), case.len);
        // The same expansion with the info split into pieces (the API
        // concatenates them).
        let info = v("info");
        let (a, b) = info.split_at(info.len() / 2);
        let mut okm2 = vec![0u8; case.len];
        hkdf_expand(HashAlgorithm::Sha256, &v("PRK")[..], &[a, b], &mut okm2).unwrap();
        assert_eq!(okm2, *v("OKM"), "{}: OKM from split info", case.name);
        run += 1;
    }
    assert_eq!(
        run, 3,
        "test cases 1-3 are SHA-256 (4-7 are SHA-1, not supported)"
    );
}

// ---------------------------------------------------------------------------
// TLS 1.2 PRF
// ---------------------------------------------------------------------------

#[test]
fn tls12_prf_sha256_known_answer() {
    let mut fields = HashMap::new();
    for line in PRF_VECTOR.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (k, v) = line.split_once(" = ").expect("key = value");
        fields.insert(k.trim(), v.trim());
    }
    assert_eq!(fields["hash"], "SHA-256");
    let secret = hex(fields["secret"]);
    let seed = hex(fields["seed"]);
    let label = fields["label"].as_bytes();
    let expected = hex(fields["output"]);
    assert_eq!(expected.len(), 100);
    let mut out = vec![0u8; expected.len()];
    tls12_prf(HashAlgorithm::Sha256, &secret, label, &seed, &mut out);
    assert_eq!(out, expected);
    // Every prefix length gives the prefix (P_hash is truncated, not reshaped).
    for n in [0, 1, 31, 32, 33, 64, 99] {
        let mut short = vec![0u8; n];
        tls12_prf(HashAlgorithm::Sha256, &secret, label, &seed, &mut short);
        assert_eq!(short, expected[..n], "prefix of {n} bytes");
    }
}

// ---------------------------------------------------------------------------
// RFC 8448
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Side {
    Client,
    Server,
}

impl Side {
    fn other(self) -> Side {
        match self {
            Side::Client => Side::Server,
            Side::Server => Side::Client,
        }
    }
}

/// One `{client}` / `{server}` step of a trace with its hex fields.
#[derive(Debug)]
struct Block {
    section: u32,
    line: usize,
    side: Side,
    /// The first line of the title, without the side.
    title: String,
    fields: Vec<(String, Vec<u8>)>,
}

impl Block {
    fn field(&self, name: &str) -> Option<&[u8]> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }

    fn need(&self, name: &str) -> &[u8] {
        self.field(name)
            .unwrap_or_else(|| panic!("line {}: {:?} has no {name}", self.line, self.title))
    }
}

/// Page footers and headers of the RFC text; hex dumps continue across them.
fn is_page_break(line: &str) -> bool {
    line == "\x0c"
        || (line.starts_with("Thomson ") && line.contains("[Page "))
        || line.starts_with("RFC 8448 ")
}

/// Parses every step of RFC 8448's traces (sections 3 to 7). Fields are
/// `name (N octets):  hex...`, continued on lines indented by nine spaces
/// (also across page breaks); each is checked against its octet count.
fn parse_rfc8448(text: &str) -> Vec<Block> {
    let lines: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .filter(|(_, l)| !is_page_break(l))
        .collect();
    let mut blocks: Vec<Block> = Vec::new();
    let mut section = 0u32;
    let mut i = 0;
    while i < lines.len() {
        let (no, line) = lines[i];
        i += 1;
        // "3.  Simple 1-RTT Handshake"
        if let Some((num, rest)) = line.split_once(".  ") {
            if !num.is_empty() && num.bytes().all(|b| b.is_ascii_digit()) && !rest.is_empty() {
                section = num.parse().unwrap();
                continue;
            }
        }
        let side = if line.starts_with("   {client}") {
            Some(Side::Client)
        } else if line.starts_with("   {server}") {
            Some(Side::Server)
        } else {
            None
        };
        if let Some(side) = side {
            blocks.push(Block {
                section,
                line: no,
                side,
                title: line[11..].trim().to_string(),
                fields: Vec::new(),
            });
            continue;
        }
        // "      payload (36 octets):  14 00 00 20 ..."
        if !line.starts_with("      ") || line.starts_with("       ") {
            continue;
        }
        let Some((name_part, value)) = line.split_once(" octets):  ") else {
            continue;
        };
        let Some((name, n)) = name_part.trim().rsplit_once(" (") else {
            continue;
        };
        let n: usize = n
            .parse()
            .unwrap_or_else(|_| panic!("line {no}: octet count"));
        let block = blocks
            .last_mut()
            .unwrap_or_else(|| panic!("line {no}: field outside a step"));
        let mut bytes = Vec::new();
        if n > 0 {
            let mut hexs = value.to_string();
            while i < lines.len() {
                let (_, l) = lines[i];
                if l.trim().is_empty() {
                    i += 1;
                    continue;
                }
                if l.starts_with("         ")
                    && l.split_whitespace().all(|t| t.len() == 2 && is_hex_run(t))
                {
                    hexs.push(' ');
                    hexs.push_str(l);
                    i += 1;
                } else {
                    break;
                }
            }
            bytes = hex(&hexs);
        } else {
            assert_eq!(value.trim(), "(empty)", "line {no}");
        }
        assert_eq!(bytes.len(), n, "line {no}: {name} octet count");
        block.fields.push((name.to_string(), bytes));
    }
    blocks
}

/// "derive write traffic keys for handshake data (same as ..." -> "handshake data".
fn phase_after<'a>(title: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = title.strip_prefix(prefix)?;
    let end = rest.find(['(', ':']).unwrap_or(rest.len());
    Some(rest[..end].trim())
}

/// "send application_data record:" -> content type.
fn record_type(title: &str) -> Option<ContentType> {
    let name = title.strip_prefix("send ")?.strip_suffix(" record:")?;
    Some(match name {
        "handshake" => ContentType::Handshake,
        "application_data" => ContentType::ApplicationData,
        "alert" => ContentType::Alert,
        "change_cipher_spec" => ContentType::ChangeCipherSpec,
        other => panic!("unknown record type {other:?}"),
    })
}

const SUITE_8448: CipherSuite = CipherSuite::TLS13_AES_128_GCM_SHA256;

/// Keys stated in the trace: (section, writer, phase) -> (key, iv).
type KeyTable = HashMap<(u32, Side, String), (Vec<u8>, Vec<u8>)>;

/// Checks every stated traffic key / IV derivation and collects the keys.
/// Returns the table and the number of derivations checked per section.
fn rfc8448_key_table(blocks: &[Block]) -> (KeyTable, HashMap<u32, usize>) {
    let mut table = KeyTable::new();
    let mut checked: HashMap<u32, usize> = HashMap::new();
    for b in blocks {
        let (writer, phase) =
            if let Some(p) = phase_after(&b.title, "derive write traffic keys for ") {
                (b.side, p)
            } else if let Some(p) = phase_after(&b.title, "derive read traffic keys for ") {
                (b.side.other(), p)
            } else {
                continue;
            };
        let Some(prk) = b.field("PRK") else {
            // "(same as ...)": values given elsewhere.
            assert!(b.fields.is_empty(), "line {}", b.line);
            continue;
        };
        let key = b.need("key expanded").to_vec();
        let iv = b.need("iv expanded").to_vec();
        assert_eq!(key.len(), 16, "line {}", b.line);
        assert_eq!(iv.len(), 12, "line {}", b.line);
        let derived = RecordKeys::from_traffic_secret(SUITE_8448, &Secret::new(prk.to_vec()))
            .unwrap_or_else(|e| panic!("line {}: {e}", b.line));
        assert_eq!(derived.key(), &key[..], "line {}: key from PRK", b.line);
        assert_eq!(derived.iv(), &iv[..], "line {}: iv from PRK", b.line);
        *checked.entry(b.section).or_default() += 1;
        let k = (b.section, writer, phase.to_string());
        if let Some(prev) = table.get(&k) {
            assert_eq!(
                prev,
                &(key.clone(), iv.clone()),
                "line {}: stated twice, differently",
                b.line
            );
        }
        table.insert(k, (key, iv));
    }
    (table, checked)
}

/// Every HKDF step the traces show: `extract secret "X"` (salt, IKM ->
/// secret) and every `... "tls13 X"` expansion (PRK, hash, info ->
/// expanded), checked both as plain HKDF-Expand with the RFC's info bytes and
/// as HKDF-Expand-Label with the label from the title and the hash as context.
#[test]
fn rfc8448_key_schedule_steps() {
    use tlsrec::keys::hkdf_expand_label;
    let blocks = parse_rfc8448(RFC8448);
    let (mut extracts, mut expands) = (0, 0);
    for b in &blocks {
        if !b.title.ends_with(':') {
            continue; // "(same as ...)": no values
        }
        let quoted = b.title.split('"').nth(1);
        if b.title.starts_with("extract secret ") {
            // "salt:  0 (all zero octets)" has no octet count: HashLen zeros.
            let salt = b.field("salt").unwrap_or(&[0u8; 32]);
            let got = hkdf_extract(HashAlgorithm::Sha256, salt, b.need("IKM"));
            assert_eq!(got.as_bytes(), b.need("secret"), "line {}", b.line);
            if b.field("salt").is_none() {
                // An empty salt means the same (RFC 5869 2.2).
                let got = hkdf_extract(HashAlgorithm::Sha256, &[], b.need("IKM"));
                assert_eq!(got.as_bytes(), b.need("secret"), "line {}", b.line);
            }
            extracts += 1;
            continue;
        }
        let label = match quoted {
            Some(q) => q
                .strip_prefix("tls13 ")
                .unwrap_or_else(|| panic!("line {}: label {q:?}", b.line)),
            // The PSK binder is a Finished computation with the binder key.
            None if b.title == "calculate PSK binder:" => "finished",
            None => continue,
        };
        let expected = b.need("expanded");
        let mut out = vec![0u8; expected.len()];
        hkdf_expand(
            HashAlgorithm::Sha256,
            b.need("PRK"),
            &[b.need("info")],
            &mut out,
        )
        .unwrap();
        assert_eq!(
            out, expected,
            "line {}: HKDF-Expand with the RFC's info",
            b.line
        );
        let mut out = vec![0u8; expected.len()];
        hkdf_expand_label(
            HashAlgorithm::Sha256,
            b.need("PRK"),
            label.as_bytes(),
            b.need("hash"),
            &mut out,
        )
        .unwrap();
        assert_eq!(
            out, expected,
            "line {}: HKDF-Expand-Label {label:?}",
            b.line
        );
        expands += 1;
    }
    // 15 = early, handshake and master secrets of 5 handshakes;
    // 59 = 47 "derive secret", 10 "calculate finished", 1 resumption, 1 binder.
    assert_eq!((extracts, expands), (15, 59));
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct SectionCounts {
    records: usize,
    protected: usize,
}

/// One record of a trace, in trace order, with what the test learned about it.
#[derive(Debug, Clone)]
struct TraceRecord {
    section: u32,
    side: Side,
    typ: ContentType,
    payload: Vec<u8>,
    wire: Vec<u8>,
    /// (phase, sequence number) if protected.
    protection: Option<(String, u64)>,
}

/// Walks the traces in order: a `derive write traffic keys for P` step of a
/// side switches that side's writes to P's keys at sequence number 0; each
/// `send ... record` step is then protected under the side's current keys
/// (or plaintext before any).
fn rfc8448_records(blocks: &[Block]) -> Vec<TraceRecord> {
    let mut out = Vec::new();
    let mut active: HashMap<(u32, Side), (String, u64)> = HashMap::new();
    for b in blocks {
        if let Some(p) = phase_after(&b.title, "derive write traffic keys for ") {
            active.insert((b.section, b.side), (p.to_string(), 0));
            continue;
        }
        let Some(typ) = record_type(&b.title) else {
            continue;
        };
        let payload = b.need("payload").to_vec();
        let wire = b.need("complete record").to_vec();
        let protection = active.get_mut(&(b.section, b.side)).map(|(phase, seq)| {
            let p = (phase.clone(), *seq);
            *seq += 1;
            p
        });
        out.push(TraceRecord {
            section: b.section,
            side: b.side,
            typ,
            payload,
            wire,
            protection,
        });
    }
    out
}

#[test]
fn rfc8448_parser_finds_everything() {
    let blocks = parse_rfc8448(RFC8448);
    let sections: Vec<u32> = {
        let mut s: Vec<u32> = blocks.iter().map(|b| b.section).collect();
        s.dedup();
        s
    };
    assert_eq!(sections, [3, 4, 5, 6, 7]);
    // Spot checks against values read off the RFC by hand.
    let ch = blocks
        .iter()
        .find(|b| b.section == 3 && b.title == "send handshake record:")
        .unwrap();
    assert_eq!(ch.need("complete record").len(), 201);
    assert_eq!(
        &ch.need("complete record")[..6],
        &[0x16, 0x03, 0x01, 0x00, 0xc4, 0x01]
    );
    let last = blocks.last().unwrap();
    assert_eq!((last.section, last.side), (7, Side::Server));
    assert_eq!(last.title, "send alert record:");
    assert_eq!(last.need("payload"), &[1, 0]);
    // The 657-byte server flight of section 3 spans page breaks.
    let flight = blocks
        .iter()
        .filter(|b| b.section == 3 && b.title == "send handshake record:")
        .nth(2)
        .unwrap();
    assert_eq!(flight.need("payload").len(), 657);
    assert_eq!(flight.need("complete record").len(), 679);
    assert_eq!(
        &flight.need("complete record")[..7],
        &[0x17, 0x03, 0x03, 0x02, 0xa2, 0xd1, 0xff]
    );
}

#[test]
fn rfc8448_traffic_keys_from_secrets() {
    let blocks = parse_rfc8448(RFC8448);
    let (table, checked) = rfc8448_key_table(&blocks);
    let mut got: Vec<(u32, usize)> = checked.into_iter().collect();
    got.sort_unstable();
    // Derivations with values: 3: server hs/ap write, server hs read, client ap write;
    // 4: adds the client's early data keys and its handshake write keys.
    assert_eq!(got, [(3, 4), (4, 5), (5, 4), (6, 4), (7, 4)]);
    assert_eq!(table.len(), 21);
}

#[test]
fn rfc8448_records_open_and_seal_exactly() {
    let blocks = parse_rfc8448(RFC8448);
    let (table, _) = rfc8448_key_table(&blocks);
    let records = rfc8448_records(&blocks);
    let mut counts: HashMap<u32, SectionCounts> = HashMap::new();
    // One opener and one sealer per (section, side), following the trace.
    let mut openers: HashMap<(u32, Side), (Option<String>, Opener, Sealer)> = HashMap::new();
    for (n, r) in records.iter().enumerate() {
        let what = format!(
            "record #{n} (section {}, {:?}, {:?}, {:?})",
            r.section, r.side, r.typ, r.protection
        );
        let c = counts.entry(r.section).or_default();
        c.records += 1;
        let (cur_phase, opener, sealer) = openers
            .entry((r.section, r.side))
            .or_insert_with(|| (None, Opener::new(), Sealer::new()));
        match &r.protection {
            None => {
                // Plaintext record: header then the payload as it is.
                assert_eq!(r.wire[0], u8::from(r.typ), "{what}");
                assert_eq!(&r.wire[5..], &r.payload[..], "{what}");
                let plain = opener
                    .open(OpaqueRecord::from_wire(&r.wire).unwrap())
                    .unwrap();
                assert_eq!(plain.typ, r.typ, "{what}");
                assert_eq!(&plain.payload[..], &r.payload[..], "{what}");
                sealer.set_plaintext_version(ProtocolVersion(u16::from_be_bytes([
                    r.wire[1], r.wire[2],
                ])));
                let mut out = BytesMut::new();
                sealer.seal(r.typ, &r.payload, &mut out).unwrap();
                assert_eq!(&out[..], &r.wire[..], "{what}: plaintext re-seal");
            }
            Some((phase, seq)) => {
                c.protected += 1;
                let (key, iv) = table
                    .get(&(r.section, r.side, phase.clone()))
                    .unwrap_or_else(|| panic!("{what}: no keys stated for {phase}"));
                let keys = RecordKeys::new(SUITE_8448, key, iv).unwrap();
                if cur_phase.as_deref() != Some(phase.as_str()) {
                    assert_eq!(*seq, 0, "{what}: new keys start at 0");
                    opener.set_keys(keys.clone());
                    sealer.set_keys(keys.clone());
                    *cur_phase = Some(phase.clone());
                }
                // TLS 1.3 outer header: application_data, legacy version 1.2,
                // payload + type byte + 16-byte tag (RFC 8448 uses no padding).
                assert_eq!(&r.wire[..3], &[0x17, 0x03, 0x03], "{what}");
                assert_eq!(r.wire.len(), 5 + r.payload.len() + 1 + 16, "{what}");

                // The direction's opener, carried along the trace.
                assert_eq!(opener.sequence(), Some(*seq), "{what}");
                let plain = opener
                    .open(OpaqueRecord::from_wire(&r.wire).unwrap())
                    .unwrap_or_else(|e| panic!("{what}: open: {e}"));
                assert_eq!(plain.typ, r.typ, "{what}");
                assert_eq!(&plain.payload[..], &r.payload[..], "{what}");
                assert_eq!(plain.version, ProtocolVersion::TLS12, "{what}");

                // A fresh opener told the sequence number.
                let mut fresh = Opener::new();
                fresh.set_keys(keys.clone());
                fresh.set_sequence(*seq).unwrap();
                let plain = fresh
                    .open(OpaqueRecord::from_wire(&r.wire).unwrap())
                    .unwrap();
                assert_eq!(&plain.payload[..], &r.payload[..], "{what}");

                // The wrong sequence number, or a flipped bit, fails.
                let mut wrong = Opener::new();
                wrong.set_keys(keys.clone());
                wrong.set_sequence(seq + 1).unwrap();
                assert!(
                    wrong
                        .open(OpaqueRecord::from_wire(&r.wire).unwrap())
                        .is_err(),
                    "{what}"
                );
                for pos in [3usize, 5, r.wire.len() - 17, r.wire.len() - 1] {
                    let mut bad = r.wire.clone();
                    bad[pos] ^= 0x01;
                    let mut o = Opener::new();
                    o.set_keys(keys.clone());
                    o.set_sequence(*seq).unwrap();
                    let res = OpaqueRecord::from_wire(&bad).and_then(|rec| o.open(rec));
                    assert!(res.is_err(), "{what}: bit flipped at {pos} accepted");
                }

                // Sealing the payload again gives the RFC's bytes exactly.
                assert_eq!(sealer.sequence(), Some(*seq), "{what}");
                let mut out = BytesMut::new();
                sealer.seal(r.typ, &r.payload, &mut out).unwrap();
                assert_eq!(&out[..], &r.wire[..], "{what}: re-seal");
                let mut fresh = Sealer::new();
                fresh.set_keys(keys);
                fresh.set_sequence(*seq).unwrap();
                let mut out = BytesMut::new();
                fresh.seal(r.typ, &r.payload, &mut out).unwrap();
                assert_eq!(&out[..], &r.wire[..], "{what}: re-seal, fresh sealer");
            }
        }
    }
    let mut got: Vec<(u32, SectionCounts)> = counts.into_iter().collect();
    got.sort_unstable_by_key(|(s, _)| *s);
    let want = |records, protected| SectionCounts { records, protected };
    assert_eq!(
        got,
        [
            (3, want(9, 7)),
            (4, want(10, 8)),
            (5, want(8, 4)),
            (6, want(6, 4)),
            (7, want(8, 4)),
        ]
    );
}

#[test]
fn rfc8448_section3_record_order_and_sequence_numbers() {
    // The trace order the open/seal test relies on, spelled out for section 3.
    let blocks = parse_rfc8448(RFC8448);
    type Row = (Side, ContentType, Option<(String, u64)>, usize);
    let got: Vec<Row> = rfc8448_records(&blocks)
        .into_iter()
        .filter(|r| r.section == 3)
        .map(|r| (r.side, r.typ, r.protection, r.payload.len()))
        .collect();
    let hs = |s: &str, n| Some((s.to_string(), n));
    use ContentType::*;
    use Side::*;
    assert_eq!(
        got,
        [
            (Client, Handshake, None, 196),
            (Server, Handshake, None, 90),
            (Server, Handshake, hs("handshake data", 0), 657),
            (Client, Handshake, hs("handshake data", 0), 36),
            (Server, Handshake, hs("application data", 0), 205),
            (Client, ApplicationData, hs("application data", 0), 50),
            (Server, ApplicationData, hs("application data", 1), 50),
            (Client, Alert, hs("application data", 1), 2),
            (Server, Alert, hs("application data", 2), 2),
        ]
    );
}

// ---------------------------------------------------------------------------
// RFC 8448 section 3 as a capture (vectors/captures/rfc8448-1rtt)
// ---------------------------------------------------------------------------

const CAPTURE_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/vectors/captures/rfc8448-1rtt");

#[test]
fn rfc8448_capture_files_match_the_rfc() {
    // The files written by make_rfc8448.py hold the same records as this
    // test's own parse of the RFC text.
    let c2s = std::fs::read(format!("{CAPTURE_DIR}/c2s.bin")).unwrap();
    let s2c = std::fs::read(format!("{CAPTURE_DIR}/s2c.bin")).unwrap();
    let blocks = parse_rfc8448(RFC8448);
    let recs = rfc8448_records(&blocks);
    let cat = |side| {
        recs.iter()
            .filter(|r| r.section == 3 && r.side == side)
            .flat_map(|r| r.wire.clone())
            .collect::<Vec<u8>>()
    };
    assert_eq!(c2s, cat(Side::Client));
    assert_eq!(s2c, cat(Side::Server));
    assert_eq!(c2s.len(), 201 + 58 + 72 + 24);
    assert_eq!(s2c.len(), 95 + 679 + 227 + 72 + 24);

    // The key log's secrets are the RFC's "derive secret" outputs.
    let log = tlsrec::keylog::KeyLog::parse(
        &std::fs::read_to_string(format!("{CAPTURE_DIR}/keylog.txt")).unwrap(),
    )
    .unwrap();
    let random: [u8; 32] = c2s[11..43].try_into().unwrap();
    let secret_of = |label: &str| {
        blocks
            .iter()
            .find(|b| b.section == 3 && b.title == format!("derive secret \"{label}\":"))
            .unwrap_or_else(|| panic!("no {label}"))
            .need("expanded")
            .to_vec()
    };
    use tlsrec::keylog::KeyLogLabel as L;
    for (label, name) in [
        (L::ClientHandshakeTrafficSecret, "tls13 c hs traffic"),
        (L::ServerHandshakeTrafficSecret, "tls13 s hs traffic"),
        (L::ClientTrafficSecret0, "tls13 c ap traffic"),
        (L::ServerTrafficSecret0, "tls13 s ap traffic"),
    ] {
        let s = log
            .find(&label, &random)
            .unwrap_or_else(|| panic!("{label:?} missing"));
        assert_eq!(s.as_bytes(), &secret_of(name)[..], "{label:?}");
    }
}

#[test]
fn rfc8448_capture_decodes() {
    use tlsrec::follow::Dir;
    use tlsrec::handshake::HandshakeType as H;
    let c2s = std::fs::read(format!("{CAPTURE_DIR}/c2s.bin")).unwrap();
    let s2c = std::fs::read(format!("{CAPTURE_DIR}/s2c.bin")).unwrap();
    let log = tlsrec::keylog::KeyLog::parse(
        &std::fs::read_to_string(format!("{CAPTURE_DIR}/keylog.txt")).unwrap(),
    )
    .unwrap();
    let d = tlsrec::decode::decode_capture(log, &c2s, &s2c);
    assert_eq!(d.trailing, [0, 0], "every byte is in a whole record");
    for ev in &d.events {
        assert!(ev.error.is_none(), "{}", ev.to_text());
        assert!(ev.plain.is_some(), "{}", ev.to_text());
    }
    type Row = (u64, u64, ContentType, Option<u64>, Vec<H>, usize);
    let rows = |dir: Dir| -> Vec<Row> {
        d.events
            .iter()
            .filter(|e| e.dir == dir)
            .map(|e| {
                (
                    e.offset,
                    e.epoch,
                    e.content_type(),
                    e.seq,
                    e.messages.clone(),
                    e.plain.as_ref().unwrap().payload.len(),
                )
            })
            .collect()
    };
    use ContentType::*;
    assert_eq!(
        rows(Dir::C2s),
        [
            (0, 0, Handshake, None, vec![H::ClientHello], 196),
            (201, 1, Handshake, Some(0), vec![H::Finished], 36),
            (259, 2, ApplicationData, Some(0), vec![], 50),
            (331, 2, Alert, Some(1), vec![], 2),
        ]
    );
    assert_eq!(
        rows(Dir::S2c),
        [
            (0, 0, Handshake, None, vec![H::ServerHello], 90),
            (
                95,
                1,
                Handshake,
                Some(0),
                vec![
                    H::EncryptedExtensions,
                    H::Certificate,
                    H::CertificateVerify,
                    H::Finished
                ],
                657
            ),
            (774, 2, Handshake, Some(0), vec![H::NewSessionTicket], 205),
            (1001, 2, ApplicationData, Some(1), vec![], 50),
            (1073, 2, Alert, Some(2), vec![], 2),
        ]
    );
    // The application data is the RFC's payload 00 01 .. 31.
    let app: Vec<&[u8]> = d
        .events
        .iter()
        .filter(|e| e.content_type() == ApplicationData)
        .map(|e| &e.plain.as_ref().unwrap().payload[..])
        .collect();
    let expected: Vec<u8> = (0u8..50).collect();
    assert_eq!(app, [&expected[..], &expected[..]]);
    assert_eq!(d.events.len(), 9);
}

// ---------------------------------------------------------------------------
// Wycheproof
// ---------------------------------------------------------------------------

#[cfg(feature = "transcript")]
mod wycheproof {
    use super::*;
    use serde_json::Value;
    use tlsrec::cipher::AeadCipher;
    use tlsrec::AeadAlgorithm;

    fn load(name: &str) -> Value {
        let path = format!("{}/vectors/wycheproof/{name}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        serde_json::from_str(&text).unwrap()
    }

    fn s<'a>(t: &'a Value, k: &str) -> &'a str {
        t[k].as_str()
            .unwrap_or_else(|| panic!("no string {k} in {t}"))
    }

    #[derive(Debug, Default, PartialEq, Eq)]
    struct AeadCounts {
        valid: usize,
        invalid: usize,
        acceptable_skipped: usize,
        /// Groups outside TLS's shapes (IV not 96 bits, AES-192).
        skipped_tests: usize,
    }

    /// valid: seal gives ct || tag and open gives msg; invalid: open fails
    /// and leaves the buffer as it was (no plaintext released).
    fn run_aead(file: &str, alg_of_key_bits: impl Fn(u64) -> Option<AeadAlgorithm>) -> AeadCounts {
        let v = load(file);
        let mut c = AeadCounts::default();
        let mut total = 0;
        for g in v["testGroups"].as_array().unwrap() {
            let tests = g["tests"].as_array().unwrap();
            total += tests.len();
            let alg = alg_of_key_bits(g["keySize"].as_u64().unwrap());
            let (Some(alg), 96, 128) = (
                alg,
                g["ivSize"].as_u64().unwrap(),
                g["tagSize"].as_u64().unwrap(),
            ) else {
                c.skipped_tests += tests.len();
                continue;
            };
            for t in tests {
                let id = format!("{file} tcId {}", t["tcId"]);
                let key = hex(s(t, "key"));
                let iv: [u8; 12] = hex(s(t, "iv")).try_into().unwrap();
                let aad = hex(s(t, "aad"));
                let msg = hex(s(t, "msg"));
                let ct = hex(s(t, "ct"));
                let tag = hex(s(t, "tag"));
                let cipher = AeadCipher::new(alg, &key).unwrap_or_else(|| panic!("{id}: key"));
                match s(t, "result") {
                    "valid" => {
                        let mut buf = msg.clone();
                        let got_tag = cipher.seal_in_place(&iv, &aad, &mut buf);
                        assert_eq!(buf, ct, "{id}: ciphertext");
                        assert_eq!(&got_tag[..], &tag[..], "{id}: tag");
                        let tag: [u8; 16] = tag.try_into().unwrap();
                        let mut buf = ct.clone();
                        cipher
                            .open_in_place(&iv, &aad, &mut buf, &tag)
                            .unwrap_or_else(|_| panic!("{id}: open"));
                        assert_eq!(buf, msg, "{id}: plaintext");
                        c.valid += 1;
                    }
                    "invalid" => {
                        let Ok(tag16) = <[u8; 16]>::try_from(tag.as_slice()) else {
                            // A tag that is not 16 bytes cannot even be passed in.
                            c.invalid += 1;
                            continue;
                        };
                        let mut buf = ct.clone();
                        let r = cipher.open_in_place(&iv, &aad, &mut buf, &tag16);
                        assert!(
                            r.is_err(),
                            "{id}: invalid vector accepted ({})",
                            s(t, "comment")
                        );
                        assert_eq!(buf, ct, "{id}: buffer changed by a failed open");
                        c.invalid += 1;
                    }
                    "acceptable" => c.acceptable_skipped += 1,
                    other => panic!("{id}: result {other}"),
                }
            }
        }
        assert_eq!(
            total as u64,
            v["numberOfTests"].as_u64().unwrap(),
            "{file}: every test was seen"
        );
        c
    }

    #[test]
    fn wycheproof_aes_gcm() {
        let c = run_aead("aes_gcm_test.json", |bits| match bits {
            128 => Some(AeadAlgorithm::Aes128Gcm),
            256 => Some(AeadAlgorithm::Aes256Gcm),
            _ => None,
        });
        assert_eq!(
            c,
            AeadCounts {
                valid: 79,
                invalid: 54,
                acceptable_skipped: 0,
                skipped_tests: 316 - 79 - 54,
            }
        );
    }

    #[test]
    fn wycheproof_chacha20_poly1305() {
        let c = run_aead("chacha20_poly1305_test.json", |bits| {
            (bits == 256).then_some(AeadAlgorithm::ChaCha20Poly1305)
        });
        assert_eq!(
            c,
            AeadCounts {
                valid: 256,
                invalid: 60,
                acceptable_skipped: 0,
                skipped_tests: 325 - 256 - 60,
            }
        );
    }

    /// valid: extract then expand gives okm; invalid (size over 255 * HashLen):
    /// expand refuses.
    fn run_hkdf(file: &str, hash: HashAlgorithm) -> (usize, usize) {
        let v = load(file);
        let (mut valid, mut invalid) = (0, 0);
        for g in v["testGroups"].as_array().unwrap() {
            for t in g["tests"].as_array().unwrap() {
                let id = format!("{file} tcId {}", t["tcId"]);
                let prk = hkdf_extract(hash, &hex(s(t, "salt")), &hex(s(t, "ikm")));
                let mut okm = vec![0u8; t["size"].as_u64().unwrap() as usize];
                let r = hkdf_expand(hash, prk.as_bytes(), &[&hex(s(t, "info"))], &mut okm);
                match s(t, "result") {
                    "valid" => {
                        r.unwrap_or_else(|e| panic!("{id}: {e}"));
                        assert_eq!(okm, hex(s(t, "okm")), "{id}");
                        valid += 1;
                    }
                    "invalid" => {
                        assert!(r.is_err(), "{id}: accepted ({})", s(t, "comment"));
                        invalid += 1;
                    }
                    other => panic!("{id}: result {other}"),
                }
            }
        }
        assert_eq!(
            (valid + invalid) as u64,
            v["numberOfTests"].as_u64().unwrap()
        );
        (valid, invalid)
    }

    #[test]
    fn wycheproof_hkdf_sha256() {
        assert_eq!(
            run_hkdf("hkdf_sha256_test.json", HashAlgorithm::Sha256),
            (83, 3)
        );
    }

    #[test]
    fn wycheproof_hkdf_sha384() {
        assert_eq!(
            run_hkdf("hkdf_sha384_test.json", HashAlgorithm::Sha384),
            (80, 3)
        );
    }
}
