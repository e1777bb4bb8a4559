#![no_main]
//! See `provost::fuzzing::docker_answer`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| provost::fuzzing::docker_answer(data));
