#![no_main]
// The crate's TLS 1.2 handshake (tlsrec::tls12, client or server) against a
// tlsrec peer whose handshake items the input mutates, drops, duplicates,
// reorders and adds to (first handshake and renegotiations), with records
// and bytes injected into the tested side, application data both ways and
// driver / certificate-lookup pauses. The invariants are in
// harness/src/tls12_handshake.rs.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = tlsrec_harness::tls12_handshake(data);
});
