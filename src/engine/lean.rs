//! The lean build's NNEF reader: the operators its embedded packages use, and nothing else.
//!
//! tract's own NNEF framework registers a loader for every operator tract has (convolutions,
//! FFTs, scatters, recurrent cells, non-max suppression, ...). The loaders reach each operator's
//! code, so the linker keeps all of it, whatever the page's models are. The lean build loads
//! only its embedded packages, known when it is compiled: build.rs reads their `graph.nnef`
//! and turns on `edgeserve_nnef_op = "<name>"` for each operator they call, and this module
//! registers a loader for those only. What no package uses is left out of the wasm.
//!
//! The wasm is only that small if nothing else reaches the other loaders. tract-nnef 0.23.9 does:
//! it registers its `patch` model transform in a static constructor, and the transform builds
//! tract's whole NNEF framework, so until tract stops doing that (or puts it behind a feature)
//! every operator is linked whatever is registered here, and this module limits what loads.
//!
//! The operators it can load are listed in `lean_ops.txt` (build.rs refuses a package that
//! calls anything else, naming it). The loaders are tract's where tract makes them public (NNEF's
//! standard primitives) and small ones of ours for the few tract keeps private.

// Which of these a build uses depends on its packages' operators.
#![allow(unused_imports)]

use tract_nnef::internal::*;
use tract_nnef::ops::nnef::deser;
use tract_nnef::tract_core::ops;

