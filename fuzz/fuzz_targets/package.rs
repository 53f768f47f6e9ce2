#![no_main]
//! Fuzz target: see `edgeserve::fuzz::package`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| edgeserve::fuzz::package(data));
