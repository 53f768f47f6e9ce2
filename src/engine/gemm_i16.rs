//! An integer matrix product for ONNX `MatMulInteger` with a constant right-hand side:
//! `C[r][n] = sum_k A[r][k] * B[k][n]` in int32, A and B held as i16 (8-bit values less their
//! zero points fit in 9 bits). B is packed once, in panels of 8 columns with k in pairs, so that
//! wasm's `i32x4.dot_i16x8_s` (plain SIMD128) does 8 multiply-adds per instruction: each lane
//! holds one column, and the two values of a pair of k. The sums are exact (each product fits in
//! 17 bits, a pair in 18, and a sum over k in int32 for any k a model has).

// A lean build has these when its packages' NNEF forms call them (src/engine/lean.rs).
#![cfg_attr(not(feature = "onnx"), allow(dead_code))]

/// Whether this build has the SIMD kernel: elsewhere tract's f32 products (native AVX2 and FMA)
/// are faster than [`gemm`]'s portable loop, and `MatMulInteger` stays on them.
pub(crate) const SIMD: bool = cfg!(all(target_arch = "wasm32", target_feature = "simd128"));

/// Columns per panel of packed B.
pub(crate) const PANEL: usize = 8;

/// B (`k` x `n`, row-major) packed for [`gemm`]: panels of [`PANEL`] columns, each `k2 / 2`
/// pairs of rows (k2 = k rounded up to even), each pair as 8 columns x 2 values; zeros beyond
/// `k` and `n`.
pub(crate) fn pack(b: &[i16], k: usize, n: usize) -> Vec<i16> {
    let k2 = k.next_multiple_of(2);
    let panels = n.div_ceil(PANEL);
    let mut packed = vec![0i16; panels * k2 * PANEL];
    for p in 0..panels {
        for kk in 0..k {
            for j in 0..PANEL {
                let col = p * PANEL + j;
                if col < n {
                    packed[p * k2 * PANEL + (kk / 2) * 2 * PANEL + j * 2 + kk % 2] = b[kk * n + col];
                }
            }
        }
    }
    packed
}

/// `c[r][col] = sum_k a[r][k] * B[k][col]` for `rows` rows of `a` (row-major, `k2` values a row,
/// zeros beyond the product's k) and B packed by [`pack`]; `c` is `rows` x `n`, row-major.
pub(crate) fn gemm(a: &[i16], rows: usize, k2: usize, packed: &[i16], n: usize, c: &mut [i32]) {
    debug_assert!(k2.is_multiple_of(2) && a.len() >= rows * k2 && c.len() >= rows * n);
    let panels = n.div_ceil(PANEL);
    for p in 0..panels {
        let panel = &packed[p * k2 * PANEL..(p + 1) * k2 * PANEL];
        let cols = (n - p * PANEL).min(PANEL);
        let mut r = 0;
        while r + 4 <= rows {
            let tile = tile::<4>(&a[r * k2..(r + 4) * k2], k2, panel);
            store(&tile, c, r, n, p * PANEL, cols);
            r += 4;
        }
        if r < rows {
            // The last one to three rows in one tile: B's panel is read once for them.
            let rest = &a[r * k2..rows * k2];
            match rows - r {
                1 => store(&tile::<1>(rest, k2, panel), c, r, n, p * PANEL, cols),
                2 => store(&tile::<2>(rest, k2, panel), c, r, n, p * PANEL, cols),
                _ => store(&tile::<3>(rest, k2, panel), c, r, n, p * PANEL, cols),
            }
        }
    }
}

fn store<const MR: usize>(tile: &[[i32; PANEL]; MR], c: &mut [i32], row: usize, n: usize, col: usize, cols: usize) {
    for (i, sums) in tile.iter().enumerate() {
        let start = (row + i) * n + col;
        c[start..start + cols].copy_from_slice(&sums[..cols]);
    }
}

