//! The serving modes natively, through the boundary where they have one: batch (and CSV),
//! stream micro-batches, latency statistics and the latency-budget choice.
#![cfg(not(target_family = "wasm"))]

mod common;

use common::*;
use edgeserve::serve::stream::{StreamBatcher, StreamItem};
use edgeserve::wasm::{Model, ModelSet};
use edgeserve::{LoadedModel, Prediction};
use serde_json::{json, Value};

fn test_csv() -> String {
    std::fs::read_to_string(root().join("www/data/digits-test.csv")).unwrap()
}

/// The rows (64 raw features each) and labels of the shipped test split.
fn test_rows() -> (Vec<Vec<f32>>, Vec<String>) {
    test_csv()
        .lines()
        .skip(1)
        .map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            (cells[..64].iter().map(|c| c.parse().unwrap()).collect(), cells[64].to_owned())
        })
        .unzip()
}

#[test]
fn batch_equals_row_by_row_predictions() {
    let (rows, _) = test_rows();
    for name in Model::names() {
        let mut model = Model::load(&name).unwrap();
        for chunk in [1, 7, 256, 1000] {
            let result = model.predict_batch(json!(rows), Some(json!({ "chunkSize": chunk }))).unwrap();
            assert_eq!(result.rows(), rows.len());
            let scores = result.scores();
            assert_eq!(scores.len(), rows.len() * 10);
            for (i, row) in rows.iter().enumerate() {
                let one = model.predict(json!(row)).unwrap();
                assert_eq!(json!(result.indices()[i]), one["index"], "{name} row {i} chunk {chunk}");
                assert_eq!(json!(result.labels()[i]), one["label"]);
                let single: Vec<f32> = serde_json::from_value(one["scores"].clone()).unwrap();
                let d = max_abs_diff(&scores[i * 10..(i + 1) * 10], &single);
                assert!(d <= TOLERANCE, "{name} row {i}: batch and single scores differ by {d}");
            }
        }
    }
}

#[test]
fn a_flat_batch_is_the_same_as_an_array_of_rows() {
    let (rows, _) = test_rows();
    let flat: Vec<f32> = rows[..20].concat();
    let model = Model::default_model().unwrap();
    let a = model.predict_batch(json!(flat), None).unwrap();
    let b = model.predict_batch(json!(rows[..20]), None).unwrap();
    assert_eq!(a.indices(), b.indices());
    assert_eq!(a.scores(), b.scores());
}

#[test]
fn a_bad_row_fails_the_batch_naming_the_row() {
    let (rows, _) = test_rows();
    let model = Model::default_model().unwrap();
    let mut bad = json!(rows[..10]);
    bad[3][5] = json!("x");
    let err = model.predict_batch(bad, None).err().unwrap();
    assert_eq!(err.to_string(), "rows[3][5] is not a number: expected a number, got a string (\"x\")");
    let mut short = json!(rows[..10]);
    short[7] = json!(rows[0][..63]);
    let err = model.predict_batch(short, None).err().unwrap();
    assert_eq!(err.to_string(), "rows[7] has the wrong length: expected 64 raw features, got 63 values");
    let mut out_of_range = json!(rows[..300]);
    out_of_range[299][0] = json!(99);
    let err = model.predict_batch(out_of_range, None).err().unwrap();
    assert_eq!(
        err.to_string(),
        "rows[299][0] is outside the raw range of the model's features: expected values from 0 to 16, got 99"
    );
    let err = model.predict_batch(json!(vec![0.0; 65]), None).err().unwrap();
    assert_eq!(
        err.to_string(),
        "rows do not divide into whole rows: expected a multiple of 64 values (64 raw features per row), got 65 values"
    );
    let err = model.predict_batch(json!("rows"), None).err().unwrap();
    assert!(err.to_string().starts_with("rows is not a batch: expected a Float32Array of n * 64 values"), "{err}");
    let err = model.predict_batch(json!(rows[..2]), Some(json!({ "chunkSize": 0 }))).err().unwrap();
    assert_eq!(err.to_string(), "chunkSize is out of range: expected a whole number from 1 to 65536, got a number (0)");
    // The model still serves.
    assert_eq!(model.predict_batch(json!(rows[..2]), None).unwrap().rows(), 2);
}

#[test]
fn an_empty_batch_is_an_empty_result() {
    let model = Model::default_model().unwrap();
    let r = model.predict_batch(json!([]), None).unwrap();
    assert_eq!((r.rows(), r.indices().len(), r.scores().len()), (0, 0, 0));
}

#[test]
fn csv_with_labels_reproduces_the_manifest_accuracy() {
    let text = test_csv();
    for name in Model::names() {
        let model = Model::load(&name).unwrap();
        let r = model.predict_csv(&text, Some(json!({ "labelColumn": "label" }))).unwrap();
        let recorded = model.manifest().unwrap()["metrics"]["accuracy"].as_f64().unwrap();
        assert!((r.accuracy().unwrap() - recorded).abs() < 1e-6, "{name}: {:?} vs {recorded}", r.accuracy());
        let out = r.to_csv().unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 451);
        assert_eq!(
            lines[0],
            "row,truth,label,index,score_0,score_1,score_2,score_3,score_4,score_5,score_6,score_7,score_8,score_9"
        );
        assert!(lines[1].starts_with("0,1,"), "{}", lines[1]);
    }
}

