//! tract's side of the engine (the `tract` feature): a typed, decluttered graph and its
//! optimized plans, kept as reusable states per set of input shapes so that no prediction
//! re-plans; and the conversion of edgeserve's [`Array`]s to and from tract's tensors.
//!
//! Which plan runs a call:
//! - a graph with fixed shapes has one plan;
//! - edgeserve's packages (the batch symbol `N`): a plan per batch size for the first
//!   [`CONCRETE_PLANS`] sizes, then one plan for any batch size; a batch whose rows are
//!   independent runs as chunks of a smaller size where that costs less per row ([`batches`]);
//! - other graphs typed with symbols (the free dimensions of an imported model): the first call
//!   with a shape set runs on one plan for any shapes (no wait for a plan) unless planning costs
//!   less than a run, as for a CNN over images of any size (see [`Costs`]; the graph's first call
//!   gets a plan, to learn that), the second gets a
//!   plan for exactly those shapes (tract optimizes much better for numbers than for symbols),
//!   as do the shapes hinted with `plan_for`; at most [`SHAPE_PLANS`], fewer for large weights.
//!   Once that many are kept, a shape set gets a plan when its recent work (see [`Work`]) is more
//!   than twice that of the plan with the least, which it replaces: a text model keeps plans
//!   for the lengths it is mostly called with, not for the first ones it saw, and lengths that
//!   come as often as each other do not take turns re-planning. Should tract's plan for symbols
//!   fail on a call where a plan for its concrete shapes runs, plans per shape set from then on;
//! - a graph tract cannot type with symbols ([`Retype`]): typed and planned for the concrete
//!   shapes of each call, as onnxruntime does; plans per shape set, at most [`SHAPE_PLANS`],
//!   the least recently used dropped.

use std::collections::HashMap;

use tract_nnef::internal::*;

use super::batches::{self, Batches};
use super::optimize::{self, Notes};
use super::{load_error, PLANNABLE, TRACTABLE};
use crate::error::{Error, Result};
use crate::latency::Stopwatch;
use crate::manifest::{Dim, GraphIo};
use crate::tensor::{Array, TensorData};

/// How many batch sizes of an edgeserve package get a plan optimized for their concrete size.
/// Other sizes run on one plan optimized for the symbolic batch size.
const CONCRETE_PLANS: usize = 4;

/// How many shape sets keep their plan, for graphs planned per shape set.
const SHAPE_PLANS: usize = 8;

/// The constant bytes (weights) that the plans of one graph may hold between them: each plan
/// packs the weights anew for its kernels, so a graph of 90 MB of weights keeps 2 plans, one
/// of 1 MB keeps [`SHAPE_PLANS`].
const PLANS_WEIGHT_BYTES: usize = 256 << 20;

/// How many shape sets the recent work of is remembered (see [`Work`]).
const REMEMBERED: usize = 32;

/// The input elements of all calls after which every shape set's recent work is halved.
const DECAY_ELEMENTS: u64 = 8192;

/// A graph that tract could not type with symbols for its free dimensions: typed anew for the
/// concrete input shapes of a call (the ONNX side implements it on tract's inference graph).
pub(crate) trait Retype: Send {
    /// The graph typed and decluttered for inputs of these shapes (in the graph's order), and
    /// with these values for the small integer inputs that have some in `values`.
    fn typed_for(
        &self,
        shapes: &[Vec<usize>],
        values: &[Option<Vec<i64>>],
        notes: &mut Notes,
    ) -> TractResult<TypedModel>;

    /// The bytes of the graph's constants (its weights).
    fn constant_bytes(&self) -> usize;
}

/// The bytes of a typed graph's constants (its weights).
fn constant_bytes(model: &TypedModel) -> usize {
    model
        .nodes
        .iter()
        .filter_map(|n| n.op_as::<tract_nnef::tract_core::ops::konst::Const>())
        .map(|k| k.val().len() * k.val().datum_type().size_of())
        .sum()
}

/// The input shapes of a call, in the graph's order.
type ShapeSet = Vec<Vec<usize>>;

/// What a plan is made for: the input shapes of a call and, for a graph typed per call, the
/// values of its small integer and boolean inputs (at most [`VALUES`] elements, rank 0 or 1:
/// a sample rate or a flag that an exporter's `If` tests, a shape that an `Expand` or a
/// `Reshape` takes), so that the plan is typed with them.
#[derive(Clone, PartialEq)]
struct Key {
    shapes: ShapeSet,
    values: Vec<Option<Vec<i64>>>,
}

/// The most elements of an integer input whose values a graph typed per call is typed with.
pub(crate) const VALUES: usize = 8;

/// A typed graph and the plans made from it.
pub(super) struct Plans {
    /// Typed and decluttered, free dimensions as symbols: the source of every plan; none when
    /// the graph is typed per shape set (`retype`).
    pub(super) typed: Option<TypedModel>,
    retype: Option<Box<dyn Retype>>,
    /// The graph's input names, for errors.
    names: Vec<String>,
    /// edgeserve's batch symbol, when the graph has it: plans per batch size first.
    batch: Option<Symbol>,
    /// Plans (as reusable states) for concrete shape sets, most recently used last.
    concrete: Vec<(Key, TypedSimpleState)>,
    /// The recent work of each shape set: which plans are worth keeping.
    work: Work,
    /// The plan for any shapes, built when first needed.
    symbolic: Option<TypedSimpleState>,
    /// The plan for symbols failed to build, or failed on a call that a concrete plan ran.
    symbolic_failed: bool,
    /// What was done differently from tract's defaults (see [`optimize`]).
    pub(super) notes: Notes,
    /// The graph's constant bytes, once counted.
    weight_bytes: Option<usize>,
    /// What runs and plans of this graph have cost so far.
    costs: Costs,
    /// Whether a batch may run as chunks (see [`batches`]): the rows are independent.
    chunked: bool,
    /// What runs of each batch size have cost per row, when `chunked`.
    batches: Batches,
    /// Whether runs of each batch size go faster on the thread pool (when there is one).
    threads: crate::threads::Choice,
}