/// The lean build's NNEF framework: registries named as tract's (`tract_nnef`, `tract_core`,
/// `tract_onnx`, which graph files name in `extension tract_registry`) holding the loaders of
/// the operators the embedded packages use.
pub(super) fn framework() -> Nnef {
    let stdlib = tract_nnef::framework::stdlib();
    // Each registry gets what the packages use, which may be nothing.
    #[allow(unused_mut)]
    let (mut nnef, mut core, mut onnx, mut edgeserve) = (
        Registry::new("tract_nnef"),
        Registry::new("tract_core"),
        Registry::new("tract_onnx"),
        Registry::new(super::nnef_ops::REGISTRY),
    );
    // Registers one of NNEF's standard primitives with its declaration from the stdlib (every
    // name below is one: the_stdlib_declares_every_primitive checks it).
    #[allow(unused_variables)]
    let primitive = |registry: &mut Registry, id: &str, load: ToTract| {
        if let Some(fragment) = stdlib.iter().find(|f| f.decl.id.0 == id) {
            registry.register_primitive(id, &fragment.decl.parameters, &fragment.decl.results, load);
        }
    };
    #[cfg(edgeserve_nnef_op = "external")]
    primitive(&mut nnef, "external", deser::external);
    #[cfg(edgeserve_nnef_op = "variable")]
    primitive(&mut nnef, "variable", deser::variable);
    #[cfg(edgeserve_nnef_op = "reshape")]
    primitive(&mut nnef, "reshape", deser::reshape);
    #[cfg(edgeserve_nnef_op = "transpose")]
    primitive(&mut nnef, "transpose", deser::transpose);
    #[cfg(edgeserve_nnef_op = "concat")]
    primitive(&mut nnef, "concat", deser::concat);
    #[cfg(edgeserve_nnef_op = "slice")]
    primitive(&mut nnef, "slice", deser::slice);
    #[cfg(edgeserve_nnef_op = "squeeze")]
    primitive(&mut nnef, "squeeze", deser::squeeze);
    #[cfg(edgeserve_nnef_op = "unsqueeze")]
    primitive(&mut nnef, "unsqueeze", deser::unsqueeze);
    #[cfg(edgeserve_nnef_op = "tile")]
    primitive(&mut nnef, "tile", deser::tile);
    #[cfg(edgeserve_nnef_op = "pad")]
    primitive(&mut nnef, "pad", deser::pad);
    #[cfg(edgeserve_nnef_op = "stack")]
    primitive(&mut nnef, "stack", deser::stack);
    #[cfg(edgeserve_nnef_op = "unstack")]
    primitive(&mut nnef, "unstack", deser::unstack);
    #[cfg(edgeserve_nnef_op = "copy")]
    primitive(&mut nnef, "copy", deser::copy);
    #[cfg(edgeserve_nnef_op = "matmul")]
    primitive(&mut nnef, "matmul", deser::matmul);
    #[cfg(edgeserve_nnef_op = "conv")]
    primitive(&mut nnef, "conv", deser::conv);
    #[cfg(edgeserve_nnef_op = "deconv")]
    primitive(&mut nnef, "deconv", deser::deconv);
    #[cfg(edgeserve_nnef_op = "sum_reduce")]
    primitive(&mut nnef, "sum_reduce", deser::reduce);
    #[cfg(edgeserve_nnef_op = "max_reduce")]
    primitive(&mut nnef, "max_reduce", deser::reduce);
    #[cfg(edgeserve_nnef_op = "min_reduce")]
    primitive(&mut nnef, "min_reduce", deser::reduce);
    #[cfg(edgeserve_nnef_op = "all_reduce")]
    primitive(&mut nnef, "all_reduce", deser::reduce);
    #[cfg(edgeserve_nnef_op = "any_reduce")]
    primitive(&mut nnef, "any_reduce", deser::reduce);
    #[cfg(edgeserve_nnef_op = "argmax_reduce")]
    primitive(&mut nnef, "argmax_reduce", deser::reduce);
    #[cfg(edgeserve_nnef_op = "argmin_reduce")]
    primitive(&mut nnef, "argmin_reduce", deser::reduce);
    #[cfg(edgeserve_nnef_op = "softmax")]
    primitive(&mut nnef, "softmax", deser::softmax);
    #[cfg(any(edgeserve_nnef_op = "max_pool_with_index", edgeserve_nnef_op = "max_pool"))]
    primitive(&mut nnef, "max_pool_with_index", deser::max_pool_with_index);
    // `max_pool` is a fragment of the stdlib, its body a call of `max_pool_with_index`.
    #[cfg(edgeserve_nnef_op = "max_pool")]
    if let Some(fragment) = stdlib.iter().find(|f| f.decl.id.0 == "max_pool") {
        nnef.register_fragment(fragment.clone());
    }
    #[cfg(edgeserve_nnef_op = "box")]
    primitive(&mut nnef, "box", deser::sum_pool);
    #[cfg(edgeserve_nnef_op = "debox")]
    primitive(&mut nnef, "debox", deser::debox);
    #[cfg(edgeserve_nnef_op = "select")]
    primitive(&mut nnef, "select", deser::select);
    #[cfg(edgeserve_nnef_op = "leaky_relu")]
    nnef.register_element_wise(
        "leaky_relu",
        TypeId::of::<ops::nn::LeakyRelu>(),
        Box::new(|_, _| Ok(None)),
        vec![TypeName::Scalar.tensor().named("x"), TypeName::Scalar.named("alpha")],
        deser::leaky_relu,
    );

    // The binary and element-wise operators: `registry method: "name" => op, ...`.
    macro_rules! register {
        ($method:ident: $($name:literal => $op:expr),* $(,)?) => { $(
            #[cfg(edgeserve_nnef_op = $name)]
            nnef.$method($name, &$op);
        )* };
    }
    register! { register_binary:
        "add" => ops::math::Add {}, "sub" => ops::math::Sub {}, "mul" => ops::math::Mul {},
        "div" => ops::math::Div {}, "pow" => ops::math::Pow {}, "min" => ops::math::Min {},
        "max" => ops::math::Max {}, "eq" => ops::logic::CompEq {}, "ne" => ops::logic::CompNE {},
        "lt" => ops::logic::CompLT {}, "gt" => ops::logic::CompGT {}, "le" => ops::logic::CompLTE {},
        "ge" => ops::logic::CompGTE {}, "and" => ops::logic::And {}, "or" => ops::logic::Or {},
    }
    register! { register_unit_element_wise:
        "exp" => ops::math::Exp {}, "log" => ops::math::Ln {}, "sin" => ops::math::Sin {},
        "cos" => ops::math::Cos {}, "abs" => ops::math::Abs {}, "neg" => ops::math::Neg {},
        "sign" => ops::math::Sign {}, "recip" => ops::math::Recip {}, "tan" => ops::math::Tan {},
        "tanh" => ops::math::Tanh {}, "sigmoid" => ops::nn::Sigmoid {}, "not" => ops::logic::Not {},
        "floor" => ops::math::Floor {}, "ceil" => ops::math::Ceil {}, "round" => ops::math::Round {},
        "square" => ops::math::Square {}, "sqrt" => ops::math::Sqrt {}, "rsqrt" => ops::math::Rsqrt {},
    }

    #[cfg(edgeserve_nnef_op = "tract_core_external")]
    core.register_primitive(
        "tract_core_external",
        &[TypeName::String.named("datum_type"), TypeName::Integer.array().named("shape")],
        &[("output", TypeName::Any.tensor())],
        load_external,
    );
    #[cfg(edgeserve_nnef_op = "tract_core_cast")]
    core.register_primitive(
        "tract_core_cast",
        &[TypeName::Scalar.tensor().named("input"), TypeName::String.named("to")],
        &[("output", TypeName::Scalar.tensor())],
        load_cast,
    );
    #[cfg(edgeserve_nnef_op = "tract_core_gather")]
    core.register_primitive(
        "tract_core_gather",
        &[
            TypeName::Scalar.tensor().named("input"),
            TypeName::Scalar.tensor().named("indices"),
            TypeName::Integer.named("axis"),
        ],
        &[("output", TypeName::Scalar.tensor())],
        load_gather,
    );
    #[cfg(edgeserve_nnef_op = "tract_core_rms_norm")]
    core.register_primitive(
        "tract_core_rms_norm",
        &[
            TypeName::Scalar.tensor().named("input"),
            TypeName::Integer.named("axis"),
            TypeName::Scalar.named("eps").default(1e-6f32),
        ],
        &[("output", TypeName::Scalar.tensor())],
        load_rms_norm,
    );
    #[cfg(edgeserve_nnef_op = "tract_core_silu")]
    core.register_unit_element_wise("tract_core_silu", &ops::nn::silu::Silu {});
    #[cfg(edgeserve_nnef_op = "nearest_upsample")]
    core.register_primitive(
        "nearest_upsample",
        &[TypeName::Scalar.tensor().named("input"), TypeName::Integer.array().named("factor")],
        &[("output", TypeName::Scalar.tensor())],
        load_nearest_upsample,
    );
    #[cfg(edgeserve_nnef_op = "tract_onnx_ml_direct_lookup")]
    onnx.register_primitive(
        "tract_onnx_ml_direct_lookup",
        &[
            TypeName::String.tensor().named("input"),
            TypeName::Scalar.tensor().named("values"),
            TypeName::Scalar.tensor().named("fallback"),
        ],
        &[("output", TypeName::Scalar.tensor())],
        load_direct_lookup,
    );

    // edgeserve's own (super::nnef_ops): tract-core operators tract cannot write as NNEF.
    #[cfg(edgeserve_nnef_op = "edgeserve_gelu_exact")]
    super::nnef_ops::register_gelu_exact(&mut edgeserve);
    #[cfg(edgeserve_nnef_op = "edgeserve_dequantize_linear_f32")]
    super::nnef_ops::register_dequantize_linear_f32(&mut edgeserve);
    #[cfg(edgeserve_nnef_op = "edgeserve_dynamic_quantize_linear")]
    super::nnef_ops::register_dynamic_quantize_linear(&mut edgeserve);
    #[cfg(edgeserve_nnef_op = "edgeserve_integer_product")]
    super::nnef_ops::register_integer_product(&mut edgeserve);

    Nnef {
        stdlib,
        registries: vec![nnef, core, onnx, edgeserve],
        // `read` takes the tar apart itself; no resource loader is asked.
        resource_loaders: vec![],
        allow_extended_identifier_syntax: false,
        extern_all_constants: false,
    }
}

