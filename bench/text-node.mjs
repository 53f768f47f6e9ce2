// The text benchmark in Node (make bench-text, after bench/text-browser.mjs laid out the model
// files): edgeserve's embed() (the npm package, wasm) beside Transformers.js on onnxruntime-node
// (native code: AVX2, its own threads), alternating call by call on the same files and texts.
// Information, not a target: it says what a Node user gives up by running wasm. Appends a
// section to bench/results/text.md and writes bench/results/text-node.json.
//
//   node bench/text-node.mjs [--rounds N]
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1]) || 40;
const models = join(root, 'target/bench-text/models');
const { pipeline, env } = await import(
  join(root, 'bench/text/node_modules/@huggingface/transformers/dist/transformers.node.mjs')
);
const transformers = JSON.parse(
  readFileSync(join(root, 'bench/text/node_modules/@huggingface/transformers/package.json'), 'utf8'),
).version;
env.allowRemoteModels = false;
env.localModelPath = `${models}/`;
const { initSync, Model } = await import(join(root, 'pkg/index.js'));
initSync({ module: readFileSync(join(root, 'pkg/edgeserve_bg.wasm')) });

const sentences = JSON.parse(readFileSync(join(root, 'www/data/sentences.json'), 'utf8'));
const short = 'A man is playing a guitar on the street while people walk by.';
const batch = sentences.slice(0, 64);
const median = xs => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const options = { pooling: 'mean', normalize: true };

async function alternate(calls, n) {
  for (const c of calls) await c();
  const times = calls.map(() => []);
  for (let i = 0; i < n; i++) {
    for (const [k, c] of calls.entries()) {
      const t = performance.now();
      await c();
      times[k].push(performance.now() - t);
    }
  }
  return times.map(median);
}

const results = { transformers, node: process.version, models: {} };
const lines = [
  '',
  '## Node: edgeserve (wasm) beside Transformers.js on onnxruntime-node (native)',
  '',
  `Written by bench/text-node.mjs. Node ${process.version}; Transformers.js ${transformers} on onnxruntime-node (native code, AVX2), with one intra-op thread and with its default threads; edgeserve's npm package (wasm, one thread). p50 ms, alternating call by call. Information, not a target: what a Node user gives up by running wasm.`,
  '',
  '| model | what | edgeserve | onnxruntime-node, 1 thread | onnxruntime-node, default threads | edgeserve / 1 thread |',
  '|---|---|---:|---:|---:|---:|',
];
for (const name of ['minilm-int8', 'minilm']) {
  const dir = join(models, name);
  const ours = await Model.fromBytes(
    readFileSync(join(dir, 'onnx/model.onnx')),
    JSON.parse(readFileSync(join(dir, 'edgeserve.json'), 'utf8')),
    { tokenizer: readFileSync(join(dir, 'tokenizer.json')) },
  );
  const one = await pipeline('feature-extraction', name, {
    device: 'cpu',
    dtype: 'fp32',
    session_options: { intraOpNumThreads: 1 },
  });
  const many = await pipeline('feature-extraction', name, { device: 'cpu', dtype: 'fp32' });
  const [s0, s1, s2] = await alternate(
    [() => ours.embed(short), () => one(short, options), () => many(short, options)],
    rounds,
  );
  const [b0, b1, b2] = await alternate(
    [() => ours.embed(batch), () => one(batch, options), () => many(batch, options)],
    Math.max(3, rounds >> 3),
  );
  results.models[name] = { sentence: [s0, s1, s2], batch64: [b0, b1, b2] };
  lines.push(
    `| ${name} | one sentence | ${s0.toFixed(2)} | ${s1.toFixed(2)} | ${s2.toFixed(2)} | ${(s0 / s1).toFixed(2)} |`,
  );
  lines.push(
    `| ${name} | 64 sentences, per sentence | ${(b0 / 64).toFixed(2)} | ${(b1 / 64).toFixed(2)} | ${(b2 / 64).toFixed(2)} | ${(b0 / b1).toFixed(2)} |`,
  );
  ours.free();
  await one.dispose();
  await many.dispose();
}
writeFileSync(join(root, 'bench/results/text-node.json'), `${JSON.stringify(results, null, 1)}\n`);
appendFileSync(join(root, 'bench/results/text.md'), `${lines.join('\n')}\n`);
console.log(lines.join('\n'));