/// What a graph's plans have cost, learnt from its calls: milliseconds to build a plan for
/// concrete shapes, and per input element of a run on one. A shape set seen for the first time
/// gets a plan of its own at once when building it costs less than a run does (a CNN over
/// images of any size, whose plan for symbols tract optimizes far less than one for numbers:
/// planning and running a plan of its own is then faster than running the plan for symbols);
/// else it runs on the plan for symbols (a text model, whose runs take less than a plan). The
/// first call of a graph gets a plan of its own, to learn both.
#[derive(Default)]
struct Costs {
    planning: Option<f64>,
    concrete: Option<f64>,
}

impl Costs {
    /// Remembers a measure: the mean of it and what was known.
    fn learn(slot: &mut Option<f64>, value: f64) {
        if value.is_finite() {
            *slot = Some(slot.map_or(value, |known| (known + value) / 2.0));
        }
    }

    /// Whether a shape set seen for the first time, of `elements` input elements, should get a
    /// plan of its own at once.
    fn plan_at_once(&self, elements: u64) -> bool {
        match (self.planning, self.concrete) {
            (Some(planning), Some(concrete)) => planning < concrete * elements as f64,
            _ => true,
        }
    }
}

impl Plans {
    /// Plans for `typed`, none built yet; `batch` names edgeserve's batch symbol.
    pub(super) fn new(typed: TypedModel, batch: &str, names: Vec<String>, notes: Notes) -> Plans {
        let batch = typed.symbols.get(batch).filter(|s| {
            // Only when it is the one symbol of the inputs' shapes (edgeserve's packages).
            typed.input_outlets().into_iter().flatten().all(|o| {
                typed
                    .outlet_fact(*o)
                    .map(|f| f.shape.iter().all(|d| d.to_i64().is_ok() || d == &TDim::Sym(s.clone())))
                    .unwrap_or(false)
            })
        });
        let chunked = batch.as_ref().is_some_and(|b| batches::rows_independent(&typed, b));
        Plans {
            typed: Some(typed),
            retype: None,
            names,
            batch,
            chunked,
            batches: Batches::default(),
            threads: Default::default(),
            concrete: vec![],
            symbolic: None,
            symbolic_failed: false,
            work: Work::default(),
            notes,
            weight_bytes: None,
            costs: Costs::default(),
        }
    }

    /// Plans for a graph typed per shape set (read from ONNX: the full build only).
    #[cfg_attr(not(feature = "onnx"), allow(dead_code))]
    pub(super) fn retyped(retype: Box<dyn Retype>, names: Vec<String>, notes: Notes) -> Plans {
        Plans {
            typed: None,
            retype: Some(retype),
            names,
            batch: None,
            chunked: false,
            batches: Batches::default(),
            threads: Default::default(),
            concrete: vec![],
            symbolic: None,
            symbolic_failed: true,
            work: Work::default(),
            notes,
            weight_bytes: None,
            costs: Costs::default(),
        }
    }

    /// The shape sets with a plan of their own, least recently used first.
    pub(super) fn concrete_shapes(&self) -> Vec<ShapeSet> {
        self.concrete.iter().map(|(k, _)| k.shapes.clone()).collect()
    }

    /// Whether a batch may run as chunks: its rows are independent (see [`batches`]).
    pub(super) fn rows_independent(&self) -> bool {
        self.chunked
    }

    /// Whether the graph is typed per shape set (tract could not type it with symbols).
    pub(super) fn is_retyped(&self) -> bool {
        self.typed.is_none()
    }

    fn plan(model: &str, mut typed: TypedModel, notes: &mut Notes) -> Result<TypedSimpleState> {
        super::specialize::convolutions(&mut typed)
            .map_err(|e| load_error(model, "planning the graph", PLANNABLE, e))?;
        let mut optimized = optimize::optimize(typed, notes);
        let plan = super::specialize::specialize(&mut optimized)
            .and_then(|()| optimized.into_runnable())
            .map_err(|e| load_error(model, "planning the graph", PLANNABLE, e))?;
        TypedSimpleState::new(&plan).map_err(|e| load_error(model, "preparing the plan's state", PLANNABLE, e))
    }

    /// Whether the typed graph's inputs have fixed shapes (one plan serves every call).
    fn fixed(&self) -> bool {
        let Some(typed) = &self.typed else { return false };
        typed
            .input_outlets()
            .into_iter()
            .flatten()
            .all(|o| typed.outlet_fact(*o).map(|f| f.shape.as_concrete().is_some()).unwrap_or(false))
    }

    fn symbolic_state(&mut self, model: &str) -> Result<&mut TypedSimpleState> {
        if self.symbolic.is_none() {
            let typed = self.typed.clone().ok_or_else(|| {
                load_error(model, "planning", "a graph typed with symbols", "a graph typed per shape set")
            })?;
            self.symbolic = Some(Plans::plan(model, typed, &mut self.notes)?);
        }
        self.symbolic.as_mut().ok_or_else(|| load_error(model, "planning", "a plan", "none"))
    }

