// The text benchmark's page (driven by bench/text-browser.mjs through Playwright; the repository
// served cross-origin isolated): edgeserve's embed() (the npm package's full build: tokenizer,
// model, pooling and normalisation in its wasm) against Transformers.js's feature-extraction
// pipeline (its web build on onnxruntime-web, wasm, one thread; local files only), on the same
// model files (target/bench-text, laid out by bench/text-browser.mjs from `make models-text`),
// the same texts, alternating call by call.
//   window.loadBoth(model)          loads both; returns the cosine of their vectors on a text
//   window.measure(model, plan)     the timings of plan = { short, long, batch, rounds }
//   window.coldStart(which, model)  in a fresh page: ms from navigation to the first vector
import { cosine } from '../tests/common/raw.mjs';

const TRANSFORMERS = './text/node_modules/@huggingface/transformers/dist/transformers.web.js';
const ORT = './text/node_modules/onnxruntime-web/dist/';
const MODELS = '../target/bench-text/models/';

let edgeserve = null;
let extractor = null;

async function get(url, as) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return as === 'json' ? res.json() : new Uint8Array(await res.arrayBuffer());
}

async function loadEdgeserve(name) {
  const { default: init, Model } = await import('../pkg/index.js');
  await init();
  const base = `${MODELS}${name}/`;
  const [onnx, manifest, tokenizer] = await Promise.all([
    get(`${base}onnx/model.onnx`),
    get(`${base}edgeserve.json`, 'json'),
    get(`${base}tokenizer.json`),
  ]);
  return Model.fromBytes(onnx, manifest, { tokenizer });
}

async function loadTransformers(name) {
  const { pipeline, env } = await import(TRANSFORMERS);
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  // A path, not a URL: Transformers.js looks for local files only under a path.
  env.localModelPath = new URL(MODELS, location.href).pathname;
  env.useBrowserCache = false;
  env.backends.onnx.wasm.wasmPaths = new URL(ORT, location.href).href;
  env.backends.onnx.wasm.numThreads = 1;
  env.backends.onnx.logLevel = 'error';
  return pipeline('feature-extraction', name, { device: 'wasm', dtype: 'fp32' });
}

const vectorsOf = t => t.data;

window.loadBoth = async name => {
  edgeserve?.free();
  edgeserve = await loadEdgeserve(name);
  extractor = await loadTransformers(name);
  const text = 'A man is playing a guitar on the street.';
  const a = edgeserve.embed(text).data;
  const b = vectorsOf(await extractor(text, { pooling: 'mean', normalize: true }));
  // Steady state before any measurement: both modules' hot code optimized (see warm).
  await warm(() => edgeserve.embed(text), 4000);
  await warm(() => extractor(text, { pooling: 'mean', normalize: true }), 4000);
  const ids = Array.from(edgeserve.tokenize(text).ids);
  const theirs = Array.from((await extractor.tokenizer(text)).input_ids.data, Number);
  return { cosine: cosine(a, b), sameIds: JSON.stringify(ids) === JSON.stringify(theirs), tokens: ids.length };
};

const median = xs => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/**
 * Calls `fn` for at least `ms` milliseconds and 3 times. V8 compiles a wasm module in tiers: a
 * function runs its baseline code until the optimizing compiler, in the background, is done
 * with it, which takes seconds for a module the size of edgeserve's or onnxruntime's. Measuring
 * before that would time the compiler, not the runtime.
 */
async function warm(fn, ms) {
  const until = performance.now() + ms;
  for (let n = 0; n < 3 || performance.now() < until; n++) await fn();
}

/** Times `ours` and `theirs` alternately, `rounds` times each (after a warm-up of each). */
async function alternate(ours, theirs, rounds) {
  await warm(ours, 1000);
  await warm(theirs, 1000);
  const a = [];
  const b = [];
  for (let i = 0; i < rounds; i++) {
    let t = performance.now();
    await ours();
    a.push(performance.now() - t);
    t = performance.now();
    await theirs();
    b.push(performance.now() - t);
  }
  return { edgeserve_p50_ms: median(a), transformers_p50_ms: median(b), ratio: median(a) / median(b), rounds };
}

window.measure = async (name, { short, long, batch, rounds }) => {
  const options = { pooling: 'mean', normalize: true };
  const tokens = t => edgeserve.tokenize(t).ids.length;
  const out = { model: name };
  out.short = {
    tokens: tokens(short),
    ...(await alternate(
      () => edgeserve.embed(short),
      () => extractor(short, options),
      rounds,
    )),
  };
  out.long = {
    tokens: tokens(long),
    ...(await alternate(
      () => edgeserve.embed(long),
      () => extractor(long, options),
      rounds,
    )),
  };
  out.tokenize = {
    tokens: tokens(long),
    ...(await alternate(
      () => edgeserve.tokenize(long),
      () => extractor.tokenizer(long),
      rounds * 5,
    )),
  };
  const b = await alternate(
    () => edgeserve.embed(batch),
    () => extractor(batch, options),
    Math.max(3, rounds >> 2),
  );
  out.batch = {
    texts: batch.length,
    ...b,
    edgeserve_texts_per_s: batch.length / (b.edgeserve_p50_ms / 1000),
    transformers_texts_per_s: batch.length / (b.transformers_p50_ms / 1000),
    throughput_ratio: b.transformers_p50_ms / b.edgeserve_p50_ms,
  };
  return out;
};

/** In a fresh page: loads one of the two and embeds one text; ms from the navigation's start. */
window.coldStart = async (which, name) => {
  const text = 'A man is playing a guitar on the street.';
  if (which === 'edgeserve') {
    const model = await loadEdgeserve(name);
    model.embed(text);
  } else if (which === 'edgeserve-lean') {
    // The lean build with the model compiled in (make text-lean), relaxed SIMD as the full
    // build's init() picks it here.
    const { default: init, Model } = await import('../target/text-bytes/lean-relaxed/edgeserve.js');
    await init();
    Model.load(name).embed(text);
  } else {
    const pipe = await loadTransformers(name);
    await pipe(text, { pooling: 'mean', normalize: true });
  }
  return performance.now();
};

document.body.dataset.ready = '1';
