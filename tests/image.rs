//! Images in (training/image_fixtures.py made the images, the models and the references):
//! preprocessing against OpenCV's and Pillow's tensors for every resize mode, filter, channel
//! order and layout; an image classifier against onnxruntime's scores; detectors with YOLOv8's
//! and YOLOv5's heads against boxes decoded in numpy; bad images and manifests. Natively; the
//! npm package runs the same fixtures in tests/js/image.test.mjs.
#![cfg(not(target_family = "wasm"))]

mod common;

use base64::Engine as _;
use common::*;
use edgeserve::image::{prepare, ImagePreprocessing, Pixels};
use edgeserve::tensor::TensorData;
use edgeserve::{LoadedModel, Prediction};
use serde_json::Value;

fn fixture(name: &str) -> std::path::PathBuf {
    root().join("tests/fixtures/image").join(name)
}

fn json(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixture(name)).unwrap()).unwrap()
}

/// An image file's pixels and sizes, from its name (`<name>.<w>x<h>x<c>.raw`).
fn image(file: &str) -> (Vec<u8>, u32, u32, u8) {
    let dims: Vec<u32> = file.split('.').nth(1).unwrap().split('x').map(|d| d.parse().unwrap()).collect();
    (std::fs::read(fixture(file)).unwrap(), dims[0], dims[1], dims[2] as u8)
}

/// Sets the field at a JSON pointer, adding it where it is missing.
fn set(m: &mut Value, pointer: &str, value: Value) {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let parent = if parent.is_empty() { m } else { m.pointer_mut(parent).unwrap() };
    parent[key] = value;
}

fn load(name: &str) -> LoadedModel {
    let onnx = std::fs::read(fixture(&format!("{name}.onnx"))).unwrap();
    let manifest = std::fs::read_to_string(fixture(&format!("{name}.manifest.json"))).unwrap();
    LoadedModel::from_bytes(onnx, Some(&manifest)).unwrap()
}

#[test]
fn preprocessing_makes_the_tensors_of_opencv_and_pillow() {
    let cases = json("preprocess.json");
    let cases = cases["cases"].as_array().unwrap();
    assert!(cases.len() >= 50);
    for case in cases {
        let (data, w, h, c) = image(case["image"].as_str().unwrap());
        let config: ImagePreprocessing = serde_json::from_value(case["config"].clone()).unwrap();
        config.validate().unwrap();
        let pixels = Pixels::new(&data, w, h, c).unwrap();
        let got = prepare(&config, &pixels).unwrap();
        let shape: Vec<usize> =
            case["shape"].as_array().unwrap().iter().map(|d| d.as_u64().unwrap() as usize).collect();
        let what = format!("{} {}", case["image"], case["config"]);
        assert_eq!(got.shape.to_vec(), shape, "{what}");
        match &got.data {
            TensorData::U8(got) => {
                let decode =
                    |key: &str| base64::engine::general_purpose::STANDARD.decode(case[key].as_str().unwrap()).unwrap();
                let want = decode("base64");
                if case["filter"] == "nearest" {
                    // Nearest picks pixels: each value is the reference's, or at a tie (a centre
                    // exactly between two pixels) the other pixel's.
                    let alternatives: Vec<Vec<u8>> = case["tiesLeft"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|b| base64::engine::general_purpose::STANDARD.decode(b.as_str().unwrap()).unwrap())
                        .collect();
                    let nearest = |i: usize| got[i] == want[i] || alternatives.iter().any(|a| a[i] == got[i]);
                    let off: Vec<usize> = (0..want.len()).filter(|&i| !nearest(i)).collect();
                    assert!(
                        off.is_empty(),
                        "{what}: {} values of neither nearest pixel, first at {}",
                        off.len(),
                        off[0]
                    );
                } else {
                    let off: Vec<usize> = (0..want.len()).filter(|&i| got[i].abs_diff(want[i]) > 1).collect();
                    assert!(
                        off.is_empty(),
                        "{what}: {} values more than 1 off, first at {}: {} vs {}",
                        off.len(),
                        off[0],
                        got[off[0]],
                        want[off[0]]
                    );
                }
            }
            TensorData::F32(got) => {
                let want: Vec<f32> =
                    case["data"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap() as f32).collect();
                // One step of 255 through the normalisation, at most.
                let std = config.std.iter().copied().fold(f32::INFINITY, f32::min).min(1.0);
                let step = config.scale.abs() / std + 1e-5;
                assert!(max_abs_diff(got, &want) <= step, "{what}: {}", max_abs_diff(got, &want));
            }
            other => panic!("{what}: {:?}", other.dtype()),
        }
    }
}