/// One tile: `MR` rows of `a` by one panel.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
fn tile<const MR: usize>(a: &[i16], k2: usize, panel: &[i16]) -> [[i32; PANEL]; MR] {
    use core::arch::wasm32::*;
    debug_assert!(a.len() >= MR * k2 && panel.len() >= k2 * PANEL);
    let mut acc = [[i32x4_splat(0); 2]; MR];
    let b = panel.as_ptr();
    for pair in 0..k2 / 2 {
        // SAFETY: `pair * 16 + 16 <= k2 * PANEL` (panel's length, checked above), and each row's
        // `pair * 2 + 2 <= k2`; unaligned loads are allowed in wasm.
        unsafe {
            let b0 = v128_load(b.add(pair * 16) as *const v128);
            let b1 = v128_load(b.add(pair * 16 + 8) as *const v128);
            for (r, row) in acc.iter_mut().enumerate() {
                let x = v128_load32_splat(a.as_ptr().add(r * k2 + pair * 2) as *const u32);
                row[0] = i32x4_add(row[0], i32x4_dot_i16x8(x, b0));
                row[1] = i32x4_add(row[1], i32x4_dot_i16x8(x, b1));
            }
        }
    }
    lanes(acc)
}

/// A tile's accumulators (two i32x4 per row: the panel's 8 columns) as integers.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
pub(crate) fn lanes<const MR: usize>(acc: [[core::arch::wasm32::v128; 2]; MR]) -> [[i32; PANEL]; MR] {
    use core::arch::wasm32::*;
    let mut out = [[0i32; PANEL]; MR];
    for (o, row) in out.iter_mut().zip(acc) {
        for (h, v) in row.into_iter().enumerate() {
            o[h * 4] = i32x4_extract_lane::<0>(v);
            o[h * 4 + 1] = i32x4_extract_lane::<1>(v);
            o[h * 4 + 2] = i32x4_extract_lane::<2>(v);
            o[h * 4 + 3] = i32x4_extract_lane::<3>(v);
        }
    }
    out
}

/// One tile: `MR` rows of `a` by one panel (portable code, for native builds).
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
#[inline(always)]
fn tile<const MR: usize>(a: &[i16], k2: usize, panel: &[i16]) -> [[i32; PANEL]; MR] {
    let mut out = [[0i32; PANEL]; MR];
    for (r, sums) in out.iter_mut().enumerate() {
        let row = &a[r * k2..(r + 1) * k2];
        for (pair, b) in panel.chunks_exact(2 * PANEL).enumerate() {
            let (x0, x1) = (i32::from(row[pair * 2]), i32::from(row[pair * 2 + 1]));
            for (j, sum) in sums.iter_mut().enumerate() {
                *sum += x0 * i32::from(b[j * 2]) + x1 * i32::from(b[j * 2 + 1]);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_packed_product_equals_the_plain_one_at_every_edge() {
        for (rows, k, n) in [(1usize, 1usize, 1usize), (3, 5, 7), (4, 8, 8), (6, 9, 10), (9, 17, 19), (16, 384, 24)] {
            let a: Vec<i16> = (0..rows * k).map(|i| ((i * 37 % 511) as i16) - 255).collect();
            let b: Vec<i16> = (0..k * n).map(|i| ((i * 53 % 255) as i16) - 127).collect();
            let k2 = k.next_multiple_of(2);
            let mut padded = vec![0i16; rows * k2];
            for r in 0..rows {
                padded[r * k2..r * k2 + k].copy_from_slice(&a[r * k..(r + 1) * k]);
            }
            let mut c = vec![0i32; rows * n];
            gemm(&padded, rows, k2, &pack(&b, k, n), n, &mut c);
            for r in 0..rows {
                for col in 0..n {
                    let want: i32 = (0..k).map(|kk| i32::from(a[r * k + kk]) * i32::from(b[kk * n + col])).sum();
                    assert_eq!(c[r * n + col], want, "rows {rows} k {k} n {n}: [{r}][{col}]");
                }
            }
        }
    }
}
