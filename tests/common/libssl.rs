//! libssl entry points and constants the `openssl` crate does not wrap,
//! shared by the live tests that drive libssl directly (tests/oracle,
//! tests/differential_active.rs; both also built into oracles/oracle).
//!
//! Reason for `unsafe`: these are plain C calls on the live `SSL` /
//! `SSL_CTX` / `BIO` pointers the `openssl` crate (or the caller, for a BIO
//! handed over to the `SSL`, which then owns it) keeps alive for the call;
//! none keeps a pointer past it. Test code; the library forbids `unsafe`.
#![allow(dead_code, unsafe_code)]

use std::os::raw::{c_int, c_long, c_void};

unsafe extern "C" {
    pub fn SSL_key_update(s: *mut openssl_sys::SSL, updatetype: c_int) -> c_int;
    pub fn SSL_renegotiate(s: *mut openssl_sys::SSL) -> c_int;
    pub fn SSL_has_pending(s: *const openssl_sys::SSL) -> c_int;
    pub fn SSL_set0_rbio(s: *mut openssl_sys::SSL, rbio: *mut openssl_sys::BIO);
    pub fn SSL_get_peer_finished(
        s: *const openssl_sys::SSL,
        buf: *mut c_void,
        count: usize,
    ) -> usize;
    pub fn SSL_CTX_set_info_callback(
        ctx: *mut openssl_sys::SSL_CTX,
        cb: Option<unsafe extern "C" fn(*const openssl_sys::SSL, c_int, c_int)>,
    );
    pub fn SSL_CTX_ctrl(
        ctx: *mut openssl_sys::SSL_CTX,
        cmd: c_int,
        larg: c_long,
        parg: *mut c_void,
    ) -> c_long;
}

pub const SSL_CTRL_SET_MAX_SEND_FRAGMENT: c_int = 52;
pub const SSL_CTRL_CLEAR_MODE: c_int = 78;
pub const SSL_MODE_AUTO_RETRY: c_long = 0x4;
pub const SSL_CB_WRITE_ALERT: c_int = 0x4008;
pub const SSL_CB_HANDSHAKE_DONE: c_int = 0x20;
/// `SSL_OP_ALLOW_CLIENT_RENEGOTIATION` (ssl.h: SSL_OP_BIT(8); 3.0 and
/// later: 1.1.1 reserves the bit and always allows a client's
/// renegotiation).
pub const ALLOW_CLIENT_RENEGOTIATION: u64 = 1 << 8;
