// The wasm side of edgeserve's real-model suite: every model that prepare.py wrote goes through
// the built npm package (pkg/) in Node as a user's would, and through onnxruntime-web (wasm
// backend, one thread, SIMD) in the same process, each timed:
//   const model = await Model.fromBytes(bytes);               // no manifest: inferred
//   const out = model.run({ [name]: typedArray }, { shapes });
// Writes <dir>/out/wasm/<id>/result.json ({ status, load_ms, first_ms, p50_ms, runs, engine,
// ort_load_ms, ort_first_ms, ort_p50_ms, outputs }) and the outputs' raw little-endian bytes
// (out<i>.bin: edgeserve's, in the reference's order; ort<i>.bin: onnxruntime-web's), for
// report.py. A trap (a bug) leaves that instance unusable: the runner then imports a fresh one.
//
// Usage: node tests/real/run-wasm.mjs [dir] [--runs N] [--no-ort]
//   (dir defaults to target/real-models; --no-ort skips onnxruntime-web, as make test does)

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bytesOf, describe, typedArray } from '../common/raw.mjs';
import { measureEdgeserve, measureOrt } from './measure.mjs';

const root = new URL('../../', import.meta.url);
const args = process.argv.slice(2);
const flag = name => args.includes(name);
const option = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const dir = args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--runs') ?? 'target/real-models';
const maxRuns = Number(option('--runs', 20));
const wasm = new WebAssembly.Module(readFileSync(new URL('pkg/edgeserve_bg.wasm', root)));

let instances = 0;
async function freshPackage() {
  instances += 1;
  const mod = await import(`${new URL('pkg/index.js', root)}?instance=${instances}`);
  mod.initSync({ module: wasm });
  return mod;
}

let ort = null;
if (!flag('--no-ort')) {
  ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.simd = true;
  ort.env.logLevel = 'error'; // its warnings about the models' declared shapes are not ours to print
}

async function runCase(edgeserve, caseDir, outDir, c) {
  const bytes = readFileSync(c.model);
  const inputs = {};
  const shapes = {};
  for (const input of c.inputs) {
    inputs[input.name] = typedArray(input.dtype, readFileSync(join(caseDir, input.file)));
    shapes[input.name] = input.shape;
  }
  let measured;
  try {
    measured = await measureEdgeserve(edgeserve.Model, bytes, inputs, shapes, { maxRuns });
  } catch (err) {
    return {
      status: 'error',
      stage: 'load or run',
      error: describe(err),
      trap: err instanceof WebAssembly.RuntimeError,
    };
  }
  const { session: model, outputs, ...timing } = measured;
  const result = { status: 'ran', ...timing, engine: model.engineDetails, outputs: [] };
  model.free();
  for (const [i, ref] of c.outputs.entries()) {
    const t = outputs[ref.name];
    if (!t) return { status: 'error', stage: 'run', error: `no output named ${ref.name}` };
    writeFileSync(join(outDir, `out${i}.bin`), bytesOf(t.data));
    result.outputs.push({ name: ref.name, dtype: t.dtype, shape: t.shape, file: `out${i}.bin` });
  }
  if (ort) {
    try {
      const o = await measureOrt(ort, bytes, c, inputs, { maxRuns });
      Object.assign(result, {
        ort_load_ms: o.load_ms,
        ort_first_ms: o.first_ms,
        ort_p50_ms: o.p50_ms,
        ort_runs: o.runs,
      });
      for (const [i, ref] of c.outputs.entries())
        writeFileSync(join(outDir, `ort${i}.bin`), bytesOf(o.outputs[ref.name].data));
      await o.session.release();
    } catch (err) {
      result.ort_error = describe(err);
    }
  }
  return result;
}

const index = JSON.parse(readFileSync(join(dir, 'cases.json'), 'utf8'));
let edgeserve = await freshPackage();
let ran = 0;
let failed = 0;
for (const id of index.cases) {
  const caseDir = join(dir, 'models', id);
  const c = JSON.parse(readFileSync(join(caseDir, 'case.json'), 'utf8'));
  const outDir = join(dir, 'out', 'wasm', id);
  mkdirSync(outDir, { recursive: true });
  const result = await runCase(edgeserve, caseDir, outDir, c);
  if (result.status === 'ran') {
    ran += 1;
    const ortPart = result.ort_p50_ms ? `, onnxruntime-web p50 ${result.ort_p50_ms.toFixed(3)} ms` : '';
    console.log(`${id}: ran, load ${result.load_ms.toFixed(1)} ms, p50 ${result.p50_ms.toFixed(3)} ms${ortPart}`);
  } else {
    failed += 1;
    console.log(`${id}: ${result.stage} failed: ${result.error.slice(0, 400)}`);
  }
  if (result.trap) edgeserve = await freshPackage();
  writeFileSync(join(outDir, 'result.json'), JSON.stringify(result, null, 1));
}
console.log(`real models (wasm in Node ${process.version}): ${ran} ran, ${failed} failed to load or run`);
