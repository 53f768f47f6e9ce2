//! An integer matrix product for ONNX `MatMulInteger` with a constant right-hand side whose
//! values, less their zero points, fit in 7 bits (-64..63) but for a few (quantizers with a
//! reduced range write -64..64, 64 at most once or twice a column): wasm's relaxed SIMD
//! `i32x4.relaxed_dot_i8x16_i7x16_add_s` does 16 multiply-adds per instruction, twice
//! [`super::gemm_i16`]'s. A value outside 7 bits is packed clamped, and its excess added after
//! the product, one addition per row.
//!
//! The instruction multiplies signed bytes by bytes of 0..127 (its result is defined by the
//! standard only there, and then it is the same on every host), so both sides are shifted:
//! `A' = A - 128` for uint8 A (int8 A as it is) and `B' = B + 64`. For A less its zero point
//! `z`, `A - z = A' + c` with `c = 128 - z` (uint8) or `-z` (int8), and
//!
//! `sum_k (A' + c) (B' - 64) = sum_k A' B' - 64 sum_k A' + c sum_k B' - 64 c K`,
//!
//! where `sum_k A'` is taken per row of A as it is converted and `sum_k B'` per column when B is
//! packed. Every term is an exact int32 (each product of the instruction fits in 15 bits), so the
//! result equals the plain product.

// A lean build has these when its packages' NNEF forms call them (src/engine/lean.rs).
#![cfg_attr(not(feature = "onnx"), allow(dead_code))]

/// Whether this build has the relaxed-SIMD kernel (the relaxed wasm build).
pub(crate) const RELAXED: bool = cfg!(all(target_arch = "wasm32", target_feature = "relaxed-simd"));

// Columns per panel of packed B, as gemm_i16's (whose tiles' lanes it shares).
use super::gemm_i16::PANEL;

/// B (`k` x `n`, less its zero points) packed for [`Packed::gemm`].
#[derive(Debug)]
pub(crate) struct Packed {
    k: usize,
    n: usize,
    /// Panels of [`PANEL`] columns, each `k4 / 4` quads of rows (k4 = k rounded up to a multiple
    /// of 4), each quad as 8 columns x 4 values of `B + 64`; zeros beyond `k` and `n`.
    panels: Vec<i8>,
    /// `sum_k (B + 64)` per column, B clamped.
    column_sums: Vec<i32>,
    /// The values outside 7 bits: (k, column, value less its clamped value).
    excess: Vec<(usize, usize, i32)>,
}

/// The largest share of B's values that may lie outside 7 bits (their additions stay a small
/// part of the product's work).
const EXCESS_SHARE: usize = 64;

impl Packed {
    /// B packed, or `None` when more than one of its values in [`EXCESS_SHARE`] is outside
    /// -64..63, or one is outside int16, or B is empty.
    pub(crate) fn new(b: &[i32], k: usize, n: usize) -> Option<Packed> {
        let outside = b.iter().filter(|v| !(-64..64).contains(*v)).count();
        if b.is_empty()
            || b.len() != k * n
            || outside * EXCESS_SHARE > b.len()
            || b.iter().any(|&v| i16::try_from(v).is_err())
        {
            return None;
        }
        let k4 = k.next_multiple_of(4);
        let mut panels = vec![0i8; n.div_ceil(PANEL) * k4 * PANEL];
        let mut column_sums = vec![0i32; n];
        let mut excess = Vec::with_capacity(outside);
        for (i, &v) in b.iter().enumerate() {
            let (kk, col) = (i / n, i % n);
            let clamped = v.clamp(-64, 63);
            if clamped != v {
                excess.push((kk, col, v - clamped));
            }
            let shifted = clamped + 64;
            column_sums[col] += shifted;
            let (p, j) = (col / PANEL, col % PANEL);
            panels[p * k4 * PANEL + (kk / 4) * 4 * PANEL + j * 4 + kk % 4] = shifted as i8;
        }
        Some(Packed { k, n, panels, column_sums, excess })
    }