#[test]
fn an_image_classifier_gives_onnxruntimes_scores() {
    let mut model = load("image-classifier");
    let golden = json("image-classifier.golden.json");
    for case in golden["cases"].as_array().unwrap() {
        let (data, w, h, c) = image(case["image"].as_str().unwrap());
        let timed = model.predict_image(&Pixels::new(&data, w, h, c).unwrap()).unwrap();
        let Prediction::Class { label, scores, .. } = timed.prediction else { panic!("a class") };
        let want: Vec<f32> = case["scores"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap() as f32).collect();
        assert_eq!(label, case["label"].as_str().unwrap());
        // The bilinear resize is within 1 of 255 of OpenCV's: the scores within 1e-3.
        assert!(max_abs_diff(&scores, &want) <= 1e-3, "{}: {scores:?} vs {want:?}", case["image"]);
    }
    assert_eq!(model.latency().realtime.count, 4);
}

#[test]
fn detectors_give_the_boxes_of_the_reference() {
    for head in ["yolov8", "yolov5"] {
        let mut model = load(&format!("detector-{head}"));
        let golden = json(&format!("detector-{head}.golden.json"));
        for case in golden["cases"].as_array().unwrap() {
            let (data, w, h, c) = image(case["image"].as_str().unwrap());
            let found = model.detect(&Pixels::new(&data, w, h, c).unwrap()).unwrap();
            let want = case["boxes"].as_array().unwrap();
            let what = format!("{head} {}", case["image"]);
            assert_eq!(found.boxes.len(), want.len(), "{what}: {:?}", found.boxes);
            assert!(want.len() >= 3, "{what}: the fixture keeps several boxes");
            for (got, want) in found.boxes.iter().zip(want) {
                assert_eq!(got.index as u64, want["index"].as_u64().unwrap(), "{what}");
                // The scores scale with the image's mean, which the bilinear resize's rounding
                // (within 1 of 255 of OpenCV's) moves a little.
                assert!((got.score as f64 - want["score"].as_f64().unwrap()).abs() < 5e-3, "{what}: {got:?} vs {want}");
                for (v, k) in [(got.x, "x"), (got.y, "y"), (got.width, "width"), (got.height, "height")] {
                    assert!((v - want[k].as_f64().unwrap()).abs() < 1e-3, "{what}: {k} {v} vs {}", want[k]);
                }
            }
            let labels = ["circle", "square"];
            assert!(found.labels.iter().zip(&found.boxes).all(|(l, b)| l == labels[b.index]));
        }
    }
}

#[test]
fn bad_images_are_refused_with_the_field_and_the_model_goes_on() {
    let mut model = load("image-classifier");
    let e = Pixels::new(&[0; 11], 2, 2, 3).unwrap_err().into_error("image-classifier");
    assert_eq!(e.code(), "BAD_INPUT");
    assert_eq!(
        e.to_string(),
        "the image's data has the wrong length: expected 12 bytes (2 x 2 pixels, 3 channels each), got 11 bytes"
    );
    let e = Pixels::new(&[], 0, 5, 3).unwrap_err().into_error("image-classifier");
    assert_eq!(
        e.to_string(),
        "the image's width is not a size edgeserve takes: expected a whole number of pixels from 1 to 16384, got 0"
    );
    // A row of numbers to an image model, and an image to a detector's predict.
    let e = model.predict(&[0.0; 4]).unwrap_err();
    assert_eq!(e.code(), "BAD_INPUT", "{e}");
    let mut detector = load("detector-yolov8");
    let one = [9u8; 3];
    let e = detector.predict_image(&Pixels::new(&one, 1, 1, 3).unwrap()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "model 'detector-yolov8' is a detector: expected detect(image), which returns its boxes, got predict(image)"
    );
    let e = model.detect(&Pixels::new(&one, 1, 1, 3).unwrap()).unwrap_err();
    assert_eq!(e.code(), "BAD_INPUT");
    // Still serving: a 1 x 1 image is resized to the model's size.
    assert!(model.predict_image(&Pixels::new(&one, 1, 1, 3).unwrap()).is_ok());
    assert_eq!(detector.detect(&Pixels::new(&one, 1, 1, 3).unwrap()).unwrap().boxes.len(), 0);
}

