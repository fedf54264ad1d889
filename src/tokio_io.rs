//! A [`Session`] as a tokio [`AsyncRead`] + [`AsyncWrite`] over any async
//! transport (feature `tokio`): the async twin of [`crate::io::SslStream`].
//!
//! [`TokioStream`] pumps the session's bounded outgoing pipe into the
//! transport and fills the session from it exactly when the session asks, as
//! `SslStream` does: a session `WantRead` polls the transport for more bytes
//! ([`Session::recv`], and [`Session::recv_eof`] at its end), a session
//! `WantWrite` writes what the session sealed ([`Session::take_outgoing`]) to
//! the transport. Where `SslStream` returns `WantRead` / `WantWrite`, this
//! returns [`Poll::Pending`], woken by the transport.
//!
//! Results: `poll_read` fills nothing (end of stream) after the peer's
//! close_notify ([`SslError::ZeroReturn`]); a protocol error
//! ([`SslError::Ssl`]) is [`io::ErrorKind::InvalidData`] with the error as
//! its source; [`SslError::Syscall`] is the transport's error, or
//! [`io::ErrorKind::UnexpectedEof`] when the transport ended without
//! close_notify. `poll_shutdown` sends close_notify, flushes it and then
//! shuts the transport down.
//!
//! # Write retries
//!
//! [`Session::write`] follows `SSL_write`: after `WantWrite` the next call
//! must pass the same bytes, from the same address unless
//! [`Config::accept_moving_buffer`](crate::Config::accept_moving_buffer).
//! An [`AsyncWrite`] caller owes no such thing: after `Pending` it may come
//! back with other bytes, or none. So `TokioStream` never returns `Pending`
//! for bytes the session has taken. Each `poll_write` hands the session at
//! most one record's worth of the caller's bytes (`max_send_fragment`); if
//! the session answers `WantWrite` (the record is sealed but the transport
//! is full), those bytes count as written: `poll_write` returns
//! `Ready(Ok(n))`, and the adapter keeps a copy of them (at most 16 KiB) and
//! finishes that retry itself, with the copy, before it takes anything more
//! (in the next `poll_write`, `poll_flush` or `poll_shutdown`, which are
//! `Pending` until it is done). The retry passes the session the same bytes
//! from the same buffer, so any [`Config`](crate::Config) works:
//!
//! * with `accept_moving_buffer` (or `check_retry_content`) the session is
//!   given the caller's slice directly and the bytes are copied only when a
//!   write is left pending: no copy on the fast path. **Use
//!   `Config { accept_moving_buffer: true, ..Config::default() }` for
//!   sessions you put behind a `TokioStream`.**
//! * without it, every chunk is first copied into the adapter's own buffer,
//!   whose address never changes, and the session writes from there.
//!
//! Memory stays bounded: the session's pipe is set to
//! [`DEFAULT_PIPE_CAPACITY`], plus one sealed record waiting in the session,
//! the bytes taken from the pipe that the transport has not accepted yet,
//! one record's plaintext copy and one read buffer of a maximum record.
//!
//! # Concurrent reading and writing
//!
//! Reading may need to write (an alert, a KeyUpdate answer) and writing may
//! need to read, so with `tokio::io::split` both halves can wait on the
//! same transport direction. A transport keeps one waker per direction; the
//! adapter registers a waker that wakes both halves whenever the other half
//! is parked on that direction too, so neither is lost.
//!
//! ```
//! use tlsrec::tokio_io::TokioStream;
//! use tlsrec::{CipherSuite, Config, Established, RecordKeys, Session};
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//!
//! let suite = CipherSuite::TLS13_AES_128_GCM_SHA256;
//! let k = |b: u8| RecordKeys::new(suite, &[b; 16], &[b; 12]).unwrap();
//! let end = |r, w| {
//!     let est = Established { suite, read: k(r), read_seq: 0, write: k(w), write_seq: 0, secrets: None };
//!     let cfg = Config { accept_moving_buffer: true, ..Config::default() };
//!     Session::client_from_established(est, cfg).unwrap()
//! };
//! let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
//! rt.block_on(async {
//!     let (a, b) = tokio::io::duplex(1024);
//!     let mut left = TokioStream::new(end(1, 2), a);
//!     let mut right = TokioStream::new(end(2, 1), b);
//!     let reader = tokio::spawn(async move {
//!         let mut got = Vec::new();
//!         right.read_to_end(&mut got).await.unwrap(); // until close_notify
//!         got
//!     });
//!     left.write_all(&[7u8; 100_000]).await.unwrap();
//!     left.shutdown().await.unwrap();
//!     assert_eq!(reader.await.unwrap(), vec![7u8; 100_000]);
//! });
//! ```

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use bytes::{Buf, Bytes};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::io::DEFAULT_PIPE_CAPACITY;
use crate::record::{MAX_PLAINTEXT_LEN, MAX_RECORD_LEN};
use crate::session::{Session, SslError, MIN_SEND_FRAGMENT};

