// Types of load.js: which of the package's wasm builds this host runs.
import type { InitInput, InitOutput } from './edgeserve.js';

/** Whether this host runs WebAssembly relaxed SIMD (then `init()` loads `edgeserve_relaxed_bg.wasm`). */
export const relaxedSimd: boolean;

/**
 * Whether this host can run the threaded build (`threads/edgeserve_bg.wasm`): shared memory and
 * Workers, in a cross-origin isolated page (or a Worker of one), or Node. Always false in the lean
 * build, which has no threaded variant.
 */
export function threadsSupported(): boolean;

/**
 * The thread count `init()` takes by default, as onnxruntime-web chooses its `numThreads`: half the
 * logical cores rounded up, at most 4, where `threadsSupported()`; else 1.
 */
export function defaultThreads(): number;

/**
 * The build `init()` loaded: `'threads'` (threads/edgeserve_bg.wasm, its pool started: see
 * `threadCount()`), `'relaxed'` (edgeserve_relaxed_bg.wasm), `'baseline'` (edgeserve_bg.wasm), or
 * null before `init()`, or when it was given a module of the caller's own (as `initSync` always is).
 */
export function wasmBuild(): 'threads' | 'relaxed' | 'baseline' | null;

/**
 * The URL of a wasm build: with no argument (or `true`), the one this host runs best,
 * `edgeserve_relaxed_bg.wasm` where relaxed SIMD is supported, else `edgeserve_bg.wasm`; with
 * `false`, `edgeserve_bg.wasm`. In Node, read it and pass the bytes to `initSync({ module })`.
 */
export function wasmUrl(relaxed?: boolean): URL;

/** What `init()` takes to choose a build. */
export interface InitChoice {
  /** false: the baseline build even where relaxed SIMD runs (default true: the best this host runs). */
  relaxedSimd?: boolean;
  /**
   * How many threads a model's run uses, the calling thread included (1 to 64; default
   * `defaultThreads()`). Above 1, where `threadsSupported()`, the threaded build with a pool of
   * that many (the calling thread and threads - 1 module Workers); elsewhere the single-threaded
   * build, as onnxruntime-web does.
   */
  threads?: number;
}

/**
 * Fetches, compiles (streaming) and instantiates a wasm build, once (later calls return the first
 * call's Promise). With no argument, the build this host runs best (see `wasmUrl`), threaded with
 * `defaultThreads()` threads where that is more than 1 (falling back to one thread, with a
 * console warning, if the threaded build does not start); `{ threads }`: that many threads where
 * `threadsSupported()` (rejects with code `THREADS` if the threaded build does not start), else
 * the single-threaded build; `{ relaxedSimd: false }`: the baseline build even where relaxed SIMD
 * runs (its results are the same on every CPU); `{ module_or_path }`: exactly what wasm-bindgen's
 * init takes. In Node the wasm is read from the package's files. Rejects with code `BAD_INPUT`
 * when `relaxedSimd` is not a boolean or `threads` not an integer from 1 to 64.
 */
export default function init(
  input?: InitChoice | { module_or_path: InitInput | Promise<InitInput> } | InitInput | Promise<InitInput>,
): Promise<InitOutput>;
