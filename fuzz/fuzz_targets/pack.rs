#![no_main]
//! See `provost::fuzzing::pack`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| provost::fuzzing::pack(data));
