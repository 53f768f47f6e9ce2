// Completes the npm package that scripts/wasm-build.sh wrote into pkg/ (the full build) and target/pkg-lean/
// (the lean build): adds the JavaScript that must be JavaScript (js/client.js + js/worker.js: the
// Worker and its client; js/guard.js; js/load.js: which wasm build to load; js/audio.js +
// js/audio-worklet.js: a microphone through an AudioWorklet, compressed audio files; js/image.js:
// the browser's images as ImageData) and an entry point,
// index.js, that exports the wasm API and WorkerModel together; puts the lean build into pkg/lean/
// (`import ... from 'edgeserve/lean'`); adds each build's relaxed-SIMD twin
// (target/pkg-relaxed/, target/pkg-lean-relaxed/) as edgeserve_relaxed_bg.wasm beside it, and the
// full build's threaded variant (target/pkg-threads/: atomics, shared memory) into pkg/threads/
// with its pool Worker (js/pool-worker.js). The entry's exports come through api.js, whose live
// bindings init() points at the threaded build's glue when it loads that one.
// Run by `make pkg`.
//
// With `--fetched DIRS` (a `:`-separated list, as EDGESERVE_FETCHED; `make pkg` gives
// target/models-text:target/models-audio:target/models-ocr), the packages under each directory
// (made by `make models-text`, `make models-audio` and `make models-ocr`; the full build lists
// them, see build.rs) go into pkg/models/<name>/: their manifest, model.onnx, tokenizer and other
// graphs, which `Model.load(name)` fetches on demand.
//
// Each build's edgeserve.d.ts says what Model.load returns for which name: a Promise of the Model
// for the packages fetched on demand, the Model itself for the embedded ones.
//
// With `--lean-only DIR` (`make lean-pkg`), the lean build alone (its packages those of
// EDGESERVE_MODELS) becomes a package of its own in DIR, `edgeserve` with the lean build as its
// entry point: what a page that serves only its own packages installs.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { stripFile } from './strip-names.mjs';

const pkg = new URL('../pkg/', import.meta.url);
const leanBuild = new URL('../target/pkg-lean/', import.meta.url);
const relaxedBuild = new URL('../target/pkg-relaxed/', import.meta.url);
const leanRelaxedBuild = new URL('../target/pkg-lean-relaxed/', import.meta.url);
const threadedBuild = new URL('../target/pkg-threads/', import.meta.url);
const lean = new URL('lean/', pkg);
const js = new URL('../js/', import.meta.url);

// Every class that owns wasm memory is guarded (js/guard.js): a use after free() throws a clear
// Error (code BAD_INPUT), a trap poisons the instance (code INTERNAL).
const exports = `export { default, relaxedSimd, threadsSupported, defaultThreads, wasmBuild, wasmUrl } from './load.js';
export { WorkerModel } from './client.js';
export { trapped } from './guard.js';
export { listen, decodeAudio } from './audio.js';
export { imageData } from './image.js';
`;
const glue = [
  'client.js',
  'client.d.ts',
  'worker.js',
  'guard.js',
  'guard.d.ts',
  'load.js',
  'load.d.ts',
  'audio.js',
  'audio.d.ts',
  'audio-worklet.js',
  'image.js',
  'image.d.ts',
];

/** The names a wasm-bindgen glue exports, but its init (`default`). */
function glueExports(file) {
  const text = readFileSync(file, 'utf8');
  const names = [...text.matchAll(/^export (?:class|function|const|let) (\w+)/gm)].map(m => m[1]);
  for (const list of text.matchAll(/^export \{([^}]*)\};/gm)) {
    for (const item of list[1].split(',')) {
      const name = item
        .trim()
        .split(/\s+as\s+/)
        .pop();
      if (name && name !== 'default') names.push(name);
    }
  }
  return names;
}

/**
 * api.js: the wasm API as live bindings, edgeserve.js's (the single-threaded glue) until init()
 * loads the threaded build and calls useGlue with its glue.
 */
