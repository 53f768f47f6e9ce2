//! How a batch runs on tract's plans: whole on a plan for its size, or as chunks of a smaller
//! size on theirs, whichever costs less per row, as measured on this device.
//!
//! tract's convolutions are optimized for a batch of one: with more than one image, its lazy
//! im2col (which gathers the patches inside the matrix product) gives way to a materialized
//! im2col, and a 1x1 convolution becomes a product with its axes moved about; a batch of CNN
//! inputs then costs more per row than single calls. Graphs of dense layers are the other way:
//! a batch shares the packing of each product. So the engine measures: a batch size runs whole
//! on its own plan for its first [`TRIALS`] calls, then as chunks of the size (that one, or a
//! smaller one already measured) whose runs took the least per row. A graph runs in chunks only
//! when its rows are independent: every input and output has the batch as its first axis and
//! no operation mixes rows (tract's axes mapping of each operation, [`rows_independent`]).

use std::collections::HashMap;
use tract_nnef::internal::*;

/// How many calls of a batch size run whole before its cost per row counts.
pub(super) const TRIALS: u32 = 2;

/// What runs of each batch size on a plan of its own have cost per row.
#[derive(Default)]
pub(super) struct Batches {
    /// Per batch size: the least milliseconds per row seen, and the number of runs.
    per_row: Vec<(usize, f64, u32)>,
}

impl Batches {
    /// Remembers that a run of `size` rows on a plan of its own took `ms`.
    pub(super) fn learn(&mut self, size: usize, ms: f64) {
        if size == 0 || !ms.is_finite() {
            return;
        }
        let per_row = ms / size as f64;
        match self.per_row.iter_mut().find(|(s, _, _)| *s == size) {
            Some((_, least, runs)) => {
                *least = least.min(per_row);
                *runs = runs.saturating_add(1);
            }
            None => self.per_row.push((size, per_row, 1)),
        }
    }

    fn measured(&self, size: usize) -> Option<f64> {
        self.per_row.iter().find(|(s, _, runs)| *s == size && *runs >= TRIALS).map(|(_, least, _)| *least)
    }

    /// The size of the chunks to run a batch of `rows` rows as (`rows` itself: whole). While
    /// `rows` has run fewer than [`TRIALS`] times, whole; then, while single rows have not,
    /// row by row (which measures them); then as chunks of the [`cheapest`](Self::cheapest).
    pub(super) fn chunk(&self, rows: usize) -> usize {
        if rows <= 1 || self.measured(rows).is_none() {
            return rows;
        }
        if self.measured(1).is_none() {
            return 1;
        }
        self.cheapest(rows).unwrap_or(rows)
    }

    /// The measured batch size up to `rows` whose rows cost least (the larger of equals).
    pub(super) fn cheapest(&self, rows: usize) -> Option<usize> {
        self.per_row
            .iter()
            .filter(|(s, _, runs)| *s <= rows && *runs >= TRIALS)
            .min_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))
            .map(|(s, _, _)| *s)
    }
}

/// Where a value of the graph comes from, as [`rows_independent`] follows them.
#[derive(Clone, Copy, PartialEq)]
enum Origin {
    /// Not from the inputs (weights, and what is computed from them alone).
    Constant,
    /// Item `i` along this axis from row `i` of the inputs alone.
    Batch(usize),
}

/// Whether `model` computes each row of a batch from that row alone: every input and every
/// output has `batch` as its first dimension, and each operation maps the rows of its inputs
/// to rows of its outputs (tract's axes mapping of the operation, or a pool, which has none
/// but works per image); weights broadcast along the batch are fine, an operation that sums,
/// reshapes away or indexes across the batch is not.
pub(super) fn rows_independent(model: &TypedModel, batch: &Symbol) -> bool {
    rows_of(model, batch).unwrap_or(false)
}

