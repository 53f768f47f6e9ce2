// The lean build (pkg/lean/, `edgeserve/lean`): the embedded packages in their rows form (the
// digits packages are row programs, so this build has no tract) predict what onnxruntime
// recorded, every serving mode works, and ONNX given at run time is refused with a clear error
// (it has no ONNX parser), after which the module still predicts.
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { test } from 'node:test';
import { edgeserve, golden, maxAbsDiff, pkgDir, root, TOLERANCE } from './helpers.mjs';

const lean = await edgeserve({ lean: true });

test('lean: the embedded packages match onnxruntime (golden outputs)', () => {
  assert.deepEqual([...lean.Model.names()].sort(), ['digits-accurate', 'digits-fast']);
  for (const name of ['digits-accurate', 'digits-fast']) {
    const model = lean.Model.load(name);
    assert.equal(model.manifest.rows.format, 1);
    assert.equal(model.engine, 'rows');
    const g = golden(name);
    for (const [i, c] of g.cases.entries()) {
      const p = model.predict(Float32Array.from(c.input));
      assert.equal(p.label, c.expected.label, `${name} case ${i}`);
      assert.ok(maxAbsDiff(p.scores, c.expected.scores) <= TOLERANCE, `${name} case ${i}: scores`);
    }
    model.free();
  }
});

test('lean: batch, CSV and the default model work', async () => {
  const model = lean.Model.default();
  assert.equal(model.name, 'digits-accurate');
  const csv = readFileSync(`${root}www/data/digits-test.csv`, 'utf8');
  const res = await model.predictCsv(csv, { labelColumn: 'label' });
  assert.equal(res.labels.length, 450);
  assert.ok(
    Math.abs(res.accuracy - model.manifest.metrics.accuracy) < 1e-6,
    `accuracy ${res.accuracy} (manifest: 6 digits)`,
  );
  model.free();
});

test('lean: ONNX at run time is refused with MODEL_LOAD, naming the full build', async () => {
  const onnx = readFileSync(`${root}models/digits-fast/model.onnx`);
  await assert.rejects(
    () => lean.Model.fromBytes(onnx),
    e => {
      assert.ok(e instanceof Error);
      assert.equal(e.code, 'MODEL_LOAD');
      assert.match(e.message, /lean build, which has no ONNX parser: expected a package embedded at build time/);
      assert.match(e.message, /import 'edgeserve'/);
      return true;
    },
  );
  // fromUrl refuses before it fetches (nothing listens on port 9: a fetch would fail otherwise).
  await assert.rejects(
    () => lean.Model.fromUrl('http://127.0.0.1:9/model.onnx'),
    e => e.code === 'MODEL_LOAD' && /lean build, which has no ONNX parser/.test(e.message),
  );
  const model = lean.Model.load('digits-fast');
  const c = golden('digits-fast').cases[0];
  assert.equal(model.predict(Float32Array.from(c.input)).label, c.expected.label);
  model.free();
});

test("lean: no tract here, so tract's plans are refused with BAD_INPUT and the row program goes on", () => {
  const model = lean.Model.load('digits-fast');
  assert.throws(
    () => model.useEngine('tract'),
    e => {
      assert.equal(e.code, 'BAD_INPUT');
      assert.match(e.message, /no tract/);
      return true;
    },
  );
  model.useEngine('rows');
  assert.equal(model.engine, 'rows');
  const c = golden('digits-fast').cases[1];
  assert.equal(model.predict(Float32Array.from(c.input)).label, c.expected.label);
  model.free();
});

test('lean: its wasm is the smaller one (figures in bench/results/latest.md)', () => {
  const full = statSync(`${pkgDir}edgeserve_bg.wasm`).size;
  const small = statSync(`${pkgDir}lean/edgeserve_bg.wasm`).size;
  console.log(`wasm: full ${full} bytes, lean ${small} bytes`);
  assert.ok(small < full, `lean ${small} bytes, full ${full}`);
});
