// One cold start in a fresh Node process: from the start of this script to the first prediction
// (import the runtime, compile its wasm, load the model, run it once), and the runtime's wasm
// memory after 100 more runs. Prints JSON. Run by bench/node.mjs, alternating runtimes.
//
//   node bench/cold.mjs <edgeserve|onnxruntime-web> <model dir> [embedded package name]
import { readFileSync } from 'node:fs';
import { batchOf, edgeserveRuntime, ortRuntime, watchWasmMemory } from './measure.mjs';

const start = performance.now();
const [which, dir, embedded] = process.argv.slice(2);
const watch = watchWasmMemory();
const meta = JSON.parse(readFileSync(`${dir}/meta.json`, 'utf8'));
const TYPES = { float32: Float32Array, int64: BigInt64Array };
const inputs = meta.inputs.map(i => {
  const b = readFileSync(`${dir}/${i.file}`);
  return new TYPES[i.dtype](b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
});
const one = batchOf(meta, inputs, 1);
let run;
if (which === 'edgeserve') {
  // An embedded package comes with the lean build (what a page that embeds its packages ships:
  // no ONNX parser, the graph in its rows form); a model.onnx needs the full build.
  const build = embedded ? '../pkg/lean/' : '../pkg/';
  const edgeserve = await import(`${build}index.js`);
  edgeserve.initSync({ module: readFileSync(new URL(`${build}edgeserve_bg.wasm`, import.meta.url)) });
  if (embedded) {
    // An embedded package: no model file to read; Model.load + run() on the same graph.
    const model = edgeserve.Model.load(embedded);
    run = () => edgeserveRuntime(edgeserve).run(model, one);
  } else {
    const rt = edgeserveRuntime(edgeserve);
    const model = await rt.load(readFileSync(`${dir}/model.onnx`));
    run = () => rt.run(model, one);
  }
} else {
  const ort = await import('onnxruntime-web');
  const rt = ortRuntime(ort, 1);
  const session = await rt.load(readFileSync(`${dir}/model.onnx`));
  run = () => rt.run(session, one);
}
await run();
const firstMs = performance.now() - start;
for (let i = 0; i < 100; i++) await run();
console.log(JSON.stringify({ firstMs, wasmMemoryBytes: watch.take().bytes(), rssBytes: process.memoryUsage().rss }));
