// The OCR benchmark (make bench-ocr): reading a 640 x 480 photo of text (the test image `receipt`
// of `make models-ocr`) end to end, one thread, in Node and in Debian's headless Chromium (the
// repository served cross-origin isolated):
// - edgeserve: readText() of the npm package's full build (wasm), the package ocr by name;
// - onnxruntime-web (its wasm backend, one thread) on the same three graphs, with RapidOCR's pre-
//   and post-processing ported to JavaScript (bench/ocr-reference.mjs: OpenCV.js and Clipper);
// - RapidOCR itself in Python on native onnxruntime, one thread (bench/ocr_native.py).
// Both wasm readers are checked to read what RapidOCR reads, then timed alternating call by call
// (bench/ocr-measure.mjs); p50 of each, and the ratios. Appends a section to bench/results/ocr.md
// and writes bench/results/ocr.json.
//
//   node bench/ocr.mjs [--rounds N] [--image NAME]
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-web';
import cvModule from '@techstark/opencv-js';
import ClipperLib from 'clipper-lib';
import { serve } from '../scripts/serve.mjs';
import { launch } from '../tests/e2e/browser.mjs';
import { measureOcr } from './ocr-measure.mjs';

const root = fileURLToPath(new URL('../', import.meta.url));
const arg = (name, fallback) => {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : fallback;
};
const rounds = Number(arg('--rounds', 20));
const imageName = arg('--image', 'receipt');
const made = process.env.EDGESERVE_OCR_MODELS ?? join(root, 'target/models-ocr');
const shipped = join(root, 'pkg/models/ocr');
const golden = JSON.parse(readFileSync(join(made, 'golden.json'), 'utf8'));
const entry = golden.images.find(e => e.name === imageName);
const want = entry.reference.lines.map(l => l.text);

// Node.
const { initSync, Model } = await import(join(root, 'pkg/index.js'));
initSync({ module: readFileSync(join(root, 'pkg/edgeserve_bg.wasm')) });
// The Emscripten module is a thenable: resolve with a box, not the module itself.
const { cv } = await new Promise(resolve => {
  if (cvModule.Mat) resolve({ cv: cvModule });
  else cvModule.onRuntimeInitialized = () => resolve({ cv: cvModule });
});
const node = await measureOcr({
  Model,
  ort,
  cv,
  ClipperLib,
  files: {
    detector: readFileSync(join(shipped, 'model.onnx')),
    classifier: readFileSync(join(shipped, 'classifier.onnx')),
    recognizer: readFileSync(join(shipped, 'recognizer.onnx')),
    characters: readFileSync(join(made, 'characters.txt'), 'utf8'),
  },
  image: {
    data: new Uint8Array(readFileSync(join(made, 'images', `${imageName}.rgb`))),
    width: entry.width,
    height: entry.height,
  },
  want,
  rounds,
});

// Chromium.
const server = await serve(root, 0);
const browser = await launch();
const problems = [];
let chromium;
try {
  const page = await browser.newPage();
  page.on('pageerror', e => problems.push(e.message));
  page.on('console', m => m.type() === 'error' && problems.push(m.text()));
  await page.goto(`http://127.0.0.1:${server.address().port}/bench/ocr-page.html`);
  await page.waitForFunction(() => document.body.dataset.ready === '1');
  page.setDefaultTimeout(0);
  chromium = await page.evaluate(
    ([dir, name, n]) => window.measure(dir, name, n),
    [relative(root, made), imageName, rounds],
  );
  chromium.version = browser.version();
} finally {
  await browser.close();
  server.close();
}
if (problems.length) {
  console.error(`bench/ocr.mjs: the page reported errors:\n${problems.join('\n')}`);
  process.exit(1);
}

// RapidOCR, native.
const native = JSON.parse(
  execFileSync(
    process.env.PYTHON ?? 'python3',
    [
      join(root, 'bench/ocr_native.py'),
      '--image',
      join(made, 'images', `${imageName}.png`),
      '--rounds',
      String(rounds),
      '--packages',
      join(root, 'target/real-models/packages'),
    ],
    { encoding: 'utf8' },
  ),
);

