//! Model state: pairs of a graph input and a graph output that form a recurrent state (the
//! manifest's `state`: `state` -> `stateN`, `h` -> `hn`, ...). Each run takes the state the
//! previous run returned; a session holds its own [`State`], so two sessions never share one.

use serde::{Deserialize, Serialize};

use crate::manifest::{shape_string, DType, Dim, Manifest, OutputSpec, Role, TensorSpec, BATCH_DIM};

/// One pair of the manifest's `state`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StateSpec {
    /// The graph input that takes the state (float32).
    pub input: String,
    /// The graph output that gives the next state (role `"state"`).
    pub output: String,
    /// The state's shape for one stream (the input's shape with its batch dimension 1).
    pub shape: Vec<usize>,
    /// The value every element starts at (and starts at again on `reset()`).
    #[serde(default)]
    pub initial: f32,
}

impl StateSpec {
    /// Elements of the state.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// True for a state with no element (refused by [`validate`]).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The most elements one state may have.
pub const MAX_STATE: usize = 1 << 24;

/// Checks the manifest's `state` against its inputs and outputs, as (field, expected, found):
/// each pair names a float32 input and a float32 output with role `"state"`, both shaped as the
/// pair's `shape` once their batch dimension is 1; every `"state"` output is in a pair.
pub fn validate(manifest: &Manifest) -> Result<(), (String, String, String)> {
    let e = |f: String, x: String, g: String| Err((f, x, g));
    for (i, spec) in manifest.state.iter().enumerate() {
        let field = |f: &str| format!("state[{i}].{f}");
        if spec.shape.is_empty()
            || spec.shape.contains(&0)
            || spec.shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d)).is_none_or(|n| n > MAX_STATE)
        {
            return e(
                field("shape"),
                format!("dimensions of at least 1, at most {MAX_STATE} elements in all"),
                format!("{:?}", spec.shape),
            );
        }
        if !spec.initial.is_finite() {
            return e(field("initial"), "a finite number".into(), spec.initial.to_string());
        }
        if manifest.state[..i].iter().any(|s| s.input == spec.input || s.output == spec.output) {
            return e(
                field("input"),
                "an input and an output no other pair names".into(),
                format!("{:?} -> {:?}", spec.input, spec.output),
            );
        }
        let Some(input) = manifest.inputs.iter().find(|t| t.name == spec.input) else {
            return e(field("input"), "the name of one of the manifest's inputs".into(), format!("{:?}", spec.input));
        };
        let Some(output) = manifest.outputs.iter().find(|t| t.name == spec.output) else {
            return e(
                field("output"),
                "the name of one of the manifest's outputs".into(),
                format!("{:?}", spec.output),
            );
        };
        if output.role != Some(Role::State) {
            return e(
                field("output"),
                "an output with role \"state\"".into(),
                format!("{:?}, role {:?}", output.name, output.role),
            );
        }
        for (what, dtype, shape) in [("input", input.dtype, &input.shape), ("output", output.dtype, &output.shape)] {
            if dtype != DType::Float32 {
                return e(field(what), format!("a float32 {what}"), format!("{dtype}"));
            }
            if !fits(shape, &spec.shape) {
                return e(
                    field("shape"),
                    format!(
                        "the shape of {what} {:?} with \"{BATCH_DIM}\" as 1: {}",
                        if what == "input" { &input.name } else { &output.name },
                        shape_string(shape)
                    ),
                    format!("{:?}", spec.shape),
                );
            }
        }
    }
    if let Some(o) = manifest
        .outputs
        .iter()
        .find(|o| o.role == Some(Role::State) && !manifest.state.iter().any(|s| s.output == o.name))
    {
        return e("state".into(), format!("a pair for the output {:?} (its role is \"state\")", o.name), "none".into());
    }
    Ok(())
}

/// True when a manifest shape is `shape` with its batch dimension (if any) as 1.
fn fits(declared: &[Dim], shape: &[usize]) -> bool {
    declared.len() == shape.len()
        && declared.iter().zip(shape).all(|(d, &n)| match d {
            Dim::Fixed(m) => *m as usize == n,
            Dim::Symbol(s) => s == BATCH_DIM && n == 1,
        })
}

