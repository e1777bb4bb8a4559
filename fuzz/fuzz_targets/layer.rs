#![no_main]
//! See `provost::fuzzing::layer`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| provost::fuzzing::layer(data));
