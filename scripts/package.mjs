// Completes the npm package that scripts/wasm-build.sh wrote into pkg/ (the full build) and target/pkg-lean/
// (the lean build): adds the JavaScript that must be JavaScript (js/client.js + js/worker.js: the
// Worker and its client; js/guard.js; js/load.js: which wasm build to load; js/audio.js +
// js/audio-worklet.js: a microphone through an AudioWorklet, compressed audio files; js/image.js:
// the browser's images as ImageData) and an entry point,
// index.js, that exports the wasm API and WorkerModel together; puts the lean build into pkg/lean/
// (`import ... from 'edgeserve/lean'`); adds each build's relaxed-SIMD twin
// (target/pkg-relaxed/, target/pkg-lean-relaxed/) as edgeserve_relaxed_bg.wasm beside it.
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
const lean = new URL('lean/', pkg);
const js = new URL('../js/', import.meta.url);

// Every class that owns wasm memory is guarded (js/guard.js): a use after free() throws a clear
// Error (code BAD_INPUT), a trap poisons the instance (code INTERNAL).
const exports = `export * from './edgeserve.js';
export { default, relaxedSimd, wasmBuild, wasmUrl } from './load.js';
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

/** Adds the glue and the entry point next to a wasm-bindgen output (edgeserve.js + its wasm). */
function complete(dir, what) {
  for (const file of glue) cpSync(new URL(file, js), new URL(file, dir));
  const entry = `// ${what}: the wasm API (edgeserve.js) and the Worker client.
import * as api from './edgeserve.js';
import { guardAll } from './guard.js';

guardAll(api);
${exports}`;
  writeFileSync(new URL('index.js', dir), entry);
  writeFileSync(new URL('index.d.ts', dir), `// Types of ${what}.\n${exports}`);
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
    './audio-worklet.js',
    './snippets/*',
    ...extraSideEffects,
  ];
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

/** Copies a wasm-build output (and its relaxed-SIMD twin) into `dir` and completes it. */
function assemble(build, relaxed, dir, what) {
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
  complete(dir, what);
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
  assemble(leanBuild, leanRelaxedBuild, out, "edgeserve's lean build (its embedded packages only, no ONNX parser)");
  twin(leanRelaxedBuild, out);
  for (const wasm of ['edgeserve_bg.wasm', 'edgeserve_relaxed_bg.wasm']) stripFile(new URL(wasm, out));
  typeLoad(out, []);
  const manifest = JSON.parse(readFileSync(new URL('package.json', leanBuild), 'utf8'));
  writeFileSync(new URL('package.json', out), packageJson(manifest));
  console.log(`${out.pathname}: the lean build as a package of its own (${manifest.name} ${manifest.version})`);
  process.exit(0);
}

complete(pkg, 'The edgeserve npm package (the full build: ONNX parser, models loaded at run time)');

assemble(
  leanBuild,
  leanRelaxedBuild,
  lean,
  "edgeserve's lean build (edgeserve/lean: embedded packages only, in their rows form (no tract) or NNEF form; no ONNX parser)",
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

// The wasm's `name` section (function names, ~1.1 MB raw, ~0.25 MB gzip) goes: bytes every
// visitor would download. Panic messages still reach console.error; stack frames lose names.
for (const dir of [pkg, lean]) {
  for (const wasm of ['edgeserve_bg.wasm', 'edgeserve_relaxed_bg.wasm']) {
    console.log(`${new URL(wasm, dir).pathname}: name section of ${stripFile(new URL(wasm, dir))} bytes dropped`);
  }
}

const manifest = JSON.parse(readFileSync(new URL('package.json', pkg), 'utf8'));
writeFileSync(
  new URL('package.json', pkg),
  packageJson(
    manifest,
    { './lean': { types: './lean/index.d.ts', default: './lean/index.js' } },
    ['lean', ...(fetched.length ? ['models'] : [])],
    ['./lean/*'],
  ),
);
console.log(
  `pkg/: ${manifest.name} ${manifest.version}, entries index.js and lean/index.js, files ${manifest.files.join(' ')}; fetched on demand: ${fetched.join(' ') || 'none'}`,
);
