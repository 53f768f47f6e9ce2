// The serving modes of the built npm package in Node 20: batch, CSV, stream (WHATWG streams,
// global in Node 20), latency statistics, the latency-budget choice, and the Node example.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { edgeserve, golden, maxAbsDiff, root, TOLERANCE, embeddedNames } from './helpers.mjs';

const { Model, ModelSet } = await edgeserve();
const csv = readFileSync(`${root}www/data/digits-test.csv`, 'utf8');
const rows = csv
  .trim()
  .split('\n')
  .slice(1)
  .map(l => l.split(',').map(Number));
const features = rows.map(r => Float32Array.from(r.slice(0, 64)));

test('predictBatch equals row-by-row predict, with progress per chunk', async () => {
  for (const name of embeddedNames) {
    const model = Model.load(name);
    const progress = [];
    const res = await model.predictBatch(features, { chunkSize: 100, onProgress: p => progress.push(p) });
    assert.equal(res.rows, 450);
    assert.ok(res.indices instanceof Int32Array && res.scores instanceof Float32Array);
    assert.equal(res.scores.length, 4500);
    assert.deepEqual(
      progress.map(p => p.done),
      [100, 200, 300, 400, 450],
    );
    assert.ok(progress.every(p => p.total === 450 && p.rowsPerSecond > 0));
    assert.ok(res.latencyMs > 0 && res.rowsPerSecond > 0);
    features.forEach((row, i) => {
      const one = model.predict(row);
      assert.equal(res.labels[i], one.label);
      assert.equal(res.indices[i], one.index);
      assert.ok(maxAbsDiff(res.scores.subarray(i * 10, i * 10 + 10), one.scores) <= TOLERANCE);
    });
    // One flat typed array of n * 64 values is a batch too.
    const flat = new Float32Array(450 * 64);
    features.forEach((r, i) => flat.set(r, i * 64));
    assert.deepEqual((await model.predictBatch(flat)).indices, res.indices);
  }
});

test('a batch yields to the event loop between chunks', async () => {
  const model = Model.default();
  let ticks = 0;
  const timer = setInterval(() => ticks++, 0);
  let chunks = 0;
  await model.predictBatch(features, { chunkSize: 10, onProgress: () => chunks++ });
  clearInterval(timer);
  assert.equal(chunks, 45);
  assert.ok(ticks > 0, 'timers ran while the batch was running');
});

test('a bad row rejects the batch naming the row; bad options too', async () => {
  const model = Model.default();
  const bad = features.slice(0, 10).map(r => Array.from(r));
  bad[4][2] = NaN;
  await assert.rejects(
    model.predictBatch(bad),
    e => e.code === 'BAD_INPUT' && e.message === 'rows[4][2] is not a finite number: expected finite numbers, got NaN',
  );
  await assert.rejects(model.predictBatch(features, { chunkSize: 1.5 }), /chunkSize is out of range/);
  await assert.rejects(model.predictBatch(features, 'fast'), /predictBatch options are not an object/);
  await assert.rejects(model.predictBatch(null), /rows is not a batch/);
  assert.equal((await model.predictBatch(features.slice(0, 3))).rows, 3);
});

test('predictCsv gives the manifest accuracy and CSV out', async () => {
  for (const name of embeddedNames) {
    const model = Model.load(name);
    const res = await model.predictCsv(csv, { labelColumn: 'label' });
    assert.ok(Math.abs(res.accuracy - model.manifest.metrics.accuracy) < 1e-6);
    const out = res.toCsv().trim().split('\n');
    assert.equal(out.length, 451);
    assert.equal(out[0].split(',').slice(0, 4).join(','), 'row,truth,label,index');
  }
  await assert.rejects(
    Model.default().predictCsv('a,b\n1,x\n'),
    e => e.code === 'BAD_INPUT' && /CSV line 1 has the wrong number of feature columns/.test(e.message),
  );
});

test('latency() counts every prediction per mode; resetLatency() clears', async () => {
  const model = Model.load('digits-fast');
  for (const r of features.slice(0, 30)) model.predict(r);
  await model.predictBatch(features.slice(0, 200), { chunkSize: 64 });
  const stream = model.stream({ maxBatch: 16, maxWaitMs: 1 });
  const writer = stream.writable.getWriter();
  const reading = (async () => {
    let n = 0;
    for await (const _ of stream.readable) n++;
    return n;
  })();
  for (const r of features.slice(0, 40)) {
    await writer.ready;
    writer.write(r);
  }
  await writer.close();
  assert.equal(await reading, 40);
  const l = model.latency();
  assert.deepEqual([l.realtime.count, l.batch.count, l.stream.count], [30, 200, 40]);
  for (const s of [l.realtime, l.batch, l.stream])
    assert.ok(s.p50 <= s.p95 && s.p95 <= s.p99 && s.p99 <= s.max * 1.001 && s.mean > 0);
  model.resetLatency();
  assert.equal(model.latency().realtime.count, 0);
});

