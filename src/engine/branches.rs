//! ONNX `If` that resolves when its condition is known: registered in place of tract-onnx's
//! `If` in the parser's operator register (as [`super::checked_ops`] wraps operators).
//!
//! Exporters write `If` nodes whose condition depends only on shapes (PyTorch's export of a
//! `squeeze` that applies when a batch has one row: Squeeze in one branch, Identity in the
//! other). tract-onnx infers facts through both branches even when the condition is known, and
//! the branch not taken fails on the shapes at hand ("Attempt to squeeze an axis which dimension
//! is not one"); its typed `IfThenElse` also needs both branches to give the same facts. Here:
//! - a condition known while typing (a constant, or computed from shapes that are known, as in
//!   a graph typed for the concrete shapes of a call) types the branch taken only, and the typed
//!   graph has that branch's nodes in place of the `If`;
//! - a condition known only at run time (an input's value, as Silero VAD's sample rate) types
//!   both branches, which must then give the same output facts, and runs [`RunTimeIf`]: tract's
//!   `IfThenElse` (whose facts and simplification it keeps) with each branch optimized and
//!   planned once, when first taken (tract's own plans the branch anew, unoptimized, at each
//!   call).

use std::sync::{Arc, OnceLock};
use tract_onnx::model::{ParseResult, ParsingContext};
use tract_onnx::pb::NodeProto;

use tract_onnx::tract_core::ops::logic::IfThenElse;
use tract_onnx::tract_hir::internal::*;

/// Puts [`If`] in the register in place of tract-onnx's.
pub(super) fn register(framework: &mut tract_onnx::Onnx) {
    framework.op_register.insert("If", build);
}

fn build(ctx: &ParsingContext, node: &NodeProto) -> TractResult<(Box<dyn InferenceOp>, Vec<String>)> {
    let ParseResult { model: then_body, unresolved_inputs: then_inputs, .. } =
        ctx.parse_graph(node.get_attr("then_branch")?)?;
    let ParseResult { model: else_body, unresolved_inputs: else_inputs, .. } =
        ctx.parse_graph(node.get_attr("else_branch")?)?;
    // The node's inputs: the condition, then every outer value either branch reads.
    let mut captured: Vec<String> = then_inputs.iter().chain(&else_inputs).cloned().collect();
    captured.sort();
    captured.dedup();
    let position = |name: &String| {
        captured
            .iter()
            .position(|c| c == name)
            .map(|p| p + 1)
            .ok_or_else(|| format_err!("If: branch input {name} not captured"))
    };
    let then_mapping = then_inputs.iter().map(position).collect::<TractResult<_>>()?;
    let else_mapping = else_inputs.iter().map(position).collect::<TractResult<_>>()?;
    Ok((
        Box::new(If {
            then_branch: Branch { body: then_body, mapping: then_mapping },
            else_branch: Branch { body: else_body, mapping: else_mapping },
        }),
        captured,
    ))
}

/// A branch: its graph, and for each of its inputs the index of the node input it reads.
#[derive(Debug, Clone)]
struct Branch {
    body: InferenceModel,
    mapping: Vec<usize>,
}

impl Branch {
    /// Unifies the branch's input facts with the node's; whether anything changed.
    fn unify_inputs(&mut self, inputs: &mut [InferenceFact]) -> TractResult<bool> {
        let mut changed = false;
        for (body_ix, outer_ix) in self.mapping.iter().enumerate() {
            changed |= self.body.input_fact_mut(body_ix)?.unify_with_mut(&mut inputs[*outer_ix])?;
        }
        Ok(changed)
    }
}

#[derive(Debug, Clone)]
struct If {
    then_branch: Branch,
    else_branch: Branch,
}

// One If is never the same operator as another (tract's own If says so too).
impl PartialEq for If {
    fn eq(&self, _: &Self) -> bool {
        false
    }
}
impl Eq for If {}

