//! The bad-input catalogue natively (see tests/catalogue/bad-input.mjs for the same kinds through
//! the npm package in Node, in Chromium and through a WorkerModel): each kind, through the
//! boundary (JSON standing in for JavaScript values) or the core, gets its documented error code
//! and a message that says what was wrong, what was expected and what came; after each, a good
//! prediction still matches onnxruntime's golden output. Kinds that only JavaScript can make
//! (undefined, typed arrays, use after free()) are in the JS catalogue only.
#![cfg(not(target_family = "wasm"))]

mod common;

use common::*;
use edgeserve::serve::stream::{StreamBatcher, StreamItem};
use edgeserve::tensor::{NamedTensor, TensorData};
use edgeserve::wasm::Model;
use edgeserve::{Error, LoadedModel};
use serde_json::{json, Value};

type Outcome = Result<(), Error>;

struct Ctx {
    model: Model,
    /// A detector (tests/fixtures/image/detector-yolov8) and an image it finds 4 boxes in, as
    /// JSON `{ data, width, height, channels }`.
    image: Model,
    good_image: Value,
    core: LoadedModel,
    good: Vec<f32>,
    onnx: Vec<u8>,
    manifest: Value,
    csv: String,
}

fn manifest_with(c: &Ctx, change: impl FnOnce(&mut Value)) -> Value {
    let mut m = c.manifest.clone();
    change(&mut m);
    m
}

fn csv_with(c: &Ctx, change: impl FnOnce(&mut Vec<Vec<String>>)) -> String {
    let mut lines: Vec<Vec<String>> = c.csv.lines().map(|l| l.split(',').map(str::to_owned).collect()).collect();
    change(&mut lines);
    lines.iter().map(|l| l.join(",")).collect::<Vec<_>>().join("\n")
}

fn row_with(c: &Ctx, i: usize, v: f32) -> Vec<f32> {
    let mut r = c.good.clone();
    r[i] = v;
    r
}

fn from_bytes(bytes: Vec<u8>, manifest: Option<Value>) -> Outcome {
    Model::from_bytes(bytes, manifest).map(|_| ())
}

fn csv_rows(c: &Ctx, text: &str) -> Outcome {
    let r = c.model.predict_csv(text, Some(json!({ "labelColumn": "label" })))?;
    assert_eq!(r.rows(), 3, "every CSV row predicted");
    Ok(())
}

fn multi_io() -> (LoadedModel, Vec<NamedTensor>) {
    let model = LoadedModel::from_bytes(std::fs::read(root().join("tests/fixtures/onnx/multi_io.onnx")).unwrap(), None)
        .unwrap();
    let spec: Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("tests/fixtures/onnx/multi_io.json")).unwrap())
            .unwrap();
    let a: Vec<f32> = serde_json::from_value(spec["inputs"]["a"]["data"].clone()).unwrap();
    let b: Vec<i64> = serde_json::from_value(spec["inputs"]["b"]["data"].clone()).unwrap();
    let inputs = vec![
        NamedTensor { name: "a".into(), shape: vec![2, 3], data: TensorData::F32(a) },
        NamedTensor { name: "b".into(), shape: vec![2], data: TensorData::I64(b) },
    ];
    (model, inputs)
}

