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

/// The malformed ONNX files of training/malformed.py (`op-*.onnx`), one per impossible value an
/// operator can be given, on each of which tract 0.23's own parser panics or would: each is
/// refused with MODEL_LOAD, and the message names the operator and says what it expected.
#[test]
fn malformed_operators_are_refused_with_errors() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz/package");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|f| f.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("op-"))
        .collect();
    files.sort();
    assert!(files.len() >= 30, "{} malformed files: run training/malformed.py", files.len());
    for path in files {
        let bytes = std::fs::read(&path).unwrap();
        // op-<operator>-<case>.onnx
        let op = path.file_stem().unwrap().to_string_lossy().split('-').nth(1).unwrap().to_owned();
        let err = match std::panic::catch_unwind(|| edgeserve::model::LoadedModel::from_bytes(bytes.clone(), None)) {
            Ok(Ok(_)) => panic!("{}: loaded", path.display()),
            Ok(Err(e)) => e,
            Err(_) => panic!("{}: panics", path.display()),
        };
        let message = err.to_string();
        assert_eq!(err.code(), "MODEL_LOAD", "{}: {message}", path.display());
        assert!(
            message.to_lowercase().contains(&format!("({op}): expected ")),
            "{}: the message does not name {op} with what it expected: {message}",
            path.display()
        );
    }
}
