//! OCR natively: the package `ocr` (PP-OCRv4 from RapidOCR) that `make models-ocr` makes from the
//! PyPI wheel (training/ocr_package.py, into target/models-ocr, or the directory in
//! EDGESERVE_OCR_MODELS), on the images rendered there, against RapidOCR's own pipeline run on
//! them: stage by stage (the detector's map to lines; the lines RapidOCR cut, classified and
//! read) and end to end (the lines' texts and corners), with the character accuracy against the
//! texts rendered printed. Then what an OCR package refuses.
#![cfg(all(not(target_family = "wasm"), feature = "ocr", feature = "onnx"))]

mod common;

use std::sync::{Mutex, OnceLock};

use common::ocr::*;
use common::root;
use edgeserve::image::Pixels;
use edgeserve::package::Form;
use edgeserve::task::ocr::regions::find_lines;
use edgeserve::task::ocr::{DetectorSettings, OcrSettings};
use edgeserve::LoadedModel;
use serde_json::Value;

fn manifest_text() -> String {
    std::fs::read_to_string(dir().join("ocr/manifest.json")).unwrap()
}

fn settings() -> OcrSettings {
    let manifest: Value = serde_json::from_str(&manifest_text()).unwrap();
    serde_json::from_value(manifest["ocr"].clone()).unwrap()
}

fn load() -> LoadedModel {
    let d = dir().join("ocr");
    let files = settings()
        .files(Form::Onnx)
        .into_iter()
        .map(|(file, _)| (file.clone(), std::fs::read(d.join(&file)).unwrap()))
        .collect();
    LoadedModel::from_package_files(std::fs::read(d.join("model.onnx")).unwrap(), &manifest_text(), files).unwrap()
}

/// The model, loaded once for the tests.
fn ocr() -> std::sync::MutexGuard<'static, LoadedModel> {
    static MODEL: OnceLock<Mutex<LoadedModel>> = OnceLock::new();
    MODEL.get_or_init(|| Mutex::new(load())).lock().unwrap_or_else(|e| e.into_inner())
}

#[test]
fn the_detectors_map_gives_rapidocrs_lines() {
    let settings: DetectorSettings = settings().detector;
    let mut lines = 0;
    for image in images() {
        let name = image["name"].as_str().unwrap();
        let reference = &image["reference"];
        let map = &reference["map"];
        let bytes = std::fs::read(dir().join("map").join(map["file"].as_str().unwrap())).unwrap();
        let values: Vec<f32> = bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        let (w, h) = (map["width"].as_u64().unwrap() as usize, map["height"].as_u64().unwrap() as usize);
        let pad = reference["padding"]["top"].as_u64().unwrap() as u32;
        let (iw, ih) = (image["width"].as_u64().unwrap() as u32, image["height"].as_u64().unwrap() as u32 + 2 * pad);
        let found = find_lines(&values, w, h, iw, ih, &settings);
        let expected: Vec<[[f64; 2]; 4]> = map["boxes"].as_array().unwrap().iter().map(quad).collect();
        assert_eq!(found.len(), expected.len(), "{name}: {found:?}\nRapidOCR: {expected:?}");
        for (f, e) in found.iter().zip(&expected) {
            // The same contours and rectangles; Clipper's offset emulated to the pixel.
            assert!(farthest(f, e) <= 1.0, "{name}: {f:?}, RapidOCR {e:?}");
        }
        lines += found.len();
    }
    assert!(lines > 50, "{lines} lines in all");
}

#[test]
fn the_lines_rapidocr_cut_read_as_rapidocr_reads_them() {
    let mut model = ocr();
    let (mut same, mut total) = (0, 0);
    for image in images() {
        let reference = &image["reference"];
        let crops = reference["crops"].as_array().unwrap();
        let bytes: Vec<Vec<u8>> = crops
            .iter()
            .map(|c| std::fs::read(dir().join("crops").join(c["file"].as_str().unwrap())).unwrap())
            .collect();
        let pixels: Vec<Pixels> = crops
            .iter()
            .zip(&bytes)
            .map(|(c, b)| {
                Pixels::new(b, c["width"].as_u64().unwrap() as u32, c["height"].as_u64().unwrap() as u32, 3).unwrap()
            })
            .collect();
        let read = model.read_lines(&pixels).unwrap();
        for (k, ((text, score), expected)) in read.iter().zip(reference["recognizer"].as_array().unwrap()).enumerate() {
            let (want, want_score) = (expected[0].as_str().unwrap(), expected[1].as_f64().unwrap() as f32);
            total += 1;
            if text == want {
                same += 1;
                // A line read with confidence gets about the same score.
                assert!(
                    want_score < 0.9 || (score - want_score).abs() < 0.06,
                    "{}[{k}] {text:?}: score {score}, RapidOCR {want_score}",
                    image["name"]
                );
            } else {
                eprintln!("{}[{k}]: {text:?} ({score}), RapidOCR {want:?} ({want_score})", image["name"]);
            }
        }
    }
    // The crops are RapidOCR's own: only the resize to the recogniser's height differs (within 1
    // of 255 of OpenCV's).
    assert!(same * 100 >= total * 97, "{same} of {total} lines read as RapidOCR reads them");
}

#[test]
fn images_read_as_rapidocr_reads_them() {
    check_reading(&mut ocr());
}

fn package_files() -> (Vec<u8>, Vec<(String, Vec<u8>)>) {
    let d = dir().join("ocr");
    let files = settings()
        .files(Form::Onnx)
        .into_iter()
        .map(|(file, _)| (file.clone(), std::fs::read(d.join(&file)).unwrap()))
        .collect();
    (std::fs::read(d.join("model.onnx")).unwrap(), files)
}

