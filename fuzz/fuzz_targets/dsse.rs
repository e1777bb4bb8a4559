#![no_main]
//! See `provost::fuzzing::dsse`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| provost::fuzzing::dsse(data));
