//! The ONNX side of the engine (the `onnx` feature, the full build): parsing an ONNX file and
//! turning it into a typed, simplified graph.

use tract_onnx::prelude::*;
use tract_onnx::tract_hir::infer::{Factoid, ShapeFactoid};

use super::optimize::{self, Notes};
use super::plans::{dtype_name, graph_ios, Retype};
use super::{load_error, run_static_constructors, DimHint, Engine, HintedSize, TRACTABLE};
use crate::error::Result;
use crate::manifest::{Dim, GraphIo};
use crate::package::{GraphBytes, ReadAt};

/// Refuses, in a graph or any subgraph of an If, Loop or Scan, what tract 0.23's parser panics
/// on (found by the `package` fuzz target; tests/fixtures/fuzz/package/ keeps the inputs): an
/// output that names a value no input, initializer or node of that graph makes, and a tensor of
/// strings given as raw bytes (tract reads raw bytes for numbers and booleans only).
fn check_graph(model: &str, graph: &tract_onnx::pb::GraphProto) -> Result<()> {
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
    let attributes = graph.node.iter().flat_map(|n| &n.attribute);
    let tensors = graph.initializer.iter().chain(attributes.clone().flat_map(|a| a.t.iter().chain(&a.tensors)));
    let string = tract_onnx::pb::tensor_proto::DataType::String as i32;
    if let Some(t) = tensors.into_iter().find(|t| t.data_type == string && !t.raw_data.is_empty()) {
        return Err(load_error(
            model,
            "reading the ONNX graph",
            "tensors of strings in string_data",
            format!("tensor {:?} of strings as {} raw bytes", t.name, t.raw_data.len()),
        ));
    }
    for sub in attributes.flat_map(|a| a.g.iter().chain(&a.graphs)) {
        check_graph(model, sub)?;
    }
    Ok(())
}

/// The ONNX names of a graph's inputs or outputs: the name of an input's source node, an
/// output's label. Read from the graph as parsed, before typing may fold a no-op first node (a
/// Cast, a full Slice) into an input and so rename it.
fn onnx_names(model: &InferenceModel, outlets: &[OutletId]) -> Vec<String> {
    outlets
        .iter()
        .map(|o| model.outlet_label(*o).map(str::to_owned).unwrap_or_else(|| model.node(o.node).name.clone()))
        .collect()
}

/// Gives every input dimension that the file leaves unknown (no value and no name, or `-1`) a
/// symbol of its own, `<input>_<axis>` (the input's name with every character but ASCII letters,
/// digits and `_` as `_`), so that tract can type the graph with it as it does with a named one.
fn name_free_dims(model: &mut InferenceModel, names: &[String]) -> TractResult<()> {
    for (ix, name) in names.iter().enumerate() {
        let fact = model.input_fact(ix)?.clone();
        if fact.shape.is_open() || fact.shape.dims().all(|d| d.concretize().is_some()) {
            continue;
        }
        let stem = symbol_stem(name);
        let dims: TVec<TDim> = fact
            .shape
            .dims()
            .enumerate()
            .map(|(axis, d)| d.concretize().unwrap_or_else(|| TDim::Sym(model.symbols.sym(&format!("{stem}_{axis}")))))
            .collect();
        let mut named = fact.clone();
        named.shape = ShapeFactoid::closed(dims.iter().map(|d| d.clone().into()).collect());
        model.set_input_fact(ix, named)?;
    }
    Ok(())
}

