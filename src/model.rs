//! A loaded model: a package, its engine, and how its outputs map to predictions. The serving
//! modes (`serve/`) add their methods to [`LoadedModel`].

use serde::Serialize;
use tract_onnx::prelude::{TValue, Tensor, TVec};

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::manifest::{Dim, Manifest, Role, Task};
use crate::package::{Package, Registry};

/// One prediction, decoded from the model's outputs as the manifest's roles say.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Prediction {
    /// A classification: the class, its index into the labels, and one score per class.
    Class { label: String, index: usize, scores: Vec<f32> },
    /// A regression: the values of every `value` output of one row, concatenated.
    Values { values: Vec<f32> },
}

/// Where the roles' outputs sit in the engine's output list.
#[derive(Debug, Clone)]
enum Decoder {
    Class { scores: usize, label: Option<usize>, labels: Vec<String> },
    Values { outputs: Vec<usize> },
}

/// A model package loaded into an engine, ready to predict.
#[derive(Debug)]
pub struct LoadedModel {
    package: Package,
    pub(crate) engine: Engine,
    decoder: Decoder,
    /// Per-row input dimensions (the input shape without the batch dimension).
    row_dims: Vec<usize>,
    width: usize,
    /// Preprocessed inputs, reused across predictions.
    pub(crate) scratch: Vec<f32>,
}

impl LoadedModel {
    /// Loads a package: parses and optimizes its graph and checks the manifest against it.
    pub fn load(package: Package) -> Result<LoadedModel> {
        let manifest = package.manifest();
        let engine = Engine::load(&manifest.name, package.onnx())?;
        manifest.check_against_graph(engine.inputs(), engine.outputs())?;
        let position = |name: &str| engine.outputs().iter().position(|o| o.name == name);
        let by_role = |role| manifest.output_with_role(role).and_then(|(_, o)| position(&o.name));
        let decoder = match manifest.task {
            Task::Classification => Decoder::Class {
                scores: by_role(Role::Scores).ok_or_else(|| Error::manifest(&manifest.name, "outputs", "a \"scores\" output", "none"))?,
                label: by_role(Role::Label),
                labels: manifest.labels.clone().unwrap_or_default(),
            },
            Task::Regression => Decoder::Values {
                outputs: manifest.outputs.iter().filter_map(|o| position(&o.name)).collect(),
            },
        };
        let row_dims: Vec<usize> = manifest.inputs[0]
            .shape
            .iter()
            .skip(1)
            .map(|d| if let Dim::Fixed(n) = d { *n as usize } else { 0 })
            .collect();
        let width = manifest.row_width();
        let mut model = LoadedModel { package, engine, decoder, row_dims, width, scratch: vec![0.0; width] };
        // One run on zeros: tract's first run sets up what later runs reuse (it took 30 ms in
        // Node), and that belongs to loading, not to the user's first prediction.
        model.run_scratch(1)?;
        Ok(model)
    }

    /// Loads the embedded package `name`.
    pub fn embedded(name: &str) -> Result<LoadedModel> {
        LoadedModel::load(Registry::get(name)?)
    }

    /// Loads the embedded default package.
    pub fn embedded_default() -> Result<LoadedModel> {
        LoadedModel::embedded(&Registry::default_name()?)
    }

    /// The package's manifest.
    pub fn manifest(&self) -> &Manifest {
        self.package.manifest()
    }

    /// The package.
    pub fn package(&self) -> &Package {
        &self.package
    }

    /// The number of raw values in one input row.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Runs the model on `rows` preprocessed rows held in `self.scratch`.
    pub(crate) fn run_scratch(&mut self, rows: usize) -> Result<TVec<TValue>> {
        let mut shape = Vec::with_capacity(self.row_dims.len() + 1);
        shape.push(rows);
        shape.extend_from_slice(&self.row_dims);
        let input = Tensor::from_shape(&shape, &self.scratch).map_err(|e| self.inference_error(e))?;
        self.engine.run(input)
    }

    fn inference_error(&self, e: impl std::fmt::Display) -> Error {
        Error::Inference { model: self.manifest().name.clone(), detail: e.to_string() }
    }

    /// Decodes row `row` of the outputs of a run.
    pub(crate) fn decode(&self, outputs: &[TValue], row: usize) -> Result<Prediction> {
        let f32_row = |ix: usize| -> Result<&[f32]> {
            let t = outputs.get(ix).ok_or_else(|| self.inference_error(format!("the model returned no output #{ix}")))?;
            let all = t.try_as_plain_ram().and_then(|v| v.as_slice::<f32>()).map_err(|e| self.inference_error(e))?;
            let per_row = all.len() / t.shape().first().copied().unwrap_or(1).max(1);
            all.get(row * per_row..(row + 1) * per_row)
                .ok_or_else(|| self.inference_error(format!("output #{ix} has no row {row}")))
        };
        match &self.decoder {
            Decoder::Class { scores, label, labels } => {
                let scores = f32_row(*scores)?;
                let index = match label {
                    Some(ix) => {
                        let t = outputs.get(*ix).ok_or_else(|| self.inference_error("the model returned no label output"))?;
                        let t = t.cast_to::<i64>().map_err(|e| self.inference_error(e))?;
                        let v = t.try_as_plain_ram().and_then(|v| v.as_slice::<i64>()).map_err(|e| self.inference_error(e))?.get(row).copied();
                        v.ok_or_else(|| self.inference_error(format!("the label output has no row {row}")))?
                    }
                    None => argmax(scores) as i64,
                };
                let name = usize::try_from(index).ok().and_then(|i| labels.get(i)).ok_or_else(|| {
                    self.inference_error(format!("the label output is {index}, which is not an index into the {} labels", labels.len()))
                })?;
                Ok(Prediction::Class { label: name.clone(), index: index as usize, scores: scores.to_vec() })
            }
            Decoder::Values { outputs: ixs } => {
                let mut values = vec![];
                for ix in ixs {
                    values.extend_from_slice(f32_row(*ix)?);
                }
                Ok(Prediction::Values { values })
            }
        }
    }
}

/// The index of the largest score (the first one on ties).
pub fn argmax(scores: &[f32]) -> usize {
    scores.iter().enumerate().fold(0, |best, (i, s)| if *s > scores[best] { i } else { best })
}
