#![no_main]
// tlsrec's TLS 1.2 handshake (both roles) on hostile messages.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    tlsrec_harness::handshake(data);
});
