// The benchmark in Node: edgeserve (pkg/) against onnxruntime-web (wasm backend, SIMD, one
// thread) on every model of `make bench-models`, side by side in one process, alternating A/B.
// Cold starts and memory come from fresh processes (bench/cold.mjs), alternating too. Writes
// JSON (default bench/results/node.json); prints figures; asserts nothing about speed.
//
//   node bench/node.mjs [--smoke] [--models target/bench-models] [--out bench/results/node.json]
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  batchOf,
  edgeserveRuntime,
  edgeservePredictRuntime,
  edgeserveTractRuntime,
  measureModel,
  ortRuntime,
} from './measure.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const smoke = process.argv.includes('--smoke');
const root = fileURLToPath(new URL('../', import.meta.url));
const modelsDir = arg('--models', `${root}target/bench-models`);
const out = arg('--out', `${root}bench/results/${smoke ? 'node-smoke' : 'node'}.json`);
const only = arg('--only', null)?.split(',');

const edgeserve = await import('../pkg/index.js');
edgeserve.initSync({ module: readFileSync(`${root}pkg/edgeserve_bg.wasm`) });
const ort = await import('onnxruntime-web');
const runtimes = [edgeserveRuntime(edgeserve), ortRuntime(ort, 1)];
const TYPES = { float32: Float32Array, int64: BigInt64Array };

const index = JSON.parse(readFileSync(`${modelsDir}/index.json`, 'utf8'));
const names = (only ?? index.models.map(m => m.name ?? m)).filter(
  n => !smoke || ['digits-accurate', 'cnn-small'].includes(n),
);
const results = {};
for (const name of names) {
  const dir = `${modelsDir}/${name}`;
  const meta = JSON.parse(readFileSync(`${dir}/meta.json`, 'utf8'));
  const inputs = meta.inputs.map(i => {
    const b = readFileSync(`${dir}/${i.file}`);
    return new TYPES[i.dtype](b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  });
  const bytes = readFileSync(`${dir}/model.onnx`);
  const extra = [];
  const embedded = edgeserve.Model.names().includes(name) ? name : null;
  if (embedded) {
    // The digits packages: also edgeserve's own path, predict() on a raw row (unscaled).
    const golden = JSON.parse(readFileSync(`${root}models/${name}/golden.json`, 'utf8'));
    const rt = edgeservePredictRuntime(edgeserve, name, Float32Array.from(golden.cases[0].input));
    extra.push({ runtime: rt, session: await rt.load() });
    const tract = edgeserveTractRuntime(edgeserve, bytes, batchOf(meta, inputs, 1));
    extra.push({ runtime: tract, session: await tract.load() });
  }
  const measured = await measureModel({ runtimes, bytes, meta, inputs, smoke, extra });
  extra.forEach(e => e.runtime.free(e.session));

  // Cold starts and memory: fresh processes, alternating.
  const cold = { edgeserve: [], 'onnxruntime-web': [] };
  for (let r = 0; r < (smoke ? 1 : 5); r++) {
    for (const which of Object.keys(cold)) {
      const args = [`${root}bench/cold.mjs`, which, dir, ...(which === 'edgeserve' && embedded ? [embedded] : [])];
      cold[which].push(JSON.parse(execFileSync(process.execPath, args, { encoding: 'utf8' })));
    }
  }
  for (const [which, runs] of Object.entries(cold)) {
    const sorted = runs.map(r => r.firstMs).sort((a, b) => a - b);
    measured[which].coldStartMs = sorted[sorted.length >> 1];
    measured[which].coldStartRuns = sorted;
    measured[which].coldStartFrom =
      which === 'edgeserve' && embedded ? 'embedded package (lean build)' : 'model.onnx bytes';
    measured[which].wasmMemoryBytes = runs[0].wasmMemoryBytes;
    measured[which].reloadedWasmMemoryBytes = runs[0].reloadedWasmMemoryBytes;
  }
  results[name] = {
    meta: { params: meta.params, flops: meta.flops, bytes: meta.bytes, input: meta.inputs[0].shape },
    runtimes: measured,
  };
  const e = measured.edgeserve;
  const o = measured['onnxruntime-web'];
  console.log(
    `${name}: p50 ${e.latencyMs.p50.toFixed(4)} vs ${o.latencyMs.p50.toFixed(4)} ms (x${(e.latencyMs.p50 / o.latencyMs.p50).toFixed(2)}), p99 ${e.latencyMs.p99.toFixed(4)} vs ${o.latencyMs.p99.toFixed(4)} ms, cold ${e.coldStartMs.toFixed(1)} vs ${o.coldStartMs.toFixed(1)} ms, memory ${e.wasmMemoryBytes} vs ${o.wasmMemoryBytes} B`,
  );
}

const environment = {
  runtime: `Node ${process.version}`,
  edgeserve: JSON.parse(readFileSync(`${root}pkg/package.json`, 'utf8')).version,
  onnxruntimeWeb:
    ort.env.versions?.web ??
    JSON.parse(readFileSync(`${root}node_modules/onnxruntime-web/package.json`, 'utf8')).version,
  threads: 1,
  smoke,
};
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify({ environment, models: results }, null, 1)}\n`);
console.log(`wrote ${out}`);