#[test]
fn csv_variants_give_the_same_predictions() {
    let text = test_csv();
    let model = Model::default_model().unwrap();
    let reference = model.predict_csv(&text, Some(json!({ "labelColumn": "label" }))).unwrap();
    let no_header: String = text.lines().skip(1).map(|l| format!("{l}\n")).collect();
    let crlf_bom = format!("\u{feff}{}", text.replace('\n', "\r\n"));
    let features_only: String = text.lines().map(|l| format!("{}\n", l.rsplit_once(',').unwrap().0)).collect();
    for (what, csv, options) in [
        ("no header, label by index", no_header.as_str(), json!({ "labelColumn": 64 })),
        ("CRLF and BOM", crlf_bom.as_str(), json!({ "labelColumn": "label" })),
        ("features only", features_only.as_str(), json!({})),
    ] {
        let r = model.predict_csv(csv, Some(options)).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(r.indices(), reference.indices(), "{what}");
        if what != "features only" {
            assert_eq!(r.accuracy(), reference.accuracy(), "{what}");
        } else {
            assert_eq!(r.accuracy(), None);
        }
    }
}

#[test]
fn bad_csv_errors_name_the_line_and_column() {
    let text = test_csv();
    let model = Model::default_model().unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let cases: Vec<(String, Value, &str)> = vec![
        (text.clone(), json!({ "labelColumn": "truth" }), "CSV label column \"truth\" is not in the header"),
        (text.replace(",label\n", ",label,extra\n"), json!({ "labelColumn": "label" }), "CSV line 1 has the wrong number of feature columns: expected 64 features and the label column, got 65 features in 66 cells"),
        ({ lines[3] = lines[3].replacen(",", ",abc,", 1).replacen(",0,", ",", 1); lines.join("\n") }, json!({ "labelColumn": "label" }), "CSV line 4, column \"p1\" is not a number: expected a number, got \"abc\""),
        ({ let mut l: Vec<String> = text.lines().map(str::to_owned).collect(); l[10] = l[10].rsplit_once(',').unwrap().0.to_owned(); l.join("\n") }, json!({ "labelColumn": "label" }), "CSV line 11 has the wrong number of cells: expected 65 cells, like the first line, got 64 cells"),
        (text.lines().skip(1).collect::<Vec<_>>().join("\n"), json!({ "labelColumn": "label" }), "CSV label column \"label\" cannot be found"),
    ];
    for (csv, options, message) in cases {
        let err = model.predict_csv(&csv, Some(options)).err().unwrap();
        assert!(err.to_string().starts_with(message), "{err}\nwanted: {message}");
        assert_eq!(err.code(), "BAD_INPUT");
    }
}

#[test]
fn latency_counts_match_the_predictions_per_mode() {
    let (rows, _) = test_rows();
    let mut model = Model::load("digits-fast").unwrap();
    for row in &rows[..25] {
        model.predict(json!(row)).unwrap();
    }
    model.predict_batch(json!(rows[..100]), Some(json!({ "chunkSize": 32 }))).unwrap();
    let mut inner = LoadedModel::embedded("digits-fast").unwrap();
    let mut stream = StreamBatcher::new(8).unwrap();
    for row in &rows[..20] {
        stream.push(Ok(StreamItem::Row(row.clone())));
    }
    while stream.queued() > 0 {
        stream.flush(&mut inner);
    }
    let report = model.latency().unwrap();
    assert_eq!(report["realtime"]["count"], json!(25));
    assert_eq!(report["batch"]["count"], json!(100));
    assert_eq!(report["stream"]["count"], json!(0));
    assert_eq!(inner.latency().stream.count, 20);
    for mode in ["realtime", "batch"] {
        let s = &report[mode];
        let (p50, p95, p99, max) = (
            s["p50"].as_f64().unwrap(),
            s["p95"].as_f64().unwrap(),
            s["p99"].as_f64().unwrap(),
            s["max"].as_f64().unwrap(),
        );
        assert!(0.0 < p50 && p50 <= p95 && p95 <= p99 && p99 <= max * 1.001, "{mode}: {s}");
    }
    model.reset_latency().unwrap();
    assert_eq!(model.latency().unwrap()["realtime"]["count"], json!(0));
}

