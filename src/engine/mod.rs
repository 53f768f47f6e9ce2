//! The inference engine: a graph loaded from bytes, run on [`Array`]s. Two executors:
//!
//! - [`rows`], edgeserve's own executor for small dense graphs (a row program), which runs
//!   whenever the graph is one; in every build, and the only one in a build without `tract`
//!   (whose packages come in their rows form, `model.rows`).
//! - tract's optimized plans ([`plans`], the `tract` feature): any graph tract implements,
//!   loaded from ONNX (the `onnx` feature) or from tract's NNEF form.
//!
//! Knows nothing of manifests' roles or of JavaScript.

use crate::error::{Error, Result};
use crate::manifest::GraphIo;
#[cfg(feature = "tract")]
use crate::manifest::BATCH_DIM;
use crate::tensor::{Array, TensorData};

/// How the engine runs a graph ([`Engine::details`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Details {
    /// `"rows"` (edgeserve's row executor) or `"tract"` (tract's plans).
    pub executor: &'static str,
    /// How tract typed the graph: `"fixed"` (every input shape fixed), `"symbolic"` (free
    /// dimensions as symbols: one plan for any shapes), or `"per shape set"` (typed and planned
    /// for the concrete shapes of each call).
    pub typing: &'static str,
    /// The input shape sets (in the graph's input order) that have a plan of their own, least
    /// recently used first.
    pub planned_shapes: Vec<Vec<Vec<usize>>>,
    /// Whether each row of a batch is computed from that row alone, so that a batch may run as
    /// smaller ones where they cost less per row (see `batches`).
    pub rows_independent: bool,
    /// What the engine did differently from tract's defaults to load or run this graph (a pass
    /// of tract's optimizer skipped, ...), in words; empty when nothing.
    pub notes: Vec<String>,
}

/// What the loader knows of a dimension of an input that the graph leaves free (a package's
/// manifest says it): a graph that tract cannot type with a bare symbol there may type with
/// it. A detector whose feature maps of several scales meet types only when its input's height
/// and width are multiples of its largest stride; a line recogniser only for its line height.
/// A dimension the graph fixes stays as the graph says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DimHint {
    /// The input, by its position in the graph's inputs.
    pub input: usize,
    pub axis: usize,
    pub size: HintedSize,
}

/// See [`DimHint`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HintedSize {
    /// Always this size.
    Fixed(u64),
    /// Any multiple of this: the graph is typed with the dimension `k * S` for its symbol `S`,
    /// and its inputs and outputs report `k * S` as `S` (the manifest's name of the dimension).
    MultipleOf(u64),
}

/// A loaded graph with its executors.
pub struct Engine {
    model: String,
    /// tract's typed graph and plans; none for a graph loaded from its rows form.
    #[cfg(feature = "tract")]
    plans: Option<plans::Plans>,
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
        let mut d = f.debug_struct("Engine");
        d.field("model", &self.model).field("inputs", &self.inputs).field("outputs", &self.outputs);
        #[cfg(feature = "tract")]
        d.field("plans", &self.plans.as_ref().map(plans::Plans::concrete_shapes));
        d.field("row_program", &self.rows.is_ok()).finish()
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
    #[cfg(all(target_family = "wasm", feature = "tract"))]
    {
        extern "C" {
            fn __wasm_call_ctors();
        }
        static ONCE: std::sync::Once = std::sync::Once::new();
        specialize::keep_kernels();
        // SAFETY: the linker-made constructor function, run once per instance.
        ONCE.call_once(|| unsafe { __wasm_call_ctors() });
    }
    #[cfg(feature = "tract")]
    register_row_kernels();
}

/// Gives the row executor tract's vectorized `exp` for this host (softmax, sigmoid), once.
#[cfg(feature = "tract")]
fn register_row_kernels() {
    use tract_nnef::tract_core::tract_linalg::Func;
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if let Ok(kernel) = Func::Exp.ew_f32() {
            rows::register_exp(Box::new(move |xs: &mut [f32]| kernel.run(xs).is_ok()));
        }
    });
}

