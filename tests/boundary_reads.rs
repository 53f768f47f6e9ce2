//! Keeps the js-sys calls that can throw out of the boundary (src/wasm/). A JavaScript exception
//! raised inside an export unwinds through its Rust frames without running their destructors: the
//! export's borrow of its object stays held (every later call on it fails) and its work is left
//! half done. So every read of a caller's value goes through the fallible primitives of
//! src/wasm/js/web.rs (imports marked `catch`), and the calls below, which run a caller's
//! getters, Proxy traps or iterators, or throw for a detached buffer, appear nowhere else. This
//! is a lint; the property-based fuzzer of the boundary (tests/js/boundary-fuzz.test.mjs,
//! tests/e2e/boundary-fuzz.test.mjs) is the test.
#![cfg(not(target_family = "wasm"))]

use std::fs;
use std::path::Path;

/// (pattern, why it can throw)
const THROWING: &[(&str, &str)] = &[
    ("Array::from(", "iterates the value: getters, Proxy traps, a user iterator"),
    ("Array::is_array(", "throws for a revoked Proxy"),
    ("Object::keys(", "runs a Proxy's ownKeys trap"),
    ("Object::entries(", "runs getters"),
    (".copy_to(", "throws for a detached buffer (allowed on arrays the boundary made itself)"),
    (".to_vec()", "on a typed array: throws for a detached buffer"),
    ("serde_wasm_bindgen::from_value", "runs getters and Proxy traps"),
    ("new_with_byte_offset", "throws for a detached buffer"),
    (".length()", "on a caller's typed array or array: runs a getter"),
    ("dyn_into::<js_sys::Function>", "not a throw, but callbacks are read by function_option"),
];

/// Uses that are safe where they stand: (file, pattern, why).
const ALLOWED: &[(&str, &str, &str)] = &[
    ("src/wasm/js/web.rs", ".copy_to(", "on the Float64Array that js/read.js made"),
    ("src/wasm/js/web.rs", ".length()", "on a string primitive, or on a view the boundary made"),
    ("src/wasm/runtime.rs", ".to_vec()", "on engine inputs (a Rust slice)"),
    ("src/wasm/batch.rs", ".to_vec()", "on labels (a Rust slice)"),
];

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Whether `line` holds `pattern` not as the tail of a longer name (`Float32Array::from(` is
/// not `Array::from(`).
fn contains_word(line: &str, pattern: &str) -> bool {
    line.match_indices(pattern).any(|(i, _)| {
        !pattern.starts_with(|c: char| c.is_alphanumeric())
            || !line[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_')
    })
}

#[test]
fn no_throwing_js_sys_call_outside_the_fallible_primitives() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src/wasm"), &mut files);
    assert!(files.len() >= 8, "{files:?}");
    let mut found = Vec::new();
    for file in &files {
        let name = file.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
        for (n, line) in fs::read_to_string(file).unwrap().lines().enumerate() {
            if line.trim_start().starts_with("//") {
                continue;
            }
            for (pattern, why) in THROWING {
                if contains_word(line, pattern) && !ALLOWED.iter().any(|(f, p, _)| *f == name && p == pattern) {
                    found.push(format!("{name}:{}: {pattern} ({why}): {}", n + 1, line.trim()));
                }
            }
        }
    }
    assert!(found.is_empty(), "throwing js-sys calls in the boundary:\n{}", found.join("\n"));
}
