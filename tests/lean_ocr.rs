//! A lean build reading text with the OCR package compiled in from its NNEF forms (no ONNX
//! parser): make test-native builds this test with `ocr` embedded (EDGESERVE_MODELS holding the
//! package `make ocr-lean-forms` writes: the detector's model.nnef.tar, classifier.nnef.tar and
//! recognizer.nnef.tar, each typed for any image or line size), read by the lean build's own
//! NNEF reader (src/engine/lean.rs), on the rendered images against RapidOCR's own results.
#![cfg(all(not(target_family = "wasm"), feature = "ocr", not(feature = "onnx")))]

mod common;

use common::ocr::check_reading;
use edgeserve::{LoadedModel, Registry};

#[test]
fn the_lean_build_reads_as_rapidocr_from_the_nnef_forms() {
    assert!(
        Registry::names().contains(&"ocr".to_owned()),
        "ocr is not embedded (build with EDGESERVE_MODELS holding it, as make test-native does)"
    );
    let mut model = LoadedModel::embedded("ocr").unwrap();
    assert_eq!(model.engine_details().typing, "symbolic", "{:?}", model.engine_details());
    check_reading(&mut model);
}
