// The bytes a page downloads to read text with the package ocr, each way the npm package gives
// it, and each way's cold start to the first text read (bench/results/ocr-bytes.md, .json):
// - shipped beside the full build (pkg/): its JavaScript and wasm, then the three graphs of
//   models/ocr/ that `await Model.load('ocr')` fetches (the page that never reads text fetches
//   none of them);
// - compiled into the lean build (target/ocr-bytes/lean, `make ocr-lean`): the NNEF forms of the
//   three graphs in the wasm, no ONNX parser;
// - and what reading text costs a page that does not: pkg/'s wasm against the full build without
//   the `ocr` feature and package (target/ocr-bytes/without-ocr).
// Bytes from the files on disk, raw and gzip (zlib, default level), the baseline SIMD wasm of
// each, without its name section (as scripts/package.mjs ships it). Cold start: from a fresh Node
// process's start (bench/ocr-cold.mjs), and from a fresh Chromium page's navigation
// (bench/ocr-cold.html, a new browser context each time, served from a local server), to the
// first readText() of the test image `receipt`, alternating ways; p50 of --runs each. Each way
// must read what RapidOCR reads.
//
//   node bench/ocr-bytes.mjs [--runs N] [--image NAME]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stripFile } from '../scripts/strip-names.mjs';
import { size } from './bytes.mjs';
import { serve } from '../scripts/serve.mjs';
import { launch } from '../tests/e2e/browser.mjs';

const root = fileURLToPath(new URL('../', import.meta.url));
const arg = (name, fallback) => {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : fallback;
};
const runs = Number(arg('--runs', 7));
const imageName = arg('--image', 'receipt');
const builds = join(root, 'target/ocr-bytes');
const made = process.env.EDGESERVE_OCR_MODELS ?? join(root, 'target/models-ocr');
const golden = JSON.parse(readFileSync(join(made, 'golden.json'), 'utf8'));
const entry = golden.images.find(e => e.name === imageName);
const want = entry.reference.lines.map(l => l.text);
const image = join(made, 'images', `${imageName}.rgb`);

