// The npm package where users install it: `npm pack` of pkg/, unpacked into an app whose bundlers
// are pinned in this directory's package-lock.json, built with Vite, webpack 5 and esbuild, and
// served without a bundler through an import map; each app run in Debian's Chromium by Playwright
// on both builds (`edgeserve`, `edgeserve/lean`) and both SIMD variants (Chromium runs relaxed
// SIMD, so init() loads edgeserve_relaxed_bg.wasm; with `?simd=baseline` the page asks for
// edgeserve_bg.wasm with `init({ relaxedSimd: false })`, and its Worker follows), and the full
// build with `?threads=2` (the threaded build, its pool's Workers bundled too); and the package
// in Node (ESM), on both variants (Node 20 runs relaxed SIMD only under its flag). Every app runs app/checks.js: real time, batch and
// stream on the main thread and in the package's Worker, a model loaded at run time, each
// compared here with onnxruntime's golden outputs. `make test-consumers`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { serve } from '../../scripts/serve.mjs';
import { launch, openPage } from '../e2e/browser.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const here = fileURLToPath(new URL('./', import.meta.url));
const work = `${root}target/consumers/`;
/** The package to install: pkg/ (make pkg), or EDGESERVE_PKG (a directory npm can pack). */
const pkgDir = process.env.EDGESERVE_PKG ?? `${root}pkg`;
const TOLERANCE = 1e-5;

/** The text packages' references (`make models-text`), for minilm-int8 loaded by name. */
const textModels = process.env.EDGESERVE_TEXT_MODELS ?? `${root}target/models-text`;
const minilmGolden = JSON.parse(readFileSync(`${textModels}/minilm-int8/golden.json`, 'utf8'));

const golden = Object.fromEntries(
  ['digits-accurate', 'digits-fast'].map(name => [
    name,
    JSON.parse(readFileSync(`${root}models/${name}/golden.json`, 'utf8')),
  ]),
);

/** Runs a command in the work directory: what it printed (stdout and stderr), shown when it fails. */
function run(command, args) {
  const { status, stdout, stderr, error } = spawnSync(command, args, { cwd: work, encoding: 'utf8' });
  if (error || status !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} failed (${error?.message ?? `status ${status}`}):\n${stdout}\n${stderr}`,
    );
  }
  return `${stdout}${stderr}`;
}

/** The work directory: this app, the bundlers from the lock file, edgeserve from its tarball. */
function install() {
  const lock = readFileSync(`${here}package-lock.json`, 'utf8');
  const installed =
    existsSync(`${work}node_modules/.package-lock.json`) && readFileSync(`${work}package-lock.json`, 'utf8') === lock;
  for (const entry of ['app', 'importmap', 'dist', 'models'])
    rmSync(`${work}${entry}`, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  for (const entry of [
    'package.json',
    'package-lock.json',
    'app',
    'importmap',
    'vite.config.js',
    'webpack.config.js',
    'esbuild.mjs',
  ]) {
    cpSync(`${here}${entry}`, `${work}${entry}`, { recursive: true });
  }
  if (!installed) run('npm', ['ci', '--no-audit', '--no-fund', '--ignore-scripts']);
  // What `npm install edgeserve-<version>.tgz` does for a package without dependencies.
  const tarball = run('npm', ['pack', pkgDir, '--pack-destination', work, '--silent', '--loglevel=error'])
    .trim()
    .split('\n')
    .pop();
  rmSync(`${work}node_modules/edgeserve`, { recursive: true, force: true });
  mkdirSync(`${work}node_modules/edgeserve`);
  run('tar', ['-xzf', tarball, '--strip-components=1', '-C', 'node_modules/edgeserve']);
  rmSync(`${work}${tarball}`);
  mkdirSync(`${work}models/minilm-int8`, { recursive: true });
  copyFileSync(`${textModels}/minilm-int8/golden.json`, `${work}models/minilm-int8/golden.json`);
  // The files the apps fetch: each package's model, manifest and golden outputs.
  for (const name of Object.keys(golden)) {
    mkdirSync(`${work}models/${name}`, { recursive: true });
    for (const file of ['model.onnx', 'manifest.json', 'golden.json']) {
      copyFileSync(`${root}models/${name}/${file}`, `${work}models/${name}/${file}`);
    }
  }
}

/** Each bundler's build of the two apps, as its users run it; what each printed. */
function bundle() {
  const printed = {
    vite: run('npx', ['vite', 'build']),
    webpack: run('npx', ['webpack']),
    esbuild: run('node', ['esbuild.mjs']),
  };
  for (const app of ['full', 'lean']) copyFileSync(`${work}app/${app}.html`, `${work}dist/webpack/${app}.html`);
  return printed;
}

/** The page of each consumer for each build. */
const consumers = {
  vite: build => `/dist/vite/${build}.html`,
  webpack: build => `/dist/webpack/${build}.html`,
  esbuild: build => `/dist/esbuild/${build}/${build}.html`,
  'import map': build => `/importmap/${build}.html`,
};

function close(actual, expected, what) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= TOLERANCE, `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}

