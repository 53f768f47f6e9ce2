//! A check of index values that arrive at run time, in front of the tract ops that read data at
//! them without checking: `Gather`, `GatherElements`, `GatherNd` and `ScatterElements` index an
//! array (tract 0.23 panics on an index outside it, a trap in wasm that ends the module), and
//! the indices are often a model's input (token ids into an embedding table, say), so any
//! caller's bad value would reach them. [`IndicesWithin`] passes the indices through unchanged
//! (no copy) once every one is within the data's size on its axis, and fails the prediction with
//! an error otherwise. Indices that are constants were checked when the model loaded.

use tract_nnef::internal::*;
use tract_nnef::tract_core::ops::array::{Gather, GatherElements, GatherNd, ScatterElements};

/// What the indices index: the data's axis `axis` (Gather, GatherElements, ScatterElements: an
/// index `i` within `-d..d`, `d` the data's size there), or its axes from `batch_dims` on, one per
/// element of the indices' last axis (GatherNd: `0..d` for each).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Indexing {
    Axis { op: &'static str, axis: usize },
    Tuples { batch_dims: usize },
}

impl Indexing {
    /// What a node of `model` indexes, when it is one of the ops that need the check.
    pub fn of(node: &TypedNode) -> Option<Indexing> {
        if let Some(op) = node.op_as::<Gather>() {
            Some(Indexing::Axis { op: "Gather", axis: op.axis })
        } else if let Some(op) = node.op_as::<GatherElements>() {
            Some(Indexing::Axis { op: "GatherElements", axis: op.axis })
        } else if let Some(op) = node.op_as::<ScatterElements>() {
            Some(Indexing::Axis { op: "ScatterElements", axis: op.axis })
        } else {
            node.op_as::<GatherNd>().map(|op| Indexing::Tuples { batch_dims: op.batch_dims })
        }
    }
}

/// Inputs: the data and the indices; output: the indices, once every value is checked.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IndicesWithin {
    pub indexing: Indexing,
    /// The node whose indices these are (for errors).
    pub node: String,
}

/// Refuses an index outside `-d..d`, `d` the data's size on `axis` (ONNX's rule for Gather,
/// GatherElements and ScatterElements). Also checks constant indices when a model loads
/// (`engine::checked_ops`).
pub fn within_axis(d: i64, axis: usize, indices: impl IntoIterator<Item = i64>) -> TractResult<()> {
    match indices.into_iter().find(|i| !(-d..d).contains(i)) {
        Some(i) => bail!("expected indices within -{d}..{d} (the data's size on axis {axis}), got {i}"),
        None => Ok(()),
    }
}

impl IndicesWithin {
    fn check<T: Copy + Into<i64>>(&self, data: &[usize], indices: &[T], indices_shape: &[usize]) -> TractResult<()> {
        match self.indexing {
            Indexing::Axis { op, axis } => {
                let Some(&d) = data.get(axis) else {
                    bail!("{op} {:?}: expected data with an axis {axis}, got shape {data:?}", self.node)
                };
                within_axis(d as i64, axis, indices.iter().map(|&i| i.into()))
                    .map_err(|e| format_err!("{op} {:?}: {e}", self.node))?;
            }
            Indexing::Tuples { batch_dims } => {
                let k = indices_shape.last().copied().unwrap_or(0).max(1);
                for tuple in indices.chunks(k) {
                    for (j, &i) in tuple.iter().enumerate() {
                        let (i, d) = (i.into(), data.get(batch_dims + j).copied().unwrap_or(0) as i64);
                        if !(0..d).contains(&i) {
                            bail!(
                                "GatherND {:?}: expected indices within 0..{d} (the data's size on axis {}), got {i}",
                                self.node,
                                batch_dims + j
                            );
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

impl Op for IndicesWithin {
    fn name(&self) -> StaticName {
        "IndicesWithin".into()
    }

    fn info(&self) -> TractResult<Vec<String>> {
        Ok(vec![format!("{:?} of {}", self.indexing, self.node)])
    }

    op_as_typed_op!();
}

impl EvalOp for IndicesWithin {
    op_out_of_plan!();

    fn forwards_input(&self) -> Option<usize> {
        Some(1)
    }

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let (data, indices) = args_2!(inputs);
        {
            // ONNX's indices are int64 or int32: read in place, without a copy per call.
            let view = indices.try_as_plain_ram()?;
            match indices.datum_type() {
                DatumType::I64 => self.check(data.shape(), view.as_slice::<i64>()?, indices.shape())?,
                DatumType::I32 => self.check(data.shape(), view.as_slice::<i32>()?, indices.shape())?,
                other => bail!("{:?}: expected int64 or int32 indices, got {other:?}", self.node),
            }
        }
        Ok(tvec!(indices))
    }
}

impl TypedOp for IndicesWithin {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        Ok(tvec!(inputs[1].without_value()))
    }

    as_op!();
}

/// Puts an [`IndicesWithin`] in front of every node of `model` that indexes its data at indices
/// known only at run time.
pub fn check_indices(model: &mut TypedModel) -> TractResult<()> {
    for id in 0..model.nodes.len() {
        let node = &model.nodes[id];
        let Some(indexing) = Indexing::of(node) else { continue };
        let (Some(&data), Some(&indices)) = (node.inputs.first(), node.inputs.get(1)) else { continue };
        if model.outlet_fact(indices)?.konst.is_some() {
            continue;
        }
        let op = IndicesWithin { indexing, node: node.name.clone() };
        let name = format!("{}.indices_within", node.name);
        let checked = model.wire_node(name, op, &[data, indices])?[0];
        model.add_edge(checked, InletId::new(id, 1))?;
    }
    Ok(())
}
