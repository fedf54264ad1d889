#![no_main]
// `tlsrec decode` on arbitrary input: a capture (key log text, c2s, s2c)
// or transcript JSON (parsed, decoded, replayed).
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = tlsrec_harness::decode_input(data);
});
