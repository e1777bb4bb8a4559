#![no_main]
//! See `provost::fuzzing::policy`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| provost::fuzzing::policy(data));