function apiModule(names) {
  return `// The wasm API of the build init() loaded (load.js): the single-threaded glue's (edgeserve.js)
// until init() starts the threaded build (threads/edgeserve.js), then that build's. The exports
// are live bindings, so what a caller imported points at the loaded build once init() resolves.
// Written by scripts/package.mjs.
import * as single from './edgeserve.js';
import { guardAll } from './guard.js';

guardAll(single);
${names.map(n => `export let ${n} = single.${n};`).join('\n')}

/** Points every export at \`glue\`'s (the threaded build's), guarded. */
export function useGlue(glue) {
  guardAll(glue);
  ({ ${names.join(', ')} } = glue);
}
`;
}

/**
 * Adds the glue and the entry point next to a wasm-bindgen output (edgeserve.js + its wasm);
 * `threaded`: whether a threaded build goes beside it (threads.js loads it; else no-threads.js).
 */
function complete(dir, what, threaded) {
  for (const file of glue) cpSync(new URL(file, js), new URL(file, dir));
  cpSync(new URL(threaded ? 'threads.js' : 'no-threads.js', js), new URL('threads.js', dir));
  const names = glueExports(new URL('edgeserve.js', dir));
  writeFileSync(new URL('api.js', dir), apiModule(names));
  const entry = `// ${what}: the wasm API (api.js: the loaded build's edgeserve.js) and the Worker client.
export { ${names.join(', ')} } from './api.js';
${exports}`;
  writeFileSync(new URL('index.js', dir), entry);
  writeFileSync(new URL('index.d.ts', dir), `// Types of ${what}.\nexport * from './edgeserve.js';\n${exports}`);
}

/**
 * Puts the threaded build into `dir`threads/ with its pool Worker: its glue must export every
 * name of the single-threaded one (api.js switches each of them to it).
 */
function threadedTwin(from, dir) {
  if (!existsSync(new URL('edgeserve_bg.wasm', from)))
    throw new Error(`${from.pathname}: no threaded build (make pkg builds it)`);
  const out = new URL('threads/', dir);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  for (const f of ['edgeserve.js', 'edgeserve_bg.wasm', 'snippets']) {
    if (existsSync(new URL(f, from))) cpSync(new URL(f, from), new URL(f, out), { recursive: true });
  }
  cpSync(new URL('pool-worker.js', js), new URL('pool-worker.js', out));
  const threaded = new Set(glueExports(new URL('edgeserve.js', out)));
  const missing = glueExports(new URL('edgeserve.js', dir)).filter(n => !threaded.has(n));
  if (missing.length)
    throw new Error(
      `${from.pathname}edgeserve.js lacks ${missing.join(', ')}: the threaded build must export what the single-threaded one does`,
    );
  for (const n of ['threadPoolShared', 'startThreadPool', 'runPoolThread']) {
    if (!threaded.has(n))
      throw new Error(`${from.pathname}edgeserve.js has no ${n}: not built with the threads feature`);
  }
}

