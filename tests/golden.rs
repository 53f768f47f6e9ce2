//! The core against onnxruntime: every shipped package (and the regression fixture) predicts
//! its golden inputs within the tolerance of the outputs recorded at training time, in both of
//! its forms: `model.onnx`, `model.nnef.tar` and `model.rows`. Runs in the full build and in the
//! two lean ones (`make test-native`): with tract (`--no-default-features --features onnx-opl`),
//! whose embedded packages are NNEF, and without (`--no-default-features`), whose are rows forms.
#![cfg(not(target_family = "wasm"))]

mod common;

use common::*;
use edgeserve::package::{Form, EMBEDDED_FORM};
use edgeserve::{LoadedModel, Manifest, Package, Prediction, Registry};

fn check_golden(mut model: LoadedModel, name: &str) {
    let golden = golden(name);
    assert_eq!(golden.model, name);
    assert_eq!(golden.sha256, model.manifest().sha256, "golden.json was recorded for other model bytes");
    assert!(golden.cases.len() >= 20, "{name}: only {} golden cases", golden.cases.len());
    let mut worst = 0.0f32;
    for (i, case) in golden.cases.iter().enumerate() {
        let timed = model.predict(&case.input).unwrap_or_else(|e| panic!("{name} case {i}: {e}"));
        assert!(timed.latency_ms >= 0.0 && timed.latency_ms.is_finite());
        match timed.prediction {
            Prediction::Class { label, index, scores } => {
                assert_eq!(Some(index), case.expected.index, "{name} case {i}: index");
                assert_eq!(Some(&label), case.expected.label.as_ref(), "{name} case {i}: label");
                let d = max_abs_diff(&scores, case.expected.scores.as_ref().unwrap());
                assert!(d <= TOLERANCE, "{name} case {i}: scores differ from onnxruntime's by {d}");
                worst = worst.max(d);
            }
            Prediction::Values { values } => {
                let expected = case.expected.values.as_ref().unwrap();
                // Relative for values far from 0: f32 carries ~7 significant digits.
                let d = values.iter().zip(expected).map(|(a, b)| (a - b).abs() / b.abs().max(1.0)).fold(0.0, f32::max);
                assert!(
                    d <= TOLERANCE,
                    "{name} case {i}: values {values:?} differ from onnxruntime's {expected:?} by {d}"
                );
                worst = worst.max(d);
            }
        }
    }
    eprintln!("{name}: {} golden cases, largest difference from onnxruntime {worst:e}", golden.cases.len());
}

#[test]
fn shipped_packages_are_embedded() {
    assert_eq!(Registry::names(), vec!["digits-accurate", "digits-fast"]);
    for p in edgeserve::package::embedded() {
        let file = match EMBEDDED_FORM {
            Form::Onnx => read_onnx(p.dir),
            Form::Nnef => read_nnef(p.dir),
            Form::Rows => read_rows(p.dir),
        };
        assert_eq!(p.graph, file.as_slice(), "{}: embedded bytes differ from models/ ({EMBEDDED_FORM:?})", p.dir);
        assert_eq!(p.manifest, read_manifest(p.dir), "{}: embedded manifest differs from models/", p.dir);
    }
    assert_eq!(Registry::default_name().unwrap(), "digits-accurate");
}

#[test]
fn digits_accurate_matches_onnxruntime() {
    check_golden(LoadedModel::embedded("digits-accurate").unwrap(), "digits-accurate");
}

#[test]
fn digits_fast_matches_onnxruntime() {
    check_golden(LoadedModel::embedded("digits-fast").unwrap(), "digits-fast");
}

#[cfg(feature = "tract")]
#[test]
fn nnef_forms_match_onnxruntime() {
    for name in Registry::names() {
        let manifest = Manifest::from_json(&read_manifest(&name)).unwrap();
        let package = Package::with_form(manifest, Form::Nnef, read_nnef(&name)).unwrap();
        check_golden(LoadedModel::load(package).unwrap(), &name);
    }
}

/// The rows forms in every build (the row program read from bytes, no tract involved).
#[test]
fn rows_forms_match_onnxruntime() {
    for name in Registry::names() {
        let manifest = Manifest::from_json(&read_manifest(&name)).unwrap();
        let package = Package::with_form(manifest, Form::Rows, read_rows(&name)).unwrap();
        let model = LoadedModel::load(package).unwrap();
        assert_eq!(model.engine_name(), "rows");
        check_golden(model, &name);
    }
}

