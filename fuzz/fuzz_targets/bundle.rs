#![no_main]
//! See `provost::fuzzing::bundle`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| provost::fuzzing::bundle(data));
