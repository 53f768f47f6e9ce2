// The demo page: every panel wires the UI to edgeserve. Inference for the real-time and batch
// panels runs in the package's WorkerModel, off the main thread; the model panel measures every
// model on this device and chooses by a latency budget.
import init, { Model, ModelSet, WorkerModel } from './pkg/index.js';
import { setupRealtime } from './realtime.js';
import { setupBatch } from './batch.js';
import { setupModels } from './models.js';
import { setupStream } from './stream.js';
import { setupSearch } from './search.js';
import { setupListen } from './listen.js';
import { setupRead } from './read.js';

const $ = id => document.getElementById(id);

/**
 * One WorkerModel per package name, started when first needed. Each starts after the service
 * worker has settled (see controllerSettled), as the first one does. A start that fails is not
 * kept, so the next use tries again.
 */
const workers = new Map();
export function workerFor(name) {
  if (!workers.has(name)) {
    const created = controllerSettled().then(() => WorkerModel.create({ model: name }));
    created.catch(() => workers.get(name) === created && workers.delete(name));
    workers.set(name, created);
  }
  return workers.get(name);
}

/**
 * Resolves once the service worker that controls this page (if any) has finished activating.
 * In Chromium a module Worker's script requested while the page's controller is still
 * activating (a reload right after a new build installed) could stall for good, and the page
 * never became ready; after activation it is answered from the new cache.
 */
function controllerSettled() {
  const controller = navigator.serviceWorker?.controller;
  if (!controller || controller.state !== 'activating') return Promise.resolve();
  return new Promise(resolve => {
    const check = () => {
      if (controller.state === 'activating') return;
      controller.removeEventListener('statechange', check);
      resolve();
    };
    controller.addEventListener('statechange', check);
    check();
  });
}

async function main() {
  await init();
  await controllerSettled();
  // The default model is loaded in its worker, not on the main thread.
  const first = await WorkerModel.create();
  workers.set(first.name, Promise.resolve(first));
  const state = { model: first.name, listeners: [] };
  state.use = name => {
    state.model = name;
    state.listeners.forEach(f => f(name));
  };
  setupRealtime(state, workerFor);
  setupBatch(state, workerFor);
  setupStream(state, workerFor);
  setupModels(state, { Model, ModelSet });
  setupSearch();
  setupListen();
  setupRead();
  $('status').textContent = `Ready: ${Model.names().length} models, running in a Web Worker.`;
  if ('serviceWorker' in navigator && location.protocol !== 'file:') {
    // Works offline after this visit; a new build replaces the cache (see sw.js).
    await navigator.serviceWorker.register('sw.js');
  }
  document.body.dataset.ready = '1';
}

main().catch(e => {
  $('status').textContent = `Could not start: ${e.message}`;
  throw e;
});
