//! edgeserve's wasm SIMD f32 matrix-multiply kernels for tract's convolutions and dense layers,
//! registered in tract-linalg's kernel registry and chosen ahead of tract's own `wasm_f32_8x8`
//! for every f32 product but matrix-vector ones (n = 1, which tract's `*x1` kernels keep):
//! 4 rows by 8 columns, and 2 rows by 16 for long products ([`kernel_for`]).
//!
//! Why: tract's 8x8 kernel keeps 16 accumulators and, per step of k, two vectors of A, eight
//! lane broadcasts of them and two vectors of B live: more vectors than the 16 SIMD registers
//! V8 allocates on x86-64, so its inner loop spills. These broadcast A's values straight from
//! memory (`v128.load32_splat`, one instruction, no shuffle) and keep 8 accumulators, the
//! vectors of B and one broadcast live (11 or 13 registers). Tiles are loaded and stored as
//! whole vectors when the output's rows are contiguous (tract's 8x8 writes lane by lane).
//!
//! Measured on bench/'s models (run() at batch 1, alternating in one page or process against
//! tract's 8x8): faster on ResNet-18, MobileNet-v2 and cnn-small, in Chromium and Node. Also
//! tried: 6x8, 8x8 with load broadcasts, 3x8, 5x8, 2x12, 3x12, 4x12, 3x16, 1x16 to 1x32 and
//! tract's 4x4 and 4x16; each lost to these two on at least one of the three models.
//!
//! The kernels answer every [`FusedKerSpec`] the way tract's f32 kernels do (operand order of
//! the flipped subtractions, `f32x4.min/max` for NaN), and sum over k in the same order, so a
//! plan's values are the same with either (checked against onnxruntime in tests/web.rs).

use tract_nnef::tract_core::tract_linalg::mmm::{FusedKerSpec, OutputStoreKer};

/// Multiply-add `acc + a * b`, fused in the relaxed-SIMD build.
#[cfg(target_feature = "relaxed-simd")]
#[inline(always)]
fn madd(
    acc: core::arch::wasm32::v128,
    a: core::arch::wasm32::v128,
    b: core::arch::wasm32::v128,
) -> core::arch::wasm32::v128 {
    core::arch::wasm32::f32x4_relaxed_madd(a, b, acc)
}

#[cfg(not(target_feature = "relaxed-simd"))]
#[inline(always)]
fn madd(
    acc: core::arch::wasm32::v128,
    a: core::arch::wasm32::v128,
    b: core::arch::wasm32::v128,
) -> core::arch::wasm32::v128 {
    use core::arch::wasm32::*;
    f32x4_add(acc, f32x4_mul(a, b))
}

/// `acc[r][h] = op(acc[r][h], x)` for every accumulator, `x` the same for all.
#[inline(always)]
fn each<const MR: usize, const NV: usize>(
    acc: &mut [[core::arch::wasm32::v128; NV]; MR],
    x: core::arch::wasm32::v128,
    op: impl Fn(core::arch::wasm32::v128, core::arch::wasm32::v128) -> core::arch::wasm32::v128,
) {
    for row in acc.iter_mut() {
        for v in row.iter_mut() {
            *v = op(*v, x);
        }
    }
}

/// `acc[r][h] = op(acc[r][h], splat(rows[r]))`.
///
/// # Safety
/// `rows` points at `MR` readable f32.
#[inline(always)]
unsafe fn per_row<const MR: usize, const NV: usize>(
    acc: &mut [[core::arch::wasm32::v128; NV]; MR],
    rows: *const f32,
    op: impl Fn(core::arch::wasm32::v128, core::arch::wasm32::v128) -> core::arch::wasm32::v128,
) {
    use core::arch::wasm32::*;
    for (r, row) in acc.iter_mut().enumerate() {
        // SAFETY: r < MR (the caller's contract).
        let s = unsafe { v128_load32_splat(rows.add(r) as *const u32) };
        for v in row.iter_mut() {
            *v = op(*v, s);
        }
    }
}

