//! ONNX `MatMulInteger`, registered in the parser's operator register in place of tract-onnx's,
//! which runs it on tract's integer kernels (slower in wasm than its float products).
//!
//! With B a constant (as quantizers write it), the typed graph holds [`IntegerProduct`]: B as
//! its 8-bit integers, so that the graph's NNEF form (src/engine/nnef_ops.rs writes and reads
//! it) keeps them so, and the lean build can load it. Its code generation, when a plan is made:
//! - in wasm: [`PackedIntegerMatMul`], B centered and packed once, exact int32 sums: on the
//!   relaxed-SIMD build, when B less its zero points fits in 7 bits (but for a few values),
//!   edgeserve's int8 kernel ([`super::gemm_i8`], `i32x4.relaxed_dot_i8x16_i7x16_add_s`); else
//!   its i16 kernel ([`super::gemm_i16`], `i32x4.dot_i16x8_s`);
//! - elsewhere (native builds, whose f32 products use AVX2 and FMA): the f32 form below.
//!
//! The f32 form (also what a B computed at run time gets at parsing):
//! `(A - a_zero_point) x (B - b_zero_point)` in f32. Each factor is an integer of at most 9
//! bits and each product of at most 17, held exactly by an f32; the sum over k is exact while
//! it stays under 2^24 in magnitude (a k of 256 at the largest factors; far more in practice),
//! and beyond that off by f32's rounding of a large sum, far below what the quantization itself
//! moves. tract folds B's conversion in the plan. The output is converted back to int32, as the
//! operator's type says, for the Cast and scale multiplications that follow it.

// A lean build has these when its packages' NNEF forms call them (src/engine/lean.rs).
#![cfg_attr(not(feature = "onnx"), allow(dead_code))]

use tract_nnef::internal::*;
use tract_nnef::tract_core::ops::einsum::EinSum;
use tract_nnef::tract_core::ops::{self as core_ops, cast::cast};

/// The ONNX operator, for the parser's register.
#[cfg(feature = "onnx")]
mod onnx {
    use super::IntegerProduct;
    use tract_onnx::model::ParsingContext;
    use tract_onnx::pb::NodeProto;
    use tract_onnx::tract_hir::internal::*;
    use tract_onnx::tract_hir::ops::matmul::{compute_shapes, MatMulInference};

    /// Puts [`MatMulInteger`] in the register in place of tract-onnx's.
    pub(crate) fn register(framework: &mut tract_onnx::Onnx) {
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
            let a_zero_point = self.a_zero_point.map(|i| inputs[i]);
            let b_zero_point = self.b_zero_point.map(|i| inputs[i]);
            if let Some(wired) = IntegerProduct::wire(prefix, target, inputs[0], a_zero_point, inputs[1], b_zero_point)?
            {
                return Ok(wired);
            }
            let a = super::centered(&format!("{prefix}.a"), target, inputs[0], a_zero_point, true)?;
            let b = super::centered(&format!("{prefix}.b"), target, inputs[1], b_zero_point, false)?;
            let product = MatMulInference::default().wire(&format!("{prefix}.f32_product"), target, &[a, b])?;
            super::to_int32(prefix, target, product[0])
        }
    }
}

#[cfg(feature = "onnx")]
pub(crate) use onnx::register;

/// `x - zero_point` in f32. A zero point is a scalar, or per row of A (`[M]`, applied along A's
/// rows) or per column of B (`[N]`, along B's last axis), as ONNX allows.
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

/// An f32 product of integers, rounded and converted to int32.
fn to_int32(prefix: &str, target: &mut TypedModel, product: OutletId) -> TractResult<TVec<OutletId>> {
    let rounded = target.wire_node(format!("{prefix}.rounded"), core_ops::math::round(), &[product])?;
    target.wire_node(prefix, cast(i32::datum_type()), &rounded)
}

/// `(A - a_zero_point) x (B - b_zero_point)` in int32, B a constant matrix. Inputs: A
/// (`[..., M, K]`, uint8 or int8), A's zero point (a scalar of A's type), B (`[K, N]`, uint8 or
/// int8) and B's zero point (a scalar or `[N]`, of B's type); output `[..., M, N]` int32.
#[derive(Debug, Clone, Default, Hash, PartialEq, Eq)]
pub(crate) struct IntegerProduct;

