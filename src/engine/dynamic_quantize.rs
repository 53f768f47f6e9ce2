//! ONNX `DynamicQuantizeLinear` as a tract-core operator of edgeserve's
//! ([`DynamicQuantizeLinear`]), registered in the parser in place of tract-onnx's, so that a
//! graph holding it has an NNEF form (src/engine/nnef_ops.rs writes and reads it) and the lean
//! build, which has no ONNX parser, can run it.
//!
//! As ONNX says: over the whole tensor x (f32), the range [min(0, min x), max(0, max x)] maps
//! onto 0..255: `scale = (max - min) / 255`, `zero_point = clamp(round(-min / scale), 0, 255)`,
//! `y = clamp(round(x / scale) + zero_point, 0, 255)` as uint8, rounding half to even.

// A lean build has these when its packages' NNEF forms call them (src/engine/lean.rs).
#![cfg_attr(not(feature = "onnx"), allow(dead_code))]

use tract_nnef::internal::*;

/// Quantizes an f32 tensor to uint8 by its own range. Outputs: y (uint8, x's shape), its scale
/// (f32 scalar) and zero point (uint8 scalar).
#[derive(Debug, Clone, Default, Hash, PartialEq, Eq)]
pub(crate) struct DynamicQuantizeLinear;

/// The scale and zero point of `xs`' range (extended to hold 0).
fn scale_and_zero_point(xs: &[f32]) -> (f32, u8) {
    let (min, max) = xs.iter().fold((0f32, 0f32), |(lo, hi), &x| (lo.min(x), hi.max(x)));
    let scale = (max - min) / 255.0;
    // An all-zero tensor has a scale of 0: -0 / 0 is NaN, whose clamp is NaN, cast to 0.
    let zero_point = (-min / scale).round_ties_even().clamp(0.0, 255.0) as u8;
    (scale, zero_point)
}

impl Op for DynamicQuantizeLinear {
    fn name(&self) -> StaticName {
        "DynamicQuantizeLinear".into()
    }

    op_as_typed_op!();
}

impl EvalOp for DynamicQuantizeLinear {
    op_out_of_plan!();

    fn eval(&self, _: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let x = inputs[0].cast_to::<f32>()?;
        let xs = x.try_as_plain_ram()?.as_slice::<f32>()?;
        let (scale, zero_point) = scale_and_zero_point(xs);
        let zero = f32::from(zero_point);
        // x / scale, not x times 1 / scale: the two round differently near a half.
        let ys: Vec<u8> = xs.iter().map(|&x| ((x / scale).round_ties_even() + zero).clamp(0.0, 255.0) as u8).collect();
        Ok(tvec!(
            Tensor::from_shape(x.shape(), &ys)?.into_tvalue(),
            tensor0(scale).into_tvalue(),
            tensor0(zero_point).into_tvalue()
        ))
    }
}

impl TypedOp for DynamicQuantizeLinear {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        ensure!(
            inputs[0].datum_type == f32::datum_type(),
            "DynamicQuantizeLinear of {:?}, not f32",
            inputs[0].datum_type
        );
        Ok(tvec!(TypedFact::dt_shape(u8::datum_type(), inputs[0].shape.clone()), f32::scalar_fact(), u8::scalar_fact()))
    }

    as_op!();
}

/// The ONNX operator, for the parser's register.
#[cfg(feature = "onnx")]
mod onnx {
    use tract_onnx::model::ParsingContext;
    use tract_onnx::pb::NodeProto;
    use tract_onnx::tract_hir::internal::*;

    /// Puts `DynamicQuantizeLinear` in the register in place of tract-onnx's.
    pub(crate) fn register(framework: &mut tract_onnx::Onnx) {
        framework
            .op_register
            .insert("DynamicQuantizeLinear", |_: &ParsingContext, _: &NodeProto| Ok((expand(Expansion), vec![])));
    }

    #[derive(Debug, Clone, Hash, PartialEq, Eq)]
    struct Expansion;

    impl tract_onnx::tract_hir::ops::expandable::Expansion for Expansion {
        fn name(&self) -> StaticName {
            "DynamicQuantizeLinear".into()
        }

        fn nboutputs(&self) -> TractResult<usize> {
            Ok(3)
        }

        fn rules<'r, 'p: 'r, 's: 'r>(
            &'s self,
            s: &mut Solver<'r>,
            inputs: &'p [TensorProxy],
            outputs: &'p [TensorProxy],
        ) -> TractResult<()> {
            check_input_arity(inputs, 1)?;
            check_output_arity(outputs, 3)?;
            s.equals(&inputs[0].datum_type, f32::datum_type())?;
            s.equals(&inputs[0].shape, &outputs[0].shape)?;
            s.equals(&outputs[0].datum_type, u8::datum_type())?;
            s.equals(&outputs[1].datum_type, f32::datum_type())?;
            s.equals(&outputs[1].rank, 0)?;
            s.equals(&outputs[2].datum_type, u8::datum_type())?;
            s.equals(&outputs[2].rank, 0)
        }

        fn wire(&self, prefix: &str, target: &mut TypedModel, inputs: &[OutletId]) -> TractResult<TVec<OutletId>> {
            target.wire_node(prefix, super::DynamicQuantizeLinear, &[inputs[0]])
        }
    }
}

#[cfg(feature = "onnx")]
pub(crate) use onnx::register;

#[cfg(test)]
mod tests {
    use super::*;

    /// The examples of ONNX's operator documentation.
    #[test]
    fn the_examples_of_the_onnx_documentation() {
        let cases: [(&[f32], f32, u8, &[u8]); 3] = [
            (&[0., 2., -3., -2.5, 1.34, 0.5], 0.019_607_844, 153, &[153, 255, 0, 26, 221, 179]),
            (&[-1., -2.1, -1.3, -2.5, -3.34, -4.], 0.015_686_275, 255, &[191, 121, 172, 96, 42, 0]),
            (
                &[1., 2.1, 1.3, 2.5, 3.34, 4., 1.5, 2.6, 3.9, 4., 3., 2.345],
                0.015_686_275,
                0,
                &[64, 134, 83, 159, 213, 255, 96, 166, 249, 255, 191, 149],
            ),
        ];
        for (x, scale, zero_point, y) in cases {
            let out = DynamicQuantizeLinear
                .eval_out_of_plan(tvec![Tensor::from_shape(&[x.len()], x).unwrap().into_tvalue()])
                .unwrap()
                .unwrap();
            assert_eq!(out[0].try_as_plain_ram().unwrap().as_slice::<u8>().unwrap(), y);
            assert!((out[1].cast_to_scalar::<f32>().unwrap() - scale).abs() < 1e-8);
            assert_eq!(out[2].cast_to_scalar::<u8>().unwrap(), zero_point);
        }
        let zeros = DynamicQuantizeLinear.eval_out_of_plan(tvec![tensor1(&[0f32; 4]).into_tvalue()]).unwrap().unwrap();
        assert_eq!(zeros[0].try_as_plain_ram().unwrap().as_slice::<u8>().unwrap(), &[0; 4]);
    }
}
