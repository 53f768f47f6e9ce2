// The OCR benchmark in Node (make bench-ocr): reading a 640 x 480 photo of text (the test image
// `receipt` of `make models-ocr`) end to end, one thread:
// - edgeserve: readText() of the npm package's full build (wasm), the package ocr;
// - onnxruntime-web (its wasm backend, one thread) on the same three graphs, with RapidOCR's pre-
//   and post-processing ported to JavaScript (bench/ocr-reference.mjs: OpenCV in wasm and Clipper);
// - RapidOCR itself in Python on native onnxruntime, one thread (bench/ocr_native.py).
// Both wasm readers are checked to read what RapidOCR reads, then timed alternating call by call;
// p50 of each, and the ratios. Appends to bench/results/ocr.md, writes bench/results/ocr.json.
//
//   node bench/ocr.mjs [--rounds N] [--image NAME]
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, appendFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-web';
import cvModule from '@techstark/opencv-js';
import ClipperLib from 'clipper-lib';
import { createReference } from './ocr-reference.mjs';

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
const rgb = new Uint8Array(readFileSync(join(made, 'images', `${imageName}.rgb`)));
const image = { data: rgb, width: entry.width, height: entry.height, channels: 3 };

const { initSync, Model } = await import(join(root, 'pkg/index.js'));
initSync({ module: readFileSync(join(root, 'pkg/edgeserve_bg.wasm')) });
const ours = await Model.load('ocr');

ort.env.wasm.numThreads = 1;
// The Emscripten module is a thenable: resolve with a box, not the module itself.
const { cv } = await new Promise(resolve => {
  if (cvModule.Mat) resolve({ cv: cvModule });
  else cvModule.onRuntimeInitialized = () => resolve({ cv: cvModule });
});
const characters = readFileSync(join(made, 'characters.txt'), 'utf8').split('\n');
if (characters.at(-1) === '') characters.pop();
const reference = await createReference({
  ort,
  cv,
  ClipperLib,
  detector: readFileSync(join(shipped, 'model.onnx')),
  classifier: readFileSync(join(shipped, 'classifier.onnx')),
  recognizer: readFileSync(join(shipped, 'recognizer.onnx')),
  characters,
});

// Both read what RapidOCR reads.
const want = entry.reference.lines.map(l => l.text);
const texts = reading => reading.lines.map(l => l.text);
const agree = got => got.filter(t => want.includes(t)).length;
const first = {
  edgeserve: texts(ours.readText(image)),
  reference: texts(await reference.read(rgb, entry.width, entry.height)),
};
for (const [who, got] of Object.entries(first)) {
  if (agree(got) < want.length - 1)
    throw new Error(`${who} reads ${JSON.stringify(got)}, RapidOCR ${JSON.stringify(want)}`);
}

const median = xs => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const times = { edgeserve: [], reference: [] };
const stages = { edgeserve: [], reference: [] };
for (let i = 0; i < rounds; i++) {
  let t = performance.now();
  const a = ours.readText(image);
  times.edgeserve.push(performance.now() - t);
  stages.edgeserve.push(a.timings);
  t = performance.now();
  const b = await reference.read(rgb, entry.width, entry.height);
  times.reference.push(performance.now() - t);
  stages.reference.push(b.timings);
}
const stageMedians = list =>
  Object.fromEntries(Object.keys(list[0]).map(k => [k, Number(median(list.map(s => s[k])).toFixed(1))]));

let native = null;
const python = process.env.PYTHON ?? 'python3';
const packages = join(root, 'target/real-models/packages');
if (existsSync(join(made, 'images', `${imageName}.png`))) {
  native = JSON.parse(
    execFileSync(
      python,
      [
        join(root, 'bench/ocr_native.py'),
        '--image',
        join(made, 'images', `${imageName}.png`),
        '--rounds',
        String(rounds),
        '--packages',
        packages,
      ],
      {
        encoding: 'utf8',
      },
    ),
  );
}

const p50 = { edgeserve: median(times.edgeserve), reference: median(times.reference) };
const results = {
  image: `${imageName} (${entry.width} x ${entry.height}, ${want.length} lines)`,
  node: process.version,
  onnxruntimeWeb:
    ort.env.versions?.web ??
    JSON.parse(readFileSync(join(root, 'node_modules/onnxruntime-web/package.json'), 'utf8')).version,
  rounds,
  p50Ms: { ...p50, rapidocrNative: native?.p50Ms ?? null },
  stagesMs: { edgeserve: stageMedians(stages.edgeserve), reference: stageMedians(stages.reference) },
  ratio: {
    edgeserveOverOnnxruntimeWeb: p50.edgeserve / p50.reference,
    wasmOverNative: native ? p50.edgeserve / native.p50Ms : null,
  },
  read: { edgeserve: first.edgeserve, onnxruntimeWeb: first.reference, rapidocr: want },
};
writeFileSync(join(root, 'bench/results/ocr.json'), `${JSON.stringify(results, null, 2)}\n`);
const lines = [
  '',
  `## Node ${process.version}: OCR of ${results.image}, one thread`,
  '',
  `Written by bench/ocr.mjs, ${rounds} rounds alternating call by call; p50 ms. edgeserve: readText() (npm package, wasm). onnxruntime-web ${results.onnxruntimeWeb} (wasm, one thread) on the same three graphs with RapidOCR's processing in JavaScript (OpenCV.js, Clipper). RapidOCR 1.4.4 in Python on native onnxruntime, one thread.`,
  '',
  '| reader | p50 ms | detector | crops | classifier | recogniser |',
  '|---|---:|---:|---:|---:|---:|',
  `| edgeserve | ${p50.edgeserve.toFixed(1)} | ${Object.values(results.stagesMs.edgeserve).join(' | ')} |`,
  `| onnxruntime-web + JS port | ${p50.reference.toFixed(1)} | ${Object.values(results.stagesMs.reference).join(' | ')} |`,
  native
    ? `| RapidOCR, native onnxruntime | ${native.p50Ms.toFixed(1)} | ${native.stagesMs.detector} | | ${native.stagesMs.classifier} | ${native.stagesMs.recognizer} |`
    : '',
  '',
  `edgeserve / onnxruntime-web: **${results.ratio.edgeserveOverOnnxruntimeWeb.toFixed(2)}x** (target <= 0.8)` +
    (native ? `; edgeserve (wasm) / RapidOCR (native): ${results.ratio.wasmOverNative.toFixed(2)}x` : ''),
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
ours.free();
