// The audio benchmark (make bench-audio): the voice-activity package vad (make models-audio)
// through edgeserve's npm package beside the same graph on onnxruntime-web (wasm, one thread),
// with bench/audio-measure.mjs, in Node and then in Debian's headless Chromium (bench/audio-page.js,
// the repository served cross-origin isolated: a 5 us clock): per-chunk latency p50 and p99,
// the real-time factor of 60 s at 48 kHz, many sessions at once. Then the bytes a page downloads
// for vad each way it could ship. Writes bench/results/audio.json and bench/results/audio.md.
// Figures, not a test: it fails only when the two runtimes disagree or a page reports an error.
//
//   node bench/audio.mjs [--chunks N]
import { readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from '../scripts/serve.mjs';
import { launch } from '../tests/e2e/browser.mjs';
import { measureAudio, wavSamples } from './audio-measure.mjs';

const root = fileURLToPath(new URL('../', import.meta.url));
const chunksArg = process.argv.indexOf('--chunks');
const chunkCount = chunksArg > 0 ? Number(process.argv[chunksArg + 1]) : 2000;
const base = process.env.EDGESERVE_AUDIO_MODELS ?? join(root, 'target/models-audio');
const onnx = readFileSync(join(base, 'vad/model.onnx'));
const manifest = JSON.parse(readFileSync(join(base, 'vad/manifest.json'), 'utf8'));
const ortVersion = JSON.parse(readFileSync(join(root, 'node_modules/onnxruntime-web/package.json'), 'utf8')).version;

// Node: the baseline build (Node 20 runs relaxed SIMD behind a flag only).
const { initSync, Model } = await import(join(root, 'pkg/index.js'));
initSync({ module: readFileSync(join(root, 'pkg/edgeserve_bg.wasm')) });
const ort = await import('onnxruntime-web');
ort.env.wasm.numThreads = 1;
const node = await measureAudio({
  Model,
  ort,
  onnx: new Uint8Array(onnx),
  manifest,
  speech16k: wavSamples(readFileSync(join(base, 'audio/speech-16k-snr20.wav'))),
  speech48k: wavSamples(readFileSync(join(base, 'audio/speech-48k-snr20.wav'))),
  chunkCount,
});

// Chromium.
const server = await serve(root, 0);
const browser = await launch();
const problems = [];
let chromiumResult;
let chromiumVersion;
try {
  chromiumVersion = browser.version();
  const page = await browser.newPage();
  page.on('pageerror', e => problems.push(e.message));
  page.on('console', m => m.type() === 'error' && problems.push(m.text()));
  await page.goto(`http://127.0.0.1:${server.address().port}/bench/audio-page.html`);
  await page.waitForFunction(() => document.body.dataset.ready === '1');
  page.setDefaultTimeout(0);
  chromiumResult = await page.evaluate(([d, n]) => window.measure(d, n), [relative(root, base), chunkCount]);
} finally {
  await browser.close();
  server.close();
}
if (problems.length) {
  console.error(`bench/audio.mjs: the page reported errors:\n${problems.join('\n')}`);
  process.exit(1);
}

// The bytes a page downloads for vad: shipped beside the wasm and fetched by Model.load('vad')
// (what the package does: the wasm holds its manifest only), or compiled into a build's wasm.
const sizes = file => {
  const b = readFileSync(file);
  return { raw: b.length, gzip: gzipSync(b).length };
};
const wasm = sizes(join(root, 'pkg/edgeserve_relaxed_bg.wasm'));
const model = sizes(join(base, 'vad/model.onnx'));
const manifestBytes = JSON.stringify(manifest).length;
const bytes = { wasm, model, manifestBytes };

const results = {
  node: process.version,
  chromium: chromiumVersion,
  onnxruntimeWeb: ortVersion,
  runs: { node, chromium: chromiumResult },
  bytes,
};
writeFileSync(join(root, 'bench/results/audio.json'), JSON.stringify(results, null, 2) + '\n');

const f = x => x.toFixed(3);
const ratio = (a, b) => (a / b).toFixed(2);
const mb = n => `${(n / 1e6).toFixed(2)} MB`;
const lines = [
  '# Audio: voice activity (vad, Silero VAD v6)',
  '',
  `Written by bench/audio.mjs. One thread each; onnxruntime-web ${ortVersion} (wasm backend) runs the same graph with the state and the context passed by hand. ${chunkCount} chunks of 32 ms at 16 kHz, alternating chunk by chunk. Node ${process.version} (edgeserve's baseline wasm); Chromium ${chromiumVersion} (headless, ${chromiumResult.isolated ? 'cross-origin isolated' : 'NOT cross-origin isolated: a 100 us clock'}; edgeserve's ${chromiumResult.wasmBuild} wasm, as init() picks).`,
  '',
  '| per chunk | edgeserve | onnxruntime-web | ratio |',
  '|---|---:|---:|---:|',
  ...Object.entries(results.runs).flatMap(([where, r]) => [
    `| ${where} p50, ms | ${f(r.perChunk.edgeserve.p50)} | ${f(r.perChunk.ort.p50)} | ${ratio(r.perChunk.edgeserve.p50, r.perChunk.ort.p50)} |`,
    `| ${where} p99, ms | ${f(r.perChunk.edgeserve.p99)} | ${f(r.perChunk.ort.p99)} | ${ratio(r.perChunk.edgeserve.p99, r.perChunk.ort.p99)} |`,
  ]),
  '',
  `Real-time factor, 60 s at 48 kHz (speechSegments, resampling included): Node ${node.realTimeFactor.toFixed(0)}x, Chromium ${chromiumResult.realTimeFactor.toFixed(0)}x.`,
  '',
  '| sessions at once | Node chunks/s | Node p99 per chunk, ms | Chromium chunks/s | Chromium p99 per chunk, ms |',
  '|---:|---:|---:|---:|---:|',
  ...Object.keys(node.many).map(
    n =>
      `| ${n} | ${node.many[n].chunksPerSecond.toFixed(0)} | ${f(node.many[n].p99)} | ${chromiumResult.many[n].chunksPerSecond.toFixed(0)} | ${f(chromiumResult.many[n].p99)} |`,
  ),
  '',
  'The bytes a page downloads for vad (raw / gzip):',
  '',
  '| how vad ships | a page that does not use it | a page that uses it |',
  '|---|---:|---:|',
  `| beside the wasm, fetched by Model.load('vad') (the package) | the wasm, whose list of packages holds vad's manifest (${manifestBytes} bytes) | + model.onnx: ${mb(model.raw)} / ${mb(model.gzip)}, once (cached) |`,
  `| compiled into the wasm | + ${mb(model.raw)} / ${mb(model.gzip)} in the wasm | the same |`,
  '',
  `The full build's wasm: ${mb(wasm.raw)} / ${mb(wasm.gzip)}.`,
  '',
];
writeFileSync(join(root, 'bench/results/audio.md'), lines.join('\n'));
console.log(lines.join('\n'));
