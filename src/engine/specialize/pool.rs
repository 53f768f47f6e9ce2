//! A max pool for the commonest pattern of small CNNs: f32 images in NCHW, windows that tile the
//! image (stride = kernel, no padding, no dilation), such as a 2x2 pool at stride 2.
//!
//! tract's own max pool walks every output through a generic loop there; in wasm its `f32::max`
//! becomes a call to `fmaxf` per element, and the two pools of `cnn-small` (bench/) took half of
//! its run time in Node. [`super::specialize`] swaps the optimized plan's `OptMaxPool` nodes of that
//! pattern for [`TiledMaxPool`], which walks each output row once and, in wasm with SIMD, takes
//! 2x2 windows four outputs at a time. Any other pool stays tract's.
//!
//! A window holding a NaN gives NaN (as wasm's `f32x4.max` does).

use tract_nnef::internal::*;
use tract_nnef::tract_core::ops::cnn::OptMaxPool;
use tract_nnef::tract_core::ops::nn::DataFormat;

/// Max over `kernel` windows at stride `kernel`, no padding, of an f32 `[N, C, H, W]` input;
/// output `[N, C, H / kh, W / kw]` (rows and columns past the last whole window are left out,
/// as ONNX's floor mode does).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TiledMaxPool {
    pub kernel: [usize; 2],
}

/// The larger of two values, NaN if either is.
#[inline(always)]
fn max_nan(a: f32, b: f32) -> f32 {
    if a > b || a.is_nan() {
        a
    } else {
        b
    }
}

impl TiledMaxPool {
    /// The `TiledMaxPool` for tract's `op` on an input of `shape`, if the pattern matches.
    pub fn replacing(op: &OptMaxPool, shape: &[usize], datum_type: DatumType) -> Option<TiledMaxPool> {
        let spec = &op.pool_spec;
        let kernel: [usize; 2] = spec.kernel_shape.as_slice().try_into().ok()?;
        let strides_match = spec.strides.as_ref().is_some_and(|s| s.as_slice() == kernel);
        let undilated = spec.dilations.as_ref().is_none_or(|d| d.iter().all(|&x| x == 1));
        let geo = op.geometry.to_concrete(shape).ok()?;
        let patch = &geo.patch;
        let unpadded = patch.pad_before.iter().all(|&p| p == 0) && patch.pad_after.iter().all(|&p| p == 0);
        let tiled = shape.len() == 4
            && kernel.iter().all(|&k| k > 0)
            && patch.output_shape.as_slice() == [shape[2] / kernel[0], shape[3] / kernel[1]];
        (op.with_index_outputs.is_none()
            && datum_type == DatumType::F32
            && spec.data_format == DataFormat::NCHW
            && strides_match
            && undilated
            && unpadded
            && tiled)
            .then_some(TiledMaxPool { kernel })
    }

    /// Pools one image plane (`h` rows of `w`) into `out` (`oh` rows of `ow`).
    fn plane(&self, src: &[f32], out: &mut [f32], w: usize, ow: usize) {
        let [kh, kw] = self.kernel;
        for (oy, out_row) in out.chunks_exact_mut(ow).enumerate() {
            let rows = &src[oy * kh * w..][..kh * w];
            let done = if kh == 2 && kw == 2 { rows_2x2(&rows[..w], &rows[w..], out_row) } else { 0 };
            for (ox, o) in out_row.iter_mut().enumerate().skip(done) {
                let mut m = rows[ox * kw];
                for row in rows.chunks_exact(w) {
                    for &v in &row[ox * kw..][..kw] {
                        m = max_nan(m, v);
                    }
                }
                *o = m;
            }
        }
    }
}

/// 2x2 windows of rows `r0` and `r1` (a loop the compiler vectorizes natively): how many
/// outputs it wrote.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
fn rows_2x2(r0: &[f32], r1: &[f32], out: &mut [f32]) -> usize {
    let mut n = 0;
    for ((o, a), b) in out.iter_mut().zip(r0.chunks_exact(2)).zip(r1.chunks_exact(2)) {
        *o = max_nan(max_nan(a[0], a[1]), max_nan(b[0], b[1]));
        n += 1;
    }
    n
}

