// Drives edgeserve's long calls from JavaScript (src/wasm/job.rs): a batch or a benchmark is a
// Job whose step() is one synchronous call into wasm, made from the async function below, so
// that whatever a step throws (an edgeserve Error, or a trap of the wasm instance) rejects the
// call's Promise, where its caller and the package's guard (guard.js) see it.

/** Gives the event loop a turn: a macrotask, through a MessageChannel (no 4 ms timer clamp). */
export function turn() {
  return new Promise(resolve => {
    const { port1, port2 } = new MessageChannel();
    port1.onmessage = () => {
      // Open ports would keep Node's event loop alive.
      port1.close();
      port2.close();
      resolve();
    };
    port2.postMessage(null);
  });
}

/**
 * Runs `job` to its end and resolves to `job.finish()`. After each `job.step()`, `onProgress`
 * (when a function) gets the step's progress; its throw, or the rejection of a Promise it
 * returns, ends the call with that error (a Promise it returns is awaited before the next step).
 * The event loop gets a turn between steps. The job's wasm memory is freed at the end, however
 * it ends.
 */
export async function drive(job, onProgress) {
  try {
    // The first step too runs after the export that started the job has returned (and released
    // its object), so that onProgress may call that object.
    await undefined;
    for (;;) {
      const progress = job.step();
      if (onProgress) await onProgress(progress);
      if (job.done) return job.finish();
      await turn();
    }
  } finally {
    job.free();
  }
}
