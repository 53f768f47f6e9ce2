//! The command line (`--features cli`), run as a user runs it: `edgeserve pack` on the shipped
//! digits model and on a CNN fixture, `edgeserve predict` on the held-out digits against the
//! core's own batch predictions, `edgeserve inspect`; and what each says when it is given
//! something wrong.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use edgeserve::serve::csv::{self as table, LabelColumn};
use edgeserve::tensor::{NamedTensor, TensorData};
use edgeserve::{LoadedModel, Package};
use serde_json::Value;

fn edgeserve(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_edgeserve")).args(args).output().expect("the edgeserve binary runs")
}

fn ok(args: &[&str]) -> String {
    let out = edgeserve(args);
    assert!(out.status.success(), "edgeserve {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap() + &String::from_utf8_lossy(&out.stderr)
}

fn fails(args: &[&str]) -> String {
    let out = edgeserve(args);
    assert!(!out.status.success(), "edgeserve {args:?} succeeded");
    assert!(out.stdout.is_empty() || !String::from_utf8_lossy(&out.stdout).contains("panicked"));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.starts_with("edgeserve: "), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

/// The arguments of `edgeserve predict --model M --input I --output O`, then `more`.
fn predict_args<'a>(model: &'a Path, input: &'a Path, output: &'a Path, more: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "predict",
        "--model",
        model.to_str().unwrap(),
        "--input",
        input.to_str().unwrap(),
        "--output",
        output.to_str().unwrap(),
    ];
    args.extend_from_slice(more);
    args
}

/// The JSON lines of a file.
fn json_lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("edgeserve-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn schema() -> jsonschema::Validator {
    jsonschema::validator_for(&json(&common::root().join("schema/manifest.schema.json"))).unwrap()
}

fn load_package(dir: &Path) -> LoadedModel {
    let manifest = std::fs::read_to_string(dir.join("manifest.json")).unwrap();
    LoadedModel::load(Package::from_parts(&manifest, std::fs::read(dir.join("model.onnx")).unwrap()).unwrap()).unwrap()
}

/// Whether python3 has onnxruntime (make test installs it; golden.json needs it).
fn has_onnxruntime() -> bool {
    Command::new("python3").args(["-c", "import onnxruntime, numpy"]).status().is_ok_and(|s| s.success())
}

/// Packs the shipped digits-accurate graph under another name, as its maker would.
fn pack_digits(out: &Path) -> String {
    let dir = out.parent().unwrap();
    std::fs::write(dir.join("labels.txt"), (0..10).map(|i| format!("{i}\n")).collect::<String>()).unwrap();
    let onnx = common::package_dir("digits-accurate").join("model.onnx");
    ok(&[
        "pack",
        onnx.to_str().unwrap(),
        "--name",
        "my-digits",
        "--labels",
        dir.join("labels.txt").to_str().unwrap(),
        "--preprocess",
        r#"{"type":"affine","scale":0.0625,"offset":0,"range":[0,16]}"#,
        "--out",
        out.to_str().unwrap(),
    ])
}

