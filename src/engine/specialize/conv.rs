//! A direct convolution for the layers of small CNNs: f32 images in NCHW with few input channels
//! (a first layer, on a grey or colour image) or few output channels (a second layer), stride 1,
//! no dilation, no groups, any padding.
//!
//! tract lowers every convolution to an im2col and a matrix product whose inner dimension is the
//! input channels times the kernel's taps, and whose other operand is the kernel: the patches
//! are gathered once for all output channels. With nine taps (cnn-small's first layer, bench/)
//! or 16 output channels (its second), gathering costs more than the products. [`SmallConv`]
//! reads the input where it is instead, from a zero-bordered copy of the image's planes in
//! which each tap is an offset: with few taps ([`SmallConv::rows`]) each output channel's rows
//! in turn, the row's outputs in vector registers while every tap adds its weight times the
//! input row shifted under it; with more ([`SmallConv::blocks`]) four output channels by eight
//! outputs at a time, every vector of the input read serving the four channels.
//! [`super::specialize`] swaps a plan's `Conv` nodes of those patterns for it before tract
//! optimizes the plan (in wasm, where it is faster: see [`replacing`]).

use tract_nnef::internal::*;
use tract_nnef::tract_core::ops::cnn::{Conv, KernelFormat};
use tract_nnef::tract_core::ops::nn::DataFormat;

/// The most input channels times kernel taps (the inner dimension of tract's product) that
/// [`SmallConv`] takes: beyond it, tract's product amortizes its gathering.
pub const MAX_INNER: usize = 144;
/// The most output channels [`SmallConv`] takes beyond [`MAX_ROWS_INNER`]: the product tract
/// would make gathers the input once for all of them.
pub const MAX_BLOCKED_CHANNELS: usize = 32;
/// The most input channels times kernel taps for which each output channel takes its own pass
/// ([`SmallConv::rows`]); beyond it, blocks of channels share the input's reads.
pub const MAX_ROWS_INNER: usize = 27;

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
    /// For [`SmallConv::blocks`]: the kernel by blocks of [`BLOCK`] output channels, each
    /// `[C * KH * KW, BLOCK]` (a last block's missing channels zero); empty where each output
    /// channel takes its own pass ([`SmallConv::rows`]).
    blocked: Vec<f32>,
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
/// of known channels, rows and columns (any batch), kernel (OIHW) and bias constant, stride and
/// dilation 1, one group, a 2D kernel, at most [`MAX_INNER`] input channels times taps and,
/// beyond [`MAX_ROWS_INNER`], at most [`MAX_BLOCKED_CHANNELS`] output channels and more than one
/// tap (tract's product of a 1x1 kernel reads the input as it is: nothing to gather).
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
        && (c * kh * kw <= MAX_ROWS_INNER || (m <= MAX_BLOCKED_CHANNELS && kh * kw > 1))
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
    let inner = c * kh * kw;
    let blocked = if inner > MAX_ROWS_INNER { blocked(&kernel, m, inner) } else { Vec::new() };
    Some(SmallConv { kernel, bias, dims: [m, c, kh, kw], pads, blocked })
}

/// `kernel` (`[M, inner]`) as `[M / BLOCK, inner, BLOCK]`, the last block padded with zeros.
fn blocked(kernel: &[f32], m: usize, inner: usize) -> Vec<f32> {
    let mut out = vec![0.0; m.div_ceil(BLOCK) * BLOCK * inner];
    for (o, taps) in kernel.chunks_exact(inner).enumerate() {
        let block = &mut out[o / BLOCK * BLOCK * inner..][..BLOCK * inner];
        for (k, &t) in taps.iter().enumerate() {
            block[k * BLOCK + o % BLOCK] = t;
        }
    }
    out
}