/// Reads an NNEF tar (`graph.nnef` and its `.dat` tensors) into a typed graph with
/// [`framework`]'s loaders. tract's own reader (`Nnef::model_for_read`) would do the same, but
/// it also handles graphs nested in the tar by loading them with tract's full framework, and
/// reaching that from here would keep every operator's code in the wasm again.
pub(super) fn read(framework: &Nnef, tar: &[u8]) -> TractResult<TypedModel> {
    let mut graph = None;
    let mut tensors = HashMap::new();
    for entry in tar::Archive::new(tar).entries()? {
        let mut entry = entry?;
        let path = entry.path()?.into_owned();
        let path = path.strip_prefix("./").unwrap_or(&path);
        let name = path.to_str().with_context(|| format!("a file name in UTF-8, got {path:?}"))?;
        if name == "graph.nnef" {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut entry, &mut text)?;
            graph = Some(text);
        } else if let Some(label) = name.strip_suffix(".dat") {
            let tensor =
                tract_nnef::tensors::read_tensor(&mut entry).with_context(|| format!("reading the tensor {name}"))?;
            tensors.insert(Identifier::from(label), Arc::new(tensor));
        } else if name == "graph.quant" {
            bail!("a graph without graph.quant (the lean build reads no quantized NNEF), found graph.quant");
        }
    }
    let graph = graph.context("a graph.nnef in the tar, found none")?;
    let proto = tract_nnef::ProtoModel {
        doc: tract_nnef::ast::parse::parse_document(&graph)?,
        tensors,
        quantization: None,
        resources: HashMap::new(),
    };
    proto.validate()?;
    framework.translate(&proto, TypedModel::default()).map_err(|(_, e)| e)
}