/// Types the input dimensions that `hints` name as they say (see [`DimHint`]): only those that
/// are symbols after [`name_free_dims`]; a hint naming an input or axis the graph does not have
/// is ignored (the manifest is checked against the graph afterwards).
fn apply_hints(model: &mut InferenceModel, hints: &[DimHint]) -> TractResult<()> {
    for hint in hints {
        if hint.input >= model.inputs.len() {
            continue;
        }
        let mut fact = model.input_fact(hint.input)?.clone();
        if fact.shape.is_open() {
            continue;
        }
        let mut dims: Vec<TDim> = fact.shape.dims().map(|d| d.concretize().unwrap_or(TDim::Val(-1))).collect();
        let Some(TDim::Sym(symbol)) = dims.get(hint.axis).cloned() else { continue };
        dims[hint.axis] = match hint.size {
            HintedSize::Fixed(n) => TDim::Val(n as i64),
            HintedSize::MultipleOf(k) => {
                // A size is never negative: with that known, tract simplifies `(k·S + r) / k`
                // (a stride's rounding) to `S` for r < k, and the scales of the graph meet.
                model.symbols.add_assertion(format!("{symbol} >= 0"))?;
                TDim::MulInt(k as i64, Box::new(TDim::Sym(symbol)))
            }
        };
        fact.shape = ShapeFactoid::closed(dims.into_iter().map(Into::into).collect());
        model.set_input_fact(hint.input, fact)?;
    }
    Ok(())
}

/// Whether typing for the shapes of a call can know more than typing at load: an input has a
/// dimension that is not a number (a symbol), or is a small integer tensor whose values a call
/// brings (see `plans::VALUES`).
fn typed_better_per_call(model: &InferenceModel) -> bool {
    let facts = model
        .input_outlets()
        .map(|o| o.iter().filter_map(|o| model.outlet_fact(*o).ok()).collect::<Vec<_>>())
        .unwrap_or_default();
    facts.iter().any(|f| {
        let free = f.shape.is_open() || f.shape.dims().any(|d| d.concretize().is_none_or(|d| d.to_i64().is_err()));
        let integer = f.datum_type.concretize().is_some_and(|dt| dt.is_integer() || dt == DatumType::Bool);
        let small = f
            .shape
            .as_concrete_finite()
            .ok()
            .flatten()
            .is_some_and(|s| s.len() <= 1 && s.iter().product::<usize>() <= super::plans::VALUES);
        free || (integer && small)
    })
}

/// Whether the graph has an operator tract does not implement: it is refused at load, whatever
/// the shapes.
fn has_unimplemented(model: &InferenceModel) -> bool {
    model.nodes.iter().any(|n| n.op_is::<tract_onnx::tract_hir::ops::unimpl::UnimplementedOp>())
}

/// Renames nodes that share a name (ONNX does not require unique node names; some exporters
/// give many nodes one name, which tract's typed graph refuses): each repeat gets `.<n>`.
fn unique_names(model: &mut InferenceModel) -> TractResult<()> {
    let mut seen = std::collections::HashSet::new();
    for id in 0..model.nodes.len() {
        let name = model.node(id).name.clone();
        if !seen.insert(name.clone()) {
            let free = (1..)
                .map(|n| format!("{name}.{n}"))
                .find(|n| !seen.contains(n) && model.nodes.iter().all(|node| &node.name != n))
                .unwrap_or_default();
            seen.insert(free.clone());
            model.rename_node(id, &free)?;
        }
    }
    Ok(())
}

/// A name made of ASCII letters, digits and `_` (every other character as `_`), for symbols.
fn symbol_stem(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect()
}

/// An input as tract's inference graph has it (after [`name_free_dims`]).
fn input_io(fact: &InferenceFact, name: String) -> GraphIo {
    let dtype = fact.datum_type.concretize().map(dtype_name).unwrap_or_else(|| "unknown".into());
    let shape = fact
        .shape
        .dims()
        .enumerate()
        .map(|(axis, d)| match d.concretize().map(|d| (d.to_i64(), d)) {
            Some((Ok(n), _)) if n >= 0 => Dim::Fixed(n as u64),
            // A dimension hinted to be a multiple (see `apply_hints`) keeps its symbol's name.
            Some((_, TDim::MulInt(_, d))) if matches!(*d, TDim::Sym(_)) => Dim::Symbol(d.to_string()),
            Some((_, d)) => Dim::Symbol(d.to_string()),
            None => Dim::Symbol(format!("{}_{axis}", symbol_stem(&name))),
        })
        .collect();
    GraphIo { name, dtype, shape }
}

