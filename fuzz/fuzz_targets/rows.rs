#![no_main]
//! Fuzz target: see `edgeserve::fuzz::rows`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| edgeserve::fuzz::rows(data));