#[test]
fn the_manifest_is_valid_against_the_schema_and_broken_ones_are_refused_by_field() {
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("schema/manifest.schema.json")).unwrap()).unwrap();
    let schema = jsonschema::validator_for(&schema).unwrap();
    let good: Value = serde_json::from_str(&manifest_text()).unwrap();
    let errors: Vec<String> = schema.iter_errors(&good).map(|e| format!("{e} at {}", e.instance_path())).collect();
    assert!(errors.is_empty(), "{errors:?}");
    let (onnx, files) = package_files();
    // The last: a rule between the manifest and the graph, which only the load checks.
    let broken: Vec<(&str, Value, &str, bool)> = vec![
        ("/ocr/detector/threshold", Value::from(1.5), "ocr.detector.threshold", true),
        ("/ocr/recognizer/file", Value::from("../model.onnx"), "ocr.recognizer.file", true),
        ("/ocr/recognizer/sha256", Value::from("abc"), "ocr.recognizer.sha256", true),
        ("/ocr/classifier/batch", Value::from(0), "ocr.classifier.batch", true),
        ("/ocr/recognizer/height", Value::from(0), "ocr.recognizer.height", true),
        ("/task", Value::from("detection"), "outputs", true),
        (
            "/preprocessing/resize",
            serde_json::json!({ "mode": "letterbox", "width": 640, "height": 640 }),
            "inputs[0].shape",
            false,
        ),
    ];
    for (pointer, value, field, in_schema) in broken {
        let mut m = good.clone();
        *m.pointer_mut(pointer).unwrap() = value.clone();
        assert_eq!(schema.is_valid(&m), !in_schema, "the schema on {pointer} = {value}");
        let e = LoadedModel::from_package_files(onnx.clone(), &m.to_string(), files.clone()).unwrap_err();
        assert_eq!(e.code(), "BAD_MANIFEST", "{pointer} = {value}: {e}");
        assert!(e.to_string().contains(&format!("field `{field}`")), "{pointer} = {value}: {e}");
    }
    // A stage's NNEF form (what the lean build embeds) with a sha256 that is not one.
    let mut m = good.clone();
    m["ocr"]["recognizer"]["nnef"] = serde_json::json!({ "sha256": "abc", "tract": "0.23.9" });
    assert!(!schema.is_valid(&m));
    let e = LoadedModel::from_package_files(onnx.clone(), &m.to_string(), files.clone()).unwrap_err();
    assert!(e.to_string().contains("field `ocr.recognizer.nnef.sha256`"), "{e}");
    m["ocr"]["recognizer"]["nnef"]["sha256"] = Value::from("0".repeat(64));
    assert!(schema.is_valid(&m));
}

#[test]
fn a_missing_or_changed_graph_is_refused() {
    let (onnx, mut files) = package_files();
    let manifest = manifest_text();
    let e = LoadedModel::from_package_files(onnx.clone(), &manifest, files[..1].to_vec()).unwrap_err();
    assert_eq!(e.code(), "MODEL_LOAD", "{e}");
    assert!(e.to_string().contains("recognizer.onnx"), "{e}");
    files[0].1[100] ^= 1;
    let e = LoadedModel::from_package_files(onnx.clone(), &manifest, files.clone()).unwrap_err();
    assert_eq!(e.code(), "INTEGRITY", "{e}");
    let e = LoadedModel::from_package_files(onnx, &manifest, vec![("other.onnx".into(), vec![1, 2])]).unwrap_err();
    assert_eq!(e.code(), "BAD_MANIFEST", "{e}");
}

#[test]
fn what_an_ocr_package_refuses_leaves_it_reading() {
    let mut model = ocr();
    let gray = vec![200u8; 64 * 48];
    let pixels = Pixels::new(&gray, 64, 48, 1).unwrap();
    let e = model.predict_image(&pixels).unwrap_err();
    assert_eq!(e.code(), "BAD_INPUT", "{e}");
    assert!(e.to_string().contains("readText"), "{e}");
    let huge = Pixels::new(&[0u8; 3], 1, 1, 3).unwrap();
    let mut small = model.read_text(&huge).unwrap();
    assert!(small.lines.is_empty(), "{:?}", small.lines);
    // The widest image there is: scaled down, then padded as RapidOCR pads a strip.
    let strip = vec![255u8; 16384 * 2];
    assert!(model.read_text(&Pixels::new(&strip, 16384, 2, 1).unwrap()).unwrap().lines.is_empty());
    // A plain page is no text, and the model still reads.
    small = model.read_text(&pixels).unwrap();
    assert!(small.lines.is_empty());
    let image = &images()[0];
    let (w, h) = (image["width"].as_u64().unwrap() as u32, image["height"].as_u64().unwrap() as u32);
    let rgb = std::fs::read(dir().join("images").join(format!("{}.rgb", image["name"].as_str().unwrap()))).unwrap();
    let reading = model.read_text(&Pixels::new(&rgb, w, h, 3).unwrap()).unwrap();
    assert_eq!(reading.lines.len(), image["reference"]["lines"].as_array().unwrap().len());
    // A model of another task does not read text.
    let digits = LoadedModel::embedded("digits-fast");
    if let Ok(mut digits) = digits {
        let e = digits.read_text(&pixels).unwrap_err();
        assert_eq!(e.code(), "BAD_INPUT", "{e}");
    }
}
