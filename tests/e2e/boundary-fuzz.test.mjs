// The boundary fuzzer (tests/catalogue/boundary-fuzz.mjs) in Debian's headless Chromium, under the
// test pages' strict CSP: random JavaScript values at every export of a Model on the page's thread
// (the full build and the lean one) and of a WorkerModel, from a fixed seed (FUZZ_JS_SEED, default
// 1) for a bounded time (FUZZ_JS_SECONDS per layer, default 10). After every call the contract
// holds and a good prediction is bit for bit what it was before; no console error, no page error.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { serve } from '../../scripts/serve.mjs';
import { launch, openPage } from './browser.mjs';
import { formatFigures } from '../catalogue/boundary-fuzz.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const SECONDS = Number(process.env.FUZZ_JS_SECONDS ?? 10);
const SEED = Number(process.env.FUZZ_JS_SEED ?? 1);
const PAGE = 'tests/e2e/fixtures/boundary-fuzz.html';
let server, browser, page;
const problems = [];

before(async () => {
  server = await serve(root, 0);
  browser = await launch();
  page = await openPage(browser, `http://127.0.0.1:${server.address().port}/${PAGE}`, problems);
});

after(async () => {
  await browser?.close();
  server?.close();
});

test("the page's CSP allows its import map by the map's own hash", () => {
  const html = readFileSync(`${root}${PAGE}`, 'utf8');
  const map = html.match(/<script type="importmap">([\s\S]*?)<\/script>/)[1];
  const hash = createHash('sha256').update(map).digest('base64');
  assert.ok(
    html.includes(`'sha256-${hash}'`),
    `the CSP of ${PAGE} must list 'sha256-${hash}' (the import map changed?)`,
  );
  for (const file of Object.values(JSON.parse(map).imports)) {
    assert.ok(existsSync(new URL(file, new URL(PAGE, `file://${root}`))), file); // some are empty: types-only modules
  }
});

for (const layer of ['full', 'lean', 'worker']) {
  const what = layer === 'worker' ? 'a WorkerModel' : `a Model of the ${layer} build on the page thread`;
  test(
    `random JavaScript values at every export of ${what}: each call returns or throws a coded Error, and the model stays exact`,
    { timeout: (SECONDS + 300) * 1000 },
    async () => {
      const seenBefore = problems.length;
      let timer;
      const limit = (SECONDS + 240) * 1000;
      const result = await Promise.race([
        page.evaluate(([l, seed, seconds]) => window.fuzzLayer(l, seed, seconds), [layer, SEED, SECONDS]),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`the fuzz did not end within ${limit / 1000} s: a call hung the page's thread`)),
            limit,
          );
        }),
      ]).finally(() => clearTimeout(timer));
      if (result.figures) console.log(formatFigures(result.figures));
      if (result.error) assert.fail(result.error);
      assert.ok(result.figures.calls > 0, 'no call was made');
      assert.deepEqual(
        Object.entries(result.figures.perExport)
          .filter(([, n]) => n === 0)
          .map(([k]) => k),
        [],
        'exports never called',
      );
      assert.deepEqual(problems.slice(seenBefore), [], 'console errors or warnings, or page errors');
    },
  );
}
