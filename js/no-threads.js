// threads.js of a build with no threaded variant (the lean build: a page that serves its own small
// packages): init() always loads its single-threaded build.

/** Whether this build can run threaded: never (see the full build, `edgeserve`). */
export function threadsSupported() {
  return false;
}

/** The thread count init() picks by default: 1. */
export function defaultThreads() {
  return 1;
}

/** What wasm-bindgen's init takes for a wasm file: its URL, or in Node (no fetch of file: URLs) its bytes. */
export function wasmSource(url) {
  const fs = url.protocol === 'file:' ? globalThis.process?.getBuiltinModule?.('node:fs') : undefined;
  return fs ? fs.readFileSync(url) : url;
}

/** There is no threaded build to load here. */
export async function loadThreaded() {
  throw Object.assign(new Error("this build has no threaded variant: expected the full build ('edgeserve')"), {
    code: 'THREADS',
  });
}
