//! The thread's spare transport buffers: a session hands its receive buffer
//! here once everything received has been read, and its outgoing buffer
//! once the transport took everything, and takes one back when bytes come
//! or a record is sealed. Sessions between transfers hold no buffer, so
//! thousands of connections cost a few buffers per thread, not two each;
//! a busy connection finds its buffers here again without an allocation
//! (OpenSSL 1.0 kept such free lists in its `SSL_CTX`).
//!
//! A buffer may come back while a record handed out of it
//! ([`read_record`](super::Session::read_record), the `Bytes` of
//! [`take_outgoing`](super::Session::take_outgoing)) still shares its
//! memory: [`take`] passes such buffers over until they are free
//! (`BytesMut::try_reclaim`). With [`Config::release_buffers`](super::Config::release_buffers)
//! sessions free their buffers instead, as OpenSSL does.

use std::cell::RefCell;

use bytes::BytesMut;

/// Buffers kept per thread; the oldest goes when another comes.
const KEPT: usize = 8;

/// Buffers larger than this are freed rather than kept (a transfer of many
/// records written at once grows the outgoing buffer to its size).
const MAX_KEPT_LEN: usize = 1 << 20;

thread_local! {
    static SPARE: RefCell<Vec<BytesMut>> = const { RefCell::new(Vec::new()) };
}

/// An empty buffer with room for `need` bytes: the largest spare one whose
/// memory nothing else shares, else a new one of `need` bytes.
pub(super) fn take(need: usize) -> BytesMut {
    let found = SPARE
        .try_with(|s| {
            let mut s = s.borrow_mut();
            let mut best: Option<(usize, usize)> = None;
            for (i, b) in s.iter_mut().enumerate() {
                if b.try_reclaim(need) && best.is_none_or(|(_, c)| b.capacity() > c) {
                    best = Some((i, b.capacity()));
                }
            }
            best.map(|(i, _)| s.swap_remove(i))
        })
        .ok()
        .flatten();
    found.unwrap_or_else(|| BytesMut::with_capacity(need))
}

/// Keeps `buf` (emptied) for the next [`take`] on this thread.
pub(super) fn give(mut buf: BytesMut) {
    buf.clear();
    if buf.try_reclaim(MAX_KEPT_LEN + 1) {
        return;
    }
    let _ = SPARE.try_with(|s| {
        let mut s = s.borrow_mut();
        if s.len() == KEPT {
            s.remove(0);
        }
        s.push(buf);
    });
}
