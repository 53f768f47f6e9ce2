// Builds the static site: dist/ = www/ + the lean build of the npm package (pkg/lean/, as
// dist/pkg/: the page only uses embedded packages, so it needs no ONNX parser), relative URLs
// only, ready for any static host. Then:
// - dist/sw.js gets the list of every asset and a version (package version + a hash of the
//   assets), so the service worker caches exactly this build and replaces older ones;
// - dist/index.html gets Subresource Integrity hashes (sha384) on its script and stylesheet.
// Run by `make site`.
import { createHash } from 'node:crypto';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const dist = join(root, 'dist');
rmSync(dist, { recursive: true, force: true });
cpSync(join(root, 'www'), dist, { recursive: true });
cpSync(join(root, 'pkg', 'lean'), join(dist, 'pkg'), { recursive: true });
// The search, listen and read text panels' parts, fetched on demand (not cached at install: see
// ON_DEMAND in sw.js): the full build (the ONNX parser, the tokenizer and OCR, which the lean
// build has not) with the packages the panels load by name, minilm-int8, vad and ocr, in
// pkg-full/models/ (`make pkg` ships them there from `make models-text`, `models-audio` and
// `models-ocr`).
const ON_DEMAND_MODELS = ['minilm-int8', 'vad', 'ocr'];
const shipped = join(root, 'pkg', 'models');
cpSync(join(root, 'pkg'), join(dist, 'pkg-full'), {
  recursive: true,
  filter: f =>
    !f.startsWith(join(root, 'pkg', 'lean')) &&
    (!f.startsWith(`${shipped}/`) ||
      ON_DEMAND_MODELS.some(m => f === join(shipped, m) || f.startsWith(`${join(shipped, m)}/`))),
});
for (const name of ON_DEMAND_MODELS) {
  if (!existsSync(join(dist, 'pkg-full', 'models', name, 'model.onnx'))) {
    throw new Error(
      `pkg/models/${name}: not in the package (make pkg ships it, from make models-text, models-audio and models-ocr)`,
    );
  }
}
// pkg-full/threads.js is not: the page imports it at start (www/threads.js: the thread count of the
// full build's panels), so it must be there offline.
const onDemand = f => f.startsWith('pkg-full/') && f !== 'pkg-full/threads.js';

const files = dir =>
  readdirSync(dir).flatMap(f => (statSync(join(dir, f)).isDirectory() ? files(join(dir, f)) : [join(dir, f)]));
const assets = files(dist)
  .map(f => relative(dist, f))
  .filter(f => f !== 'sw.js' && !f.endsWith('.d.ts'))
  .sort();
const digest = createHash('sha256');
for (const f of assets) digest.update(f).update(readFileSync(join(dist, f)));
const version = `${JSON.parse(readFileSync(join(root, 'pkg/package.json'), 'utf8')).version}-${digest.digest('hex').slice(0, 12)}`;

const sw = readFileSync(join(dist, 'sw.js'), 'utf8')
  .replace("const VERSION = 'dev';", `const VERSION = '${version}';`)
  .replace(
    "const ASSETS = ['./'];",
    `const ASSETS = ${JSON.stringify(['./', ...assets.filter(a => !onDemand(a)).map(a => `./${a}`)])};`,
  );
writeFileSync(join(dist, 'sw.js'), sw);

const sri = file =>
  `sha384-${createHash('sha384')
    .update(readFileSync(join(dist, file)))
    .digest('base64')}`;
let html = readFileSync(join(dist, 'index.html'), 'utf8');
html = html
  .replace(
    '<script type="module" src="app.js"></script>',
    `<script type="module" src="app.js" integrity="${sri('app.js')}"></script>`,
  )
  .replace(
    '<link rel="stylesheet" href="style.css">',
    `<link rel="stylesheet" href="style.css" integrity="${sri('style.css')}">`,
  );
if (!html.includes('integrity=')) throw new Error('index.html: no script or stylesheet tag to add integrity to');
writeFileSync(join(dist, 'index.html'), html);
console.log(`dist/: ${assets.length} assets (${assets.filter(onDemand).length} on demand), version ${version}`);
