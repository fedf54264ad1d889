#![no_main]
// Sealed streams with flipped bits: never a record that was not sent.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = tlsrec_harness::seal_mutate_open(data);
});
