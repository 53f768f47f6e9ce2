// WorkerModel in Debian's headless Chromium: a round trip, many requests in flight, errors as
// Error objects, progress, CSV, latency; under a strict CSP (no blob: URL, no eval).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { serve } from '../../scripts/serve.mjs';
import { launch, openPage } from './browser.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const golden = JSON.parse(readFileSync(`${root}models/digits-accurate/golden.json`, 'utf8'));
const csv = readFileSync(`${root}www/data/digits-test.csv`, 'utf8');
let server, browser, page;
const problems = [];

before(async () => {
  server = await serve(root, 0);
  browser = await launch();
  page = await openPage(browser, `http://127.0.0.1:${server.address().port}/tests/e2e/fixtures/worker.html`, problems);
});

after(async () => {
  await browser?.close();
  server?.close();
});

test('round trip: the worker predicts the golden cases', async () => {
  const labels = await page.evaluate(async cases => {
    const remote = await window.edgeserve.WorkerModel.create({ model: 'digits-accurate' });
    const out = [];
    for (const c of cases) out.push(await remote.predict(Float32Array.from(c.input)));
    remote.terminate();
    return out.map(r => [r.label, r.scores instanceof Float32Array, r.latencyMs >= 0]);
  }, golden.cases);
  assert.deepEqual(
    labels,
    golden.cases.map(c => [c.expected.label, true, true]),
  );
});

test('many requests in flight, matched by id, while a batch runs', async () => {
  const result = await page.evaluate(
    async ({ cases, csv }) => {
      const remote = await window.edgeserve.WorkerModel.create();
      const progress = [];
      const batch = remote.predictCsv(csv, {
        labelColumn: 'label',
        chunkSize: 50,
        onProgress: p => progress.push(p.done),
      });
      const singles = Promise.all(cases.map(c => remote.predict(c.input)));
      const [b, s] = await Promise.all([batch, singles]);
      const latency = await remote.latency();
      remote.terminate();
      return {
        rows: b.rows,
        accuracy: b.accuracy,
        csvLines: b.toCsv().trim().split('\n').length,
        progress,
        labels: s.map(r => r.label),
        latency,
      };
    },
    { cases: golden.cases, csv },
  );
  assert.equal(result.rows, 450);
  const recorded = JSON.parse(readFileSync(`${root}models/digits-accurate/manifest.json`, 'utf8')).metrics.accuracy;
  assert.ok(Math.abs(result.accuracy - recorded) < 1e-6);
  assert.equal(result.csvLines, 451);
  assert.deepEqual(result.progress, [50, 100, 150, 200, 250, 300, 350, 400, 450]);
  assert.deepEqual(
    result.labels,
    golden.cases.map(c => c.expected.label),
  );
  assert.equal(result.latency.batch.count, 450);
  assert.equal(result.latency.realtime.count, golden.cases.length);
});

test('errors come back as Error objects with codes; the worker keeps serving', async () => {
  const result = await page.evaluate(async good => {
    const { WorkerModel } = window.edgeserve;
    const remote = await WorkerModel.create({ model: 'digits-fast' });
    const caught = [];
    for (const bad of ['not a row', new Float32Array(3), [1, 2, 'x']]) {
      try {
        await remote.predict(bad);
      } catch (e) {
        caught.push([e instanceof Error, e.code, e.message]);
      }
    }
    try {
      await remote.predictBatch([good, [1]]);
    } catch (e) {
      caught.push([e instanceof Error, e.code, e.message]);
    }
    const after = (await remote.predict(good)).label;
    remote.terminate();
    let unknown;
    try {
      await WorkerModel.create({ model: 'digits-huge' });
    } catch (e) {
      unknown = [e instanceof Error, e.code];
    }
    return { caught, after, unknown };
  }, golden.cases[0].input);
  assert.deepEqual(
    result.caught.map(([isError, code]) => [isError, code]),
    Array(4).fill([true, 'BAD_INPUT']),
  );
  assert.match(result.caught[1][2], /expected 64 raw features, got 3 values/);
  assert.match(result.caught[3][2], /^rows\[1\] has the wrong length/);
  assert.equal(
    result.after,
    JSON.parse(readFileSync(`${root}models/digits-fast/golden.json`, 'utf8')).cases[0].expected.label,
  );
  assert.deepEqual(result.unknown, [true, 'UNKNOWN_MODEL']);
});

test('stream in the browser: 1,000 items, in order', async () => {
  const result = await page.evaluate(async row => {
    const { default: init, Model } = window.edgeserve;
    await init();
    const model = Model.default();
    const source = new ReadableStream({
      start(c) {
        for (let i = 0; i < 1000; i++) c.enqueue(Float32Array.from(row));
        c.close();
      },
    });
    const seen = [];
    await source.pipeThrough(model.stream({ maxBatch: 32, maxWaitMs: 2 })).pipeTo(
      new WritableStream({
        write(o) {
          seen.push(o.index);
        },
      }),
    );
    return { n: seen.length, ordered: seen.every((v, i) => v === i), count: model.latency().stream.count };
  }, golden.cases[0].input);
  assert.deepEqual(result, { n: 1000, ordered: true, count: 1000 });
});

