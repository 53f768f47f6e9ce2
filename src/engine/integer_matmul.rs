//! ONNX `MatMulInteger` on tract's f32 matrix products: registered in the parser's operator
//! register in place of tract-onnx's, which runs it on tract's integer kernels (in wasm, a
//! portable loop with no SIMD: what made int8 transformers slower than their float form).
//!
//! `(A - a_zero_point) x (B - b_zero_point)` is computed in f32: each factor is an integer of at
//! most 9 bits and each product of at most 17, held exactly by an f32; the sum over k is exact
//! while it stays under 2^24 in magnitude (a k of 256 at the largest factors; far more in
//! practice), and beyond that off by f32's rounding of a large sum, which is far below what the
//! quantization itself moves. B is a constant in the graphs quantizers write: tract folds its
//! conversion at load, and the product then runs on the same kernels as a float model's
//! (edgeserve's own in wasm, see `specialize/gemm.rs`). The output is converted back to int32,
//! as the operator's type says, for the Cast and scale multiplications that follow it.

use tract_onnx::model::ParsingContext;
use tract_onnx::pb::NodeProto;
use tract_onnx::tract_core::ops::{self as core_ops, cast::cast};
use tract_onnx::tract_hir::internal::*;
use tract_onnx::tract_hir::ops::matmul::{compute_shapes, MatMulInference};

/// Puts [`MatMulInteger`] in the register in place of tract-onnx's.
pub(super) fn register(framework: &mut tract_onnx::Onnx) {
    framework.op_register.insert("MatMulInteger", build);
}

fn build(_: &ParsingContext, node: &NodeProto) -> TractResult<(Box<dyn InferenceOp>, Vec<String>)> {
    let present = |ix: usize| node.input.get(ix).is_some_and(|i| !i.is_empty());
    let a_zero_point = present(2).then_some(2);
    let b_zero_point = present(3).then(|| 2 + usize::from(present(2)));
    Ok((expand(MatMulInteger { a_zero_point, b_zero_point }), vec![]))
}

#[derive(Debug, Clone, Hash, PartialEq, Eq)]
struct MatMulInteger {
    /// The index (among the node's inputs present) of A's zero point, when given.
    a_zero_point: Option<usize>,
    /// The index of B's zero point, when given.
    b_zero_point: Option<usize>,
}

impl MatMulInteger {
    /// `x - zero_point` in f32. A zero point is a scalar, or per row of A (`[M]`, applied along
    /// A's rows) or per column of B (`[N]`, along B's last axis), as ONNX allows.
    fn centered(
        prefix: &str,
        target: &mut TypedModel,
        x: OutletId,
        zero_point: Option<OutletId>,
        per_row: bool,
    ) -> TractResult<OutletId> {
        let x = target.wire_node(format!("{prefix}.f32"), cast(f32::datum_type()), &[x])?[0];
        let Some(zero_point) = zero_point else { return Ok(x) };
        let mut zero = target.wire_node(format!("{prefix}.zero_point.f32"), cast(f32::datum_type()), &[zero_point])?[0];
        let rank = target.outlet_fact(x)?.rank();
        let zero_rank = target.outlet_fact(zero)?.rank();
        if zero_rank == 1 && per_row {
            // [M] along the second-to-last axis of A.
            zero = target.wire_node(format!("{prefix}.zero_point.column"), AxisOp::Add(1), &[zero])?[0];
        }
        for ix in 0..rank.saturating_sub(target.outlet_fact(zero)?.rank()) {
            zero = target.wire_node(format!("{prefix}.zero_point.axis{ix}"), AxisOp::Add(0), &[zero])?[0];
        }
        Ok(target.wire_node(format!("{prefix}.centered"), core_ops::math::sub(), &[x, zero])?[0])
    }
}

impl Expansion for MatMulInteger {
    fn name(&self) -> StaticName {
        "MatMulInteger".into()
    }

    fn rules<'r, 'p: 'r, 's: 'r>(
        &'s self,
        s: &mut Solver<'r>,
        inputs: &'p [TensorProxy],
        outputs: &'p [TensorProxy],
    ) -> TractResult<()> {
        check_input_arity(
            inputs,
            2 + usize::from(self.a_zero_point.is_some()) + usize::from(self.b_zero_point.is_some()),
        )?;
        check_output_arity(outputs, 1)?;
        s.equals(&outputs[0].datum_type, i32::datum_type())?;
        if let Some(zp) = self.a_zero_point {
            s.equals(&inputs[zp].datum_type, &inputs[0].datum_type)?;
        }
        if let Some(zp) = self.b_zero_point {
            s.equals(&inputs[zp].datum_type, &inputs[1].datum_type)?;
        }
        s.given_2(&inputs[0].shape, &inputs[1].shape, move |s, a, b| {
            let (_, _, _, c) = compute_shapes(a, b, false, false, false)?;
            s.equals(&outputs[0].shape, c)
        })
    }

    fn wire(&self, prefix: &str, target: &mut TypedModel, inputs: &[OutletId]) -> TractResult<TVec<OutletId>> {
        let a = MatMulInteger::centered(
            &format!("{prefix}.a"),
            target,
            inputs[0],
            self.a_zero_point.map(|i| inputs[i]),
            true,
        )?;
        let b = MatMulInteger::centered(
            &format!("{prefix}.b"),
            target,
            inputs[1],
            self.b_zero_point.map(|i| inputs[i]),
            false,
        )?;
        let product = MatMulInference::default().wire(&format!("{prefix}.f32_product"), target, &[a, b])?;
        let rounded = target.wire_node(format!("{prefix}.rounded"), core_ops::math::round(), &product)?;
        target.wire_node(prefix, cast(i32::datum_type()), &rounded)
    }
}