test('stream keeps order over 10,000 items, one output each; a bad item does not stop it', async () => {
  const model = Model.default();
  const expected = golden('digits-accurate').cases;
  const stream = model.stream({ maxBatch: 32, maxWaitMs: 5 });
  const source = new ReadableStream({
    start(c) {
      for (let i = 0; i < 10_000; i++) c.enqueue(i === 777 ? 'not a row' : features[i % 450]);
      c.close();
    },
  });
  const outputs = [];
  await source.pipeThrough(stream).pipeTo(
    new WritableStream({
      write(o) {
        outputs.push(o);
      },
    }),
  );
  assert.equal(outputs.length, 10_000);
  outputs.forEach((o, i) => assert.equal(o.index, i));
  assert.equal(outputs[777].error.code, 'BAD_INPUT');
  assert.match(outputs[777].error.message, /^rows\[777\] is not a row of numbers/);
  for (let i = 0; i < expected.length; i++) {
    const o = outputs[i];
    assert.equal(o.prediction.label, expected[i].expected.label);
    assert.ok(maxAbsDiff(o.prediction.scores, expected[i].expected.scores) <= TOLERANCE);
    assert.ok(o.queuedMs >= 0 && o.latencyMs >= 0);
  }
});

test('stream backpressure: a fast producer is slowed, memory stays bounded', async () => {
  const model = Model.default();
  const maxBatch = 8;
  const stream = model.stream({ maxBatch, maxWaitMs: 2 });
  let produced = 0;
  let consumed = 0;
  let maxAhead = 0;
  const source = new ReadableStream(
    {
      pull(c) {
        // As fast as the stream asks: the producer can always go on.
        c.enqueue(features[produced++ % 450]);
        maxAhead = Math.max(maxAhead, produced - consumed);
        if (produced === 3000) c.close();
      },
    },
    { highWaterMark: 1 },
  );
  const sink = new WritableStream(
    {
      async write() {
        consumed++;
        if (consumed % 50 === 0) await new Promise(r => setTimeout(r, 5)); // a slow reader
      },
    },
    { highWaterMark: 1 },
  );
  await source.pipeThrough(stream).pipeTo(sink);
  assert.equal(consumed, 3000);
  // In flight at most: the source's queue, both sides of the transform (maxBatch each), one
  // micro-batch in the core, the sink's queue, and the items being handed over.
  const bound = 1 + maxBatch + maxBatch + maxBatch + 1 + 4;
  assert.ok(maxAhead <= bound, `at most ${maxAhead} items were in flight (bound ${bound})`);
});

test('ModelSet: choose() by budgets derived from the measurements', async () => {
  const set = ModelSet.embedded();
  assert.deepEqual(set.names, ['digits-accurate', 'digits-fast']);
  const measured = await set.benchmark({ runs: 200 });
  const p95 = Object.fromEntries(measured.map(m => [m.name, m.p95]));
  console.log(`p95 in Node: digits-fast ${p95['digits-fast']} ms, digits-accurate ${p95['digits-accurate']} ms`);
  // Which model is faster is measured, not assumed; budgets come from the measurements.
  const [faster, slower] =
    p95['digits-fast'] <= p95['digits-accurate']
      ? ['digits-fast', 'digits-accurate']
      : ['digits-accurate', 'digits-fast'];
  const generous = set.choose({ budgetMs: p95[slower] * 10 });
  assert.equal(generous.name, 'digits-accurate');
  assert.equal(generous.withinBudget, true);
  assert.equal(generous.model.name, 'digits-accurate');
  assert.ok(generous.model.predict(features[0]).label);
  if (p95[faster] < p95[slower]) {
    const tight = set.choose({ budgetMs: (p95[faster] + p95[slower]) / 2, percentile: 95 });
    assert.equal(tight.name, faster);
    assert.equal(tight.withinBudget, true);
  }
  const none = set.choose({ budgetMs: p95[faster] / 4 });
  assert.equal(none.name, faster);
  assert.equal(none.withinBudget, false);
  assert.match(none.reason, /^no model's p95 fits the budget/);
  assert.deepEqual(
    none.measurements.map(m => m.name),
    ['digits-accurate', 'digits-fast'],
  );
  assert.throws(() => set.choose({ budgetMs: -1 }), /budgetMs is out of range/);
});

test('the Node example batch-predicts the test CSV', () => {
  const out = execFileSync(process.execPath, [`${root}examples/node/batch-csv.mjs`], { encoding: 'utf8' });
  assert.match(out, /^model: digits-accurate/m);
  assert.match(out, /^rows: 450 in 4 chunks, [\d.]+ ms, \d+ rows\/s$/m);
  const accuracy = Number(out.match(/^accuracy: ([\d.]+)$/m)[1]);
  const recorded = JSON.parse(readFileSync(`${root}models/digits-accurate/manifest.json`, 'utf8')).metrics.accuracy;
  assert.ok(Math.abs(accuracy - recorded) < 1e-4);
});
