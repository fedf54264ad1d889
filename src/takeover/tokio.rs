//! The takeover over an async transport (features `rustls` and `tokio`):
//! the same handshake as [`super::connect`] / [`super::accept`], one record
//! at a time into rustls, ending in a [`TokioStream`] that holds every byte
//! read past the handshake.
//!
//! ```no_run
//! # async fn run(config: std::sync::Arc<rustls::ServerConfig>) -> Result<(), Box<dyn std::error::Error>> {
//! use tlsrec::takeover::{self, Accepted};
//! use tlsrec::Config;
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//!
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8443").await?;
//! let (sock, _) = listener.accept().await?;
//! let cfg = Config { accept_moving_buffer: true, ..Config::default() };
//! match takeover::tokio::accept(config, sock, cfg).await? {
//!     Accepted::Tls(mut tls) => {
//!         let mut buf = [0u8; 1024];
//!         let n = tls.read(&mut buf).await?;
//!         tls.write_all(&buf[..n]).await?;
//!         tls.shutdown().await?;
//!     }
//!     Accepted::NotTls { first_bytes, io } => { let _ = (first_bytes, io); /* tunnel */ }
//! }
//! # Ok(()) }
//! ```

use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::sync::Arc;

use ::tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::{Accepted, Handshake, Step, TakeoverError};
use crate::record::MAX_RECORD_LEN;
use crate::session::Config;
use crate::tokio_io::TokioStream;

/// [`super::connect`] over an async transport.
///
/// # Errors
/// As [`super::connect`].
pub async fn connect<T: AsyncRead + AsyncWrite + Unpin>(
    config: Arc<rustls::ClientConfig>,
    server_name: rustls::pki_types::ServerName<'static>,
    io: T,
    cfg: Config,
) -> Result<TokioStream<T>, TakeoverError> {
    match drive(Handshake::client(config, server_name)?, io, cfg).await? {
        Accepted::Tls(s) => Ok(s),
        Accepted::NotTls { .. } => Err(TakeoverError::StillHandshaking),
    }
}

/// [`super::accept`] over an async transport.
///
/// # Errors
/// As [`super::accept`].
pub async fn accept<T: AsyncRead + AsyncWrite + Unpin>(
    config: Arc<rustls::ServerConfig>,
    io: T,
    cfg: Config,
) -> Result<Accepted<TokioStream<T>, T>, TakeoverError> {
    drive(Handshake::server(config)?, io, cfg).await
}

async fn drive<T: AsyncRead + AsyncWrite + Unpin>(
    mut hs: Handshake,
    mut io: T,
    cfg: Config,
) -> Result<Accepted<TokioStream<T>, T>, TakeoverError> {
    let mut buf = vec![0u8; MAX_RECORD_LEN];
    loop {
        let step = hs.step();
        if step.is_ok() {
            // What rustls answered (or, at the end, its last flight) goes
            // out before anything more is read.
            send(&mut io, &hs.take_outgoing()?).await?;
        }
        match step {
            Ok(Step::NeedRead) => {}
            Ok(Step::Done) => {
                let session = hs.finish(cfg)?;
                return Ok(Accepted::Tls(TokioStream::new(session, io)));
            }
            Ok(Step::NotTls) => {
                return Ok(Accepted::NotTls {
                    first_bytes: hs.into_received(),
                    io,
                })
            }
            Err(e) => {
                if let Ok(out) = hs.take_outgoing() {
                    let _ = send(&mut io, &out).await;
                }
                return Err(e);
            }
        }
        let n = poll_fn(|cx| {
            let mut rb = ReadBuf::new(&mut buf);
            Pin::new(&mut io)
                .poll_read(cx, &mut rb)
                .map_ok(|()| rb.filled().len())
        })
        .await?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the transport ended during the handshake",
            )
            .into());
        }
        hs.received(&buf[..n]);
    }
}

async fn send<T: AsyncWrite + Unpin>(io: &mut T, mut bytes: &[u8]) -> io::Result<()> {
    if bytes.is_empty() {
        return Ok(());
    }
    while !bytes.is_empty() {
        let n = poll_fn(|cx| Pin::new(&mut *io).poll_write(cx, bytes)).await?;
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        bytes = &bytes[n..];
    }
    poll_fn(|cx| Pin::new(&mut *io).poll_flush(cx)).await
}
