//! A direct convolution for the first layers of small CNNs: f32 images in NCHW with few input
//! channels (a grey or colour image), stride 1, no dilation, no groups, any padding.
//!
//! tract lowers every such convolution to an im2col and a matrix product whose inner dimension
//! is the input channels times the kernel's taps: nine for cnn-small's first layer (bench/),
//! where gathering the patches costs more than the products. [`SmallConv`] instead walks each
//! output row once per output channel: the row's outputs stay in vector registers while every
//! tap adds its weight times the input row shifted under it, read from a zero-bordered copy of
//! the image's planes. [`super::specialize`] swaps a plan's `Conv` nodes of that pattern for it
//! before tract optimizes the plan (in wasm, where it is faster: see [`replacing`]).

use tract_nnef::internal::*;
use tract_nnef::tract_core::ops::cnn::{Conv, KernelFormat};
use tract_nnef::tract_core::ops::nn::DataFormat;

/// The most input channels times kernel taps (the inner dimension of tract's product) that
/// [`SmallConv`] takes: beyond it, tract's product amortizes its gathering.
pub const MAX_INNER: usize = 27;

/// A convolution of an f32 `[N, C, H, W]` input by an `[M, C, KH, KW]` kernel, stride 1,
/// padded by `pads` (`[top, left, bottom, right]`), plus a bias per output channel; output
/// `[N, M, H + top + bottom - KH + 1, W + left + right - KW + 1]`.
#[derive(Debug, Clone, PartialEq)]
pub struct SmallConv {
    /// `[M, C, KH, KW]`, row-major.
    kernel: Vec<f32>,
    /// One per output channel.
    bias: Vec<f32>,
    /// M, C, KH, KW.
    dims: [usize; 4],
    pads: [usize; 4],
}

impl std::hash::Hash for SmallConv {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.kernel.iter().chain(&self.bias).for_each(|v| v.to_bits().hash(state));
        self.dims.hash(state);
        self.pads.hash(state);
    }
}

impl Eq for SmallConv {}

/// The [`SmallConv`] for tract's `conv` node in `model`, if the pattern matches: f32 NCHW input
/// of known channels, rows and columns (any batch), kernel (OIHW) and bias constant, stride and dilation 1, one group, at most
/// [`MAX_INNER`] input channels times taps, a 2D kernel.
pub fn replacing(model: &TypedModel, node: &TypedNode) -> Option<SmallConv> {
    let conv = node.op_as::<Conv>()?;
    let spec = &conv.pool_spec;
    let [x, kernel, bias] = node.inputs.as_slice() else { return None };
    let x = model.outlet_fact(*x).ok()?;
    // Channels, rows and columns known; the batch may be a symbol.
    let shape: Vec<usize> = x.shape.iter().skip(1).map(|d| d.to_usize().ok()).collect::<Option<_>>()?;
    let shape = [&[0][..], &shape].concat();
    let kernel = model.outlet_fact(*kernel).ok()?.konst.clone()?;
    let bias = model.outlet_fact(*bias).ok()?.konst.clone()?;
    let &[kh, kw] = spec.kernel_shape.as_slice() else { return None };
    let (m, c) = (spec.output_channels, spec.input_channels);
    let plain = conv.q_params.is_none()
        && conv.group == 1
        && conv.kernel_fmt == KernelFormat::OIHW
        && spec.data_format == DataFormat::NCHW
        && x.datum_type == DatumType::F32
        && x.rank() == 4
        && shape[1] == c
        && spec.strides().iter().all(|&s| s == 1)
        && spec.dilations().iter().all(|&d| d == 1)
        && c * kh * kw <= MAX_INNER
        && kernel.datum_type() == DatumType::F32
        && kernel.shape() == [m, c, kh, kw]
        && bias.datum_type() == DatumType::F32
        && (bias.len() == m || bias.len() == 1);
    if !plain {
        return None;
    }
    let padding = spec.computed_padding(&shape[2..]);
    let pads = [padding[0].pad_before, padding[1].pad_before, padding[0].pad_after, padding[1].pad_after];
    let out = [shape[2] + pads[0] + pads[2], shape[3] + pads[1] + pads[3]];
    if out[0] < kh
        || out[1] < kw
        || [out[0] - kh + 1, out[1] - kw + 1] != [padding[0].convoluted, padding[1].convoluted]
    {
        return None;
    }
    let kernel = kernel.try_as_plain_ram().ok()?.as_slice::<f32>().ok()?.to_vec();
    let bias = bias.try_as_plain_ram().ok()?.as_slice::<f32>().ok()?.to_vec();
    let bias = if bias.len() == m { bias } else { vec![bias[0]; m] };
    Some(SmallConv { kernel, bias, dims: [m, c, kh, kw], pads })
}

