//! ONNX `MatMulInteger`, registered in the parser's operator register in place of tract-onnx's,
//! which runs it on tract's integer kernels (slower in wasm than its float products).
//!
//! - In wasm, with B a constant (as quantizers write it): [`PackedIntegerMatMul`], edgeserve's
//!   i16 kernel ([`super::gemm_i16`], `i32x4.dot_i16x8_s`), B centered and packed once at load;
//!   exact int32 sums.
//! - Elsewhere (native builds, whose f32 products use AVX2 and FMA, or a B computed at run time):
//!   `(A - a_zero_point) x (B - b_zero_point)` in f32. Each factor is an integer of at most 9
//!   bits and each product of at most 17, held exactly by an f32; the sum over k is exact while
//!   it stays under 2^24 in magnitude (a k of 256 at the largest factors; far more in practice),
//!   and beyond that off by f32's rounding of a large sum, far below what the quantization itself
//!   moves. tract folds B's conversion at load. The output is converted back to int32, as the
//!   operator's type says, for the Cast and scale multiplications that follow it.

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
    /// The product as [`PackedIntegerMatMul`], when B is a constant matrix, A has rows (rank 2
    /// or more), A's zero point is one value and B's one value or one per column: the form
    /// quantizers write.
    fn packed(&self, target: &TypedModel, inputs: &[OutletId]) -> TractResult<Option<PackedIntegerMatMul>> {
        if !super::gemm_i16::SIMD {
            return Ok(None);
        }
        let a = target.outlet_fact(inputs[0])?;
        let b = target.outlet_fact(inputs[1])?;
        let Some(b_value) = b.konst.clone() else { return Ok(None) };
        if a.rank() < 2 || b_value.rank() != 2 {
            return Ok(None);
        }
        if let Some(zp) = self.a_zero_point {
            if target.outlet_fact(inputs[zp])?.shape.volume() != 1.to_dim() {
                return Ok(None);
            }
        }
        let (k, n) = (b_value.shape()[0], b_value.shape()[1]);
        let b_zero: Vec<i32> = match self.b_zero_point {
            None => vec![0],
            Some(zp) => match &target.outlet_fact(inputs[zp])?.konst {
                Some(z) if z.len() == 1 || (z.rank() == 1 && z.len() == n) => ints(z)?,
                _ => return Ok(None),
            },
        };
        let b_ints = ints(&b_value)?;
        let centered: Vec<i16> = b_ints
            .iter()
            .enumerate()
            .map(|(i, &v)| (v - b_zero[if b_zero.len() == 1 { 0 } else { i % n }]) as i16)
            .collect();
        Ok(Some(PackedIntegerMatMul { k, n, packed: Arc::new(super::gemm_i16::pack(&centered, k, n)) }))
    }

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
        if let Some(op) = self.packed(target, inputs)? {
            let mut wired = tvec![inputs[0]];
            wired.extend(self.a_zero_point.map(|i| inputs[i]));
            return target.wire_node(prefix, op, &wired);
        }
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
    packed: Arc<Vec<i16>>,
}

impl PartialEq for PackedIntegerMatMul {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.packed, &other.packed)
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
        let k2 = self.k.next_multiple_of(2);
        let mut centered = vec![0i16; rows * k2];
        let fill = |values: &mut dyn Iterator<Item = i32>, centered: &mut [i16]| {
            for (i, v) in values.enumerate() {
                centered[(i / self.k) * k2 + i % self.k] = (v - zero) as i16;
            }
        };
        match a.datum_type() {
            DatumType::U8 => {
                fill(&mut a.try_as_plain_ram()?.as_slice::<u8>()?.iter().map(|&v| i32::from(v)), &mut centered)
            }
            DatumType::I8 => {
                fill(&mut a.try_as_plain_ram()?.as_slice::<i8>()?.iter().map(|&v| i32::from(v)), &mut centered)
            }
            other => bail!("MatMulInteger: A of type {other:?}, where uint8 or int8 was expected"),
        }
        let mut c = vec![0i32; rows * self.n];
        super::gemm_i16::gemm(&centered, rows, k2, &self.packed, self.n, &mut c);
        let mut out_shape = shape.to_vec();
        out_shape[rank - 1] = self.n;
        Ok(tvec!(Tensor::from_shape(&out_shape, &c)?.into_tvalue()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_packed_product_centres_a_and_b_and_keeps_a_batch_axis() {
        // A: [2, 3, 5] uint8 with zero point 7; B: [5, 4] int8 with zero points per column.
        let (k, n) = (5, 4);
        let a: Vec<u8> = (0..30).map(|i| (i * 41 % 256) as u8).collect();
        let b: Vec<i8> = (0..20i32).map(|i| (i * 29 % 255 - 127) as i8).collect();
        let b_zero = [3i32, -2, 0, 5];
        let centered: Vec<i16> = b.iter().enumerate().map(|(i, &v)| (i32::from(v) - b_zero[i % n]) as i16).collect();
        let op = PackedIntegerMatMul { k, n, packed: Arc::new(super::super::gemm_i16::pack(&centered, k, n)) };
        let inputs = tvec![Tensor::from_shape(&[2, 3, 5], &a).unwrap().into_tvalue(), tensor0(7u8).into_tvalue()];
        let out = op.eval_out_of_plan(inputs).unwrap().unwrap().remove(0);
        assert_eq!(out.shape(), &[2, 3, 4]);
        let got = out.try_as_plain_ram().unwrap().as_slice::<i32>().unwrap().to_vec();
        for row in 0..6 {
            for col in 0..n {
                let want: i32 = (0..k)
                    .map(|kk| (i32::from(a[row * k + kk]) - 7) * (i32::from(b[kk * n + col]) - b_zero[col]))
                    .sum();
                assert_eq!(got[row * n + col], want, "[{row}][{col}]");
            }
        }
    }
}
