//! `tlsrec decode --keylog K capture.pcap` on captures written by the test
//! itself (no network): the bytes of transcripts of real OpenSSL
//! connections cut into TCP segments, with SYNs, timestamps in the
//! transcript's true order, retransmitted (whole and overlapping) and
//! out-of-order segments, an IPv4 and an IPv6 connection in one file, as
//! pcap and as pcapng.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use etherparse::PacketBuilder;
use pcap_file::pcap::{PcapPacket, PcapWriter};
use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionBlock;
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::DataLink;
use serde_json::Value;
use tlsrec::transcript::{Step, Transcript};

fn tlsrec(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tlsrec"))
        .args(args)
        .output()
        .expect("run tlsrec")
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tlsrec-pcap-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn transcript(prefix: &str) -> (PathBuf, Transcript, Vec<String>) {
    let dir = root().join("vectors/transcripts");
    let mut all: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_str().unwrap().starts_with(prefix))
        .collect();
    all.sort();
    let path = all.remove(0);
    let json = std::fs::read_to_string(&path).unwrap();
    let v: Value = serde_json::from_str(&json).unwrap();
    let keylog = v["keylog"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().to_string())
        .collect();
    (path, Transcript::parse(&json).unwrap(), keylog)
}

/// A TCP segment to write: who sent it, its sequence number, its bytes.
#[derive(Clone)]
struct Seg {
    c2s: bool,
    seq: u32,
    syn: bool,
    data: Vec<u8>,
}

const ISN: [u32; 2] = [0xfffff000, 1_000_000]; // c2s wraps around 2^32.

/// The transcript's bytes as segments in its true order: each step's bytes
/// in segments of at most `mss` bytes (cutting records anywhere).
fn segments(t: &Transcript, mss: usize) -> Vec<Seg> {
    let mut out = vec![
        Seg {
            c2s: true,
            seq: ISN[0],
            syn: true,
            data: vec![],
        },
        Seg {
            c2s: false,
            seq: ISN[1],
            syn: true,
            data: vec![],
        },
    ];
    let mut next = [ISN[0].wrapping_add(1), ISN[1].wrapping_add(1)];
    for s in &t.steps {
        let (c2s, b) = match s {
            Step::Recv(b) => (false, b),
            Step::Send(b) | Step::Drain { wire: b, .. } => (true, b),
            _ => continue,
        };
        let i = usize::from(!c2s);
        for chunk in b.chunks(mss) {
            out.push(Seg {
                c2s,
                seq: next[i],
                syn: false,
                data: chunk.to_vec(),
            });
            next[i] = next[i].wrapping_add(chunk.len() as u32);
        }
    }
    out
}

/// Ethernet frames of one connection (IPv4 or IPv6).
fn frame(s: &Seg, v6: bool) -> Vec<u8> {
    let (cport, sport) = if v6 { (40002, 8443) } else { (40001, 4433) };
    let (src, dst) = if s.c2s {
        (cport, sport)
    } else {
        (sport, cport)
    };
    let eth = PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2]);
    let ip = if v6 {
        let (a, b) = (
            Ipv6Addr::LOCALHOST.octets(),
            "::2".parse::<Ipv6Addr>().unwrap().octets(),
        );
        let (x, y) = if s.c2s { (a, b) } else { (b, a) };
        eth.ipv6(x, y, 64)
    } else {
        let (a, b) = (
            Ipv4Addr::new(127, 0, 0, 1).octets(),
            Ipv4Addr::new(127, 0, 0, 2).octets(),
        );
        let (x, y) = if s.c2s { (a, b) } else { (b, a) };
        eth.ipv4(x, y, 64)
    };
    let mut tcp = ip.tcp(src, dst, s.seq, 65535);
    if s.syn {
        tcp = tcp.syn();
    }
    if s.syn && !s.c2s {
        tcp = tcp.ack(ISN[0].wrapping_add(1));
    } else if !s.syn {
        tcp = tcp.ack(1);
    }
    let mut buf = Vec::with_capacity(tcp.size(s.data.len()));
    tcp.write(&mut buf, &s.data).unwrap();
    buf
}