/** What an app saw, against onnxruntime's golden outputs (`threads`: the pool the page asked for). */
function verify(result, build, relaxed, inBrowser, threads = 1) {
  assert.equal(result.error, undefined, result.error);
  assert.equal(result.build, build);
  const simd = threads > 1 ? 'threads' : relaxed ? 'relaxed' : 'baseline';
  assert.equal(result.threadCount, threads, 'the threads that compute');
  if (inBrowser) {
    assert.equal(result.relaxedSimd, true, 'Chromium runs relaxed SIMD');
    assert.equal(result.wasmBuild, simd, 'the build init() loaded');
    assert.equal(result.worker.wasmBuild, simd, "the Worker's build follows the page's");
  } else {
    assert.equal(result.relaxedSimd, relaxed, 'Node runs relaxed SIMD under its flag only');
    assert.equal(result.wasmBuild, null, 'initSync was given the bytes');
  }
  const shipped = build === 'full' ? ['minilm', 'minilm-int8', 'ocr', 'vad'] : [];
  assert.deepEqual([...result.names].sort(), ['digits-accurate', 'digits-fast', ...shipped]);
  if (build === 'full') {
    // minilm-int8 by name, fetched from beside the wasm: onnxruntime's vector of the same text.
    const expected = minilmGolden.texts[0].embedding;
    assert.equal(result.text.name, 'minilm-int8');
    const dot = result.text.embedding.reduce((s, x, k) => s + x * expected[k], 0);
    const norm = v => Math.hypot(...v);
    assert.ok(dot / norm(expected) / norm(result.text.embedding) > 0.995, 'minilm-int8 matches onnxruntime');
    // vad by name: 2 s at 16 kHz are 63 frames (the last one padded).
    assert.equal(result.vad?.frames, 63);
    if (inBrowser) assert.equal(result.vad.listened, true, 'the microphone through the AudioWorklet');
  } else {
    assert.equal(result.text, undefined);
    assert.equal(result.vad, undefined);
  }
  const { cases } = golden['digits-accurate'];
  const labels = cases.map(c => c.expected.label);
  assert.deepEqual(
    result.predict.map(p => p.label),
    labels,
  );
  result.predict.forEach((p, i) => close(p.scores, cases[i].expected.scores, `predict ${i} scores`));
  assert.deepEqual(result.batch.labels, labels);
  close(
    result.batch.scores,
    cases.flatMap(c => c.expected.scores),
    'predictBatch scores',
  );
  assert.deepEqual(result.stream, [...labels.map(label => ({ label })), { error: 'BAD_INPUT' }]);
  if (inBrowser) {
    assert.deepEqual(result.worker.predict, result.predict, 'the Worker predicts what the page does');
    assert.deepEqual(result.worker.batch, labels);
    assert.deepEqual(
      result.worker.stream,
      labels.map(label => ({ label })),
    );
  } else {
    assert.equal(result.worker, undefined);
  }
  if (build === 'full') {
    const fast = golden['digits-fast'].cases;
    assert.deepEqual(
      result.loaded.map(p => p.label),
      fast.map(c => c.expected.label),
    );
    result.loaded.forEach((p, i) => close(p.scores, fast[i].expected.scores, `loaded model ${i} scores`));
  } else {
    assert.deepEqual(result.loaded, { error: 'MODEL_LOAD' }, 'the lean build has no ONNX parser');
  }
  // The wasm file the page fetched (whatever the bundler named it), by its bytes.
  assert.equal(result.wasm.length, 1, `one wasm file fetched: ${result.wasm}`);
  const file = inBrowser ? `${work}${result.wasm[0]}` : result.wasm[0];
  const expected =
    threads > 1
      ? 'threads/edgeserve_bg.wasm'
      : `${build === 'lean' ? 'lean/' : ''}edgeserve_${relaxed ? 'relaxed_' : ''}bg.wasm`;
  assert.equal(packageFiles()[sha256(file)], expected, `${result.wasm[0]} is the package's ${expected}`);
}

