//! Latency first: benchmark every model of a set on this device, then choose the most accurate
//! model whose measured latency percentile fits a budget (or, when none fits, the fastest).
//!
//! A small model predicts in tens of microseconds while a browser's clock may tick in 100 us
//! steps, so each sample times a block of calls long enough for the clock (at least 20 ticks)
//! and counts the block's mean; the percentiles are over those samples.

use serde::Serialize;

use crate::error::{Error, Result};
use crate::latency::{LatencyHistogram, Stopwatch};
use crate::model::LoadedModel;

/// Most samples a benchmark takes per model.
pub const MAX_RUNS: usize = 100_000;

/// One model's figures on this device.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Measurement {
    pub name: String,
    /// Held-out accuracy from the manifest (null for a regression).
    pub accuracy: Option<f64>,
    /// Milliseconds per prediction.
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub mean: f64,
    /// Samples taken.
    pub runs: usize,
    /// Predictions timed together in each sample (1 where the clock is fine enough).
    pub calls_per_sample: usize,
    /// The clock's resolution as measured, in milliseconds.
    pub clock_resolution_ms: f64,
    #[serde(skip)]
    histogram: LatencyHistogram,
}

impl Measurement {
    /// The latency at `percentile` (0 < p <= 100), in milliseconds.
    pub fn at(&self, percentile: f64) -> f64 {
        self.histogram.percentile(percentile)
    }
}

/// The smallest step the clock takes, in milliseconds (the smallest non-zero difference seen
/// between consecutive readings).
pub fn clock_resolution_ms() -> f64 {
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let start = Stopwatch::start();
        let mut last = 0.0;
        for _ in 0..1_000_000 {
            let now = start.elapsed_ms();
            if now > last {
                best = best.min(now - last);
                break;
            }
            last = now;
        }
    }
    if best.is_finite() {
        best
    } else {
        1.0
    }
}

/// A raw row inside the manifest's range, the same every time (a fixed linear-congruential
/// sequence), so every model is timed on the same kind of input.
fn benchmark_row(model: &LoadedModel) -> Vec<f32> {
    let [lo, hi] = model.manifest().preprocessing.raw_range().unwrap_or([0.0, 1.0]);
    let mut state: u32 = 0x2545_f491;
    (0..model.width())
        .map(|_| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            lo + (hi - lo) * (state >> 8) as f32 / (1u32 << 24) as f32
        })
        .collect()
}

/// The text a text model is timed on: one sentence of everyday length (about 20 tokens).
pub const BENCHMARK_TEXT: &str = "The quick brown fox jumps over the lazy dog while the children watch from the porch.";

/// One prediction of the benchmark's input: [`BENCHMARK_TEXT`] for a text model, else `row`.
fn predict_once(model: &mut LoadedModel, row: &[f32]) -> Result<()> {
    if model.is_text() {
        let mut decoded = crate::model::Predictions::default();
        model.decode_texts(&[BENCHMARK_TEXT], None, &mut decoded)
    } else {
        model.predict_unrecorded(row).map(|_| ())
    }
}

/// Times `runs` samples of predictions of one input (a row, or [`BENCHMARK_TEXT`] for a text
/// model) after a warm-up, without recording them in the model's latency histograms.
pub fn benchmark(model: &mut LoadedModel, runs: usize, clock_resolution_ms: f64) -> Result<Measurement> {
    if runs == 0 || runs > MAX_RUNS {
        return Err(Error::bad_input(
            "runs is out of range",
            format!("a whole number from 1 to {MAX_RUNS}"),
            runs.to_string(),
        ));
    }
    model.require_task()?;
    let row = if model.is_text() { vec![] } else { benchmark_row(model) };
    // Warm up, and estimate one call's time from a block long enough for the clock.
    let mut calls = 1usize;
    let per_call = loop {
        let clock = Stopwatch::start();
        for _ in 0..calls {
            predict_once(model, &row)?;
        }
        let ms = clock.elapsed_ms();
        if ms >= 20.0 * clock_resolution_ms || calls >= 1 << 16 {
            break ms / calls as f64;
        }
        calls *= 2;
    };
    let calls_per_sample = ((20.0 * clock_resolution_ms / per_call.max(1e-9)).ceil() as usize).clamp(1, 1 << 16);
    let mut histogram = LatencyHistogram::default();
    for _ in 0..runs {
        let clock = Stopwatch::start();
        for _ in 0..calls_per_sample {
            predict_once(model, &row)?;
        }
        histogram.record(clock.elapsed_ms() / calls_per_sample as f64, 1);
    }
    let stats = histogram.stats();
    Ok(Measurement {
        name: model.manifest().name.clone(),
        accuracy: model.manifest().metrics.as_ref().and_then(|m| m.accuracy),
        p50: stats.p50,
        p95: stats.p95,
        p99: stats.p99,
        mean: stats.mean,
        runs,
        calls_per_sample,
        clock_resolution_ms,
        histogram,
    })
}

