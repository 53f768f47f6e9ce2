//! Real-time (on-demand) serving: one prediction per call, with its latency.

use serde::Serialize;

use crate::error::Result;
use crate::latency::{Mode, Stopwatch};
use crate::model::{LoadedModel, Prediction, Predictions};

/// A prediction with the time it took.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Timed {
    #[serde(flatten)]
    pub prediction: Prediction,
    /// Milliseconds from the raw input to the decoded prediction (preprocessing, inference,
    /// decoding), on the platform's high-resolution clock.
    #[serde(rename = "latencyMs")]
    pub latency_ms: f64,
}

impl LoadedModel {
    /// Predicts one row of raw features (`width()` values), with its latency. Bad input (wrong
    /// length, values that are not finite or outside the manifest's raw range) is an error
    /// that names the problem; the model is unharmed and keeps serving.
    pub fn predict(&mut self, raw: &[f32]) -> Result<Timed> {
        let timed = self.predict_unrecorded(raw)?;
        self.record(Mode::Realtime, timed.latency_ms, 1);
        Ok(timed)
    }

    /// [`LoadedModel::predict`] without recording the latency (for benchmarks).
    pub fn predict_unrecorded(&mut self, raw: &[f32]) -> Result<Timed> {
        self.require_task()?;
        let clock = Stopwatch::start();
        let (rows, outputs) = self.run_raw_rows(raw, None)?;
        let mut decoded = Predictions::default();
        self.decode_rows(&outputs, rows, &mut decoded)?;
        let prediction = decoded.into_first(self.labels());
        Ok(Timed { prediction, latency_ms: clock.elapsed_ms() })
    }
}