function sha256(file) {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** The installed package's wasm files by their sha256. */
function packageFiles() {
  const files = {};
  for (const dir of ['', 'lean/']) {
    for (const wasm of ['edgeserve_bg.wasm', 'edgeserve_relaxed_bg.wasm']) {
      files[sha256(`${work}node_modules/edgeserve/${dir}${wasm}`)] = `${dir}${wasm}`;
    }
  }
  files[sha256(`${work}node_modules/edgeserve/threads/edgeserve_bg.wasm`)] = 'threads/edgeserve_bg.wasm';
  assert.equal(Object.keys(files).length, 5, 'five different wasm files');
  return files;
}

let server, browser, printed;

before(async () => {
  install();
  printed = bundle();
  server = await serve(work, 0);
  // A fake microphone, granted (the apps listen to it through the package's AudioWorklet).
  browser = await launch(['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream']);
});

after(async () => {
  await browser?.close();
  server?.close();
});

test('each bundler builds the apps without a warning', () => {
  assert.equal(printed.vite.trim(), '', 'vite (log level: warnings)');
  assert.match(printed.webpack, /compiled successfully/);
  assert.doesNotMatch(printed.webpack, /warning/i);
  assert.equal(printed.esbuild.trim(), '', 'esbuild (log level: warnings)');
});

for (const [consumer, page] of Object.entries(consumers)) {
  for (const build of ['full', 'lean']) {
    for (const simd of ['relaxed', 'baseline']) {
      test(`${consumer}, ${build} build, ${simd} SIMD: every serving mode, in the page and its Worker`, async () => {
        const problems = [];
        const query = simd === 'baseline' ? '?simd=baseline' : '';
        const url = `http://127.0.0.1:${server.address().port}${page(build)}${query}`;
        const tab = await openPage(browser, url, problems);
        const result = await tab.evaluate(() => window.result);
        await tab.close();
        verify(result, build, simd === 'relaxed', true);
        assert.deepEqual(problems, []);
      });
    }
  }
}

// The threaded build, bundled: its pool's Workers (threads/pool-worker.js, started with the URL
// inside `new Worker(...)`) and their glue found by the bundler, in the page and in the
// WorkerModel, each with a pool of 2 (the server isolates its pages: COOP and COEP).
for (const consumer of Object.keys(consumers)) {
  test(`${consumer}, full build, 2 threads: every serving mode, in the page and its Worker`, async () => {
    const problems = [];
    const url = `http://127.0.0.1:${server.address().port}${consumers[consumer]('full')}?threads=2`;
    const tab = await openPage(browser, url, problems);
    const result = await tab.evaluate(() => window.result);
    await tab.close();
    verify(result, 'full', true, true, 2);
    assert.deepEqual(problems, []);
  });
}

for (const simd of ['relaxed', 'baseline']) {
  test(`Node ESM, both builds, ${simd} SIMD: every serving mode`, () => {
    // Node 20's V8 has relaxed SIMD behind a flag, and sometimes computes a relaxed int8 product
    // wrong while a function tiers up from Liftoff to TurboFan (the Makefile's test-js says how
    // it was found): TurboFan alone here.
    const flags = simd === 'relaxed' ? ['--experimental-wasm-relaxed-simd', '--no-liftoff'] : [];
    const lines = run('node', [...flags, 'app/node.mjs'])
      .trim()
      .split('\n');
    const results = lines.map(line => JSON.parse(line));
    assert.deepEqual(
      results.map(r => r.build),
      ['full', 'lean'],
    );
    for (const result of results) verify(result, result.build, simd === 'relaxed', false);
  });
}

test('docs/bundlers.md shows these configurations verbatim', () => {
  const page = readFileSync(`${root}docs/bundlers.md`, 'utf8');
  for (const file of ['vite.config.js', 'webpack.config.js', 'esbuild.mjs', 'importmap/full.html']) {
    assert.ok(page.includes(readFileSync(`${here}${file}`, 'utf8')), `docs/bundlers.md shows ${file} as it is`);
  }
});
