//! `bulk-zc-N`: the `bulk-N` transfer through the zero-copy calls.
//!
//! Per write, `a` seals a record with [`Session::write_with`]: the session
//! hands out `N` bytes of room in its outgoing buffer (zeroed: a memset of
//! N bytes, the library's cost, counted) and the fill produces the
//! plaintext there. What the fill does: it stamps the record's number into
//! the first 8 bytes and leaves the rest as handed out, standing for an
//! application that serialises its data straight into the room. Producing
//! the plaintext is the application's work on every path and is not
//! counted, as the raw AEAD figure does not count it either (it seals a
//! buffer that is already there). An application that already has its
//! bytes in a buffer of its own copies them in (`room.copy_from_slice`) and
//! is no better off than with `write`.
//!
//! As in `bulk-N`, `a` writes the whole run, then its wire bytes go to `b`
//! at once: with [`Session::take_outgoing_buf`] -> [`Session::recv_buf`]
//! (the buffer moves, no copy), and `b` hands each record's plaintext out
//! with [`Session::read_record`] (opened in place, no copy). `b` checks
//! the stamp and the length of every record. The buffer `recv_buf`
//! returns (the one `b` received into in the run before) goes back to `a`
//! with [`Session::give_outgoing_buf`]: two buffers go round, and once
//! they have grown to a run's size nothing allocates (`tests/alloc.rs`
//! counts the same calls record by record).

use super::*;

/// Two sessions joined in memory, moving records with the zero-copy calls.
pub struct ZcPair {
    a: Session,
    b: Session,
    total: usize,
    write: usize,
}

impl ZcPair {
    /// A pair for `suite` with `cfg` (its provider), moving `total` bytes
    /// per run in `write_with` calls of `write` bytes (at most 16384: one
    /// record each).
    #[must_use]
    pub fn new(suite: CipherSuite, total: usize, write: usize, cfg: Config) -> ZcPair {
        assert!(write <= 16384, "write_with seals one record per call");
        let p = SessionPair::new(suite, 0, write, cfg);
        ZcPair {
            a: p.a,
            b: p.b,
            total,
            write,
        }
    }

    /// One run: returns the plaintext bytes `b` read.
    pub fn transfer(&mut self) -> usize {
        let mut left = self.total;
        let mut n = 0u64;
        while left > 0 {
            let len = left.min(self.write);
            left -= len;
            let stamp = n.to_le_bytes();
            let k = len.min(8);
            assert_eq!(
                self.a
                    .write_with(len, |room| room[..k].copy_from_slice(&stamp[..k])),
                Ok(len)
            );
            n += 1;
        }
        let spare = self.b.recv_buf(self.a.take_outgoing_buf());
        let (mut got, mut left, mut n) = (0, self.total, 0u64);
        loop {
            match self.b.read_record() {
                Ok(rec) => {
                    let len = left.min(self.write);
                    let k = len.min(8);
                    assert_eq!(rec.len(), len);
                    assert_eq!(rec[..k], n.to_le_bytes()[..k]);
                    got += len;
                    left -= len;
                    n += 1;
                }
                Err(SslError::WantRead) => break,
                Err(e) => panic!("read_record: {e}"),
            }
        }
        self.a.give_outgoing_buf(spare);
        got
    }
}

impl Workload for ZcPair {
    fn bytes(&self) -> u64 {
        self.total as u64
    }

    fn run(&mut self) {
        assert_eq!(self.transfer(), self.total);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_copy_transfer_moves_every_byte() {
        for &suite in SUITES {
            for (total, write) in [(64 * 1024, 64), (256 * 1024, 16384), (1000, 7)] {
                let mut p = ZcPair::new(suite, total, write, Config::default());
                assert_eq!(p.transfer(), total);
                assert_eq!(p.transfer(), total);
            }
        }
    }
}
