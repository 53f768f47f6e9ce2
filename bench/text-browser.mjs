// The text benchmark (make bench-text): edgeserve's embed() against Transformers.js's
// feature-extraction pipeline in Debian's headless Chromium, cross-origin isolated, both on wasm
// with one thread, on the same model files and texts, alternating call by call
// (bench/text-page.js); then cold start (a fresh browser context each: navigation to the first
// vector) and the bytes each runtime makes a page download. Writes bench/results/text.md and
// text.json. Figures, not a test: nothing fails on a slow machine; it fails when the two
// disagree (ids or vectors) or the page reports an error.
//
//   node bench/text-browser.mjs [--rounds N]   (after make models-text, make pkg, make text-lean
//                                               and npm ci --prefix bench/text)
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve } from '../scripts/serve.mjs';
import { stripFile } from '../scripts/strip-names.mjs';

const root = fileURLToPath(new URL('../', import.meta.url));
const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1]) || 40;
const texts = join(root, process.env.EDGESERVE_TEXT_MODELS ?? 'target/models-text');
const layout = join(root, 'target/bench-text/models');
const transformers = JSON.parse(
  readFileSync(join(root, 'bench/text/node_modules/@huggingface/transformers/package.json'), 'utf8'),
).version;

// The same files for both, laid out as Transformers.js looks for them (onnx/model.onnx, config,
// tokenizer config) with edgeserve's manifest beside them.
for (const name of ['minilm-int8', 'minilm']) {
  const dir = join(layout, name);
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  copyFileSync(join(texts, name, 'model.onnx'), join(dir, 'onnx', 'model.onnx'));
  copyFileSync(join(texts, name, 'tokenizer.json'), join(dir, 'tokenizer.json'));
  copyFileSync(join(texts, name, 'manifest.json'), join(dir, 'edgeserve.json'));
  const max = JSON.parse(readFileSync(join(texts, name, 'manifest.json'), 'utf8')).preprocessing.maxLength;
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({
      model_type: 'bert',
      architectures: ['BertModel'],
      hidden_size: 384,
      num_attention_heads: 12,
      num_hidden_layers: 6,
      vocab_size: 30522,
      max_position_embeddings: 512,
    }),
  );
  writeFileSync(
    join(dir, 'tokenizer_config.json'),
    JSON.stringify({
      tokenizer_class: 'BertTokenizer',
      do_lower_case: true,
      model_max_length: max,
      clean_up_tokenization_spaces: true,
      pad_token: '[PAD]',
      unk_token: '[UNK]',
      cls_token: '[CLS]',
      sep_token: '[SEP]',
      mask_token: '[MASK]',
    }),
  );
}

// The files a page fetched, as they are on disk (a response body read through the browser misses
// what was compiled while streaming): raw and gzip bytes.
const RUNTIME = ['/pkg/', '/bench/text/node_modules/', '/target/text-bytes/lean-relaxed/'];
function size(paths) {
  const sizes = paths.map(p => {
    const b = readFileSync(join(root, decodeURIComponent(p)));
    return { raw: b.length, gzip: gzipSync(b).length };
  });
  return { raw: sizes.reduce((s, x) => s + x.raw, 0), gzip: sizes.reduce((s, x) => s + x.gzip, 0) };
}
// Without the name section, as scripts/package.mjs ships pkg/'s.
stripFile(join(root, 'target/text-bytes/lean-relaxed/edgeserve_bg.wasm'));

const sentences = JSON.parse(readFileSync(join(root, 'www/data/sentences.json'), 'utf8'));
const plan = {
  short: 'A man is playing a guitar on the street while people walk by.',
  long: sentences.slice(0, 11).join(' '),
  batch: sentences.slice(0, 64),
  rounds,
};

const server = await serve(root, 0);
const url = `http://127.0.0.1:${server.address().port}/bench/text-page.html`;
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
const results = { transformers, chromium: browser.version(), models: {}, cold: {} };
try {
  const page = await browser.newPage();
  watch(page);
  page.setDefaultTimeout(0);
  await page.goto(url);
  await page.waitForFunction(() => document.body.dataset.ready === '1');
  results.isolated = await page.evaluate(() => crossOriginIsolated);
  for (const name of ['minilm-int8', 'minilm']) {
    const agree = await page.evaluate(n => window.loadBoth(n), name);
    if (!agree.sameIds || !(agree.cosine > 0.99))
      throw new Error(`${name}: edgeserve and Transformers.js disagree: ${JSON.stringify(agree)}`);
    results.models[name] = { agree, ...(await page.evaluate(([n, p]) => window.measure(n, p), [name, plan])) };
    console.log(name, JSON.stringify(results.models[name]));
  }
  await page.close();
  // Cold start and bytes: a fresh context (empty cache) per run; the runtime's files and the
  // model's counted apart (the lean build has the model in its wasm).
  for (const which of ['edgeserve', 'edgeserve-lean', 'transformers']) {
    const runs = [];
    let bytes = null;
    for (let i = 0; i < 3; i++) {
      const context = await browser.newContext();
      const fresh = await context.newPage();
      watch(fresh);
      const fetched = new Set();
      fresh.on('response', r => fetched.add(new URL(r.url()).pathname));
      await fresh.goto(url);
      await fresh.waitForFunction(() => document.body.dataset.ready === '1');
      runs.push(await fresh.evaluate(w => window.coldStart(w, 'minilm-int8'), which));
      // The runtime's files, as they are on disk (a response body read through the browser
      // misses what was compiled while streaming).
      const runtime = [...fetched].filter(p => RUNTIME.some(r => p.startsWith(r)));
      const model = [...fetched].filter(p => p.startsWith('/target/bench-text/models/'));
      bytes = { runtime: size(runtime), model: size(model), files: [...runtime, ...model] };
      await context.close();
    }
    results.cold[which] = { first_vector_ms: runs.sort((a, b) => a - b)[1], runs, bytes };
    console.log(
      which,
      'cold start',
      results.cold[which].first_vector_ms.toFixed(0),
      'ms,',
      ((bytes.runtime.gzip + bytes.model.gzip) / 1e6).toFixed(2),
      'MB gzip in all',
    );
  }
} finally {
  await browser.close();
  server.close();
}
if (problems.length) {
  console.error(`text-browser: the page reported errors:\n${problems.join('\n')}`);
  process.exit(1);
}

