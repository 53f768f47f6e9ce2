// The threaded build (pkg/threads/: atomics, shared memory, a pool of worker_threads in Node) through
// the npm package: init()'s choice of it, its thread count, and its results against the
// single-threaded build's and onnxruntime's on a model whose products tract splits over the pool
// (minilm's sentence embeddings). The golden suites run on it too: `make test-js` runs them again
// with EDGESERVE_WASM=threads. In Chromium: tests/e2e/search.test.mjs. Natively: tests/threads.rs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { readFileSync } from 'node:fs';
import { pkgDir, root } from './helpers.mjs';
import { cosine } from '../common/raw.mjs';

const es = await import(`${pkgDir}index.js`);
const base = process.env.EDGESERVE_TEXT_MODELS ?? `${root}target/models-text`;
const file = f => readFileSync(`${base}/minilm/${f}`);
const json = f => JSON.parse(file(f).toString('utf8'));

function load(api) {
  return api.Model.fromBytes(file('model.onnx'), json('manifest.json'), { tokenizer: file('tokenizer.json') });
}

test("Node can run threads; the default count is onnxruntime-web's", () => {
  assert.equal(es.threadsSupported(), true);
  assert.equal(es.defaultThreads(), Math.min(4, Math.ceil(availableParallelism() / 2)));
});

test('init() refuses a thread count that is not one, before it loads anything', async () => {
  for (const [threads, got] of [
    [0, 'the number 0'],
    [65, 'the number 65'],
    [1.5, 'the number 1.5'],
    ['2', 'a string ("2")'],
  ]) {
    await assert.rejects(es.default({ threads }), {
      code: 'BAD_INPUT',
      message: `threads is not a thread count: expected an integer from 1 to 64, got ${got}`,
    });
  }
  assert.equal(es.wasmBuild(), null);
});

test("init({ threads: 2 }) starts the threaded build; its embeddings are the single build's and onnxruntime's", async () => {
  await es.default({ threads: 2 });
  assert.equal(es.wasmBuild(), 'threads');
  assert.equal(es.threadCount(), 2);
  // A second init() returns the first one's instance.
  await es.default({ threads: 4 });
  assert.equal(es.threadCount(), 2);

  // The single-threaded build beside it: its own glue and instance.
  const single = await import(`${pkgDir}edgeserve.js`);
  single.initSync({ module: readFileSync(`${pkgDir}edgeserve_bg.wasm`) });
  assert.equal(single.threadCount(), 1);

  const [threaded, alone] = await Promise.all([load(es), load(single)]);
  assert.ok(threaded instanceof es.Model, "the package's Model is the threaded build's class");
  const rows = json('golden.json').texts;
  const texts = rows.map(r => r.text);
  const b = alone.embed(texts);
  // The first runs of a size are timed on one thread, the later ones go on the pool: all agree.
  let a;
  for (let run = 0; run < 6; run++) {
    a = threaded.embed(texts);
    let differ = 0;
    for (let i = 0; i < a.data.length; i++) differ = Math.max(differ, Math.abs(a.data[i] - b.data[i]));
    assert.ok(differ < 1e-5, `run ${run}: threaded and single-threaded embeddings differ by ${differ}`);
  }
  rows.forEach((r, i) => {
    const c = cosine(a.data.subarray(i * 384, (i + 1) * 384), r.embedding);
    assert.ok(c >= 0.99999, `${JSON.stringify(r.text)}: cosine ${c} to onnxruntime's`);
  });
  threaded.free();
  alone.free();
});

test('a pool cannot be started twice, nor with a count out of range', async () => {
  // The threaded glue init() loaded (the same module: the same URL).
  const glue = await import(`${pkgDir}threads/edgeserve.js`);
  assert.throws(() => glue.startThreadPool(2), { code: 'THREADS', message: /a pool of 2 threads runs already/ });
  assert.throws(() => glue.startThreadPool(0), {
    code: 'THREADS',
    message: /threads is 0: expected an integer from 1 to 64/,
  });
  assert.equal(es.threadCount(), 2);
});
