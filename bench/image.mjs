// The image benchmark (make bench-image): the preprocessing of a 224 x 224 ImageNet classifier on
// a 1920 x 1080 frame in Debian's headless Chromium (bench/image-page.js, the repository served
// cross-origin isolated: a 5 us clock), edgeserve's (in the wasm, the same pixels everywhere)
// beside a canvas and JavaScript (the browser's resampling). Writes bench/results/image.json and
// bench/results/image.md. Figures, not a test: it fails only when a page reports an error or the
// two ways disagree beyond what resampling explains.
//
//   node bench/image.mjs [--runs N]
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { serve } from '../scripts/serve.mjs';
import { launch } from '../tests/e2e/browser.mjs';

const root = fileURLToPath(new URL('../', import.meta.url));
const runsArg = process.argv.indexOf('--runs');
const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 200;

const server = await serve(root, 0);
const browser = await launch();
const problems = [];
let result;
try {
  const page = await browser.newPage();
  page.on('pageerror', e => problems.push(e.message));
  page.on('console', m => m.type() === 'error' && problems.push(m.text()));
  await page.goto(`http://127.0.0.1:${server.address().port}/bench/image-page.html`);
  await page.waitForFunction(() => document.body.dataset.ready === '1');
  page.setDefaultTimeout(0);
  result = await page.evaluate(n => window.measure(n), runs);
  result.chromium = browser.version();
} finally {
  await browser.close();
  server.close();
}
if (problems.length) {
  console.error(`bench/image.mjs: the page reported errors:\n${problems.join('\n')}`);
  process.exit(1);
}
if (Math.abs(result.means.edgeserve - result.means.canvas) > 0.05) {
  console.error(`bench/image.mjs: the two ways disagree: ${JSON.stringify(result.means)}`);
  process.exit(1);
}
const ratio = result.edgeserve.p50 / result.canvas.p50;
// The release profile pkg/ was built with (make pkg records it): "shipped", or make test's "quick".
const config = `${root}target/pkg-models.txt`;
result.profile = existsSync(config) ? readFileSync(config, 'utf8').trim().split(' ').at(-1) : 'unknown';
const md = `# Images: preprocessing (a 1920 x 1080 frame to a 224 x 224 tensor)

Written by bench/image.mjs. Chromium ${result.chromium} (headless, cross-origin isolated: ${result.crossOriginIsolated}; edgeserve's ${result.wasmBuild} wasm, as init() picks, built with the ${result.profile} release profile). ${runs} runs each, alternating.

The preprocessing of an ImageNet classifier: the shorter side to 256 (bilinear), the centre 224 x 224, each value / 255, minus the mean, over the std, NCHW float32.

| way | p50, ms | p95, ms |
|---|---:|---:|
| edgeserve: model.predict(ImageData) of image-mean (in the wasm) | ${result.edgeserve.p50.toFixed(3)} | ${result.edgeserve.p95.toFixed(3)} |
| a canvas and JavaScript: drawImage, getImageData, a normalising loop | ${result.canvas.p50.toFixed(3)} | ${result.canvas.p95.toFixed(3)} |

edgeserve / canvas at p50: ${ratio.toFixed(2)}. The mean of the tensor: edgeserve ${result.means.edgeserve.toFixed(4)}, the canvas's ${result.means.canvas.toFixed(4)} (the browser's resampling differs from OpenCV's).
`;
writeFileSync(new URL('results/image.json', import.meta.url), `${JSON.stringify({ runs, ...result }, null, 2)}\n`);
writeFileSync(new URL('results/image.md', import.meta.url), md);
console.log(md);