#[test]
fn a_package_without_its_rows_form_is_refused_in_that_form() {
    let mut manifest = Manifest::from_json(&read_manifest("digits-fast")).unwrap();
    manifest.rows = None;
    let err = Package::with_form(manifest, Form::Rows, read_rows("digits-fast")).unwrap_err();
    assert_eq!(err.code(), "BAD_MANIFEST");
    assert!(err.to_string().contains("rows") && err.to_string().contains("make models-nnef"), "{err}");
    let mut manifest = Manifest::from_json(&read_manifest("digits-fast")).unwrap();
    manifest.rows.as_mut().unwrap().sha256 = "0".repeat(64);
    assert_eq!(Package::with_form(manifest, Form::Rows, read_rows("digits-fast")).unwrap_err().code(), "INTEGRITY");
    // Bytes that hash right but are no rows form (the NNEF tar, say) fail to load, saying why.
    let mut manifest = Manifest::from_json(&read_manifest("digits-fast")).unwrap();
    let nnef = read_nnef("digits-fast");
    manifest.rows.as_mut().unwrap().sha256 = edgeserve::package::sha256_hex(&nnef);
    let err = LoadedModel::load(Package::with_form(manifest, Form::Rows, nnef).unwrap()).unwrap_err();
    assert_eq!(err.code(), "MODEL_LOAD");
    assert!(
        err.to_string().contains("reading the rows form") && err.to_string().contains("do not start with"),
        "{err}"
    );
}

/// A build without tract runs only row programs: it refuses NNEF forms and tract's plans.
#[cfg(not(feature = "tract"))]
#[test]
fn a_build_without_tract_says_so() {
    let manifest = Manifest::from_json(&read_manifest("digits-fast")).unwrap();
    let err =
        LoadedModel::load(Package::with_form(manifest, Form::Nnef, read_nnef("digits-fast")).unwrap()).unwrap_err();
    assert_eq!(err.code(), "MODEL_LOAD");
    assert!(err.to_string().contains("no tract"), "{err}");
    let mut model = LoadedModel::embedded("digits-fast").unwrap();
    let err = model.use_engine("tract").unwrap_err();
    assert_eq!(err.code(), "BAD_INPUT");
    assert!(err.to_string().contains("no tract"), "{err}");
    model.use_engine("rows").unwrap();
    assert_eq!(model.engine_name(), "rows");
}

#[test]
fn a_package_without_its_nnef_form_is_refused_in_that_form() {
    let mut manifest = Manifest::from_json(&read_manifest("digits-fast")).unwrap();
    manifest.nnef = None;
    let err = Package::with_form(manifest, Form::Nnef, read_nnef("digits-fast")).unwrap_err();
    assert_eq!(err.code(), "BAD_MANIFEST");
    assert!(err.to_string().contains("make models-nnef"), "{err}");
    let mut manifest = Manifest::from_json(&read_manifest("digits-fast")).unwrap();
    manifest.nnef.as_mut().unwrap().sha256 = "0".repeat(64);
    assert_eq!(Package::with_form(manifest, Form::Nnef, read_nnef("digits-fast")).unwrap_err().code(), "INTEGRITY");
}

#[cfg(feature = "onnx")]
#[test]
fn regression_fixture_matches_onnxruntime() {
    let package = Package::from_parts(&read_manifest("digits-ink"), read_onnx("digits-ink")).unwrap();
    check_golden(LoadedModel::load(package).unwrap(), "digits-ink");
}

#[test]
fn accuracy_in_manifest_is_reproduced_on_the_test_split() {
    // www/data/digits-test.csv is the held-out split the manifest's accuracy was measured on.
    let csv = std::fs::read_to_string(root().join("www/data/digits-test.csv")).unwrap();
    for name in Registry::names() {
        let mut model = LoadedModel::embedded(&name).unwrap();
        let (mut right, mut total) = (0usize, 0usize);
        for line in csv.lines().skip(1) {
            let cells: Vec<f32> = line.split(',').map(|c| c.parse().unwrap()).collect();
            let (features, truth) = cells.split_at(64);
            let Prediction::Class { index, .. } = model.predict(features).unwrap().prediction else { panic!() };
            right += usize::from(index == truth[0] as usize);
            total += 1;
        }
        let measured = right as f64 / total as f64;
        let recorded = model.manifest().metrics.as_ref().and_then(|m| m.accuracy).unwrap();
        assert!((measured - recorded).abs() < 1e-6, "{name}: accuracy {measured} here, {recorded} in the manifest");
    }
}
