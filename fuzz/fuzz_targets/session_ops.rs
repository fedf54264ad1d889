#![no_main]
// A session in any mode (TLS 1.2 / TLS 1.3 taken over as client or server,
// the same driven by the harness's handshake driver, or a passive client
// with a key log from the input, driven once its handshake is followed)
// run by an op program: segments, EOF, read / peek / pending / write /
// capacity / take / shutdown / key_update / renegotiate / drive_with, the
// driver's decisions (pause, fail, go on), and records, handshake flights
// and KeyUpdates the peer seals. The allocator counts live heap bytes so
// the harness can check that memory stays bounded.
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(l) };
        if !p.is_null() {
            LIVE.fetch_add(l.size(), Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size(), Ordering::Relaxed);
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        let q = unsafe { System.realloc(p, l, new) };
        if !q.is_null() {
            LIVE.fetch_sub(l.size(), Ordering::Relaxed);
            LIVE.fetch_add(new, Ordering::Relaxed);
        }
        q
    }
}

#[global_allocator]
static A: Counting = Counting;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let live = || LIVE.load(Ordering::Relaxed);
    let _ = tlsrec_harness::session_ops(data, Some(&live));
});
