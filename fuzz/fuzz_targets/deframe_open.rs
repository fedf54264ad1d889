#![no_main]
// The receive buffer plus opener on arbitrary bytes and segmentations.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = tlsrec_harness::deframe_open(data);
});