impl IntegerProduct {
    /// Wires the product when B and its zero point are constants, A has rows (rank 2 or more),
    /// A's zero point is one value and B's one value or one per column: the form quantizers
    /// write. `None` for any other form.
    fn wire(
        prefix: &str,
        target: &mut TypedModel,
        a: OutletId,
        a_zero_point: Option<OutletId>,
        b: OutletId,
        b_zero_point: Option<OutletId>,
    ) -> TractResult<Option<TVec<OutletId>>> {
        let (a_fact, b_fact) = (target.outlet_fact(a)?.clone(), target.outlet_fact(b)?.clone());
        let Some(b_value) = &b_fact.konst else { return Ok(None) };
        if a_fact.rank() < 2 || b_value.rank() != 2 {
            return Ok(None);
        }
        let n = b_value.shape()[1];
        if let Some(zp) = a_zero_point {
            if target.outlet_fact(zp)?.shape.volume() != 1.to_dim() {
                return Ok(None);
            }
        }
        if let Some(zp) = b_zero_point {
            match &target.outlet_fact(zp)?.konst {
                Some(z) if z.len() == 1 || (z.rank() == 1 && z.len() == n) => (),
                _ => return Ok(None),
            }
        }
        let mut zero = |zero_point: Option<OutletId>, dt: DatumType, name: &str| -> TractResult<OutletId> {
            match zero_point {
                Some(zp) if target.outlet_fact(zp)?.rank() == 0 => Ok(zp),
                Some(zp) if name == "a" => Ok(target.wire_node(
                    format!("{prefix}.a_zero_point.scalar"),
                    AxisOp::Reshape(0, target.outlet_fact(zp)?.shape.to_tvec(), tvec![]),
                    &[zp],
                )?[0]),
                Some(zp) => Ok(zp),
                None => target.add_const(format!("{prefix}.{name}_zero_point"), Tensor::zero_scalar_dt(dt)?),
            }
        };
        let a_zero = zero(a_zero_point, a_fact.datum_type, "a")?;
        let b_zero = zero(b_zero_point, b_fact.datum_type, "b")?;
        Ok(Some(target.wire_node(prefix, IntegerProduct, &[a, a_zero, b, b_zero])?))
    }
}

impl Op for IntegerProduct {
    fn name(&self) -> StaticName {
        "IntegerProduct".into()
    }

    op_as_typed_op!();
}

impl EvalOp for IntegerProduct {
    op_out_of_plan!();

    /// The plain product (a graph that is not planned: its code generation makes the fast one).
    fn eval(&self, _: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let (a, b) = (&inputs[0], &inputs[2]);
        let a_zero = inputs[1].cast_to_scalar::<i32>()?;
        let (k, n) = (b.shape()[0], b.shape()[1]);
        let b_zero = ints(&inputs[3])?;
        let b = ints(b)?;
        let a_values = ints(a)?;
        let rows = a_values.len() / k.max(1);
        let mut c = vec![0i32; rows * n];
        for (row, out) in c.chunks_exact_mut(n).enumerate() {
            for (kk, &x) in a_values[row * k..(row + 1) * k].iter().enumerate() {
                let x = x - a_zero;
                for (col, sum) in out.iter_mut().enumerate() {
                    *sum += x * (b[kk * n + col] - b_zero[if b_zero.len() == 1 { 0 } else { col }]);
                }
            }
        }
        let mut shape = a.shape().to_vec();
        *shape.last_mut().context("A of rank 0")? = n;
        Ok(tvec!(Tensor::from_shape(&shape, &c)?.into_tvalue()))
    }
}

