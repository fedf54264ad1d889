//! Real OpenSSL connections decoded from two files, as a tester captures
//! them: `openssl s_server` and `openssl s_client` (the system OpenSSL 3)
//! talk through a relay in this test that writes each direction to its own
//! buffer; the client writes the key log (`-keylogfile`) and both log their
//! messages (`-msg`). Commands typed on their stdin drive renegotiations
//! (`R` on the client, `r` on the server) and KeyUpdates (`K` asks the peer
//! to update too, `k` does not). Everything runs on 127.0.0.1 and the
//! processes end by themselves (the client on `Q`, the server after one
//! connection, `-naccept 1`); a watchdog kills them after 20 s.
//!
//! Checked: `tlsrec decode --keylog --c2s --s2c`, and `tlsrec decode
//! --keylog K relay.pcap` on the relay's reads written as a pcap (one TCP
//! segment per read, at its time), open every record, exit 0, and show,
//! direction by direction, the handshake messages OpenSSL's `-msg` logged,
//! in the same order.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

fn have_openssl() -> bool {
    Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tlsrec-live-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// What the relay read, in the order it read it: (time since start, c2s?, bytes).
type Chunks = Arc<Mutex<Vec<(Duration, bool, Vec<u8>)>>>;

/// Copies `from` to `to`, keeping a copy of every byte and of every read.
fn pump(
    mut from: TcpStream,
    mut to: TcpStream,
    log: Arc<Mutex<Vec<u8>>>,
    chunks: Chunks,
    c2s: bool,
    t0: Instant,
) {
    let mut buf = [0u8; 16384];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                log.lock().unwrap().extend_from_slice(&buf[..n]);
                chunks
                    .lock()
                    .unwrap()
                    .push((t0.elapsed(), c2s, buf[..n].to_vec()));
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

fn wait(child: &mut Child, deadline: Instant) {
    while Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            return;
        }
        thread::sleep(Duration::from_millis(20));
    }
    // Our own child, by its handle.
    let _ = child.kill();
    let _ = child.wait();
    panic!("an openssl process did not end by itself");
}

struct Run {
    dir: PathBuf,
    files: [String; 3],
    /// The same connection as a pcap file: each read of the relay a TCP
    /// segment (at most 1400 bytes) at the time it was read.
    pcap: String,
}

/// Writes the relay's reads as a pcap of one IPv4 TCP connection.
fn write_pcap(path: &Path, chunks: &[(Duration, bool, Vec<u8>)]) {
    use etherparse::PacketBuilder;
    use pcap_file::pcap::{PcapPacket, PcapWriter};
    let start = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    let mut w = PcapWriter::new(std::fs::File::create(path).unwrap()).unwrap();
    let mut seq = [7_000u32, 90_000u32];
    let mut packet = |t: Duration, c2s: bool, syn: bool, data: &[u8]| {
        let (c, s) = ([127, 0, 0, 1], [127, 0, 0, 1]);
        let b = PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2]);
        let i = usize::from(!c2s);
        let b = if c2s {
            b.ipv4(c, s, 64).tcp(50_000, 4433, seq[i], 65535)
        } else {
            b.ipv4(s, c, 64).tcp(4433, 50_000, seq[i], 65535)
        };
        let b = if syn { b.syn() } else { b.ack(1) };
        let mut buf = Vec::new();
        b.write(&mut buf, data).unwrap();
        seq[i] = seq[i].wrapping_add(data.len() as u32 + u32::from(syn));
        w.write_packet(&PcapPacket::new(start + t, buf.len() as u32, &buf))
            .unwrap();
    };
    packet(Duration::ZERO, true, true, &[]);
    packet(Duration::ZERO, false, true, &[]);
    for (t, c2s, data) in chunks {
        for seg in data.chunks(1400) {
            packet(*t, *c2s, false, seg);
        }
    }
}

