#![no_main]
//! See `provost::fuzzing::www_authenticate`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| provost::fuzzing::www_authenticate(data));
