// Types of load.js: which of the package's two wasm builds this host runs.
import type { InitInput, InitOutput } from './edgeserve.js';

/** Whether this host runs WebAssembly relaxed SIMD (then `init()` loads `edgeserve_relaxed_bg.wasm`). */
export const relaxedSimd: boolean;

/**
 * The build `init()` loaded: `'relaxed'` (edgeserve_relaxed_bg.wasm), `'baseline'`
 * (edgeserve_bg.wasm), or null before `init()`, or when it was given a module of the caller's own
 * (as `initSync` always is).
 */
export function wasmBuild(): 'relaxed' | 'baseline' | null;

/**
 * The URL of a wasm build: with no argument (or `true`), the one this host runs best,
 * `edgeserve_relaxed_bg.wasm` where relaxed SIMD is supported, else `edgeserve_bg.wasm`; with
 * `false`, `edgeserve_bg.wasm`. In Node, read it and pass the bytes to `initSync({ module })`.
 */
export function wasmUrl(relaxed?: boolean): URL;

/**
 * Fetches, compiles (streaming) and instantiates a wasm build, once (later calls return the first
 * call's Promise). With no argument, the build this host runs best (see `wasmUrl`);
 * `{ relaxedSimd: false }`: the baseline build even where relaxed SIMD runs (its results are the
 * same on every CPU); `{ module_or_path }`: exactly what wasm-bindgen's init takes. Rejects with
 * code `BAD_INPUT` when `relaxedSimd` is not a boolean.
 */
export default function init(
  input?:
    { relaxedSimd: boolean } | { module_or_path: InitInput | Promise<InitInput> } | InitInput | Promise<InitInput>,
): Promise<InitOutput>;