/// `acc[r][h] = op(acc[r][h], cols[4h..4h + 4])`.
///
/// # Safety
/// `cols` points at `NR` readable f32.
#[inline(always)]
unsafe fn per_col<const MR: usize, const NV: usize>(
    acc: &mut [[core::arch::wasm32::v128; NV]; MR],
    cols: *const f32,
    op: impl Fn(core::arch::wasm32::v128, core::arch::wasm32::v128) -> core::arch::wasm32::v128,
) {
    use core::arch::wasm32::*;
    // SAFETY: 4 * NV readable f32 (the caller's contract); wasm loads need no alignment.
    let c: [v128; NV] = core::array::from_fn(|h| unsafe { v128_load(cols.add(4 * h) as *const v128) });
    for row in acc.iter_mut() {
        for (v, c) in row.iter_mut().zip(c) {
            *v = op(*v, c);
        }
    }
}

/// The `4 * NV` values of tile row `r` of `tile`, as vectors.
///
/// # Safety
/// `tile` addresses an f32 tile of this kernel's shape (tract's contract for `AddUnicast` and
/// `Store`).
#[inline(always)]
unsafe fn tile_row<const NV: usize>(tile: &OutputStoreKer, r: usize) -> [core::arch::wasm32::v128; NV] {
    use core::arch::wasm32::*;
    unsafe {
        let row = tile.ptr.offset(tile.row_byte_stride * r as isize) as *const u8;
        if tile.col_byte_stride == 4 {
            core::array::from_fn(|h| v128_load(row.add(16 * h) as *const v128))
        } else {
            let at = |c: usize| *(row.offset(tile.col_byte_stride * c as isize) as *const f32);
            core::array::from_fn(|h| f32x4(at(4 * h), at(4 * h + 1), at(4 * h + 2), at(4 * h + 3)))
        }
    }
}

/// Writes tile row `r` of `tile`.
///
/// # Safety
/// As [`tile_row`].
#[inline(always)]
unsafe fn store_row<const NV: usize>(tile: &OutputStoreKer, r: usize, v: [core::arch::wasm32::v128; NV]) {
    use core::arch::wasm32::*;
    unsafe {
        let row = tile.ptr.offset(tile.row_byte_stride * r as isize);
        if tile.col_byte_stride == 4 {
            for (h, v) in v.into_iter().enumerate() {
                v128_store(row.add(16 * h) as *mut v128, v);
            }
        } else {
            let at = |c: usize| row.offset(tile.col_byte_stride * c as isize) as *mut f32;
            for (h, v) in v.into_iter().enumerate() {
                *at(4 * h) = f32x4_extract_lane::<0>(v);
                *at(4 * h + 1) = f32x4_extract_lane::<1>(v);
                *at(4 * h + 2) = f32x4_extract_lane::<2>(v);
                *at(4 * h + 3) = f32x4_extract_lane::<3>(v);
            }
        }
    }
}

