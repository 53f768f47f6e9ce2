// The bytes a page downloads for the text package minilm-int8, each way the npm package could
// give it (bench/results/text-bytes.md), from the files on disk that such a page fetches: the
// package's JavaScript and its wasm (the baseline SIMD build of each), raw and gzip.
//
// - shipped beside the wasm (what pkg/ does): the full build, whose wasm lists the shipped
//   packages' manifests, plus models/minilm-int8/model.onnx and tokenizer.json, fetched when
//   Model.load('minilm-int8') asks;
// - compiled into a build of its own: the full build with minilm-int8 embedded
//   (target/text-bytes/embedded, EDGESERVE_MODELS holding it alone), and the lean build with it
//   (target/text-bytes/lean, `make text-lean`: its NNEF form, no ONNX parser);
// - and the page that does not use the model: pkg/'s wasm against the same build with nothing
//   shipped beside it (target/text-bytes/plain).
// `make bench-text-bytes` builds the two other builds, then runs this. The embedded build must
// also embed like onnxruntime: its vector of a golden text is checked before anything is written.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stripFile } from '../scripts/strip-names.mjs';
import { size } from './bytes.mjs';

const root = fileURLToPath(new URL('../', import.meta.url));
const builds = join(root, 'target/text-bytes');
const made = process.env.EDGESERVE_TEXT_MODELS ?? join(root, 'target/models-text');

/** The JavaScript of a wasm-build output (scripts/wasm-build.sh) a page loads (glue and snippets; the .d.ts not). */
function javascript(dir) {
  const snippets = join(dir, 'snippets');
  const walk = d =>
    readdirSync(d, { withFileTypes: true }).flatMap(e =>
      e.isDirectory() ? walk(join(d, e.name)) : e.name.endsWith('.js') ? [join(d, e.name)] : [],
    );
  return [join(dir, 'edgeserve.js'), ...walk(snippets)];
}

// Without the name section, as scripts/package.mjs ships pkg/'s.
for (const b of ['embedded', 'plain', 'lean']) stripFile(join(builds, b, 'edgeserve_bg.wasm'));

const pkg = join(root, 'pkg');
const shippedJs = [...javascript(pkg), ...['index.js', 'load.js', 'guard.js', 'client.js'].map(f => join(pkg, f))];
const model = ['model.onnx', 'tokenizer.json'].map(f => join(pkg, 'models/minilm-int8', f));
const ways = {
  shipped: {
    what: 'shipped beside the wasm (pkg/: the full build, then the model fetched by Model.load)',
    runtime: size([...shippedJs, join(pkg, 'edgeserve_bg.wasm')]),
    model: size(model),
  },
  embedded: {
    what: 'compiled into a build of its own (the full build with minilm-int8 embedded)',
    runtime: size([...javascript(join(builds, 'embedded')), join(builds, 'embedded/edgeserve_bg.wasm')]),
    model: { raw: 0, gzip: 0 },
  },
  lean: {
    what: 'compiled into the lean build (its NNEF form: no ONNX parser, 8-bit weights)',
    runtime: size([...javascript(join(builds, 'lean')), join(builds, 'lean/edgeserve_bg.wasm')]),
    model: { raw: 0, gzip: 0 },
  },
};
const wasm = {
  pkg: size([join(pkg, 'edgeserve_bg.wasm')]),
  plain: size([join(builds, 'plain/edgeserve_bg.wasm')]),
};

// Each build with minilm-int8 compiled in works: it loads at once and embeds as onnxruntime does.
const golden = JSON.parse(readFileSync(join(made, 'minilm-int8/golden.json'), 'utf8')).texts[0];
const cosines = {};
for (const b of ['embedded', 'lean']) {
  const build = await import(join(builds, b, 'edgeserve.js'));
  build.initSync({ module: readFileSync(join(builds, b, 'edgeserve_bg.wasm')) });
  const minilm = build.Model.load('minilm-int8');
  const vector = minilm.embed(golden.text).data;
  const dot = vector.reduce((s, x, k) => s + x * golden.embedding[k], 0);
  cosines[b] = dot / Math.hypot(...vector) / Math.hypot(...golden.embedding);
  if (!(cosines[b] > 0.995))
    throw new Error(`the ${b} build's minilm-int8 is off: cosine ${cosines[b]} to onnxruntime`);
  minilm.free();
}

const mb = b => (b / 1e6).toFixed(2);
const kb = b => (b / 1e3).toFixed(1);
const lines = [
  '# Text: the bytes a page downloads for minilm-int8, each way',
  '',
  "Written by `make bench-text-bytes` (bench/text-bytes.mjs), from the files a page fetches: the package's JavaScript and its wasm (the baseline SIMD build of each; the relaxed one is the same size within 0.2%), and the model's files where they are apart; gzip as a server sends them (zlib, default level).",
  '',
  '| way | runtime raw MB | runtime gzip MB | model raw MB | model gzip MB | total gzip MB |',
  '|---|---:|---:|---:|---:|---:|',
];
for (const w of Object.values(ways)) {
  lines.push(
    `| ${w.what} | ${mb(w.runtime.raw)} | ${mb(w.runtime.gzip)} | ${mb(w.model.raw)} | ${mb(w.model.gzip)} | ${mb(w.runtime.gzip + w.model.gzip)} |`,
  );
}
lines.push(
  '',
  `A page that does not load minilm-int8: the full build's wasm is ${kb(wasm.pkg.raw - wasm.plain.raw)} kB raw, ${kb(wasm.pkg.gzip - wasm.plain.gzip)} kB gzip larger with the text packages shipped beside it (their manifests, and the code that fetches them, which the compiler drops from a build that ships none) than the same build with none (${mb(wasm.plain.raw)} MB raw, ${mb(wasm.plain.gzip)} MB gzip). The builds with minilm-int8 compiled in embed like onnxruntime (cosine on a golden text: full build ${cosines.embedded.toFixed(6)}, lean build ${cosines.lean.toFixed(6)}).`,
);
mkdirSync(join(root, 'bench/results'), { recursive: true });
writeFileSync(join(root, 'bench/results/text-bytes.md'), `${lines.join('\n')}\n`);
writeFileSync(join(root, 'bench/results/text-bytes.json'), `${JSON.stringify({ ways, wasm, cosines }, null, 1)}\n`);
console.log(lines.join('\n'));
