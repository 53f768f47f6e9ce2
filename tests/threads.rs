//! The thread pool natively (feature `threads`, which the command line's feature turns on): a pool
//! of 2 started once for this test binary, and minilm's sentence embeddings (tract splits its
//! products over the pool) against onnxruntime's and against the same model run before the pool
//! existed. The wasm build's pool (module Workers): tests/js/threads.test.mjs and
//! tests/e2e/search.test.mjs.
#![cfg(all(not(target_family = "wasm"), feature = "threads", feature = "text"))]

mod common;

use common::text::*;
use edgeserve::task::embedding::cosine;
use edgeserve::threads::{self, ThreadsError};
use edgeserve::LoadedModel;

fn load(name: &str) -> LoadedModel {
    let manifest = String::from_utf8(read(name, "manifest.json")).unwrap();
    LoadedModel::from_text_files(read(name, "model.onnx"), &manifest, read(name, "tokenizer.json")).unwrap()
}

/// One test, in order: the pool is global to the process.
#[test]
fn a_pool_of_two_gives_the_single_threaded_results() {
    let golden = json_file("minilm", "golden.json");
    let rows = golden["texts"].as_array().unwrap();
    let texts: Vec<&str> = rows.iter().map(|r| r["text"].as_str().unwrap()).collect();

    let mut model = load("minilm");
    assert_eq!(threads::count(), 1);
    let (alone, _) = model.embed(&texts).unwrap();

    assert_eq!(threads::start_native(0), Err(ThreadsError::BadCount { got: 0 }));
    threads::start_native(2).unwrap();
    assert_eq!(threads::count(), 2);
    assert_eq!(threads::start_native(2), Err(ThreadsError::Started { running: 2 }));
    assert_eq!(edgeserve::Error::from(ThreadsError::Started { running: 2 }).code(), "THREADS");

    // The first runs of a size are timed on one thread; the later ones go on the pool (they take
    // over a millisecond). Every one gives the single-threaded result.
    let mut pooled = alone.clone();
    for _ in 0..threads::TRIALS + 2 {
        (pooled, _) = model.embed(&texts).unwrap();
        let differ = alone.data.iter().zip(&pooled.data).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        assert!(differ < 1e-5, "pooled and single-threaded embeddings differ by {differ}");
    }
    assert!(threads::pooled_runs() >= 2, "{} runs on the pool", threads::pooled_runs());
    for (i, row) in rows.iter().enumerate() {
        let want: Vec<f32> = row["embedding"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect();
        let c = cosine(pooled.row(i), &want);
        assert!(c >= 0.99999, "{}: cosine {c} to onnxruntime's", row["text"]);
    }
}