// The release profile pkg/ was built with (make pkg records it): "shipped", or make test's "quick".
const config = join(root, 'target/pkg-models.txt');
const profile = existsSync(config) ? readFileSync(config, 'utf8').trim().split(' ').at(-1) : 'unknown';
const onnxruntimeWeb = JSON.parse(
  readFileSync(join(root, 'node_modules/onnxruntime-web/package.json'), 'utf8'),
).version;
const ratio = r => r.p50Ms.edgeserve / r.p50Ms.onnxruntimeWeb;
const results = {
  image: `${imageName} (${entry.width} x ${entry.height}, ${want.length} lines)`,
  rounds,
  profile,
  onnxruntimeWeb,
  node: { version: process.version, ...node, edgeserveOverOnnxruntimeWeb: ratio(node) },
  chromium: { ...chromium, edgeserveOverOnnxruntimeWeb: ratio(chromium) },
  rapidocrNative: native,
  edgeserveOverNative: { node: node.p50Ms.edgeserve / native.p50Ms, chromium: chromium.p50Ms.edgeserve / native.p50Ms },
};
writeFileSync(join(root, 'bench/results/ocr.json'), `${JSON.stringify(results, null, 2)}\n`);

const row = (who, p50, s) =>
  `| ${who} | ${p50.toFixed(1)} | ${s.detectorMs} | ${s.cropMs ?? ''} | ${s.classifierMs} | ${s.recognizerMs} |`;
const lines = [
  '',
  `## ${new Date().toISOString().slice(0, 10)}: OCR of ${results.image}, one thread`,
  '',
  `Written by bench/ocr.mjs, ${rounds} rounds alternating call by call; p50 ms. edgeserve: readText() of the npm package (wasm, the ${profile} release profile). onnxruntime-web ${onnxruntimeWeb} (wasm, one thread) on the same three graphs with RapidOCR's processing in JavaScript (OpenCV.js 4.10, Clipper 6.4.2). RapidOCR 1.4.4 in Python on native onnxruntime, one thread. Node ${process.version}; Chromium ${chromium.version} (cross-origin isolated: ${chromium.crossOriginIsolated}, edgeserve's ${chromium.wasmBuild} wasm). The detector's time includes its pre- and post-processing.`,
  '',
  '| where, reader | p50 ms | detector | crops | classifier | recogniser |',
  '|---|---:|---:|---:|---:|---:|',
  row('Chromium, edgeserve', chromium.p50Ms.edgeserve, chromium.stagesMs.edgeserve),
  row('Chromium, onnxruntime-web + JS port', chromium.p50Ms.onnxruntimeWeb, chromium.stagesMs.onnxruntimeWeb),
  row('Node, edgeserve', node.p50Ms.edgeserve, node.stagesMs.edgeserve),
  row('Node, onnxruntime-web + JS port', node.p50Ms.onnxruntimeWeb, node.stagesMs.onnxruntimeWeb),
  row('RapidOCR, native onnxruntime', native.p50Ms, {
    detectorMs: native.stagesMs.detector,
    classifierMs: native.stagesMs.classifier,
    recognizerMs: native.stagesMs.recognizer,
  }),
  '',
  `edgeserve / onnxruntime-web at p50 (the target: at most 0.8): Chromium **${ratio(chromium).toFixed(2)}**, Node **${ratio(node).toFixed(2)}**. edgeserve (wasm) / RapidOCR (native): Chromium ${results.edgeserveOverNative.chromium.toFixed(2)}, Node ${results.edgeserveOverNative.node.toFixed(2)}.`,
  '',
];
const report = join(root, 'bench/results/ocr.md');
if (!existsSync(report)) {
  writeFileSync(
    report,
    "# OCR: reading a photo of text end to end\n\nSections appended by bench/ocr.mjs (make bench-ocr), newest last. The issue's target: edgeserve at most 0.8x of onnxruntime-web with RapidOCR's processing ported to JavaScript, p50, one thread.\n",
  );
}
appendFileSync(report, lines.join('\n'));
console.log(lines.join('\n'));