/// An output as the file declares it (its type in the graph's `output` list): for a graph
/// typed per shape set, whose outputs tract knows only for the shapes of a call.
fn declared_output(output: &tract_onnx::pb::ValueInfoProto) -> GraphIo {
    use tract_onnx::pb::tensor_shape_proto::dimension::Value;
    use tract_onnx::pb::type_proto::Value as Type;
    let tensor = output.r#type.as_ref().and_then(|t| t.value.as_ref()).map(|Type::TensorType(t)| t);
    let dtype = match tensor.map(|t| t.elem_type) {
        Some(1) | Some(10) | Some(16) => "float32",
        Some(2) => "uint8",
        Some(3) => "int8",
        Some(4) => "uint16",
        Some(5) => "int16",
        Some(6) => "int32",
        Some(7) => "int64",
        Some(9) => "bool",
        Some(11) => "float64",
        Some(12) => "uint32",
        Some(13) => "uint64",
        _ => "unknown",
    };
    let dims = tensor.and_then(|t| t.shape.as_ref()).map(|s| s.dim.as_slice()).unwrap_or_default();
    let shape = dims
        .iter()
        .enumerate()
        .map(|(axis, d)| match &d.value {
            Some(Value::DimValue(n)) if *n >= 0 => Dim::Fixed(*n as u64),
            Some(Value::DimParam(p)) if !p.is_empty() => Dim::Symbol(p.clone()),
            _ => Dim::Symbol(format!("{}_{axis}", symbol_stem(&output.name))),
        })
        .collect();
    GraphIo { name: output.name.clone(), dtype: dtype.into(), shape }
}

/// tract's inference graph of an ONNX file that tract could not type with symbols, typed anew
/// for each set of concrete input shapes.
struct OnnxRetype(InferenceModel);

impl Retype for OnnxRetype {
    fn typed_for(
        &self,
        shapes: &[Vec<usize>],
        values: &[Option<Vec<i64>>],
        notes: &mut Notes,
    ) -> TractResult<TypedModel> {
        let mut model = self.0.clone();
        for (ix, (shape, values)) in shapes.iter().zip(values).enumerate() {
            let mut fact = model.input_fact(ix)?.clone();
            fact.shape = ShapeFactoid::closed(shape.iter().map(|d| TDim::Val(*d as i64).into()).collect());
            if let (Some(values), Some(dt)) = (values, fact.datum_type.concretize()) {
                let value = Tensor::from_shape(shape, values)?.cast_to_dt(dt)?.into_owned();
                fact.value = value.into_arc_tensor().into();
            }
            model.set_input_fact(ix, fact)?;
        }
        Ok(optimize::declutter(model.into_typed()?, notes))
    }

    fn constant_bytes(&self) -> usize {
        use tract_onnx::tract_hir::ops::konst::Const;
        self.0
            .nodes
            .iter()
            .filter_map(|n| n.op_as::<Const>())
            .map(|k| k.val().len() * k.val().datum_type().size_of())
            .sum()
    }
}

/// Bytes outside this memory as prost reads them: a window of [`GraphBytes::PIECE`] bytes at a
/// time, refilled as the decoder advances past it.
struct Pieces<'s> {
    bytes: &'s dyn ReadAt,
    /// The window, holding the bytes from `start`.
    window: Vec<u8>,
    start: usize,
    /// The read position, in the window.
    at: usize,
}

impl<'s> Pieces<'s> {
    fn new(bytes: &'s dyn ReadAt) -> Pieces<'s> {
        let mut pieces = Pieces { bytes, window: Vec::with_capacity(GraphBytes::PIECE), start: 0, at: 0 };
        pieces.fill();
        pieces
    }

    /// Reads the window from `start` (none past the end).
    fn fill(&mut self) {
        let n = GraphBytes::PIECE.min(self.bytes.size() - self.start);
        self.window.resize(n, 0);
        if n > 0 {
            self.bytes.read_at(self.start, &mut self.window);
        }
    }
}

impl prost::bytes::Buf for Pieces<'_> {
    fn remaining(&self) -> usize {
        self.bytes.size() - self.start - self.at
    }

    fn chunk(&self) -> &[u8] {
        &self.window[self.at..]
    }

