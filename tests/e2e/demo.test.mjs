// The demo page (dist/, built by `make site`) in Debian's headless Chromium via playwright-core,
// used as a person would: draw digits, run the batch, benchmark and choose a model. Fails on any
// console error or warning and on any request that leaves the page. Screenshots of each panel go
// to tests/e2e/screenshots/ (not committed).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve } from '../../scripts/serve.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const shots = `${root}tests/e2e/screenshots`;
const manifest = name => JSON.parse(readFileSync(`${root}models/${name}/manifest.json`, 'utf8'));
let server, browser, page, base;
const problems = [];
const offsite = [];

before(async () => {
  mkdirSync(shots, { recursive: true });
  server = await serve(`${root}dist`, 0);
  base = `http://127.0.0.1:${server.address().port}/`;
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1100, height: 900 } });
  page = await context.newPage();
  page.on('console', m => ['error', 'warning'].includes(m.type()) && problems.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', e => problems.push(`pageerror: ${e.message}`));
  page.on('request', r => r.url().startsWith(base) || r.url().startsWith('data:') || offsite.push(r.url()));
  page.on('response', r => r.status() >= 400 && problems.push(`HTTP ${r.status()}: ${r.url()}`));
  await page.goto(base);
  await page.waitForFunction(() => document.body.dataset.ready === '1', null, { timeout: 60_000 });
  // Let the service worker finish caching the build (16 MB through a second thread) before the
  // tests measure the main thread.
  await page.evaluate(() => navigator.serviceWorker.ready);
  await page.waitForFunction(async () => (await caches.keys()).length === 1, null, { timeout: 60_000, polling: 200 });
});

after(async () => {
  await browser?.close();
  server?.close();
});

/** Draws a stroke through points given in pad units (0..1). */
async function stroke(points) {
  const box = await page.locator('#pad').boundingBox();
  const at = ([x, y]) => [box.x + x * box.width, box.y + y * box.height];
  await page.mouse.move(...at(points[0]));
  await page.mouse.down();
  for (const p of points.slice(1)) await page.mouse.move(...at(p), { steps: 4 });
  await page.mouse.up();
}

async function predictedAfter(n) {
  await page.waitForFunction(k => Number(document.body.dataset.realtimePredictions ?? 0) >= k, n);
  return page.textContent('#rt-label');
}

/**
 * Draws a stroke and waits until the real-time panel has shown its prediction; returns the label.
 * The count of predictions is read before the stroke, not after it: mouse.up returns once the
 * pointerup has posted the request, and a worker that is up (two messages: predict, latency) can
 * answer before a read sent after mouse.up reaches the page; that read then already counts this
 * prediction, and the wait for one more never ends (seen once: 'drawing makes no network request
 * at all' timed out after 30 s in a fresh-clone run).
 */
async function strokePredicted(points) {
  const before = await page.evaluate(() => Number(document.body.dataset.realtimePredictions ?? 0));
  await stroke(points);
  return predictedAfter(before + 1);
}

test('served cross-origin isolated, the default model in a worker', async () => {
  assert.equal(await page.evaluate(() => crossOriginIsolated), true);
  assert.equal(await page.textContent('#rt-model'), 'digits-accurate');
});

test('real-time: a drawn 1 and a drawn 0 are predicted, with latency and percentiles', async () => {
  await stroke([
    [0.52, 0.12],
    [0.5, 0.5],
    [0.5, 0.88],
  ]);
  assert.equal(await predictedAfter(1), '1');
  assert.match(await page.textContent('#rt-latency'), /^\d+(\.\d+)? (µs|ms)$/);
  assert.match(await page.textContent('#rt-stats'), /^1 predictions · p50 .+ · p95 .+ · p99 .+$/);
  await page.screenshot({ path: `${shots}/realtime-1.png`, clip: await page.locator('#realtime').boundingBox() });
  await page.click('#clear');
  const ring = Array.from({ length: 25 }, (_, i) => {
    const a = (i / 24) * 2 * Math.PI;
    return [0.5 + 0.22 * Math.sin(a), 0.5 - 0.36 * Math.cos(a)];
  });
  await stroke(ring);
  assert.equal(await predictedAfter(2), '0');
  await page.screenshot({ path: `${shots}/realtime-0.png`, clip: await page.locator('#realtime').boundingBox() });
});

