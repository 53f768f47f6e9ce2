// The wasm side of edgeserve's ONNX conformance run: every case that prepare.py wrote goes through
// the built npm package (pkg/) in Node, exactly as a user would call it:
//   const model = await Model.fromBytes(bytes);            // no manifest: inferred from the graph
//   const out = model.run({ [name]: typedArray }, { shapes: { [name]: shape } });
// and the outputs are written for report.py, in the layout the native runner uses:
//   <dir>/out/wasm/<suite>/<case>/result.json and set<k>.out<i>.bin (raw little-endian bytes).
//
// A trap (a panic in wasm: a bug) leaves that instance unusable, so the runner then imports a
// fresh instance of the package's glue (another module URL) and goes on with the next case.
//
// Usage: node tests/conformance/run-wasm.mjs [dir]   (dir defaults to target/conformance)

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bytesOf, describe, typedArray } from '../common/raw.mjs';

const root = new URL('../../', import.meta.url);
const dir = process.argv[2] ?? 'target/conformance';
const wasm = new WebAssembly.Module(readFileSync(new URL('pkg/edgeserve_bg.wasm', root)));

let instances = 0;
async function freshPackage() {
  instances += 1;
  const mod = await import(`${new URL('pkg/edgeserve.js', root)}?instance=${instances}`);
  mod.initSync({ module: wasm });
  return mod;
}

async function runCase(edgeserve, caseDir, outDir, c) {
  let model;
  try {
    model = await edgeserve.Model.fromBytes(readFileSync(c.model));
  } catch (err) {
    return { status: 'error', stage: 'load', error: describe(err), trap: err instanceof WebAssembly.RuntimeError };
  }
  try {
    const sets = [];
    for (const [k, set] of c.sets.entries()) {
      const inputs = {};
      const shapes = {};
      for (const input of set.inputs) {
        inputs[input.name] = typedArray(input.dtype, readFileSync(join(caseDir, input.file)));
        shapes[input.name] = input.shape;
      }
      let outputs;
      try {
        outputs = model.run(inputs, { shapes });
      } catch (err) {
        return { status: 'error', stage: 'run', error: describe(err), trap: err instanceof WebAssembly.RuntimeError };
      }
      sets.push(
        Object.entries(outputs).map(([name, t], i) => {
          const file = `set${k}.out${i}.bin`;
          writeFileSync(join(outDir, file), bytesOf(t.data));
          return { name, dtype: t.dtype, shape: t.shape, file };
        }),
      );
    }
    return { status: 'ran', sets };
  } finally {
    try {
      model.free();
    } catch {
      // a trapped instance is replaced below
    }
  }
}

const index = JSON.parse(readFileSync(join(dir, 'cases.json'), 'utf8'));
let edgeserve = await freshPackage();
let ran = 0;
let failed = 0;
let traps = 0;
for (const id of index.cases) {
  const caseDir = join(dir, 'cases', id);
  const c = JSON.parse(readFileSync(join(caseDir, 'case.json'), 'utf8'));
  const outDir = join(dir, 'out', 'wasm', id);
  mkdirSync(outDir, { recursive: true });
  let result;
  if (c.skip) {
    result = { status: 'skipped', stage: 'input', error: c.skip };
  } else {
    result = await runCase(edgeserve, caseDir, outDir, c);
    if (result.status === 'ran') ran += 1;
    else failed += 1;
    if (result.trap) {
      traps += 1;
      edgeserve = await freshPackage();
    }
  }
  writeFileSync(join(outDir, 'result.json'), JSON.stringify(result, null, 1));
}
console.log(
  `conformance (wasm in Node ${process.version}): ${ran} cases ran, ${failed} failed to load or run (${traps} traps)`,
);
