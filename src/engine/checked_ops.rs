//! ONNX operators on which tract 0.23 panics when a malformed file gives them an impossible
//! attribute or constant (an axis outside the tensor, a zero stride, a negative size): a panic
//! in wasm is a trap that leaves the module unusable, and a file given to `Model.fromBytes` is
//! anyone's. Each such operator is wrapped, in the parser's operator register, by [`Guarded`],
//! which checks the values against ONNX's rules and the tensor's rank before tract's own
//! inference sees them, and fails with an error saying what was expected and what came. On every
//! valid file the graph is tract's, unchanged.
//!
//! The `package` fuzz target found the first (Unsqueeze); tests/fixtures/fuzz/package/ keeps one
//! malformed file per operator here (made by training/malformed.py), and tests/fuzz_regressions.rs
//! loads each without a panic.

use std::collections::HashMap;
use std::sync::OnceLock;

use tract_onnx::model::ParsingContext;
use tract_onnx::pb::NodeProto;
use tract_onnx::tract_hir::internal::*;

type Built = TractResult<(Box<dyn InferenceOp>, Vec<String>)>;
type Builder = fn(&ParsingContext, &NodeProto) -> Built;

/// What a check concludes from the facts known so far.
enum Verdict {
    /// The values are valid for what is known: tract's inference may go on.
    Proceed,
    /// What the check needs (the input's rank, a constant input's value) is not known yet, and
    /// tract's inference would use the values with it: wait until it is (the analyser comes back
    /// when an input's facts change).
    Wait,
}

/// A check of a node's attributes and constant inputs against ONNX's rules.
type Check = fn(&Node) -> TractResult<Verdict>;

/// The operators checked, and how.
const CHECKED: &[(&str, Check)] = &[
    ("Unsqueeze", unsqueeze),
    ("Squeeze", squeeze),
    ("Flatten", flatten),
    ("Transpose", transpose),
    ("Split", split),
    ("ArgMax", axis_attr),
    ("ArgMin", axis_attr),
    ("Hardmax", axis_attr),
    ("Softmax", axis_attr),
    ("LogSoftmax", axis_attr),
    ("TopK", top_k),
    ("ReduceL1", reduce),
    ("ReduceL2", reduce),
    ("ReduceLogSum", reduce),
    ("ReduceLogSumExp", reduce),
    ("ReduceMax", reduce),
    ("ReduceMean", reduce),
    ("ReduceMin", reduce),
    ("ReduceProd", reduce),
    ("ReduceSum", reduce),
    ("ReduceSumSquare", reduce),
    ("MaxPool", window),
    ("AveragePool", window),
    ("LpPool", window),
    ("Conv", window),
    ("DepthToSpace", block_size),
    ("SpaceToDepth", block_size),
    ("LRN", lrn),
    ("LSTM", hidden_size),
    ("GRU", hidden_size),
    ("RNN", hidden_size),
    ("Range", range),
    ("ConstantOfShape", constant_of_shape),
    ("Tile", tile),
    ("Pad", pad),
    ("GatherElements", element_indices),
    ("ScatterElements", element_indices),
];

/// tract's own builders of the operators checked.
fn tract_builders() -> &'static HashMap<String, Builder> {
    static BUILDERS: OnceLock<HashMap<String, Builder>> = OnceLock::new();
    BUILDERS.get_or_init(|| {
        let all = tract_onnx::onnx().op_register.0;
        CHECKED.iter().filter_map(|(op, _)| Some(((*op).to_owned(), *all.get(*op)?))).collect()
    })
}

/// Registers the checked operators in place of tract's.
pub(super) fn register(framework: &mut tract_onnx::Onnx) {
    for (op, _) in CHECKED {
        if tract_builders().contains_key(*op) {
            framework.op_register.insert(op, guarded);
        }
    }
}

