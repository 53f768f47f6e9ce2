// Reading text through the built npm package in Node: the OCR package ocr (made by `make
// models-ocr` into target/models-ocr, or EDGESERVE_OCR_MODELS) shipped beside the wasm and loaded
// by name, `await Model.load('ocr')` fetching its three graphs; readText() on the images rendered
// there against RapidOCR's own results (the same texts, corners within a few pixels); then what
// goes wrong (a changed graph, bad images, the wrong model), each
// a coded error that leaves the model reading. Natively, stage by stage: tests/ocr.rs; in a
// WorkerModel in Chromium, the demo's Read text panel (tests/e2e/read.test.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { edgeserve, pkgDir, rejection, root } from './helpers.mjs';

const { Model } = await edgeserve();
const lean = await edgeserve({ lean: true });
const base = process.env.EDGESERVE_OCR_MODELS ?? `${root}target/models-ocr`;
const golden = JSON.parse(readFileSync(`${base}/golden.json`, 'utf8'));
const sha256 = file => createHash('sha256').update(readFileSync(file)).digest('hex');
const image = entry => ({
  data: new Uint8Array(readFileSync(`${base}/images/${entry.name}.rgb`)),
  width: entry.width,
  height: entry.height,
  channels: 3,
});
const farthest = (a, b) => Math.max(...a.map((p, i) => Math.max(Math.abs(p[0] - b[i][0]), Math.abs(p[1] - b[i][1]))));

/** How many of RapidOCR's lines readText() gives the same text, with every corner within 3 px. */
function agreement(reading, entry) {
  let same = 0;
  for (const want of entry.reference.lines) {
    const found = reading.lines.find(l => farthest(l.box, want.box) <= 3);
    if (found?.text === want.text) same++;
  }
  return same;
}

const ocr = await Model.load('ocr');

test('the npm package ships ocr beside the full build with its three graphs, and lists it', () => {
  assert.ok(Model.names().includes('ocr'), `${Model.names()}`);
  assert.ok(!lean.Model.names().includes('ocr'), 'the lean build cannot load it');
  for (const f of ['manifest.json', 'model.onnx', 'classifier.onnx', 'recognizer.onnx']) {
    assert.equal(sha256(`${pkgDir}models/ocr/${f}`), sha256(`${base}/ocr/${f}`), f);
  }
  assert.equal(ocr.manifest.task, 'ocr');
});

test("readText() reads the rendered images as RapidOCR's own pipeline does", () => {
  let same = 0;
  let total = 0;
  for (const entry of golden.images) {
    const reading = ocr.readText(image(entry));
    assert.equal(typeof reading.latencyMs, 'number');
    for (const key of ['detectorMs', 'cropMs', 'classifierMs', 'recognizerMs']) {
      assert.ok(reading.timings[key] >= 0, `${entry.name}: ${key}`);
    }
    for (const line of reading.lines) {
      assert.equal(line.box.length, 4);
      assert.ok(line.score >= 0.5 && line.score <= 1, `${line.text}: ${line.score}`);
    }
    same += agreement(reading, entry);
    total += entry.reference.lines.length;
  }
  assert.ok(same >= total * 0.9, `${same} of ${total} lines as RapidOCR reads them`);
});

test('an ImageData-like RGBA image and a gray one read as the RGB one', () => {
  const entry = golden.images.find(e => e.name === 'receipt');
  const rgb = image(entry);
  const rgba = new Uint8ClampedArray(entry.width * entry.height * 4);
  for (let i = 0, j = 0; i < rgb.data.length; i += 3, j += 4) {
    rgba.set(rgb.data.subarray(i, i + 3), j);
    rgba[j + 3] = 255;
  }
  const fromRgb = ocr.readText(rgb).lines.map(l => l.text);
  assert.deepEqual(
    ocr.readText({ data: rgba, width: entry.width, height: entry.height }).lines.map(l => l.text),
    fromRgb,
  );
  assert.equal(agreement(ocr.readText(rgb), entry), entry.reference.lines.length);
});

test('bad images and the wrong model are coded errors, and ocr reads on', async () => {
  const cases = [
    { data: new Uint8Array(0), width: 0, height: 10, channels: 3 },
    { data: new Uint8Array(12), width: 2, height: 2, channels: 2 },
    { data: new Uint8Array(11), width: 2, height: 2, channels: 3 },
    { data: [1, 2, 3], width: 1, height: 1, channels: 3 },
    { width: 10, height: 10 },
    'receipt.png',
    null,
  ];
  for (const bad of cases) {
    assert.throws(
      () => ocr.readText(bad),
      e => e.code === 'BAD_INPUT',
      JSON.stringify(bad),
    );
  }
  const huge = { data: new Uint8Array(3), width: 5000, height: 5000, channels: 3 };
  assert.throws(
    () => ocr.readText(huge),
    e => e.code === 'BAD_INPUT' && /maxImagePixels/.test(e.message),
  );
  const detached = new Uint8Array(30);
  structuredClone(detached.buffer, { transfer: [detached.buffer] });
  assert.throws(
    () => ocr.readText({ data: detached, width: 10, height: 1, channels: 3 }),
    e => e.code === 'BAD_INPUT',
  );
  assert.throws(
    () => ocr.predict(image(golden.images[0])),
    e => e.code === 'BAD_INPUT' && /readText/.test(e.message),
  );
  const digits = Model.load('digits-fast');
  assert.throws(
    () => digits.readText(image(golden.images[0])),
    e => e.code === 'BAD_INPUT',
  );
  digits.free();
  const entry = golden.images.find(e => e.name === 'astronaut');
  assert.equal(agreement(ocr.readText(image(entry)), entry), entry.reference.lines.length);
});

test('a changed or missing graph of ocr is a coded error when it is fetched', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgeserve-ocr-'));
  try {
    const modelsUrl = pathToFileURL(`${dir}/`).href;
    cpSync(`${pkgDir}models/ocr`, `${dir}/ocr`, { recursive: true });
    const recognizer = readFileSync(`${dir}/ocr/recognizer.onnx`);
    recognizer[recognizer.length - 1] ^= 1;
    writeFileSync(`${dir}/ocr/recognizer.onnx`, recognizer);
    const changed = await rejection(Model.load('ocr', { modelsUrl }));
    assert.equal(changed.code, 'INTEGRITY', changed.message);
    rmSync(`${dir}/ocr/classifier.onnx`);
    const missing = await rejection(Model.load('ocr', { modelsUrl }));
    assert.equal(missing.code, 'MODEL_LOAD', missing.message);
    assert.match(missing.message, /classifier\.onnx/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.ok(ocr.readText(image(golden.images[0])).lines.length > 0);
});
