#![no_main]
//! See `provost::fuzzing::config`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| provost::fuzzing::config(data));