/// Runs tract's fused-op program `ops` on one tile of `MR` rows by `4 * NV` columns.
///
/// # Safety
/// `ops` is a program tract built for a kernel of this shape and packing (A packed `MR` f32 per
/// step of k, B `4 * NV`), ending with `Done`: its pointers address what each op reads or
/// writes.
unsafe fn kernel<const MR: usize, const NV: usize>(ops: &[FusedKerSpec<f32>]) -> isize {
    use core::arch::wasm32::*;
    let zero = f32x4_splat(0.0);
    let mut acc = [[zero; NV]; MR];
    for op in ops {
        // SAFETY (every arm): the pointers are tract's, sized for this kernel (the function's
        // contract); wasm loads and stores need no alignment.
        unsafe {
            match *op {
                FusedKerSpec::Done => break,
                FusedKerSpec::Clear => acc = [[zero; NV]; MR],
                FusedKerSpec::LoadTile(_cols, rows) => {
                    let p = rows as *const v128;
                    for (r, row) in acc.iter_mut().enumerate() {
                        *row = core::array::from_fn(|h| v128_load(p.add(NV * r + h)));
                    }
                }
                FusedKerSpec::ScalarMin(a) => each(&mut acc, f32x4_splat(a), |v, s| f32x4_min(s, v)),
                FusedKerSpec::ScalarMax(a) => each(&mut acc, f32x4_splat(a), |v, s| f32x4_max(s, v)),
                FusedKerSpec::ScalarAdd(a) => each(&mut acc, f32x4_splat(a), |v, s| f32x4_add(s, v)),
                FusedKerSpec::ScalarMul(a) => each(&mut acc, f32x4_splat(a), |v, s| f32x4_mul(s, v)),
                FusedKerSpec::ScalarSub(a) => each(&mut acc, f32x4_splat(a), |v, s| f32x4_sub(s, v)),
                FusedKerSpec::ScalarSubF(a) => each(&mut acc, f32x4_splat(a), |v, s| f32x4_sub(v, s)),
                FusedKerSpec::LeakyRelu(a) => {
                    each(&mut acc, f32x4_splat(a), |v, s| v128_bitselect(v, f32x4_mul(s, v), f32x4_gt(v, zero)))
                }
                FusedKerSpec::PerRowMin(p) => per_row(&mut acc, p, |v, s| f32x4_min(s, v)),
                FusedKerSpec::PerRowMax(p) => per_row(&mut acc, p, |v, s| f32x4_max(s, v)),
                FusedKerSpec::PerRowAdd(p) => per_row(&mut acc, p, |v, s| f32x4_add(s, v)),
                FusedKerSpec::PerRowMul(p) => per_row(&mut acc, p, |v, s| f32x4_mul(s, v)),
                FusedKerSpec::PerRowSub(p) => per_row(&mut acc, p, |v, s| f32x4_sub(s, v)),
                FusedKerSpec::PerRowSubF(p) => per_row(&mut acc, p, |v, s| f32x4_sub(v, s)),
                FusedKerSpec::PerColMin(p) => per_col(&mut acc, p, |v, c| f32x4_min(c, v)),
                FusedKerSpec::PerColMax(p) => per_col(&mut acc, p, |v, c| f32x4_max(c, v)),
                FusedKerSpec::PerColAdd(p) => per_col(&mut acc, p, |v, c| f32x4_add(c, v)),
                FusedKerSpec::PerColMul(p) => per_col(&mut acc, p, |v, c| f32x4_mul(c, v)),
                FusedKerSpec::PerColSub(p) => per_col(&mut acc, p, |v, c| f32x4_sub(c, v)),
                FusedKerSpec::PerColSubF(p) => per_col(&mut acc, p, |v, c| f32x4_sub(v, c)),
                FusedKerSpec::QScale(shift, policy, mult) => {
                    let scale =
                        tract_nnef::tract_core::tract_linalg::Scaler::from_fuse_params(shift, policy, mult).scale;
                    each(&mut acc, f32x4_splat(scale), |v, s| f32x4_mul(s, v))
                }
                FusedKerSpec::RoundingShiftRight(shift, _) => {
                    each(&mut acc, f32x4_splat(2f32.powi(-(shift as i32))), |v, s| f32x4_mul(s, v))
                }
                FusedKerSpec::ShiftLeft(shift) => {
                    each(&mut acc, f32x4_splat(2f32.powi(shift as i32)), |v, s| f32x4_mul(s, v))
                }
                FusedKerSpec::AddUnicast(tile) => {
                    for (r, row) in acc.iter_mut().enumerate() {
                        let t: [v128; NV] = tile_row(&tile, r);
                        for (v, t) in row.iter_mut().zip(t) {
                            *v = f32x4_add(*v, t);
                        }
                    }
                }
                FusedKerSpec::AddRowColProducts(rows, cols) => {
                    let c: [v128; NV] = core::array::from_fn(|h| v128_load(cols.add(4 * h) as *const v128));
                    for (r, row) in acc.iter_mut().enumerate() {
                        let s = v128_load32_splat(rows.add(r) as *const u32);
                        for (v, c) in row.iter_mut().zip(c) {
                            *v = madd(*v, s, c);
                        }
                    }
                }
                FusedKerSpec::Store(tile) => {
                    for (r, row) in acc.iter().enumerate() {
                        store_row(&tile, r, *row);
                    }
                }
                FusedKerSpec::AddMatMul { k, pa, pb, packing: _ } => {
                    let (mut a, mut b) = (pa as *const f32, pb as *const v128);
                    for _ in 0..k {
                        let bv: [v128; NV] = core::array::from_fn(|h| v128_load(b.add(h)));
                        for (r, row) in acc.iter_mut().enumerate() {
                            let s = v128_load32_splat(a.add(r) as *const u32);
                            for (v, b) in row.iter_mut().zip(bv) {
                                *v = madd(*v, s, b);
                            }
                        }
                        a = a.add(MR);
                        b = b.add(NV);
                    }
                }
            }
        }
    }
    0
}

