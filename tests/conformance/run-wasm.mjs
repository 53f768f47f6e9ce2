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

const ARRAYS = {
  float32: Float32Array,
  float64: Float64Array,
  int8: Int8Array,
  int16: Int16Array,
  int32: Int32Array,
  int64: BigInt64Array,
  uint8: Uint8Array,
  uint16: Uint16Array,
  uint32: Uint32Array,
  uint64: BigUint64Array,
  bool: Uint8Array,
};

function typedArray(dtype, bytes) {
  const Type = ARRAYS[dtype];
  if (!Type) throw new Error(`unknown dtype ${dtype}`);
  const copy = new Uint8Array(bytes).buffer; // aligned, owned
  return new Type(copy, 0, copy.byteLength / Type.BYTES_PER_ELEMENT);
}

function describe(err) {
  if (err instanceof WebAssembly.RuntimeError) return `trap: ${err.message}`;
  return err?.code ? `${err.code}: ${err.message}` : String(err?.message ?? err);
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
      sets.push(Object.entries(outputs).map(([name, t], i) => {
        const file = `set${k}.out${i}.bin`;
        writeFileSync(join(outDir, file), new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
        return { name, dtype: t.dtype, shape: t.shape, file };
      }));
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
console.log(`conformance (wasm in Node ${process.version}): ${ran} cases ran, ${failed} failed to load or run (${traps} traps)`);
