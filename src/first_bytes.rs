//! Is what a server reads first a TLS handshake? The blind-tunnel check of
//! Apache Traffic Server's handshake loop: a connection whose first bytes
//! cannot start a TLS handshake (an HTTP request, an SSH banner, anything
//! else) is not refused but handed back untouched, to be tunnelled on.
//!
//! [`classify`] looks at the bytes a server has read so far and consumes
//! nothing: the caller keeps every byte and decides as soon as the answer is
//! not [`FirstBytes::NeedMore`]. The answer never changes as more bytes
//! arrive, so bytes cut anywhere (one at a time, too) give the same answer
//! as soon as there are enough of them. `takeover::accept` (feature
//! `rustls`) runs this before rustls sees a byte and returns the bytes with
//! the transport.
//!
//! ```
//! use tlsrec::first_bytes::{classify, FirstBytes};
//! assert_eq!(classify(b"GET / HTTP/1.1\r\n"), FirstBytes::NotTls);
//! assert_eq!(classify(b"SSH-2.0-OpenSSH_9.6\r\n"), FirstBytes::NotTls);
//! assert_eq!(classify(&[0x16, 0x03]), FirstBytes::NeedMore);
//! assert_eq!(classify(&[0x16, 0x03, 0x01, 0x00, 0xf0, 0x01]), FirstBytes::Tls);
//! ```

use crate::record::{HEADER_LEN, MAX_PLAINTEXT_LEN};

/// The handshake record type.
const HANDSHAKE: u8 = 0x16;
/// The ClientHello handshake message type.
const CLIENT_HELLO: u8 = 1;
/// Bytes needed to decide: a record header and the first handshake byte.
pub const DECISIVE_LEN: usize = HEADER_LEN + 1;

/// What the first bytes of a connection are, seen by the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirstBytes {
    /// The start of a TLS handshake record holding a ClientHello.
    Tls,
    /// Not TLS: no TLS handshake can start with these bytes. Tunnel them.
    NotTls,
    /// Too few bytes to tell yet (never more than [`DECISIVE_LEN`] needed).
    NeedMore,
}

/// Classifies the first bytes a server read, without consuming any.
///
/// A TLS connection starts with a handshake record (type 22) whose
/// record-layer version has major 3 (`0x0300..=0x0304`; clients send
/// `0x0301` or `0x0303`), a length from 1 to 2^14 (a plaintext record), and
/// a ClientHello (message type 1) as its first byte. The first byte that
/// breaks one of these rules decides [`FirstBytes::NotTls`]: `G` of `GET`,
/// `S` of `SSH-`, a random byte, an SSLv2-style hello (not TLS either).
#[must_use]
pub fn classify(bytes: &[u8]) -> FirstBytes {
    // Each byte in the order it arrives: the first that breaks a rule
    // decides; running out of bytes first means "need more".
    for (i, &b) in bytes.iter().take(DECISIVE_LEN).enumerate() {
        let ok = match i {
            0 => b == HANDSHAKE,
            1 => b == 3,
            2 => b <= 4,
            3 => true,
            4 => {
                let len = usize::from(u16::from_be_bytes([bytes[3], b]));
                (1..=MAX_PLAINTEXT_LEN).contains(&len)
            }
            _ => b == CLIENT_HELLO,
        };
        if !ok {
            return FirstBytes::NotTls;
        }
    }
    if bytes.len() < DECISIVE_LEN {
        return FirstBytes::NeedMore;
    }
    FirstBytes::Tls
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_never_contradicts_the_whole() {
        let inputs: [&[u8]; 6] = [
            b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
            b"SSH-2.0-OpenSSH_9.6\r\n",
            &[0x16, 0x03, 0x01, 0x00, 0xf0, 0x01, 0, 0, 0xec],
            &[0x16, 0x03, 0x03, 0x40, 0x01, 0x01],
            &[0x16, 0x03, 0x01, 0x00, 0x00, 0x01],
            &[0x16, 0x03, 0x01, 0x00, 0x10, 0x02],
        ];
        let want = [
            FirstBytes::NotTls,
            FirstBytes::NotTls,
            FirstBytes::Tls,
            FirstBytes::NotTls,
            FirstBytes::NotTls,
            FirstBytes::NotTls,
        ];
        for (input, want) in inputs.iter().zip(want) {
            assert_eq!(classify(input), want, "{input:?}");
            let mut decided = None;
            for n in 0..=input.len() {
                match (classify(&input[..n]), decided) {
                    (FirstBytes::NeedMore, None) => {}
                    (c, None) => decided = Some(c),
                    (c, Some(d)) => assert_eq!(c, d, "{input:?} at {n}"),
                }
            }
            assert_eq!(decided, Some(want));
        }
    }
}
