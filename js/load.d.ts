// Types of load.js: which of the package's two wasm builds this host runs.
import type { InitInput, InitOutput } from './edgeserve.js';

/** Whether this host runs WebAssembly relaxed SIMD (then `init()` loads `edgeserve_relaxed_bg.wasm`). */
export const relaxedSimd: boolean;

/**
 * The URL of the wasm build this host runs: `edgeserve_relaxed_bg.wasm` where relaxed SIMD is
 * supported, else `edgeserve_bg.wasm`. In Node, read it and pass the bytes to `initSync({ module })`.
 */
export function wasmUrl(): URL;

/**
 * Fetches, compiles (streaming) and instantiates the wasm build this host runs, once. With an
 * argument, exactly what wasm-bindgen's init takes.
 */
export default function init(
  module_or_path?: { module_or_path: InitInput | Promise<InitInput> } | InitInput | Promise<InitInput>,
): Promise<InitOutput>;