/// The name of the kernel tract runs on this machine for an f32 product of an `m x k` matrix
/// by a `k x n` one (in wasm with SIMD, edgeserve's own `edgeserve_f32_4x8` or
/// `edgeserve_f32_2x16` for any n but 1; natively, tract's), or `None` if tract has none. For
/// tests and benchmarks.
#[cfg(feature = "tract")]
pub fn f32_matmul_kernel(m: usize, k: usize, n: usize) -> Option<String> {
    run_static_constructors();
    let dispatch = tract_nnef::tract_core::tract_linalg::MmmDispatch::native();
    dispatch
        .preferred_kernel(tract_nnef::internal::DatumType::F32, Some(m), Some(k), Some(n))
        .map(|kernel| kernel.name().to_string())
}

#[cfg(feature = "tract")]
mod batches;
#[cfg(feature = "onnx")]
mod branches;
#[cfg(feature = "onnx")]
mod checked_ops;
#[cfg(feature = "tract")]
mod dynamic_quantize;
#[cfg(feature = "tract")]
mod gemm_i16;
#[cfg(feature = "tract")]
mod gemm_i8;
#[cfg(feature = "tract")]
mod integer_matmul;
#[cfg(all(feature = "tract", any(test, not(feature = "onnx"))))]
#[cfg_attr(feature = "onnx", allow(dead_code))]
mod lean;
#[cfg(feature = "tract")]
mod nnef_ops;
#[cfg(feature = "onnx")]
mod onnx;
#[cfg(feature = "onnx")]
pub use onnx::{summary as onnx_summary, OnnxSummary};
#[cfg(feature = "tract")]
mod optimize;
#[cfg(feature = "tract")]
mod plans;
#[cfg(feature = "onnx")]
mod quantized_lstm;
pub mod rows;
#[cfg(feature = "tract")]
mod specialize;

/// The tract version edgeserve is built with; NNEF forms are read by the version that wrote them.
pub const TRACT_VERSION: &str = "0.23.9";

/// tract's NNEF reader and writer, with tract's core operators, (with the `onnx-opl` feature)
/// the ONNX operators that stay in a typed graph (tree ensembles, ...) and edgeserve's own
/// ([`nnef_ops`]: the core operators tract cannot write). In the lean
/// build, a reader of the operators its embedded packages use and no more ([`lean`]). Built once
/// per module instance: building it parses NNEF's standard library and tract's fragment
/// declarations (5.5 ms natively, more in wasm), which every load after the first skips.
#[cfg(feature = "tract")]
fn nnef_framework() -> &'static tract_nnef::framework::Nnef {
    static FRAMEWORK: std::sync::OnceLock<tract_nnef::framework::Nnef> = std::sync::OnceLock::new();
    FRAMEWORK.get_or_init(|| {
        #[cfg(not(feature = "onnx"))]
        return lean::framework();
        #[cfg(feature = "onnx")]
        tract_onnx_opl::WithOnnx::with_onnx(tract_nnef::nnef()).with_registry(nnef_ops::registry())
    })
}

/// A load failure at `stage`: what the engine needed there (`expected`) and what it met instead.
fn load_error(model: &str, stage: &str, expected: &str, e: impl std::fmt::Display) -> Error {
    Error::ModelLoad { model: model.to_owned(), detail: format!("{stage}: expected {expected}, got: {e:#}") }
}

#[cfg(feature = "tract")]
const TRACTABLE: &str = "a graph of operators tract implements, with types and shapes it can infer";
#[cfg(feature = "tract")]
const PLANNABLE: &str = "a graph tract can optimize and plan";

