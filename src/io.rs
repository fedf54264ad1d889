//! A [`Session`] over any `std::io::Read + Write` transport, blocking or
//! non-blocking: a socket, a pipe, a TLS-less tunnel.
//!
//! The session itself is sans-IO: it writes into a bounded outgoing pipe and
//! reads from what it was given, like OpenSSL over a BIO pair. [`SslStream`]
//! pumps that pipe to the transport and fills the session from it, exactly
//! when the session asks: a `WantRead` from the session reads the transport
//! once; a full pipe (`WantWrite`) writes the transport. A transport
//! `WouldBlock` becomes [`SslError::WantRead`] / [`SslError::WantWrite`], so a
//! non-blocking caller sees OpenSSL's codes and retries the same call.
//!
//! ```
//! use std::os::unix::net::UnixStream;
//! use tlsrec::io::SslStream;
//! use tlsrec::{CipherSuite, Config, Established, RecordKeys, Session};
//!
//! let suite = CipherSuite::TLS13_AES_128_GCM_SHA256;
//! let k = |b: u8| RecordKeys::new(suite, &[b; 16], &[b; 12]).unwrap();
//! let end = |r, w| {
//!     let est = Established { suite, read: k(r), read_seq: 0, write: k(w), write_seq: 0, secrets: None };
//!     Session::client_from_established(est, Config::default()).unwrap()
//! };
//! let (a, b) = UnixStream::pair().unwrap();
//! let mut left = SslStream::new(end(1, 2), a);
//! let mut right = SslStream::new(end(2, 1), b);
//! left.ssl_write(b"over a real socket").unwrap();
//! let mut buf = [0u8; 64];
//! let n = right.ssl_read(&mut buf).unwrap();
//! assert_eq!(&buf[..n], b"over a real socket");
//! ```

use std::io::{self, Read, Write};

use bytes::{Buf, Bytes};

use crate::record::MAX_RECORD_LEN;
use crate::session::{Session, SslError};

/// Outgoing pipe capacity set by [`SslStream::new`] when the session has
/// none: two maximum records, so a blocked transport holds at most that much
/// sealed data in memory.
pub const DEFAULT_PIPE_CAPACITY: usize = 2 * MAX_RECORD_LEN;

/// Bytes read from the transport at a time: one maximum record.
const READ_CHUNK: usize = MAX_RECORD_LEN;

/// A session bound to a transport.
#[derive(Debug)]
pub struct SslStream<T> {
    session: Session,
    io: T,
    /// Taken from the session's pipe, not yet accepted by the transport.
    out: Bytes,
    io_error: Option<io::Error>,
    eof: bool,
}

impl<T: Read + Write> SslStream<T> {
    /// Binds `session` to `io`. The session's outgoing pipe is bounded to
    /// [`DEFAULT_PIPE_CAPACITY`].
    pub fn new(mut session: Session, io: T) -> Self {
        session.set_outgoing_capacity(Some(DEFAULT_PIPE_CAPACITY));
        SslStream {
            session,
            io,
            out: Bytes::new(),
            io_error: None,
            eof: false,
        }
    }

    /// The session.
    #[must_use]
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The session, to change options or call what this type does not wrap.
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

    /// The session and the transport. Sealed bytes the session handed over
    /// that the transport has not taken yet are dropped: flush first
    /// ([`Write::flush`] until `Ok`).
    pub fn into_parts(self) -> (Session, T) {
        (self.session, self.io)
    }

    /// The transport error behind the last [`SslError::Syscall`], if one was.
    pub fn take_io_error(&mut self) -> Option<io::Error> {
        self.io_error.take()
    }

    /// `SSL_do_handshake` over the transport: runs the handshake (the first
    /// one of a [`Session::handshaking`] session, or a renegotiation that
    /// is due) until it completes.
    ///
    /// # Errors
    /// As [`Session::do_handshake`]; `WantRead` / `WantWrite` when the
    /// transport would block, `WantCallback` when the driver paused.
    pub fn do_handshake(&mut self) -> Result<(), SslError> {
        loop {
            let r = self.session.do_handshake();
            let flushed = self.flush_out().map_err(|e| self.io_failed(e))?;
            match r {
                Err(SslError::WantWrite) if flushed => {}
                Err(SslError::WantRead) => {
                    if !self.fill()? {
                        return Err(SslError::WantRead);
                    }
                }
                r => return r,
            }
        }
    }

    /// `SSL_read` over the transport.
    ///
    /// # Errors
    /// As [`Session::read`]; `WantRead` when the transport would block.
    pub fn ssl_read(&mut self, buf: &mut [u8]) -> Result<usize, SslError> {
        self.read_with(buf, false)
    }

    /// `SSL_peek` over the transport.
    ///
    /// # Errors
    /// As [`Session::peek`].
    pub fn ssl_peek(&mut self, buf: &mut [u8]) -> Result<usize, SslError> {
        self.read_with(buf, true)
    }

