//! A libssl SSL's transport as two OpenSSL memory BIOs, for tests that
//! drive libssl in process and move its bytes themselves. A standalone
//! module, included by path: `#[path = "common/membio.rs"] mod membio;`
//! (the including test allows `unsafe_code`).
#![allow(dead_code)]

use std::os::raw::c_int;

use foreign_types::ForeignType;
use openssl::ssl::Ssl;

/// The SSL's read side (what the peer sent, fed in) and write side (what
/// it sent, taken out). The SSL owns both BIOs (`SSL_set_bio`) and frees
/// them with itself; these pointers live as long as it does.
pub struct MemBio {
    rbio: *mut openssl_sys::BIO,
    wbio: *mut openssl_sys::BIO,
}

impl MemBio {
    /// Gives `ssl` two new memory BIOs.
    pub fn attach(ssl: &Ssl) -> MemBio {
        // SAFETY: BIO_new and SSL_set_bio on valid pointers; the SSL takes
        // ownership of both BIOs and outlives every use of these pointers
        // (the caller keeps `MemBio` beside its SSL).
        let (rbio, wbio) = unsafe {
            let r = openssl_sys::BIO_new(openssl_sys::BIO_s_mem());
            let w = openssl_sys::BIO_new(openssl_sys::BIO_s_mem());
            assert!(!r.is_null() && !w.is_null(), "BIO_new");
            openssl_sys::SSL_set_bio(ssl.as_ptr(), r, w);
            (r, w)
        };
        MemBio { rbio, wbio }
    }

    /// The peer's bytes arrive (appended to the read side).
    pub fn feed(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        // SAFETY: the BIO is alive (see the type); `bytes` outlives the call.
        let n = unsafe {
            openssl_sys::BIO_write(self.rbio, bytes.as_ptr().cast(), bytes.len() as c_int)
        };
        assert_eq!(n as usize, bytes.len(), "memory BIO write");
    }

    /// The end of the peer's stream: a memory BIO with nothing left and an
    /// EOF return of 0 reports it.
    pub fn eof(&mut self) {
        // SAFETY: the BIO is alive (see the type).
        unsafe {
            openssl_sys::BIO_ctrl(
                self.rbio,
                openssl_sys::BIO_C_SET_BUF_MEM_EOF_RETURN,
                0,
                std::ptr::null_mut(),
            );
        }
    }

    /// Everything the SSL has written so far.
    pub fn take_output(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut buf = vec![0u8; 1 << 16];
        loop {
            // SAFETY: the BIO is alive (see the type); `buf` holds 64 KiB.
            let n = unsafe { openssl_sys::BIO_read(self.wbio, buf.as_mut_ptr().cast(), 1 << 16) };
            if n <= 0 {
                return out;
            }
            out.extend_from_slice(&buf[..n as usize]);
        }
    }
}
