// Batch throughput against a loop of predict(), on the same rows, in Node, side by side in one
// run (alternating A/B rounds so drift hits both). Prints figures; it asserts nothing about speed.
//
//   node bench/batch-throughput.mjs [model] [rounds]      (make bench-batch)
import { readFileSync } from 'node:fs';
import { initSync, Model } from '../pkg/index.js';

const [name = 'digits-accurate', roundsArg = '7'] = process.argv.slice(2);
const rounds = Number(roundsArg);
initSync({ module: readFileSync(new URL('../pkg/edgeserve_bg.wasm', import.meta.url)) });
const model = Model.load(name);
const csv = readFileSync(new URL('../www/data/digits-test.csv', import.meta.url), 'utf8');
const rows = csv
  .trim()
  .split('\n')
  .slice(1)
  .map(l => Float32Array.from(l.split(',').slice(0, 64).map(Number)));
const copies = 8; // 3,600 rows per round
const all = Array.from({ length: copies }, () => rows).flat();
const flat = new Float32Array(all.length * 64);
all.forEach((r, i) => flat.set(r, i * 64));

async function loop() {
  const t = performance.now();
  for (const r of all) model.predict(r);
  return all.length / ((performance.now() - t) / 1e3);
}
async function batch(chunkSize) {
  const t = performance.now();
  await model.predictBatch(flat, { chunkSize });
  return all.length / ((performance.now() - t) / 1e3);
}

await loop();
await batch(256); // warm-up
const results = { loop: [], batch32: [], batch256: [] };
for (let i = 0; i < rounds; i++) {
  results.loop.push(await loop());
  results.batch32.push(await batch(32));
  results.batch256.push(await batch(256));
}
const median = xs => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const loopRate = median(results.loop);
console.log(`edgeserve ${name}, Node ${process.version}, ${all.length} rows per round, median of ${rounds} rounds`);
console.log(`  predict() loop        ${Math.round(loopRate).toString().padStart(8)} rows/s`);
for (const key of ['batch32', 'batch256']) {
  const rate = median(results[key]);
  console.log(
    `  predictBatch chunk ${key.slice(5).padEnd(4)} ${Math.round(rate).toString().padStart(8)} rows/s  (${(rate / loopRate).toFixed(2)}x the loop)`,
  );
}
