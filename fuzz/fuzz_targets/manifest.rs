#![no_main]
//! Fuzz target: see `edgeserve::fuzz::manifest`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| edgeserve::fuzz::manifest(data));
