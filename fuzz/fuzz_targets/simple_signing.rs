#![no_main]
//! See `provost::fuzzing::simple_signing`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| provost::fuzzing::simple_signing(data));
