//! tract's optimizer with a way down: a valid graph on which one of tract's passes fails is
//! still planned, with less optimization. Each step down is said in a note ([`Notes`]) that the
//! engine keeps and `model.engineDetails` reports.
//!
//! The ladder, for decluttering (at load) and for code generation (at planning):
//! 1. every pass of tract's optimizer;
//! 2. when the pass that failed (named by tract's error, "running pass X") applies a rule per
//!    node (tract's "declutter", "codegen" and "fuse"), the same pass that leaves alone the
//!    nodes whose rule fails ([`Tolerant`]); else the optimizer without that pass;
//! 3. none: the graph as it was (decluttered, or only typed), which tract's plan still runs.

use tract_nnef::internal::*;
use tract_nnef::tract_core::optim::{Optimizer, OptimizerSession, TypedPass};

/// What the engine did differently from tract's defaults, in words for the caller (each said
/// once), and the passes that failed, which later plans of the same graph skip from the start.
#[derive(Debug, Clone, Default)]
pub(crate) struct Notes {
    said: Vec<String>,
    /// (stage, pass) of every pass that failed.
    skipped: Vec<(&'static str, String)>,
}

impl Notes {
    pub(crate) fn new() -> Notes {
        Notes::default()
    }

    /// Says `note`, unless it was said already.
    pub(crate) fn push(&mut self, note: String) {
        if !self.said.contains(&note) {
            self.said.push(note);
        }
    }

    /// Everything said, in order.
    pub(crate) fn said(&self) -> &[String] {
        &self.said
    }
}

/// The name of the pass a failure of tract's optimizer names ("running pass declutter: ...").
fn failed_pass(e: &TractError) -> Option<String> {
    e.chain().find_map(|cause| {
        cause.to_string().strip_prefix("running pass ").map(|p| p.split(':').next().unwrap_or(p).trim().to_owned())
    })
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

/// A rule tract's optimizer applies to each node in turn.
type Rule = fn(&dyn TypedOp, &mut OptimizerSession, &TypedModel, &TypedNode) -> TractResult<Option<TypedModelPatch>>;

/// tract's per-node rules, by the name of the pass that applies them.
fn rule(pass: &str) -> Option<Rule> {
    match pass {
        "declutter" => Some(|op, session, model, node| op.declutter_with_session(session, model, node)),
        "codegen" => Some(|op, _, model, node| op.codegen(model, node)),
        "fuse" => Some(|op, _, model, node| op.fuse(model, node)),
        _ => None,
    }
}

/// A pass of per-node rules that leaves alone a node whose rule fails (tract's own stops the
/// whole optimization there).
#[derive(Clone)]
struct Tolerant {
    name: String,
    rule: Rule,
    /// The first node the next call looks at.
    from: usize,
}

impl std::fmt::Debug for Tolerant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (tolerant)", self.name)
    }
}

impl TypedPass for Tolerant {
    fn reset(&mut self) -> TractResult<()> {
        self.from = 0;
        Ok(())
    }

    fn next(&mut self, session: &mut OptimizerSession, model: &TypedModel) -> TractResult<Option<TypedModelPatch>> {
        for node in model.nodes.iter().skip(self.from) {
            if let Ok(Some(mut patch)) = (self.rule)(node.op.as_ref(), session, model, node) {
                patch.push_context(format!("{self:?} {node}"));
                self.from = node.id + usize::from(patch.dont_apply_twice.is_some());
                return Ok(Some(patch));
            }
        }
        Ok(None)
    }
}

/// The optimizer with the pass named `pass` made [`Tolerant`] when it is one of per-node rules,
/// else without it.
fn without(mut optimizer: Optimizer, pass: &str) -> Optimizer {
    let at = optimizer.passes.iter().position(|p| format!("{p:?}") == pass);
    if let Some(at) = at {
        optimizer.passes.remove(at);
        if let Some(rule) = rule(pass) {
            optimizer.passes.insert(at, Box::new(Tolerant { name: pass.to_owned(), rule, from: 0 }));
        }
    }
    optimizer
}

/// Applies `optimizer()` to `model`, stepping down the ladder when a pass fails (a pass that
/// failed on this graph before is skipped from the start); `what` names the stage in notes
/// ("decluttering", "code generation"). Never fails: the last step is the graph as given.
fn ladder(model: TypedModel, what: &'static str, optimizer: fn() -> Optimizer, notes: &mut Notes) -> TypedModel {
    // A pass named in one stage's failure is skipped in the other's too (both optimizers run
    // tract's "declutter" rules, for one).
    let full = notes.skipped.iter().fold(optimizer(), |o, (_, pass)| without(o, pass));
    let e = match run(&model, &full) {
        Ok(done) => return done,
        Err(e) => e,
    };
    if let Some(pass) = failed_pass(&e) {
        let found = full.passes.iter().any(|p| format!("{p:?}") == pass);
        let reduced = without(full, &pass);
        if found {
            if let Ok(done) = run(&model, &reduced) {
                let how = if rule(&pass).is_some() {
                    "with that pass leaving alone the nodes it fails on"
                } else {
                    "without it"
                };
                notes.push(format!(
                    "{what}: tract's pass {pass:?} failed on this graph ({}); the graph was optimized {how}",
                    brief(&e)
                ));
                notes.skipped.push((what, pass));
                return done;
            }
        }
    }
    notes.push(format!(
        "{what}: tract's optimizer failed on this graph ({}); the graph is run without {what}",
        brief(&e)
    ));
    model
}

/// Makes every recurrent loop of the graph (tract's `Scan`, which ONNX `LSTM`, `GRU`, `RNN` and
/// `Scan` become, and its `GruSeq`), in nested bodies too, start from the state its inputs give
/// on every run. tract's default carries a loop's last state from one run of a plan to the next
/// (its streaming models rely on it) and then reads the initial-state input on the first run
/// only; edgeserve runs one plan for many independent calls, whose recurrent state is what each
/// call gives (a session's state, an `h` and a `c` of the caller's).
pub(crate) fn stateless(model: &mut TypedModel) {
    use tract_nnef::tract_core::ops::{gru_seq::GruSeq, logic::IfThenElse, scan::Scan};
    for node in &mut model.nodes {
        if let Some(scan) = node.op_as_mut::<Scan>() {
            scan.reset_every_turn = true;
            stateless(&mut scan.body);
        } else if let Some(gru) = node.op_as_mut::<GruSeq>() {
            gru.reset_every_turn = true;
        } else if let Some(branches) = node.op_as_mut::<IfThenElse>() {
            stateless(&mut branches.then_body);
            stateless(&mut branches.else_body);
        }
    }
}

/// The graph decluttered (tract's simplifications: constants folded, no-op nodes removed, ...),
/// its loops [`stateless`].
pub(crate) fn declutter(mut model: TypedModel, notes: &mut Notes) -> TypedModel {
    stateless(&mut model);
    let mut model = ladder(model, "decluttering", Optimizer::declutter, notes);
    stateless(&mut model); // loops the passes made (a GruSeq from a Scan)
    model
}

/// The graph decluttered and translated to tract's optimized operators, ready to plan.
pub(crate) fn optimize(model: TypedModel, notes: &mut Notes) -> TypedModel {
    let model = declutter(model, notes);
    ladder(model, "code generation", Optimizer::codegen, notes)
}
