// The built npm package (pkg/) in Node: the JS API of the foundation issue, as JavaScript sees it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { edgeserve, golden, maxAbsDiff, pkgDir, TOLERANCE, embeddedNames } from './helpers.mjs';

const { Model } = await edgeserve();

test('names, default and load', () => {
  assert.deepEqual(embeddedNames, ['digits-accurate', 'digits-fast']);
  assert.deepEqual(Model.names(), [...embeddedNames, 'minilm', 'minilm-int8', 'ocr', 'vad']);
  const model = Model.default();
  assert.equal(model.name, 'digits-accurate');
  assert.equal(model.inputWidth, 64);
  assert.equal(Model.load('digits-fast').name, 'digits-fast');
});

test('manifest is a plain object equal to manifest.json', () => {
  for (const name of embeddedNames) {
    const model = Model.load(name);
    const shipped = JSON.parse(readFileSync(new URL(`../../models/${name}/manifest.json`, import.meta.url)));
    assert.equal(Object.getPrototypeOf(model.manifest), Object.prototype);
    assert.deepEqual(model.manifest, shipped);
  }
});

test('predictions match onnxruntime on every golden case', () => {
  for (const name of embeddedNames) {
    const model = Model.load(name);
    for (const { input, expected } of golden(name).cases) {
      for (const row of [Float32Array.from(input), input]) {
        const r = model.predict(row);
        assert.deepEqual(Object.keys(r).sort(), ['index', 'label', 'latencyMs', 'scores']);
        assert.equal(r.label, expected.label);
        assert.equal(r.index, expected.index);
        assert.ok(r.scores instanceof Float32Array);
        assert.ok(maxAbsDiff(r.scores, expected.scores) <= TOLERANCE);
        assert.ok(Number.isFinite(r.latencyMs) && r.latencyMs >= 0);
      }
    }
  }
});

test('bad input throws an Error with a code and a message; the model keeps working', () => {
  const model = Model.default();
  const { input, expected } = golden('digits-accurate').cases[0];
  const bad = [
    [undefined, /got undefined$/],
    [null, /got null$/],
    ['0,1,2', /got a string \("0,1,2"\)$/],
    [{ length: 64 }, /got an object \(Object\)$/],
    [new Float32Array(10), /expected 64 raw features, got 10 values$/],
    [Float32Array.from(input, (v, i) => (i === 9 ? NaN : v)), /^input\[9\] is not a finite number/],
    [Float32Array.from(input, (v, i) => (i === 2 ? -Infinity : v)), /^input\[2\] is not a finite number/],
    [input.map((v, i) => (i === 4 ? '4' : v)), /^input\[4\] is not a number: expected a number, got a string/],
    [new BigInt64Array(64), /got BigInt64Array\(64\)$/],
  ];
  for (const [value, message] of bad) {
    assert.throws(
      () => model.predict(value),
      e => e instanceof Error && e.code === 'BAD_INPUT' && message.test(e.message),
    );
    assert.equal(model.predict(input).label, expected.label);
  }
  assert.throws(
    () => Model.load('digits-huge'),
    e =>
      e.code === 'UNKNOWN_MODEL' &&
      /expected one of \["digits-accurate", "digits-fast", "minilm", "minilm-int8", "ocr", "vad"\]/.test(e.message),
  );
});

test('a freed model cannot be used, and others are unaffected', () => {
  const a = Model.load('digits-fast');
  const b = Model.load('digits-fast');
  a.free();
  assert.throws(() => a.predict(new Float32Array(64)), Error);
  assert.equal(b.predict(new Float32Array(64)).scores.length, 10);
});

test('the digits packages run on the row executor; the tract plans give the same predictions', () => {
  for (const name of embeddedNames) {
    const model = Model.load(name);
    assert.equal(model.engine, 'rows');
    const cases = golden(name).cases.slice(0, 10);
    const rows = cases.map(({ input }) => model.predict(input));
    model.useEngine('tract');
    assert.equal(model.engine, 'tract');
    cases.forEach(({ input, expected }, i) => {
      const r = model.predict(input);
      assert.equal(r.label, rows[i].label);
      assert.equal(r.label, expected.label);
      assert.ok(maxAbsDiff(r.scores, rows[i].scores) <= TOLERANCE, `${name} case ${i}`);
    });
    model.useEngine('rows');
    assert.equal(model.engine, 'rows');
    assert.throws(
      () => model.useEngine('gpu'),
      e => e.code === 'BAD_INPUT' && /engine: expected "rows" or "tract", got "gpu"/.test(e.message),
    );
    assert.equal(model.engine, 'rows');
  }
});

test('a CNN runs on tract; asking for the row executor says why not', async () => {
  const model = await Model.fromBytes(readFileSync(new URL('../fixtures/onnx/pools.onnx', import.meta.url)));
  assert.equal(model.engine, 'tract');
  assert.throws(
    () => model.useEngine('rows'),
    e => e.code === 'BAD_INPUT' && /no row program \(the operation MaxPool/.test(e.message),
  );
  assert.equal(model.engine, 'tract');
});

test('the .d.ts declares the API and the result shapes', () => {
  const dts = readFileSync(`${pkgDir}edgeserve.d.ts`, 'utf8');
  for (const needle of [
    'export interface Manifest',
    'export interface ClassPrediction',
    'export type Prediction',
    'export type RowInput',
    'export interface EdgeserveError',
    'static names(): string[]',
    'static load(name: FetchedModelName, options?: LoadOptions | null): Promise<Model>',
    'static load(name: string, options?: LoadOptions | null): Model',
    'export type FetchedModelName = "minilm" | "minilm-int8"',
    'static default(): Model',
    'predict(input: RowInput): Prediction',
    'readonly manifest: Manifest',
    'readonly inputWidth: number',
    "readonly engine: 'rows' | 'tract'",
    "useEngine(name: 'rows' | 'tract'): void",
    'predictCsv(text: string, options?: CsvOptions | null): Promise<BatchResult>',
    "export type ErrorCode = 'UNKNOWN_MODEL' | 'BAD_INPUT' | 'BAD_MANIFEST' | 'INTEGRITY' | 'MODEL_LOAD' | 'INFERENCE' | 'REGISTRY' | 'THREADS' | 'INTERNAL'",
  ]) {
    assert.ok(dts.includes(needle), `edgeserve.d.ts has "${needle}"`);
  }
});