/// 2x2 windows of rows `r0` and `r1`, four outputs at a time: how many outputs it wrote (all of
/// `out` when it holds at least four: a last group short of four is done as the four outputs that
/// end the row, overlapping the group before; fewer than four are left to the caller).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
fn rows_2x2(r0: &[f32], r1: &[f32], out: &mut [f32]) -> usize {
    use core::arch::wasm32::*;
    let n = out.len().min(r0.len() / 2).min(r1.len() / 2);
    if n < 4 {
        return 0;
    }
    // Output groups start at 0, 4, 8, ... and the last one at n - 4.
    let mut x = 0;
    loop {
        // SAFETY: x + 4 <= n, so 2 * x + 8 <= 2 * n <= r0.len(), r1.len(), and x + 4 <= out.len();
        // wasm loads and stores need no alignment.
        unsafe {
            let lo = f32x4_max(
                v128_load(r0.as_ptr().add(2 * x) as *const v128),
                v128_load(r1.as_ptr().add(2 * x) as *const v128),
            );
            let hi = f32x4_max(
                v128_load(r0.as_ptr().add(2 * x + 4) as *const v128),
                v128_load(r1.as_ptr().add(2 * x + 4) as *const v128),
            );
            let even = i32x4_shuffle::<0, 2, 4, 6>(lo, hi);
            let odd = i32x4_shuffle::<1, 3, 5, 7>(lo, hi);
            v128_store(out.as_mut_ptr().add(x) as *mut v128, f32x4_max(even, odd));
        }
        if x + 4 == n {
            return n;
        }
        x = (x + 4).min(n - 4);
    }
}

impl Op for TiledMaxPool {
    fn name(&self) -> StaticName {
        "TiledMaxPool".into()
    }

    fn info(&self) -> TractResult<Vec<String>> {
        Ok(vec![format!("kernel and stride {:?}", self.kernel)])
    }

    op_as_typed_op!();
}

impl EvalOp for TiledMaxPool {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = args_1!(inputs);
        let &[n, c, h, w] = input.shape() else {
            bail!("TiledMaxPool expects an [N, C, H, W] input, got {:?}", input.shape())
        };
        let [kh, kw] = self.kernel;
        let (oh, ow) = (h / kh, w / kw);
        let view = input.try_as_plain_ram()?;
        let src = view.as_slice::<f32>()?;
        // SAFETY: every element is written below (each plane's oh * ow outputs).
        let mut output = unsafe { Tensor::uninitialized::<f32>(&[n, c, oh, ow])? };
        if oh * ow > 0 {
            let mut out_view = output.try_as_plain_ram_mut()?;
            let out = out_view.as_slice_mut::<f32>()?;
            for (plane, out_plane) in src.chunks_exact(h * w).zip(out.chunks_exact_mut(oh * ow)) {
                self.plane(plane, out_plane, w, ow);
            }
        }
        Ok(tvec!(output.into_tvalue()))
    }
}

impl TypedOp for TiledMaxPool {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        let shape = &inputs[0].shape;
        ensure!(shape.rank() == 4, "TiledMaxPool expects an [N, C, H, W] input, got {:?}", shape);
        let [kh, kw] = self.kernel;
        let (h, w) = (shape[2].to_usize()?, shape[3].to_usize()?);
        Ok(tvec!(f32::fact([shape[0].clone(), shape[1].clone(), (h / kh).to_dim(), (w / kw).to_dim()])))
    }

    as_op!();
}

#[cfg(test)]
mod tests {
    use super::*;
    use tract_nnef::tract_core::ops::cnn::{MaxPool, PaddingSpec, PoolSpec};

