// The benchmark in Debian's headless Chromium (playwright-core): the repository served with
// COOP/COEP (cross-origin isolated: a 5 us clock, and SharedArrayBuffer for onnxruntime-web's
// threads and edgeserve's threaded build), bench/page.html measuring edgeserve against
// onnxruntime-web with 1 thread each, then with 2 threads each (this machine's cores), alternating
// in the same page. Cold
// starts: a fresh browser context (empty cache) per start, alternating runtimes. Writes JSON
// (default bench/results/chromium.json); prints figures; asserts nothing about speed.
//
//   node bench/browser.mjs [--smoke] [--models a,b] [--out file]
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve } from '../scripts/serve.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const smoke = process.argv.includes('--smoke');
const root = fileURLToPath(new URL('../', import.meta.url));
const out = arg('--out', `${root}bench/results/${smoke ? 'chromium-smoke' : 'chromium'}.json`);
const index = JSON.parse(readFileSync(`${root}target/bench-models/index.json`, 'utf8'));
const models =
  arg('--models', null)?.split(',') ??
  index.models.map(m => m.name ?? m).filter(n => !smoke || ['digits-accurate', 'cnn-small'].includes(n));

const server = await serve(root, 0);
const base = `http://127.0.0.1:${server.address().port}/bench/page.html`;
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
const watch = page => {
  page.on('pageerror', e => problems.push(e.message));
  page.on('console', m => m.type() === 'error' && problems.push(m.text()));
};

try {
  const measured = {};
  let info;
  for (const threads of smoke ? [1] : [1, 2]) {
    const page = await browser.newPage();
    watch(page);
    await page.goto(`${base}?threads=${threads}`);
    await page.waitForFunction(() => document.body.dataset.ready === '1');
    const pageResult = await page.evaluate(o => window.bench(o), { models, smoke });
    // The environment of the 1-thread page (its build is the one init() picks by default).
    if (threads === 1) info = pageResult;
    for (const [name, r] of Object.entries(pageResult.results)) {
      measured[name] ??= {};
      for (const [runtime, figures] of Object.entries(r)) {
        // Each page's runtimes are named by their thread count (edgeserve's 1-thread figures
        // are plain `edgeserve`, beside the 1-thread onnxruntime-web).
        measured[name][runtime] = figures;
      }
    }
    await page.close();
  }
  // Cold starts: a new context per start (nothing cached), alternating runtimes.
  for (const name of models) {
    const runs = { edgeserve: [], 'onnxruntime-web': [] };
    for (let r = 0; r < (smoke ? 1 : 5); r++) {
      for (const which of Object.keys(runs)) {
        const context = await browser.newContext();
        const page = await context.newPage();
        watch(page);
        const embedded = which === 'edgeserve' && existsSync(`${root}models/${name}/manifest.json`);
        await page.goto(`${base}?cold=${which}&model=${name}${embedded ? '&embedded=1' : ''}`);
        await page.waitForFunction(() => document.body.dataset.done === '1' || document.body.dataset.error, null, {
          timeout: 120_000,
        });
        const d = await page.evaluate(() => ({ ...document.body.dataset }));
        if (d.error) throw new Error(`cold start of ${which} on ${name}: ${d.error}`);
        runs[which].push({
          firstMs: Number(d.firstMs),
          wasmMemoryBytes: Number(d.wasmMemoryBytes),
          reloadedWasmMemoryBytes: Number(d.reloadedWasmMemoryBytes),
          from: d.from,
        });
        await context.close();
      }
    }
    for (const [which, list] of Object.entries(runs)) {
      const sorted = list.map(x => x.firstMs).sort((a, b) => a - b);
      Object.assign(measured[name][which], {
        coldStartMs: sorted[sorted.length >> 1],
        coldStartRuns: sorted,
        coldStartFrom: list[0].from,
        wasmMemoryBytes: list[0].wasmMemoryBytes,
        reloadedWasmMemoryBytes: list[0].reloadedWasmMemoryBytes,
      });
    }
    const e = measured[name].edgeserve;
    const o = measured[name]['onnxruntime-web'];
    console.log(
      `${name}: p50 ${e.latencyMs.p50.toFixed(4)} vs ${o.latencyMs.p50.toFixed(4)} ms, p99 ${e.latencyMs.p99.toFixed(4)} vs ${o.latencyMs.p99.toFixed(4)} ms, cold ${e.coldStartMs.toFixed(1)} vs ${o.coldStartMs.toFixed(1)} ms`,
    );
  }
  if (problems.length) throw new Error(`page errors: ${problems.join('; ')}`);
  const environment = {
    runtime: info.userAgent.match(/(HeadlessChrome|Chrome)\/[\d.]+/)?.[0] ?? info.userAgent,
    edgeserveBuild: info.build,
    crossOriginIsolated: info.crossOriginIsolated,
    clockStepMs: info.clockStepMs,
    threads: smoke ? [1] : [1, 2],
    smoke,
  };
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify({ environment, models: measured }, null, 1)}\n`);
  console.log(`wrote ${out}`);
} finally {
  await browser.close();
  server.close();
}