    /// A's rows (`k` values each, row-major) shifted by `shift` (to `A'` of the module's docs)
    /// and padded to `k4` values, with `sum_k A'` per row.
    pub(crate) fn shift_rows<T: Copy>(&self, a: &[T], shift: impl Fn(T) -> i8) -> (Vec<i8>, Vec<i32>) {
        let k4 = self.k.next_multiple_of(4);
        let rows = a.len() / self.k;
        let mut shifted = vec![0i8; rows * k4];
        let mut sums = vec![0i32; rows];
        for (r, (row, sum)) in a.chunks_exact(self.k).zip(&mut sums).enumerate() {
            for (dst, &v) in shifted[r * k4..r * k4 + self.k].iter_mut().zip(row) {
                *dst = shift(v);
                *sum += i32::from(*dst);
            }
        }
        (shifted, sums)
    }

    /// `c[r][col] = sum_k (A[r][k] - z) * B[k][col]` for the rows [`Packed::shift_rows`] made,
    /// `offset` being `c` of the module's docs; `c` is `rows` x `n`, row-major.
    pub(crate) fn gemm(&self, shifted: &[i8], row_sums: &[i32], offset: i32, c: &mut [i32]) {
        let (k, n) = (self.k, self.n);
        let k4 = k.next_multiple_of(4);
        let rows = row_sums.len();
        debug_assert!(shifted.len() >= rows * k4 && c.len() >= rows * n);
        for p in 0..n.div_ceil(PANEL) {
            let panel = &self.panels[p * k4 * PANEL..(p + 1) * k4 * PANEL];
            let cols = (n - p * PANEL).min(PANEL);
            let mut r = 0;
            while r + 4 <= rows {
                let tile = tile::<4>(&shifted[r * k4..(r + 4) * k4], k4, panel);
                self.store(&tile, row_sums, offset, c, r, p * PANEL, cols);
                r += 4;
            }
            if r < rows {
                // The last one to three rows in one tile: B's panel is read once for them.
                let a = &shifted[r * k4..rows * k4];
                match rows - r {
                    1 => self.store(&tile::<1>(a, k4, panel), row_sums, offset, c, r, p * PANEL, cols),
                    2 => self.store(&tile::<2>(a, k4, panel), row_sums, offset, c, r, p * PANEL, cols),
                    _ => self.store(&tile::<3>(a, k4, panel), row_sums, offset, c, r, p * PANEL, cols),
                }
            }
        }
        for (row, out) in shifted.chunks_exact(k4).zip(c.chunks_exact_mut(n)).take(rows) {
            for &(kk, col, excess) in &self.excess {
                out[col] = out[col].wrapping_add((i32::from(row[kk]) + offset).wrapping_mul(excess));
            }
        }
    }

    /// A tile's sums, corrected (see the module's docs), into `c` from row `row`, column `col`.
    #[allow(clippy::too_many_arguments)]
    fn store<const MR: usize>(
        &self,
        tile: &[[i32; PANEL]; MR],
        row_sums: &[i32],
        offset: i32,
        c: &mut [i32],
        row: usize,
        col: usize,
        cols: usize,
    ) {
        for (i, dots) in tile.iter().enumerate() {
            let start = (row + i) * self.n + col;
            // The terms may pass int32 for a long k where their sum does not: wrapping sums are
            // exact then.
            let correction = (-64 * row_sums[row + i]).wrapping_sub((64 * offset).wrapping_mul(self.k as i32));
            for ((dst, &dot), &column_sum) in c[start..start + cols].iter_mut().zip(dots).zip(&self.column_sums[col..])
            {
                *dst = dot.wrapping_add(correction).wrapping_add(offset.wrapping_mul(column_sum));
            }
        }
    }
}

/// One tile: `MR` rows of A' by one panel: `sum_k A' B'` per row and column.
#[cfg(all(target_arch = "wasm32", target_feature = "relaxed-simd"))]
#[inline(always)]
fn tile<const MR: usize>(a: &[i8], k4: usize, panel: &[i8]) -> [[i32; PANEL]; MR] {
    use core::arch::wasm32::*;
    assert!(a.len() >= MR * k4 && panel.len() >= k4 * PANEL);
    let mut acc = [[i32x4_splat(0); 2]; MR];
    let b = panel.as_ptr();
    for quad in 0..k4 / 4 {
        // SAFETY: `quad * 32 + 32 <= k4 * PANEL` (panel's length, checked above), and each row's
        // `quad * 4 + 4 <= k4`; unaligned loads are allowed in wasm.
        unsafe {
            let b0 = v128_load(b.add(quad * 32) as *const v128);
            let b1 = v128_load(b.add(quad * 32 + 16) as *const v128);
            for (r, row) in acc.iter_mut().enumerate() {
                let x = v128_load32_splat(a.as_ptr().add(r * k4 + quad * 4) as *const u32);
                row[0] = i32x4_relaxed_dot_i8x16_i7x16_add(x, b0, row[0]);
                row[1] = i32x4_relaxed_dot_i8x16_i7x16_add(x, b1, row[1]);
            }
        }
    }
    super::gemm_i16::lanes(acc)
}