impl TypedOp for IntegerProduct {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        let (a, b) = (inputs[0], inputs[2]);
        ensure!(a.rank() >= 2 && b.rank() == 2, "IntegerProduct of A {a:?} and B {b:?}");
        ensure!(a.shape[a.rank() - 1] == b.shape[0], "IntegerProduct: A {a:?} and B {b:?} differ in k");
        ensure!(inputs[1].shape.volume().is_one(), "IntegerProduct: A's zero point {:?}, not one value", inputs[1]);
        let b_zero = &inputs[3].shape;
        ensure!(
            b_zero.volume().is_one() || (b_zero.rank() == 1 && b_zero[0] == b.shape[1]),
            "IntegerProduct: B's zero point {b_zero:?}, not one value or one per column"
        );
        let mut shape: TVec<TDim> = a.shape.iter().cloned().collect();
        *shape.last_mut().unwrap() = b.shape[1].clone();
        Ok(tvec!(TypedFact::dt_shape(i32::datum_type(), shape)))
    }

    fn codegen(&self, model: &TypedModel, node: &TypedNode) -> TractResult<Option<TypedModelPatch>> {
        let fact = |ix: usize| model.outlet_fact(node.inputs[ix]);
        let (Some(b), Some(b_zero)) = (fact(2)?.konst.clone(), fact(3)?.konst.clone()) else { return Ok(None) };
        let (k, n) = (b.shape()[0], b.shape()[1]);
        let mut patch = TypedModelPatch::default();
        let a = patch.tap_model(model, node.inputs[0])?;
        let a_zero = patch.tap_model(model, node.inputs[1])?;
        let out = if super::gemm_i16::SIMD {
            let b_zero = ints(&b_zero)?;
            let centered: Vec<i32> = ints(&b)?
                .iter()
                .enumerate()
                .map(|(i, &v)| v - b_zero[if b_zero.len() == 1 { 0 } else { i % n }])
                .collect();
            let kernel = Kernel::pack(&centered, k, n, super::gemm_i8::RELAXED);
            patch.wire_node(&node.name, PackedIntegerMatMul { k, n, kernel }, &[a, a_zero])?[0]
        } else {
            let prefix = &node.name;
            let b = patch.add_const(format!("{prefix}.b"), b)?;
            let b_zero = patch.add_const(format!("{prefix}.b_zero_point"), b_zero)?;
            let a = centered(&format!("{prefix}.a"), &mut patch, a, Some(a_zero), true)?;
            let b = centered(&format!("{prefix}.b"), &mut patch, b, Some(b_zero), false)?;
            // One letter per axis of A before its rows ('a' to 'j', before k, m and n).
            let batch: String = ('a'..='j').take(model.outlet_fact(node.inputs[0])?.rank() - 2).collect();
            ensure!(batch.len() + 2 == model.outlet_fact(node.inputs[0])?.rank(), "IntegerProduct: A of rank over 12");
            let axes = format!("{batch}mk,kn->{batch}mn").parse()?;
            let product =
                patch.wire_node(format!("{prefix}.f32_product"), EinSum::new(axes, f32::datum_type()), &[a, b])?;
            to_int32(prefix, &mut patch, product[0])?[0]
        };
        patch.shunt_outside(model, node.id.into(), out)?;
        Ok(Some(patch))
    }

    as_op!();
}

/// The values of an 8-bit integer tensor as i32.
fn ints(t: &Tensor) -> TractResult<Vec<i32>> {
    let t = t.cast_to::<i32>()?;
    Ok(t.try_as_plain_ram()?.as_slice::<i32>()?.to_vec())
}

/// `MatMulInteger` with a constant B: `(A - a_zero_point) x (B - b_zero_point)` in int32 on
/// edgeserve's integer kernel ([`super::gemm_i16`]), B centered and packed once at load. Inputs:
/// A (`[..., M, K]`, uint8 or int8) and, when given, A's zero point (one value); output
/// `[..., M, N]` int32.
#[derive(Debug, Clone)]
struct PackedIntegerMatMul {
    k: usize,
    n: usize,
    kernel: Kernel,
}

/// B packed for one of the kernels.
#[derive(Debug, Clone)]
enum Kernel {
    /// [`super::gemm_i16`]'s packing.
    I16(Arc<Vec<i16>>),
    /// [`super::gemm_i8`]'s.
    I8(Arc<super::gemm_i8::Packed>),
}

impl Kernel {
    /// B (`k` x `n`, less its zero points) packed for the int8 kernel when `int8` is asked for
    /// and its values fit in 7 bits, else for the i16 kernel.
    fn pack(centered: &[i32], k: usize, n: usize, int8: bool) -> Kernel {
        match int8.then(|| super::gemm_i8::Packed::new(centered, k, n)).flatten() {
            Some(packed) => Kernel::I8(Arc::new(packed)),
            None => {
                let values: Vec<i16> = centered.iter().map(|&v| v as i16).collect();
                Kernel::I16(Arc::new(super::gemm_i16::pack(&values, k, n)))
            }
        }
    }
}

