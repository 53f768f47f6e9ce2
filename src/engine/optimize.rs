//! tract's optimizer with a way down: a valid graph on which one of tract's passes fails is
//! still planned, with less optimization. Each step down is said in a note ([`Notes`]) that the
//! engine keeps and `model.engineDetails` reports.
//!
//! The ladder, for decluttering (at load) and for code generation (at planning):
//! 1. every pass of tract's optimizer;
//! 2. the same optimizer without the pass that failed (named by tract's error, "running pass X");
//! 3. none: the graph as it was (decluttered, or only typed), which tract's plan still runs.

use tract_nnef::internal::*;
use tract_nnef::tract_core::optim::Optimizer;

/// What the engine did differently from tract's defaults, in words for the caller.
pub(crate) type Notes = Vec<String>;

/// The name of the pass a failure of tract's optimizer names ("running pass declutter: ...").
fn failed_pass(e: &TractError) -> Option<String> {
    e.chain().find_map(|cause| cause.to_string().strip_prefix("running pass ").map(|p| p.split(':').next().unwrap_or(p).trim().to_owned()))
}

/// An error's text with its causes, cut short for a note.
pub(crate) fn brief(e: &dyn std::fmt::Display) -> String {
    let text = format!("{e:#}");
    match text.char_indices().nth(300) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text,
    }
}

/// Runs `optimizer` on a copy of `model`.
fn run(model: &TypedModel, optimizer: &Optimizer) -> TractResult<TypedModel> {
    let mut copy = model.clone();
    optimizer.optimize(&mut copy)?;
    Ok(copy)
}

/// The optimizer without the pass named `pass`.
fn without(mut optimizer: Optimizer, pass: &str) -> Optimizer {
    optimizer.passes.retain(|p| format!("{p:?}") != pass);
    optimizer
}

/// Applies `optimizer()` to `model`, stepping down the ladder when a pass fails; `what` names
/// the stage in notes ("decluttering", "code generation"). Never fails: the last step is the
/// graph as given.
fn ladder(model: TypedModel, what: &str, optimizer: fn() -> Optimizer, notes: &mut Notes) -> TypedModel {
    let e = match run(&model, &optimizer()) {
        Ok(done) => return done,
        Err(e) => e,
    };
    if let Some(pass) = failed_pass(&e) {
        let reduced = without(optimizer(), &pass);
        if reduced.passes.len() < optimizer().passes.len() {
            if let Ok(done) = run(&model, &reduced) {
                notes.push(format!("{what}: tract's pass {pass:?} failed on this graph ({}); the graph was optimized without it", brief(&e)));
                return done;
            }
        }
    }
    notes.push(format!("{what}: tract's optimizer failed on this graph ({}); the graph is run without {what}", brief(&e)));
    model
}

/// The graph decluttered (tract's simplifications: constants folded, no-op nodes removed, ...).
pub(crate) fn declutter(model: TypedModel, notes: &mut Notes) -> TypedModel {
    ladder(model, "decluttering", Optimizer::declutter, notes)
}

/// The graph decluttered and translated to tract's optimized operators, ready to plan.
pub(crate) fn optimize(model: TypedModel, notes: &mut Notes) -> TypedModel {
    let model = declutter(model, notes);
    ladder(model, "code generation", Optimizer::codegen, notes)
}
