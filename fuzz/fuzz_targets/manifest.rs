#![no_main]
//! See `provost::fuzzing::manifest`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| provost::fuzzing::manifest(data));