fn write_pcap(path: &Path, frames: &[(Duration, Vec<u8>)]) {
    let mut w = PcapWriter::new(std::fs::File::create(path).unwrap()).unwrap();
    for (t, f) in frames {
        w.write_packet(&PcapPacket::new(*t, f.len() as u32, f))
            .unwrap();
    }
}

fn write_pcapng(path: &Path, frames: &[(Duration, Vec<u8>)]) {
    let mut w = PcapNgWriter::new(std::fs::File::create(path).unwrap()).unwrap();
    w.write_pcapng_block(InterfaceDescriptionBlock::new(DataLink::ETHERNET, 65535))
        .unwrap();
    for (t, f) in frames {
        w.write_pcapng_block(EnhancedPacketBlock {
            interface_id: 0,
            timestamp: *t,
            original_len: f.len() as u32,
            data: f.as_slice().into(),
            options: vec![],
        })
        .unwrap();
    }
}

fn lines(o: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect(l))
        .collect()
}

/// (dir, offset, epoch, seq, type, summary) of each record.
fn key(r: &Value) -> (String, u64, u64, Value, Value, String) {
    (
        r["dir"].as_str().unwrap().into(),
        r["offset"].as_u64().unwrap(),
        r["epoch"].as_u64().unwrap(),
        r["seq"].clone(),
        r["type"].clone(),
        r["summary"].as_str().unwrap().into(),
    )
}

/// The records of the transcript as `tlsrec decode TRANSCRIPT` gives them,
/// in its true order.
fn truth(path: &Path) -> Vec<Value> {
    let mut v = lines(&tlsrec(&["decode", "--json", path.to_str().unwrap()]));
    v.pop();
    v
}

