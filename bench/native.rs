//! The native reference of the benchmark: the same models, through edgeserve's core natively
//! (`LoadedModel::from_bytes` + `run`: the row executor for graphs it covers, else tract on
//! this CPU with its native SIMD), the same
//! figures as bench/measure.mjs (latency p50/p95/p99 at batch 1, rows per second per batch size)
//! and the time to load (parse + optimize) the model. Prints JSON.
//!
//!   cargo run --release --example bench-native -- [models dir] [--smoke] [--only a,b]

use std::time::Instant;

use edgeserve::tensor::{NamedTensor, TensorData};
use edgeserve::LoadedModel;
use serde_json::{json, Value};

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[i.clamp(1, sorted.len()) - 1]
}

fn batch(meta: &Value, inputs: &[Vec<u8>], n: usize) -> Vec<NamedTensor> {
    meta["inputs"]
        .as_array()
        .into_iter()
        .flatten()
        .zip(inputs)
        .map(|(spec, raw)| {
            let mut shape: Vec<usize> =
                spec["shape"].as_array().into_iter().flatten().filter_map(Value::as_u64).map(|d| d as usize).collect();
            shape[0] = n;
            let bytes: Vec<u8> = raw.repeat(n);
            let data = match spec["dtype"].as_str() {
                Some("int64") => TensorData::I64(
                    bytes.chunks_exact(8).map(|c| i64::from_le_bytes(c.try_into().unwrap_or([0; 8]))).collect(),
                ),
                _ => TensorData::F32(
                    bytes.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap_or([0; 4]))).collect(),
                ),
            };
            NamedTensor { name: spec["name"].as_str().unwrap_or_default().to_owned(), shape, data }
        })
        .collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let smoke = args.iter().any(|a| a == "--smoke");
    let only: Option<Vec<String>> = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1))
        .map(|s| s.split(',').map(str::to_owned).collect());
    let dir = args
        .iter()
        .find(|a| !a.starts_with("--") && only.as_ref().is_none_or(|o| o.join(",") != **a))
        .cloned()
        .unwrap_or_else(|| "target/bench-models".into());
    let index: Value = serde_json::from_str(&std::fs::read_to_string(format!("{dir}/index.json"))?)?;
    let mut results = serde_json::Map::new();
    for entry in index["models"].as_array().into_iter().flatten() {
        let name = entry["name"].as_str().or(entry.as_str()).unwrap_or_default().to_owned();
        if only.as_ref().is_some_and(|o| !o.contains(&name))
            || (smoke && !["digits-accurate", "cnn-small"].contains(&name.as_str()))
        {
            continue;
        }
        let meta: Value = serde_json::from_str(&std::fs::read_to_string(format!("{dir}/{name}/meta.json"))?)?;
        let inputs: Vec<Vec<u8>> = meta["inputs"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|i| std::fs::read(format!("{dir}/{name}/{}", i["file"].as_str().unwrap_or_default())))
            .collect::<Result<_, _>>()?;
        let bytes = std::fs::read(format!("{dir}/{name}/model.onnx"))?;
        let t = Instant::now();
        let mut model = LoadedModel::from_bytes(bytes, None)?;
        let load_ms = t.elapsed().as_secs_f64() * 1e3;
        let big = meta["flops"].as_f64().unwrap_or(0.0) > 1e8;
        let (runs, warmup, batches): (usize, usize, &[usize]) = match (smoke, big) {
            (true, _) => (50, 5, &[1, 8]),
            (false, true) => (60, 5, &[1, 8]),
            (false, false) => (2000, 200, &[1, 32, 256]),
        };
        let one = batch(&meta, &inputs, 1);
        for _ in 0..warmup {
            model.run(one.clone())?;
        }
        let mut samples = Vec::with_capacity(runs);
        for _ in 0..runs {
            let input = one.clone();
            let t = Instant::now();
            model.run(input)?;
            samples.push(t.elapsed().as_secs_f64() * 1e3);
        }
        samples.sort_by(f64::total_cmp);
        let mut rows = serde_json::Map::new();
        for &n in batches {
            let b = batch(&meta, &inputs, n);
            model.run(b.clone())?;
            let mut rates: Vec<f64> = (0..3)
                .map(|_| {
                    let input = b.clone();
                    let t = Instant::now();
                    model.run(input).map(|_| n as f64 / t.elapsed().as_secs_f64())
                })
                .collect::<Result<_, _>>()?;
            rates.sort_by(f64::total_cmp);
            rows.insert(n.to_string(), json!(rates[1]));
        }
        let latency = json!({ "n": runs, "p50": percentile(&samples, 50.0), "p95": percentile(&samples, 95.0), "p99": percentile(&samples, 99.0), "mean": samples.iter().sum::<f64>() / runs as f64 });
        eprintln!(
            "{name}: native p50 {:.4} ms, p99 {:.4} ms, load {load_ms:.1} ms",
            latency["p50"].as_f64().unwrap_or(0.0),
            latency["p99"].as_f64().unwrap_or(0.0)
        );
        results.insert(
            name,
            json!({ "tract (native)": { "latencyMs": latency, "rowsPerSecond": rows, "loadMs": load_ms } }),
        );
    }
    let environment = json!({ "runtime": format!("native {} (tract picks its SIMD kernels, e.g. AVX2+FMA, at run time)", std::env::consts::ARCH), "smoke": smoke });
    println!("{}", serde_json::to_string_pretty(&json!({ "environment": environment, "models": results }))?);
    Ok(())
}
