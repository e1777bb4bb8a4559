#![no_main]
//! See `provost::fuzzing::referrers_index`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| provost::fuzzing::referrers_index(data));