/// Output columns a pass of the kernel takes: up to eight vectors of four.
const SPAN: usize = 32;

impl SmallConv {
    /// The output's spatial size for an input of `h` rows of `w`: an error where the padded
    /// input is smaller than the kernel.
    fn out_hw(&self, h: usize, w: usize) -> TractResult<[usize; 2]> {
        let [_, _, kh, kw] = self.dims;
        let [top, left, bottom, right] = self.pads;
        match ((h + top + bottom + 1).checked_sub(kh), (w + left + right + 1).checked_sub(kw)) {
            (Some(oh), Some(ow)) if oh > 0 && ow > 0 => Ok([oh, ow]),
            _ => bail!("SmallConv: a {h} x {w} input padded by {:?} is smaller than the {kh} x {kw} kernel", self.pads),
        }
    }

    /// One image: `src` is its `C` planes of `h` rows of `w`, `out` its `M` planes; `padded` is
    /// scratch for the zero-bordered planes.
    fn image(&self, src: &[f32], [h, w, oh, ow]: [usize; 4], out: &mut [f32], padded: &mut Vec<f32>) {
        let [m, c, kh, kw] = self.dims;
        let [top, left, _, _] = self.pads;
        // Rows of the padded planes: long enough for a last pass of whole vectors.
        let ph = oh + kh - 1;
        let stride = ow.div_ceil(4) * 4 + kw - 1;
        padded.clear();
        padded.resize(c * ph * stride, 0.0);
        for (plane, dst) in src.chunks_exact(h * w).zip(padded.chunks_exact_mut(ph * stride)) {
            for (row, dst_row) in plane.chunks_exact(w).zip(dst[top * stride..].chunks_exact_mut(stride)) {
                dst_row[left..left + w].copy_from_slice(row);
            }
        }
        let mut sums = [0.0f32; SPAN];
        for (o, out_plane) in out.chunks_exact_mut(oh * ow).enumerate().take(m) {
            let taps = &self.kernel[o * c * kh * kw..][..c * kh * kw];
            for (y, out_row) in out_plane.chunks_exact_mut(ow).enumerate() {
                for x in (0..ow).step_by(SPAN) {
                    let cols = SPAN.min(ow - x);
                    let at = Window { padded, stride, plane: ph * stride, y, x, c, kh, kw };
                    match cols.div_ceil(4) {
                        1 => at.sums::<1>(taps, self.bias[o], &mut sums),
                        2 => at.sums::<2>(taps, self.bias[o], &mut sums),
                        3 => at.sums::<3>(taps, self.bias[o], &mut sums),
                        4 => at.sums::<4>(taps, self.bias[o], &mut sums),
                        5 => at.sums::<5>(taps, self.bias[o], &mut sums),
                        6 => at.sums::<6>(taps, self.bias[o], &mut sums),
                        7 => at.sums::<7>(taps, self.bias[o], &mut sums),
                        _ => at.sums::<8>(taps, self.bias[o], &mut sums),
                    }
                    out_row[x..x + cols].copy_from_slice(&sums[..cols]);
                }
            }
        }
    }
}

/// Where one pass of [`SmallConv::image`] reads: output row `y`, columns from `x`, over the
/// zero-bordered planes (`c` of them, `plane` numbers apart, rows `stride` apart).
struct Window<'a> {
    padded: &'a [f32],
    stride: usize,
    plane: usize,
    y: usize,
    x: usize,
    c: usize,
    kh: usize,
    kw: usize,
}

impl Window<'_> {
    /// The first `4 V` outputs from column `x` of row `y` into `sums`: `bias` plus, for every
    /// input channel and tap, the tap's weight (from `taps`, `[C, KH, KW]`) times the input
    /// under it.
    #[inline(always)]
    fn sums<const V: usize>(&self, taps: &[f32], bias: f32, sums: &mut [f32; SPAN]) {
        let mut acc = kernel::splat::<V>(bias);
        let mut tap = taps.iter();
        for ci in 0..self.c {
            for ky in 0..self.kh {
                let row = &self.padded[ci * self.plane + (self.y + ky) * self.stride + self.x..];
                for kx in 0..self.kw {
                    // Every tap is read: `taps` holds C * KH * KW of them.
                    let weight = tap.next().copied().unwrap_or(0.0);
                    kernel::madd::<V>(&mut acc, weight, &row[kx..kx + 4 * V]);
                }
            }
        }
        kernel::store::<V>(acc, sums);
    }
}

