#![no_main]
//! See `provost::fuzzing::reference`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| provost::fuzzing::reference(data));
