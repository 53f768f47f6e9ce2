//! The inference engine: tract. Loads an ONNX graph from bytes, types and declutters it once,
//! and keeps optimized plans with their reusable states per batch size, so that no prediction
//! re-plans. Knows nothing of manifests' roles or of JavaScript.

use tract_onnx::prelude::*;

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

/// Refuses a graph (or a subgraph of an If, Loop or Scan) whose output names a value that no
/// input, initializer or node of that graph makes: tract 0.23's parser panics on such a graph
/// (found by the `package` fuzz target; tests/fixtures/fuzz/package/ keeps the input).
fn check_outputs_are_produced(model: &str, graph: &tract_onnx::pb::GraphProto) -> Result<()> {
    let made: std::collections::HashSet<&str> = graph
        .input
        .iter()
        .map(|i| i.name.as_str())
        .chain(graph.initializer.iter().map(|t| t.name.as_str()))
        .chain(graph.node.iter().flat_map(|n| n.output.iter().map(String::as_str)))
        .collect();
    if let Some(missing) = graph.output.iter().find(|o| !made.contains(o.name.as_str())) {
        return Err(load_error(
            model,
            "reading the ONNX graph",
            &format!("every output of graph {:?} made by one of its inputs, initializers or nodes", graph.name),
            format!("output {:?}, which nothing makes", missing.name),
        ));
    }
    for node in &graph.node {
        for attribute in &node.attribute {
            for sub in attribute.g.iter().chain(&attribute.graphs) {
                check_outputs_are_produced(model, sub)?;
            }
        }
    }
    Ok(())
}

/// The ONNX names of a graph's inputs or outputs: the name of an input's source node, an
/// output's label. Read from the graph as parsed, before typing may fold a no-op first node (a
/// Cast, a full Slice) into an input and so rename it.
fn onnx_names(model: &InferenceModel, outlets: &[OutletId]) -> Vec<String> {
    outlets.iter().map(|o| model.outlet_label(*o).map(str::to_owned).unwrap_or_else(|| model.node(o.node).name.clone())).collect()
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

impl Engine {
    /// Parses ONNX bytes, types and declutters the graph, and builds the plan for batch size 1.
    /// `model` names the model in errors.
    pub fn load(model: &str, onnx: &[u8]) -> Result<Engine> {
        run_static_constructors();
        let framework = tract_onnx::onnx();
        let proto = framework
            .proto_model_for_read(&mut &onnx[..])
            .map_err(|e| load_error(model, "parsing the ONNX file", &format!("an ONNX model (a ModelProto protobuf); the {} bytes given do not decode as one", onnx.len()), e))?;
        if let Some(graph) = &proto.graph {
            check_outputs_are_produced(model, graph)?;
        }
        let inference = framework
            .model_for_proto_model(&proto)
            .map_err(|e| load_error(model, "reading the ONNX graph", TRACTABLE, e))?;
        let properties = inference
            .properties
            .iter()
            .filter_map(|(k, v)| {
                let value = v.try_as_plain_ram().ok()?.as_slice::<String>().ok()?.first()?.clone();
                Some((k.strip_prefix("onnx.").unwrap_or(k).to_owned(), value))
            })
            .collect();
        let input_names = onnx_names(&inference, inference.input_outlets().map_err(|e| load_error(model, "reading inputs", TRACTABLE, e))?);
        let output_names = onnx_names(&inference, inference.output_outlets().map_err(|e| load_error(model, "reading outputs", TRACTABLE, e))?);
        let typed = inference.into_typed().map_err(|e| load_error(model, "typing the graph", TRACTABLE, e))?;
        // Types and shapes as typing inferred them, before decluttering changes the graph.
        let io = |outlets: &[OutletId], names: Vec<String>| -> Result<Vec<GraphIo>> {
            outlets
                .iter()
                .zip(names)
                .map(|(o, name)| graph_io(&typed, *o, name).map_err(|e| load_error(model, "reading the graph's inputs and outputs", TRACTABLE, e)))
                .collect()
        };
        let inputs = io(typed.input_outlets().map_err(|e| load_error(model, "reading inputs", TRACTABLE, e))?, input_names)?;
        let outputs = io(typed.output_outlets().map_err(|e| load_error(model, "reading outputs", TRACTABLE, e))?, output_names)?;
        let typed = typed.into_decluttered().map_err(|e| load_error(model, "decluttering the graph", PLANNABLE, e))?;
        let batch = typed.symbols.get(BATCH_DIM);
        let mut engine = Engine { model: model.to_owned(), typed, batch, concrete: vec![], symbolic: None, inputs, outputs, properties };
        engine.state_for(1)?;
        Ok(engine)
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
        let batched = matches!(self.inputs.first().and_then(|i| i.shape.first()), Some(Dim::Symbol(s)) if s == BATCH_DIM);
        let batch = inputs.first().and_then(|t| t.shape().first().copied()).filter(|_| batched);
        let state = match batch {
            Some(n) => self.state_for(n)?,
            None => self.symbolic_state()?,
        };
        let result = state.run(inputs);
        result.map_err(|e| Error::Inference { model: self.model.clone(), detail: format!("{e:#}") })
    }

    /// Runs the graph on one input tensor whose first dimension is the batch size, and returns
    /// every output in the graph's order.
    pub fn run(&mut self, input: Tensor) -> Result<TVec<TValue>> {
        let batch = input.shape().first().copied().unwrap_or(1);
        let result = self.state_for(batch)?.run(tvec![input.into_tvalue()]);
        result.map_err(|e| Error::Inference { model: self.model.clone(), detail: format!("{e:#}") })
    }
}