/// The builder of every checked operator: tract's op, wrapped with its check.
fn guarded(ctx: &ParsingContext, node: &NodeProto) -> Built {
    let (Some(build), Some((_, check))) =
        (tract_builders().get(&node.op_type), CHECKED.iter().find(|(op, _)| *op == node.op_type))
    else {
        bail!("{}: no checked builder for this operator", node.op_type);
    };
    let (inner, outputs) = build(ctx, node)?;
    Ok((Box::new(Guarded { inner, node: node.clone(), opset: ctx.onnx_operator_set_version, check: *check }), outputs))
}

/// The context of a check's failure: the node has values no input shape makes valid, so the
/// graph is refused at load (not left to be typed for the shapes of a call).
#[derive(Debug)]
pub(super) struct Malformed(String);

impl std::fmt::Display for Malformed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether a failure of tract's typing comes from a check of this module (see [`Malformed`]).
pub(super) fn is_malformed(e: &TractError) -> bool {
    e.downcast_ref::<Malformed>().is_some()
}

/// tract's inference op for an ONNX node, run only once the node's check passes.
#[derive(Debug, Clone)]
struct Guarded {
    inner: Box<dyn InferenceOp>,
    node: NodeProto,
    opset: i64,
    check: Check,
}

impl PartialEq for Guarded {
    fn eq(&self, other: &Self) -> bool {
        self.node == other.node && self.opset == other.opset && self.inner.as_op() == other.inner.as_op()
    }
}

impl Eq for Guarded {}

impl Guarded {
    fn verdict(&self, inputs: &[&InferenceFact]) -> TractResult<Verdict> {
        let node = Node { proto: &self.node, opset: self.opset, inputs };
        (self.check)(&node).context(Malformed(format!("ONNX node {:?} ({})", self.node.name, self.node.op_type)))
    }
}

type Facts = TVec<InferenceFact>;

fn unchanged(facts: &[&InferenceFact]) -> Facts {
    facts.iter().map(|f| (*f).clone()).collect()
}

impl InferenceOp for Guarded {
    fn infer(
        &mut self,
        inputs: TVec<&InferenceFact>,
        outputs: TVec<&InferenceFact>,
        observed: TVec<&InferenceFact>,
    ) -> TractResult<(Facts, Facts, Facts)> {
        match self.verdict(&inputs)? {
            Verdict::Proceed => self.inner.infer(inputs, outputs, observed),
            Verdict::Wait => Ok((unchanged(&inputs), unchanged(&outputs), unchanged(&observed))),
        }
    }

    fn infer_facts(
        &mut self,
        inputs: TVec<&InferenceFact>,
        outputs: TVec<&InferenceFact>,
        observed: TVec<&InferenceFact>,
    ) -> TractResult<(Facts, Facts, Facts)> {
        match self.verdict(&inputs)? {
            Verdict::Proceed => self.inner.infer_facts(inputs, outputs, observed),
            Verdict::Wait => Ok((unchanged(&inputs), unchanged(&outputs), unchanged(&observed))),
        }
    }

    fn observe_outlets(&self, model: &InferenceModel, node: &InferenceNode) -> TractResult<Vec<OutletId>> {
        self.inner.observe_outlets(model, node)
    }

    fn incorporate(&self, model: &InferenceModel, node: &InferenceNode) -> TractResult<Option<InferenceModelPatch>> {
        self.inner.incorporate(model, node)
    }

    fn nboutputs(&self) -> TractResult<usize> {
        self.inner.nboutputs()
    }

    fn as_op(&self) -> &dyn Op {
        self
    }

    fn as_op_mut(&mut self) -> &mut dyn Op {
        self
    }

    fn to_typed(
        &self,
        source: &InferenceModel,
        node: &InferenceNode,
        target: &mut TypedModel,
        mapping: &HashMap<OutletId, OutletId>,
    ) -> TractResult<TVec<OutletId>> {
        let inputs: TVec<&InferenceFact> =
            node.inputs.iter().map(|i| source.outlet_fact(*i)).collect::<TractResult<_>>()?;
        match self.verdict(&inputs)? {
            Verdict::Proceed => self.inner.to_typed(source, node, target, mapping),
            Verdict::Wait => bail!("{}: the rank of its input is unknown", self.node.op_type),
        }
    }
}