/// One connection: `server_args` / `client_args` added to the commands,
/// then each `(side, line)` typed after a pause.
fn run(name: &str, server_args: &[&str], client_args: &[&str], script: &[(char, &str)]) -> Run {
    let dir = scratch(name);
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ])
        .args(["-nodes", "-subj", "/CN=localhost", "-days", "1", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );

    let relay = TcpListener::bind("127.0.0.1:0").unwrap();
    let relay_port = relay.local_addr().unwrap().port();
    let server_port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = Command::new("openssl")
        .args(["s_server", "-accept", &format!("127.0.0.1:{server_port}")])
        .arg("-cert")
        .arg(&cert)
        .arg("-key")
        .arg(&key)
        .args(["-naccept", "1", "-msg", "-msgfile"])
        .arg(dir.join("server.msg"))
        .args(server_args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The relay's connection to the server, made as soon as it listens:
    // its one connection (-naccept 1).
    let upstream = {
        let t0 = Instant::now();
        loop {
            match TcpStream::connect(("127.0.0.1", server_port)) {
                Ok(s) => break s,
                Err(_) if t0.elapsed() < Duration::from_secs(10) => {
                    thread::sleep(Duration::from_millis(50))
                }
                Err(e) => panic!("s_server does not listen: {e}"),
            }
        }
    };
    let mut client = Command::new("openssl")
        .args(["s_client", "-connect", &format!("127.0.0.1:{relay_port}")])
        .arg("-keylogfile")
        .arg(dir.join("keylog.txt"))
        .arg("-msg")
        .arg("-msgfile")
        .arg(dir.join("client.msg"))
        .args(client_args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (downstream, _) = relay.accept().unwrap();
    let c2s = Arc::new(Mutex::new(Vec::new()));
    let s2c = Arc::new(Mutex::new(Vec::new()));
    let chunks: Chunks = Arc::new(Mutex::new(Vec::new()));
    let t0 = Instant::now();
    let pumps = [
        {
            let (a, b, l) = (
                downstream.try_clone().unwrap(),
                upstream.try_clone().unwrap(),
                c2s.clone(),
            );
            let ch = chunks.clone();
            thread::spawn(move || pump(a, b, l, ch, true, t0))
        },
        {
            let (a, b, l) = (upstream, downstream, s2c.clone());
            let ch = chunks.clone();
            thread::spawn(move || pump(a, b, l, ch, false, t0))
        },
    ];
    thread::sleep(Duration::from_millis(500));
    let mut say = |side: char, line: &str| {
        let p = if side == 'c' {
            &mut client
        } else {
            &mut server
        };
        let _ = p
            .stdin
            .as_mut()
            .unwrap()
            .write_all(format!("{line}\n").as_bytes());
        let _ = p.stdin.as_mut().unwrap().flush();
        thread::sleep(Duration::from_millis(300));
    };
    for &(side, line) in script {
        say(side, line);
    }
    say('c', "Q");
    let deadline = Instant::now() + Duration::from_secs(20);
    wait(&mut client, deadline);
    wait(&mut server, deadline);
    for p in pumps {
        p.join().unwrap();
    }
    std::fs::write(dir.join("c2s.bin"), &*c2s.lock().unwrap()).unwrap();
    std::fs::write(dir.join("s2c.bin"), &*s2c.lock().unwrap()).unwrap();
    let files = ["keylog.txt", "c2s.bin", "s2c.bin"].map(|f| dir.join(f).display().to_string());
    let pcap = dir.join("relay.pcap");
    write_pcap(&pcap, &chunks.lock().unwrap());
    let pcap = pcap.display().to_string();
    Run { dir, files, pcap }
}

/// The handshake messages `-msg` logged as sent (`>>>`) and received
/// (`<<<`) by the client: `[c2s, s2c]`.
fn msg_log(path: &Path) -> [Vec<String>; 2] {
    let mut out: [Vec<String>; 2] = Default::default();
    for line in std::fs::read_to_string(path).unwrap().lines() {
        let i = if line.starts_with(">>> ") {
            0
        } else if line.starts_with("<<< ") {
            1
        } else {
            continue;
        };
        if let Some((_, name)) = line.split_once("Handshake [length ") {
            let name = name.split_once("], ").unwrap().1.trim();
            out[i].push(name.to_string());
        }
    }
    out
}

/// Decodes the run's two files, and its pcap; checks every record opened
/// and exit 0 in both; returns each direction's handshake message labels
/// (the same from both).
fn decode(run: &Run) -> [Vec<String>; 2] {
    let f = &run.files;
    let two = decode_with(run, &["--c2s", &f[1], "--s2c", &f[2]]);
    let pcap = decode_with(run, &[&run.pcap]);
    assert_eq!(two, pcap, "two files and pcap");
    two
}

fn decode_with(run: &Run, input: &[&str]) -> [Vec<String>; 2] {
    let o = Command::new(env!("CARGO_BIN_EXE_tlsrec"))
        .args(["decode", "--json", "--keylog", &run.files[0]])
        .args(input)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    let mut recs: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v.get("client").is_none())
        .collect();
    let summary = recs.pop().unwrap()["summary"].clone();
    assert!(o.status.success(), "{}: {summary}", run.dir.display());
    assert_eq!(summary["not_opened"], 0, "{summary}");
    assert_eq!(summary["errors"], serde_json::json!([]));
    assert!(summary["records"].as_u64().unwrap() > 10);
    let mut labels: [Vec<String>; 2] = Default::default();
    for r in &recs {
        let i = usize::from(r["dir"] == "s2c");
        if r["type"] == "handshake" {
            for l in r["summary"].as_str().unwrap().split(", ") {
                labels[i].push(l.to_string());
            }
        }
    }
    labels
}

/// `-msg` names: a HelloRetryRequest is a ServerHello there, a KeyUpdate
/// has no flag.
fn as_msg(labels: &[String]) -> Vec<String> {
    labels
        .iter()
        .map(|l| match l.as_str() {
            "HelloRetryRequest" => "ServerHello".to_string(),
            l if l.starts_with("KeyUpdate(") => "KeyUpdate".to_string(),
            l => l.to_string(),
        })
        .collect()
}

#[test]
fn tls13_hello_retry_request_and_key_updates_both_ways() {
    if !have_openssl() {
        eprintln!("SKIPPED: no openssl command");
        return;
    }
    // The client's first key share (X25519) is not one the server takes.
    let run = run(
        "hrr",
        &["-tls1_3", "-groups", "P-256"],
        &["-tls1_3", "-groups", "X25519:P-256"],
        &[
            ('c', "hello"),
            ('s', "world"),
            ('c', "K"),
            ('s', "K"),
            ('c', "k"),
            ('s', "k"),
        ],
    );
    let labels = decode(&run);
    let msg = msg_log(&run.dir.join("client.msg"));
    assert_eq!(as_msg(&labels[0]), msg[0], "c2s");
    assert_eq!(as_msg(&labels[1]), msg[1], "s2c");
    // The server logged the same, the other way round.
    let [s2c, c2s] = msg_log(&run.dir.join("server.msg"));
    assert_eq!([c2s, s2c], msg);
    assert_eq!(labels[1][0], "HelloRetryRequest");
    assert_eq!(labels[0].iter().filter(|l| *l == "ClientHello").count(), 2);
    for d in &labels {
        // Each side asked once (`K`), and answered the peer's request and
        // updated unasked (`k`): OpenSSL sends one KeyUpdate for both when
        // they are pending together, as -msg shows (compared above).
        let n = |l: &str| d.iter().filter(|x| *x == l).count();
        assert_eq!(n("KeyUpdate(update_requested)"), 1, "{d:?}");
        assert!(n("KeyUpdate(update_not_requested)") >= 1, "{d:?}");
    }
}

#[test]
fn tls12_renegotiations_by_both_sides() {
    if !have_openssl() {
        eprintln!("SKIPPED: no openssl command");
        return;
    }
    let run = run(
        "reneg",
        &["-tls1_2", "-client_renegotiation"],
        &["-tls1_2"],
        &[
            ('c', "hello"),
            ('c', "R"),
            ('s', "r"),
            ('s', "world"),
            ('c', "R"),
            ('s', "r"),
        ],
    );
    let labels = decode(&run);
    let msg = msg_log(&run.dir.join("client.msg"));
    assert_eq!(labels[0], msg[0], "c2s");
    assert_eq!(labels[1], msg[1], "s2c");
    let [s2c, c2s] = msg_log(&run.dir.join("server.msg"));
    assert_eq!([c2s, s2c], msg);
    // The first handshake and four renegotiations, two asked for by the server.
    let n = |d: usize, l: &str| labels[d].iter().filter(|x| *x == l).count();
    assert_eq!(n(0, "ClientHello"), 5, "{:?}", labels[0]);
    assert_eq!(n(1, "HelloRequest"), 2, "{:?}", labels[1]);
    assert_eq!(n(0, "Finished"), 5);
    assert_eq!(n(1, "Finished"), 5);
}
