//! `bulk-tcp-N`: the `bulk-N` transfer over a real loopback TCP connection
//! (127.0.0.1, `TCP_NODELAY`), the writer in the measuring thread and the
//! reader in a second thread. Every write goes to the socket when it is
//! made (one `send` per write, as a stream adapter over a socket does:
//! tlsrec's [`tlsrec::io::SslStream`], OpenSSL's `SslStream` over a socket,
//! rustls' `write_tls` after each write), so small writes measure the
//! system calls as much as the record layer. A run ends when the reader has
//! read every byte of it.

use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread::JoinHandle;

use super::*;

/// A connected pair of loopback TCP sockets (`TCP_NODELAY` on both).
///
/// # Panics
/// If the loopback interface cannot be used.
#[must_use]
pub fn tcp_pair() -> (TcpStream, TcpStream) {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    let c = TcpStream::connect(l.local_addr().expect("address")).expect("connect");
    let (s, _) = l.accept().expect("accept");
    c.set_nodelay(true).expect("nodelay");
    s.set_nodelay(true).expect("nodelay");
    (c, s)
}

/// Writes one chunk (all of it, flushed to the socket).
pub type ChunkWriter = Box<dyn FnMut(&[u8])>;
/// Reads some plaintext in the reader thread: its length, 0 at the end of
/// the stream.
pub type ChunkReader = Box<dyn FnMut(&mut [u8]) -> usize + Send>;

/// A transfer over TCP: `writer` in this thread, `reader` in its own.
pub struct TcpBulk {
    writer: ChunkWriter,
    data: Vec<u8>,
    write: usize,
    done: mpsc::Receiver<()>,
    /// The writer's socket, shut down on drop so the reader sees the end.
    sock: TcpStream,
    reader: Option<JoinHandle<()>>,
}

impl TcpBulk {
    /// Moves `total` bytes per run in writes of `write` bytes; `sock` is
    /// (a clone of) the socket `writer` writes to.
    #[must_use]
    pub fn new(
        total: usize,
        write: usize,
        writer: ChunkWriter,
        sock: TcpStream,
        mut reader: ChunkReader,
    ) -> TcpBulk {
        let (tx, done) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            let mut buf = vec![0u8; 16384];
            let mut got = 0;
            loop {
                let n = reader(&mut buf);
                if n == 0 {
                    return;
                }
                got += n;
                while got >= total {
                    got -= total;
                    if tx.send(()).is_err() {
                        return;
                    }
                }
            }
        });
        TcpBulk {
            writer,
            data: data(total),
            write,
            done,
            sock,
            reader: Some(reader),
        }
    }
}

impl Workload for TcpBulk {
    fn bytes(&self) -> u64 {
        self.data.len() as u64
    }

    fn run(&mut self) {
        for chunk in self.data.chunks(self.write) {
            (self.writer)(chunk);
        }
        self.done.recv().expect("the reader thread ended early");
    }
}

impl Drop for TcpBulk {
    fn drop(&mut self) {
        let _ = self.sock.shutdown(Shutdown::Write);
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
    }
}

/// `bulk-tcp-N` for tlsrec: two sessions from the same keys as `bulk-N`,
/// each in a [`tlsrec::io::SslStream`] over one end of the connection
/// (`ssl_write` of each chunk, `ssl_read` into 16 KiB; the stream reads
/// the socket straight into the session's receive buffer).
pub(super) fn tlsrec_tcp(p: Provider, suite: CipherSuite, write: usize) -> Box<dyn Workload> {
    let pair = SessionPair::new(
        suite,
        0,
        write,
        Config {
            provider: Some(p),
            ..Config::default()
        },
    );
    let (c, s) = tcp_pair();
    let wsock = c.try_clone().expect("clone");
    let mut w = tlsrec::io::SslStream::new(pair.a, c);
    let mut r = tlsrec::io::SslStream::new(pair.b, s);
    Box::new(TcpBulk::new(
        bulk_total(write),
        write,
        Box::new(move |chunk| assert_eq!(w.ssl_write(chunk), Ok(chunk.len()))),
        wsock,
        Box::new(move |buf| match r.ssl_read(buf) {
            Ok(n) => n,
            // The end of the transfer: the writer's socket closed (an
            // unexpected EOF is SSL_ERROR_SSL since OpenSSL 3.0, as here).
            Err(SslError::Syscall | SslError::ZeroReturn) => 0,
            Err(SslError::Ssl(e))
                if e.reason() == Some(tlsrec::Reason::UnexpectedEofWhileReading) =>
            {
                0
            }
            Err(e) => panic!("ssl_read: {e}"),
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcp_transfer_ends_and_stops() {
        for w in [64, 16384] {
            let mut t = tlsrec_tcp(
                Provider::default(),
                CipherSuite::TLS13_AES_128_GCM_SHA256,
                w,
            );
            t.run();
            t.run();
            // Dropping shuts the socket down and joins the reader.
        }
    }
}
