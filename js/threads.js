// The threaded build (threads/edgeserve.js and threads/edgeserve_bg.wasm: the same Rust code
// compiled with atomics and shared memory) and its pool of module Workers (threads/pool-worker.js,
// a file of the package: no blob: URL, so a strict Content-Security-Policy works).
//
// A pool of n threads is the calling thread (the page's main thread, or the Worker that called
// init()) and n - 1 Workers, each instantiating the module on the same memory. tract splits its
// larger matrix products over them; the calling thread computes its share while it waits.
//
// Message protocol (structured clone), one exchange per Worker:
//   page -> worker   { edgeserve: 'pool-thread', module, memory, index }
//   worker -> page   { edgeserve: 'pool-ready' }  then the Worker runs its thread for good, or
//                    { edgeserve: 'pool-failed', message }
// In Node the Workers are worker_threads (unref'd, so that they never keep a process alive).

const node = globalThis.process?.getBuiltinModule?.('node:worker_threads');

/** Whether this host can run the threaded build: shared memory, Workers, cross-origin isolation. */
export function threadsSupported() {
  if (typeof SharedArrayBuffer !== 'function' || typeof WebAssembly?.Memory !== 'function') return false;
  if (node) return true;
  return typeof Worker === 'function' && globalThis.crossOriginIsolated === true;
}

/** onnxruntime-web's default thread count: half the logical cores, rounded up, at most 4. */
export function defaultThreads() {
  if (!threadsSupported()) return 1;
  const os = globalThis.process?.getBuiltinModule?.('node:os');
  const cores = os ? (os.availableParallelism?.() ?? os.cpus().length) : globalThis.navigator?.hardwareConcurrency;
  return Math.min(4, Math.ceil((cores || 1) / 2));
}

/** What wasm-bindgen's init takes for a wasm file: its URL, or in Node (no fetch of file: URLs) its bytes. */
export function wasmSource(url) {
  const fs = url.protocol === 'file:' ? globalThis.process?.getBuiltinModule?.('node:fs') : undefined;
  return fs ? fs.readFileSync(url) : url;
}

function failure(message) {
  return Object.assign(new Error(message), { code: 'THREADS' });
}

/** Starts one pool Worker as thread `index` and resolves once it waits for its thread. */
function startWorker(module, memory, index) {
  return new Promise((resolve, reject) => {
    // The URL inside `new Worker(...)`, as bundlers look for it: Vite and webpack 5 then bundle the
    // script and the glue it imports as a Worker of their own.
    const worker = node
      ? new node.Worker(new URL('./threads/pool-worker.js', import.meta.url))
      : new Worker(new URL('./threads/pool-worker.js', import.meta.url), { type: 'module' });
    const onMessage = data => {
      if (data?.edgeserve === 'pool-ready') {
        // Unref'd once it runs (before, its start must keep Node alive).
        if (node) worker.unref();
        resolve(worker);
      } else if (data?.edgeserve === 'pool-failed')
        reject(failure(`pool thread ${index} could not start: ${data.message}`));
    };
    const onError = e =>
      reject(failure(`pool thread ${index} could not start: ${e?.message ?? 'the Worker script failed to load'}`));
    if (node) {
      worker.on('message', onMessage);
      worker.on('error', onError);
    } else {
      worker.addEventListener('message', e => onMessage(e.data));
      worker.addEventListener('error', onError);
    }
    worker.postMessage({ edgeserve: 'pool-thread', module, memory, index });
  });
}

/** The Workers of the pool: kept referenced for the instance's life (some browsers collect them otherwise). */
let _workers = [];

/**
 * Loads the threaded build and starts a pool of `threads` (2 to 64): resolves once every thread
 * runs, to `{ glue, output }`: the build's glue module (the wasm API) and what its init returned.
 * Rejects with code THREADS.
 */
export async function loadThreaded(threads) {
  const glue = await import('./threads/edgeserve.js');
  // A literal URL beside the import above, so that bundlers copy the file.
  const output = await glue.default({
    module_or_path: wasmSource(new URL('./threads/edgeserve_bg.wasm', import.meta.url)),
  });
  const [module, memory] = glue.threadPoolShared();
  const started = Array.from({ length: threads - 1 }, (_, i) => startWorker(module, memory, i + 1));
  try {
    _workers = await Promise.all(started);
  } catch (e) {
    for (const w of await Promise.allSettled(started)) if (w.status === 'fulfilled') w.value.terminate();
    throw e;
  }
  glue.startThreadPool(threads);
  return { glue, output };
}