impl Engine {
    /// Reads a graph in tract's NNEF form (`model.nnef.tar`, see [`Engine::to_nnef`]) and
    /// builds the plan for batch size 1. NNEF renames what ONNX names freely, so the ONNX names
    /// of the inputs and outputs come from the manifest, in the graph's order; their dtypes and
    /// shapes come from the graph, and the manifest is still checked against them.
    /// `names`: None for the names the NNEF graph gives them (a stage of an OCR package, which
    /// has no manifest of its own). The ONNX file's string properties come back from the
    /// graph's `tract_core_properties`.
    #[cfg(feature = "tract")]
    pub fn load_nnef(model: &str, nnef: &[u8], names: Option<(Vec<String>, Vec<String>)>) -> Result<Engine> {
        run_static_constructors();
        #[cfg(feature = "onnx")]
        let typed = tract_nnef::prelude::Framework::model_for_read(nnef_framework(), &mut &nnef[..]);
        #[cfg(not(feature = "onnx"))]
        let typed = lean::read(nnef_framework(), nnef);
        let typed = typed
            .map_err(|e| load_error(model, "reading the NNEF form", &format!("a tar of graph.nnef and its tensors, written by tract {TRACT_VERSION} with extensions this build has (tract_onnx needs the onnx-opl feature)"), e))?;
        let (input_names, output_names) = match names {
            Some(names) => names,
            None => plans::node_names(&typed)
                .map_err(|e| load_error(model, "reading the graph's inputs and outputs", TRACTABLE, e))?,
        };
        let (inputs, outputs) = plans::graph_ios(model, &typed, input_names, output_names)?;
        let properties = plans::string_properties(&typed.properties);
        Engine::planned(model, typed, inputs, outputs, properties, optimize::Notes::new())
    }

    /// Reads a graph in its rows form (`model.rows`, see [`Engine::to_rows`]): a row program,
    /// with the graph's inputs and outputs. No tract: this is how a build without it loads.
    pub fn load_rows(model: &str, bytes: &[u8]) -> Result<Engine> {
        let (inputs, outputs, program) =
            rows::read(bytes).map_err(|e| load_error(model, "reading the rows form", rows::FORM_EXPECTED, e))?;
        Ok(Engine {
            model: model.to_owned(),
            #[cfg(feature = "tract")]
            plans: None,
            rows: Ok(program),
            use_rows: true,
            inputs,
            outputs,
            properties: vec![],
        })
    }

    /// An engine for a typed graph: its row program when it is one, else a plan built now (for
    /// batch size 1 of an edgeserve package, else for any shapes), so that a graph tract cannot
    /// plan fails here. A graph typed with free dimensions whose plan for any shapes fails is
    /// still loaded: it is planned per shape set (said in `notes`).
    #[cfg(feature = "tract")]
    fn planned(
        model: &str,
        typed: tract_nnef::prelude::TypedModel,
        inputs: Vec<GraphIo>,
        outputs: Vec<GraphIo>,
        properties: Vec<(String, String)>,
        notes: optimize::Notes,
    ) -> Result<Engine> {
        let rows = rows::compile::compile(&typed, BATCH_DIM);
        let names = inputs.iter().map(|i| i.name.clone()).collect();
        let plans = plans::Plans::new(typed, BATCH_DIM, names, notes);
        let mut engine =
            Engine { model: model.to_owned(), plans: Some(plans), rows, use_rows: true, inputs, outputs, properties };
        if let (Err(_), Some(plans)) = (&engine.rows, &mut engine.plans) {
            plans.prepare(model, &engine.inputs)?;
        }
        Ok(engine)
    }

    /// An engine for a graph that tract types only for the concrete input shapes of a call.
    #[cfg(feature = "onnx")]
    fn retyped(
        model: &str,
        retype: Box<dyn plans::Retype>,
        inputs: Vec<GraphIo>,
        outputs: Vec<GraphIo>,
        properties: Vec<(String, String)>,
        notes: optimize::Notes,
    ) -> Engine {
        let names = inputs.iter().map(|i| i.name.clone()).collect();
        let plans = plans::Plans::retyped(retype, names, notes);
        let rows = Err("the graph is typed per shape set".to_owned());
        Engine { model: model.to_owned(), plans: Some(plans), rows, use_rows: true, inputs, outputs, properties }
    }