test('batch: the shipped test set, accuracy as in the manifest, a CSV download, no long task', async () => {
  await page.evaluate(() => {
    window.longTasks = [];
    new PerformanceObserver(list => window.longTasks.push(...list.getEntries().map(e => e.duration))).observe({
      type: 'longtask',
    });
  });
  await page.click('#batch-run');
  await page.waitForFunction(() => document.body.dataset.batchRuns === '1', null, { timeout: 60_000 });
  const shown = Number((await page.textContent('#batch-accuracy')).replace('%', '')) / 100;
  const recorded = manifest('digits-accurate').metrics.accuracy;
  assert.ok(Math.abs(shown - recorded) <= 0.01, `shown ${shown}, manifest ${recorded}`);
  assert.equal(await page.locator('#batch-confusion td').count(), 100);
  const longTasks = await page.evaluate(() => window.longTasks);
  assert.deepEqual(
    longTasks.filter(d => d > 50),
    [],
    'no main-thread task over 50 ms during the batch',
  );
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#batch-download')]);
  const text = readFileSync(await download.path(), 'utf8')
    .trim()
    .split('\n');
  assert.equal(text.length, 451, 'one row per input and a header');
  await page.screenshot({ path: `${shots}/batch.png`, clip: await page.locator('#batch').boundingBox() });
});

test('stream: 1,000 events a second for 5 seconds, every event predicted, no error', async () => {
  await page.locator('#stream-rate').fill('1000');
  assert.equal(await page.textContent('#stream-rate-value'), '1000 / s');
  await page.click('#stream-toggle');
  await page.waitForFunction(() => document.body.dataset.streaming === '1');
  await page.waitForTimeout(5000);
  await page.screenshot({ path: `${shots}/stream.png`, clip: await page.locator('#stream').boundingBox() });
  await page.click('#stream-toggle');
  await page.waitForFunction(() => document.body.dataset.streaming === '0', null, { timeout: 30_000 });
  const [sent, predicted, errors] = await page.evaluate(() =>
    ['streamIn', 'streamOut', 'streamErrors'].map(k => Number(document.body.dataset[k])),
  );
  assert.ok(sent >= 4000 && sent <= 6000, `${sent} events in 5 s at 1,000/s`);
  assert.equal(predicted, sent, 'every event got a prediction');
  assert.equal(errors, 0);
  assert.match(await page.textContent('#stream-p99'), /^\d+\.\d{3} ms$/);
});

test('model: benchmark, then a generous and a tight budget', async () => {
  await page.click('#bench-run');
  await page.waitForFunction(() => document.body.dataset.benchmarked === '1', null, { timeout: 60_000 });
  // A drawing on the pad: each change of model predicts it again, in the new model's worker.
  await page.click('#clear');
  await strokePredicted([
    [0.5, 0.15],
    [0.5, 0.85],
  ]);
  await page.locator('#budget').fill('100');
  await page.waitForFunction(() => document.body.dataset.choice === 'digits-accurate');
  assert.match(await page.textContent('#choice-reason'), /is the most accurate model/);
  await page.locator('#budget').fill('0');
  await page.waitForFunction(() =>
    document.querySelector('#choice-reason').textContent.includes("no model's p95 fits"),
  );
  // Which model is faster is measured on this device (the two digits models are close, and a busy
  // machine can swap them), so the test checks the choice against the p95 column the page shows.
  const p95 = await page.evaluate(() =>
    Object.fromEntries(
      [...document.querySelectorAll('#model-table tr[data-model]')].map(tr => [
        tr.dataset.model,
        tr.cells[5].textContent,
      ]),
    ),
  );
  const ms = text => {
    const [v, unit] = text.split(' ');
    return Number(v) * (unit === 'ms' ? 1 : 1e-3);
  };
  const step = text => (text.endsWith(' ms') ? 1e-3 : 1e-4); // the last digit shown
  const chosen = await page.textContent('#choice-name');
  assert.ok(chosen in p95, `${chosen} is one of ${Object.keys(p95)}`);
  for (const [name, shown] of Object.entries(p95)) {
    assert.ok(
      ms(p95[chosen]) <= ms(shown) + step(shown),
      `the tightest budget picks the fastest: ${chosen} (p95 ${p95[chosen]}) against ${name} (${shown})`,
    );
  }
  assert.match(await page.textContent('#choice-reason'), new RegExp(`: ${chosen} is the fastest`));
  assert.equal(await page.textContent('#rt-model'), chosen, 'and the real-time panel uses it');
  // ... and has predicted with it: the chosen model's worker is up (its wasm fetched) before the
  // next test counts requests.
  await page.waitForFunction(name => document.body.dataset.realtimeModel === name, chosen);
  await page.screenshot({ path: `${shots}/model.png`, clip: await page.locator('#models').boundingBox() });
});

test('drawing makes no network request at all', async () => {
  const requests = [];
  const record = r => requests.push(r.url());
  page.on('request', record);
  await page.click('#clear');
  await strokePredicted([
    [0.5, 0.15],
    [0.5, 0.85],
  ]);
  page.off('request', record);
  assert.deepEqual(requests, []);
});