/// Bytes read from the transport at a time: one maximum record.
const READ_CHUNK: usize = MAX_RECORD_LEN;

/// Which caller a transport poll is made for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    /// `poll_read` / `poll_read_record`.
    Reader,
    /// `poll_write` / `poll_flush` / `poll_shutdown`.
    Writer,
}

impl Side {
    fn other(self) -> Side {
        match self {
            Side::Reader => Side::Writer,
            Side::Writer => Side::Reader,
        }
    }
}

/// The wakers one side left with the transport when it returned `Pending`.
#[derive(Debug, Default)]
struct Parked {
    on_read: Option<Waker>,
    on_write: Option<Waker>,
}

impl Parked {
    fn clear(&mut self) {
        self.on_read = None;
        self.on_write = None;
    }
}

/// Wakes two tasks: the one polling and the other side parked on the same
/// transport direction (whose registration the poll replaces).
struct Both(Waker, Waker);

impl Wake for Both {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.wake_by_ref();
        self.1.wake_by_ref();
    }
}

/// The waker to poll the transport with: `own`, joined with `other` when
/// that is a different task parked on the same direction.
fn joined(own: &Waker, other: Option<&Waker>) -> Option<Waker> {
    match other {
        Some(o) if !o.will_wake(own) => Some(Waker::from(Arc::new(Both(own.clone(), o.clone())))),
        _ => None,
    }
}

/// A session bound to an async transport; see the [module docs](self).
pub struct TokioStream<T> {
    session: Session,
    io: T,
    /// Taken from the session's pipe, not yet accepted by the transport.
    out: Bytes,
    /// Plaintext handed to `Session::write` from a stable address (copied
    /// first unless the session accepts a moving buffer), and, while
    /// `staged_pending`, the bytes of a write the session left pending.
    staged: Vec<u8>,
    /// `staged` holds a write already reported done to the caller that the
    /// session still wants retried.
    staged_pending: bool,
    /// The transport reported end of stream.
    eof: bool,
    /// Our close_notify is in the session's pipe: `Session::shutdown` is not
    /// called again (a second call reads for the peer's close_notify, as
    /// OpenSSL's does, and would fail on the peer's data).
    close_sent: bool,
    reader: Parked,
    writer: Parked,
}

