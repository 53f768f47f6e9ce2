// Which of the package's two wasm builds this host runs, and init() that fetches that one.
//
// Every directory of the package (pkg/ and pkg/lean/) holds the same Rust code built twice, with
// one JavaScript glue (edgeserve.js; scripts/package.mjs checks that the two builds' glues are
// the same file):
//   edgeserve_bg.wasm          +simd128: every browser and Node since 2021;
//   edgeserve_relaxed_bg.wasm  +simd128,+relaxed-simd: tract's f32 matrix kernels and
//                              activations use fused multiply-add (f32x4.relaxed_madd).
//                              Chromium-based browsers since 114, Node 22+ (Node 20 with
//                              --experimental-wasm-relaxed-simd); elsewhere the probe decides.
// A host without relaxed SIMD cannot even compile a module that holds one relaxed instruction,
// so the choice is made before fetching: WebAssembly.validate() of the smallest module that uses
// f32x4.relaxed_madd. The results of the two builds differ by float rounding only (one rounding
// per multiply-add instead of two).
import initWasm from './edgeserve.js';

// (module (func (param v128 v128 v128) (result v128)
//   local.get 0 local.get 1 local.get 2 f32x4.relaxed_madd))
// prettier-ignore
const RELAXED_SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
  0x01, 0x08, 0x01, 0x60, 0x03, 0x7b, 0x7b, 0x7b, 0x01, 0x7b, // type section: (v128 v128 v128) -> v128
  0x03, 0x02, 0x01, 0x00, // function section: one function of type 0
  0x0a, 0x0d, 0x01, 0x0b, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0xfd, 0x85, 0x02, 0x0b, // code
]);

/** Whether this host runs WebAssembly relaxed SIMD (then `init()` loads the relaxed build). */
export const relaxedSimd = typeof WebAssembly === 'object' && WebAssembly.validate(RELAXED_SIMD_PROBE);

/**
 * The URL of the wasm build this host runs: `edgeserve_relaxed_bg.wasm` where relaxed SIMD is
 * supported, else `edgeserve_bg.wasm` (both next to this file). In Node, read it and pass the
 * bytes to `initSync({ module })`.
 */
export function wasmUrl() {
  // Two literal URLs, so that bundlers see (and copy) both files.
  return relaxedSimd
    ? new URL('edgeserve_relaxed_bg.wasm', import.meta.url)
    : new URL('edgeserve_bg.wasm', import.meta.url);
}

/**
 * Fetches, compiles (streaming) and instantiates the wasm build this host runs (see `wasmUrl`),
 * once; with an argument, exactly what wasm-bindgen's init takes (`{ module_or_path }`).
 */
export default function init(input) {
  return initWasm(input ?? { module_or_path: wasmUrl() });
}