    fn read_with(&mut self, buf: &mut [u8], peek: bool) -> Result<usize, SslError> {
        loop {
            let r = if peek {
                self.session.peek(buf)
            } else {
                self.session.read(buf)
            };
            // Alerts or a KeyUpdate the call produced go out now; a transport
            // that cannot take them (or has failed) does not change what the
            // read returns: a later write reports the transport.
            let flushed = self.flush_out().unwrap_or(false);
            match r {
                Err(SslError::WantRead) => {
                    if !self.fill()? {
                        return Err(SslError::WantRead);
                    }
                }
                Err(SslError::WantWrite) if flushed => {}
                r => return r,
            }
        }
    }

    /// `SSL_write` over the transport: `Ok(buf.len())` once every byte is
    /// sealed and handed to the session's pipe (some may still wait for the
    /// transport; [`flush`](Write::flush) pushes them).
    ///
    /// # Errors
    /// As [`Session::write`]; `WantWrite` when the transport would block
    /// (retry with the same buffer, as with OpenSSL).
    pub fn ssl_write(&mut self, buf: &[u8]) -> Result<usize, SslError> {
        loop {
            let r = self.session.write(buf);
            let flushed = self.flush_out().map_err(|e| self.io_failed(e))?;
            match r {
                Err(SslError::WantWrite) if flushed => continue,
                Err(SslError::WantRead) => {
                    if !self.fill()? {
                        return Err(SslError::WantRead);
                    }
                }
                r => return r,
            }
        }
    }

    /// `SSL_shutdown` over the transport: `Ok(false)` once our close_notify
    /// is out, `Ok(true)` once the peer's has arrived too.
    ///
    /// # Errors
    /// As [`Session::shutdown`]; `WantWrite` while the transport would block.
    pub fn shutdown(&mut self) -> Result<bool, SslError> {
        loop {
            let r = self.session.shutdown();
            let flushed = self.flush_out().map_err(|e| self.io_failed(e))?;
            match r {
                Err(SslError::WantWrite) if flushed => continue,
                Ok(done) if self.out.is_empty() && self.session.outgoing_len() == 0 => {
                    return Ok(done)
                }
                Ok(_) => return Err(SslError::WantWrite),
                r => return r,
            }
        }
    }

    /// Writes what the session sealed to the transport until it would block.
    /// `Ok(true)` if any byte went out.
    fn flush_out(&mut self) -> io::Result<bool> {
        let mut progress = false;
        loop {
            if self.out.is_empty() {
                self.out = self.session.take_outgoing(usize::MAX);
                if self.out.is_empty() {
                    break;
                }
            }
            match self.io.write(&self.out) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    self.out.advance(n);
                    if self.out.is_empty() {
                        // Let go of the session's buffer so that it is
                        // reused in place for the next records.
                        self.out = Bytes::new();
                    }
                    progress = true;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(progress),
                Err(e) => return Err(e),
            }
        }
        match self.io.flush() {
            Ok(()) => Ok(progress),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(progress),
            Err(e) => Err(e),
        }
    }

    /// Reads once from the transport into the session. `Ok(false)` if the
    /// transport would block.
    fn fill(&mut self) -> Result<bool, SslError> {
        if self.eof {
            return Ok(false);
        }
        loop {
            // Read straight into the session's receive buffer (no copy).
            let io = &mut self.io;
            match self.session.recv_with(READ_CHUNK, |room| io.read(room)) {
                Ok(0) => {
                    self.eof = true;
                    self.session.recv_eof();
                    return Ok(true);
                }
                Ok(_) => return Ok(true),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) => return Err(self.io_failed(e)),
            }
        }
    }

    fn io_failed(&mut self, e: io::Error) -> SslError {
        self.io_error = Some(e);
        SslError::Syscall
    }

    fn io_error_of(&mut self, e: SslError) -> io::Error {
        match e {
            SslError::WantRead | SslError::WantWrite | SslError::WantCallback => {
                io::ErrorKind::WouldBlock.into()
            }
            SslError::Syscall => self.io_error.take().unwrap_or_else(|| {
                if self.eof {
                    io::ErrorKind::UnexpectedEof.into()
                } else {
                    io::Error::other("the TLS connection failed earlier")
                }
            }),
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

/// `read` returns `Ok(0)` after the peer's close_notify; WantRead and
/// WantWrite are `WouldBlock`.
impl<T: Read + Write> Read for SslStream<T> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        match self.ssl_read(buf) {
            Ok(n) => Ok(n),
            Err(SslError::ZeroReturn) => Ok(0),
            Err(e) => Err(self.io_error_of(e)),
        }
    }
}

/// `flush` pushes every sealed byte to the transport (`WouldBlock` if it
/// cannot take them yet).
impl<T: Read + Write> Write for SslStream<T> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        self.ssl_write(buf).map_err(|e| self.io_error_of(e))
    }

    fn flush(&mut self) -> io::Result<()> {
        self.flush_out()?;
        if self.out.is_empty() && self.session.outgoing_len() == 0 {
            Ok(())
        } else {
            Err(io::ErrorKind::WouldBlock.into())
        }
    }
}
