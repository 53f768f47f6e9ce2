// Models brought at run time, through the built package in Node: fromBytes (with and without a
// manifest), fromUrl from a local server (progress, sha256), and run() on several dtypes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { edgeserve, golden, root } from './helpers.mjs';

const { Model } = await edgeserve();
const onnx = readFileSync(`${root}models/digits-fast/model.onnx`);
const manifest = JSON.parse(readFileSync(`${root}models/digits-fast/manifest.json`, 'utf8'));
const expected = JSON.parse(readFileSync(`${root}tests/fixtures/onnx/multi_io.json`, 'utf8'));
let server, base;

before(async () => {
  server = createServer((req, res) => {
    if (req.url.startsWith('/model.onnx')) {
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': onnx.length });
      res.end(onnx);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise(ok => server.listen(0, '127.0.0.1', ok));
  base = `http://127.0.0.1:${server.address().port}`;
});
after(() => server.close());

test('fromBytes with the manifest predicts as the package does; without it, run() and an inferred manifest', async () => {
  const { cases } = golden('digits-fast');
  for (const bytes of [new Uint8Array(onnx), onnx.buffer.slice(onnx.byteOffset, onnx.byteOffset + onnx.length)]) {
    const m = await Model.fromBytes(bytes, manifest);
    assert.equal(m.predict(cases[0].input).label, cases[0].expected.label);
  }
  const bare = await Model.fromBytes(new Uint8Array(onnx));
  assert.equal(bare.manifest.task, 'classification');
  assert.equal(bare.manifest.sha256, manifest.sha256, 'the bytes hashed (by WebCrypto where there is one)');
  assert.deepEqual(bare.manifest.labels, manifest.labels);
  const out = bare.run({ X: Float32Array.from(cases[0].input, v => v / 16) });
  assert.equal(out.label.dtype, 'int64');
  assert.deepEqual(out.label.shape, [1]);
  assert.equal(out.label.data[0], BigInt(cases[0].expected.index));
  assert.deepEqual(out.probabilities.shape, [1, 10]);
  await assert.rejects(
    Model.fromBytes('model.onnx'),
    e => e.code === 'BAD_INPUT' && /expected a Uint8Array or an ArrayBuffer, got a string/.test(e.message),
  );
  await assert.rejects(
    Model.fromBytes(new Uint8Array(onnx), { ...manifest, sha256: '0'.repeat(64) }),
    e => e.code === 'INTEGRITY',
  );
});

test('run() with several inputs and outputs of several dtypes, shapes from the graph or given', async () => {
  const m = await Model.fromBytes(readFileSync(`${root}tests/fixtures/onnx/multi_io.onnx`));
  const a = Float32Array.from(expected.inputs.a.data);
  const b = BigInt64Array.from(expected.inputs.b.data.map(BigInt));
  for (const options of [undefined, { shapes: { a: [2, 3], b: [2] } }]) {
    const out = m.run({ a, b }, options);
    assert.deepEqual(Object.keys(out), ['sum', 'mask', 'count']);
    assert.deepEqual(Array.from(out.sum.data), expected.outputs.sum.data);
    assert.ok(out.mask.data instanceof Uint8Array);
    assert.deepEqual(Array.from(out.mask.data, Boolean), expected.outputs.mask.data);
    assert.deepEqual(Array.from(out.count.data, Number), expected.outputs.count.data);
    assert.deepEqual(out.sum.shape, [2, 3]);
  }
  assert.throws(
    () => m.run({ a }),
    e => e.code === 'BAD_INPUT' && e.message.startsWith('input "b" is missing'),
  );
  assert.throws(
    () => m.run({ a, b: new Int32Array(2) }),
    /input "b" has the wrong element type: expected int64 values \(BigInt64Array\), got Int32Array\(2\)/,
  );
  assert.throws(() => m.run({ a: new Float32Array(4), b }), /input "a" needs a shape|input "a" has the wrong shape/);
  assert.throws(() => m.run([a, b]), /run\(\) inputs are not an object/);
  assert.throws(() => m.predict(new Float32Array(3)), /has no task/);
});

// Batch sizes in turn: enough batches of 2 and single rows for the engine to measure both and
// then run batches of 2 as it chose (src/engine/batches.rs).
const BATCHES = [2, 1, 2, 2, 1, 2, 2, 2];

test("max pools match onnxruntime: windows that tile the image (edgeserve's SIMD pool) and overlapping ones", async () => {
  const e = JSON.parse(readFileSync(`${root}tests/fixtures/onnx/pools.json`, 'utf8'));
  const bytes = readFileSync(`${root}tests/fixtures/onnx/pools.onnx`);
  const m = await Model.fromBytes(bytes);
  assert.equal(m.sizeBytes, bytes.length, 'the size of the bytes, dropped once loaded');
  assert.equal(m.engineDetails.rowsIndependent, true, 'pools keep the rows of a batch apart');
  const [, ...image] = e.inputs.x.shape;
  // Batches of 2 run whole, then (single rows measured) whole or row by row, whichever cost less
  // per row: the same outputs either way.
  for (const batch of BATCHES) {
    const x = Float32Array.from(e.inputs.x.data.slice(0, (e.inputs.x.data.length / 2) * batch));
    const out = m.run({ x }, { shapes: { x: [batch, ...image] } });
    assert.deepEqual(Object.keys(out), ['p2', 'p3', 'p2s1']);
    for (const [name, want] of Object.entries(e.outputs)) {
      assert.deepEqual(out[name].shape, [batch, ...want.shape.slice(1)], name);
      assert.deepEqual(
        Array.from(out[name].data),
        want.data.slice(0, (want.data.length / 2) * batch),
        `${name} at batch ${batch}: a max is exact`,
      );
    }
  }
});

test('fromUrl fetches with progress and checks the sha256', async () => {
  const progress = [];
  const m = await Model.fromUrl(`${base}/model.onnx`, {
    sha256: manifest.sha256,
    manifest,
    onProgress: p => progress.push(p),
  });
  const { cases } = golden('digits-fast');
  assert.equal(m.predict(cases[1].input).label, cases[1].expected.label);
  assert.ok(progress.length >= 1);
  assert.deepEqual(progress.at(-1), { loaded: onnx.length, total: onnx.length });
  await assert.rejects(
    Model.fromUrl(`${base}/model.onnx`, { sha256: 'ab'.repeat(32) }),
    e => e.code === 'INTEGRITY' && e.message.includes(manifest.sha256),
  );
  await assert.rejects(
    Model.fromUrl(`${base}/missing.onnx`),
    e => e.code === 'MODEL_LOAD' && /expected HTTP 200, got HTTP 404/.test(e.message),
  );
  await assert.rejects(Model.fromUrl(`${base}/model.onnx`, { sha256: 'xyz' }), /sha256 is not a sha256/);
});

for (const [fixture, what] of [
  ['convs', "convolutions and a dense layer match onnxruntime (edgeserve's matrix-multiply kernels in wasm)"],
  ['small_convs', "convolutions of few input or output channels match onnxruntime (edgeserve's direct convolution)"],
]) {
  test(what, async () => {
    // tests/fixtures/onnx/convs.onnx: sizes no kernel tile divides, with bias, Relu, Clip and a
    // residual add fused into the products; small_convs.onnx: a small CNN's first and second
    // layers, which src/engine/specialize/conv.rs takes. Run on this build (simd128, or the
    // relaxed-SIMD twin whose kernels fuse multiply-adds). onnxruntime's outputs recorded by
    // training/fixtures.py.
    const e = JSON.parse(readFileSync(`${root}tests/fixtures/onnx/${fixture}.json`, 'utf8'));
    const m = await Model.fromBytes(readFileSync(`${root}tests/fixtures/onnx/${fixture}.onnx`));
    assert.equal(m.engineDetails.rowsIndependent, true);
    const x = Float32Array.from(e.inputs.x.data);
    for (const batch of BATCHES) {
      const out = m.run(
        { x: x.subarray(0, (x.length / 2) * batch) },
        { shapes: { x: [batch, ...e.inputs.x.shape.slice(1)] } },
      );
      assert.deepEqual(Object.keys(out).sort(), Object.keys(e.outputs).sort());
      for (const [name, want] of Object.entries(e.outputs)) {
        const expected = want.data.slice(0, (want.data.length / 2) * batch);
        assert.equal(out[name].data.length, expected.length, name);
        let worst = 0;
        out[name].data.forEach((g, i) => {
          worst = Math.max(worst, Math.abs(g - expected[i]) / (1 + Math.abs(expected[i])));
        });
        assert.ok(worst <= 1e-4, `${name} at batch ${batch}: off by ${worst} (relative)`);
      }
    }
  });
}

test('Gather and GatherElements at run-time indices match onnxruntime; an index outside the data is an error, not a trap', async () => {
  const e = JSON.parse(readFileSync(`${root}tests/fixtures/onnx/indices.json`, 'utf8'));
  const m = await Model.fromBytes(readFileSync(`${root}tests/fixtures/onnx/indices.onnx`));
  const inputs = (edit = () => {}) => {
    const ids = BigInt64Array.from(e.inputs.ids.data.map(BigInt));
    const j = BigInt64Array.from(e.inputs.j.data.map(BigInt));
    edit({ ids, j });
    return { ids, x: Float32Array.from(e.inputs.x.data), j };
  };
  const matches = () => {
    const out = m.run(inputs());
    assert.deepEqual(Array.from(out.embedded.data), e.outputs.embedded.data);
    assert.deepEqual(Array.from(out.picked.data), e.outputs.picked.data);
  };
  matches();
  const bad = [
    [t => (t.ids[1] = 6n), /Gather "embed": expected indices within -6\.\.6 \(the data's size on axis 0\), got 6/],
    [
      t => (t.j[5] = -4n),
      /GatherElements "pick": expected indices within -3\.\.3 \(the data's size on axis 1\), got -4/,
    ],
  ];
  for (const [edit, message] of bad) {
    assert.throws(
      () => m.run(inputs(edit)),
      err => err.code === 'INFERENCE' && message.test(err.message),
    );
    matches();
  }
  m.free();
});

test('fromBytes takes the bytes as they are at the call: changing the buffer afterwards changes nothing', async () => {
  const { cases } = golden('digits-fast');
  const bytes = new Uint8Array(onnx);
  const pending = Model.fromBytes(bytes, manifest); // the manifest's sha256 is checked
  bytes.fill(0);
  const m = await pending;
  assert.equal(m.manifest.sha256, manifest.sha256);
  assert.equal(m.predict(cases[0].input).label, cases[0].expected.label);
  m.free();
});
