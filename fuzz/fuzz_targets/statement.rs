#![no_main]
//! See `provost::fuzzing::statement`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| provost::fuzzing::statement(data));