impl<T> fmt::Debug for TokioStream<T>
where
    T: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokioStream")
            .field("session", &self.session)
            .field("io", &self.io)
            .field("unsent", &self.out.len())
            .field("staged", &self.staged.len())
            .field("staged_pending", &self.staged_pending)
            .field("eof", &self.eof)
            .finish_non_exhaustive()
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> TokioStream<T> {
    /// Binds `session` to `io`. The session's outgoing pipe is bounded to
    /// [`DEFAULT_PIPE_CAPACITY`]. Any [`Config`](crate::Config) works;
    /// `accept_moving_buffer: true` saves a copy of each written chunk (see
    /// [Write retries](self#write-retries)).
    pub fn new(mut session: Session, io: T) -> Self {
        session.set_outgoing_capacity(Some(DEFAULT_PIPE_CAPACITY));
        TokioStream {
            session,
            io,
            out: Bytes::new(),
            staged: Vec::with_capacity(MAX_PLAINTEXT_LEN),
            staged_pending: false,
            eof: false,
            close_sent: false,
            reader: Parked::default(),
            writer: Parked::default(),
        }
    }

    /// The session.
    #[must_use]
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The session, to change options or call what this type does not wrap
    /// (writing through it directly bypasses the adapter's retry).
    pub fn session_mut(&mut self) -> &mut Session {
        &mut self.session
    }

    /// The transport.
    pub fn get_ref(&self) -> &T {
        &self.io
    }

    /// The transport, mutably (reading or writing it directly breaks the
    /// record stream).
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.io
    }

    /// The session and the transport. Sealed bytes not yet written to the
    /// transport stay in the session only if they were never taken from it:
    /// flush first ([`AsyncWrite::poll_flush`]).
    pub fn into_parts(self) -> (Session, T) {
        (self.session, self.io)
    }

    /// Zero-copy read: the rest of the current application-data record as
    /// `Bytes` split off the receive buffer ([`Session::read_record`]), no
    /// copy of the plaintext. `Ready(Ok(None))` after the peer's
    /// close_notify.
    ///
    /// # Errors
    /// As [`AsyncRead::poll_read`].
    pub fn poll_read_record(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Option<Bytes>>> {
        self.reader.clear();
        let r = self.poll_session_read(cx, Session::read_record);
        if r.is_ready() {
            self.reader.clear();
        }
        r
    }

    /// Async form of [`poll_read_record`](Self::poll_read_record): the next
    /// record's plaintext without a copy, `None` after close_notify.
    ///
    /// # Errors
    /// As [`AsyncRead::poll_read`].
    pub async fn read_record(&mut self) -> io::Result<Option<Bytes>> {
        poll_fn(|cx| self.poll_read_record(cx)).await
    }

    fn parked(&mut self, side: Side) -> &mut Parked {
        match side {
            Side::Reader => &mut self.reader,
            Side::Writer => &mut self.writer,
        }
    }

    /// Runs a session read (`read` or `read_record`) until it gives a
    /// result: `Ok(None)` for close_notify.
    fn poll_session_read<R>(
        &mut self,
        cx: &mut Context<'_>,
        mut op: impl FnMut(&mut Session) -> Result<R, SslError>,
    ) -> Poll<io::Result<Option<R>>> {
        loop {
            let r = op(&mut self.session);
            // Alerts or a KeyUpdate the call produced go out now; a transport
            // that cannot take them does not change what the read returns
            // (a later write or flush reports it).
            let mut progress = false;
            let drained = self.drain(Side::Reader, cx, &mut progress);
            match r {
                Ok(v) => return Poll::Ready(Ok(Some(v))),
                Err(SslError::ZeroReturn) => return Poll::Ready(Ok(None)),
                Err(SslError::WantRead) => {
                    // Only a WantWrite waits on the transport's write side.
                    self.reader.on_write = None;
                    match self.poll_fill(Side::Reader, cx) {
                        Poll::Ready(Ok(())) => {}
                        Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                        Poll::Pending => return Poll::Pending,
                    }
                }
                Err(SslError::WantWrite) => match drained {
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    _ if progress => {}
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Ok(())) => return Poll::Ready(Err(stalled())),
                },
                Err(e) => return Poll::Ready(Err(self.io_error_of(e))),
            }
        }
    }

    /// Writes what the session sealed to the transport until all of it is
    /// out (`Ready(Ok)`) or the transport is pending. `progress` is set when
    /// the transport took a byte.
    fn drain(
        &mut self,
        side: Side,
        cx: &mut Context<'_>,
        progress: &mut bool,
    ) -> Poll<io::Result<()>> {
        loop {
            if self.out.is_empty() {
                self.out = self.session.take_outgoing(usize::MAX);
                if self.out.is_empty() {
                    return Poll::Ready(Ok(()));
                }
            }
            let both = joined(cx.waker(), self.parked(side.other()).on_write.as_ref());
            let io = Pin::new(&mut self.io);
            let r = match &both {
                Some(w) => io.poll_write(&mut Context::from_waker(w), &self.out),
                None => io.poll_write(cx, &self.out),
            };
            match r {
                Poll::Pending => {
                    self.parked(side).on_write = Some(cx.waker().clone());
                    return Poll::Pending;
                }
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => {
                    self.out.advance(n);
                    if self.out.is_empty() {
                        // Let go of the session's buffer so that it is
                        // reused in place for the next records.
                        self.out = Bytes::new();
                    }
                    *progress = true;
                    // The other side, parked until the transport took these
                    // bytes, may go on now.
                    if let Some(w) = self.parked(side.other()).on_write.take() {
                        w.wake();
                    }
                }
                Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            }
        }
    }

    /// Reads once from the transport into the session (end of stream:
    /// [`Session::recv_eof`]).
    fn poll_fill(&mut self, side: Side, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.eof {
            // The session asks for more after the end: it cannot come.
            return Poll::Ready(Err(io::ErrorKind::UnexpectedEof.into()));
        }
        loop {
            let both = joined(cx.waker(), self.parked(side.other()).on_read.as_ref());
            let io = &mut self.io;
            // Read straight into the session's receive buffer (no copy);
            // `None` is the transport's Pending.
            let r = self.session.recv_with(READ_CHUNK, |room| {
                let mut rb = ReadBuf::new(room);
                let io = Pin::new(io);
                let r = match &both {
                    Some(w) => io.poll_read(&mut Context::from_waker(w), &mut rb),
                    None => io.poll_read(cx, &mut rb),
                };
                match r {
                    Poll::Ready(Ok(())) => Ok(rb.filled().len()),
                    Poll::Ready(Err(e)) => Err(Some(e)),
                    Poll::Pending => Err(None),
                }
            });
            match r {
                Err(None) => {
                    self.parked(side).on_read = Some(cx.waker().clone());
                    return Poll::Pending;
                }
                Ok(n) => {
                    if n == 0 {
                        self.eof = true;
                        self.session.recv_eof();
                    }
                    // The other side, parked on the transport for what this
                    // call took into the session, must look at it.
                    if let Some(w) = self.parked(side.other()).on_read.take() {
                        w.wake();
                    }
                    return Poll::Ready(Ok(()));
                }
                Err(Some(e)) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(Some(e)) => return Poll::Ready(Err(e)),
            }
        }
    }

    /// Finishes a write the session left pending (already reported to the
    /// caller as written), retrying it with the same bytes.
    fn poll_staged(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.staged_pending {
            let r = self.session.write(&self.staged);
            let mut progress = false;
            let drained = self.drain(Side::Writer, cx, &mut progress);
            if let Poll::Ready(Err(e)) = drained {
                return Poll::Ready(Err(e));
            }
            match r {
                Ok(_) => {
                    self.staged_pending = false;
                    self.staged.clear();
                }
                Err(SslError::WantWrite) if progress => {}
                Err(SslError::WantWrite) => {
                    return match drained {
                        Poll::Pending => Poll::Pending,
                        _ => Poll::Ready(Err(stalled())),
                    };
                }
                Err(SslError::WantRead) => match self.poll_fill(Side::Writer, cx) {
                    Poll::Ready(Ok(())) => {}
                    other => return other,
                },
                Err(e) => {
                    self.staged_pending = false;
                    self.staged.clear();
                    return Poll::Ready(Err(self.io_error_of(e)));
                }
            }
        }
        Poll::Ready(Ok(()))
    }

    fn poll_write_inner(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.poll_staged(cx) {
            Poll::Ready(Ok(())) => {}
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Pending => return Poll::Pending,
        }
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let cfg = self.session.config();
        // One record at a time: a WantWrite then leaves exactly this chunk
        // pending (with `partial_write` too).
        let frag = cfg
            .max_send_fragment
            .clamp(MIN_SEND_FRAGMENT, MAX_PLAINTEXT_LEN);
        let direct = cfg.accept_moving_buffer || cfg.check_retry_content;
        let chunk = &buf[..buf.len().min(frag)];
        if !direct {
            self.staged.clear();
            self.staged.extend_from_slice(chunk);
        }
        loop {
            let r = if direct {
                self.session.write(chunk)
            } else {
                self.session.write(&self.staged)
            };
            let mut progress = false;
            if let Poll::Ready(Err(e)) = self.drain(Side::Writer, cx, &mut progress) {
                self.staged.clear();
                return Poll::Ready(Err(e));
            }
            match r {
                Ok(n) => {
                    self.staged.clear();
                    return Poll::Ready(Ok(n));
                }
                Err(SslError::WantWrite) if progress => {}
                // The session holds the chunk (sealed, or to seal once it
                // has read or written what it waits for): it is written as
                // far as the caller is concerned; the retry is ours.
                Err(SslError::WantWrite | SslError::WantRead | SslError::WantCallback) => {
                    if direct {
                        self.staged.clear();
                        self.staged.extend_from_slice(chunk);
                    }
                    self.staged_pending = true;
                    return Poll::Ready(Ok(chunk.len()));
                }
                Err(e) => {
                    self.staged.clear();
                    return Poll::Ready(Err(self.io_error_of(e)));
                }
            }
        }
    }

    fn poll_flush_inner(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.poll_staged(cx) {
            Poll::Ready(Ok(())) => {}
            other => return other,
        }
        let mut progress = false;
        match self.drain(Side::Writer, cx, &mut progress) {
            Poll::Ready(Ok(())) => {}
            other => return other,
        }
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown_inner(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.poll_staged(cx) {
            Poll::Ready(Ok(())) => {}
            other => return other,
        }
        loop {
            let r = if self.close_sent {
                Ok(false)
            } else {
                self.session.shutdown()
            };
            if r.is_ok() {
                self.close_sent = true;
            }
            let mut progress = false;
            let drained = self.drain(Side::Writer, cx, &mut progress);
            if let Poll::Ready(Err(e)) = drained {
                return Poll::Ready(Err(e));
            }
            match r {
                // close_notify is in the pipe; out once drained.
                Ok(_) => match drained {
                    Poll::Pending => return Poll::Pending,
                    _ => break,
                },
                Err(SslError::WantWrite) if progress => {}
                Err(SslError::WantWrite) => {
                    return match drained {
                        Poll::Pending => Poll::Pending,
                        _ => Poll::Ready(Err(stalled())),
                    };
                }
                Err(e) => return Poll::Ready(Err(self.io_error_of(e))),
            }
        }
        match Pin::new(&mut self.io).poll_flush(cx) {
            Poll::Ready(Ok(())) => {}
            other => return other,
        }
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn io_error_of(&self, e: SslError) -> io::Error {
        match e {
            SslError::WantRead | SslError::WantWrite => io::ErrorKind::WouldBlock.into(),
            SslError::WantCallback => io::Error::other("a handshake callback is pending"),
            SslError::Syscall if self.eof => io::ErrorKind::UnexpectedEof.into(),
            SslError::Syscall => io::Error::other("the TLS connection failed earlier"),
            SslError::ZeroReturn => io::ErrorKind::UnexpectedEof.into(),
            SslError::Ssl(err)
                if err.reason() == Some(crate::error::Reason::UnexpectedEofWhileReading) =>
            {
                io::Error::new(io::ErrorKind::UnexpectedEof, err)
            }
            SslError::Ssl(err) => io::Error::new(io::ErrorKind::InvalidData, err),
        }
    }
}

/// The session asks to write but has nothing for the transport (its pipe
/// capacity was set to zero through `session_mut`).
fn stalled() -> io::Error {
    io::Error::other("the session cannot write: its outgoing pipe has no room")
}

/// Fills nothing (end of stream) after the peer's close_notify.
impl<T: AsyncRead + AsyncWrite + Unpin> AsyncRead for TokioStream<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if buf.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        this.reader.clear();
        let r = this.poll_session_read(cx, |s| s.read(buf.initialize_unfilled()));
        if r.is_ready() {
            this.reader.clear();
        }
        match r {
            Poll::Ready(Ok(Some(n))) => {
                buf.advance(n);
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Ok(None)) => Poll::Ready(Ok(())),
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// `poll_write` takes at most one record's worth of bytes per call;
/// `poll_flush` writes every sealed byte to the transport and flushes it;
/// `poll_shutdown` sends close_notify, flushes, then shuts the transport down.
impl<T: AsyncRead + AsyncWrite + Unpin> AsyncWrite for TokioStream<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.writer.clear();
        let r = this.poll_write_inner(cx, buf);
        if r.is_ready() {
            this.writer.clear();
        }
        r
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.writer.clear();
        let r = this.poll_flush_inner(cx);
        if r.is_ready() {
            this.writer.clear();
        }
        r
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.writer.clear();
        let r = this.poll_shutdown_inner(cx);
        if r.is_ready() {
            this.writer.clear();
        }
        r
    }
}