impl If {
    fn branch(&self, condition: bool) -> &Branch {
        if condition {
            &self.then_branch
        } else {
            &self.else_branch
        }
    }
}

/// The condition's value when it can be trusted: known, and with every value the branches read
/// of concrete shape. tract evaluates a comparison of a symbolic dimension with a number as if
/// the symbol were a value that differs from every number (`Shape(x)[0] == 1` is false for
/// `x: [N, 4]`), so a condition met while the shapes are symbolic is left to the call's shapes.
fn trusted_condition(inputs: &[InferenceFact]) -> Option<Arc<Tensor>> {
    let concrete = inputs[1..]
        .iter()
        .all(|f| !f.shape.is_open() && f.shape.dims().all(|d| d.concretize().is_some_and(|d| d.to_i64().is_ok())));
    inputs[0].value.concretize().filter(|_| concrete)
}

impl Op for If {
    fn name(&self) -> StaticName {
        "If".into()
    }

    not_a_typed_op!();
}

impl EvalOp for If {
    op_out_of_plan!();

    fn eval(&self, _: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let branch = self.branch(inputs[0].cast_to_scalar::<bool>()?);
        let inputs: TVec<TValue> = branch.mapping.iter().map(|&ix| inputs[ix].clone()).collect();
        branch.body.clone().into_runnable()?.run(inputs)
    }
}

impl InferenceOp for If {
    fn infer_facts(
        &mut self,
        inputs: TVec<&InferenceFact>,
        outputs: TVec<&InferenceFact>,
        observed: TVec<&InferenceFact>,
    ) -> TractResult<(TVec<InferenceFact>, TVec<InferenceFact>, TVec<InferenceFact>)> {
        let mut inputs: TVec<InferenceFact> = inputs.into_iter().cloned().collect();
        let mut outputs: TVec<InferenceFact> = outputs.into_iter().cloned().collect();
        loop {
            let mut changed = inputs[0].datum_type.unify_with(&bool::datum_type().into())?;
            match trusted_condition(&inputs) {
                Some(condition) => {
                    // Only the branch taken: the other may not type with these facts.
                    let branch =
                        if condition.cast_to_scalar::<bool>()? { &mut self.then_branch } else { &mut self.else_branch };
                    changed |= branch.unify_inputs(&mut inputs)?;
                    for ix in 0..outputs.len() {
                        changed |= branch.body.output_fact_mut(ix)?.unify_with_mut(&mut outputs[ix])?;
                    }
                    changed |= branch.body.analyse(false)?;
                }
                None => {
                    for branch in [&mut self.then_branch, &mut self.else_branch] {
                        changed |= branch.unify_inputs(&mut inputs)?;
                        for ix in 0..outputs.len() {
                            let fact = branch.body.output_fact_mut(ix)?;
                            changed |= fact.shape.unify_with_mut(&mut outputs[ix].shape)?;
                            changed |= fact.datum_type.unify_with_mut(&mut outputs[ix].datum_type)?;
                        }
                        changed |= branch.body.analyse(false)?;
                    }
                }
            }
            if !changed {
                return Ok((inputs, outputs, observed.into_iter().cloned().collect()));
            }
        }
    }

    fn nboutputs(&self) -> TractResult<usize> {
        let (then, other) = (self.then_branch.body.outputs.len(), self.else_branch.body.outputs.len());
        ensure!(then == other, "If: the then branch has {then} outputs, the else branch {other}");
        Ok(then)
    }