    /// The values of the typed graph's symbols for inputs of `shapes`: a `BAD_INPUT` when a
    /// symbol gets two values (two inputs disagree on a shared dimension).
    fn bind(&self, typed: &TypedModel, shapes: &[Vec<usize>]) -> Result<HashMap<Symbol, TDim>> {
        let mut subs: HashMap<Symbol, (TDim, usize, usize)> = HashMap::new();
        let outlets =
            typed.input_outlets().map_err(|e| Error::bad_input("the model's inputs", TRACTABLE, e.to_string()))?;
        for (i, (outlet, shape)) in outlets.iter().zip(shapes).enumerate() {
            let fact = typed
                .outlet_fact(*outlet)
                .map_err(|e| Error::bad_input("the model's inputs", TRACTABLE, e.to_string()))?;
            for (axis, (dim, &value)) in fact.shape.iter().zip(shape).enumerate() {
                // `k * S` (an input typed as a multiple, see `DimHint`): S is the size over k.
                let (symbol, value) = match dim {
                    TDim::Sym(symbol) => (symbol, value),
                    TDim::MulInt(k, s) => match (&**s, usize::try_from(*k)) {
                        (TDim::Sym(symbol), Ok(k)) if k > 0 && value % k == 0 => (symbol, value / k),
                        (TDim::Sym(symbol), _) => {
                            return Err(Error::bad_input(
                                format!("input {:?} dimension {axis} ({symbol})", self.name(i)),
                                format!("a multiple of {k}"),
                                value.to_string(),
                            ))
                        }
                        _ => continue,
                    },
                    _ => continue,
                };
                match subs.get(symbol) {
                    Some((bound, j, other_axis)) if *bound != TDim::Val(value as i64) => {
                        return Err(Error::bad_input(
                            format!("input {:?} dimension {axis} ({symbol})", self.name(i)),
                            format!(
                                "{bound}, the size of dimension {other_axis} of input {:?} (both are {symbol})",
                                self.name(*j)
                            ),
                            value.to_string(),
                        ));
                    }
                    Some(_) => {}
                    None => {
                        subs.insert(symbol.clone(), (TDim::Val(value as i64), i, axis));
                    }
                }
            }
        }
        Ok(subs.into_iter().map(|(s, (v, _, _))| (s, v)).collect())
    }

    fn name(&self, i: usize) -> &str {
        self.names.get(i).map(String::as_str).unwrap_or("?")
    }

    /// A plan for exactly `key`, its cost learnt (see [`Costs`]).
    fn concrete_plan(&mut self, model: &str, key: &Key) -> Result<TypedSimpleState> {
        let clock = Stopwatch::start();
        let state = self.concrete_plan_untimed(model, key)?;
        Costs::learn(&mut self.costs.planning, clock.elapsed_ms());
        Ok(state)
    }

    fn concrete_plan_untimed(&mut self, model: &str, key: &Key) -> Result<TypedSimpleState> {
        let shapes = &key.shapes;
        let typed = match (&self.typed, &self.retype) {
            (Some(typed), _) => {
                let subs = self.bind(typed, shapes)?;
                typed.set_symbols(&subs).map_err(|e| {
                    load_error(model, &format!("fixing the input shapes to {}", self.shapes_text(shapes)), PLANNABLE, e)
                })?
            }
            (None, Some(retype)) => retype.typed_for(shapes, &key.values, &mut self.notes).map_err(|e| {
                load_error(
                    model,
                    &format!("typing the graph for the input shapes {}", self.shapes_text(shapes)),
                    TRACTABLE,
                    e,
                )
            })?,
            (None, None) => return Err(load_error(model, "planning", "a graph", "none")),
        };
        Plans::plan(model, typed, &mut self.notes)
    }

    fn shapes_text(&self, shapes: &[Vec<usize>]) -> String {
        shapes.iter().enumerate().map(|(i, s)| format!("{} {s:?}", self.name(i))).collect::<Vec<_>>().join(", ")
    }

    /// Builds (if needed) and keeps a plan for exactly `key`, and returns it.
    fn concrete_state(&mut self, model: &str, key: &Key) -> Result<&mut TypedSimpleState> {
        if let Some(pos) = self.concrete.iter().position(|(k, _)| k == key) {
            let entry = self.concrete.remove(pos);
            self.concrete.push(entry);
        } else {
            let state = self.concrete_plan(model, key)?;
            if self.concrete.len() >= self.most_plans() {
                let victim = self.victim();
                self.concrete.remove(victim);
            }
            self.concrete.push((key.clone(), state));
        }
        match self.concrete.last_mut() {
            Some((_, state)) => Ok(state),
            None => Err(load_error(model, "planning", "a plan", "none")),
        }
    }

    /// Which plan goes when a new one needs its place: the one with the least recent work
    /// (the least recently used of equals) where a plan for symbols can run what it ran, else
    /// the least recently used.
    fn victim(&self) -> usize {
        if self.typed.is_none() || self.symbolic_failed {
            return 0;
        }
        let mut best = 0;
        for (i, (key, _)) in self.concrete.iter().enumerate() {
            if self.work.of(key) < self.work.of(&self.concrete[best].0) {
                best = i;
            }
        }
        best
    }

    /// How many plans of concrete shape sets are kept: [`SHAPE_PLANS`], fewer for a graph with
    /// many weights (see [`PLANS_WEIGHT_BYTES`]), at least one.
    fn most_plans(&mut self) -> usize {
        let weights = *self.weight_bytes.get_or_insert_with(|| match (&self.typed, &self.retype) {
            (Some(typed), _) => constant_bytes(typed),
            (None, Some(retype)) => retype.constant_bytes(),
            (None, None) => 0,
        });
        (PLANS_WEIGHT_BYTES / weights.max(1)).clamp(1, SHAPE_PLANS)
    }

    /// Builds the first plan, at load: for a graph of fixed shapes, and for batch size 1 of an
    /// edgeserve package (whose inputs `inputs` are); none for other graphs (see [`Costs`]).
    pub(super) fn prepare(&mut self, model: &str, inputs: &[GraphIo]) -> Result<()> {
        if self.fixed() {
            self.symbolic_state(model)?;
        } else if self.batch.is_some() {
            let shapes: ShapeSet = inputs
                .iter()
                .map(|i| i.shape.iter().map(|d| if let Dim::Fixed(n) = d { *n as usize } else { 1 }).collect())
                .collect();
            let values = vec![None; shapes.len()];
            self.concrete_state(model, &Key { shapes, values })?;
        }
        // Free dimensions other than the batch: the first call gets a plan of its own (see
        // `Costs`), the plan for symbols is built when a call runs on it.
        Ok(())
    }

