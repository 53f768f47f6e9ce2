// How the real-model suite times a model, shared by the Node runner (tests/real/run-wasm.mjs) and
// the Chromium page (bench/real-page.js): load from the bytes, run once (the outputs kept), then
// run until the budget is spent, for the median; edgeserve and onnxruntime-web (one thread) in
// the same process, one after the other.

const median = times => times.sort((a, b) => a - b)[times.length >> 1];

/** Loads, runs once (the outputs kept), then runs until `budgetMs` is spent or `maxRuns` are done
 * (at least 3): times in ms. */
export async function measure(load, run, { maxRuns = 20, budgetMs = 2000 } = {}) {
  const t0 = performance.now();
  const session = await load();
  const t1 = performance.now();
  const outputs = await run(session);
  const t2 = performance.now();
  const times = [];
  const start = performance.now();
  while (times.length < maxRuns && (times.length < 3 || performance.now() - start < budgetMs)) {
    const t = performance.now();
    await run(session);
    times.push(performance.now() - t);
  }
  return { session, outputs, load_ms: t1 - t0, first_ms: t2 - t1, p50_ms: median(times), runs: times.length };
}

/** edgeserve (`Model` of the package) on a case: `inputs` by name, `shapes` by name. */
export function measureEdgeserve(Model, bytes, inputs, shapes, options) {
  return measure(
    () => Model.fromBytes(bytes),
    model => model.run(inputs, { shapes }),
    options,
  );
}

/** onnxruntime-web (its wasm backend, one thread: set by the caller) on the same case. */
export function measureOrt(ort, bytes, c, inputs, options) {
  const feeds = Object.fromEntries(c.inputs.map(i => [i.name, new ort.Tensor(i.dtype, inputs[i.name], i.shape)]));
  return measure(
    () =>
      ort.InferenceSession.create(bytes, {
        executionProviders: ['wasm'],
        graphOptimizationLevel: 'all',
        logSeverityLevel: 3,
      }),
    session => session.run(feeds),
    options,
  );
}
