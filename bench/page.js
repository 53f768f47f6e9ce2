// The benchmark in the browser (driven by bench/browser.mjs through Playwright). Two uses:
//  - bench/page.html?threads=N: exposes window.bench({ models, smoke }), which measures edgeserve
//    against onnxruntime-web, both with N threads (edgeserve's threaded build above 1), on each
//    model, alternating, with bench/measure.mjs;
//  - bench/page.html?cold=<runtime>&model=<name>: one cold start, from navigation to the first
//    prediction (document.body.dataset.firstMs), then the runtime's wasm memory. With
//    &embedded=1 (the digits models), edgeserve is the lean build (pkg/lean/) and loads the
//    package from its own wasm; otherwise the full build loads model.onnx.
import {
  batchOf,
  edgeserveRuntime,
  edgeservePredictRuntime,
  edgeserveTractRuntime,
  measureModel,
  ortRuntime,
  watchWasmMemory,
} from './measure.mjs';

const watch = watchWasmMemory();
const params = new URLSearchParams(location.search);
const MODELS = '../target/bench-models';
const ORT = '../node_modules/onnxruntime-web/dist/';
const TYPES = { float32: Float32Array, int64: BigInt64Array };

async function get(url, as) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return as === 'json' ? res.json() : new Uint8Array(await res.arrayBuffer());
}

async function model(name) {
  const meta = await get(`${MODELS}/${name}/meta.json`, 'json');
  const inputs = await Promise.all(
    meta.inputs.map(async i => new TYPES[i.dtype]((await get(`${MODELS}/${name}/${i.file}`)).buffer)),
  );
  return { meta, inputs };
}

/** The package, initialised with the wasm build init() picks for `threads` (relaxed SIMD in
 * Chromium for 1, the threaded build above), or with &wasm=simd128 the +simd128 one. */
async function loadEdgeserve(lean = false, threads = 1) {
  const dir = lean ? '../pkg/lean/' : '../pkg/';
  const edgeserve = await import(`${dir}index.js`);
  await edgeserve.default(params.get('wasm') === 'simd128' ? { relaxedSimd: false } : { threads });
  if (edgeserve.threadCount() !== threads)
    throw new Error(`edgeserve runs ${edgeserve.threadCount()} threads, not ${threads}`);
  return edgeserve;
}

/** A second instance of the full build's wasm-bindgen module (a query string makes it a module
 * of its own) on the +simd128 wasm: what relaxed SIMD gains, measured in the same page. */
async function loadSimd128() {
  const glue = await import('../pkg/edgeserve.js?simd128');
  await glue.default({ module_or_path: new URL('../pkg/edgeserve_bg.wasm', import.meta.url) });
  return glue;
}

async function loadOrt(threads) {
  const ort = await import(`${ORT}ort.wasm.min.mjs`);
  ort.env.wasm.wasmPaths = new URL(ORT, location.href).href;
  return ortRuntime(ort, threads);
}

async function cold() {
  const name = params.get('model');
  const which = params.get('cold');
  const { meta, inputs } = await model(name);
  const one = batchOf(meta, inputs, 1);
  let run;
  let reload;
  let from = 'model.onnx fetched';
  if (which === 'edgeserve') {
    const lean = params.get('embedded') === '1';
    const edgeserve = await loadEdgeserve(lean);
    const rt = edgeserveRuntime(edgeserve);
    const embedded = edgeserve.Model.names().includes(name);
    if (lean && !embedded) throw new Error(`${name} is not embedded in the lean build`);
    if (embedded) from = lean ? 'embedded package (lean build)' : 'embedded package';
    const load = async () =>
      embedded ? edgeserve.Model.load(name) : rt.load(await get(`${MODELS}/${name}/model.onnx`));
    let m = await load();
    run = () => rt.run(m, one);
    reload = async () => {
      rt.free(m);
      m = await load();
    };
  } else {
    const rt = await loadOrt(1);
    let session = await rt.load(await get(`${MODELS}/${name}/model.onnx`));
    run = () => rt.run(session, one);
    reload = async () => {
      await rt.free(session);
      session = await rt.load(await get(`${MODELS}/${name}/model.onnx`));
    };
  }
  await run();
  const firstMs = performance.now();
  for (let i = 0; i < 100; i++) await run();
  const memory = watch.take();
  const wasmMemoryBytes = memory.bytes();
  // Memory a freed model returns is reused by the next: a second load after free() grows
  // nothing.
  await reload();
  await run();
  Object.assign(document.body.dataset, {
    from,
    firstMs: String(firstMs),
    wasmMemoryBytes: String(wasmMemoryBytes),
    reloadedWasmMemoryBytes: String(memory.bytes()),
    done: '1',
  });
}

window.bench = async ({ models, smoke }) => {
  const threads = Number(params.get('threads') ?? 1);
  const edgeserve = await loadEdgeserve(false, threads);
  const runtimes = [
    { ...edgeserveRuntime(edgeserve), name: threads === 1 ? 'edgeserve' : `edgeserve (${threads} threads)` },
    await loadOrt(threads),
  ];
  // Where init() chose the relaxed-SIMD build, the +simd128 one runs beside it (1-thread page).
  if (edgeserve.wasmBuild() === 'relaxed' && threads === 1 && !smoke)
    runtimes.push({ ...edgeserveRuntime(await loadSimd128()), name: 'edgeserve simd128' });
  const results = {};
  const step = clockStep();
  for (const name of models) {
    const { meta, inputs } = await model(name);
    const bytes = await get(`${MODELS}/${name}/model.onnx`);
    const extra = [];
    if (threads === 1 && edgeserve.Model.names().includes(name)) {
      const golden = await get(`../models/${name}/golden.json`, 'json');
      const rt = edgeservePredictRuntime(edgeserve, name, Float32Array.from(golden.cases[0].input));
      extra.push({ runtime: rt, session: await rt.load() });
      const tract = edgeserveTractRuntime(edgeserve, bytes, batchOf(meta, inputs, 1));
      extra.push({ runtime: tract, session: await tract.load() });
    }
    results[name] = await measureModel({ runtimes, bytes, meta, inputs, smoke, extra, clockStepMs: step });
    extra.forEach(e => e.runtime.free(e.session));
  }
  return {
    results,
    build: { relaxed: 'relaxed-simd', threads: 'simd128+threads' }[edgeserve.wasmBuild()] ?? 'simd128',
    crossOriginIsolated,
    userAgent: navigator.userAgent,
    clockStepMs: step,
  };
};

/** The smallest step of performance.now() seen (5 us when cross-origin isolated). */
function clockStep() {
  let step = Infinity;
  for (let i = 0; i < 20; i++) {
    const a = performance.now();
    let b = a;
    while (b === a) b = performance.now();
    step = Math.min(step, b - a);
  }
  return step;
}

if (params.get('cold'))
  cold().catch(e => {
    document.body.dataset.error = e.message;
  });
else document.body.dataset.ready = '1';