    fn symbolic_fails(&mut self, e: &Error) {
        self.symbolic_failed = true;
        self.notes.push(format!(
            "planning for any input shapes failed ({}); the graph is planned per shape set",
            optimize::brief(e)
        ));
    }

    /// Plans ahead for calls with inputs of exactly `shapes` (a load-time hint). The hint
    /// counts as recent work of [`DECAY_ELEMENTS`], so that its plan stays until other shape sets
    /// have done more.
    pub(super) fn plan_for(&mut self, model: &str, shapes: &[Vec<usize>]) -> Result<()> {
        if !self.fixed() {
            let key = Key { shapes: shapes.to_vec(), values: vec![None; shapes.len()] };
            self.concrete_state(model, &key)?;
            self.work.credit(&key, DECAY_ELEMENTS);
        } else {
            self.symbolic_state(model)?;
        }
        Ok(())
    }

    /// The plan for a call `key` (of `elements` input elements), and whether it is the plan for
    /// symbols.
    fn state_for(&mut self, model: &str, key: &Key, elements: u64) -> Result<(bool, &mut TypedSimpleState)> {
        if self.fixed() {
            return Ok((true, self.symbolic_state(model)?));
        }
        let (work, calls) = self.work.add(key, elements);
        let planned = self.concrete.iter().any(|(k, _)| k == key);
        let symbolic = if planned || self.symbolic_failed {
            false
        } else if self.batch.is_some() {
            self.concrete.len() >= CONCRETE_PLANS
        } else if calls < 2 {
            // A shape set seen once may not come again: no wait for a plan, unless planning
            // costs less than a run (see `Costs`) and a plan of its own takes no other's place.
            self.concrete.len() >= self.most_plans() || !self.costs.plan_at_once(elements)
        } else if self.concrete.len() >= self.most_plans() {
            // As many plans as the weights allow: a plan for this shape set replaces the one
            // with the least recent work when it has done more than twice as much, else it
            // runs on the plan for any shapes.
            work <= 2 * self.work.of(&self.concrete[self.victim()].0)
        } else {
            // A shape set that comes again is worth a plan of its own.
            false
        };
        if symbolic {
            match self.symbolic_state(model) {
                Ok(_) => {
                    return Ok((
                        true,
                        self.symbolic.as_mut().ok_or_else(|| load_error(model, "planning", "a plan", "none"))?,
                    ))
                }
                Err(e) => self.symbolic_fails(&e),
            }
        }
        Ok((false, self.concrete_state(model, key)?))
    }

    /// Runs these inputs on tract's plans: whole, or in chunks of the batch (see [`batches`]).
    fn run_tensors(&mut self, model: &str, inputs: TVec<TValue>) -> Result<Vec<Array>> {
        let rows = inputs.first().and_then(|t| t.shape().first().copied()).unwrap_or(1);
        let chunk = if self.chunked { self.batches.chunk(rows) } else { rows };
        let outputs =
            if chunk < rows { self.run_chunks(model, &inputs, chunk)? } else { self.run_whole(model, inputs)? };
        outputs.iter().map(|t| from_tract(t).map_err(|e| inference_error(model, e))).collect()
    }

    /// Runs a batch as chunks of `chunk` rows (the rest in chunks of the cheapest measured size
    /// that fits), their outputs joined; the plan for the whole batch's size is dropped.
    fn run_chunks(&mut self, model: &str, inputs: &[TValue], chunk: usize) -> Result<TVec<TValue>> {
        let rows = inputs.first().and_then(|t| t.shape().first().copied()).unwrap_or(1);
        self.concrete.retain(|(key, _)| key.shapes.first().and_then(|s| s.first()) != Some(&rows));
        let mut parts: Vec<TVec<TValue>> = vec![];
        let mut start = 0;
        while start < rows {
            let left = rows - start;
            let size = if left >= chunk { chunk } else { self.batches.cheapest(left).unwrap_or(left) };
            let slices = inputs
                .iter()
                .map(|t| t.slice(0, start, start + size).map(IntoTValue::into_tvalue))
                .collect::<TractResult<TVec<_>>>()
                .map_err(|e| inference_error(model, e))?;
            parts.push(self.run_whole(model, slices)?);
            start += size;
        }
        let outputs = parts.first().map_or(0, |p| p.len());
        (0..outputs)
            .map(|i| {
                let tensors: Vec<&Tensor> = parts.iter().filter_map(|p| p.get(i).map(|t| &**t)).collect();
                Tensor::stack_tensors(0, &tensors).map(IntoTValue::into_tvalue)
            })
            .collect::<TractResult<TVec<_>>>()
            .map_err(|e| inference_error(model, e))
    }

    /// Runs the plan for these inputs' shapes on tract tensors.
    fn run_whole(&mut self, model: &str, inputs: TVec<TValue>) -> Result<TVec<TValue>> {
        let shapes: ShapeSet = inputs.iter().map(|t| t.shape().to_vec()).collect();
        let values = inputs.iter().map(|t| if self.retype.is_some() { small_values(t) } else { None }).collect();
        let elements = key_elements(&shapes);
        let key = Key { shapes, values };
        let rows = key.shapes.first().and_then(|s| s.first().copied()).unwrap_or(1);
        let pooled = self.threads.pooled(elements);
        let (symbolic, state) = self.state_for(model, &key, elements)?;
        let clock = Stopwatch::start();
        match crate::threads::run(pooled, || state.run(inputs.clone())) {
            Ok(outputs) => {
                self.threads.learn(elements, pooled, clock.elapsed_ms());
                if !symbolic {
                    let ms = clock.elapsed_ms();
                    Costs::learn(&mut self.costs.concrete, ms / elements.max(1) as f64);
                    if self.chunked {
                        self.batches.learn(rows, ms);
                    }
                }
                Ok(outputs)
            }
            Err(e) if symbolic && !self.fixed() => {
                // tract's plan for symbols may fail where its plan for concrete shapes runs.
                let state = self.concrete_state(model, &key)?;
                let outputs =
                    crate::threads::run(pooled, || state.run(inputs)).map_err(|e| inference_error(model, e))?;
                self.symbolic_failed = true;
                self.symbolic = None;
                self.notes.push(format!(
                    "the plan for any input shapes failed on {} ({}); the graph is planned per shape set",
                    self.shapes_text(&key.shapes),
                    optimize::brief(&e)
                ));
                Ok(outputs)
            }
            Err(e) => Err(inference_error(model, e)),
        }
    }