/// The kernel of `MR` rows and `NV` vectors (`NR = 4 * NV` columns), described for tract's
/// registry.
fn dyn_kernel<const MR: usize, const NV: usize, const NR: usize>(
    name: &str,
) -> Box<dyn tract_nnef::tract_core::tract_linalg::mmm::MatMatMul> {
    use tract_nnef::tract_core::tract_linalg::mmm::DynKernel;
    use tract_nnef::tract_core::tract_linalg::pack::Packing;
    let mut k = DynKernel::<MR, NR, f32>::new(name, kernel::<MR, NV>, f32::packing(MR), f32::packing(NR));
    k.arch = Some(tract_nnef::tract_core::tract_linalg::isa::Arch::Wasm32Simd128);
    k.mmm()
}

/// 4 rows by 8 columns: 8 accumulators, 2 vectors of B and 1 broadcast live.
const NARROW: &str = "edgeserve_f32_4x8";
/// 2 rows by 16 columns: 8 accumulators, 4 vectors of B and 1 broadcast live; half the
/// broadcasts of [`NARROW`] per multiply-add, for long products (k of 512 and more).
const WIDE: &str = "edgeserve_f32_2x16";

inventory::submit! { tract_nnef::tract_core::tract_linalg::mmm_routines::MmmRoutine { make: || dyn_kernel::<4, 2, 8>(NARROW) } }
inventory::submit! { tract_nnef::tract_core::tract_linalg::mmm_routines::MmmRoutine { make: || dyn_kernel::<2, 4, 16>(WIDE) } }

/// Which of edgeserve's kernels runs an f32 product of `query`'s shape: none for a
/// matrix-vector product (n = 1: tract's `*x1` kernels), [`WIDE`] when k is at least 512 and n
/// at least 32 (or unknown), else [`NARROW`]. Measured in Chromium and Node against each other
/// and tract's 8x8 on bench/'s CNNs (see the module docs).
pub fn kernel_for(
    dt: tract_nnef::internal::DatumType,
    query: &tract_nnef::tract_core::tract_linalg::mmm::Query,
) -> Option<&'static str> {
    if dt != tract_nnef::internal::DatumType::F32 || query.n == Some(1) {
        return None;
    }
    let long = query.k.is_some_and(|k| k >= 512) && query.n.is_none_or(|n| n >= 32);
    Some(if long { WIDE } else { NARROW })
}

inventory::submit! {
    tract_nnef::tract_core::tract_linalg::mmm_tiers::MmmTier {
        arch: Some(tract_nnef::tract_core::tract_linalg::isa::Arch::Wasm32Simd128),
        // Above tract's own wasm tier (1): asked first, and tract's answers stand where this
        // one has none.
        precedence: 2,
        name: "edgeserve-wasm-f32",
        applies: |_| true,
        preferred: |_, dt, query, _| kernel_for(dt, query),
    }
}