#[test]
fn pack_makes_the_package_the_training_script_made() {
    let dir = temp("pack-digits");
    let out = dir.join("my-digits");
    let said = pack_digits(&out);
    assert!(said.contains("task: classification; inputs X: float32 [N, 64]; outputs label: int64 [N]"), "{said}");
    let made = json(&out.join("manifest.json"));
    let errors: Vec<String> = schema().iter_errors(&made).map(|e| format!("{e} at {}", e.instance_path())).collect();
    assert!(errors.is_empty(), "{errors:?}");
    let shipped = json(&common::package_dir("digits-accurate").join("manifest.json"));
    assert_eq!(made["name"], "my-digits");
    // What the graph and its maker say is what the training script wrote; the lean forms are
    // the same bytes (`make models-nnef` writes the shipped ones).
    for field in ["task", "inputs", "outputs", "labels", "preprocessing", "sha256", "nnef", "rows"] {
        assert_eq!(made[field], shipped[field], "{field}");
    }
    for file in ["model.onnx", "model.nnef.tar", "model.rows"] {
        assert_eq!(
            std::fs::read(out.join(file)).unwrap(),
            std::fs::read(common::package_dir("digits-accurate").join(file)).unwrap(),
            "{file}"
        );
    }
    // golden.json: onnxruntime's outputs, which the package reproduces.
    assert!(has_onnxruntime(), "python3 has no onnxruntime: `make setup-python` installs it");
    assert!(said.contains("golden.json: 8 inputs with onnxruntime"), "{said}");
    let golden = json(&out.join("golden.json"));
    assert_eq!(golden["sha256"], shipped["sha256"]);
    let mut model = load_package(&out);
    let cases = golden["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 8);
    for case in cases {
        let input: Vec<f32> = serde_json::from_value(case["input"].clone()).unwrap();
        assert!(input.iter().all(|v| (0.0..=16.0).contains(v)), "inputs are drawn in the preprocessing's range");
        let got = model.predict(&input).unwrap();
        let edgeserve::Prediction::Class { index, scores, .. } = got.prediction else { panic!("a class") };
        assert_eq!(index as u64, case["expected"]["index"].as_u64().unwrap());
        let expected: Vec<f32> = serde_json::from_value(case["expected"]["scores"].clone()).unwrap();
        for (a, b) in scores.iter().zip(&expected) {
            assert!((a - b).abs() <= common::TOLERANCE, "{a} against {b}");
        }
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn pack_makes_a_run_only_package_of_a_cnn_with_golden_run_outputs() {
    let dir = temp("pack-cnn");
    let out = dir.join("convs");
    let onnx = common::root().join("tests/fixtures/onnx/convs.onnx");
    let said = ok(&["pack", onnx.to_str().unwrap(), "--name", "convs", "--out", out.to_str().unwrap()]);
    assert!(said.contains("task: none (run() only)"), "{said}");
    assert!(said.contains("no model.rows"), "{said}");
    let made = json(&out.join("manifest.json"));
    assert!(schema().is_valid(&made), "{made}");
    assert!(made.get("task").is_none() && made.get("labels").is_none());
    assert!(!out.join("model.rows").exists());
    let golden = json(&out.join("golden.json"));
    let mut model = load_package(&out);
    for case in golden["cases"].as_array().unwrap() {
        let inputs: Vec<NamedTensor> = case["inputs"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(name, t)| NamedTensor {
                name: name.clone(),
                shape: serde_json::from_value(t["shape"].clone()).unwrap(),
                data: TensorData::F32(serde_json::from_value(t["data"].clone()).unwrap()),
            })
            .collect();
        for output in model.run(inputs).unwrap() {
            let expected: Vec<f32> = serde_json::from_value(case["outputs"][&output.name]["data"].clone()).unwrap();
            let got = output.data.as_f32().unwrap();
            assert_eq!(got.len(), expected.len(), "{}", output.name);
            for (a, b) in got.iter().zip(&expected) {
                assert!((a - b).abs() <= 1e-4 * (1.0 + b.abs()), "{}: {a} against {b}", output.name);
            }
        }
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn pack_says_what_is_wrong_and_writes_nothing() {
    let dir = temp("pack-wrong");
    let digits = common::package_dir("digits-accurate").join("model.onnx");
    let convs = common::root().join("tests/fixtures/onnx/convs.onnx");
    let out = dir.join("out");
    let out_s = out.to_str().unwrap();
    let err = fails(&["pack", convs.to_str().unwrap(), "--name", "c", "--task", "classification", "--out", out_s]);
    assert!(err.contains("'c' cannot be packaged as a classifier: expected labels"), "{err}");
    let err = fails(&[
        "pack",
        digits.to_str().unwrap(),
        "--name",
        "d",
        "--preprocess",
        "{\"type\":\"zoom\"}",
        "--out",
        out_s,
    ]);
    assert!(err.contains("--preprocess: expected the manifest's preprocessing as JSON"), "{err}");
    let err = fails(&["pack", digits.to_str().unwrap(), "--name", "Not A Name", "--out", out_s]);
    assert!(err.contains("BAD_MANIFEST") && err.contains("`name`"), "{err}");
    let err = fails(&["pack", dir.join("missing.onnx").to_str().unwrap(), "--name", "m", "--out", out_s]);
    assert!(err.contains("missing.onnx"), "{err}");
    assert!(!out.exists(), "nothing was written");
    // A directory that holds files is not written over without --force.
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    let err = fails(&["pack", digits.to_str().unwrap(), "--name", "d", "--out", out_s]);
    assert!(err.contains("not empty"), "{err}");
    // Without onnxruntime, the package is made and says it has no golden.json.
    let said = ok(&[
        "pack",
        digits.to_str().unwrap(),
        "--name",
        "d",
        "--out",
        out_s,
        "--force",
        "--python",
        "/nonexistent/python",
    ]);
    assert!(said.contains("golden.json: not written: /nonexistent/python cannot import onnxruntime"), "{said}");
    assert!(out.join("manifest.json").exists() && !out.join("golden.json").exists());
    std::fs::remove_dir_all(dir).unwrap();
}

/// The held-out digits, predicted by the core in one batch, as CSV.
fn core_csv(model_dir: &Path) -> String {
    let text = std::fs::read_to_string(common::root().join("www/data/digits-test.csv")).unwrap();
    let mut model = load_package(model_dir);
    let t = table::parse(&text, 64, Some(&LabelColumn::Name("label".into()))).unwrap();
    let out = model.predict_batch(t.features, 1000).unwrap();
    table::to_csv(&out.predictions, model.labels(), t.truth.as_deref()).unwrap()
}

#[test]
fn predict_gives_the_core_s_batch_predictions_on_any_number_of_threads_and_chunks() {
    let dir = temp("predict");
    let package = common::package_dir("digits-accurate");
    let input = common::root().join("www/data/digits-test.csv");
    let expected = core_csv(&package);
    for (threads, chunk) in [("1", "1024"), ("2", "7"), ("3", "450")] {
        let output = dir.join(format!("out-{threads}-{chunk}.csv"));
        let said = ok(&predict_args(
            &package,
            &input,
            &output,
            &["--label-column", "label", "--threads", threads, "--chunk", chunk],
        ));
        assert!(said.contains("450 rows in ") && said.contains("rows/s"), "{said}");
        let accuracy = json(&package.join("manifest.json"))["metrics"]["accuracy"].as_f64().unwrap();
        assert!(said.contains(&format!("accuracy {accuracy:.4}")), "{said}");
        assert_eq!(std::fs::read_to_string(&output).unwrap(), expected, "{threads} threads, chunks of {chunk}");
    }

    // JSON lines in and out: the same classes and scores.
    let text = std::fs::read_to_string(&input).unwrap();
    let rows = table::parse(&text, 64, Some(&LabelColumn::Name("label".into()))).unwrap();
    let lines: String = rows.features.chunks(64).map(|r| serde_json::to_string(r).unwrap() + "\n").collect();
    std::fs::write(dir.join("in.jsonl"), lines).unwrap();
    let output = dir.join("out.jsonl");
    ok(&predict_args(&package, &dir.join("in.jsonl"), &output, &[]));
    let got = json_lines(&output);
    let csv_rows: Vec<Vec<String>> =
        expected.lines().skip(1).map(|l| l.split(',').map(str::to_owned).collect()).collect();
    assert_eq!(got.len(), 450);
    for (line, row) in got.iter().zip(&csv_rows) {
        assert_eq!(line["row"].to_string(), row[0]);
        assert_eq!(line["label"].as_str().unwrap(), row[2]);
        let scores: Vec<f32> = serde_json::from_value(line["scores"].clone()).unwrap();
        let csv_scores: Vec<f32> = row[4..].iter().map(|s| s.parse().unwrap()).collect();
        assert_eq!(scores, csv_scores);
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn predict_runs_a_text_model_on_json_lines_of_strings() {
    let dir = temp("predict-text");
    let package = common::root().join("tests/fixtures/text/sentiment");
    let texts = ["What a wonderful, happy day!", "This is terrible and sad.", "a line with \"quotes\" and é"];
    let lines: String = texts.iter().map(|t| serde_json::to_string(t).unwrap() + "\n").collect();
    std::fs::write(dir.join("in.jsonl"), lines).unwrap();
    let output = dir.join("out.jsonl");
    ok(&predict_args(&package, &dir.join("in.jsonl"), &output, &[]));
    let manifest = std::fs::read_to_string(package.join("manifest.json")).unwrap();
    let mut model = LoadedModel::from_text_files(
        std::fs::read(package.join("model.onnx")).unwrap(),
        &manifest,
        std::fs::read(package.join("tokenizer.json")).unwrap(),
    )
    .unwrap();
    let got = json_lines(&output);
    assert_eq!(got.len(), texts.len());
    for (line, text) in got.iter().zip(texts) {
        let edgeserve::Prediction::Class { label, scores, .. } = model.predict_text(text).unwrap().prediction else {
            panic!("a class")
        };
        assert_eq!(line["label"].as_str().unwrap(), label);
        let line_scores: Vec<f32> = serde_json::from_value(line["scores"].clone()).unwrap();
        for (a, b) in line_scores.iter().zip(&scores) {
            assert!((a - b).abs() <= 1e-6, "{text}: {a} against {b}");
        }
    }
    // CSV is for rows of numbers.
    let err = fails(&predict_args(&package, &dir.join("in.jsonl"), &output, &["--format", "csv"]));
    assert!(err.contains("a text model reads JSON lines"), "{err}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn predict_names_the_bad_line() {
    let dir = temp("predict-bad");
    let package = common::package_dir("digits-fast");
    let mut text = std::fs::read_to_string(common::root().join("www/data/digits-test.csv")).unwrap();
    text.push_str(&format!("{}x,3\n", "1,".repeat(63)));
    std::fs::write(dir.join("bad.csv"), &text).unwrap();
    let err = fails(&predict_args(&package, &dir.join("bad.csv"), &dir.join("out.csv"), &["--label-column", "label"]));
    assert!(err.contains("BAD_INPUT: CSV line 452, column \"p63\" is not a number"), "{err}");
    let err = fails(&predict_args(&package, &dir.join("none.csv"), &dir.join("o.csv"), &[]));
    assert!(err.contains("none.csv"), "{err}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn inspect_says_what_a_model_is_and_how_edgeserve_runs_it() {
    let said = ok(&["inspect", common::package_dir("digits-accurate").to_str().unwrap()]);
    assert!(said.contains("operators (15 nodes, 9 kinds): Add x3, MatMul x3"), "{said}");
    assert!(said.contains("input  X: float32 [N, 64]"), "{said}");
    assert!(said.contains("row executor: covers the graph"), "{said}");
    let report: Value = serde_json::from_str(&ok(&[
        "inspect",
        common::root().join("tests/fixtures/onnx/convs.onnx").to_str().unwrap(),
        "--json",
    ]))
    .unwrap();
    assert_eq!(report["edgeserve"]["loads"], true);
    assert_eq!(report["run"]["engine"], "tract");
    assert!(report["run"]["rowExecutor"].as_str().unwrap().contains("Conv"), "{report}");
    let conv = report["operators"].as_array().unwrap().iter().find(|o| o["op"] == "Conv").unwrap();
    assert_eq!(conv["count"], 5);
    // A file that is no model.
    let dir = temp("inspect");
    std::fs::write(dir.join("junk.onnx"), b"not a model").unwrap();
    let err = fails(&["inspect", dir.join("junk.onnx").to_str().unwrap()]);
    assert!(err.contains("MODEL_LOAD"), "{err}");
    std::fs::remove_dir_all(dir).unwrap();
}
