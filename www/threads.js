// The thread count of the panels that run the full build (search, listen, read): `?threads=N` in
// the page's address (the Model panel's switch sets it and reloads: a wasm instance makes its pool
// once), else init()'s default, as onnxruntime-web chooses. pkg-full/threads.js is the package's
// own module (no wasm): it says whether this page can run threads (shared memory needs cross-origin
// isolation, which the server or sw.js gives). The digits panels run the lean build, one thread.
import { defaultThreads, threadsSupported } from './pkg-full/threads.js';

export const supported = threadsSupported();

function asked() {
  const n = Number(new URLSearchParams(location.search).get('threads'));
  return Number.isInteger(n) && n >= 1 && n <= 64 ? n : null;
}

/** The thread count the full build's panels ask init() and their WorkerModels for. */
export const threads = supported ? (asked() ?? defaultThreads()) : 1;

/** Shows what a panel's full build runs on, in the Model panel (`build`: its wasmBuild). */
export function running(count, build) {
  const status = document.getElementById('threads-status');
  status.textContent = `${count} running (the ${build} build of the full package)`;
  document.body.dataset.threadsRunning = String(count);
}
