// The lean build with the OCR package compiled in (`make ocr-lean`: target/ocr-bytes/lean, the
// NNEF forms of its three graphs, no ONNX parser) in Node: ocr is listed and loads with nothing
// to fetch, and reads the rendered images of `make models-ocr` as RapidOCR's own pipeline does.
// Natively: tests/lean_ocr.rs; its bytes and cold start beside the full build's: make
// bench-ocr-bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { root } from './helpers.mjs';

const build = `${root}target/ocr-bytes/lean/`;
const { initSync, Model } = await import(`${build}edgeserve.js`);
initSync({ module: readFileSync(`${build}edgeserve_bg.wasm`) });
const base = process.env.EDGESERVE_OCR_MODELS ?? `${root}target/models-ocr`;
const golden = JSON.parse(readFileSync(`${base}/golden.json`, 'utf8'));
const farthest = (a, b) => Math.max(...a.map((p, i) => Math.max(Math.abs(p[0] - b[i][0]), Math.abs(p[1] - b[i][1]))));

test('the lean build lists ocr, loads it at once and has no ONNX parser', async () => {
  assert.ok(Model.names().includes('ocr'), `${Model.names()}`);
  const ocr = Model.load('ocr');
  assert.equal(ocr.manifest.task, 'ocr');
  ocr.free();
  await assert.rejects(Model.fromBytes(new Uint8Array(8)), e => e.code === 'MODEL_LOAD');
});

test("readText() reads the rendered images as RapidOCR's own pipeline does", () => {
  const ocr = Model.load('ocr');
  let same = 0;
  let total = 0;
  for (const entry of golden.images) {
    const data = new Uint8Array(readFileSync(`${base}/images/${entry.name}.rgb`));
    const reading = ocr.readText({ data, width: entry.width, height: entry.height, channels: 3 });
    for (const want of entry.reference.lines) {
      const found = reading.lines.find(l => farthest(l.box, want.box) <= 3);
      if (found?.text === want.text) same++;
    }
    total += entry.reference.lines.length;
  }
  ocr.free();
  assert.ok(same >= total * 0.9, `${same} of ${total} lines as RapidOCR reads them`);
});