/// `tract_core_external(shape, datum_type)`: a graph input.
#[cfg(edgeserve_nnef_op = "tract_core_external")]
fn load_external(builder: &mut ModelBuilder, invocation: &ResolvedInvocation) -> TractResult<Value> {
    let shape: TVec<TDim> = builder.allowing_new_symbols(|builder| invocation.named_arg_as(builder, "shape"))?;
    let dt: DatumType = invocation.named_arg_as::<String>(builder, "datum_type")?.parse()?;
    let dt = invocation.dt_from_quant_file.first().copied().flatten().unwrap_or(dt);
    Ok(Value::Wire(builder.model.add_source("", dt.fact(&*shape))?))
}

/// `tract_core_cast(input, to)`.
#[cfg(edgeserve_nnef_op = "tract_core_cast")]
fn load_cast(builder: &mut ModelBuilder, invocation: &ResolvedInvocation) -> TractResult<Value> {
    let input = invocation.named_arg_as(builder, "input")?;
    let to: DatumType = invocation.named_arg_as::<String>(builder, "to")?.parse()?;
    builder.wire(ops::cast::Cast { to }, &[input])
}

/// `tract_core_gather(input, indices, axis)`, indices cast to i64 as tract does.
#[cfg(edgeserve_nnef_op = "tract_core_gather")]
fn load_gather(builder: &mut ModelBuilder, invocation: &ResolvedInvocation) -> TractResult<Value> {
    let input = invocation.named_arg_as(builder, "input")?;
    let indices = invocation.named_arg_as(builder, "indices")?;
    let output_type: Option<DatumType> =
        invocation.optional_named_arg_as::<String>(builder, "datum_type")?.map(|s| s.parse()).transpose()?;
    let indices = *builder
        .wire_as_outlets(ops::cast::cast(i64::datum_type()), &[indices])?
        .first()
        .context("a cast of the indices with one output, got none")?;
    let axis = invocation.named_arg_as(builder, "axis")?;
    builder.wire(ops::array::Gather { axis, output_type }, &[input, indices])
}

/// `tract_core_rms_norm(input, axis, eps)`: `x / sqrt(mean(x^2) + eps)` along `axis` (what
/// tract's declutter makes of a layer normalization's division).
#[cfg(edgeserve_nnef_op = "tract_core_rms_norm")]
fn load_rms_norm(builder: &mut ModelBuilder, invocation: &ResolvedInvocation) -> TractResult<Value> {
    let input = invocation.named_arg_as(builder, "input")?;
    let axis: usize = invocation.named_arg_as(builder, "axis")?;
    let eps = invocation.named_arg_as(builder, "eps")?;
    builder.wire(ops::nn::RmsNorm { axis, eps }, &[input])
}

/// `nearest_upsample(input, factor)`: each value repeated `factor` times along the last axes
/// (tract's Resize, nearest, with those scales), as tract-core's NNEF registry loads it (the
/// stdlib's own definition, a deconvolution by a box, would be slower).
#[cfg(edgeserve_nnef_op = "nearest_upsample")]
fn load_nearest_upsample(builder: &mut ModelBuilder, invocation: &ResolvedInvocation) -> TractResult<Value> {
    use ops::nn::resize::{CoordTransformer, Interpolator, Nearest, Resize};
    let input: OutletId = invocation.named_arg_as(builder, "input")?;
    let factor: TVec<i64> = invocation.named_arg_as(builder, "factor")?;
    let rank = builder.model.outlet_fact(input)?.rank();
    ensure!(factor.len() <= rank, "an upsampling factor per axis at most (rank {rank}), got {factor:?}");
    let mut scales = vec![1.0f32; rank - factor.len()];
    scales.extend(factor.iter().map(|&f| f as f32));
    let scales = builder.add_const(tract_nnef::tract_core::ndarray::Array1::from(scales))?;
    let op = Resize {
        coord_transformer: CoordTransformer::Asymmetric,
        interpolator: Interpolator::Nearest,
        nearest: Nearest::Floor,
        optional_scales_input: Some(1),
        optional_sizes_input: None,
    };
    builder.wire(op, &[input, scales])
}

