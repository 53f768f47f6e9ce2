// The audio benchmark in Node (make bench-audio): the voice-activity package vad (make
// models-audio) through edgeserve's npm package beside the same graph on onnxruntime-web (its
// wasm backend, one thread), the state and the context passed by hand as silero-vad's
// OnnxWrapper passes them. Side by side in one run, alternating chunk by chunk:
// - per-chunk latency, p50 and p99, of one 32 ms chunk at 16 kHz (edgeserve: session.push of 512
//   samples, framing and state included; onnxruntime-web: session.run);
// - the real-time factor of a 60 s recording at 48 kHz, resampling included (speechSegments);
// - many streams at once: 10 and 100 sessions fed in turn, throughput and p99 per chunk.
// Writes bench/results/audio-node.json and bench/results/audio.md.
//
//   node bench/audio-node.mjs [--chunks N]
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const chunksArg = process.argv.indexOf('--chunks');
const chunkCount = chunksArg > 0 ? Number(process.argv[chunksArg + 1]) : 2000;
const base = process.env.EDGESERVE_AUDIO_MODELS ?? join(root, 'target/models-audio');
const onnx = readFileSync(join(base, 'vad/model.onnx'));
const manifest = JSON.parse(readFileSync(join(base, 'vad/manifest.json'), 'utf8'));

const { initSync, Model } = await import(join(root, 'pkg/index.js'));
initSync({ module: readFileSync(join(root, 'pkg/edgeserve_bg.wasm')) });
const ort = await import('onnxruntime-web');
ort.env.wasm.numThreads = 1;
const ortVersion = JSON.parse(readFileSync(join(root, 'node_modules/onnxruntime-web/package.json'), 'utf8')).version;

/** The samples of a 16-bit PCM WAV file written by training/audio_packages.py. */
function samples(file) {
  const bytes = readFileSync(join(base, 'audio', file));
  const pcm = new Int16Array(bytes.buffer.slice(bytes.byteOffset + 44, bytes.byteOffset + bytes.length));
  return Float32Array.from(pcm, s => s / 32768);
}

const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

const speech = samples('speech-16k-snr20.wav');
const chunk = i => {
  const at = (i * 512) % (speech.length - 512);
  return speech.subarray(at, at + 512);
};

// onnxruntime-web, the state and the context by hand.
const session = await ort.InferenceSession.create(onnx, {
  executionProviders: ['wasm'],
  graphOptimizationLevel: 'all',
  logSeverityLevel: 3,
});
let state = new ort.Tensor('float32', new Float32Array(2 * 128), [2, 1, 128]);
let context = new Float32Array(64);
const sr = new ort.Tensor('int64', BigInt64Array.from([16000n]), []);
async function ortChunk(samples512) {
  const x = new Float32Array(576);
  x.set(context);
  x.set(samples512, 64);
  const out = await session.run({ input: new ort.Tensor('float32', x, [1, 576]), state, sr });
  state = out.stateN;
  context = x.subarray(512);
  return out.output.data[0];
}

const vad = await Model.fromBytes(onnx, manifest);
const ours = vad.session({ sampleRate: 16000 });

// Warm up both, then alternate chunk by chunk.
for (let i = 0; i < 50; i++) {
  ours.push(chunk(i));
  await ortChunk(chunk(i));
}
const times = { edgeserve: [], ort: [] };
for (let i = 0; i < chunkCount; i++) {
  let t = performance.now();
  ours.push(chunk(i));
  times.edgeserve.push(performance.now() - t);
  t = performance.now();
  await ortChunk(chunk(i));
  times.ort.push(performance.now() - t);
}
const perChunk = Object.fromEntries(
  Object.entries(times).map(([k, v]) => [k, { p50: quantile(v, 0.5), p99: quantile(v, 0.99) }]),
);

// The real-time factor of 60 s at 48 kHz: the 48 kHz recording repeated to a minute.
const one = samples('speech-48k-snr20.wav');
const minute = new Float32Array(60 * 48000);
for (let at = 0; at < minute.length; at += one.length)
  minute.set(one.subarray(0, Math.min(one.length, minute.length - at)), at);
vad.speechSegments(minute.subarray(0, 48000), { sampleRate: 48000 });
const rtfRuns = [];
for (let i = 0; i < 3; i++) {
  const t = performance.now();
  vad.speechSegments(minute, { sampleRate: 48000 });
  rtfRuns.push(60 / ((performance.now() - t) / 1000));
}
const realTimeFactor = quantile(rtfRuns, 0.5);

// Many streams: n sessions fed one chunk each in turn.
const many = {};
for (const n of [10, 100]) {
  const sessions = Array.from({ length: n }, () => vad.session({ sampleRate: 16000 }));
  const each = [];
  const rounds = Math.max(5, Math.floor(2000 / n));
  const t0 = performance.now();
  for (let r = 0; r < rounds; r++) {
    for (const s of sessions) {
      const t = performance.now();
      s.push(chunk(r));
      each.push(performance.now() - t);
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  many[n] = { chunksPerSecond: each.length / seconds, p99: quantile(each, 0.99) };
  for (const s of sessions) s.free();
}

const results = {
  node: process.version,
  onnxruntimeWeb: ortVersion,
  chunks: chunkCount,
  perChunk,
  realTimeFactor,
  many,
};
writeFileSync(join(root, 'bench/results/audio-node.json'), JSON.stringify(results, null, 2) + '\n');
const f = x => x.toFixed(3);
const lines = [
  '# Audio: voice activity (vad, Silero VAD v6)',
  '',
  `Written by bench/audio-node.mjs. Node ${process.version}, one thread each; onnxruntime-web ${ortVersion} (wasm backend) runs the same graph with the state and the context passed by hand. ${chunkCount} chunks of 32 ms at 16 kHz, alternating chunk by chunk.`,
  '',
  '| Node | edgeserve | onnxruntime-web | ratio |',
  '|---|---:|---:|---:|',
  `| per chunk p50, ms | ${f(perChunk.edgeserve.p50)} | ${f(perChunk.ort.p50)} | ${(perChunk.edgeserve.p50 / perChunk.ort.p50).toFixed(2)} |`,
  `| per chunk p99, ms | ${f(perChunk.edgeserve.p99)} | ${f(perChunk.ort.p99)} | ${(perChunk.edgeserve.p99 / perChunk.ort.p99).toFixed(2)} |`,
  '',
  `Real-time factor, 60 s at 48 kHz (speechSegments, resampling included): ${realTimeFactor.toFixed(0)}x.`,
  '',
  '| sessions at once | chunks per second | p99 per chunk, ms |',
  '|---:|---:|---:|',
  ...Object.entries(many).map(([n, m]) => `| ${n} | ${m.chunksPerSecond.toFixed(0)} | ${f(m.p99)} |`),
  '',
];
writeFileSync(join(root, 'bench/results/audio.md'), lines.join('\n'));
console.log(lines.join('\n'));