    /// Runs the graph on f32 rows `data` of shape `shape` (the batch size first).
    pub(super) fn run(&mut self, model: &str, data: &[f32], shape: &[usize]) -> Result<Vec<Array>> {
        let input = Tensor::from_shape(shape, data).map_err(|e| inference_error(model, e))?;
        self.run_tensors(model, tvec![input.into_tvalue()])
    }

    /// Runs the graph on every input (in the graph's order).
    pub(super) fn run_all(&mut self, model: &str, inputs: Vec<Array>) -> Result<Vec<Array>> {
        let tensors = inputs
            .iter()
            .map(|a| to_tract(a).map(IntoTValue::into_tvalue).map_err(|e| inference_error(model, e)))
            .collect::<Result<_>>()?;
        self.run_tensors(model, tensors)
    }
}

/// The number of elements of inputs of these shapes: the work of a call, as [`Work`] counts it.
fn key_elements(shapes: &[Vec<usize>]) -> u64 {
    shapes.iter().map(|s| s.iter().product::<usize>() as u64).sum()
}

/// The recent work of each shape set that ran: the input elements of its calls (a text model's
/// time grows with its tokens), all halved every [`DECAY_ELEMENTS`] elements of all calls so
/// that what ran lately counts most; and its calls since it was first remembered. At most
/// [`REMEMBERED`] shape sets, the one with the least work forgotten first.
#[derive(Default)]
struct Work {
    by_key: Vec<(Key, u64, u32)>,
    since_decay: u64,
}

impl Work {
    /// The entry of `key`, remembered now if it was not.
    fn entry(&mut self, key: &Key) -> &mut (Key, u64, u32) {
        let pos = match self.by_key.iter().position(|(k, _, _)| k == key) {
            Some(pos) => pos,
            None => {
                if self.by_key.len() >= REMEMBERED {
                    let least = (0..self.by_key.len()).min_by_key(|&i| self.by_key[i].1).unwrap_or(0);
                    self.by_key.remove(least);
                }
                self.by_key.push((key.clone(), 0, 0));
                self.by_key.len() - 1
            }
        };
        &mut self.by_key[pos]
    }

    /// Adds a call of `elements` input elements with `key`: its recent work and calls after it.
    fn add(&mut self, key: &Key, elements: u64) -> (u64, u32) {
        self.since_decay += elements;
        while self.since_decay >= DECAY_ELEMENTS {
            self.since_decay -= DECAY_ELEMENTS;
            for entry in &mut self.by_key {
                entry.1 /= 2;
            }
        }
        let entry = self.entry(key);
        entry.1 = entry.1.saturating_add(elements);
        entry.2 = entry.2.saturating_add(1);
        (entry.1, entry.2)
    }

    /// Counts `elements` of work for `key` without a call (a plan asked for ahead).
    fn credit(&mut self, key: &Key, elements: u64) {
        let entry = self.entry(key);
        entry.1 = entry.1.saturating_add(elements);
    }

    /// The recent work of `key` (0 when forgotten).
    fn of(&self, key: &Key) -> u64 {
        self.by_key.iter().find(|(k, _, _)| k == key).map_or(0, |e| e.1)
    }
}

/// The values of a small integer or boolean input (see [`Key`]), which a graph typed per call
/// is typed with.
fn small_values(t: &TValue) -> Option<Vec<i64>> {
    if t.rank() > 1 || t.len() > VALUES || !(t.datum_type().is_integer() || t.datum_type() == DatumType::Bool) {
        return None;
    }
    let values = t.cast_to::<i64>().ok()?;
    values.try_as_plain_ram().ok()?.as_slice::<i64>().ok().map(<[i64]>::to_vec)
}

fn inference_error(model: &str, e: impl std::fmt::Display) -> Error {
    Error::Inference { model: model.to_owned(), detail: format!("{e:#}") }
}

fn to_tract(a: &Array) -> TractResult<Tensor> {
    match &a.data {
        TensorData::F32(v) => Tensor::from_shape(&a.shape, v),
        TensorData::F64(v) => Tensor::from_shape(&a.shape, v),
        TensorData::I8(v) => Tensor::from_shape(&a.shape, v),
        TensorData::I16(v) => Tensor::from_shape(&a.shape, v),
        TensorData::I32(v) => Tensor::from_shape(&a.shape, v),
        TensorData::I64(v) => Tensor::from_shape(&a.shape, v),
        TensorData::U8(v) => Tensor::from_shape(&a.shape, v),
        TensorData::U16(v) => Tensor::from_shape(&a.shape, v),
        TensorData::U32(v) => Tensor::from_shape(&a.shape, v),
        TensorData::U64(v) => Tensor::from_shape(&a.shape, v),
        TensorData::Bool(v) => Tensor::from_shape(&a.shape, v),
    }
}