fn rows_of(model: &TypedModel, batch: &Symbol) -> TractResult<bool> {
    let batch_first = |o: &OutletId| -> TractResult<bool> {
        Ok(model.outlet_fact(*o)?.shape.iter().next() == Some(&TDim::Sym(batch.clone())))
    };
    let (inputs, outputs) = (model.input_outlets()?, model.output_outlets()?);
    if inputs.is_empty() {
        return Ok(false);
    }
    for o in inputs.iter().chain(outputs) {
        if !batch_first(o)? {
            return Ok(false);
        }
    }
    let mut origins: HashMap<OutletId, Origin> = inputs.iter().map(|o| (*o, Origin::Batch(0))).collect();
    for id in model.eval_order()? {
        let node = model.node(id);
        if node.inputs.is_empty() {
            for slot in 0..node.outputs.len() {
                let o = OutletId::new(id, slot);
                origins.entry(o).or_insert(Origin::Constant);
            }
            continue;
        }
        let of_inputs: Vec<Origin> =
            node.inputs.iter().map(|o| origins.get(o).copied().unwrap_or(Origin::Constant)).collect();
        let along = |o: usize, r: Origin| (0..node.outputs.len()).map(move |s| (OutletId::new(o, s), r));
        if of_inputs.iter().all(|r| *r == Origin::Constant) {
            origins.extend(along(id, Origin::Constant));
            continue;
        }
        if per_image(node) && of_inputs[0] == Origin::Batch(0) && of_inputs[1..].iter().all(|r| *r == Origin::Constant)
        {
            origins.extend(along(id, Origin::Batch(0)));
            continue;
        }
        let (input_facts, output_facts) = model.node_facts(id)?;
        let mapping = node.op.axes_mapping(&input_facts, &output_facts)?;
        let mut repr = None;
        for (slot, r) in of_inputs.iter().enumerate() {
            if let Origin::Batch(axis) = r {
                let this = mapping.axis((InOut::In(slot), *axis))?.repr;
                if repr.is_some_and(|r| r != this) {
                    return Ok(false);
                }
                repr = Some(this);
            }
        }
        let Some(repr) = repr else { return Ok(false) };
        let axis = mapping.axis(repr)?;
        // Weights meet the rows broadcast (a size of 1 along them) or not at all.
        for (slot, r) in of_inputs.iter().enumerate() {
            if *r == Origin::Constant && axis.inputs[slot].iter().any(|&a| !input_facts[slot].shape[a].is_one()) {
                return Ok(false);
            }
        }
        for (slot, positions) in axis.outputs.iter().enumerate() {
            let &[position] = &positions[..] else { return Ok(false) };
            origins.insert(OutletId::new(id, slot), Origin::Batch(position));
        }
    }
    Ok(outputs.iter().all(|o| origins.get(o) == Some(&Origin::Batch(0))))
}

/// Whether the node is an operation that works per image of a batch on its first axis, whose
/// axes tract does not map (pools, and a downsampling along another axis).
fn per_image(node: &TypedNode) -> bool {
    use tract_nnef::tract_core::ops::cnn::{MaxPool, SumPool};
    use tract_nnef::tract_core::ops::Downsample;
    let batched = |spec: &tract_nnef::tract_core::ops::cnn::PoolSpec| spec.data_format.has_n();
    node.op_as::<MaxPool>().is_some_and(|p| batched(&p.pool_spec) && p.with_index_outputs.is_none())
        || node.op_as::<SumPool>().is_some_and(|p| batched(&p.pool_spec))
        || node.op_as::<Downsample>().is_some_and(|d| d.axis != 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tract_nnef::tract_core::ops::nn::{Reduce, Reducer};

    #[test]
    fn a_batch_runs_whole_until_measured_then_as_the_cheapest_chunks() {
        let mut b = Batches::default();
        assert_eq!(b.chunk(8), 8);
        b.learn(8, 80.0);
        assert_eq!(b.chunk(8), 8, "one run is not a measure");
        b.learn(8, 64.0);
        assert_eq!(b.chunk(8), 1, "single rows are measured next");
        b.learn(1, 9.0);
        b.learn(1, 7.0);
        assert_eq!(b.chunk(8), 1, "7 ms a row alone, 8 in a batch of 8");
        b.learn(1, 9.0);
        assert_eq!(b.chunk(8), 1, "the least time of each counts");
        assert_eq!(b.chunk(4), 4, "4 rows are not measured yet");
        b.learn(4, 20.0);
        b.learn(4, 21.0);
        assert_eq!(b.chunk(4), 4, "5 ms a row in a batch of 4");
        assert_eq!(b.chunk(8), 4, "chunks of 4 are the cheapest for 8 rows");
        assert_eq!(b.chunk(3), 3);
    }

    #[test]
    fn rows_that_mix_are_never_split() {
        let mut graph = TypedModel::default();
        let n = graph.symbols.sym("N");
        let x = graph.add_source("x", f32::fact([TDim::Sym(n.clone()), 4.into()])).unwrap();
        let y = graph.wire_node("y", tract_nnef::tract_core::ops::math::abs(), &[x]).unwrap();
        graph.select_output_outlets(&y).unwrap();
        assert!(rows_independent(&graph, &n));

        let mut graph = TypedModel::default();
        let n = graph.symbols.sym("N");
        let x = graph.add_source("x", f32::fact([TDim::Sym(n.clone()), 4.into()])).unwrap();
        let sum = graph.wire_node("sum", Reduce::new(tvec!(0), Reducer::Sum), &[x]).unwrap();
        let y = graph.wire_node("y", tract_nnef::tract_core::ops::math::add(), &[x, sum[0]]).unwrap();
        graph.select_output_outlets(&y).unwrap();
        assert!(!rows_independent(&graph, &n), "a sum over the batch mixes rows");
        assert!(!rows_independent(&graph, &graph.symbols.sym("S")), "not the batch symbol");
    }
}