    /// Plans ahead for calls whose inputs have exactly these shapes (in the graph's order), so
    /// that the first such call does not plan. A no-op for a row program.
    pub fn plan_for(&mut self, shapes: &[Vec<usize>]) -> Result<()> {
        #[cfg(feature = "tract")]
        if let (Err(_), Some(plans)) = (&self.rows, &mut self.plans) {
            return plans.plan_for(&self.model, shapes);
        }
        let _ = shapes;
        Ok(())
    }

    /// How the engine runs this graph, for `model.engineDetails`.
    pub fn details(&self) -> Details {
        #[allow(unused_mut)]
        let mut details = Details {
            executor: if self.row_program_on() { "rows" } else { "tract" },
            typing: "fixed",
            planned_shapes: vec![],
            rows_independent: false,
            notes: vec![],
        };
        #[cfg(feature = "tract")]
        if let Some(plans) = &self.plans {
            let free = self.inputs.iter().any(|i| i.shape.iter().any(|d| matches!(d, crate::manifest::Dim::Symbol(_))));
            details.typing = if plans.is_retyped() {
                "per shape set"
            } else if free {
                "symbolic"
            } else {
                "fixed"
            };
            details.planned_shapes = plans.concrete_shapes();
            details.rows_independent = plans.rows_independent();
            details.notes = plans.notes.said().to_vec();
        }
        details
    }

    /// The graph as a row program ([`rows`], edgeserve's own executor for small dense graphs):
    /// `Ok` when it is one, else which part of the graph is not.
    pub fn row_program(&self) -> std::result::Result<(), &str> {
        self.rows.as_ref().map(|_| ()).map_err(String::as_str)
    }

    /// Whether tract's plans can run this graph (the `tract` feature, and a graph not loaded
    /// from its rows form).
    pub fn has_plans(&self) -> bool {
        #[cfg(feature = "tract")]
        return self.plans.is_some();
        #[cfg(not(feature = "tract"))]
        false
    }

    /// Whether the row program runs (it does by default when there is one, and always when
    /// there are no tract plans).
    pub fn row_program_on(&self) -> bool {
        self.rows.is_ok() && (self.use_rows || !self.has_plans())
    }