impl Op for Guarded {
    fn name(&self) -> StaticName {
        self.inner.name()
    }

    fn info(&self) -> TractResult<Vec<String>> {
        self.inner.info()
    }

    fn validation(&self) -> Validation {
        self.inner.validation()
    }

    fn as_typed(&self) -> Option<&dyn TypedOp> {
        None
    }
}

impl EvalOp for Guarded {
    fn eval(&self, ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        self.inner.eval(ctx, inputs)
    }

    fn eval_out_of_plan(&self, inputs: TVec<TValue>) -> TractResult<Option<TVec<TValue>>> {
        self.inner.eval_out_of_plan(inputs)
    }

    fn state(&self, ctx: &EvalContext) -> TractResult<Option<Box<dyn OpState>>> {
        self.inner.state(ctx)
    }

    fn forwards_input(&self) -> Option<usize> {
        self.inner.forwards_input()
    }

    fn drop_session(&self, session: SessionId, node_id: usize) {
        self.inner.drop_session(session, node_id)
    }
}

/// A node under check: its attributes, opset and what is known of its inputs.
struct Node<'a> {
    proto: &'a NodeProto,
    opset: i64,
    inputs: &'a [&'a InferenceFact],
}

impl Node<'_> {
    fn ints(&self, name: &str) -> TractResult<Option<Vec<i64>>> {
        self.proto.get_attr_opt_vec::<i64>(name)
    }

    fn int(&self, name: &str) -> TractResult<Option<i64>> {
        self.proto.get_attr_opt::<i64>(name)
    }

    /// The rank of input `i`, once known.
    fn rank(&self, i: usize) -> Option<usize> {
        self.inputs.get(i)?.shape.rank().concretize().map(|r| r as usize)
    }

    /// The value of input `i` as integers, once known (a constant, or folded from constants).
    fn value(&self, i: usize) -> Option<Vec<i64>> {
        if self.proto.input.get(i).is_none_or(|name| name.is_empty()) {
            return None;
        }
        let value = self.inputs.get(i)?.value.concretize()?;
        let ints = value.cast_to::<i64>().ok()?;
        Some(ints.try_as_plain_ram().ok()?.as_slice::<i64>().ok()?.to_vec())
    }

    /// Integers from the attribute `name` before opset `since`, from input `input` after.
    fn ints_moved_to_input(&self, name: &str, since: i64, input: usize) -> TractResult<Option<Vec<i64>>> {
        if self.opset < since {
            self.ints(name)
        } else {
            Ok(self.value(input))
        }
    }

    /// The concrete size of each dimension of input `i`, where known.
    fn dims(&self, i: usize) -> Vec<Option<i64>> {
        self.inputs
            .get(i)
            .map(|f| f.shape.dims().map(|d| d.concretize().and_then(|d| d.to_i64().ok())).collect())
            .unwrap_or_default()
    }
}

/// Refuses any axis outside `-rank..rank`, and a repeated one when `distinct`.
fn axes_within(what: &str, axes: &[i64], rank: usize, distinct: bool) -> TractResult<()> {
    let r = rank as i64;
    let mut seen = vec![false; rank];
    for &axis in axes {
        if !(-r..r).contains(&axis) {
            bail!("expected {what} within -{r}..{r} (a tensor of rank {rank}), got {axis} (in {axes:?})");
        }
        let at = axis.rem_euclid(r) as usize;
        if distinct && std::mem::replace(&mut seen[at], true) {
            bail!("expected each of {what} once, got axis {at} twice (in {axes:?})");
        }
    }
    Ok(())
}

fn at_least(what: &str, values: &[i64], min: i64) -> TractResult<()> {
    match values.iter().find(|&&v| v < min) {
        Some(v) => bail!("expected {what} of at least {min}, got {v} (in {values:?})"),
        None => Ok(()),
    }
}

fn unsqueeze(n: &Node) -> TractResult<Verdict> {
    let (Some(rank), Some(axes)) = (n.rank(0), n.ints_moved_to_input("axes", 13, 1)?) else { return Ok(Verdict::Wait) };
    axes_within("the axes of the output", &axes, rank + axes.len(), true)?;
    Ok(Verdict::Proceed)
}

