// One thread of the threaded build's pool (see threads.js, which starts it as a module Worker,
// or a worker_threads Worker in Node): instantiates the module on the page's shared memory, says
// so, then runs its rayon thread for the life of the instance (it never returns to the event loop).
import init, { runPoolThread } from './edgeserve.js';

const nodePort = globalThis.process?.getBuiltinModule?.('node:worker_threads')?.parentPort;
const port = nodePort ?? globalThis;

async function run({ module, memory, index }) {
  try {
    await init({ module_or_path: module, memory });
  } catch (e) {
    port.postMessage({ edgeserve: 'pool-failed', message: `${e?.name ?? 'Error'}: ${e?.message ?? String(e)}` });
    return;
  }
  port.postMessage({ edgeserve: 'pool-ready' });
  runPoolThread(index);
}

const onMessage = data => {
  if (data?.edgeserve === 'pool-thread') run(data);
};
if (nodePort) nodePort.once('message', onMessage);
else globalThis.addEventListener('message', e => onMessage(e.data), { once: true });
