//! A lean build serving a text package compiled in from its NNEF form (no ONNX parser): make
//! test-native builds this test with `minilm-int8` embedded (EDGESERVE_MODELS holding the package
//! `make text-lean-forms` writes: its 8-bit weights, edgeserve's integer operators), read by the
//! lean build's own NNEF reader (src/engine/lean.rs), against onnxruntime's vectors.
#![cfg(all(not(target_family = "wasm"), feature = "text", not(feature = "onnx")))]

mod common;

use common::text::*;
use edgeserve::{LoadedModel, Registry};

#[test]
fn the_lean_build_embeds_as_onnxruntime_from_the_nnef_form() {
    assert!(
        Registry::names().contains(&"minilm-int8".to_owned()),
        "minilm-int8 is not embedded (build with EDGESERVE_MODELS holding it, as make test-native does)"
    );
    let mut model = LoadedModel::embedded("minilm-int8").unwrap();
    check_golden("minilm-int8", &mut model, 0.03, 0.995, 0.95);
}