/// Outputs of a row a pass of [`SmallConv::rows`] takes: up to eight vectors of four.
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

    /// Where an input of `h` rows of `w` goes in the zero-bordered planes, and the output's size.
    fn layout(&self, h: usize, w: usize) -> TractResult<Layout> {
        let [_, _, kh, kw] = self.dims;
        let [oh, ow] = self.out_hw(h, w)?;
        // Rows long enough for a last pass of whole vectors.
        let stride = ow.div_ceil(4) * 4 + kw - 1;
        Ok(Layout { h, w, oh, ow, stride, plane: (oh + kh - 1) * stride })
    }

    /// One image: `src` is its `C` planes, `out` its `M` planes; `padded` holds the planes with
    /// their borders (zero: only the inside is written) and `taps` where [`SmallConv::blocks`]
    /// reads in them.
    fn image(&self, src: &[f32], at: &Layout, taps: &Taps, padded: &mut [f32], out: &mut [f32]) {
        let [top, left, _, _] = self.pads;
        let Layout { h, w, stride, plane, .. } = *at;
        for (src, dst) in src.chunks_exact(h * w).zip(padded.chunks_exact_mut(plane)) {
            for (row, dst_row) in src.chunks_exact(w).zip(dst[top * stride..].chunks_exact_mut(stride)) {
                dst_row[left..left + w].copy_from_slice(row);
            }
        }
        if self.blocked.is_empty() {
            self.rows(padded, at, out);
        } else {
            self.blocks(padded, at, taps, out);
        }
    }

    /// Each output channel's rows in turn, up to [`SPAN`] outputs of a row a pass: for a kernel
    /// of few taps, where a pass's vectors of the input (one per tap) are few.
    fn rows(&self, padded: &[f32], at: &Layout, out: &mut [f32]) {
        let [m, c, kh, kw] = self.dims;
        let Layout { oh, ow, stride, plane, .. } = *at;
        let mut sums = [0.0f32; SPAN];
        for (o, out_plane) in out.chunks_exact_mut(oh * ow).enumerate().take(m) {
            let taps = &self.kernel[o * c * kh * kw..][..c * kh * kw];
            for (y, out_row) in out_plane.chunks_exact_mut(ow).enumerate() {
                for x in (0..ow).step_by(SPAN) {
                    let cols = SPAN.min(ow - x);
                    let at = Window { padded, stride, plane, y, x, c, kh, kw };
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

    /// [`BLOCK`] output channels at a time, eight outputs of a row a pass: every vector of the
    /// input read serves the block's channels (for kernels of many channels times taps).
    fn blocks(&self, padded: &[f32], at: &Layout, taps: &Taps, out: &mut [f32]) {
        let [m, c, kh, kw] = self.dims;
        let Layout { oh, ow, stride, .. } = *at;
        let inner = c * kh * kw;
        for (b, weights) in self.blocked.chunks_exact(BLOCK * inner).enumerate() {
            let first = b * BLOCK;
            let channels = BLOCK.min(m - first);
            let mut bias = [0.0; BLOCK];
            bias[..channels].copy_from_slice(&self.bias[first..first + channels]);
            for y in 0..oh {
                for x in (0..ow).step_by(TILE) {
                    let cols = TILE.min(ow - x);
                    let tile = kernel::tile(weights, &padded[y * stride + x..], taps, &bias);
                    for (r, sums) in tile.iter().enumerate().take(channels) {
                        out[((first + r) * oh + y) * ow + x..][..cols].copy_from_slice(&sums[..cols]);
                    }
                }
            }
        }
    }
}

/// An input's zero-bordered planes for [`SmallConv`]: `h` rows of `w` inside planes of `plane`
/// numbers, rows `stride` apart; the output is `oh` rows of `ow`.
#[derive(Clone, Copy)]
struct Layout {
    h: usize,
    w: usize,
    oh: usize,
    ow: usize,
    stride: usize,
    plane: usize,
}

/// Output channels a pass of [`SmallConv::blocks`] takes.
const BLOCK: usize = 4;
/// Outputs of a row a pass of [`SmallConv::blocks`] takes: two vectors.
const TILE: usize = 8;

/// Where each of a kernel's taps reads in the zero-bordered planes, relative to the output's
/// position (input channel, then kernel row, then column, as the kernel's `[C, KH, KW]`), and how
/// far a pass of [`TILE`] outputs reads: every offset plus [`TILE`] is at most `reach`.
struct Taps {
    offsets: Vec<usize>,
    reach: usize,
}

impl Taps {
    /// For `conv`'s kernel over planes laid out as `at`; none where it takes no blocks.
    fn new(conv: &SmallConv, at: &Layout) -> Taps {
        if conv.blocked.is_empty() {
            return Taps { offsets: Vec::new(), reach: 0 };
        }
        let [_, c, kh, kw] = conv.dims;
        let Layout { stride, plane, .. } = *at;
        let offsets: Vec<usize> = (0..c)
            .flat_map(|ci| (0..kh).flat_map(move |ky| (0..kw).map(move |kx| ci * plane + ky * stride + kx)))
            .collect();
        let reach = offsets.iter().max().map_or(0, |o| o + TILE);
        Taps { offsets, reach }
    }
}

/// Where one pass of [`SmallConv::rows`] reads: output row `y`, columns from `x`, over the
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
    use super::{Taps, BLOCK, SPAN, TILE};

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

    /// [`BLOCK`] output channels by [`TILE`] outputs of a row: `bias` plus, for every tap `k`,
    /// the block's weights (`weights[k * BLOCK..]`) times the `TILE` inputs from
    /// `window[taps.offsets[k]..]`.
    pub fn tile(weights: &[f32], window: &[f32], taps: &Taps, bias: &[f32; BLOCK]) -> [[f32; TILE]; BLOCK] {
        let window = &window[..taps.reach];
        let mut acc = bias.map(|b| [b; TILE]);
        for (w, &at) in weights.chunks_exact(BLOCK).zip(&taps.offsets) {
            let row = &window[at..at + TILE];
            for (acc, &w) in acc.iter_mut().zip(w) {
                for (a, &x) in acc.iter_mut().zip(row) {
                    *a += w * x;
                }
            }
        }
        acc
    }
}

/// The same in 128-bit SIMD (fused multiply-adds in the relaxed-SIMD build).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod kernel {
    use super::{Taps, BLOCK, SPAN, TILE};
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

    /// [`BLOCK`] output channels by [`TILE`] outputs of a row: `bias` plus, for every tap `k`,
    /// the block's weights (`weights[k * BLOCK..]`, each broadcast from memory) times the two
    /// vectors from `window[taps.offsets[k]..]`.
    #[inline(never)]
    pub fn tile(weights: &[f32], window: &[f32], taps: &Taps, bias: &[f32; BLOCK]) -> [[f32; TILE]; BLOCK] {
        assert!(window.len() >= taps.reach && weights.len() >= BLOCK * taps.offsets.len());
        let mut acc = bias.map(|b| [f32x4_splat(b); 2]);
        let (w, x) = (weights.as_ptr(), window.as_ptr());
        for (k, &at) in taps.offsets.iter().enumerate() {
            // SAFETY: at + TILE <= reach <= window.len() (Taps' invariant, asserted above), so
            // the eight numbers from `at` are in `window`; k < offsets.len(), so the BLOCK
            // weights from BLOCK k are in `weights` (asserted).
            let (lo, hi, wk) = unsafe {
                (v128_load(x.add(at) as *const v128), v128_load(x.add(at + 4) as *const v128), w.add(BLOCK * k))
            };
            for (r, acc) in acc.iter_mut().enumerate() {
                // SAFETY: r < BLOCK.
                let s = unsafe { v128_load32_splat(wk.add(r) as *const u32) };
                acc[0] = fused(acc[0], s, lo);
                acc[1] = fused(acc[1], s, hi);
            }
        }
        let mut out = [[0.0; TILE]; BLOCK];
        for (o, a) in out.iter_mut().zip(acc) {
            // SAFETY: TILE = 8 numbers, two vectors.
            unsafe {
                v128_store(o.as_mut_ptr() as *mut v128, a[0]);
                v128_store(o.as_mut_ptr().add(4) as *mut v128, a[1]);
            }
        }
        out
    }

    /// `acc + w * x`, fused in the relaxed-SIMD build.
    #[inline(always)]
    fn fused(acc: v128, w: v128, x: v128) -> v128 {
        #[cfg(target_feature = "relaxed-simd")]
        {
            f32x4_relaxed_madd(w, x, acc)
        }
        #[cfg(not(target_feature = "relaxed-simd"))]
        {
            f32x4_add(f32x4_mul(w, x), acc)
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
        let at = self.layout(h, w)?;
        let [oh, ow] = [at.oh, at.ow];
        let view = input.try_as_plain_ram()?;
        let src = view.as_slice::<f32>()?;
        // SAFETY: every element is written below (each output plane's oh * ow numbers).
        let mut output = unsafe { Tensor::uninitialized::<f32>(&[n, m, oh, ow])? };
        if n * m * oh * ow > 0 {
            let mut out_view = output.try_as_plain_ram_mut()?;
            let out = out_view.as_slice_mut::<f32>()?;
            // A last pass of [`SmallConv::blocks`] reads up to half a tile past the last plane.
            let mut padded = vec![0.0; c * at.plane + TILE];
            let taps = Taps::new(self, &at);
            for (image, out_image) in src.chunks_exact(c * h * w).zip(out.chunks_exact_mut(m * oh * ow)) {
                self.image(image, &at, &taps, &mut padded, out_image);
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
            // Blocks of output channels (more than MAX_ROWS_INNER channels times taps): whole
            // blocks and tiles, a last block of two channels and a last tile of one output,
            // a 1x2 kernel, the most channels times taps, and the most output channels.
            ([2, 8, 14, 14], [16, 3, 3], PaddingSpec::Explicit(tvec![1, 1], tvec![1, 1])),
            ([1, 5, 9, 11], [6, 3, 3], PaddingSpec::Valid),
            ([1, 16, 6, 5], [8, 1, 2], PaddingSpec::Valid),
            ([3, 16, 5, 7], [3, 3, 3], PaddingSpec::SameUpper),
            ([1, 4, 17, 3], [32, 3, 3], PaddingSpec::Explicit(tvec![0, 2], tvec![2, 1])),
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
        // Strided; more input channels times taps than MAX_INNER; more than MAX_ROWS_INNER and
        // more output channels than MAX_BLOCKED_CHANNELS, or a 1x1 kernel; but a kernel of at
        // most MAX_ROWS_INNER channels times taps whatever its output channels.
        let same = || PaddingSpec::Explicit(tvec![1, 1], tvec![1, 1]);
        assert!(!convs([1, 1, 8, 8], [4, 3, 3], same(), [2, 2])?.2);
        assert!(!convs([1, 17, 8, 8], [4, 3, 3], same(), [1, 1])?.2);
        assert!(!convs([1, 4, 8, 8], [33, 3, 3], same(), [1, 1])?.2);
        assert!(!convs([1, 32, 6, 5], [8, 1, 1], PaddingSpec::Valid, [1, 1])?.2);
        assert!(convs([1, 3, 8, 8], [33, 3, 3], same(), [1, 1])?.2);
        assert!(convs([1, 27, 6, 5], [40, 1, 1], PaddingSpec::Valid, [1, 1])?.2);
        Ok(())
    }
}
