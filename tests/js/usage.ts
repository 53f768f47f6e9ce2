// Type-checked (tsc --strict --noEmit, by types.test.mjs) against the generated pkg/edgeserve.d.ts:
// what a TypeScript user writes must compile, and misuse must not.
import { initSync, Model, type ClassPrediction, type Manifest, type Prediction, type EdgeserveError } from '../../pkg/edgeserve.js';

declare const wasmBytes: BufferSource;
initSync({ module: wasmBytes });

const names: string[] = Model.names();
const model: Model = names.includes('digits-fast') ? Model.load('digits-fast') : Model.default();
const manifest: Manifest = model.manifest;
const accuracy: number | undefined = manifest.metrics.accuracy;
const labels: string[] | undefined = manifest.labels;
const width: number = model.inputWidth;

const r: Prediction = model.predict(new Float32Array(width));
model.predict([0, 1, 2]);
model.predict(new Uint8Array(64));
if ('label' in r) {
  const c: ClassPrediction = r;
  const scores: Float32Array = c.scores;
  const best: string = c.label + c.index.toFixed(0) + scores[0].toFixed(2);
  console.log(best, c.latencyMs.toFixed(3), accuracy, labels);
} else {
  const values: Float32Array = r.values;
  console.log(values, r.latencyMs);
}
try {
  model.predict([]);
} catch (e) {
  const code: EdgeserveError['code'] = (e as EdgeserveError).code;
  console.log(code === 'BAD_INPUT');
}
model.free();

// @ts-expect-error: a string is not a row of numbers
model.predict('0,1,2');
// @ts-expect-error: manifest is read-only
model.manifest = manifest;
// @ts-expect-error: the task is one of two
const task: 'ranking' = manifest.task;
console.log(task);