    fn advance(&mut self, n: usize) {
        // prost checks lengths against `remaining` before it advances; past the end is the end.
        self.at += n.min(self.remaining());
        if self.at >= self.window.len() {
            self.start += self.at;
            self.at = 0;
            self.fill();
        }
    }
}

impl Engine {
    /// Parses ONNX bytes and types the graph: with a symbol for each free dimension of its
    /// inputs (then decluttered and planned now), or, when tract cannot type it so, for the
    /// shapes each call brings (see [`super::plans`]). `model` names the model in errors.
    pub fn load(model: &str, onnx: &[u8]) -> Result<Engine> {
        Engine::load_hinted(model, onnx.into(), &[])
    }

    /// [`Engine::load`], with what the loader knows of the inputs' free dimensions. Bytes given
    /// owned are dropped once decoded, and the decoded file once the graph is typed, before
    /// it is optimized: a model's weights are held twice at most while it loads (as tract's
    /// graph, and packed in its first plan), not four times. Bytes outside this memory
    /// ([`GraphBytes::Outside`]) are decoded piece by piece, never copied in whole.
    pub fn load_hinted(model: &str, onnx: GraphBytes<'_>, hints: &[DimHint]) -> Result<Engine> {
        run_static_constructors();
        let mut framework = tract_onnx::onnx();
        super::checked_ops::register(&mut framework);
        super::branches::register(&mut framework);
        super::quantized_lstm::register(&mut framework);
        super::integer_matmul::register(&mut framework);
        super::dynamic_quantize::register(&mut framework);
        // Decoded from the bytes in place (tract's reader copies them into a buffer first).
        let decoded = match &onnx {
            GraphBytes::Here(bytes) => <tract_onnx::pb::ModelProto as prost::Message>::decode(&**bytes),
            GraphBytes::Outside(bytes) => <tract_onnx::pb::ModelProto as prost::Message>::decode(Pieces::new(&**bytes)),
        };
        let proto = decoded.map_err(|e| {
            load_error(
                model,
                "parsing the ONNX file",
                &format!("an ONNX model (a ModelProto protobuf); the {} bytes given do not decode as one", onnx.len()),
                e,
            )
        })?;
        drop(onnx);
        if let Some(graph) = &proto.graph {
            check_graph(model, graph)?;
        }
        let read = |framework: &tract_onnx::Onnx| -> Result<(InferenceModel, Vec<String>, Vec<String>)> {
            let mut inference = framework
                .model_for_proto_model(&proto)
                .map_err(|e| load_error(model, "reading the ONNX graph", TRACTABLE, e))?;
            let input_names = onnx_names(
                &inference,
                inference.input_outlets().map_err(|e| load_error(model, "reading inputs", TRACTABLE, e))?,
            );
            let output_names = onnx_names(
                &inference,
                inference.output_outlets().map_err(|e| load_error(model, "reading outputs", TRACTABLE, e))?,
            );
            name_free_dims(&mut inference, &input_names)
                .map_err(|e| load_error(model, "naming the free dimensions of the inputs", TRACTABLE, e))?;
            apply_hints(&mut inference, hints)
                .map_err(|e| load_error(model, "typing the inputs as the manifest says", TRACTABLE, e))?;
            unique_names(&mut inference).map_err(|e| load_error(model, "naming the graph's nodes", TRACTABLE, e))?;
            Ok((inference, input_names, output_names))
        };
        let (inference, input_names, output_names) = read(&framework)?;
        let properties = super::plans::string_properties(&inference.properties);
        let mut notes = Notes::new();
        // Typed with symbols for the free dimensions; the file's `value_info` (the types it
        // declares for intermediate values) is a hint that can contradict tract's own inference,
        // so a graph that does not type with it is typed again without it.
        let first = inference.clone().into_typed();
        let declares_values = proto.graph.as_ref().is_some_and(|g| !g.value_info.is_empty());
        let without_info = framework.clone().with_ignore_value_info(true);
        let (inference, typed) = match first {
            Ok(typed) => (inference, Ok(typed)),
            Err(e) if !declares_values => (inference, Err(e)),
            Err(e) => {
                let (inference, _, _) = read(&without_info)?;
                let typed = inference.clone().into_typed().map_err(|_| e);
                if typed.is_ok() {
                    notes.push("the types the file declares for intermediate values (value_info) contradict tract's inference; they are ignored".into());
                }
                (inference, typed)
            }
        };
        let declared: Vec<GraphIo> =
            proto.graph.as_ref().map(|g| g.output.iter().map(declared_output).collect()).unwrap_or_default();
        drop(proto);
        match typed {
            Ok(typed) => {
                drop(inference);
                // Types and shapes as typing inferred them, before decluttering changes the graph.
                let (inputs, outputs) = graph_ios(model, &typed, input_names, output_names)?;
                let typed = optimize::declutter(typed, &mut notes);
                Engine::planned(model, typed, inputs, outputs, properties, notes)
            }
            Err(e) if super::checked_ops::is_malformed(&e) || !typed_better_per_call(&inference) => {
                Err(load_error(model, "typing the graph", TRACTABLE, e))
            }
            Err(e) if has_unimplemented(&inference) => Err(load_error(model, "typing the graph", TRACTABLE, e)),
            Err(e) => {
                // As onnxruntime does: the graph is typed for the shapes each call brings.
                notes.push(format!("tract could not type the graph for any input shapes ({}); it is typed and planned for the input shapes of each call", optimize::brief(&e)));
                let facts = inference.input_outlets().and_then(|o| {
                    o.iter().map(|o| inference.outlet_fact(*o).cloned()).collect::<TractResult<Vec<_>>>()
                });
                let facts = facts.map_err(|e| load_error(model, "reading inputs", TRACTABLE, e))?;
                let inputs = facts.iter().zip(input_names).map(|(f, name)| input_io(f, name)).collect();
                let outputs = output_names
                    .into_iter()
                    .map(|name| {
                        declared.iter().find(|o| o.name == name).cloned().unwrap_or(GraphIo {
                            name,
                            dtype: "unknown".into(),
                            shape: vec![],
                        })
                    })
                    .collect();
                Ok(Engine::retyped(model, Box::new(OnnxRetype(inference)), inputs, outputs, properties, notes))
            }
        }
    }
}