#[test]
fn bad_image_manifests_name_the_field() {
    let onnx = std::fs::read(fixture("detector-yolov8.onnx")).unwrap();
    let good: Value = json("detector-yolov8.manifest.json");
    let cases: Vec<(&str, Value, &str)> = vec![
        ("/preprocessing/resize/width", Value::from(0), "preprocessing.resize.width"),
        ("/preprocessing/resize/width", Value::from(32), "inputs[0].shape"),
        ("/preprocessing/input", Value::from("pixels"), "preprocessing.input"),
        ("/preprocessing/mean", serde_json::json!([0.5]), "preprocessing.mean"),
        ("/preprocessing/std", serde_json::json!([1, 0, 1]), "preprocessing.std[1]"),
        ("/preprocessing/dtype", Value::from("uint8"), "preprocessing.dtype"),
        ("/preprocessing/channels", Value::from("gray"), "inputs[0].shape"),
        ("/detection/head", Value::from("yolov5"), "outputs[0].shape"),
        ("/detection/iouThreshold", Value::from(1.5), "detection.iouThreshold"),
        ("/labels", serde_json::json!(["one"]), "outputs[0].shape"),
        ("/task", Value::from("classification"), "detection"),
    ];
    for (pointer, value, field) in cases {
        let mut m = good.clone();
        set(&mut m, pointer, value.clone());
        let e = LoadedModel::from_bytes(onnx.clone(), Some(&m.to_string())).unwrap_err();
        assert_eq!(e.code(), "BAD_MANIFEST", "{pointer} = {value}: {e}");
        assert!(e.to_string().contains(&format!("field `{field}`")), "{pointer} = {value}: {e}");
    }
}

#[test]
fn image_manifests_are_valid_against_the_schema_and_broken_ones_are_not() {
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("schema/manifest.schema.json")).unwrap()).unwrap();
    let schema = jsonschema::validator_for(&schema).unwrap();
    for name in ["image-classifier", "detector-yolov8", "detector-yolov5"] {
        let m = json(&format!("{name}.manifest.json"));
        let errors: Vec<String> = schema.iter_errors(&m).map(|e| format!("{e} at {}", e.instance_path())).collect();
        assert!(errors.is_empty(), "{name}: {errors:?}");
    }
    let good = json("detector-yolov8.manifest.json");
    let broken: Vec<(&str, Value)> = vec![
        ("/preprocessing/resize/mode", Value::from("cover")),
        ("/preprocessing/filter", Value::from("lanczos")),
        ("/preprocessing/resize/fill", Value::from(256)),
        ("/detection/head", Value::from("ssd")),
        ("/task", Value::from("regression")),
    ];
    for (pointer, value) in broken {
        let mut m = good.clone();
        set(&mut m, pointer, value.clone());
        assert!(!schema.is_valid(&m), "the schema accepts {pointer} = {value}");
        assert!(edgeserve::Manifest::from_json(&m.to_string()).is_err(), "edgeserve accepts {pointer} = {value}");
    }
}

/// A fixture image as the boundary's JSON stand-in of `{ data, width, height, channels }`.
fn image_json(file: &str) -> Value {
    let (data, width, height, channels) = image(file);
    serde_json::json!({ "data": data, "width": width, "height": height, "channels": channels })
}