/// The model a budget picks, and why.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Choice {
    /// Position of the chosen model in the measurements.
    #[serde(skip)]
    pub position: usize,
    pub name: String,
    pub within_budget: bool,
    pub reason: String,
    pub measurements: Vec<Measurement>,
}

/// The most accurate model whose latency at `percentile` fits `budget_ms`; when none fits, the
/// fastest at that percentile, with `within_budget: false`. Ties in accuracy go to the faster, ties
/// in latency (a coarse clock makes them common) to the more accurate, and full ties to the model
/// measured first.
pub fn choose(measurements: &[Measurement], budget_ms: f64, percentile: f64) -> Result<Choice> {
    if measurements.is_empty() {
        return Err(Error::bad_input("choose() has no measurements", "a benchmark() first", "none"));
    }
    if !(budget_ms.is_finite() && budget_ms > 0.0) {
        return Err(Error::bad_input(
            "budgetMs is out of range",
            "a positive number of milliseconds",
            budget_ms.to_string(),
        ));
    }
    if !(percentile > 0.0 && percentile <= 100.0) {
        return Err(Error::bad_input(
            "percentile is out of range",
            "a number above 0 and at most 100",
            percentile.to_string(),
        ));
    }
    let p = |m: &Measurement| m.at(percentile);
    let fmt = |ms: f64| format!("{:.4} ms", ms);
    let accuracy = |m: &Measurement| m.accuracy.unwrap_or(f64::NEG_INFINITY);
    let fitting = measurements
        .iter()
        .enumerate()
        .filter(|(_, m)| p(m) <= budget_ms)
        .min_by(|(_, a), (_, b)| accuracy(b).total_cmp(&accuracy(a)).then(p(a).total_cmp(&p(b))));
    let (position, within_budget, reason) = match fitting {
        Some((i, m)) => (
            i,
            true,
            format!(
                "{} is the most accurate model ({}) whose p{percentile} ({}) fits the budget of {}",
                m.name,
                m.accuracy.map(|a| format!("accuracy {:.2}%", a * 100.0)).unwrap_or("no accuracy".into()),
                fmt(p(m)),
                fmt(budget_ms)
            ),
        ),
        None => {
            let (i, m) = measurements
                .iter()
                .enumerate()
                .min_by(|(_, a), (_, b)| p(a).total_cmp(&p(b)).then(accuracy(b).total_cmp(&accuracy(a))))
                .unwrap_or((0, &measurements[0]));
            (
                i,
                false,
                format!(
                    "no model's p{percentile} fits the budget of {}: {} is the fastest ({})",
                    fmt(budget_ms),
                    m.name,
                    fmt(p(m))
                ),
            )
        }
    };
    Ok(Choice {
        position,
        name: measurements[position].name.clone(),
        within_budget,
        reason,
        measurements: measurements.to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measured(name: &str, accuracy: f64, ms: f64) -> Measurement {
        let mut histogram = LatencyHistogram::default();
        histogram.record(ms, 100);
        Measurement {
            name: name.into(),
            accuracy: Some(accuracy),
            p50: ms,
            p95: ms,
            p99: ms,
            mean: ms,
            runs: 100,
            calls_per_sample: 1,
            clock_resolution_ms: 0.005,
            histogram,
        }
    }

    #[test]
    fn picks_the_most_accurate_that_fits_else_the_fastest() -> Result<()> {
        let set = [measured("accurate", 0.98, 0.040), measured("fast", 0.96, 0.020)];
        let c = choose(&set, 1.0, 95.0)?;
        assert_eq!((c.name.as_str(), c.within_budget), ("accurate", true));
        let c = choose(&set, 0.030, 95.0)?;
        assert_eq!((c.name.as_str(), c.within_budget), ("fast", true));
        let c = choose(&set, 0.010, 99.0)?;
        assert_eq!((c.name.as_str(), c.within_budget), ("fast", false));
        assert!(
            c.reason.starts_with("no model's p99 fits the budget of 0.0100 ms: fast is the fastest"),
            "{}",
            c.reason
        );
        let tied = [measured("fast", 0.96, 0.020), measured("accurate", 0.98, 0.020)];
        let c = choose(&tied, 0.010, 95.0)?;
        assert_eq!((c.name.as_str(), c.within_budget), ("accurate", false), "equally fast: the more accurate");
        let twins = [measured("first", 0.98, 0.020), measured("second", 0.98, 0.020)];
        for (budget, within) in [(1.0, true), (0.010, false)] {
            let c = choose(&twins, budget, 95.0)?;
            assert_eq!((c.name.as_str(), c.within_budget), ("first", within), "a full tie: the first measured");
        }
        assert!(choose(&set, -1.0, 95.0).is_err());
        assert!(choose(&set, 1.0, 0.0).is_err());
        assert!(choose(&[], 1.0, 95.0).is_err());
        Ok(())
    }
}