/** The npm fields of a package whose entry is index.js, with `extra` entries and files. */
function packageJson(manifest, extraExports = {}, extraFiles = [], extraSideEffects = []) {
  manifest.main = 'index.js';
  manifest.module = 'index.js';
  manifest.types = 'index.d.ts';
  manifest.exports = { '.': { types: './index.d.ts', default: './index.js' }, ...extraExports, './*': './*' };
  manifest.files = [
    ...new Set([
      ...(manifest.files ?? []),
      'index.js',
      'index.d.ts',
      'edgeserve_relaxed_bg.wasm',
      ...glue,
      'api.js',
      'threads.js',
      'snippets',
      ...extraFiles,
    ]),
  ];
  manifest.sideEffects = [
    './index.js',
    './guard.js',
    './edgeserve.js',
    './worker.js',
    './load.js',
    './api.js',
    './audio-worklet.js',
    './snippets/*',
    ...extraSideEffects,
  ];
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

/** Copies a wasm-build output (and its relaxed-SIMD twin) into `dir` and completes it. */
function assemble(build, relaxed, dir, what, threaded) {
  if (!existsSync(new URL('edgeserve_bg.wasm', build)))
    throw new Error(`${build.pathname}: no build (make pkg builds it)`);
  if (!existsSync(new URL('edgeserve_bg.wasm', relaxed))) {
    throw new Error(`${relaxed.pathname}: no relaxed-SIMD build (make pkg builds it)`);
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const built = ['edgeserve.js', 'edgeserve.d.ts', 'edgeserve_bg.wasm', 'edgeserve_bg.wasm.d.ts', 'snippets'];
  for (const f of built) {
    if (existsSync(new URL(f, build))) cpSync(new URL(f, build), new URL(f, dir), { recursive: true });
  }
  complete(dir, what, threaded);
}

/** Puts a relaxed-SIMD build's wasm beside the baseline one in `dir` (their glues must agree). */
function twin(from, dir) {
  const wasm = new URL('edgeserve_bg.wasm', from);
  if (!existsSync(wasm)) throw new Error(`${from.pathname}: no relaxed-SIMD build (make pkg builds it)`);
  if (readFileSync(new URL('edgeserve.js', from), 'utf8') !== readFileSync(new URL('edgeserve.js', dir), 'utf8')) {
    throw new Error(
      `${from.pathname}edgeserve.js differs from ${dir.pathname}edgeserve.js: the relaxed-SIMD build needs a glue of its own`,
    );
  }
  cpSync(wasm, new URL('edgeserve_relaxed_bg.wasm', dir));
}

/** The line wasm-bindgen writes for Model.load (its return type covers both kinds of package). */
const LOAD_TYPE = 'static load(name: string, options?: LoadOptions | null): Model | Promise<Model>;';

/** Types Model.load by name in `dir`'s edgeserve.d.ts: `fetched` (names) give a Promise<Model>. */
function typeLoad(dir, fetched) {
  const file = new URL('edgeserve.d.ts', dir);
  const types = readFileSync(file, 'utf8');
  if (!types.includes(LOAD_TYPE)) throw new Error(`${file.pathname}: no \`${LOAD_TYPE}\` to type by name`);
  const names = fetched.map(n => JSON.stringify(n)).join(' | ');
  const indent = types.slice(types.lastIndexOf('\n', types.indexOf(LOAD_TYPE)) + 1, types.indexOf(LOAD_TYPE));
  const load = fetched.length
    ? `static load(name: FetchedModelName, options?: LoadOptions | null): Promise<Model>;\n${indent}static load(name: string, options?: LoadOptions | null): Model;`
    : 'static load(name: string, options?: LoadOptions | null): Model;';
  const alias = `/** Names of the packages shipped beside this build's wasm, which Model.load fetches. */
export type FetchedModelName = ${names || 'never'};
`;
  writeFileSync(file, types.replace(LOAD_TYPE, load) + alias);
}

/** Copies the packages under each of `froms` (directories with a manifest.json) into `dir`models/: their names. */
function shipPackages(froms, dir) {
  const out = new URL('models/', dir);
  rmSync(out, { recursive: true, force: true });
  const found = froms.flatMap(from =>
    readdirSync(from, { withFileTypes: true })
      .filter(d => d.isDirectory() && existsSync(new URL(`${d.name}/manifest.json`, from)))
      .map(d => ({ name: d.name, src: new URL(`${d.name}/`, from) })),
  );
  const names = found.map(p => p.name).sort();
  const twice = names.find((n, i) => names[i + 1] === n);
  if (twice) throw new Error(`model package ${twice} is in two of the --fetched directories`);
  for (const { name, src } of found) {
    const manifest = JSON.parse(readFileSync(new URL('manifest.json', src), 'utf8'));
    const files = ['manifest.json', 'model.onnx'];
    if (manifest.preprocessing?.tokenizer) files.push(manifest.preprocessing.tokenizer.file);
    // An OCR package's other graphs.
    for (const stage of Object.values(manifest.ocr ?? {})) if (stage?.file) files.push(stage.file);
    mkdirSync(new URL(`${name}/`, out), { recursive: true });
    for (const f of files) cpSync(new URL(f, src), new URL(`${name}/${f}`, out));
    writeFileSync(
      new URL(`${name}/NOTICE`, out),
      `${manifest.name}: ${manifest.description}\nSource: ${manifest.training?.source ?? 'see manifest.json'}\n`,
    );
  }
  return names;
}

const leanOnly = process.argv.indexOf('--lean-only');
if (leanOnly >= 0) {
  const out = pathToFileURL(`${resolve(process.argv[leanOnly + 1] ?? 'lean-pkg')}/`);
  assemble(
    leanBuild,
    leanRelaxedBuild,
    out,
    "edgeserve's lean build (its embedded packages only, no ONNX parser)",
    false,
  );
  twin(leanRelaxedBuild, out);
  for (const wasm of ['edgeserve_bg.wasm', 'edgeserve_relaxed_bg.wasm']) stripFile(new URL(wasm, out));
  typeLoad(out, []);
  const manifest = JSON.parse(readFileSync(new URL('package.json', leanBuild), 'utf8'));
  writeFileSync(new URL('package.json', out), packageJson(manifest));
  console.log(`${out.pathname}: the lean build as a package of its own (${manifest.name} ${manifest.version})`);
  process.exit(0);
}

complete(pkg, 'The edgeserve npm package (the full build: ONNX parser, models loaded at run time)', true);

assemble(
  leanBuild,
  leanRelaxedBuild,
  lean,
  "edgeserve's lean build (edgeserve/lean: embedded packages only, in their rows form (no tract) or NNEF form; no ONNX parser)",
  false,
);

const fetchedAt = process.argv.indexOf('--fetched');
const fetched =
  fetchedAt >= 0
    ? shipPackages(
        process.argv[fetchedAt + 1]
          .split(delimiter)
          .filter(Boolean)
          .map(d => pathToFileURL(`${resolve(d)}/`)),
        pkg,
      )
    : [];
typeLoad(pkg, fetched);
typeLoad(lean, []);

// The relaxed-SIMD twins: the same code, so the same glue; load.js picks the wasm at init().
twin(relaxedBuild, pkg);
twin(leanRelaxedBuild, lean);
threadedTwin(threadedBuild, pkg);

// The wasm's `name` section (function names, ~1.1 MB raw, ~0.25 MB gzip) goes: bytes every
// visitor would download. Panic messages still reach console.error; stack frames lose names.
for (const dir of [pkg, lean]) {
  for (const wasm of ['edgeserve_bg.wasm', 'edgeserve_relaxed_bg.wasm']) {
    console.log(`${new URL(wasm, dir).pathname}: name section of ${stripFile(new URL(wasm, dir))} bytes dropped`);
  }
}
const threadedWasm = new URL('threads/edgeserve_bg.wasm', pkg);
console.log(`${threadedWasm.pathname}: name section of ${stripFile(threadedWasm)} bytes dropped`);

const manifest = JSON.parse(readFileSync(new URL('package.json', pkg), 'utf8'));
writeFileSync(
  new URL('package.json', pkg),
  packageJson(
    manifest,
    { './lean': { types: './lean/index.d.ts', default: './lean/index.js' } },
    ['lean', 'threads', ...(fetched.length ? ['models'] : [])],
    ['./lean/*', './threads/*'],
  ),
);
console.log(
  `pkg/: ${manifest.name} ${manifest.version}, entries index.js and lean/index.js, files ${manifest.files.join(' ')}; fetched on demand: ${fetched.join(' ') || 'none'}`,
);
