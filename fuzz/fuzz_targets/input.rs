#![no_main]
//! Fuzz target: see `edgeserve::fuzz::input`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| edgeserve::fuzz::input(data));