    /// A model of one MaxPool, optimized, with and without the specialization.
    fn pools(
        shape: [usize; 4],
        kernel: [usize; 2],
        strides: [usize; 2],
        padding: PaddingSpec,
    ) -> TractResult<(TypedModel, TypedModel, usize)> {
        let mut model = TypedModel::default();
        let source = model.add_source("x", f32::fact(shape))?;
        let spec = PoolSpec::new(
            DataFormat::NCHW,
            kernel[..].into(),
            padding,
            None,
            Some(strides[..].into()),
            shape[1],
            shape[1],
        );
        let out = model.wire_node("pool", MaxPool { pool_spec: spec, with_index_outputs: None }, &[source])?;
        model.select_output_outlets(&out)?;
        let reference = model.into_optimized()?;
        let mut tiled = reference.clone();
        super::super::specialize(&mut tiled)?;
        let replaced = tiled.nodes.iter().filter(|n| n.op_is::<TiledMaxPool>()).count();
        Ok((reference, tiled, replaced))
    }

    fn input(shape: [usize; 4], seed: usize) -> TractResult<Tensor> {
        let len = shape.iter().product::<usize>();
        let values: Vec<f32> = (0..len).map(|i| (((i * 7919 + seed * 31) % 1013) as f32 - 500.0) / 37.0).collect();
        Tensor::from_shape(&shape, &values)
    }

    fn run(model: &TypedModel, x: &Tensor) -> TractResult<Tensor> {
        let out = model.clone().into_runnable()?.run(tvec!(x.clone().into_tvalue()))?;
        Ok(out[0].clone().into_tensor())
    }

    #[test]
    fn tiled_pools_match_tracts() -> TractResult<()> {
        // Widths that leave SIMD remainders, odd sizes (floor mode), 2x2, 3x3 and 2x3 windows, a batch.
        for (shape, kernel) in [
            ([1, 8, 28, 28], [2, 2]),
            ([3, 2, 13, 11], [2, 2]),
            ([1, 4, 9, 18], [2, 2]),
            ([2, 3, 10, 10], [3, 3]),
            ([1, 2, 8, 9], [2, 3]),
            ([1, 1, 2, 2], [2, 2]),
        ] {
            let (reference, tiled, replaced) = pools(shape, kernel, kernel, PaddingSpec::Valid)?;
            assert_eq!(replaced, 1, "{shape:?} {kernel:?}");
            assert!(tiled.nodes.iter().any(|n| n.op_is::<TiledMaxPool>()));
            for seed in 0..3 {
                let x = input(shape, seed)?;
                let (want, got) = (run(&reference, &x)?, run(&tiled, &x)?);
                assert_eq!(want.shape(), got.shape(), "{shape:?} {kernel:?}");
                assert_eq!(want, got, "{shape:?} {kernel:?} seed {seed}");
            }
        }
        Ok(())
    }

    #[test]
    fn other_pools_stay_tracts() -> TractResult<()> {
        // Overlapping windows, and padding (7 is odd: "same" pads one column and row).
        assert_eq!(pools([1, 2, 8, 8], [3, 3], [2, 2], PaddingSpec::Valid)?.2, 0);
        assert_eq!(pools([1, 2, 8, 8], [2, 2], [1, 1], PaddingSpec::Valid)?.2, 0);
        assert_eq!(pools([1, 2, 7, 7], [2, 2], [2, 2], PaddingSpec::SameUpper)?.2, 0);
        // "Same" padding on a size the window divides pads nothing: tiled, and equal to tract's.
        let (reference, tiled, replaced) = pools([1, 2, 8, 8], [2, 2], [2, 2], PaddingSpec::SameUpper)?;
        assert_eq!(replaced, 1);
        let x = input([1, 2, 8, 8], 0)?;
        assert_eq!(run(&reference, &x)?, run(&tiled, &x)?);
        Ok(())
    }

    #[test]
    fn a_nan_in_a_window_gives_nan() -> TractResult<()> {
        let (_, tiled, _) = pools([1, 1, 4, 8], [2, 2], [2, 2], PaddingSpec::Valid)?;
        let mut x = input([1, 1, 4, 8], 1)?;
        x.try_as_plain_ram_mut()?.as_slice_mut::<f32>()?[9] = f32::NAN; // row 1, column 1: window (0, 0)
        let out = run(&tiled, &x)?;
        let values = out.try_as_plain_ram()?.as_slice::<f32>()?.to_vec();
        assert!(values[0].is_nan());
        assert!(values[1..].iter().all(|v| !v.is_nan()));
        Ok(())
    }
}