/// One tile: `MR` rows of A' by one panel (portable code: the same sums, for tests of the
/// packing and the shifts on every build).
#[cfg(not(all(target_arch = "wasm32", target_feature = "relaxed-simd")))]
#[inline(always)]
fn tile<const MR: usize>(a: &[i8], k4: usize, panel: &[i8]) -> [[i32; PANEL]; MR] {
    let mut out = [[0i32; PANEL]; MR];
    for (r, sums) in out.iter_mut().enumerate() {
        let row = &a[r * k4..(r + 1) * k4];
        for (quad, b) in panel.chunks_exact(4 * PANEL).enumerate() {
            for (j, sum) in sums.iter_mut().enumerate() {
                *sum += (0..4).map(|t| i32::from(row[quad * 4 + t]) * i32::from(b[j * 4 + t])).sum::<i32>();
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shifted_product_equals_the_plain_one_for_uint8_and_int8_rows() {
        for (rows, k, n) in [(1usize, 1usize, 1usize), (3, 5, 7), (4, 8, 8), (6, 9, 10), (9, 17, 19), (16, 384, 24)] {
            // 7-bit values, and in the largest B a few outside (64, as quantizers write, and
            // others).
            let b: Vec<i32> = (0..k * n)
                .map(|i| match (k * n > 4096, i % 211) {
                    (true, 5) => 64,
                    (true, 50) => -65,
                    (true, 96) => 300,
                    _ => (i * 53 % 128) as i32 - 64,
                })
                .collect();
            let packed = Packed::new(&b, k, n).unwrap();
            let a: Vec<u8> = (0..rows * k).map(|i| (i * 37 % 256) as u8).collect();
            for (zero, signed) in [(0i32, false), (131, false), (255, false), (0, true), (-7, true)] {
                let (shifted, sums, offset, values): (_, _, i32, Vec<i32>) = if signed {
                    let a: Vec<i8> = a.iter().map(|&v| v as i8).collect();
                    let (s, r) = packed.shift_rows(&a, |v| v);
                    (s, r, -zero, a.iter().map(|&v| i32::from(v)).collect())
                } else {
                    let (s, r) = packed.shift_rows(&a, |v: u8| (v ^ 0x80) as i8);
                    (s, r, 128 - zero, a.iter().map(|&v| i32::from(v)).collect())
                };
                let mut c = vec![0i32; rows * n];
                packed.gemm(&shifted, &sums, offset, &mut c);
                for r in 0..rows {
                    for col in 0..n {
                        let want: i32 = (0..k).map(|kk| (values[r * k + kk] - zero) * b[kk * n + col]).sum();
                        assert_eq!(c[r * n + col], want, "rows {rows} k {k} n {n} zero {zero}: [{r}][{col}]");
                    }
                }
            }
        }
    }

    #[test]
    fn a_few_values_outside_seven_bits_are_added_apart() {
        let few = |outside: i32| (0..128).map(|i| if i == 7 { outside } else { i % 128 - 64 }).collect::<Vec<_>>();
        assert!(Packed::new(&few(64), 16, 8).is_some_and(|p| p.excess == [(0, 7, 1)]));
        assert!(Packed::new(&few(-100), 16, 8).is_some_and(|p| p.excess == [(0, 7, -36)]));
        assert!(Packed::new(&few(40_000), 16, 8).is_none());
        let many: Vec<i32> = (0..128).map(|i| if i % 32 == 0 { 64 } else { 0 }).collect();
        assert!(Packed::new(&many, 16, 8).is_none());
    }
}
