//! Replays every saved fuzz input through its target's entry point (`edgeserve::fuzz`): the seeds
//! in `fuzz/seeds/<target>/` and the inputs that once crashed a target, saved in
//! `tests/fixtures/fuzz/<target>/` (see tests/README.md). Each must return without panicking.
#![cfg(not(target_family = "wasm"))]

use std::path::Path;

fn replay(target: &str, entry: fn(&[u8])) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut count = 0;
    for dir in [root.join("fuzz/seeds").join(target), root.join("tests/fixtures/fuzz").join(target)] {
        let Ok(files) = std::fs::read_dir(&dir) else { continue };
        for file in files {
            let path = file.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            let outcome = std::panic::catch_unwind(|| entry(&data));
            assert!(outcome.is_ok(), "{target}: {} panics", path.display());
            count += 1;
        }
    }
    assert!(count > 0, "{target}: no saved inputs");
}

#[test]
fn manifest_inputs() {
    replay("manifest", edgeserve::fuzz::manifest);
}

#[test]
fn package_inputs() {
    replay("package", edgeserve::fuzz::package);
}

#[test]
fn csv_inputs() {
    replay("csv", edgeserve::fuzz::csv);
}

#[test]
fn input_inputs() {
    replay("input", edgeserve::fuzz::input);
}

#[test]
fn rows_inputs() {
    replay("rows", edgeserve::fuzz::rows);
}
