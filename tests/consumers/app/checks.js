// What every consumer app runs, whichever bundler built it (and node.mjs in Node): the serving
// modes of one build of the installed `edgeserve` package (`edgeserve` or `edgeserve/lean`,
// passed in as its module namespace), on the golden cases onnxruntime recorded for the digits
// packages. A page puts what it saw on `window.result` (the test compares it with the
// references) and sets `body[data-ready="1"]`; an exception becomes `window.result.error`.

/** Fetches a JSON file the test serves next to the apps. */
async function fetchJson(path) {
  const response = await fetch(path);
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

/**
 * How a page starts the package and reads the test's files (node.mjs has its own). With
 * `?simd=baseline` in its URL, the page asks for the baseline build where relaxed SIMD runs; with
 * `?threads=N`, for the threaded build with a pool of N (the page is cross-origin isolated), and
 * so does its WorkerModel.
 */
const inPage = {
  start: edgeserve => {
    const baseline = new URLSearchParams(location.search).get('simd') === 'baseline';
    const threads = inPage.threads();
    if (threads) return edgeserve.default({ threads });
    return edgeserve.default(baseline ? { relaxedSimd: false } : undefined);
  },
  threads: () => Number(new URLSearchParams(location.search).get('threads')) || undefined,
  json: fetchJson,
  /**
   * Where Model.load finds the packages shipped beside the wasm: by itself in a page that serves
   * node_modules/edgeserve/ as it is (the import map); a bundled app passes the URL of its copy
   * of node_modules/edgeserve/models/ (the test serves the installed one).
   */
  loadOptions: () =>
    location.pathname.startsWith('/importmap/') ? undefined : { modelsUrl: '/node_modules/edgeserve/models/' },
  /** A model loaded at run time from its URL, hash-checked, with its package's manifest. */
  load: async (Model, dir, sha256) =>
    Model.fromUrl(`${dir}/model.onnx`, { sha256, manifest: await fetchJson(`${dir}/manifest.json`) }),
};

/** A stream's outputs, in order, for rows written into it. */
async function streamed(stream, rows) {
  const outputs = [];
  const source = new ReadableStream({
    start(controller) {
      for (const row of rows) controller.enqueue(row);
      controller.close();
    },
  });
  await source.pipeThrough(stream).pipeTo(new WritableStream({ write: output => void outputs.push(output) }));
  return outputs.map(o => (o.error ? { error: o.error.code } : { label: o.prediction.label }));
}

const plain = r => ({ label: r.label, scores: Array.from(r.scores) });

/** Runs the checks on `edgeserve` (the namespace of the build that `build` names). */
export async function check(edgeserve, build, host = inPage) {
  const result = { build, relaxedSimd: edgeserve.relaxedSimd };
  await host.start(edgeserve);
  // After init(): the threaded build's classes replace the package's exports (live bindings).
  const { Model, WorkerModel } = edgeserve;
  result.wasmBuild = edgeserve.wasmBuild();
  result.threadCount = edgeserve.threadCount();
  result.names = Model.names();

  const golden = await host.json('/models/digits-accurate/golden.json');
  const rows = golden.cases.map(c => Float32Array.from(c.input));

  // Real time, batch and stream on the main thread.
  const model = Model.load('digits-accurate');
  result.predict = rows.map(row => plain(model.predict(row)));
  const batch = await model.predictBatch(rows, { chunkSize: 8 });
  result.batch = { labels: batch.labels, scores: Array.from(batch.scores) };
  batch.free();
  result.stream = await streamed(model.stream({ maxBatch: 4 }), [...rows, new Float32Array(3)]);
  model.free();

  // The same off the main thread (browsers): the Worker's URL, and its wasm's, as the bundler
  // resolved them.
  if (typeof Worker === 'function') {
    const threads = host.threads?.();
    const remote = await WorkerModel.create({ model: 'digits-accurate', ...(threads && { threads }) });
    result.worker = {
      wasmBuild: remote.wasmBuild,
      predict: await Promise.all(rows.map(row => remote.predict(row).then(plain))),
      batch: Array.from((await remote.predictBatch(rows, { chunkSize: 8 })).labels),
      stream: await streamed(remote.stream({ maxBatch: 4 }), rows),
    };
    remote.terminate();
  }

  // A model loaded at run time (the full build; the lean one has no ONNX parser).
  const fast = await host.json('/models/digits-fast/golden.json');
  try {
    const loaded = await host.load(Model, '/models/digits-fast', fast.sha256);
    result.loaded = fast.cases.map(c => plain(loaded.predict(Float32Array.from(c.input))));
    loaded.free();
  } catch (e) {
    result.loaded = { error: e.code ?? String(e) };
  }

  // A text package shipped beside the wasm, loaded by name (the full build lists it).
  if (Model.names().includes('minilm-int8')) {
    const text = (await host.json('/models/minilm-int8/golden.json')).texts[0].text;
    const minilm = await Model.load('minilm-int8', host.loadOptions());
    result.text = { name: minilm.name, embedding: Array.from(minilm.embed(text).data) };
    minilm.free();
  }

  // The audio package shipped beside the wasm, by name; in a page, a microphone (Chromium's fake
  // one) through the package's AudioWorklet, whose module file the bundler must have kept.
  if (Model.names().includes('vad')) {
    const vad = await Model.load('vad', host.loadOptions());
    const tone = Float32Array.from({ length: 32000 }, (_, i) => 0.3 * Math.sin(i / 10));
    result.vad = { frames: vad.speechSegments(tone, { sampleRate: 16000 }).probabilities.length };
    if (typeof AudioWorkletNode === 'function') {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
      let frames = 0;
      const listener = await edgeserve.listen(vad, stream, { onStep: step => (frames += step.probabilities.length) });
      await new Promise(resolve => {
        const poll = setInterval(() => frames >= 20 && (clearInterval(poll), resolve()), 20);
      });
      await listener.stop();
      stream.getTracks().forEach(track => track.stop());
      result.vad.listened = frames >= 20;
    }
    vad.free();
  }

  // Which wasm files the page fetched (the worker fetches its own).
  if (typeof performance.getEntriesByType === 'function') {
    result.wasm = performance
      .getEntriesByType('resource')
      .map(entry => new URL(entry.name).pathname)
      .filter(path => path.endsWith('.wasm'));
  }
  return result;
}

/** Runs the checks and publishes the result for the test. */
export function run(edgeserve, build) {
  check(edgeserve, build)
    .catch(e => ({ build, error: `${e?.code ?? ''} ${e?.stack ?? e}` }))
    .then(result => {
      window.result = result;
      document.body.dataset.ready = '1';
    });
}