fn squeeze(n: &Node) -> TractResult<Verdict> {
    let Some(rank) = n.rank(0) else { return Ok(Verdict::Wait) };
    if let Some(axes) = n.ints_moved_to_input("axes", 13, 1)? {
        axes_within("axes", &axes, rank, true)?;
    }
    Ok(Verdict::Proceed)
}

fn flatten(n: &Node) -> TractResult<Verdict> {
    let Some(rank) = n.rank(0) else { return Ok(Verdict::Wait) };
    let axis = n.int("axis")?.unwrap_or(1);
    let r = rank as i64;
    if !(-r..=r).contains(&axis) {
        bail!("expected an axis within -{r}..={r} (a tensor of rank {rank}), got {axis}");
    }
    Ok(Verdict::Proceed)
}

fn transpose(n: &Node) -> TractResult<Verdict> {
    let Some(rank) = n.rank(0) else { return Ok(Verdict::Wait) };
    if let Some(perm) = n.ints("perm")? {
        if perm.len() != rank {
            bail!("expected a perm of {rank} axes (a tensor of rank {rank}), got {perm:?}");
        }
        axes_within("the axes of perm", &perm, rank, true)?;
        at_least("the axes of perm", &perm, 0)?;
    }
    Ok(Verdict::Proceed)
}

fn split(n: &Node) -> TractResult<Verdict> {
    let Some(rank) = n.rank(0) else { return Ok(Verdict::Wait) };
    axes_within("an axis", &[n.int("axis")?.unwrap_or(0)], rank, false)?;
    let sizes = n.ints_moved_to_input("split", 13, 1)?;
    at_least("split sizes", sizes.as_deref().unwrap_or_default(), 0)?;
    Ok(Verdict::Proceed)
}

/// ArgMax, ArgMin, Hardmax, Softmax, LogSoftmax: an `axis` attribute.
fn axis_attr(n: &Node) -> TractResult<Verdict> {
    let Some(rank) = n.rank(0) else { return Ok(Verdict::Wait) };
    if let Some(axis) = n.int("axis")? {
        axes_within("an axis", &[axis], rank.max(1), false)?;
    }
    Ok(Verdict::Proceed)
}

fn top_k(n: &Node) -> TractResult<Verdict> {
    let Some(rank) = n.rank(0) else { return Ok(Verdict::Wait) };
    axes_within("an axis", &[n.int("axis")?.unwrap_or(-1)], rank, false)?;
    let k = if n.opset < 10 { n.int("k")?.map(|k| vec![k]) } else { n.value(1) };
    at_least("k", k.as_deref().unwrap_or_default(), 0)?;
    Ok(Verdict::Proceed)
}

/// The Reduce operators: `axes` an attribute, an input from opset 13 (ReduceSum) or 18 (others).
fn reduce(n: &Node) -> TractResult<Verdict> {
    let Some(rank) = n.rank(0) else { return Ok(Verdict::Wait) };
    let since = if n.proto.op_type == "ReduceSum" { 13 } else { 18 };
    if let Some(axes) = n.ints_moved_to_input("axes", since, 1)? {
        axes_within("axes", &axes, rank, true)?;
    }
    Ok(Verdict::Proceed)
}

/// Pools and convolutions: a window over the spatial axes (all but the first two).
fn window(n: &Node) -> TractResult<Verdict> {
    let Some(rank) = n.rank(0) else { return Ok(Verdict::Wait) };
    if rank < 3 {
        bail!("expected an input of rank 3 or more (N, C, then spatial axes), got rank {rank}");
    }
    let spatial = rank - 2;
    for (name, per_axis, min) in [("kernel_shape", 1, 1), ("strides", 1, 1), ("dilations", 1, 1), ("pads", 2, 0)] {
        if let Some(values) = n.ints(name)? {
            if values.len() != spatial * per_axis {
                bail!("expected {} values in {name} ({spatial} spatial axes), got {values:?}", spatial * per_axis);
            }
            at_least(name, &values, min)?;
        }
    }
    if n.proto.op_type != "Conv" && n.ints("kernel_shape")?.is_none() {
        bail!("expected a kernel_shape attribute, got none");
    }
    Ok(Verdict::Proceed)
}