/// True for an input a state pair feeds.
pub fn is_state_input(manifest: &Manifest, input: &TensorSpec) -> bool {
    manifest.state.iter().any(|s| s.input == input.name)
}

/// True for an output a state pair takes back.
pub fn is_state_output(output: &OutputSpec) -> bool {
    output.role == Some(Role::State)
}

/// The state of one stream: a tensor per pair of the manifest's `state`.
#[derive(Debug, Clone, PartialEq)]
pub struct State {
    specs: Vec<StateSpec>,
    values: Vec<Vec<f32>>,
}

/// A state given back whose size is not the pair's.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("state {name:?} has the wrong size: expected {expected} values (shape {shape:?}), got {got}")]
pub struct StateSizeError {
    pub name: String,
    pub shape: Vec<usize>,
    pub expected: usize,
    pub got: usize,
}

impl State {
    /// Every pair at its initial value.
    pub fn new(specs: &[StateSpec]) -> State {
        State { specs: specs.to_vec(), values: specs.iter().map(|s| vec![s.initial; s.len()]).collect() }
    }

    /// Back to the initial values.
    pub fn reset(&mut self) {
        for (spec, value) in self.specs.iter().zip(&mut self.values) {
            value.fill(spec.initial);
        }
    }

    /// The pairs.
    pub fn specs(&self) -> &[StateSpec] {
        &self.specs
    }

    /// The value of pair `i`.
    pub fn value(&self, i: usize) -> &[f32] {
        &self.values[i]
    }

    /// Sets pair `i` (a run's output, or a caller's value); a value of the wrong size is
    /// refused and the state is left as it was.
    pub fn set(&mut self, i: usize, value: &[f32]) -> Result<(), StateSizeError> {
        self.check(i, value.len())?;
        self.values[i].copy_from_slice(value);
        Ok(())
    }

    /// Sets every pair at once (one value per pair, in order), all or nothing.
    pub fn set_all(&mut self, values: &[&[f32]]) -> Result<(), StateSizeError> {
        if values.len() != self.specs.len() {
            return Err(StateSizeError {
                name: "(every pair)".into(),
                shape: vec![],
                expected: self.specs.len(),
                got: values.len(),
            });
        }
        for (i, v) in values.iter().enumerate() {
            self.check(i, v.len())?;
        }
        for (i, v) in values.iter().enumerate() {
            self.values[i].copy_from_slice(v);
        }
        Ok(())
    }

    /// Refuses `len` values for pair `i` unless they are its size.
    fn check(&self, i: usize, len: usize) -> Result<(), StateSizeError> {
        let spec =
            self.specs.get(i).ok_or(StateSizeError { name: format!("#{i}"), shape: vec![], expected: 0, got: len })?;
        if len == spec.len() {
            return Ok(());
        }
        Err(StateSizeError { name: spec.input.clone(), shape: spec.shape.clone(), expected: spec.len(), got: len })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> StateSpec {
        StateSpec { input: "h".into(), output: "hn".into(), shape: vec![2, 1, 3], initial: 0.5 }
    }

    #[test]
    fn a_state_starts_resets_and_refuses_the_wrong_size() {
        let mut s = State::new(&[spec()]);
        assert_eq!(s.value(0), [0.5; 6]);
        s.set(0, &[1.0; 6]).unwrap();
        assert_eq!(s.value(0), [1.0; 6]);
        let e = s.set(0, &[2.0; 5]).unwrap_err();
        assert_eq!((e.expected, e.got), (6, 5));
        assert_eq!(s.value(0), [1.0; 6], "a refused value leaves the state as it was");
        s.reset();
        assert_eq!(s.value(0), [0.5; 6]);
    }

    #[test]
    fn shapes_fit_with_the_batch_as_one() {
        let d = |v: &[&str]| -> Vec<Dim> {
            v.iter().map(|s| s.parse::<u64>().map(Dim::Fixed).unwrap_or_else(|_| Dim::Symbol(s.to_string()))).collect()
        };
        assert!(fits(&d(&["2", "N", "128"]), &[2, 1, 128]));
        assert!(!fits(&d(&["2", "N", "128"]), &[2, 2, 128]));
        assert!(!fits(&d(&["2", "B", "128"]), &[2, 1, 128]));
        assert!(!fits(&d(&["2", "128"]), &[2, 1, 128]));
    }
}
