// The text packages the npm package ships beside its wasm (pkg/models/, from `make models-text`),
// loaded by name in Node: Model.names() lists them, `await Model.load('minilm-int8')` reads their
// files (file: URLs next to the package), checks them against the sha256 the wasm holds, and the
// model matches onnxruntime's vectors. Then what goes wrong on the way (a file missing, bytes that
// were changed, bad options), each a coded error that leaves the models serving; and
// ModelSet.choose between the float and the int8 twin, benchmarked here on text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { edgeserve, pkgDir, rejection, root } from './helpers.mjs';
import { cosine } from '../common/raw.mjs';

const { Model, ModelSet } = await edgeserve();
const lean = await edgeserve({ lean: true });
const made = process.env.EDGESERVE_TEXT_MODELS ?? `${root}target/models-text`;
const SHIPPED = ['minilm', 'minilm-int8'];
const sha256 = file => createHash('sha256').update(readFileSync(file)).digest('hex');

test('the npm package ships the text packages beside the full build, and lists them', () => {
  const manifest = JSON.parse(readFileSync(`${pkgDir}package.json`, 'utf8'));
  assert.ok(manifest.files.includes('models'));
  for (const name of SHIPPED) {
    assert.ok(Model.names().includes(name), `${name} in ${Model.names()}`);
    assert.ok(!lean.Model.names().includes(name), `the lean build cannot load ${name}`);
    for (const f of ['manifest.json', 'model.onnx', 'tokenizer.json']) {
      assert.equal(sha256(`${pkgDir}models/${name}/${f}`), sha256(`${made}/${name}/${f}`), `${name}/${f}`);
    }
  }
  assert.deepEqual(Model.names(), [...Model.names()].sort(), 'sorted, embedded and shipped together');
  // An embedded package still loads at once (not a Promise).
  const digits = Model.load('digits-fast');
  assert.equal(typeof digits.predict, 'function');
  digits.free();
});

test('await Model.load(name) fetches a shipped package, with progress, and matches onnxruntime', async () => {
  const seen = [];
  const pending = Model.load('minilm-int8', { onProgress: p => seen.push(p) });
  assert.ok(pending instanceof Promise);
  const model = await pending;
  assert.equal(model.name, 'minilm-int8');
  const size = readFileSync(`${pkgDir}models/minilm-int8/model.onnx`).length;
  assert.deepEqual(seen.at(-1), { loaded: size, total: size });
  const rows = JSON.parse(readFileSync(`${made}/minilm-int8/golden.json`, 'utf8')).texts;
  const { data, dim } = model.embed(rows[0].text);
  assert.ok(cosine(data, rows[0].embedding) > 0.995, `cosine ${cosine(data, rows[0].embedding)}`);
  assert.equal(dim, 384);
  model.free();
});

test('a shipped package whose files are missing or changed is a coded error, the models serve on', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgeserve-models-'));
  try {
    const modelsUrl = pathToFileURL(`${dir}/`).href;
    const missing = await rejection(Model.load('minilm-int8', { modelsUrl }));
    assert.equal(missing.code, 'MODEL_LOAD');
    assert.match(missing.message, /minilm-int8.*model\.onnx/s);

    cpSync(`${pkgDir}models/minilm-int8`, `${dir}/minilm-int8`, { recursive: true });
    const good = await Model.load('minilm-int8', { modelsUrl });
    const tokenizer = `${dir}/minilm-int8/tokenizer.json`;
    writeFileSync(tokenizer, readFileSync(tokenizer, 'utf8').replace('"[UNK]"', '"[UNKNOWN]"'));
    const changed = await rejection(Model.load('minilm-int8', { modelsUrl }));
    assert.equal(changed.code, 'INTEGRITY', changed.message);
    const onnx = readFileSync(`${dir}/minilm-int8/model.onnx`);
    onnx[onnx.length - 1] ^= 1;
    writeFileSync(`${dir}/minilm-int8/model.onnx`, onnx);
    const graph = await rejection(Model.load('minilm-int8', { modelsUrl }));
    assert.equal(graph.code, 'INTEGRITY', graph.message);
    assert.equal(good.embed('still serving').dim, 384);
    good.free();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  for (const [options, code] of [
    [{ modelsUrl: 5 }, 'BAD_INPUT'],
    [{ modelsUrl: 'http://[bad' }, 'BAD_INPUT'],
    [{ onProgress: 'no' }, 'BAD_INPUT'],
    ['minilm', 'BAD_INPUT'],
  ]) {
    let error;
    try {
      await Model.load('minilm', options);
    } catch (e) {
      error = e;
    }
    assert.equal(error?.code, code, `${JSON.stringify(options)}: ${error?.message}`);
  }
  assert.throws(
    () => Model.load('minilm-int9'),
    e => e.code === 'UNKNOWN_MODEL' && /minilm-int8/.test(e.message),
  );
});

test('ModelSet.choose between minilm and minilm-int8, benchmarked on text', async () => {
  const set = new ModelSet();
  for (const name of SHIPPED) {
    const model = await Model.load(name);
    set.add(model);
    model.free(); // the set keeps its share
  }
  const again = await Model.load('minilm');
  assert.throws(
    () => set.add(again),
    e => e.code === 'BAD_INPUT' && /minilm/.test(e.message),
  );
  again.free();
  assert.deepEqual(set.names, SHIPPED);
  const measured = await set.benchmark({ runs: 15 });
  assert.deepEqual(
    measured.map(m => m.name),
    SHIPPED,
  );
  for (const m of measured) {
    const manifest = JSON.parse(readFileSync(`${made}/${m.name}/manifest.json`, 'utf8'));
    assert.equal(m.accuracy, manifest.metrics.accuracy, 'the retrieval accuracy recorded when the package was made');
    assert.ok(m.p50 > 0.1 && m.p50 < 5000, `${m.name} p50 ${m.p50} ms`);
  }
  // Array.prototype.sort is stable: a full tie keeps the order the models were added in, as
  // choose() does.
  const byAccuracyThenSpeed = [...measured].sort((a, b) => b.accuracy - a.accuracy || a.p95 - b.p95);
  const roomy = set.choose({ budgetMs: 1e6 });
  assert.equal(roomy.withinBudget, true);
  assert.equal(roomy.name, byAccuracyThenSpeed[0].name);
  assert.equal(roomy.model.embed('a sentence').dim, 384);
  const fastest = [...measured].sort((a, b) => a.p95 - b.p95 || b.accuracy - a.accuracy)[0];
  const tight = set.choose({ budgetMs: 0.001 });
  assert.equal(tight.withinBudget, false);
  assert.equal(tight.name, fastest.name);
  set.free();
});