const f = (x, d = 2) => x.toFixed(d);
const lines = [
  '# Text: edgeserve against Transformers.js (Chromium)',
  '',
  `Written by \`make bench-text\` (bench/text-browser.mjs). Chromium ${results.chromium}, cross-origin isolated: ${results.isolated}. ` +
    `Transformers.js ${transformers} (its web build, onnxruntime-web on wasm, 1 thread) against edgeserve's full build (its init() picks the relaxed-SIMD wasm where the browser has it), ` +
    'the same model files and texts, alternating call by call after seconds of warm-up calls of each (V8 optimizes the code of a wasm module in the background, function by function); p50 of each. End to end: tokenize, infer, pool (mean), normalise. ' +
    'Ratios below 1 (time) or above 1 (throughput) favour edgeserve.',
  '',
  '| model | what | tokens | edgeserve p50 ms | Transformers.js p50 ms | ratio | target |',
  '|---|---|---:|---:|---:|---:|---|',
];
for (const [name, m] of Object.entries(results.models)) {
  lines.push(
    `| ${name} | one sentence | ${m.short.tokens} | ${f(m.short.edgeserve_p50_ms)} | ${f(m.short.transformers_p50_ms)} | ${f(m.short.ratio)} | <= 0.7 |`,
  );
  lines.push(
    `| ${name} | one long text | ${m.long.tokens} | ${f(m.long.edgeserve_p50_ms)} | ${f(m.long.transformers_p50_ms)} | ${f(m.long.ratio)} | <= 0.7 |`,
  );
  lines.push(
    `| ${name} | tokenization alone (the long text) | ${m.tokenize.tokens} | ${f(m.tokenize.edgeserve_p50_ms, 3)} | ${f(m.tokenize.transformers_p50_ms, 3)} | ${f(m.tokenize.ratio)} | <= 0.5 |`,
  );
  lines.push(
    `| ${name} | ${m.batch.texts} sentences as one batch: texts/s | | ${f(m.batch.edgeserve_texts_per_s, 0)} | ${f(m.batch.transformers_texts_per_s, 0)} | ${f(m.batch.throughput_ratio)} (throughput) | >= 1.3 |`,
  );
}
lines.push(
  '',
  '## Cold start and bytes (minilm-int8)',
  '',
  "A fresh browser context each run (empty cache): from navigation to the first vector, median of 3. Bytes: the files the page fetched, raw and gzip (zlib, default level): the runtime's (JavaScript and wasm) and the model's (model.onnx, tokenizer.json, edgeserve's manifest; the same files for the full build and Transformers.js). The lean build (`make text-lean`) has minilm-int8 compiled into its wasm, in its NNEF form (8-bit weights, edgeserve's integer operators), and no ONNX parser.",
  '',
);
lines.push(
  '| runtime | first vector ms | runtime gzip MB | model gzip MB | total gzip MB | total raw MB |',
  '|---|---:|---:|---:|---:|---:|',
);
const runtimeName = {
  edgeserve: 'edgeserve, full build (the model fetched beside it)',
  'edgeserve-lean': 'edgeserve, lean build with minilm-int8 compiled in',
  transformers: `Transformers.js ${transformers}`,
};
for (const [which, c] of Object.entries(results.cold)) {
  const { runtime, model } = c.bytes;
  lines.push(
    `| ${runtimeName[which]} | ${f(c.first_vector_ms, 0)} | ${f(runtime.gzip / 1e6)} | ${f(model.gzip / 1e6)} | ${f((runtime.gzip + model.gzip) / 1e6)} | ${f((runtime.raw + model.raw) / 1e6)} |`,
  );
}
mkdirSync(join(root, 'bench/results'), { recursive: true });
writeFileSync(join(root, 'bench/results/text.md'), `${lines.join('\n')}\n`);
writeFileSync(join(root, 'bench/results/text.json'), `${JSON.stringify(results, null, 1)}\n`);
console.log(lines.join('\n'));
