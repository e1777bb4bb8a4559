#![no_main]
//! See `provost::fuzzing::link`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| provost::fuzzing::link(data));
