//! A counting global allocator for the tests that measure memory
//! (`tests/alloc.rs`, `tests/hostile.rs`, `tests/fuzz_inputs.rs`). Counters
//! are per thread (the test harness runs tests in parallel), so each test
//! sees only its own allocations. A test binary installs it with
//!
//! ```ignore
//! #[global_allocator]
//! static A: common::heap::Counting = common::heap::Counting;
//! ```
//!
//! Without that line the counters stay at zero.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

pub struct Counting;

thread_local! {
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
    static LIVE: Cell<i64> = const { Cell::new(0) };
    static PEAK: Cell<i64> = const { Cell::new(0) };
}

fn note(allocs: u64, delta: i64) {
    // `try_with`: the allocator also runs while thread-locals are torn down.
    let _ = ALLOCS.try_with(|a| a.set(a.get() + allocs));
    let _ = LIVE.try_with(|l| {
        let v = l.get() + delta;
        l.set(v);
        let _ = PEAK.try_with(|p| p.set(p.get().max(v)));
    });
}

// Reason for `unsafe`: a global allocator must implement the unsafe
// `GlobalAlloc` trait. Every method forwards to `System` with the caller's
// own arguments (so `System`'s contract is the caller's), and only adds to
// thread-local counters when `System` succeeded. Test code; the library
// forbids `unsafe`.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            note(1, layout.size() as i64);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            note(1, layout.size() as i64);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        note(0, -(layout.size() as i64));
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let q = unsafe { System.realloc(ptr, layout, new_size) };
        if !q.is_null() {
            note(1, new_size as i64 - layout.size() as i64);
        }
        q
    }
}

/// Allocations (and reallocations) made by this thread so far.
pub fn allocs() -> u64 {
    ALLOCS.with(Cell::get)
}

/// Bytes this thread allocated and has not freed (negative if it freed
/// memory another thread allocated).
pub fn live() -> i64 {
    LIVE.with(Cell::get)
}

/// Resets the peak to the current live bytes.
pub fn reset_peak() {
    PEAK.with(|p| p.set(live()));
}

/// The most live bytes since the last [`reset_peak`].
pub fn peak() -> i64 {
    PEAK.with(Cell::get)
}

/// Runs `f` and returns its result and the most the heap grew meanwhile.
pub fn peak_growth<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = live();
    reset_peak();
    let r = f();
    (r, (peak() - base).max(0) as usize)
}