test('offline: after the first visit the page reloads and predicts with no network', async () => {
  await page.evaluate(() => navigator.serviceWorker.ready);
  await page.context().setOffline(true);
  try {
    await page.reload();
    await page.waitForFunction(() => document.body.dataset.ready === '1', null, { timeout: 60_000 });
    assert.equal(await page.evaluate(() => crossOriginIsolated), true, 'the service worker keeps the page isolated');
    await stroke([
      [0.52, 0.12],
      [0.5, 0.5],
      [0.5, 0.88],
    ]);
    assert.equal(await predictedAfter(1), '1');
  } finally {
    await page.context().setOffline(false);
  }
});

test('privacy: every mode predicts with the network cut, and nothing leaves the page', async () => {
  // Right after the offline reload: a fresh page, served by the service worker.
  const context = page.context();
  const requests = [];
  const record = r => requests.push({ url: r.url(), method: r.method(), body: r.postData() });
  context.on('request', record);
  await context.setOffline(true);
  try {
    // real-time
    await page.click('#clear');
    await strokePredicted([
      [0.5, 0.15],
      [0.5, 0.85],
    ]);
    // batch (the test set, read from the page's own files)
    await page.click('#batch-run');
    await page.waitForFunction(() => document.body.dataset.batchRuns === '1', null, { timeout: 60_000 });
    // stream
    await page.locator('#stream-rate').fill('200');
    await page.click('#stream-toggle');
    await page.waitForFunction(() => Number(document.body.dataset.streamOut ?? 0) >= 100, null, { timeout: 30_000 });
    await page.click('#stream-toggle');
    await page.waitForFunction(() => document.body.dataset.streaming === '0', null, { timeout: 30_000 });
    assert.equal(await page.evaluate(() => document.body.dataset.streamErrors), '0');
    // latency first: benchmark and choice
    await page.click('#bench-run');
    await page.waitForFunction(() => document.body.dataset.benchmarked === '1', null, { timeout: 60_000 });
  } finally {
    await context.setOffline(false);
    context.off('request', record);
  }
  const assets = new Set(
    JSON.parse(readFileSync(`${root}dist/sw.js`, 'utf8').match(/const ASSETS = (\[.*\]);/)[1]).map(
      a => new URL(a, base).href,
    ),
  );
  const sending = requests.filter(r => r.method !== 'GET' || r.body || !assets.has(r.url.split('?')[0]));
  assert.deepEqual(
    sending,
    [],
    "only GETs of the build's own files (from the service worker's cache), no body, nothing else",
  );
});

test('a new build replaces the cache cleanly', async () => {
  const before = await page.evaluate(() => caches.keys());
  assert.equal(before.length, 1);
  // A new build: the same assets under a new version (what scripts/site.mjs writes on change).
  const sw = `${root}dist/sw.js`;
  const original = readFileSync(sw, 'utf8');
  const assets = JSON.parse(original.match(/const ASSETS = (\[.*\]);/)[1]);
  writeFileSync(sw, original.replace(/const VERSION = '([^']+)';/, "const VERSION = '$1-next';"));
  try {
    await page.evaluate(async () => (await navigator.serviceWorker.getRegistration()).update());
    // The new worker has replaced the old cache, finished activating and claimed the page.
    await page.waitForFunction(
      async () => {
        const keys = await caches.keys();
        const controller = navigator.serviceWorker.controller;
        return keys.length === 1 && keys[0].endsWith('-next') && controller?.state === 'activated';
      },
      null,
      { timeout: 60_000, polling: 200 },
    );
    // The new cache holds the whole build (the one wasm this browser runs of the two).
    const cached = await page.evaluate(async () => {
      const [name] = await caches.keys();
      return (await (await caches.open(name)).keys()).map(r => new URL(r.url).pathname);
    });
    const wanted = assets.map(a => new URL(a, base).pathname).filter(p => !p.endsWith('/edgeserve_bg.wasm'));
    assert.deepEqual([...new Set(cached)].sort(), wanted.sort());
    // (No reload here: a reload while the update was still settling stalled the page's module
    // Worker in Chromium in CI runs; the offline test above reloads from the cache.)
  } finally {
    writeFileSync(sw, original);
  }
});

test('readable on a phone', async () => {
  const phone = await browser.newPage({
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
  });
  await phone.goto(base);
  await phone.waitForFunction(() => document.body.dataset.ready === '1', null, { timeout: 60_000 });
  const overflow = await phone.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  assert.ok(overflow <= 0, `no horizontal scrolling (${overflow} px too wide)`);
  await phone.screenshot({ path: `${shots}/phone.png`, fullPage: true });
  await phone.close();
});

test('no console errors, no request leaves the page', async () => {
  await page.screenshot({ path: `${shots}/page.png`, fullPage: true });
  assert.deepEqual(problems, []);
  assert.deepEqual(offsite, []);
});
