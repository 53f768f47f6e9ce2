// The boundary fuzzer (tests/catalogue/boundary-fuzz.mjs) on the npm package in Node: random
// JavaScript values at every export of the full build and of the lean one, from a fixed seed
// (FUZZ_JS_SEED, default 1) for a bounded time (FUZZ_JS_SECONDS per build, default 10). After
// every call the contract holds and a good prediction is bit for bit what it was before.
// A failure prints fast-check's counterexample with its seed and path, to replay it:
//   FUZZ_JS_SEED=<seed> node --test tests/js/boundary-fuzz.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { edgeserve, golden, root } from './helpers.mjs';
import { fuzzBoundary, formatFigures } from '../catalogue/boundary-fuzz.mjs';

const SECONDS = Number(process.env.FUZZ_JS_SECONDS ?? 10);
const SEED = Number(process.env.FUZZ_JS_SEED ?? 1);

function values() {
  const { cases } = golden('digits-accurate');
  const onnx = new Uint8Array(readFileSync(`${root}models/digits-fast/model.onnx`));
  return {
    good: cases[0].input,
    goodRows: cases.slice(0, 8).map(c => ({ input: c.input, label: c.expected.label })),
    csv: readFileSync(`${root}www/data/digits-test.csv`, 'utf8').split('\n').slice(0, 4).join('\n'),
    manifest: JSON.parse(readFileSync(`${root}models/digits-fast/manifest.json`, 'utf8')),
    onnx,
    onnxSha256: createHash('sha256').update(onnx).digest('hex'),
    inputName: JSON.parse(readFileSync(`${root}models/digits-accurate/manifest.json`, 'utf8')).inputs[0].name,
    // Nothing that reaches a host: a closed port on this machine, and URLs fetch() refuses.
    urls: [
      'http://127.0.0.1:9/x.onnx',
      'http://127.0.0.1:9/model.onnx?v=1',
      'not a url',
      'file:///nonexistent/model.onnx',
      '',
    ],
    sharedArrayBuffer: typeof SharedArrayBuffer === 'function',
    hugeTypedArrays: true,
  };
}

/** Console errors and warnings (a wasm panic prints one) and unhandled rejections, while `f` runs. */
async function watched(f) {
  const seen = [];
  const { error, warn } = console;
  console.error = (...a) => seen.push(`console.error: ${a.map(String).join(' ')}`);
  console.warn = (...a) => seen.push(`console.warn: ${a.map(String).join(' ')}`);
  const onRejection = reason => seen.push(`unhandled rejection: ${reason?.stack ?? String(reason)}`);
  process.on('unhandledRejection', onRejection);
  try {
    return { result: await f(), seen };
  } finally {
    console.error = error;
    console.warn = warn;
    process.off('unhandledRejection', onRejection);
  }
}

for (const build of ['full', 'lean']) {
  test(
    `random JavaScript values at every export of the ${build} build: each call returns or throws a coded Error, and the model stays exact`,
    { timeout: (SECONDS + 300) * 1000 },
    async () => {
      const { Model, ModelSet } = await edgeserve({ lean: build === 'lean' });
      const model = Model.load('digits-accurate');
      const ctx = {
        layer: `node/${build}`,
        kind: 'main',
        build,
        api: { Model, ModelSet },
        model,
        values: values(),
        goldenLabel: golden('digits-accurate').cases[0].expected.label,
      };
      let figures;
      const { seen } = await watched(async () => {
        try {
          figures = await fuzzBoundary(fc, ctx, { seed: SEED, timeLimitMs: SECONDS * 1000 });
        } catch (e) {
          if (e.figures) console.log(formatFigures(e.figures));
          throw e;
        }
      });
      model.free();
      console.log(formatFigures(figures));
      assert.ok(figures.calls > 0, 'no call was made');
      assert.deepEqual(
        Object.entries(figures.perExport)
          .filter(([, n]) => n === 0)
          .map(([k]) => k),
        [],
        'exports never called',
      );
      assert.deepEqual(seen, [], 'console errors, warnings or unhandled rejections during the fuzz');
    },
  );
}
