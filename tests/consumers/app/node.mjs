// The consumer in Node (ESM): both builds of the installed `edgeserve` package, started with
// initSync on the wasm build this host runs (`wasmUrl()`: the relaxed-SIMD one under
// --experimental-wasm-relaxed-simd), a model loaded at run time from its bytes. Prints the
// results as JSON, one line per build.
import { readFileSync } from 'node:fs';
import * as full from 'edgeserve';
import * as lean from 'edgeserve/lean';
import { check } from './checks.js';

const served = new URL('../', import.meta.url); // the test's directory: models/ beside app/
const json = path => JSON.parse(readFileSync(new URL(`.${path}`, served), 'utf8'));
const inNode = {
  start: edgeserve => edgeserve.initSync({ module: readFileSync(edgeserve.wasmUrl()) }),
  json: async path => json(path),
  // Model.load reads node_modules/edgeserve/models/ by itself.
  loadOptions: () => undefined,
  // The manifest names the model's sha256: fromBytes checks it.
  load: (Model, dir) =>
    Model.fromBytes(readFileSync(new URL(`.${dir}/model.onnx`, served)), json(`${dir}/manifest.json`)),
};

for (const [edgeserve, build] of [
  [full, 'full'],
  [lean, 'lean'],
]) {
  const result = await check(edgeserve, build, inNode);
  result.wasm = [edgeserve.wasmUrl().pathname];
  console.log(JSON.stringify(result));
}
