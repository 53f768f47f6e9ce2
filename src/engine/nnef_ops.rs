//! edgeserve's NNEF operators: tract-core operators that tract's NNEF framework (0.23.9) cannot
//! write, so that a graph holding them still gets its NNEF form and the lean build can load it.
//! Transformers need two of them: `GeluExact`, which tract's declutter makes of BERT's
//! `x * 0.5 * (1 + erf(x / sqrt 2))`, and `DequantizeLinearF32`, an int8 embedding table's
//! dequantization. Dynamically quantized ones need edgeserve's own two more:
//! [`DynamicQuantizeLinear`] and [`IntegerProduct`] (`MatMulInteger` with a constant B, written
//! with B's 8-bit integers). They are written as calls to `edgeserve_*` operators of a registry
//! named `edgeserve` (`extension tract_registry edgeserve;` in graph.nnef).
//!
//! The full build's NNEF framework has the whole registry (writer and reader); the lean build
//! registers the loaders its embedded packages call (src/engine/lean.rs, lean_ops.txt).

// Which of these a lean build uses depends on its packages' operators.
#![allow(dead_code, unused_imports)]

use tract_nnef::internal::*;
use tract_nnef::tract_core::ops::nn::gelu_exact::GeluExact;
use tract_nnef::tract_core::ops::quant::DequantizeLinearF32;

use super::dynamic_quantize::DynamicQuantizeLinear;
use super::integer_matmul::IntegerProduct;

/// The registry's name, as graph.nnef names it.
pub(super) const REGISTRY: &str = "edgeserve";

/// The registry with every operator: writers and loaders.
#[cfg(feature = "onnx")]
pub(super) fn registry() -> Registry {
    let mut registry = Registry::new(REGISTRY);
    register_gelu_exact(&mut registry);
    register_dequantize_linear_f32(&mut registry);
    register_dynamic_quantize_linear(&mut registry);
    register_integer_product(&mut registry);
    registry
}

/// `edgeserve_gelu_exact(x)`: `x * 0.5 * (1 + erf(x / sqrt 2))`, element by element.
pub(super) fn register_gelu_exact(registry: &mut Registry) {
    registry.register_unit_element_wise("edgeserve_gelu_exact", &GeluExact {});
}

/// `edgeserve_dequantize_linear_f32(input, scale, zero_point)`: `(x - zero_point) * scale` in
/// f32, of an integer tensor.
pub(super) fn register_dequantize_linear_f32(registry: &mut Registry) {
    registry.register_dumper::<DequantizeLinearF32>(|ast, node, op| {
        Ok(Some(invocation(
            "edgeserve_dequantize_linear_f32",
            &[ast.mapping[&node.inputs[0]].clone()],
            &[("scale", numeric(op.scale)), ("zero_point", numeric(op.zero_point))],
        )))
    });
    registry.register_primitive(
        "edgeserve_dequantize_linear_f32",
        &[
            TypeName::Scalar.tensor().named("input"),
            TypeName::Scalar.named("scale"),
            TypeName::Integer.named("zero_point"),
        ],
        &[("output", TypeName::Scalar.tensor())],
        load_dequantize_linear_f32,
    );
}

fn load_dequantize_linear_f32(builder: &mut ModelBuilder, invocation: &ResolvedInvocation) -> TractResult<Value> {
    let input = invocation.named_arg_as(builder, "input")?;
    let scale: f32 = invocation.named_arg_as(builder, "scale")?;
    let zero_point: i64 = invocation.named_arg_as(builder, "zero_point")?;
    builder.wire(DequantizeLinearF32 { scale, zero_point: i32::try_from(zero_point)? }, &[input])
}

/// `(output, scale, zero_point) = edgeserve_dynamic_quantize_linear(input)`: ONNX's
/// `DynamicQuantizeLinear` of an f32 tensor to uint8.
pub(super) fn register_dynamic_quantize_linear(registry: &mut Registry) {
    registry.register_dumper::<DynamicQuantizeLinear>(|ast, node, _| {
        Ok(Some(invocation("edgeserve_dynamic_quantize_linear", &[ast.mapping[&node.inputs[0]].clone()], &[])))
    });
    registry.register_primitive(
        "edgeserve_dynamic_quantize_linear",
        &[TypeName::Scalar.tensor().named("input")],
        &[
            ("output", TypeName::Integer.tensor()),
            ("scale", TypeName::Scalar.tensor()),
            ("zero_point", TypeName::Integer.tensor()),
        ],
        |builder, invocation| {
            let input = invocation.named_arg_as(builder, "input")?;
            builder.wire(DynamicQuantizeLinear, &[input])
        },
    );
}

/// `edgeserve_integer_product(a, a_zero_point, b, b_zero_point)`: `(a - a_zero_point) x (b -
/// b_zero_point)` in int32 of 8-bit integers, B a constant matrix (see [`IntegerProduct`]).
pub(super) fn register_integer_product(registry: &mut Registry) {
    registry.register_dumper::<IntegerProduct>(|ast, node, _| {
        let inputs: TVec<_> = node.inputs.iter().map(|i| ast.mapping[i].clone()).collect();
        Ok(Some(invocation("edgeserve_integer_product", &inputs, &[])))
    });
    registry.register_primitive(
        "edgeserve_integer_product",
        &[
            TypeName::Integer.tensor().named("a"),
            TypeName::Integer.tensor().named("a_zero_point"),
            TypeName::Integer.tensor().named("b"),
            TypeName::Integer.tensor().named("b_zero_point"),
        ],
        &[("output", TypeName::Integer.tensor())],
        |builder, invocation| {
            let inputs: TVec<OutletId> = ["a", "a_zero_point", "b", "b_zero_point"]
                .into_iter()
                .map(|name| invocation.named_arg_as(builder, name))
                .collect::<TractResult<_>>()?;
            builder.wire(IntegerProduct, &inputs)
        },
    );
}
