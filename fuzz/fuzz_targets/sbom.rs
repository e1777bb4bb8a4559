#![no_main]
//! See `provost::fuzzing::sbom`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| provost::fuzzing::sbom(data));