impl PartialEq for PackedIntegerMatMul {
    fn eq(&self, other: &Self) -> bool {
        match (&self.kernel, &other.kernel) {
            (Kernel::I16(a), Kernel::I16(b)) => Arc::ptr_eq(a, b),
            (Kernel::I8(a), Kernel::I8(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}
impl Eq for PackedIntegerMatMul {}

impl Op for PackedIntegerMatMul {
    fn name(&self) -> StaticName {
        "PackedIntegerMatMul".into()
    }

    op_as_typed_op!();
}

impl TypedOp for PackedIntegerMatMul {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        let mut shape: TVec<TDim> = inputs[0].shape.iter().cloned().collect();
        if let Some(last) = shape.last_mut() {
            *last = self.n.to_dim();
        }
        Ok(tvec!(TypedFact::dt_shape(i32::datum_type(), shape)))
    }

    as_op!();
}

impl PackedIntegerMatMul {
    /// `c = (A - zero) x B` on the i16 kernel, A's values in row-major order.
    fn gemm_i16(&self, packed: &[i16], values: impl Iterator<Item = i32>, rows: usize, zero: i32, c: &mut [i32]) {
        let k2 = self.k.next_multiple_of(2);
        let mut centered = vec![0i16; rows * k2];
        for (i, v) in values.enumerate() {
            centered[(i / self.k) * k2 + i % self.k] = (v - zero) as i16;
        }
        super::gemm_i16::gemm(&centered, rows, k2, packed, self.n, c);
    }
}

impl EvalOp for PackedIntegerMatMul {
    op_out_of_plan!();

    fn eval(&self, _: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let a = &inputs[0];
        let zero = match inputs.get(1) {
            Some(z) => z.cast_to_scalar::<i32>()?,
            None => 0,
        };
        let shape = a.shape();
        let rank = shape.len();
        ensure!(rank >= 2 && shape[rank - 1] == self.k, "MatMulInteger: A of shape {shape:?} for B of {} rows", self.k);
        let rows: usize = shape[..rank - 1].iter().product();
        let mut c = vec![0i32; rows * self.n];
        match (&self.kernel, a.datum_type()) {
            (Kernel::I8(packed), DatumType::U8) => {
                let (shifted, sums) = packed.shift_rows(a.try_as_plain_ram()?.as_slice::<u8>()?, |v| (v ^ 0x80) as i8);
                packed.gemm(&shifted, &sums, 128 - zero, &mut c);
            }
            (Kernel::I8(packed), DatumType::I8) => {
                let (shifted, sums) = packed.shift_rows(a.try_as_plain_ram()?.as_slice::<i8>()?, |v| v);
                packed.gemm(&shifted, &sums, -zero, &mut c);
            }
            (Kernel::I16(packed), DatumType::U8) => {
                let values = a.try_as_plain_ram()?.as_slice::<u8>()?.iter().map(|&v| i32::from(v));
                self.gemm_i16(packed, values, rows, zero, &mut c);
            }
            (Kernel::I16(packed), DatumType::I8) => {
                let values = a.try_as_plain_ram()?.as_slice::<i8>()?.iter().map(|&v| i32::from(v));
                self.gemm_i16(packed, values, rows, zero, &mut c);
            }
            (_, other) => bail!("MatMulInteger: A of type {other:?}, where uint8 or int8 was expected"),
        }
        let mut out_shape = shape.to_vec();
        out_shape[rank - 1] = self.n;
        Ok(tvec!(Tensor::from_shape(&out_shape, &c)?.into_tvalue()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_packed_product_centres_a_and_b_and_keeps_a_batch_axis_on_both_kernels() {
        // A: [2, 3, 5] uint8 with zero point 7 (and as int8 with zero point -3); B: [5, 4] int8
        // with zero points per column, over the full range (the i16 kernel alone) and within 7
        // bits of its zero points (both).
        let (k, n) = (5, 4);
        let a: Vec<u8> = (0..30).map(|i| (i * 41 % 256) as u8).collect();
        let b_zero = [3i32, -2, 0, 5];
        let full: Vec<i32> = (0..20i32).map(|i| i * 29 % 255 - 127).collect();
        let narrow: Vec<i32> = (0..20i32).map(|i| i * 29 % 128 - 64 + b_zero[i as usize % n]).collect();
        for (b, int8) in [(&full, false), (&full, true), (&narrow, false), (&narrow, true)] {
            let centered: Vec<i32> = b.iter().enumerate().map(|(i, &v)| v - b_zero[i % n]).collect();
            let kernel = Kernel::pack(&centered, k, n, int8);
            assert_eq!(matches!(kernel, Kernel::I8(_)), int8 && b == &narrow);
            let op = PackedIntegerMatMul { k, n, kernel };
            let signed: Vec<i8> = a.iter().map(|&v| v as i8).collect();
            for (input, zero, values) in [
                (
                    Tensor::from_shape(&[2, 3, 5], &a).unwrap(),
                    tensor0(7u8),
                    a.iter().map(|&v| i32::from(v) - 7).collect::<Vec<_>>(),
                ),
                (
                    Tensor::from_shape(&[2, 3, 5], &signed).unwrap(),
                    tensor0(-3i8),
                    signed.iter().map(|&v| i32::from(v) + 3).collect(),
                ),
            ] {
                let out =
                    op.eval_out_of_plan(tvec![input.into_tvalue(), zero.into_tvalue()]).unwrap().unwrap().remove(0);
                assert_eq!(out.shape(), &[2, 3, 4]);
                let got = out.try_as_plain_ram().unwrap().as_slice::<i32>().unwrap().to_vec();
                for row in 0..6 {
                    for col in 0..n {
                        let want: i32 = (0..k).map(|kk| values[row * k + kk] * centered[kk * n + col]).sum();
                        assert_eq!(got[row * n + col], want, "int8 {int8} [{row}][{col}]");
                    }
                }
            }
        }
    }
}
