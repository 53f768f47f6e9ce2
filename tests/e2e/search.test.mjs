// The demo page's Search panel in Chromium (dist/, built by `make site`): the text package
// minilm-int8 and the full build fetched on demand, the shipped sentences embedded in a
// WorkerModel with a progress bar, then queries typed key by key. A paraphrase must find its
// sentence among the top three. Fails on any console error or warning, any failed request, and
// any request that leaves the page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { serve } from '../../scripts/serve.mjs';
import { launch } from './browser.mjs';

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