/// `V` vectors of four outputs (natively: arrays the compiler vectorizes).
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod kernel {
    use super::SPAN;

    pub type Acc<const V: usize> = [[f32; 4]; V];

    #[inline(always)]
    pub fn splat<const V: usize>(v: f32) -> Acc<V> {
        [[v; 4]; V]
    }

    /// `acc += weight * row[..4 V]`.
    #[inline(always)]
    pub fn madd<const V: usize>(acc: &mut Acc<V>, weight: f32, row: &[f32]) {
        for (a, r) in acc.iter_mut().zip(row.chunks_exact(4)) {
            for (a, &r) in a.iter_mut().zip(r) {
                *a += weight * r;
            }
        }
    }

    #[inline(always)]
    pub fn store<const V: usize>(acc: Acc<V>, sums: &mut [f32; SPAN]) {
        for (s, a) in sums.chunks_exact_mut(4).zip(acc) {
            s.copy_from_slice(&a);
        }
    }
}

/// The same in 128-bit SIMD (fused multiply-adds in the relaxed-SIMD build).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod kernel {
    use super::SPAN;
    use core::arch::wasm32::*;

    pub type Acc<const V: usize> = [v128; V];

    #[inline(always)]
    pub fn splat<const V: usize>(v: f32) -> Acc<V> {
        [f32x4_splat(v); V]
    }

    /// `acc += weight * row[..4 V]`.
    #[inline(always)]
    pub fn madd<const V: usize>(acc: &mut Acc<V>, weight: f32, row: &[f32]) {
        assert!(row.len() >= 4 * V);
        let w = f32x4_splat(weight);
        for (q, a) in acc.iter_mut().enumerate() {
            // SAFETY: row holds 4 V numbers (asserted), so bytes [16 q, 16 q + 16) are in it;
            // v128_load takes unaligned addresses.
            let r = unsafe { v128_load(row.as_ptr().add(4 * q) as *const v128) };
            #[cfg(target_feature = "relaxed-simd")]
            {
                *a = f32x4_relaxed_madd(w, r, *a);
            }
            #[cfg(not(target_feature = "relaxed-simd"))]
            {
                *a = f32x4_add(f32x4_mul(w, r), *a);
            }
        }
    }

    #[inline(always)]
    pub fn store<const V: usize>(acc: Acc<V>, sums: &mut [f32; SPAN]) {
        for (q, a) in acc.into_iter().enumerate() {
            // SAFETY: q < V <= 8, so bytes [16 q, 16 q + 16) are in the 32 numbers of `sums`.
            unsafe { v128_store(sums.as_mut_ptr().add(4 * q) as *mut v128, a) };
        }
    }
}

impl Op for SmallConv {
    fn name(&self) -> StaticName {
        "SmallConv".into()
    }

    fn info(&self) -> TractResult<Vec<String>> {
        Ok(vec![format!("kernel [M, C, KH, KW] {:?}, pads [top, left, bottom, right] {:?}", self.dims, self.pads)])
    }

    op_as_typed_op!();
}

impl EvalOp for SmallConv {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = args_1!(inputs);
        let [m, c, _, _] = self.dims;
        let &[n, ic, h, w] = input.shape() else {
            bail!("SmallConv expects an [N, C, H, W] input, got {:?}", input.shape())
        };
        ensure!(ic == c, "SmallConv expects {c} input channels, got {ic}");
        let [oh, ow] = self.out_hw(h, w)?;
        let view = input.try_as_plain_ram()?;
        let src = view.as_slice::<f32>()?;
        // SAFETY: every element is written below (each output plane's oh * ow numbers).
        let mut output = unsafe { Tensor::uninitialized::<f32>(&[n, m, oh, ow])? };
        if n * m * oh * ow > 0 {
            let mut out_view = output.try_as_plain_ram_mut()?;
            let out = out_view.as_slice_mut::<f32>()?;
            let mut padded = Vec::new();
            for (image, out_image) in src.chunks_exact(c * h * w).zip(out.chunks_exact_mut(m * oh * ow)) {
                self.image(image, [h, w, oh, ow], out_image, &mut padded);
            }
        }
        Ok(tvec!(output.into_tvalue()))
    }
}

impl TypedOp for SmallConv {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        let shape = &inputs[0].shape;
        ensure!(shape.rank() == 4, "SmallConv expects an [N, C, H, W] input, got {:?}", shape);
        let [oh, ow] = self.out_hw(shape[2].to_usize()?, shape[3].to_usize()?)?;
        Ok(tvec!(f32::fact([shape[0].clone(), self.dims[0].to_dim(), oh.to_dim(), ow.to_dim()])))
    }

    as_op!();
}

#[cfg(test)]
mod tests {
    use super::*;
    use tract_nnef::tract_core::ops::cnn::{PaddingSpec, PoolSpec};

