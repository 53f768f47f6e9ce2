// The demo page's Search panel in Chromium (dist/, built by `make site`): the text package
// minilm-int8 and the full build fetched on demand, the shipped sentences embedded in a
// WorkerModel with a progress bar, then queries typed key by key. A paraphrase must find its
// sentence among the top three. Fails on any console error or warning, any failed request, and
// any request that leaves the page. Then the same page with ?threads=2: the full build's threaded
// wasm (module Workers sharing its memory) in the search panel's worker and on the page, its
// embeddings against onnxruntime's.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from '../../scripts/serve.mjs';
import { launch, openPage } from './browser.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
let server, browser, page, base;
const problems = [];
const offsite = [];

before(async () => {
  server = await serve(`${root}dist`, 0);
  base = `http://127.0.0.1:${server.address().port}/`;
  browser = await launch();
  page = await browser.newPage();
  page.on('console', m => ['error', 'warning'].includes(m.type()) && problems.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', e => problems.push(`pageerror: ${e.message}`));
  page.on('crash', () => problems.push('the page crashed'));
  page.on('request', r => r.url().startsWith(base) || r.url().startsWith('data:') || offsite.push(r.url()));
  page.on('response', r => r.status() >= 400 && problems.push(`HTTP ${r.status()}: ${r.url()}`));
  await page.goto(base);
  await page.waitForFunction(() => document.body.dataset.ready === '1', null, { timeout: 60_000 });
});

after(async () => {
  await browser?.close();
  server?.close();
});

async function query(text) {
  const before = Number(await page.evaluate(() => document.body.dataset.searches ?? 0));
  await page.fill('#search-query', '');
  await page.type('#search-query', text, { delay: 15 });
  await page.waitForFunction(
    ([n, t]) =>
      Number(document.body.dataset.searches ?? 0) > n &&
      document.getElementById('search-latency').textContent.includes(`${t.length} characters`),
    [before, text],
    { timeout: 30_000 },
  );
  return page.$$eval('#search-results li', items => items.map(li => li.firstChild.textContent));
}

test('the sentences are embedded in the worker with progress, then paraphrases find their sentence', async () => {
  assert.equal(await page.isDisabled('#search-query'), true);
  await page.click('#search-start');
  await page.waitForFunction(() => document.body.dataset.searchReady === '1', null, { timeout: 120_000 });
  const { value, max } = await page.$eval('#search-progress', p => ({ value: p.value, max: p.max }));
  assert.ok(max >= 200 && value === max, `progress ${value} of ${max}`);
  assert.match(await page.textContent('#search-status'), /^\d+ sentences embedded in [\d.]+ s by minilm-int8/);
  for (const [q, want] of [
    ['someone strumming a guitar', 'A man is playing the guitar on stage.'],
    ['I cannot log in because I lost my password', 'How do I reset my password?'],
    ['shares dropped on wall street', 'The stock market fell sharply this morning.'],
    ['a kitty napping in the sun', 'A cat is sleeping on a sunny windowsill.'],
  ]) {
    const top = await query(q);
    assert.ok(top.slice(0, 3).includes(want), `${q}: ${JSON.stringify(top)}`);
  }
  assert.match(await page.textContent('#search-latency'), /^\d+\.\d ms in the model/);
  assert.deepEqual(problems, []);
  assert.deepEqual(offsite, []);
});

test('with ?threads=2 the full build runs on 2 threads: the Model panel, the search worker, and minilm against onnxruntime', async t => {
  const seen = [];
  const away = [];
  const threaded = await openPage(browser, `${base}?threads=2`, seen, away);
  assert.equal(await threaded.evaluate(() => crossOriginIsolated), true);
  assert.equal(await threaded.inputValue('#threads'), '2');
  assert.equal(await threaded.isDisabled('#threads'), false);
  await threaded.click('#search-start');
  await threaded.waitForFunction(() => document.body.dataset.searchReady === '1', null, { timeout: 120_000 });
  assert.equal(await threaded.evaluate(() => document.body.dataset.threadsRunning), '2');
  assert.match(await threaded.textContent('#threads-status'), /^2 running \(the threads build/);

  assert.deepEqual(seen, []);
  assert.deepEqual(away, []);
  await threaded.close();

  // The npm package on a page of its own (cross-origin isolated, no service worker), on minilm
  // (f32: tract splits its products over the pool), from make models-text's output: served with
  // the site by a second server, from a directory of links (the model is too large for a route).
  const texts = process.env.EDGESERVE_TEXT_MODELS ?? `${root}target/models-text`;
  const site = mkdtempSync(join(tmpdir(), 'edgeserve-threads-'));
  t.after(() => rmSync(site, { recursive: true, force: true }));
  for (const entry of readdirSync(`${root}dist`)) symlinkSync(`${root}dist/${entry}`, join(site, entry));
  mkdirSync(join(site, 'test-models'));
  symlinkSync(`${texts}/minilm`, join(site, 'test-models', 'minilm'));
  const second = await serve(site, 0);
  const context = await browser.newContext();
  await context.route('**/threads-check.html', route =>
    route.fulfill({
      contentType: 'text/html',
      headers: { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' },
      body: '<!doctype html><title>threads</title><body data-ready="1"></body>',
    }),
  );
  const page = await openPage(context, `http://127.0.0.1:${second.address().port}/threads-check.html`, seen);
  const golden = JSON.parse(readFileSync(`${texts}/minilm/golden.json`, 'utf8')).texts.slice(0, 12);
  const got = await page.evaluate(async rows => {
    const es = await import('./pkg-full/index.js');
    await es.default({ threads: 2 });
    const get = async f => new Uint8Array(await (await fetch(`test-models/minilm/${f}`)).arrayBuffer());
    const manifest = JSON.parse(new TextDecoder().decode(await get('manifest.json')));
    const model = await es.Model.fromBytes(await get('model.onnx'), manifest, {
      tokenizer: await get('tokenizer.json'),
    });
    const out = model.embed(rows.map(r => r.text));
    let worst = 1;
    rows.forEach((r, i) => {
      const a = out.data.subarray(i * 384, (i + 1) * 384);
      let dot = 0,
        na = 0,
        nb = 0;
      for (let k = 0; k < 384; k++) {
        dot += a[k] * r.embedding[k];
        na += a[k] * a[k];
        nb += r.embedding[k] * r.embedding[k];
      }
      worst = Math.min(worst, dot / Math.sqrt(na * nb));
    });
    model.free();
    return { build: es.wasmBuild(), threads: es.threadCount(), worst };
  }, golden);
  assert.equal(got.build, 'threads');
  assert.equal(got.threads, 2);
  assert.ok(got.worst >= 0.99999, `min cosine to onnxruntime's ${got.worst}`);
  assert.deepEqual(seen, []);
  await context.close();
  second.close();
});
