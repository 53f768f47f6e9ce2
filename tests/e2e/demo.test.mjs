// The demo page (dist/, built by `make site`) in Debian's headless Chromium via playwright-core:
// it loads the default model, predicts held-out digits as golden.json says, shows the latency,
// and logs no console error or warning. A screenshot goes to tests/e2e/screenshots/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve } from '../../scripts/serve.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const golden = JSON.parse(readFileSync(`${root}models/digits-accurate/golden.json`, 'utf8'));
let server, browser, base;

before(async () => {
  server = await serve(`${root}dist`, 0);
  base = `http://127.0.0.1:${server.address().port}/`;
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
});

after(async () => {
  await browser?.close();
  server?.close();
});

test('the demo page predicts held-out digits with the default model', async () => {
  const page = await browser.newPage();
  const problems = [];
  const offsite = [];
  page.on('console', (m) => ['error', 'warning'].includes(m.type()) && problems.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('request', (r) => r.url().startsWith(base) || offsite.push(r.url()));
  page.on('response', (r) => r.status() >= 400 && problems.push(`HTTP ${r.status()}: ${r.url()}`));

  await page.goto(base);
  await page.waitForFunction(() => document.body.dataset.predictions === '1', null, { timeout: 30_000 });
  assert.equal(await page.evaluate(() => crossOriginIsolated), true, 'served cross-origin isolated');
  assert.equal(await page.textContent('#model-name'), 'digits-accurate 1.0.0');
  for (const [i, c] of golden.cases.slice(0, 3).entries()) {
    if (i > 0) {
      await page.click('#next');
      await page.waitForFunction((n) => document.body.dataset.predictions === String(n), i + 1);
    }
    assert.equal(await page.textContent('#label'), c.expected.label, `test digit ${i}`);
    assert.equal(await page.textContent('#truth'), c.truth);
    assert.match(await page.textContent('#latency'), /^\d+(\.\d+)? (µs|ms)$/);
  }
  mkdirSync(`${root}tests/e2e/screenshots`, { recursive: true });
  await page.screenshot({ path: `${root}tests/e2e/screenshots/demo.png`, fullPage: true });
  assert.deepEqual(problems, [], 'no console errors or warnings');
  assert.deepEqual(offsite, [], 'no request leaves the page');
});
