//! A tiny echo server on `tlsrec::tokio_io::TokioStream` (feature `tokio`).
//!
//! ```sh
//! cargo run --example tokio_echo --features tokio -- [PORT]       # serve on 127.0.0.1:PORT (0: any)
//! cargo run --example tokio_echo --features tokio -- --selftest   # serve, connect, check the echo, exit 0
//! ```
//!
//! Each accepted TCP connection gets a session built from fixed demo keys
//! (the client uses the mirror keys), and every record it reads is written
//! back (zero-copy: `read_record` hands out the decrypted record as `Bytes`);
//! the client's close_notify is answered with ours.
//!
//! The fixed keys are only for the demo: there is no handshake here. Real use
//! runs a TLS handshake with a library that does one (rustls, OpenSSL, ...)
//! and takes the keys and sequence numbers from it with `tlsrec::import`
//! (`from_rustls`, or `from_keylog` with an SSLKEYLOGFILE), then builds the
//! session with `Session::client_from_established` (or, for the server,
//! `Session::server_from_established`) as below.

use std::time::Duration;

use tlsrec::tokio_io::TokioStream;
use tlsrec::{CipherSuite, Config, Established, RecordKeys, Session};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const SUITE: CipherSuite = CipherSuite::TLS13_CHACHA20_POLY1305_SHA256;

/// A demo session: reads under the key made of `read`, writes under `write`.
fn demo_session(read: u8, write: u8, server: bool) -> Session {
    let k = |b: u8| RecordKeys::new(SUITE, &[b; 32], &[b ^ 0x5a; 12]).expect("demo keys");
    let est = Established {
        suite: SUITE,
        read: k(read),
        read_seq: 0,
        write: k(write),
        write_seq: 0,
        secrets: None,
    };
    // A moving buffer saves the adapter a copy per write (see tokio_io).
    let cfg = Config {
        accept_moving_buffer: true,
        ..Config::default()
    };
    if server {
        Session::server_from_established(est, cfg).expect("demo session")
    } else {
        Session::client_from_established(est, cfg).expect("demo session")
    }
}

/// The server's keys: it reads what the client wrote (key 2), writes key 1.
fn server_session() -> Session {
    demo_session(2, 1, true)
}

/// The mirror of the server's keys.
fn client_session() -> Session {
    demo_session(1, 2, false)
}

async fn echo(tcp: TcpStream) -> std::io::Result<u64> {
    tcp.set_nodelay(true)?;
    let mut tls = TokioStream::new(server_session(), tcp);
    let mut echoed = 0u64;
    while let Some(record) = tls.read_record().await? {
        tls.write_all(&record).await?;
        tls.flush().await?;
        echoed += record.len() as u64;
    }
    // The client's close_notify arrived: answer with ours.
    tls.shutdown().await?;
    Ok(echoed)
}

async fn serve(listener: TcpListener) {
    loop {
        let (tcp, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                eprintln!("accept: {e}");
                continue;
            }
        };
        tokio::spawn(async move {
            match echo(tcp).await {
                Ok(n) => println!("{peer}: echoed {n} bytes, closed with close_notify"),
                Err(e) => println!("{peer}: {e}"),
            }
        });
    }
}

async fn selftest(port: u16) -> Result<(), String> {
    let tcp = TcpStream::connect(("127.0.0.1", port))
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let tls = TokioStream::new(client_session(), tcp);
    let (mut rd, mut wr) = tokio::io::split(tls);
    let mut message = b"hello over tlsrec + tokio\n".to_vec();
    // Then enough bytes that both directions fill and pend.
    message.extend((0..1_000_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8));
    let sent = message.clone();
    let writer = tokio::spawn(async move {
        wr.write_all(&sent).await?;
        wr.shutdown().await?; // close_notify
        Ok::<_, std::io::Error>(())
    });
    let mut echoed = Vec::new();
    rd.read_to_end(&mut echoed)
        .await
        .map_err(|e| format!("read: {e}"))?;
    writer
        .await
        .map_err(|e| format!("writer: {e}"))?
        .map_err(|e| format!("write: {e}"))?;
    if echoed != message {
        return Err(format!(
            "echo differs: sent {} bytes, got {}",
            message.len(),
            echoed.len()
        ));
    }
    println!(
        "selftest: sent {} bytes, echo identical; first line {:?}; both close_notify seen",
        message.len(),
        String::from_utf8_lossy(&echoed[..message.iter().position(|&b| b == b'\n').unwrap()])
    );
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let self_test = args.iter().any(|a| a == "--selftest");
    let port: u16 = match args.iter().find(|a| !a.starts_with("--")) {
        Some(p) => p.parse().unwrap_or_else(|_| {
            eprintln!("usage: tokio_echo [PORT] [--selftest]");
            std::process::exit(2)
        }),
        None => 0,
    };
    let listener = TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap_or_else(|e| {
            eprintln!("bind 127.0.0.1:{port}: {e}");
            std::process::exit(1)
        });
    let port = listener.local_addr().expect("local address").port();
    println!("listening on 127.0.0.1:{port}");
    if !self_test {
        serve(listener).await;
        return;
    }
    tokio::spawn(serve(listener));
    match tokio::time::timeout(Duration::from_secs(60), selftest(port)).await {
        Ok(Ok(())) => {
            // Let the server task print its line.
            tokio::time::sleep(Duration::from_millis(50)).await;
            println!("selftest passed");
        }
        Ok(Err(e)) => {
            eprintln!("selftest FAILED: {e}");
            std::process::exit(1)
        }
        Err(_) => {
            eprintln!("selftest FAILED: timed out");
            std::process::exit(1)
        }
    }
}
