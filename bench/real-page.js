// The real-model suite timed in the browser (driven by bench/real-browser.mjs through
// Playwright): window.measureReal(dir, ids) loads each model that tests/real/prepare.py wrote
// under `dir` (a path below the served root) into edgeserve (the full build, with the wasm its
// init() picks) and onnxruntime-web (wasm, one thread), one after the other in this page, with
// tests/real/measure.mjs, and returns the timings (the outputs are compared in Node).
import { describe, typedArray } from '../tests/common/raw.mjs';
import { measureEdgeserve, measureOrt } from '../tests/real/measure.mjs';

const ORT = '../node_modules/onnxruntime-web/dist/';

async function get(url, as) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return as === 'json' ? res.json() : new Uint8Array(await res.arrayBuffer());
}

window.measureReal = async (dir, ids) => {
  const edgeserve = await import('../pkg/index.js');
  await edgeserve.default();
  const ort = await import(`${ORT}ort.wasm.min.mjs`);
  ort.env.wasm.wasmPaths = new URL(ORT, location.href).href;
  ort.env.wasm.numThreads = 1;
  ort.env.logLevel = 'error';
  const results = {};
  for (const id of ids) {
    const base = `../${dir}/models/${id}`;
    const c = await get(`${base}/case.json`, 'json');
    const bytes = await get(`${base}/model.onnx`);
    const inputs = {};
    const shapes = {};
    for (const input of c.inputs) {
      inputs[input.name] = typedArray(input.dtype, await get(`${base}/${input.file}`));
      shapes[input.name] = input.shape;
    }
    const result = {};
    try {
      const e = await measureEdgeserve(edgeserve.Model, bytes, inputs, shapes);
      Object.assign(result, {
        status: 'ran',
        load_ms: e.load_ms,
        first_ms: e.first_ms,
        p50_ms: e.p50_ms,
        runs: e.runs,
      });
      e.session.free();
    } catch (err) {
      Object.assign(result, { status: 'error', error: describe(err) });
    }
    try {
      const o = await measureOrt(ort, bytes, c, inputs);
      Object.assign(result, {
        ort_load_ms: o.load_ms,
        ort_first_ms: o.first_ms,
        ort_p50_ms: o.p50_ms,
        ort_runs: o.runs,
      });
      await o.session.release();
    } catch (err) {
      result.ort_error = describe(err);
    }
    results[id] = result;
  }
  return results;
};
document.body.dataset.ready = '1';
