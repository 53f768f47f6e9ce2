// The real-model suite's timings in Debian's headless Chromium (playwright-core): the repository
// served with COOP/COEP (cross-origin isolated: a 5 us clock), bench/real-page.html timing
// edgeserve and onnxruntime-web (one thread) on every model that tests/real/prepare.py wrote.
// Writes <dir>/out/chromium/<id>/result.json for tests/real/report.py; fails on any page error.
//
//   node bench/real-browser.mjs [dir]   (dir defaults to target/real-models, below the repository)
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve } from '../scripts/serve.mjs';

const root = fileURLToPath(new URL('../', import.meta.url));
const dir = process.argv[2] ?? 'target/real-models';
const ids = JSON.parse(readFileSync(join(dir, 'cases.json'), 'utf8')).cases;

const server = await serve(root, 0);
const browser = await chromium.launch({
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
const problems = [];
try {
  const page = await browser.newPage();
  page.on('pageerror', e => problems.push(e.message));
  page.on('console', m => m.type() === 'error' && problems.push(m.text()));
  await page.goto(`http://127.0.0.1:${server.address().port}/bench/real-page.html`);
  await page.waitForFunction(() => document.body.dataset.ready === '1');
  page.setDefaultTimeout(0);
  const results = await page.evaluate(
    ([d, list]) => window.measureReal(d, list),
    [relative(root, join(process.cwd(), dir)), ids],
  );
  for (const [id, result] of Object.entries(results)) {
    const out = join(dir, 'out', 'chromium', id);
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'result.json'), JSON.stringify(result, null, 1));
    const ratio = result.p50_ms && result.ort_p50_ms ? (result.p50_ms / result.ort_p50_ms).toFixed(2) : '-';
    console.log(
      `${id}: ${result.status === 'ran' ? `p50 ${result.p50_ms.toFixed(3)} ms` : result.error}, onnxruntime-web ${result.ort_p50_ms?.toFixed(3) ?? result.ort_error} ms (${ratio})`,
    );
  }
} finally {
  await browser.close();
  server.close();
}
if (problems.length) {
  console.error(`real-browser: the page reported errors:\n${problems.join('\n')}`);
  process.exit(1);
}
