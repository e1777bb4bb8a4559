#![no_main]
//! See `provost::fuzzing::slsa`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| provost::fuzzing::slsa(data));