#[test]
fn a_batch_and_a_stream_of_images_give_what_one_image_at_a_time_gives() {
    use edgeserve::image::OwnedImage;
    use edgeserve::serve::stream::{StreamBatcher, StreamItem};
    let golden = json("image-classifier.golden.json");
    let cases = golden["cases"].as_array().unwrap();
    let files: Vec<&str> = cases.iter().map(|c| c["image"].as_str().unwrap()).collect();
    let onnx = std::fs::read(fixture("image-classifier.onnx")).unwrap();
    let manifest: Value = json("image-classifier.manifest.json");
    let model = edgeserve::wasm::Model::from_bytes(onnx, Some(manifest)).unwrap();
    // A batch, in chunks of 3: images of any size, run together on the batch dimension.
    let batch = Value::Array(files.iter().map(|f| image_json(f)).collect());
    let result = model.predict_batch(batch.clone(), Some(serde_json::json!({ "chunkSize": 3 }))).unwrap();
    assert_eq!(result.rows(), files.len());
    let scores = result.scores();
    for (i, case) in cases.iter().enumerate() {
        let want: Vec<f32> = case["scores"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap() as f32).collect();
        assert!(max_abs_diff(&scores[i * 3..i * 3 + 3], &want) <= 1e-3, "{}", case["image"]);
        assert_eq!(result.labels()[i], case["label"].as_str().unwrap());
    }
    // A bad image in a batch fails it, naming the image.
    let mut bad = batch.clone();
    bad[2]["channels"] = Value::from(2);
    let Err(e) = model.predict_batch(bad, None) else { panic!("a bad image in a batch is refused") };
    assert_eq!(e.code(), "BAD_INPUT");
    assert!(e.to_string().starts_with("rows[2]: the image's channels are not a count"), "{e}");
    // A stream: a bad image gets its own error, the others their predictions.
    let mut core = load("image-classifier");
    let mut stream = StreamBatcher::new(8).unwrap();
    let owned = |f: &str| {
        let (data, width, height, channels) = image(f);
        OwnedImage { data, width, height, channels }
    };
    stream.push(Ok(StreamItem::Image(owned(files[0]))));
    stream.push(Ok(StreamItem::Image(OwnedImage { data: vec![0; 5], width: 2, height: 2, channels: 3 })));
    stream.push(Ok(StreamItem::Image(owned(files[1]))));
    stream.push(Ok(StreamItem::Row(vec![0.0; 3])));
    let out = stream.flush(&mut core);
    assert_eq!(out.len(), 4);
    for (o, case) in [(&out[0], &cases[0]), (&out[2], &cases[1])] {
        let Ok(Prediction::Class { label, .. }) = &o.result else { panic!("{:?}", o.result) };
        assert_eq!(label, case["label"].as_str().unwrap());
    }
    let e = out[1].result.clone().unwrap_err();
    assert!(e.to_string().starts_with("rows[1]: the image's data has the wrong length"), "{e}");
    assert_eq!(out[3].result.clone().unwrap_err().code(), "BAD_INPUT");
}

#[test]
fn a_regression_on_imagenets_preprocessing_gives_onnxruntimes_value() {
    // The mean of the tensor after a resize of the shorter side to 256, a centre crop of 224 and
    // ImageNet's normalisation: the preprocessing of most classifiers, checked as a whole.
    let mut model = load("image-mean");
    for case in json("image-mean.golden.json")["cases"].as_array().unwrap() {
        let (data, w, h, c) = image(case["image"].as_str().unwrap());
        let timed = model.predict_image(&Pixels::new(&data, w, h, c).unwrap()).unwrap();
        let Prediction::Values { values } = timed.prediction else { panic!("values") };
        let want = case["values"][0].as_f64().unwrap() as f32;
        // Every value within 1 of 255 of OpenCV's (the bilinear resize), so the mean within one
        // step of the normalisation, 1 / (255 * 0.224).
        assert!((values[0] - want).abs() <= 1.0 / (255.0 * 0.224), "{}: {} vs {want}", case["image"], values[0]);
    }
}