    /// Runs the row program (`true`, the default) or tract's plans (`false`) from now on.
    /// Without a row program, tract's plans run either way; without plans, `false` is refused
    /// with the reason.
    pub fn set_row_program(&mut self, on: bool) -> std::result::Result<(), &'static str> {
        if !on && !self.has_plans() {
            return Err(if cfg!(feature = "tract") {
                "this model was loaded from its rows form, which has no tract graph"
            } else {
                "this build of edgeserve has no tract (its packages are row programs)"
            });
        }
        self.use_rows = on;
        Ok(())
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
        let plans = self.plans.as_ref().ok_or_else(|| {
            load_error(&self.model, "writing the NNEF form", "a tract graph", "a graph loaded from its rows form")
        })?;
        let typed = plans.typed.as_ref().ok_or_else(|| {
            load_error(
                &self.model,
                "writing the NNEF form",
                "a graph tract types for any input shapes",
                "a graph typed per shape set",
            )
        })?;
        // Strings its NNEF form would not keep, percent-encoded (read back by `load_nnef`).
        let encoded = plans::nnef_safe_properties(&typed.properties).map(|properties| {
            let mut copy = typed.clone();
            copy.properties = properties;
            copy
        });
        let typed = encoded.as_ref().unwrap_or(typed);
        nnef_framework().write_to_tar_with_config(typed, vec![], false, true).map_err(|e| {
            load_error(&self.model, "writing the NNEF form", "a graph of operators tract can write as NNEF", e)
        })
    }

    /// The graph in its rows form (bytes, the same for the same graph and edgeserve version):
    /// what [`Engine::load_rows`] reads, when the graph is a row program.
    pub fn to_rows(&self) -> Result<Vec<u8>> {
        match &self.rows {
            Ok(program) => rows::write(&self.inputs, &self.outputs, program)
                .map_err(|e| load_error(&self.model, "writing the rows form", "a serializable row program", e)),
            Err(why) => Err(load_error(&self.model, "writing the rows form", "a graph the row executor covers", why)),
        }
    }

    /// The graph's inputs as typed.
    pub fn inputs(&self) -> &[GraphIo] {
        &self.inputs
    }

    /// The graph's outputs as typed.
    pub fn outputs(&self) -> &[GraphIo] {
        &self.outputs
    }

    /// The ONNX file's string properties (`doc_string`, `metadata_props.<key>`, ...).
    pub fn properties(&self) -> &[(String, String)] {
        &self.properties
    }

    /// The rows of the table that the graph input `input` indexes (an embedding table: a
    /// `Gather` whose indices come from the input, through at most a few casts), when the typed
    /// graph shows one; for checking that a tokenizer's ids fit the model.
    pub fn gather_rows(&self, input: &str) -> Option<usize> {
        #[cfg(feature = "tract")]
        if let Some(typed) = self.plans.as_ref().and_then(|p| p.typed.as_ref()) {
            return plans::gather_rows(typed, input);
        }
        let _ = input;
        None
    }

    /// The row program, when it runs and takes f32 rows of shape `shape`.
    fn row_program_for(&mut self, shape: &[usize]) -> Option<&mut rows::RowProgram> {
        let on = self.row_program_on();
        self.rows.as_mut().ok().filter(|p| on && p.accepts(shape))
    }

    /// Runs the graph on every input (in the graph's order) and returns every output. When the
    /// first input's first dimension is the batch symbol, the plan for that batch size runs.
    pub fn run_all(&mut self, inputs: Vec<Array>) -> Result<Vec<Array>> {
        if let [Array { shape, data: TensorData::F32(x) }] = inputs.as_slice() {
            if let Some(program) = self.row_program_for(shape) {
                return program.run(x, shape.first().copied().unwrap_or(0)).map_err(|e| self.inference_error(e));
            }
        }
        #[cfg(feature = "tract")]
        if let Some(plans) = &mut self.plans {
            return plans.run_all(&self.model, inputs);
        }
        Err(self.no_executor(&inputs.iter().map(|a| (a.data.dtype().as_str(), a.shape.as_slice())).collect::<Vec<_>>()))
    }

    /// Runs the graph on f32 rows `data` of shape `shape` (the batch size first), and returns
    /// every output in the graph's order.
    pub fn run(&mut self, data: &[f32], shape: &[usize]) -> Result<Vec<Array>> {
        if let Some(program) = self.row_program_for(shape) {
            return program.run(data, shape.first().copied().unwrap_or(0)).map_err(|e| self.inference_error(e));
        }
        #[cfg(feature = "tract")]
        if let Some(plans) = &mut self.plans {
            return plans.run(&self.model, data, shape);
        }
        Err(self.no_executor(&[("float32", shape)]))
    }

    /// The error for inputs that the row program does not take, with no tract plans to run them.
    fn no_executor(&self, given: &[(&str, &[usize])]) -> Error {
        let expected: Vec<String> =
            self.inputs.iter().map(|i| format!("{} {}", i.dtype, crate::manifest::shape_string(&i.shape))).collect();
        let got: Vec<String> = given.iter().map(|(dt, shape)| format!("{dt} {shape:?}")).collect();
        self.inference_error(format!("the row program takes {}, got {}", expected.join(", "), got.join(", ")))
    }
}