/// A tract tensor as an [`Array`]: TDim (integers tract computes from shapes) as i64, f16 as f32.
pub(super) fn from_tract(t: &Tensor) -> TractResult<Array> {
    fn vec<T: Datum + Clone>(t: &Tensor) -> TractResult<Vec<T>> {
        t.try_as_plain_ram().and_then(|v| v.as_slice::<T>().map(<[T]>::to_vec))
    }
    let data = match t.datum_type() {
        DatumType::F32 => TensorData::F32(vec(t)?),
        DatumType::F64 => TensorData::F64(vec(t)?),
        DatumType::I8 => TensorData::I8(vec(t)?),
        DatumType::I16 => TensorData::I16(vec(t)?),
        DatumType::I32 => TensorData::I32(vec(t)?),
        DatumType::I64 => TensorData::I64(vec(t)?),
        DatumType::U8 => TensorData::U8(vec(t)?),
        DatumType::U16 => TensorData::U16(vec(t)?),
        DatumType::U32 => TensorData::U32(vec(t)?),
        DatumType::U64 => TensorData::U64(vec(t)?),
        DatumType::Bool => TensorData::Bool(vec(t)?),
        DatumType::TDim => TensorData::I64(vec(&*t.cast_to::<i64>()?)?),
        DatumType::F16 => TensorData::F32(vec(&*t.cast_to::<f32>()?)?),
        other => bail!("an output has element type {other:?}, which edgeserve cannot return"),
    };
    Ok(Array { shape: t.shape().to_vec(), data })
}

pub(super) fn dtype_name(dt: DatumType) -> String {
    match dt {
        DatumType::F32 => "float32".into(),
        DatumType::F64 => "float64".into(),
        DatumType::I8 => "int8".into(),
        DatumType::I16 => "int16".into(),
        DatumType::I32 => "int32".into(),
        // tract types integers computed from shapes (an ArgMax over classes, say) as TDim; they
        // are ONNX int64 tensors and come out as such.
        DatumType::I64 | DatumType::TDim => "int64".into(),
        DatumType::U8 => "uint8".into(),
        DatumType::U16 => "uint16".into(),
        DatumType::U32 => "uint32".into(),
        DatumType::U64 => "uint64".into(),
        DatumType::Bool => "bool".into(),
        other => format!("{other:?}").to_lowercase(),
    }
}

fn graph_io(model: &TypedModel, outlet: OutletId, name: String, multiples: &[TDim]) -> TractResult<GraphIo> {
    let fact = model.outlet_fact(outlet)?;
    let shape = fact
        .shape
        .iter()
        .map(|d| match (d.to_i64(), d) {
            (Ok(v), _) if v >= 0 => Dim::Fixed(v as u64),
            // `k * S`, where an input's dimension was typed as a multiple (see `DimHint`): `S`.
            (_, TDim::MulInt(_, symbol)) if multiples.contains(d) => Dim::Symbol(symbol.to_string()),
            _ => Dim::Symbol(d.to_string()),
        })
        .collect();
    Ok(GraphIo { name, dtype: dtype_name(fact.datum_type), shape })
}

/// The typed graph's inputs and outputs as [`GraphIo`]s (dtypes and shapes from the graph),
/// named by `input_names` and `output_names` in the graph's order.
pub(super) fn graph_ios(
    model: &str,
    typed: &TypedModel,
    input_names: Vec<String>,
    output_names: Vec<String>,
) -> Result<(Vec<GraphIo>, Vec<GraphIo>)> {
    // The inputs' dimensions typed as `k * S` (see `DimHint`).
    let mut multiples = vec![];
    for outlet in typed.input_outlets().map_err(|e| load_error(model, "reading inputs", TRACTABLE, e))? {
        let fact = typed.outlet_fact(*outlet).map_err(|e| load_error(model, "reading inputs", TRACTABLE, e))?;
        multiples.extend(
            fact.shape.iter().filter(|d| matches!(d, TDim::MulInt(_, s) if matches!(**s, TDim::Sym(_)))).cloned(),
        );
    }
    let io = |what: &str, outlets: TractResult<&[OutletId]>, names: Vec<String>| -> Result<Vec<GraphIo>> {
        let outlets = outlets.map_err(|e| load_error(model, &format!("reading {what}"), TRACTABLE, e))?;
        if outlets.len() != names.len() {
            return Err(load_error(
                model,
                &format!("reading {what}"),
                &format!("{} {what} (as named)", names.len()),
                format!("{} {what}", outlets.len()),
            ));
        }
        outlets
            .iter()
            .zip(names)
            .map(|(o, name)| {
                graph_io(typed, *o, name, &multiples)
                    .map_err(|e| load_error(model, "reading the graph's inputs and outputs", TRACTABLE, e))
            })
            .collect()
    };
    Ok((io("inputs", typed.input_outlets(), input_names)?, io("outputs", typed.output_outlets(), output_names)?))
}

/// Marks a string property that [`nnef_safe_properties`] percent-encoded.
const PERCENT_ENCODED: &str = "edgeserve-percent-encoded:";

/// Whether tract's NNEF form keeps a character of a string property: its writer quotes strings
/// with Rust's `{:?}` and its reader takes `\x` as `x` and no `'` inside, so a `'`, a newline or
/// any character `{:?}` writes as an escape (`\u{3000}`) does not read back.
#[cfg(feature = "onnx")]
fn nnef_keeps(c: char) -> bool {
    c != '\'' && (c == '"' || c == '\\' || c.escape_debug().count() == 1)
}

/// The graph's properties with each string that its NNEF form would not keep (an OCR
/// recogniser's characters, one a line) percent-encoded after a marker, which
/// [`string_properties`] decodes; None when every string is kept as it is.
#[cfg(feature = "onnx")]
pub(super) fn nnef_safe_properties(properties: &HashMap<String, Arc<Tensor>>) -> Option<HashMap<String, Arc<Tensor>>> {
    let unsafe_string = |v: &Arc<Tensor>| -> Option<String> {
        let value = v.try_as_plain_ram().ok()?.as_slice::<String>().ok()?.first()?.clone();
        (v.len() == 1 && !value.chars().all(nnef_keeps)).then_some(value)
    };
    if !properties.values().any(|v| unsafe_string(v).is_some()) {
        return None;
    }
    Some(
        properties
            .iter()
            .map(|(k, v)| match unsafe_string(v) {
                Some(value) => {
                    let mut encoded = String::from(PERCENT_ENCODED);
                    for c in value.chars() {
                        if nnef_keeps(c) && c != '%' {
                            encoded.push(c);
                        } else {
                            let mut bytes = [0; 4];
                            for b in c.encode_utf8(&mut bytes).bytes() {
                                encoded.push_str(&format!("%{b:02X}"));
                            }
                        }
                    }
                    (k.clone(), Arc::new(tensor0(encoded)))
                }
                None => (k.clone(), v.clone()),
            })
            .collect(),
    )
}