    /// One convolution of an `[n, c, h, w]` input by an `[m, c, kh, kw]` kernel with a bias,
    /// typed: tract's own, optimized, and with [`SmallConv`] swapped in first (whether it was).
    fn convs(
        [n, c, h, w]: [usize; 4],
        [m, kh, kw]: [usize; 3],
        padding: PaddingSpec,
        strides: [usize; 2],
    ) -> TractResult<(TypedModel, TypedModel, bool)> {
        let mut model = TypedModel::default();
        // A batch of 1 is typed as a symbol: the batch a plan for any batch size has.
        let batch = if n == 1 { model.symbols.sym("N").to_dim() } else { n.to_dim() };
        let x = model.add_source("x", f32::fact([batch, c.to_dim(), h.to_dim(), w.to_dim()]))?;
        let weights: Vec<f32> = (0..m * c * kh * kw).map(|i| ((i * 37 % 29) as f32 - 14.0) / 9.0).collect();
        let kernel = model.add_const("kernel", Tensor::from_shape(&[m, c, kh, kw], &weights)?)?;
        let bias: Vec<f32> = (0..m).map(|i| i as f32 / 4.0 - 1.0).collect();
        let bias = model.add_const("bias", Tensor::from_shape(&[m], &bias)?)?;
        let spec = PoolSpec::new(DataFormat::NCHW, tvec![kh, kw], padding, None, Some(strides[..].into()), c, m);
        let conv = Conv { pool_spec: spec, kernel_fmt: KernelFormat::OIHW, group: 1, q_params: None };
        let out = model.wire_node("conv", conv, &[x, kernel, bias])?;
        model.select_output_outlets(&out)?;
        let mut small = model.clone();
        super::super::replace_convolutions(&mut small)?;
        let replaced = small.nodes.iter().any(|n| n.op_is::<SmallConv>());
        Ok((model.into_optimized()?, small.into_optimized()?, replaced))
    }

    fn run(model: &TypedModel, shape: [usize; 4], seed: usize) -> TractResult<Vec<f32>> {
        let len = shape.iter().product::<usize>();
        let values: Vec<f32> = (0..len).map(|i| (((i * 7919 + seed * 31) % 1013) as f32 - 500.0) / 97.0).collect();
        let out = model.clone().into_runnable()?.run(tvec!(Tensor::from_shape(&shape, &values)?.into_tvalue()))?;
        Ok(out[0].try_as_plain_ram()?.as_slice::<f32>()?.to_vec())
    }

    #[test]
    fn small_convolutions_match_tracts() -> TractResult<()> {
        // One to three channels; 3x3, 5x5 and 1x3 kernels; "same", valid, asymmetric and wide
        // padding; rows that take one pass of a few vectors, a remainder, or two passes (40);
        // batches of 2 and 3, and a symbolic batch run with 1.
        for (shape, kernel, padding) in [
            ([1, 1, 28, 28], [8, 3, 3], PaddingSpec::Explicit(tvec![1, 1], tvec![1, 1])),
            ([2, 3, 9, 40], [5, 3, 3], PaddingSpec::Valid),
            ([1, 1, 7, 13], [3, 5, 5], PaddingSpec::SameUpper),
            ([3, 2, 6, 5], [4, 1, 3], PaddingSpec::Explicit(tvec![0, 2], tvec![1, 0])),
            ([1, 1, 3, 3], [2, 3, 3], PaddingSpec::Explicit(tvec![2, 2], tvec![2, 2])),
            ([1, 3, 1, 1], [6, 3, 3], PaddingSpec::Explicit(tvec![1, 1], tvec![1, 1])),
        ] {
            let (reference, small, replaced) = convs(shape, kernel, padding, [1, 1])?;
            assert!(replaced, "{shape:?} {kernel:?}");
            for seed in 0..2 {
                let (want, got) = (run(&reference, shape, seed)?, run(&small, shape, seed)?);
                assert_eq!(want.len(), got.len(), "{shape:?} {kernel:?}");
                let worst = want.iter().zip(&got).map(|(a, b)| (a - b).abs() / (1.0 + a.abs())).fold(0f32, f32::max);
                assert!(worst <= 1e-5, "{shape:?} {kernel:?} seed {seed}: off by {worst}");
            }
        }
        Ok(())
    }

    #[test]
    fn other_convolutions_stay_tracts() -> TractResult<()> {
        // Strided, and more input channels times taps than MAX_INNER.
        let same = || PaddingSpec::Explicit(tvec![1, 1], tvec![1, 1]);
        assert!(!convs([1, 1, 8, 8], [4, 3, 3], same(), [2, 2])?.2);
        assert!(!convs([1, 4, 8, 8], [4, 3, 3], same(), [1, 1])?.2);
        Ok(())
    }
}
