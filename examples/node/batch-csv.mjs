// Batch-predicts a CSV file in Node with the edgeserve npm package and prints the accuracy and
// the throughput.
//
//   node examples/node/batch-csv.mjs [file.csv] [label-column] [model]
//
// Defaults: www/data/digits-test.csv (the held-out digits), column "label", the default model.
// In a project that installed the package, import from 'edgeserve' instead of ../../pkg/.
import { readFileSync } from 'node:fs';
import { initSync, Model } from '../../pkg/index.js';

const [file = new URL('../../www/data/digits-test.csv', import.meta.url), labelColumn = 'label', name] =
  process.argv.slice(2);
initSync({ module: readFileSync(new URL('../../pkg/edgeserve_bg.wasm', import.meta.url)) });

const model = name ? Model.load(name) : Model.default();
const text = readFileSync(file, 'utf8');
let chunks = 0;
const result = await model.predictCsv(text, { labelColumn, chunkSize: 128, onProgress: () => chunks++ });

console.log(`model: ${model.name} (held-out accuracy in its manifest: ${model.manifest.metrics.accuracy})`);
console.log(
  `rows: ${result.rows} in ${chunks} chunks, ${result.latencyMs.toFixed(1)} ms, ${Math.round(result.rowsPerSecond)} rows/s`,
);
if (result.accuracy !== undefined) console.log(`accuracy: ${result.accuracy.toFixed(4)}`);
const { batch } = model.latency();
console.log(`batch latency per row: p50 ${(batch.p50 * 1000).toFixed(1)} us, p99 ${(batch.p99 * 1000).toFixed(1)} us`);
