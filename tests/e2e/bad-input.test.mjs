// The bad-input catalogue (tests/catalogue/bad-input.mjs) in Debian's headless Chromium, under a
// strict CSP: through a Model on the page's thread and through a WorkerModel. Each kind gets its
// documented error; after each, a good prediction still matches the golden output; no console error.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { serve } from '../../scripts/serve.mjs';
import { launch, openPage } from './browser.mjs';
import { catalogue } from '../catalogue/bad-input.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
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

for (const layer of ['main', 'worker']) {
  test(`the catalogue through ${layer === 'main' ? 'a Model on the page thread' : 'a WorkerModel'}`, async () => {
    const results = await page.evaluate(l => import('./bad-input-page.js').then(m => m.runLayer(l)), layer);
    const wanted = catalogue.filter(e => (e.layers ?? ['main', 'worker']).includes(layer)).length;
    assert.equal(results.length, wanted);
    assert.deepEqual(
      results.filter(r => r.problem).map(r => `${r.kind}: ${r.problem}`),
      [],
    );
    console.log(`bad-input catalogue (Chromium, ${layer}): ${results.length} kinds, every one as documented`);
  });
}

test('no console error or warning on the way', () => {
  assert.deepEqual(problems, []);
});
