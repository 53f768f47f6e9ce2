//! The inference engine: tract. Loads an ONNX graph from bytes, types and declutters it once,
//! and keeps optimized plans with their reusable states per batch size, so that no prediction
//! re-plans. Knows nothing of manifests' roles or of JavaScript.

use tract_nnef::prelude::*;

use crate::error::{Error, Result};
use crate::manifest::{Dim, GraphIo, BATCH_DIM};

/// How many batch sizes get a plan optimized for their concrete size. Other sizes run on one
/// plan optimized for the symbolic batch size.
const CONCRETE_PLANS: usize = 4;

/// A loaded graph with its plans.
pub struct Engine {
    model: String,
    /// Typed and decluttered, batch dimension still symbolic: the source of every plan.
    typed: TypedModel,
    batch: Option<Symbol>,
    /// Plans (as reusable states) for concrete batch sizes, most recently used last.
    concrete: Vec<(usize, TypedSimpleState)>,
    /// The plan for any batch size, built when first needed.
    symbolic: Option<TypedSimpleState>,
    /// The graph as a row program ([`rows`]), what runs instead of tract's plans, or why it is
    /// none.
    rows: std::result::Result<rows::RowProgram, String>,
    /// Whether the row program runs (tests and the benchmark turn it off to time tract's plans).
    use_rows: bool,
    inputs: Vec<GraphIo>,
    outputs: Vec<GraphIo>,
    /// The ONNX file's string properties: `doc_string`, `metadata_props.<key>`, ...
    properties: Vec<(String, String)>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("model", &self.model)
            .field("inputs", &self.inputs)
            .field("outputs", &self.outputs)
            .field("plans", &self.concrete.iter().map(|(n, _)| *n).collect::<Vec<_>>())
            .field("row_program", &self.rows.is_ok())
            .finish()
    }
}

/// Runs the static constructors of the module once (wasm32 only; natively the loader does it):
/// tract-linalg registers its kernels with `inventory`, in constructors that wasm-ld gathers into
/// `__wasm_call_ctors`. Called before tract is first used and from the start function.
///
/// The explicit call also matters for speed: when nothing in a module calls `__wasm_call_ctors`,
/// wasm-ld wraps *every* export in a call to it, so each call from JavaScript (a predict, and the
/// glue's own allocator calls) re-ran every registration: in Node, digits-accurate's predict()
/// took ~74 us at p50 that way and takes ~23 us now. The `Once` covers a host that does not run
/// the start function (wasm-bindgen-test's runner, or edgeserve linked into another crate).
pub fn run_static_constructors() {
    #[cfg(target_family = "wasm")]
    {
        extern "C" {
            fn __wasm_call_ctors();
        }
        static ONCE: std::sync::Once = std::sync::Once::new();
        // SAFETY: the linker-made constructor function, run once per instance.
        ONCE.call_once(|| unsafe { __wasm_call_ctors() });
    }
}

#[cfg(any(test, not(feature = "onnx")))]
#[cfg_attr(feature = "onnx", allow(dead_code))]
mod lean;
#[cfg(feature = "onnx")]
mod onnx;
mod rows;
mod specialize;

/// The tract version edgeserve is built with; NNEF forms are read by the version that wrote them.
pub const TRACT_VERSION: &str = "0.23.9";

/// tract's NNEF reader and writer, with tract's core operators and (with the `onnx-opl`
/// feature) the ONNX operators that stay in a typed graph (tree ensembles, ...). In the lean
/// build, a reader of the operators its embedded packages use and no more ([`lean`]). Built once
/// per module instance: building it parses NNEF's standard library and tract's fragment
/// declarations (5.5 ms natively, more in wasm), which every load after the first skips.
fn nnef_framework() -> &'static tract_nnef::framework::Nnef {
    static FRAMEWORK: std::sync::OnceLock<tract_nnef::framework::Nnef> = std::sync::OnceLock::new();
    FRAMEWORK.get_or_init(|| {
        #[cfg(not(feature = "onnx"))]
        return lean::framework();
        #[cfg(feature = "onnx")]
        tract_onnx_opl::WithOnnx::with_onnx(tract_nnef::nnef())
    })
}

/// A load failure at `stage`: what tract needed there (`expected`) and what it met instead.
fn load_error(model: &str, stage: &str, expected: &str, e: impl std::fmt::Display) -> Error {
    Error::ModelLoad { model: model.to_owned(), detail: format!("{stage}: expected {expected}, got: {e:#}") }
}

const TRACTABLE: &str = "a graph of operators tract implements, with types and shapes it can infer";
const PLANNABLE: &str = "a graph tract can optimize and plan";

