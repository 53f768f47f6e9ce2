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

/** The build init() loaded: 'relaxed', 'baseline', or null (not yet, or a module of the caller's own). */
let loaded = null;
/** The first init()'s Promise: later calls return it (one instance per page or worker). */
let started = null;

/**
 * The build `init()` loaded: `'relaxed'` (edgeserve_relaxed_bg.wasm), `'baseline'`
 * (edgeserve_bg.wasm), or null before `init()`, or when it was given a module of the caller's own
 * (as `initSync` always is).
 */
export function wasmBuild() {
  return loaded;
}

/**
 * The URL of a wasm build: with no argument (or `true`), the one this host runs best,
 * `edgeserve_relaxed_bg.wasm` where relaxed SIMD is supported, else `edgeserve_bg.wasm`; with
 * `false`, `edgeserve_bg.wasm` (both next to this file). In Node, read it and pass the bytes to
 * `initSync({ module })`.
 */
export function wasmUrl(relaxed = true) {
  // Two literal URLs, so that bundlers see (and copy) both files.
  return relaxed === true && relaxedSimd
    ? new URL('edgeserve_relaxed_bg.wasm', import.meta.url)
    : new URL('edgeserve_bg.wasm', import.meta.url);
}

/** Whether init()'s argument is edgeserve's choice of build ({ relaxedSimd }) rather than wasm-bindgen's. */
function isChoice(input) {
  return (
    input !== null &&
    typeof input === 'object' &&
    Object.getPrototypeOf(input) === Object.prototype &&
    Object.hasOwn(input, 'relaxedSimd') &&
    !Object.hasOwn(input, 'module_or_path')
  );
}

function badInput(message) {
  return Object.assign(new Error(message), { code: 'BAD_INPUT' });
}

/** What a value is, for messages. */
function kind(value) {
  if (value === null) return 'null';
  if (typeof value === 'string') return `a string (${JSON.stringify(value.slice(0, 40))})`;
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** The build init()'s argument asks for: true (relaxed where it runs), false, or the argument for wasm-bindgen. */
function choice(input) {
  let chosen;
  try {
    if (input === undefined) return true;
    if (!isChoice(input)) return { wasmBindgen: input };
    chosen = input.relaxedSimd;
  } catch (e) {
    throw badInput(
      `init()'s argument could not be read: expected { relaxedSimd } or wasm-bindgen's { module_or_path }, got an exception: ${e?.name ?? 'Error'}: ${e?.message ?? String(e)}`,
    );
  }
  if (typeof chosen !== 'boolean')
    throw badInput(`relaxedSimd is not a boolean: expected true or false, got ${kind(chosen)}`);
  return chosen;
}

/**
 * Fetches, compiles (streaming) and instantiates a wasm build, once (later calls return the first
 * call's Promise). With no argument, the build this host runs best (see `wasmUrl`);
 * `{ relaxedSimd: false }`: the baseline build even where relaxed SIMD runs (its results are the
 * same on every CPU: a relaxed multiply-add may round differently from one CPU to another);
 * `{ module_or_path }`: exactly what wasm-bindgen's init takes.
 */
export default function init(input) {
  if (started) return started;
  let relaxed;
  try {
    relaxed = choice(input);
  } catch (e) {
    return Promise.reject(e);
  }
  if (typeof relaxed === 'boolean') {
    started = initWasm({ module_or_path: wasmUrl(relaxed) }).then(output => {
      loaded = relaxed && relaxedSimd ? 'relaxed' : 'baseline';
      return output;
    });
  } else {
    started = initWasm(relaxed.wasmBindgen);
  }
  // A failed init (a network error, say) may be tried again.
  started.catch(() => (started = null));
  return started;
}
