// Which of the package's wasm builds this host runs, and init() that fetches that one.
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
//
// The full build has a third: threads/edgeserve_bg.wasm (+simd128, atomics, shared memory) with a
// glue of its own, loaded by threads.js where the host allows shared memory (a cross-origin
// isolated page, a Worker of one, Node) and init() is asked for more than one thread (by default
// as many as onnxruntime-web takes). The package's exports are live bindings (api.js) that then
// point at that build's classes.
import initWasm from './edgeserve.js';
import { useGlue } from './api.js';
import { defaultThreads, loadThreaded, threadsSupported, wasmSource } from './threads.js';

export { defaultThreads, threadsSupported };

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

/** The build init() loaded: 'threads', 'relaxed', 'baseline', or null (not yet, or a module of the caller's own). */
let loaded = null;
/** The first init()'s Promise: later calls return it (one instance per page or worker). */
let started = null;

/**
 * The build `init()` loaded: `'threads'` (threads/edgeserve_bg.wasm, its pool started),
 * `'relaxed'` (edgeserve_relaxed_bg.wasm), `'baseline'` (edgeserve_bg.wasm), or null before
 * `init()`, or when it was given a module of the caller's own (as `initSync` always is).
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

/** Whether init()'s argument is edgeserve's choice of build ({ relaxedSimd, threads }) rather than wasm-bindgen's. */
function isChoice(input) {
  return (
    input !== null &&
    typeof input === 'object' &&
    Object.getPrototypeOf(input) === Object.prototype &&
    (Object.hasOwn(input, 'relaxedSimd') || Object.hasOwn(input, 'threads')) &&
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
  if (typeof value === 'number') return `the number ${value}`;
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/**
 * The build init()'s argument asks for: { relaxed, threads, asked } (asked: threads was given),
 * or { wasmBindgen } (the argument for wasm-bindgen's init).
 */
function choice(input) {
  let relaxed;
  let threads;
  try {
    if (input === undefined) return { relaxed: true, threads: undefined };
    if (!isChoice(input)) return { wasmBindgen: input };
    relaxed = input.relaxedSimd;
    threads = input.threads;
  } catch (e) {
    throw badInput(
      `init()'s argument could not be read: expected { relaxedSimd, threads } or wasm-bindgen's { module_or_path }, got an exception: ${e?.name ?? 'Error'}: ${e?.message ?? String(e)}`,
    );
  }
  if (relaxed !== undefined && typeof relaxed !== 'boolean')
    throw badInput(`relaxedSimd is not a boolean: expected true or false, got ${kind(relaxed)}`);
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1 && threads <= 64))
    throw badInput(`threads is not a thread count: expected an integer from 1 to 64, got ${kind(threads)}`);
  return { relaxed: relaxed ?? true, threads };
}

/**
 * Fetches, compiles (streaming) and instantiates a wasm build, once (later calls return the first
 * call's Promise). With no argument, the build this host runs best (see `wasmUrl`), threaded with
 * `defaultThreads()` threads where that is more than 1;
 * `{ threads }`: that many threads (the calling thread and threads - 1 Workers) where
 * `threadsSupported()`, else the single-threaded build (as onnxruntime-web does);
 * `{ relaxedSimd: false }`: the baseline build even where relaxed SIMD runs (its results are the
 * same on every CPU: a relaxed multiply-add may round differently from one CPU to another);
 * `{ module_or_path }`: exactly what wasm-bindgen's init takes.
 */
export default function init(input) {
  if (started) return started;
  let chosen;
  try {
    chosen = choice(input);
  } catch (e) {
    return Promise.reject(e);
  }
  if (chosen.wasmBindgen !== undefined) {
    started = initWasm(chosen.wasmBindgen);
  } else {
    const threads = chosen.threads ?? defaultThreads();
    started =
      threads > 1 && threadsSupported()
        ? threaded(threads, chosen.threads !== undefined, chosen.relaxed)
        : single(chosen.relaxed);
  }
  // A failed init (a network error, say) may be tried again.
  started.catch(() => (started = null));
  return started;
}

function single(relaxed) {
  return initWasm({ module_or_path: wasmSource(wasmUrl(relaxed)) }).then(output => {
    loaded = relaxed && relaxedSimd ? 'relaxed' : 'baseline';
    return output;
  });
}

/**
 * The threaded build with a pool of `threads`; if it fails to start, a rejection (code THREADS)
 * when the caller asked for threads, else (the default count) the single-threaded build.
 */
async function threaded(threads, asked, relaxed) {
  let build;
  try {
    build = await loadThreaded(threads);
  } catch (e) {
    if (asked) throw Object.assign(e instanceof Error ? e : new Error(String(e)), { code: 'THREADS' });
    console.warn(`edgeserve: the threaded build did not start (${e?.message}); running single-threaded`);
    return single(relaxed);
  }
  useGlue(build.glue);
  loaded = 'threads';
  return build.output;
}