#[test]
fn stream_micro_batches_keep_order_and_isolate_bad_items() {
    let (rows, _) = test_rows();
    let mut model = LoadedModel::embedded("digits-accurate").unwrap();
    let mut stream = StreamBatcher::new(32).unwrap();
    let mut outputs = vec![];
    for i in 0..10_000usize {
        let row = rows[i % rows.len()].clone();
        if i == 5_000 {
            let mut bad = row;
            bad[3] = f32::NAN;
            stream.push(Ok(StreamItem::Row(bad)));
        } else {
            stream.push(Ok(StreamItem::Row(row)));
        }
        assert!(stream.queued() <= 32);
        if stream.is_full() {
            outputs.extend(stream.flush(&mut model));
        }
    }
    while stream.queued() > 0 {
        outputs.extend(stream.flush(&mut model));
    }
    assert_eq!(outputs.len(), 10_000);
    for (i, o) in outputs.iter().enumerate() {
        assert_eq!(o.index, i as u64);
        assert!(o.queued_ms >= 0.0 && o.latency_ms >= 0.0);
        if i == 5_000 {
            let e = o.result.as_ref().unwrap_err();
            assert_eq!(e.to_string(), "rows[5000][3] is not a finite number: expected finite numbers, got NaN");
            continue;
        }
        let Ok(Prediction::Class { index, scores, .. }) = &o.result else { panic!("item {i}: {:?}", o.result) };
        if i < 450 {
            let Prediction::Class { index: single, scores: s, .. } = model.predict(&rows[i]).unwrap().prediction else {
                panic!()
            };
            assert_eq!(*index, single);
            assert!(max_abs_diff(scores, &s) <= TOLERANCE);
        }
    }
}

#[test]
fn choose_by_budgets_derived_from_the_measurements() {
    let set = ModelSet::embedded().unwrap();
    let figures = set.benchmark(Some(json!({ "runs": 500 }))).unwrap();
    let p95 =
        |name: &str| figures.as_array().unwrap().iter().find(|m| m["name"] == name).unwrap()["p95"].as_f64().unwrap();
    let (fast, accurate) = (p95("digits-fast"), p95("digits-accurate"));
    eprintln!("p95 on this machine: digits-fast {fast} ms, digits-accurate {accurate} ms");
    // Budgets come from the measurements; which model is faster is measured too (natively, in a
    // test build, the two are close).
    let (faster, slower) = if fast <= accurate { ("digits-fast", accurate) } else { ("digits-accurate", fast) };
    let quickest = fast.min(accurate);

    let (model, choice) = set.choose(Some(json!({ "budgetMs": slower * 10.0, "percentile": 95 }))).unwrap();
    assert_eq!((choice["name"].as_str(), choice["withinBudget"].as_bool()), (Some("digits-accurate"), Some(true)));
    assert_eq!(model.name().unwrap(), "digits-accurate");

    if quickest < slower {
        let between = (quickest + slower) / 2.0;
        let (model, choice) = set.choose(Some(json!({ "budgetMs": between, "percentile": 95 }))).unwrap();
        assert_eq!((choice["name"].as_str(), choice["withinBudget"].as_bool()), (Some(faster), Some(true)), "{choice}");
        assert_eq!(model.name().unwrap(), faster);
    }

    let (_, choice) = set.choose(Some(json!({ "budgetMs": quickest / 4.0, "percentile": 95 }))).unwrap();
    assert_eq!((choice["name"].as_str(), choice["withinBudget"].as_bool()), (Some(faster), Some(false)), "{choice}");
    assert!(choice["reason"].as_str().unwrap().starts_with("no model's p95 fits the budget"), "{choice}");
    assert_eq!(choice["measurements"].as_array().unwrap().len(), 2);

    let err = set.choose(Some(json!({}))).err().unwrap();
    assert_eq!(
        err.to_string(),
        "choose() has no budgetMs: expected a latency budget in milliseconds, e.g. { budgetMs: 0.05 }, got none"
    );
    let fresh = ModelSet::embedded().unwrap();
    assert!(fresh.choose(Some(json!({ "budgetMs": 1.0 }))).is_err(), "choose needs a benchmark first");
}

#[test]
fn a_set_of_the_callers_models_shares_them_and_refuses_one_twice() {
    let mut set = ModelSet::new();
    let fast = Model::load("digits-fast").unwrap();
    set.add(&fast).unwrap();
    let err = set.add(&Model::load("digits-fast").unwrap()).unwrap_err();
    assert_eq!(err.code(), "BAD_INPUT");
    assert!(err.to_string().starts_with("model \"digits-fast\" is in the set already"), "{err}");
    drop(fast); // the set keeps its share
    set.add(&Model::load("digits-accurate").unwrap()).unwrap();
    assert_eq!(set.names().unwrap(), ["digits-fast", "digits-accurate"]);
    set.benchmark(Some(json!({ "runs": 20 }))).unwrap();
    let (model, choice) = set.choose(Some(json!({ "budgetMs": 1e6 }))).unwrap();
    assert_eq!((choice["name"].as_str(), model.name().unwrap().as_str()), (Some("digits-accurate"), "digits-accurate"));
    // Adding drops the figures: choose() wants a benchmark of the set as it is.
    let mut growing = ModelSet::new();
    growing.add(&Model::load("digits-fast").unwrap()).unwrap();
    growing.benchmark(Some(json!({ "runs": 5 }))).unwrap();
    assert!(growing.choose(Some(json!({ "budgetMs": 1e6 }))).is_ok());
    growing.add(&Model::load("digits-accurate").unwrap()).unwrap();
    assert!(growing.choose(Some(json!({ "budgetMs": 1e6 }))).is_err(), "choose needs a benchmark of the new set");
}