test('fromUrl caches the bytes: a second load works offline', async () => {
  const manifest = JSON.parse(readFileSync(`${root}models/digits-fast/manifest.json`, 'utf8'));
  const url = new URL('../../../models/digits-fast/model.onnx', page.url()).href;
  const first = await page.evaluate(
    async ({ url, manifest }) => {
      const { default: init, Model } = window.edgeserve;
      await init();
      const progress = [];
      const m = await Model.fromUrl(url, {
        sha256: manifest.sha256,
        manifest,
        onProgress: p => progress.push(p.loaded),
      });
      return {
        name: m.name,
        progress: progress.length,
        cached: (await (await caches.open('edgeserve-models')).keys()).length,
      };
    },
    { url, manifest },
  );
  assert.deepEqual(first, { name: 'digits-fast', progress: first.progress, cached: 1 });
  assert.ok(first.progress >= 1);
  await page.context().setOffline(true);
  try {
    const label = await page.evaluate(
      async ({ url, manifest, input }) => {
        const m = await window.edgeserve.Model.fromUrl(url, { sha256: manifest.sha256, manifest });
        return m.predict(input).label;
      },
      {
        url,
        manifest,
        input: JSON.parse(readFileSync(`${root}models/digits-fast/golden.json`, 'utf8')).cases[0].input,
      },
    );
    assert.equal(
      label,
      JSON.parse(readFileSync(`${root}models/digits-fast/golden.json`, 'utf8')).cases[0].expected.label,
    );
  } finally {
    await page.context().setOffline(false);
  }
});

test('Chromium runs the relaxed-SIMD build, and it predicts like onnxruntime', async () => {
  const result = await page.evaluate(
    async goldens => {
      const { default: init, Model, relaxedSimd, wasmUrl } = window.edgeserve;
      await init();
      const wasm = performance
        .getEntriesByType('resource')
        .map(e => new URL(e.name).pathname.split('/').pop())
        .filter(f => f.endsWith('.wasm'));
      const worst = {};
      for (const [name, cases] of Object.entries(goldens)) {
        const model = Model.load(name);
        worst[name] = { labels: 0, scores: 0 };
        for (const c of cases) {
          const p = model.predict(c.input);
          if (p.label === c.expected.label) worst[name].labels += 1;
          worst[name].scores = Math.max(
            worst[name].scores,
            ...c.expected.scores.map((s, i) => Math.abs(s - p.scores[i])),
          );
        }
        model.free();
      }
      return { relaxedSimd, url: wasmUrl().pathname.split('/').pop(), wasm, worst };
    },
    Object.fromEntries(
      ['digits-accurate', 'digits-fast'].map(n => [
        n,
        JSON.parse(readFileSync(`${root}models/${n}/golden.json`, 'utf8')).cases,
      ]),
    ),
  );
  assert.equal(result.relaxedSimd, true);
  assert.equal(result.url, 'edgeserve_relaxed_bg.wasm');
  // The page thread fetched the twin only (the worker's fetches are on its own timeline).
  assert.deepEqual([...new Set(result.wasm)], ['edgeserve_relaxed_bg.wasm']);
  for (const [name, w] of Object.entries(result.worst)) {
    assert.equal(w.labels, JSON.parse(readFileSync(`${root}models/${name}/golden.json`, 'utf8')).cases.length, name);
    assert.ok(w.scores <= 1e-5, `${name}: scores off onnxruntime's by ${w.scores}`);
  }
});

test("a worker's build: the page's choice, or its own relaxedSimd; a bad choice is a BAD_INPUT", async () => {
  const result = await page.evaluate(async input => {
    const { WorkerModel, wasmBuild } = window.edgeserve;
    const builds = {};
    for (const relaxedSimd of [undefined, false, true]) {
      const remote = await WorkerModel.create({ model: 'digits-accurate', relaxedSimd });
      builds[String(relaxedSimd)] = { build: remote.wasmBuild, label: (await remote.predict(input)).label };
      remote.terminate();
    }
    const refused = await WorkerModel.create({ relaxedSimd: 'no' }).then(
      () => null,
      e => ({ code: e.code, message: e.message }),
    );
    return { page: wasmBuild(), builds, refused };
  }, golden.cases[0].input);
  assert.equal(result.page, 'relaxed', "the page's init() chose the build Chromium runs best");
  const label = golden.cases[0].expected.label;
  assert.deepEqual(result.builds, {
    undefined: { build: 'relaxed', label },
    false: { build: 'baseline', label },
    true: { build: 'relaxed', label },
  });
  assert.deepEqual(result.refused, {
    code: 'BAD_INPUT',
    message: 'WorkerModel.create\'s relaxedSimd is not a boolean: expected true or false, got a string ("no")',
  });
});

test('no console errors or warnings', () => {
  assert.deepEqual(problems, []);
});