/// (kind, expected code or "accepted", a part of the message, the call)
type Entry = (&'static str, &'static str, &'static str, fn(&mut Ctx) -> Outcome);

/// The good image with one field changed.
fn image_with(c: &Ctx, key: &str, value: Value) -> Value {
    let mut image = c.good_image.clone();
    image[key] = value;
    image
}

fn detect(c: &Ctx, image: Value) -> Outcome {
    c.image.detect(image).map(|_| ())
}

fn catalogue() -> Vec<Entry> {
    vec![
        ("an image of width 0", "BAD_INPUT", "the image's width is not a size edgeserve takes", |c| {
            detect(c, image_with(c, "width", json!(0)))
        }),
        ("an image over limits.maxImagePixels", "BAD_INPUT", "expected at most 67108864 pixels", |c| {
            detect(c, json!({ "data": [0, 0, 0], "width": 16384, "height": 16384, "channels": 3 }))
        }),
        ("an image of 2 channels", "BAD_INPUT", "expected 1 (gray), 3 (RGB) or 4 (RGBA), got 2", |c| {
            detect(c, image_with(c, "channels", json!(2)))
        }),
        ("an image whose data is a byte short", "BAD_INPUT", "expected 17751 bytes", |c| {
            let mut data = c.good_image["data"].as_array().unwrap().clone();
            data.pop();
            detect(c, image_with(c, "data", json!(data)))
        }),
        ("an image whose data holds a value over 255", "BAD_INPUT", "image.data[0] is not a byte", |c| {
            let mut data = c.good_image["data"].as_array().unwrap().clone();
            data[0] = json!(256);
            detect(c, image_with(c, "data", json!(data)))
        }),
        ("an image without data", "BAD_INPUT", "image.data is missing", |c| {
            detect(c, json!({ "width": 97, "height": 61, "channels": 3 }))
        }),
        ("a string as an image", "BAD_INPUT", "got a string (\"photo.jpg\")", |c| detect(c, json!("photo.jpg"))),
        ("an image to a model that is not a detector", "BAD_INPUT", "is not a detector", |c| {
            c.model.detect(c.good_image.clone()).map(|_| ())
        }),
        ("row too short", "BAD_INPUT", "expected 64 raw features, got 63 values", |c| {
            c.model.predict(json!(vec![0.0; 63])).map(|_| ())
        }),
        ("row too long", "BAD_INPUT", "expected 64 raw features, got 65 values", |c| {
            c.model.predict(json!(vec![0.0; 65])).map(|_| ())
        }),
        ("empty input", "BAD_INPUT", "got 0 values", |c| c.model.predict(json!([])).map(|_| ())),
        ("a string", "BAD_INPUT", "got a string (\"0,1,2\")", |c| c.model.predict(json!("0,1,2")).map(|_| ())),
        ("null", "BAD_INPUT", "got null", |c| c.model.predict(Value::Null).map(|_| ())),
        ("an object", "BAD_INPUT", "got an object", |c| c.model.predict(json!({ "length": 64 })).map(|_| ())),
        ("a number", "BAD_INPUT", "got a number (7)", |c| c.model.predict(json!(7)).map(|_| ())),
        ("nested array of the wrong shape", "BAD_INPUT", "got an array of 64 items", |c| {
            c.model.predict(json!([c.good.clone()])).map(|_| ())
        }),
        ("a string inside the row", "BAD_INPUT", "input[4] is not a number", |c| {
            let mut r = json!(c.good.clone());
            r[4] = json!("4");
            c.model.predict(r).map(|_| ())
        }),
        ("NaN", "BAD_INPUT", "input[9] is not a finite number", |c| {
            c.core.predict(&row_with(c, 9, f32::NAN)).map(|_| ())
        }),
        ("Infinity", "BAD_INPUT", "input[2] is not a finite number", |c| {
            c.core.predict(&row_with(c, 2, f32::NEG_INFINITY)).map(|_| ())
        }),
        ("a value outside the manifest range", "BAD_INPUT", "input[5]", |c| {
            c.core.predict(&row_with(c, 5, 300.0)).map(|_| ())
        }),
        ("ragged rows in a batch", "BAD_INPUT", "rows[1]", |c| {
            c.model.predict_batch(json!([c.good.clone(), c.good[1..].to_vec()]), None).map(|_| ())
        }),
        ("a bad value deep in a batch", "BAD_INPUT", "rows[1][2] is not a", |c| {
            let mut rows = json!([c.good.clone(), c.good.clone()]);
            rows[1][2] = json!("x");
            c.model.predict_batch(rows, None).map(|_| ())
        }),
        ("a batch that is not whole rows", "BAD_INPUT", "got 197 values", |c| {
            c.core.predict_batch(vec![0.0; 64 * 3 + 5], 256).map(|_| ())
        }),
        (
            "a batch over the manifest size limit",
            "BAD_INPUT",
            "at most 100000 rows per call (manifest limits.maxBatchRows), got 100001 rows",
            |c| c.core.predict_batch(vec![0.0; 64 * 100_001], 256).map(|_| ()),
        ),
        ("chunkSize out of range", "BAD_INPUT", "chunkSize is out of range", |c| {
            c.model.predict_batch(json!([c.good.clone()]), Some(json!({ "chunkSize": 0 }))).map(|_| ())
        }),
        ("options that are not an object", "BAD_INPUT", "options are not an object", |c| {
            c.model.predict_batch(json!([c.good.clone()]), Some(json!("fast"))).map(|_| ())
        }),
        ("CSV with a missing column", "BAD_INPUT", "wrong number of feature columns", |c| {
            let text = csv_with(c, |ls| ls.iter_mut().for_each(|l| drop(l.remove(3))));
            csv_rows(c, &text)
        }),
        ("CSV with a non-numeric cell", "BAD_INPUT", "\"seven\"", |c| {
            let text = csv_with(c, |ls| ls[2][7] = "seven".into());
            csv_rows(c, &text)
        }),
        ("CSV with ragged rows", "BAD_INPUT", "line 4", |c| {
            let text = csv_with(c, |ls| drop(ls[3].pop()));
            csv_rows(c, &text)
        }),
        ("CSV with an unknown label column", "BAD_INPUT", "truth", |c| {
            c.model.predict_csv(&c.csv.clone(), Some(json!({ "labelColumn": "truth" }))).map(|_| ())
        }),
        ("CSV with a BOM", "accepted", "", |c| csv_rows(c, &format!("\u{feff}{}", c.csv))),
        ("CSV with CRLF line ends", "accepted", "", |c| csv_rows(c, &c.csv.replace('\n', "\r\n"))),
        ("a truncated ONNX file", "MODEL_LOAD", "ONNX", |c| from_bytes(c.onnx[..c.onnx.len() / 2].to_vec(), None)),
        ("a corrupt ONNX file", "MODEL_LOAD", "ONNX", |c| {
            let bytes =
                c.onnx.iter().enumerate().map(|(i, b)| if i > 16 && i % 7 == 0 { b ^ 0x5a } else { *b }).collect();
            from_bytes(bytes, None)
        }),
        (
            "an ONNX Unsqueeze with an axis outside its output",
            "MODEL_LOAD",
            "(Unsqueeze): expected the axes of the output within -2..2 (a tensor of rank 2), got 38",
            |_| {
                from_bytes(
                    std::fs::read(root().join("tests/fixtures/fuzz/package/unsqueeze-axis-outside-rank.onnx")).unwrap(),
                    None,
                )
            },
        ),
        ("a file that is not ONNX", "MODEL_LOAD", "ONNX", |_| {
            from_bytes(b"<!doctype html><title>404</title>".to_vec(), None)
        }),
        ("a wrong sha256", "INTEGRITY", "(the hash of the model bytes)", |c| {
            from_bytes(c.onnx.clone(), Some(manifest_with(c, |m| m["sha256"] = json!("0".repeat(64)))))
        }),
        ("a manifest with a missing field", "BAD_MANIFEST", "outputs", |c| {
            from_bytes(c.onnx.clone(), Some(manifest_with(c, |m| drop(m.as_object_mut().unwrap().remove("outputs")))))
        }),
        ("a manifest field of the wrong type", "BAD_MANIFEST", "`version`", |c| {
            from_bytes(c.onnx.clone(), Some(manifest_with(c, |m| m["version"] = json!(1))))
        }),
        ("a manifest with an unknown dtype", "BAD_MANIFEST", "float128", |c| {
            from_bytes(c.onnx.clone(), Some(manifest_with(c, |m| m["inputs"][0]["dtype"] = json!("float128"))))
        }),
        (
            "a manifest shape that does not match the graph",
            "BAD_MANIFEST",
            "expected [N, 64] (as in model.onnx), found [N, 65]",
            |c| from_bytes(c.onnx.clone(), Some(manifest_with(c, |m| m["inputs"][0]["shape"] = json!(["N", 65])))),
        ),
        ("a manifest that is not an object", "BAD_INPUT", "manifest is not an object", |c| {
            from_bytes(c.onnx.clone(), Some(json!("manifest.json")))
        }),
        ("an unknown model name", "UNKNOWN_MODEL", "expected one of [\"digits-accurate\", \"digits-fast\"]", |_| {
            Model::load("digits-huge").map(|_| ())
        }),
        ("run() without a needed input", "BAD_INPUT", "input \"b\" is missing", |_| {
            let (mut m, mut inputs) = multi_io();
            inputs.pop();
            m.run(inputs).map(|_| ())
        }),
        ("run() with an input of the wrong dtype", "BAD_INPUT", "has the wrong element type", |_| {
            let (mut m, mut inputs) = multi_io();
            inputs[0].data = TensorData::I32(vec![0; 6]);
            m.run(inputs).map(|_| ())
        }),
        ("run() with an input the model lacks", "BAD_INPUT", "is not an input of the model", |_| {
            let (mut m, mut inputs) = multi_io();
            inputs.push(NamedTensor { name: "nope".into(), shape: vec![1], data: TensorData::F32(vec![0.0]) });
            m.run(inputs).map(|_| ())
        }),
        ("a stream fed a bad item in the middle", "accepted", "", |c| {
            let mut stream = StreamBatcher::new(4)?;
            stream.push(Ok(StreamItem::Row(c.good.clone())));
            stream.push(Ok(StreamItem::Row(vec![1.0; 3])));
            stream.push(Ok(StreamItem::Row(c.good.clone())));
            let out = stream.flush(&mut c.core);
            assert_eq!(out.len(), 3);
            assert!(out[0].result.is_ok() && out[2].result.is_ok(), "the good items around the bad one are predicted");
            let err = out[1].result.clone().unwrap_err();
            assert_eq!(err.code(), "BAD_INPUT", "{err}");
            Ok(())
        }),
    ]
}

#[test]
fn every_kind_of_bad_input_gets_its_documented_error_and_the_model_stays_good() {
    let g = golden("digits-accurate");
    let case = &g.cases[0];
    let csv: String = std::fs::read_to_string(root().join("www/data/digits-test.csv"))
        .unwrap()
        .lines()
        .take(4)
        .collect::<Vec<_>>()
        .join("\n");
    let mut c = Ctx {
        model: Model::load("digits-accurate").unwrap(),
        core: LoadedModel::embedded("digits-accurate").unwrap(),
        good: case.input.clone(),
        onnx: read_onnx("digits-fast"),
        manifest: serde_json::from_str(&read_manifest("digits-fast")).unwrap(),
        csv,
        image: Model::from_bytes(
            std::fs::read(root().join("tests/fixtures/image/detector-yolov8.onnx")).unwrap(),
            Some(
                serde_json::from_str(
                    &std::fs::read_to_string(root().join("tests/fixtures/image/detector-yolov8.manifest.json"))
                        .unwrap(),
                )
                .unwrap(),
            ),
        )
        .unwrap(),
        good_image: json!({
            "data": std::fs::read(root().join("tests/fixtures/image/rgb.97x61x3.raw")).unwrap(),
            "width": 97, "height": 61, "channels": 3
        }),
    };
    let entries = catalogue();
    assert!(entries.len() >= 25, "{} kinds", entries.len());
    for (kind, code, part, call) in &entries {
        match (call(&mut c), *code) {
            (Ok(()), "accepted") => {}
            (Ok(()), _) => panic!("{kind}: expected {code}, got a result"),
            (Err(e), _) => {
                let message = e.to_string();
                assert_eq!(e.code(), *code, "{kind}: {message}");
                assert!(message.contains(part), "{kind}: expected a message with {part:?}, got {message}");
                let (what_expected, got) = (
                    message.contains("expected "),
                    message.contains("got ") || message.contains("got:") || message.contains("found "),
                );
                assert!(
                    what_expected && got,
                    "{kind}: the message must say what was expected and what came: {message}"
                );
            }
        }
        for model_says in [
            c.model.predict(json!(c.good.clone())).unwrap(),
            serde_json::to_value(c.core.predict(&c.good).unwrap().prediction).unwrap(),
        ] {
            assert_eq!(model_says["label"], json!(case.expected.label.clone().unwrap()), "{kind}: the model is harmed");
            let scores: Vec<f32> = serde_json::from_value(model_says["scores"].clone()).unwrap();
            assert!(max_abs_diff(&scores, case.expected.scores.as_ref().unwrap()) <= TOLERANCE, "{kind}: scores moved");
        }
        let boxes = c.image.detect(c.good_image.clone()).unwrap();
        assert_eq!(boxes["boxes"].as_array().unwrap().len(), 4, "{kind}: the detector is harmed");
    }
    println!("bad-input catalogue (native): {} kinds, every one as documented", entries.len());
}