    fn to_typed(
        &self,
        source: &InferenceModel,
        node: &InferenceNode,
        target: &mut TypedModel,
        mapping: &HashMap<OutletId, OutletId>,
    ) -> TractResult<TVec<OutletId>> {
        let inputs: TVec<OutletId> = node.inputs.iter().map(|o| mapping[o]).collect();
        let facts = node.inputs.iter().map(|o| source.outlet_fact(*o).cloned()).collect::<TractResult<TVec<_>>>()?;
        let known = trusted_condition(&facts);
        if let Some(condition) = known {
            // The branch taken, its nodes wired in place of the If.
            let branch = self.branch(condition.cast_to_scalar::<bool>()?);
            let body = branch.body.clone().into_typed()?;
            let mut wired: HashMap<OutletId, OutletId> = HashMap::new();
            for (outlet, outer) in body.input_outlets()?.iter().zip(&branch.mapping) {
                wired.insert(*outlet, inputs[*outer]);
            }
            for id in body.eval_order()? {
                let inner = body.node(id);
                if inner.op_is::<tract_onnx::tract_core::ops::source::TypedSource>() {
                    continue;
                }
                let node_inputs: TVec<OutletId> = inner.inputs.iter().map(|o| wired[o]).collect();
                let outlets =
                    target.wire_node(format!("{}.{}", node.name, inner.name), inner.op.clone(), &node_inputs)?;
                for (slot, outlet) in outlets.iter().enumerate() {
                    wired.insert(OutletId::new(id, slot), *outlet);
                }
            }
            return body.output_outlets()?.iter().map(|o| Ok(wired[o])).collect();
        }
        let then_body = self.then_branch.body.clone().into_typed()?;
        let else_body = self.else_branch.body.clone().into_typed()?;
        for ix in 0..then_body.outputs.len() {
            let (a, b) = (then_body.output_fact(ix)?.without_value(), else_body.output_fact(ix)?.without_value());
            ensure!(a == b, "If {:?}: its condition is known only at run time, and its branches give different facts for output {ix}: {a:?} and {b:?}", node.name);
        }
        let ite = IfThenElse {
            then_body,
            then_input_mapping: self.then_branch.mapping.clone(),
            else_body,
            else_input_mapping: self.else_branch.mapping.clone(),
        };
        target.wire_node(&node.name, RunTimeIf { ite, plans: Arc::default() }, &inputs)
    }

    as_op!();
}

/// A branch's optimized plan, made when the branch is first taken (or why it could not be).
type BranchPlan = OnceLock<std::result::Result<Arc<TypedSimplePlan>, String>>;

/// An If whose condition is known only at run time, in a typed graph: tract's `IfThenElse` for
/// its facts and its simplification (when the condition becomes a constant), and a plan per
/// branch, optimized and made once.
#[derive(Debug, Clone)]
struct RunTimeIf {
    ite: IfThenElse,
    /// The plans of the then and else branches.
    plans: Arc<[BranchPlan; 2]>,
}

impl PartialEq for RunTimeIf {
    fn eq(&self, _: &Self) -> bool {
        false
    }
}
impl Eq for RunTimeIf {}

impl Op for RunTimeIf {
    fn name(&self) -> StaticName {
        "RunTimeIf".into()
    }

    op_as_typed_op!();
}

impl TypedOp for RunTimeIf {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        self.ite.output_facts(inputs)
    }

    fn declutter(&self, model: &TypedModel, node: &TypedNode) -> TractResult<Option<TypedModelPatch>> {
        self.ite.declutter(model, node)
    }

    as_op!();
}

impl EvalOp for RunTimeIf {
    op_out_of_plan!();

    fn eval(&self, _: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let condition = inputs[0].cast_to_scalar::<bool>()?;
        let (slot, body, mapping) = if condition {
            (0, &self.ite.then_body, &self.ite.then_input_mapping)
        } else {
            (1, &self.ite.else_body, &self.ite.else_input_mapping)
        };
        let plan = self.plans[slot].get_or_init(|| {
            body.clone().into_optimized().and_then(|m| m.into_runnable()).map_err(|e| format!("{e:#}"))
        });
        let plan = plan
            .as_ref()
            .map_err(|e| format_err!("If: planning the {} branch: {e}", if condition { "then" } else { "else" }))?;
        plan.run(mapping.iter().map(|&ix| inputs[ix].clone()).collect())
    }
}