/// The text `nnef_safe_properties` encoded; None when it is not one.
fn percent_decoded(encoded: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(encoded.len());
    let mut rest = encoded.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        if b == b'%' {
            let hex = std::str::from_utf8(tail.get(..2)?).ok()?;
            bytes.push(u8::from_str_radix(hex, 16).ok()?);
            rest = &tail[2..];
        } else {
            bytes.push(b);
            rest = tail;
        }
    }
    String::from_utf8(bytes).ok()
}

/// The names of the nodes of the typed graph's inputs and outputs, in its order.
pub(super) fn node_names(typed: &TypedModel) -> TractResult<(Vec<String>, Vec<String>)> {
    let names = |outlets: &[OutletId]| outlets.iter().map(|o| typed.node(o.node).name.clone()).collect();
    Ok((names(typed.input_outlets()?), names(typed.output_outlets()?)))
}

/// A graph's string properties (tract's `onnx.` prefix dropped: `doc_string`,
/// `metadata_props.<key>`, ...; values [`nnef_safe_properties`] encoded, decoded), sorted by key.
pub(super) fn string_properties(properties: &HashMap<String, Arc<Tensor>>) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = properties
        .iter()
        .filter_map(|(k, v)| {
            let value = v.try_as_plain_ram().ok()?.as_slice::<String>().ok()?.first()?.clone();
            let value = match value.strip_prefix(PERCENT_ENCODED) {
                Some(encoded) => percent_decoded(encoded)?,
                None => value,
            };
            Some((k.strip_prefix("onnx.").unwrap_or(k).to_owned(), value))
        })
        .collect();
    found.sort();
    found
}

