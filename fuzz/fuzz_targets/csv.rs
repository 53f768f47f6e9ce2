#![no_main]
//! Fuzz target: see `edgeserve::fuzz::csv`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| edgeserve::fuzz::csv(data));
