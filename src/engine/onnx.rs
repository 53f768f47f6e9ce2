//! The ONNX side of the engine (the `onnx` feature, the full build): parsing an ONNX file and
//! turning it into a typed, simplified graph.

use tract_onnx::prelude::*;

use super::plans::graph_ios;
use super::{load_error, run_static_constructors, Engine, PLANNABLE, TRACTABLE};
use crate::error::Result;

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
    outlets.iter().map(|o| model.outlet_label(*o).map(str::to_owned).unwrap_or_else(|| model.node(o.node).name.clone())).collect()
}

impl Engine {
    /// Parses ONNX bytes, types and declutters the graph, and builds the plan for batch size 1.
    /// `model` names the model in errors.
    pub fn load(model: &str, onnx: &[u8]) -> Result<Engine> {
        run_static_constructors();
        let mut framework = tract_onnx::onnx();
        super::checked_ops::register(&mut framework);
        let proto = framework
            .proto_model_for_read(&mut &onnx[..])
            .map_err(|e| load_error(model, "parsing the ONNX file", &format!("an ONNX model (a ModelProto protobuf); the {} bytes given do not decode as one", onnx.len()), e))?;
        if let Some(graph) = &proto.graph {
            check_graph(model, graph)?;
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
        let (inputs, outputs) = graph_ios(model, &typed, input_names, output_names)?;
        let typed = typed.into_decluttered().map_err(|e| load_error(model, "decluttering the graph", PLANNABLE, e))?;
        Engine::planned(model, typed, inputs, outputs, properties)
    }
}