/// See [`super::Engine::gather_rows`].
pub(super) fn gather_rows(typed: &TypedModel, input: &str) -> Option<usize> {
    use tract_nnef::tract_core::ops::array::Gather;
    let source = typed.input_outlets().ok()?.iter().find(|o| typed.node(o.node).name == input)?.node;
    let comes_from_source = |mut outlet: OutletId| {
        for _ in 0..4 {
            if outlet.node == source {
                return true;
            }
            match typed.node(outlet.node).inputs.as_slice() {
                [one] => outlet = *one,
                _ => return false,
            }
        }
        outlet.node == source
    };
    typed.nodes().iter().find_map(|node| {
        let gather = node.op_as::<Gather>()?;
        let [table, indices] = node.inputs.as_slice() else { return None };
        if !comes_from_source(*indices) {
            return None;
        }
        typed.outlet_fact(*table).ok()?.shape.get(gather.axis)?.to_usize().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tract_nnef::tract_core::ops::math;

    /// `y = x + [1, 2, 3, 4]` for `x` of shape `[S, 4]`, planned as a graph whose weights allow
    /// two plans of concrete shape sets.
    fn plans() -> Plans {
        let mut graph = TypedModel::default();
        let s = graph.symbols.sym("S");
        let x = graph.add_source("x", f32::fact([TDim::Sym(s), 4.into()])).unwrap();
        let w = graph.add_const("w", tensor2(&[[1f32, 2., 3., 4.]])).unwrap();
        let y = graph.wire_node("y", math::add(), &[x, w]).unwrap();
        graph.select_output_outlets(&y).unwrap();
        let mut plans = Plans::new(graph, "N", vec!["x".into()], Notes::default());
        plans.weight_bytes = Some(PLANS_WEIGHT_BYTES / 2);
        plans
    }

    /// Runs `plans` on `rows` rows, checks the sums, and returns the planned row counts.
    fn call(plans: &mut Plans, rows: usize) -> Vec<usize> {
        let out = plans.run("m", &vec![0.5; rows * 4], &[rows, 4]).unwrap();
        assert_eq!(out[0].data.as_f32().unwrap()[..4], [1.5, 2.5, 3.5, 4.5]);
        let mut planned: Vec<usize> = plans.concrete_shapes().iter().map(|s| s[0][0]).collect();
        planned.sort_unstable();
        planned
    }

    #[test]
    fn a_shape_set_gets_a_plan_when_it_comes_again_and_then_when_it_does_the_most_work() {
        let mut p = plans();
        assert_eq!(call(&mut p, 3), [3], "the graph's first call gets a plan, to learn its cost");
        assert_eq!(call(&mut p, 3), [3]);
        assert_eq!(call(&mut p, 5), [3], "a plan costs more than a run: 5 runs on the plan for any shapes");
        assert_eq!(call(&mut p, 5), [3, 5]);
        // The plans are full: a shape set seen once does not replace one.
        assert_eq!(call(&mut p, 100), [3, 5]);
        // One that comes often does, in place of the one with the least recent work (3).
        let mut calls = 1;
        while call(&mut p, 7) == [3, 5] {
            calls += 1;
            assert!(calls < 10, "7 never got a plan");
        }
        assert_eq!(call(&mut p, 7), [5, 7]);
        assert!(calls >= 2);
    }

    #[test]
    fn shape_sets_called_as_often_as_each_other_do_not_take_turns_replanning() {
        let mut p = plans();
        let lengths = [5, 9, 7, 11];
        for _ in 0..50 {
            for n in lengths {
                call(&mut p, n);
            }
        }
        let settled = call(&mut p, 5);
        for _ in 0..200 {
            for n in lengths {
                assert_eq!(call(&mut p, n), settled, "a plan was replaced");
            }
        }
        // Work counts, not calls: the longest shape set has a plan.
        assert!(settled.contains(&11), "{settled:?}");
    }

    #[test]
    fn what_ran_lately_counts_most() {
        let mut p = plans();
        for _ in 0..500 {
            call(&mut p, 20);
            call(&mut p, 30);
        }
        assert_eq!(call(&mut p, 30), [20, 30]);
        let mut calls = 0;
        while call(&mut p, 8) == [20, 30] {
            calls += 1;
            assert!(calls < 1000, "8 never got a plan after the others stopped");
        }
    }

    #[test]
    fn a_plan_asked_for_ahead_is_kept_until_others_do_more_work() {
        let mut p = plans();
        p.plan_for("m", &[vec![64, 4]]).unwrap();
        for _ in 0..2 {
            call(&mut p, 2);
        }
        assert_eq!(call(&mut p, 2), [2, 64]);
        let mut planned = call(&mut p, 3);
        while planned == [2, 64] {
            planned = call(&mut p, 3);
        }
        assert_eq!(planned, [3, 64], "2 goes, not the hinted 64");
    }

    /// A string property that tract's NNEF form would not keep (quotes, newlines, characters
    /// written as escapes, a `%`) is encoded into characters it keeps and decoded as it was; one
    /// it keeps is left as it is.
    #[cfg(feature = "onnx")]
    #[test]
    fn string_properties_survive_the_nnef_form() {
        let text = "'\n疗\n\"\n\\\n\u{3000}\n100%";
        let mut properties = HashMap::new();
        properties.insert("onnx.metadata_props.character".to_owned(), Arc::new(tensor0(text.to_owned())));
        properties.insert("onnx.doc_string".to_owned(), Arc::new(tensor0("plain \"text\" 5%".to_owned())));
        let encoded = nnef_safe_properties(&properties).expect("the characters need encoding");
        let written =
            encoded["onnx.metadata_props.character"].try_as_plain_ram().unwrap().as_slice::<String>().unwrap()[0]
                .clone();
        assert!(written.chars().all(nnef_keeps), "{written}");
        assert_eq!(encoded["onnx.doc_string"], properties["onnx.doc_string"]);
        let read = string_properties(&encoded);
        assert_eq!(
            read,
            vec![
                ("doc_string".to_owned(), "plain \"text\" 5%".to_owned()),
                ("metadata_props.character".to_owned(), text.to_owned())
            ]
        );
        properties.remove("onnx.metadata_props.character");
        assert!(nnef_safe_properties(&properties).is_none());
    }

    /// The first shape set gets a plan of its own, to learn what one costs; from then on, a shape
    /// set seen for the first time gets one at once only where planning costs less than a run.
    #[test]
    fn a_new_shape_set_is_planned_at_once_only_where_that_is_cheaper() {
        let mut costs = Costs::default();
        assert!(costs.plan_at_once(1000), "nothing known: the cost of a plan is found out");
        Costs::learn(&mut costs.concrete, 1e-3);
        Costs::learn(&mut costs.planning, 100.0);
        // 1000 elements: a plan of 100 ms against a run of 1 ms; 1,000,000: against 1 s.
        assert!(!costs.plan_at_once(1000));
        assert!(costs.plan_at_once(1_000_000));
        Costs::learn(&mut costs.planning, f64::NAN);
        assert_eq!(costs.planning, Some(100.0), "a measure that is not one is not learnt");
        Costs::learn(&mut costs.planning, 300.0);
        assert_eq!(costs.planning, Some(200.0));
    }

    /// A batch measured to cost less per row in chunks runs so, with the rows in order, and the
    /// plan for the whole batch's size goes; a graph whose rows mix never does.
    #[test]
    fn a_batch_runs_in_the_chunks_that_cost_least_per_row() {
        let mut graph = TypedModel::default();
        let n = graph.symbols.sym("N");
        let x = graph.add_source("x", f32::fact([TDim::Sym(n), 2.into()])).unwrap();
        let w = graph.add_const("w", tensor2(&[[10f32, 20.]])).unwrap();
        let y = graph.wire_node("y", math::add(), &[x, w]).unwrap();
        graph.select_output_outlets(&y).unwrap();
        let mut p = Plans::new(graph, "N", vec!["x".into()], Notes::default());
        assert!(p.chunked);
        let rows: Vec<f32> = (0..10).map(|i| i as f32).collect();
        let expected: Vec<f32> = rows.iter().enumerate().map(|(i, v)| v + [10., 20.][i % 2]).collect();
        for _ in 0..batches::TRIALS {
            assert_eq!(p.run("m", &rows, &[5, 2]).unwrap()[0].data.as_f32().unwrap(), &expected[..]);
        }
        assert!(p.concrete_shapes().contains(&vec![vec![5, 2]]));
        // Single rows and pairs measured cheaper than the batch of 5 (its runs took longer).
        for _ in 0..batches::TRIALS {
            p.batches.learn(1, 0.0);
            p.batches.learn(2, 0.0);
        }
        assert_eq!(p.batches.chunk(5), 2);
        let out = p.run("m", &rows, &[5, 2]).unwrap();
        assert_eq!(out[0].shape, [5, 2]);
        assert_eq!(out[0].data.as_f32().unwrap(), &expected[..], "two pairs and a single row, joined in order");
        let mut planned: Vec<usize> = p.concrete_shapes().iter().map(|s| s[0][0]).collect();
        planned.sort_unstable();
        assert_eq!(planned, [1, 2], "the plan for 5 rows is gone");

        let mut graph = TypedModel::default();
        let n = graph.symbols.sym("N");
        let x = graph.add_source("x", f32::fact([TDim::Sym(n), 2.into()])).unwrap();
        let sum = graph
            .wire_node(
                "sum",
                tract_nnef::tract_core::ops::nn::Reduce::new(tvec!(0), tract_nnef::tract_core::ops::nn::Reducer::Sum),
                &[x],
            )
            .unwrap();
        let y = graph.wire_node("y", math::add(), &[x, sum[0]]).unwrap();
        graph.select_output_outlets(&y).unwrap();
        let p = Plans::new(graph, "N", vec!["x".into()], Notes::default());
        assert!(!p.chunked, "a sum over the batch mixes its rows");
    }
}