/// `tract_onnx_ml_direct_lookup(input, values, fallback)`: class index to label.
#[cfg(edgeserve_nnef_op = "tract_onnx_ml_direct_lookup")]
fn load_direct_lookup(builder: &mut ModelBuilder, invocation: &ResolvedInvocation) -> TractResult<Value> {
    let input = invocation.named_arg_as(builder, "input")?;
    let values: Arc<Tensor> = invocation.named_arg_as(builder, "values")?;
    let fallback: Arc<Tensor> = invocation.named_arg_as(builder, "fallback")?;
    builder.wire(tract_onnx_opl::ml::category_mapper::DirectLookup::new(values, fallback)?, &[input])
}

#[cfg(test)]
mod tests {
    /// `lean_ops.txt` (what build.rs accepts) and the loaders above name the same operators:
    /// each loader is behind `#[cfg(edgeserve_nnef_op = "<name>")]`, or in a `register!` table
    /// of `"<name>" => op`.
    #[test]
    fn the_list_matches_the_loaders() {
        let source = include_str!("lean.rs");
        let code = source.split("#[cfg(test)]").next().unwrap_or("");
        let mut registered: Vec<&str> =
            code.split("edgeserve_nnef_op = \"").skip(1).filter_map(|rest| rest.split('"').next()).collect();
        for table in code.split("register! {").skip(1) {
            let body = table.split("\n    }").next().unwrap_or("");
            registered.extend(body.split('"').skip(1).step_by(2));
        }
        registered.retain(|n| n.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'));
        registered.sort();
        registered.dedup();
        let mut listed: Vec<&str> = include_str!("lean_ops.txt")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect();
        listed.sort();
        assert_eq!(registered, listed);
        assert!(listed.len() > 60, "{listed:?}");
    }

    /// A tar without graph.nnef, or with a quantized graph, is refused with what was expected.
    #[test]
    fn a_tar_without_a_plain_graph_is_refused() {
        let tar = |files: &[(&str, &[u8])]| {
            let mut builder = tar::Builder::new(vec![]);
            for (name, bytes) in files {
                let mut header = tar::Header::new_gnu();
                header.set_size(bytes.len() as u64);
                header.set_cksum();
                builder.append_data(&mut header, name, *bytes).unwrap();
            }
            builder.into_inner().unwrap()
        };
        let framework = super::framework();
        let missing = super::read(&framework, &tar(&[("notes.txt", b"hello")])).unwrap_err();
        assert!(format!("{missing:#}").contains("a graph.nnef in the tar, found none"), "{missing:#}");
        let quantized =
            super::read(&framework, &tar(&[("graph.quant", b""), ("graph.nnef", b"version 1.0;")])).unwrap_err();
        assert!(format!("{quantized:#}").contains("found graph.quant"), "{quantized:#}");
        assert!(super::read(&framework, b"not a tar at all, just some bytes").is_err());
    }

    /// The standard primitives registered with `primitive(&mut nnef, "<name>", ...)` take their
    /// declaration from NNEF's stdlib, so each must be declared there.
    #[test]
    fn the_stdlib_declares_every_primitive() {
        let code = include_str!("lean.rs").split("#[cfg(test)]").next().unwrap_or("");
        let names: Vec<&str> =
            code.split("primitive(&mut nnef, \"").skip(1).filter_map(|r| r.split('"').next()).collect();
        assert!(names.len() > 25, "{names:?}");
        let stdlib = tract_nnef::framework::stdlib();
        for name in names {
            assert!(stdlib.iter().any(|f| f.decl.id.0 == name), "{name} is not declared in NNEF's stdlib");
        }
    }
}
