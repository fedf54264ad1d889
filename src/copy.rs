//! Copies of record-sized spans (up to 16 KiB and more) in pieces of at
//! most [`PIECE`] bytes.
//!
//! glibc's `memcpy` on x86_64 copies more than its
//! `glibc.cpu.x86_rep_movsb_threshold` (2,112 bytes on the AVX-512 EPYC
//! this was measured on) with `rep movsb`. On AMD Zen CPUs `rep movsb`
//! runs at about 3 GB/s instead of 50 to 80 when the destination lies 1
//! to 63 bytes after the source modulo 4 KiB, and where a record's bytes
//! lie against the caller's buffer is up to the allocator: a 16 KiB
//! `write` or `read` became a 5 µs copy on some runs and not on others.
//! Copied in pieces of 2 KiB, glibc takes its vector loop for each piece:
//! 42 to 57 GB/s in every placement measured, against 54 to 80 for one
//! call where nothing aliases (BENCHMARKS.md, "Copies that hit
//! `rep movsb`", issue 17). On other targets the pieces cost a few more
//! calls and nothing else.

use bytes::BytesMut;

/// The largest piece handed to one `memcpy`: under glibc's `rep movsb`
/// threshold on x86_64 (at least 2,112 bytes wherever it is set by CPU
/// features, unless a tunable lowers it).
pub(crate) const PIECE: usize = 2048;

/// `dst.copy_from_slice(src)`, in pieces of at most [`PIECE`] bytes.
///
/// # Panics
/// If the lengths differ, as `copy_from_slice` does.
#[inline]
pub(crate) fn copy_in_pieces(dst: &mut [u8], src: &[u8]) {
    if src.len() <= PIECE {
        dst.copy_from_slice(src);
        return;
    }
    assert_eq!(dst.len(), src.len(), "copy_in_pieces: lengths differ");
    for (d, s) in dst.chunks_mut(PIECE).zip(src.chunks(PIECE)) {
        d.copy_from_slice(s);
    }
}

/// `out.extend_from_slice(src)`, in pieces of at most [`PIECE`] bytes
/// (with one reservation for the whole of `src`).
#[inline]
pub(crate) fn extend_in_pieces(out: &mut BytesMut, src: &[u8]) {
    if src.len() <= PIECE {
        out.extend_from_slice(src);
        return;
    }
    out.reserve(src.len());
    for s in src.chunks(PIECE) {
        out.extend_from_slice(s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_copy_every_byte_at_every_length_around_the_piece() {
        for len in [
            0,
            1,
            PIECE - 1,
            PIECE,
            PIECE + 1,
            2 * PIECE,
            16384 + 29,
            70_000,
        ] {
            let src: Vec<u8> = (0..len).map(|i| (i * 7 + i / 251) as u8).collect();
            let mut dst = vec![0u8; len];
            copy_in_pieces(&mut dst, &src);
            assert_eq!(dst, src, "copy, {len} bytes");
            let mut out = BytesMut::from(&b"head"[..]);
            extend_in_pieces(&mut out, &src);
            assert_eq!(&out[..4], b"head");
            assert_eq!(&out[4..], &src[..], "extend, {len} bytes");
        }
    }

    #[test]
    #[should_panic(expected = "lengths differ")]
    fn pieces_refuse_different_lengths() {
        copy_in_pieces(&mut [0u8; PIECE + 2], &[1u8; PIECE + 1]);
    }
}