/// What an ONNX file says of itself, before any typing: who wrote it, the operator sets it asks
/// for, and how many nodes of each operator it has (subgraphs of If, Loop and Scan included).
#[derive(Debug, Clone, PartialEq)]
pub struct OnnxSummary {
    /// The producer's name and version, as the file says.
    pub producer: String,
    /// The operator sets: domain (`""` is ONNX's own) and version.
    pub opsets: Vec<(String, i64)>,
    /// Each operator, `domain::Op` outside ONNX's own domain, with its count, most used first.
    pub operators: Vec<(String, usize)>,
}

/// Reads `onnx`'s summary (`model` names the file in errors).
pub fn summary(model: &str, onnx: &[u8]) -> Result<OnnxSummary> {
    let proto = tract_onnx::onnx()
        .proto_model_for_read(&mut &onnx[..])
        .map_err(|e| load_error(model, "parsing the ONNX file", "an ONNX model (a ModelProto protobuf)", e))?;
    fn count(graph: &tract_onnx::pb::GraphProto, into: &mut std::collections::BTreeMap<String, usize>) {
        for node in &graph.node {
            let name = if node.domain.is_empty() {
                node.op_type.clone()
            } else {
                format!("{}::{}", node.domain, node.op_type)
            };
            *into.entry(name).or_default() += 1;
            for attribute in &node.attribute {
                for sub in attribute.g.iter().chain(&attribute.graphs) {
                    count(sub, into);
                }
            }
        }
    }
    let mut counts = std::collections::BTreeMap::new();
    if let Some(graph) = &proto.graph {
        count(graph, &mut counts);
    }
    let mut operators: Vec<(String, usize)> = counts.into_iter().collect();
    operators.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let producer = format!("{} {}", proto.producer_name, proto.producer_version).trim().to_owned();
    let opsets = proto.opset_import.iter().map(|o| (o.domain.clone(), o.version)).collect();
    Ok(OnnxSummary { producer, opsets, operators })
}