#[test]
fn two_connections_with_retransmissions_and_reordering() {
    let dir = scratch("two");
    // Connection 1 (IPv4): a TLS 1.2 connection with renegotiations, in
    // order, 700-byte segments. Connection 2 (IPv6): TLS 1.3 with a
    // KeyUpdate, 300-byte segments, some retransmitted (whole and partly)
    // and some swapped with the next one of their direction.
    let (p1, t1, k1) = transcript("reneg-tls_ecdhe_rsa_with_aes_128_gcm_sha256-s1.");
    let (p2, t2, k2) = transcript("real-tls_aes_128_gcm_sha256-s13.");
    let s1 = segments(&t1, 700);
    let mut s2 = segments(&t2, 300);
    let (mut retrans, mut swapped) = (0, 0);
    let mut i = 3;
    while i + 1 < s2.len() {
        if s2[i].c2s == s2[i + 1].c2s && i % 3 == 0 {
            s2.swap(i, i + 1);
            swapped += 1;
            i += 2;
        } else {
            i += 1;
        }
    }
    let mut with_copies = Vec::new();
    for (n, s) in s2.into_iter().enumerate() {
        with_copies.push(s.clone());
        if n % 4 == 2 && !s.data.is_empty() {
            with_copies.push(s.clone()); // the whole segment again
            retrans += 1;
        }
        if n % 5 == 3 && s.data.len() > 10 {
            // The last 10 bytes again, with 5 new ones of the next segment
            // unknown here: only the old bytes, at their sequence number.
            let mut part = s.clone();
            part.seq = part.seq.wrapping_add((part.data.len() - 10) as u32);
            part.data = part.data[part.data.len() - 10..].to_vec();
            with_copies.push(part);
            retrans += 1;
        }
    }
    assert!(swapped > 2 && retrans > 4, "{swapped} {retrans}");
    // Interleave the two connections; each packet 1 ms after the last.
    let mut frames = Vec::new();
    let (mut a, mut b) = (s1.iter(), with_copies.iter());
    let mut t = Duration::from_secs(1_700_000_000);
    loop {
        let (x, y) = (a.next(), b.next());
        if x.is_none() && y.is_none() {
            break;
        }
        for (s, v6) in [(x, false), (y, true)] {
            if let Some(s) = s {
                t += Duration::from_millis(1);
                frames.push((t, frame(s, v6)));
            }
        }
    }
    let keylog = dir.join("keylog.txt");
    std::fs::write(&keylog, [k1, k2].concat().join("\n") + "\n").unwrap();
    let (pcap, pcapng) = (dir.join("c.pcap"), dir.join("c.pcapng"));
    write_pcap(&pcap, &frames);
    write_pcapng(&pcapng, &frames);

    let mut outputs = Vec::new();
    for file in [&pcap, &pcapng] {
        let o = tlsrec(&[
            "decode",
            "--json",
            "--keylog",
            keylog.to_str().unwrap(),
            file.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let v = lines(&o);
        // connection, records..., summary; twice.
        let starts: Vec<usize> = v
            .iter()
            .enumerate()
            .filter(|(_, x)| x.get("connection").is_some() && x.get("dir").is_none())
            .map(|(i, _)| i)
            .collect();
        assert_eq!(starts.len(), 2, "two connections");
        let conn = |n: usize| {
            let from = starts[n] + 1;
            let to = if n == 0 { starts[1] } else { v.len() };
            (
                v[starts[n]].clone(),
                v[from..to - 1].to_vec(),
                v[to - 1]["summary"].clone(),
            )
        };
        let (h1, r1, sum1) = conn(0);
        let (h2, r2, sum2) = conn(1);
        assert_eq!(h1["client"], "127.0.0.1:40001");
        assert_eq!(h1["server"], "127.0.0.2:4433");
        assert_eq!(h2["client"], "[::1]:40002");
        // In order: the packets' timestamps give the transcript's true order
        // of both directions, record by record.
        let want1: Vec<_> = truth(&p1).iter().map(key).collect();
        assert_eq!(r1.iter().map(key).collect::<Vec<_>>(), want1);
        assert_eq!(sum1["errors"], serde_json::json!([]));
        assert_eq!(sum1["retransmitted"], 0);
        // Reordered and retransmitted: every record, each direction's the
        // same as the transcript's.
        let want2 = truth(&p2);
        for d in ["c2s", "s2c"] {
            let got: Vec<_> = r2.iter().filter(|r| r["dir"] == d).map(key).collect();
            let want: Vec<_> = want2.iter().filter(|r| r["dir"] == d).map(key).collect();
            assert_eq!(got, want, "{d}");
        }
        assert_eq!(sum2["not_opened"], 0);
        assert_eq!(sum2["errors"], serde_json::json!([]));
        assert_eq!(sum2["retransmitted"], retrans);
        assert!(sum2["out_of_order"].as_u64().unwrap() >= swapped);
        // Each record with the segments it came in: they cover it exactly,
        // and records cut across segments are there.
        let mut cut = 0;
        for r in r1.iter().chain(&r2) {
            let start = r["offset"].as_u64().unwrap();
            let end = start + 5 + r["length"].as_u64().unwrap();
            let segs = r["segments"].as_array().unwrap();
            assert!(segs[0]["start"].as_u64().unwrap() <= start);
            assert!(segs.last().unwrap()["end"].as_u64().unwrap() >= end);
            for w in segs.windows(2) {
                assert_eq!(w[0]["end"], w[1]["start"]);
            }
            cut += usize::from(segs.len() > 1);
        }
        assert!(cut > 5, "{cut} records over several segments");
        outputs.push(v);
    }
    assert_eq!(outputs[0], outputs[1], "pcap and pcapng decode the same");

    // The text form names each record's frames, with the part of a record
    // a segment held where it was cut.
    let o = tlsrec(&[
        "decode",
        "--keylog",
        keylog.to_str().unwrap(),
        pcap.to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.starts_with("connection 1: 127.0.0.1:40001 -> 127.0.0.2:4433"),
        "{text}"
    );
    assert!(
        text.contains("connection 2: [::1]:40002 -> [::2]:8443"),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.contains("frames #") && l.contains("..")),
        "{text}"
    );
}

#[test]
fn a_segment_missing_from_the_capture_is_reported() {
    let dir = scratch("gap");
    let (_, t, k) = transcript("real-tls_aes_128_gcm_sha256-s13.");
    let mut s = segments(&t, 200);
    let lost = s
        .iter()
        .rposition(|x| !x.c2s && !x.data.is_empty())
        .unwrap()
        - 3;
    s.remove(lost);
    let frames: Vec<_> = s
        .iter()
        .enumerate()
        .map(|(i, x)| (Duration::from_millis(i as u64), frame(x, false)))
        .collect();
    let (pcap, keylog) = (dir.join("g.pcap"), dir.join("k.txt"));
    write_pcap(&pcap, &frames);
    std::fs::write(&keylog, k.join("\n")).unwrap();
    let o = tlsrec(&[
        "decode",
        "--keylog",
        keylog.to_str().unwrap(),
        pcap.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("are missing from the capture (a gap"), "{err}");
}

#[test]
fn not_a_capture() {
    let dir = scratch("notcap");
    let (f, k) = (dir.join("x.pcap"), dir.join("k.txt"));
    std::fs::write(&f, b"hello, not a capture").unwrap();
    std::fs::write(&k, "").unwrap();
    let o = tlsrec(&[
        "decode",
        "--keylog",
        k.to_str().unwrap(),
        f.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a pcap or pcapng file"));
}

/// Checks that `html` is well-formed: every element closed in order (void
/// elements written as `<meta ... />`), attributes quoted, no stray `<`,
/// `>` or `&` in text. Returns the number of `<div class="rec ...">` boxes.
fn well_formed(html: &str) -> usize {
    let body = html
        .strip_prefix("<!DOCTYPE html>\n")
        .expect("starts with the doctype");
    let mut stack: Vec<String> = Vec::new();
    let mut boxes = 0;
    let mut rest = body;
    while let Some(lt) = rest.find('<') {
        let text = &rest[..lt];
        assert!(!text.contains('>'), "a stray > in {text:?}");
        for (i, _) in text.match_indices('&') {
            let ent = &text[i..text[i..].find(';').map_or(text.len(), |e| i + e + 1)];
            assert!(
                ["&lt;", "&gt;", "&amp;", "&quot;", "&#39;", "&#183;"].contains(&ent),
                "a bad entity {ent:?}"
            );
        }
        let gt = rest[lt..].find('>').expect("a tag closed") + lt;
        let tag = &rest[lt + 1..gt];
        assert!(!tag.contains('<'), "a < inside a tag: {tag:?}");
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(stack.pop().as_deref(), Some(name), "closing {name}");
        } else if !tag.ends_with('/') {
            let name = tag.split_whitespace().next().unwrap();
            assert_eq!(tag.matches('"').count() % 2, 0, "quotes in {tag:?}");
            if name == "div" && tag.contains("class=\"rec ") {
                boxes += 1;
            }
            stack.push(name.to_string());
        }
        rest = &rest[gt + 1..];
    }
    assert!(stack.is_empty(), "unclosed: {stack:?}");
    boxes
}

#[test]
fn html_page_is_well_formed_and_lists_every_record() {
    let dir = scratch("html");
    let (p1, t1, k1) = transcript("reneg-tls_ecdhe_rsa_with_aes_128_gcm_sha256-s1.");
    let frames: Vec<_> = segments(&t1, 500)
        .iter()
        .enumerate()
        .map(|(i, s)| (Duration::from_millis(i as u64), frame(s, false)))
        .collect();
    let (pcap, keylog, page) = (dir.join("c.pcap"), dir.join("k.txt"), dir.join("p.html"));
    write_pcap(&pcap, &frames);
    std::fs::write(&keylog, k1.join("\n")).unwrap();
    let o = tlsrec(&[
        "decode",
        "--keylog",
        keylog.to_str().unwrap(),
        pcap.to_str().unwrap(),
        "--html",
        page.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let html = std::fs::read_to_string(&page).unwrap();
    let records = truth(&p1);
    assert_eq!(well_formed(&html), records.len());
    // Every record's summary is on the page, in order.
    let mut at = 0;
    for r in &records {
        let s = r["summary"].as_str().unwrap();
        at += html[at..].find(&format!(">{s}<")).expect(s) + 1;
    }
    assert!(
        html.contains("class=\"cut\">segments #"),
        "segment cuts marked"
    );
    assert!(html.contains(" key\""), "key changes marked");
    // From a transcript too, with a problem listed (a truncated stream).
    let o = tlsrec(&[
        "decode",
        root()
            .join("vectors/transcripts/real-tls_aes_128_gcm_sha256-s18.json")
            .to_str()
            .unwrap(),
        "--html",
        page.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let html = std::fs::read_to_string(&page).unwrap();
    well_formed(&html);
    assert!(html.contains("<div class=\"problems\">") && html.contains("not a whole record"));
}