fn block_size(n: &Node) -> TractResult<Verdict> {
    at_least("a blocksize", &[n.int("blocksize")?.unwrap_or(0)], 1)?;
    Ok(Verdict::Proceed)
}

fn lrn(n: &Node) -> TractResult<Verdict> {
    at_least("a size", &[n.int("size")?.unwrap_or(0)], 1)?;
    Ok(Verdict::Proceed)
}

fn hidden_size(n: &Node) -> TractResult<Verdict> {
    if let Some(size) = n.int("hidden_size")? {
        at_least("a hidden_size", &[size], 1)?;
    }
    Ok(Verdict::Proceed)
}

fn range(n: &Node) -> TractResult<Verdict> {
    if let Some(delta) = n.inputs.get(2).and_then(|f| f.value.concretize()) {
        let delta = delta.cast_to::<f64>()?;
        if delta.try_as_plain_ram()?.as_slice::<f64>()?.contains(&0.0) {
            bail!("expected a non-zero delta, got 0");
        }
    }
    Ok(Verdict::Proceed)
}

fn constant_of_shape(n: &Node) -> TractResult<Verdict> {
    at_least("dimensions", n.value(0).as_deref().unwrap_or_default(), 0)?;
    Ok(Verdict::Proceed)
}

fn tile(n: &Node) -> TractResult<Verdict> {
    let Some(rank) = n.rank(0) else { return Ok(Verdict::Wait) };
    if let Some(repeats) = n.value(1) {
        if repeats.len() != rank {
            bail!("expected {rank} repeats (a tensor of rank {rank}), got {repeats:?}");
        }
        at_least("repeats", &repeats, 0)?;
    }
    Ok(Verdict::Proceed)
}

fn pad(n: &Node) -> TractResult<Verdict> {
    let Some(rank) = n.rank(0) else { return Ok(Verdict::Wait) };
    let Some(pads) = n.ints_moved_to_input(if n.opset < 2 { "paddings" } else { "pads" }, 11, 1)? else {
        return Ok(Verdict::Proceed);
    };
    if n.opset >= 18 && n.value(3).is_some() {
        return Ok(Verdict::Proceed); // pads for some axes only: tract checks their count
    }
    if pads.len() != 2 * rank {
        bail!("expected {} pads (a tensor of rank {rank}), got {pads:?}", 2 * rank);
    }
    for (axis, dim) in n.dims(0).into_iter().enumerate() {
        let (before, after) = (pads[axis], pads[axis + rank]);
        if dim.is_some_and(|d| d.saturating_add(before).saturating_add(after) < 0) {
            bail!(
                "expected pads that leave axis {axis} a size of 0 or more, got {before} and {after} on a size of {}",
                dim.map_or("?".into(), |d| d.to_string())
            );
        }
    }
    Ok(Verdict::Proceed)
}

/// GatherElements, ScatterElements: an axis, and indices within the data's size on it.
fn element_indices(n: &Node) -> TractResult<Verdict> {
    let Some(rank) = n.rank(0) else { return Ok(Verdict::Wait) };
    let axis = n.int("axis")?.unwrap_or(0);
    axes_within("an axis", &[axis], rank, false)?;
    let size = n.dims(0).get(axis.rem_euclid(rank.max(1) as i64) as usize).copied().flatten();
    if n.rank(1).is_some_and(|r| r != rank) {
        bail!("expected indices of rank {rank} (the data's), got rank {}", n.rank(1).unwrap_or_default());
    }
    if let (Some(size), Some(indices)) = (size, n.value(1)) {
        super::specialize::indices::within_axis(size, axis.rem_euclid(rank as i64) as usize, indices)?;
    }
    Ok(Verdict::Proceed)
}