fn dtype_name(dt: DatumType) -> String {
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

fn graph_io(model: &TypedModel, outlet: OutletId, name: String) -> TractResult<GraphIo> {
    let fact = model.outlet_fact(outlet)?;
    let shape = fact
        .shape
        .iter()
        .map(|d| match d.to_i64() {
            Ok(v) if v >= 0 => Dim::Fixed(v as u64),
            _ => Dim::Symbol(d.to_string()),
        })
        .collect();
    Ok(GraphIo { name, dtype: dtype_name(fact.datum_type), shape })
}

/// The typed graph's inputs and outputs as [`GraphIo`]s (dtypes and shapes from the graph),
/// named by `input_names` and `output_names` in the graph's order.
fn graph_ios(model: &str, typed: &TypedModel, input_names: Vec<String>, output_names: Vec<String>) -> Result<(Vec<GraphIo>, Vec<GraphIo>)> {
    let io = |what: &str, outlets: TractResult<&[OutletId]>, names: Vec<String>| -> Result<Vec<GraphIo>> {
        let outlets = outlets.map_err(|e| load_error(model, &format!("reading {what}"), TRACTABLE, e))?;
        if outlets.len() != names.len() {
            return Err(load_error(model, &format!("reading {what}"), &format!("{} {what} (as named)", names.len()), format!("{} {what}", outlets.len())));
        }
        outlets
            .iter()
            .zip(names)
            .map(|(o, name)| graph_io(typed, *o, name).map_err(|e| load_error(model, "reading the graph's inputs and outputs", TRACTABLE, e)))
            .collect()
    };
    Ok((io("inputs", typed.input_outlets(), input_names)?, io("outputs", typed.output_outlets(), output_names)?))
}

impl Engine {
    /// Reads a graph in tract's NNEF form (`model.nnef.tar`, see [`Engine::to_nnef`]) and
    /// builds the plan for batch size 1. NNEF renames what ONNX names freely, so the ONNX names
    /// of the inputs and outputs come from the manifest, in the graph's order; their dtypes and
    /// shapes come from the graph, and the manifest is still checked against them.
    pub fn load_nnef(model: &str, nnef: &[u8], input_names: Vec<String>, output_names: Vec<String>) -> Result<Engine> {
        run_static_constructors();
        #[cfg(feature = "onnx")]
        let typed = nnef_framework().model_for_read(&mut &nnef[..]);
        #[cfg(not(feature = "onnx"))]
        let typed = lean::read(nnef_framework(), nnef);
        let typed = typed
            .map_err(|e| load_error(model, "reading the NNEF form", &format!("a tar of graph.nnef and its tensors, written by tract {TRACT_VERSION} with extensions this build has (tract_onnx needs the onnx-opl feature)"), e))?;
        let (inputs, outputs) = graph_ios(model, &typed, input_names, output_names)?;
        Engine::planned(model, typed, inputs, outputs, vec![])
    }

    /// An engine for a typed graph: its row program when it is one, else the plan for batch
    /// size 1 built (tract's plans for the row program's graphs are built when first needed).
    fn planned(model: &str, typed: TypedModel, inputs: Vec<GraphIo>, outputs: Vec<GraphIo>, properties: Vec<(String, String)>) -> Result<Engine> {
        let batch = typed.symbols.get(BATCH_DIM);
        let rows = rows::RowProgram::compile(&typed, BATCH_DIM);
        let mut engine =
            Engine { model: model.to_owned(), typed, batch, concrete: vec![], symbolic: None, rows, use_rows: true, inputs, outputs, properties };
        if engine.rows.is_err() {
            engine.state_for(1)?;
        }
        Ok(engine)
    }

    /// The graph as a row program ([`rows`], edgeserve's own executor for small dense graphs):
    /// `Ok` when it is one, else which part of the graph is not.
    pub fn row_program(&self) -> std::result::Result<(), &str> {
        self.rows.as_ref().map(|_| ()).map_err(String::as_str)
    }

    /// Whether the row program runs (it does by default when there is one).
    pub fn row_program_on(&self) -> bool {
        self.use_rows && self.rows.is_ok()
    }

    /// Runs the row program (`true`, the default) or tract's plans (`false`) from now on. Without
    /// a row program, tract's plans run either way.
    pub fn set_row_program(&mut self, on: bool) {
        self.use_rows = on;
    }

    /// The row program, when there is one, it is on, and it takes `input`.
    fn row_program_for(&mut self, input: &Tensor) -> Option<&mut rows::RowProgram> {
        self.rows.as_mut().ok().filter(|p| self.use_rows && p.accepts(input))
    }

    fn inference_error(&self, e: impl std::fmt::Display) -> Error {
        Error::Inference { model: self.model.clone(), detail: format!("{e:#}") }
    }

    /// The graph in tract's NNEF form (a tar, byte for byte the same for the same graph and
    /// tract version): what [`Engine::load_nnef`] reads. Written from the typed, simplified
    /// graph, so a load from it skips ONNX parsing, typing and decluttering. Full build only:
    /// the lean one reads NNEF and has no writer.
    #[cfg(feature = "onnx")]
    pub fn to_nnef(&self) -> Result<Vec<u8>> {
        nnef_framework()
            .write_to_tar_with_config(&self.typed, vec![], false, true)
            .map_err(|e| load_error(&self.model, "writing the NNEF form", "a graph of operators tract can write as NNEF", e))
    }

    /// The graph's inputs as tract typed them.
    pub fn inputs(&self) -> &[GraphIo] {
        &self.inputs
    }

    /// The graph's outputs as tract typed them.
    pub fn outputs(&self) -> &[GraphIo] {
        &self.outputs
    }

    /// The ONNX file's string properties (`doc_string`, `metadata_props.<key>`, ...).
    pub fn properties(&self) -> &[(String, String)] {
        &self.properties
    }

    fn plan(&self, model: TypedModel) -> Result<TypedSimpleState> {
        let plan = model
            .into_optimized()
            .and_then(|mut m| specialize::specialize(&mut m).map(|()| m))
            .and_then(|m| m.into_runnable())
            .map_err(|e| load_error(&self.model, "optimizing the graph", PLANNABLE, e))?;
        TypedSimpleState::new(&plan).map_err(|e| load_error(&self.model, "preparing the plan's state", PLANNABLE, e))
    }

    fn symbolic_state(&mut self) -> Result<&mut TypedSimpleState> {
        if self.symbolic.is_none() {
            self.symbolic = Some(self.plan(self.typed.clone())?);
        }
        self.symbolic.as_mut().ok_or_else(|| load_error(&self.model, "planning", "a plan", "none"))
    }

    fn state_for(&mut self, batch: usize) -> Result<&mut TypedSimpleState> {
        let Some(sym) = self.batch.clone() else {
            // No batch symbol: the graph has fixed shapes and one plan.
            return self.symbolic_state();
        };
        if let Some(pos) = self.concrete.iter().position(|(n, _)| *n == batch) {
            let entry = self.concrete.remove(pos);
            self.concrete.push(entry);
        } else if batch == 1 || self.concrete.len() < CONCRETE_PLANS {
            let subs = std::iter::once((sym, TDim::Val(batch as i64))).collect();
            let fixed = self.typed.set_symbols(&subs).map_err(|e| load_error(&self.model, "fixing the batch size", PLANNABLE, e))?;
            let state = self.plan(fixed)?;
            self.concrete.push((batch, state));
        } else {
            return self.symbolic_state();
        }
        match self.concrete.last_mut() {
            Some((_, state)) => Ok(state),
            None => Err(load_error(&self.model, "planning", "a plan", "none")),
        }
    }

    /// Runs the graph on every input (in the graph's order) and returns every output. When the
    /// first input's first dimension is the batch symbol, the plan for that batch size runs.
    pub fn run_all(&mut self, inputs: TVec<TValue>) -> Result<TVec<TValue>> {
        if let [input] = inputs.as_slice() {
            if let Some(program) = self.row_program_for(input) {
                return program.run(input).map_err(|e| self.inference_error(e));
            }
        }
        let batched = matches!(self.inputs.first().and_then(|i| i.shape.first()), Some(Dim::Symbol(s)) if s == BATCH_DIM);
        let batch = inputs.first().and_then(|t| t.shape().first().copied()).filter(|_| batched);
        let state = match batch {
            Some(n) => self.state_for(n)?,
            None => self.symbolic_state()?,
        };
        let result = state.run(inputs);
        result.map_err(|e| self.inference_error(e))
    }

    /// Runs the graph on one input tensor whose first dimension is the batch size, and returns
    /// every output in the graph's order.
    pub fn run(&mut self, input: Tensor) -> Result<TVec<TValue>> {
        if let Some(program) = self.row_program_for(&input) {
            return program.run(&input).map_err(|e| self.inference_error(e));
        }
        let batch = input.shape().first().copied().unwrap_or(1);
        let result = self.state_for(batch)?.run(tvec![input.into_tvalue()]);
        result.map_err(|e| self.inference_error(e))
    }
}