/** The JavaScript a page loads from `entry`: it and every module it imports by a relative path. */
function modules(entry, seen = new Set()) {
  if (seen.has(entry)) return seen;
  seen.add(entry);
  const text = readFileSync(entry, 'utf8');
  for (const m of text.matchAll(/(?:from\s*|import\s*\(\s*|import\s+)['"](\.{1,2}\/[^'"]+\.js)['"]/g)) {
    const next = join(dirname(entry), m[1]);
    if (existsSync(next)) modules(next, seen);
  }
  return seen;
}

for (const b of ['lean', 'without-ocr']) stripFile(join(builds, b, 'edgeserve_bg.wasm'));
const pkg = join(root, 'pkg');
const ways = {
  shipped: {
    what: "shipped beside the full build (pkg/), its three graphs fetched by `await Model.load('ocr')`",
    runtime: size([...modules(join(pkg, 'index.js')), join(pkg, 'edgeserve_bg.wasm')]),
    model: size(['model.onnx', 'classifier.onnx', 'recognizer.onnx'].map(f => join(pkg, 'models/ocr', f))),
  },
  lean: {
    what: 'compiled into the lean build (its three NNEF forms in the wasm, no ONNX parser)',
    runtime: size([...modules(join(builds, 'lean/edgeserve.js')), join(builds, 'lean/edgeserve_bg.wasm')]),
    model: { raw: 0, gzip: 0 },
  },
};
const wasm = {
  pkg: size([join(pkg, 'edgeserve_bg.wasm')]),
  withoutOcr: size([join(builds, 'without-ocr/edgeserve_bg.wasm')]),
};

const median = xs => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const check = (way, where, result) => {
  if (result.error) throw new Error(`${way} in ${where}: ${result.error}`);
  const found = result.texts.filter(t => want.includes(t)).length;
  if (found < want.length)
    throw new Error(`${way} in ${where} reads ${JSON.stringify(result.texts)}, RapidOCR ${JSON.stringify(want)}`);
};

// Node: fresh processes, alternating.
const node = { shipped: [], lean: [] };
for (let i = 0; i < runs; i++) {
  for (const way of Object.keys(node)) {
    const args = [join(root, 'bench/ocr-cold.mjs'), way, image, String(entry.width), String(entry.height)];
    const result = JSON.parse(execFileSync(process.execPath, args, { encoding: 'utf8' }));
    check(way, 'Node', result);
    node[way].push(result.firstMs);
  }
}

// Chromium: a fresh browser context per run (no HTTP or compiled-code cache), alternating.
const chromium = { shipped: [], lean: [] };
const server = await serve(root, 0);
const browser = await launch();
const problems = [];
try {
  const base = `http://127.0.0.1:${server.address().port}/bench/ocr-cold.html`;
  const imagePath = relative(root, image);
  for (let i = 0; i < runs; i++) {
    for (const way of Object.keys(chromium)) {
      const context = await browser.newContext();
      const page = await context.newPage();
      page.on('pageerror', e => problems.push(e.message));
      page.on('console', m => m.type() === 'error' && problems.push(m.text()));
      await page.goto(`${base}?way=${way}&image=${imagePath}&width=${entry.width}&height=${entry.height}`);
      await page.waitForFunction(() => document.body.dataset.result, null, { timeout: 120_000 });
      const result = JSON.parse(await page.evaluate(() => document.body.dataset.result));
      check(way, 'Chromium', result);
      chromium[way].push(result.firstMs);
      await context.close();
    }
  }
} finally {
  await browser.close();
  server.close();
}
if (problems.length) throw new Error(`the page reported errors:\n${problems.join('\n')}`);

const cold = way => ({ node: median(node[way]), chromium: median(chromium[way]) });
for (const way of Object.keys(ways)) ways[way].coldStartMs = cold(way);
const mb = b => (b / 1e6).toFixed(2);
const kb = b => (b / 1e3).toFixed(1);
const ms = x => x.toFixed(0);
const lines = [
  '# OCR: the bytes a page downloads to read text, each way, and the cold start',
  '',
  `Written by \`make bench-ocr-bytes\` (bench/ocr-bytes.mjs), from the files a page fetches: the package's JavaScript and its wasm (the baseline SIMD build, without its name section), and the graphs where they are apart; gzip as a server sends them (zlib, default level). Cold start: p50 of ${runs} fresh Node ${process.version} processes, and of ${runs} fresh Chromium ${browser.version()} pages (a new context each, served from a local server), from the start to the first readText() of \`${imageName}\` (${entry.width} x ${entry.height}, ${want.length} lines; each run read what RapidOCR reads), alternating ways; the shipped release profile.`,
  '',
  '| way | runtime raw MB | runtime gzip MB | graphs raw MB | graphs gzip MB | total gzip MB | cold start, Node ms | cold start, Chromium ms |',
  '|---|---:|---:|---:|---:|---:|---:|---:|',
];
for (const w of Object.values(ways)) {
  lines.push(
    `| ${w.what} | ${mb(w.runtime.raw)} | ${mb(w.runtime.gzip)} | ${mb(w.model.raw)} | ${mb(w.model.gzip)} | ${mb(w.runtime.gzip + w.model.gzip)} | ${ms(w.coldStartMs.node)} | ${ms(w.coldStartMs.chromium)} |`,
  );
}
lines.push(
  '',
  `A page that does not read text: the full build's wasm is ${kb(wasm.pkg.raw - wasm.withoutOcr.raw)} kB raw, ${kb(wasm.pkg.gzip - wasm.withoutOcr.gzip)} kB gzip larger with the \`ocr\` feature and the package listed (the OCR pipeline's code: contours, perspective warp, CTC decoding; and the package's manifest) than the same build without them (${mb(wasm.withoutOcr.raw)} MB raw, ${mb(wasm.withoutOcr.gzip)} MB gzip).`,
  '',
  `Runs, ms: Node shipped ${node.shipped.map(ms).join(', ')}; lean ${node.lean.map(ms).join(', ')}. Chromium shipped ${chromium.shipped.map(ms).join(', ')}; lean ${chromium.lean.map(ms).join(', ')}.`,
);
mkdirSync(join(root, 'bench/results'), { recursive: true });
writeFileSync(join(root, 'bench/results/ocr-bytes.md'), `${lines.join('\n')}\n`);
writeFileSync(
  join(root, 'bench/results/ocr-bytes.json'),
  `${JSON.stringify({ image: imageName, runs, ways, wasm, node, chromium }, null, 1)}\n`,
);
console.log(lines.join('\n'));
