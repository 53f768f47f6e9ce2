// One cold start in a fresh Node process: from the start of this script to the first prediction
// (import the runtime, compile its wasm, load the model, run it once), the runtime's wasm
// memory after 100 more runs, and again after the model is freed, loaded a second time and run
// once (memory a freed model returns is reused: no growth). Prints JSON. Run by bench/node.mjs,
// alternating runtimes.
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
let reload;
if (which === 'edgeserve') {
  // An embedded package comes with the lean build (what a page that embeds its packages ships:
  // no ONNX parser, the graph in its rows form); a model.onnx needs the full build.
  const build = embedded ? '../pkg/lean/' : '../pkg/';
  const edgeserve = await import(`${build}index.js`);
  edgeserve.initSync({ module: readFileSync(new URL(`${build}edgeserve_bg.wasm`, import.meta.url)) });
  if (embedded) {
    // An embedded package: no model file to read; Model.load + run() on the same graph.
    let model = edgeserve.Model.load(embedded);
    run = () => edgeserveRuntime(edgeserve).run(model, one);
    reload = () => {
      model.free();
      model = edgeserve.Model.load(embedded);
    };
  } else {
    const rt = edgeserveRuntime(edgeserve);
    let model = await rt.load(readFileSync(`${dir}/model.onnx`));
    run = () => rt.run(model, one);
    reload = async () => {
      rt.free(model);
      model = await rt.load(readFileSync(`${dir}/model.onnx`));
    };
  }
} else {
  const ort = await import('onnxruntime-web');
  const rt = ortRuntime(ort, 1);
  let session = await rt.load(readFileSync(`${dir}/model.onnx`));
  run = () => rt.run(session, one);
  reload = async () => {
    await rt.free(session);
    session = await rt.load(readFileSync(`${dir}/model.onnx`));
  };
}
await run();
const firstMs = performance.now() - start;
for (let i = 0; i < 100; i++) await run();
const memory = watch.take();
const wasmMemoryBytes = memory.bytes();
await reload();
await run();
console.log(
  JSON.stringify({
    firstMs,
    wasmMemoryBytes,
    reloadedWasmMemoryBytes: memory.bytes(),
    rssBytes: process.memoryUsage().rss,
  }),
);
