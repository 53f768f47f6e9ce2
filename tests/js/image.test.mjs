// Images in, through the built package in Node (training/image_fixtures.py made the images, the
// models and the references; natively: tests/image.rs): an image classifier's predict(image)
// against onnxruntime's scores on OpenCV's tensor, detectors' detect(image) against the boxes
// decoded in numpy, as ImageData-shaped objects and as { data, width, height, channels }; bad
// images refused with the field named, the model working after.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { edgeserve, root } from './helpers.mjs';

const { Model } = await edgeserve();
const dir = `${root}tests/fixtures/image/`;
const json = name => JSON.parse(readFileSync(dir + name, 'utf8'));

/** A fixture image (`<name>.<w>x<h>x<c>.raw`) as { data, width, height, channels }. */
function image(file) {
  const [width, height, channels] = file.split('.')[1].split('x').map(Number);
  return { data: new Uint8Array(readFileSync(dir + file)), width, height, channels };
}

/** The same pixels as RGBA, the shape of an ImageData (no channels). */
function rgba({ data, width, height, channels }) {
  const out = new Uint8ClampedArray(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    for (let c = 0; c < 3; c++) out[p * 4 + c] = data[p * channels + (channels === 1 ? 0 : c)];
    out[p * 4 + 3] = channels === 4 ? data[p * 4 + 3] : 255;
  }
  return { data: out, width, height };
}

async function load(name) {
  return Model.fromBytes(readFileSync(`${dir}${name}.onnx`), json(`${name}.manifest.json`));
}

test("an image classifier's predict(image) gives onnxruntime's scores", async () => {
  const model = await load('image-classifier');
  for (const c of json('image-classifier.golden.json').cases) {
    for (const input of [image(c.image), rgba(image(c.image))]) {
      const p = model.predict(input);
      assert.equal(p.label, c.label, c.image);
      assert.ok(p.scores instanceof Float32Array);
      const worst = Math.max(...Array.from(p.scores, (v, i) => Math.abs(v - c.scores[i])));
      assert.ok(worst <= 1e-3, `${c.image}: off by ${worst}`);
      assert.ok(p.latencyMs >= 0);
    }
  }
  assert.equal(model.latency().realtime.count, 8);
  model.free();
});

test('detect(image) gives the boxes decoded by the reference, for YOLOv8 and YOLOv5 heads', async () => {
  for (const head of ['yolov8', 'yolov5']) {
    const model = await load(`detector-${head}`);
    for (const c of json(`detector-${head}.golden.json`).cases) {
      const { boxes, latencyMs } = model.detect(image(c.image));
      assert.ok(latencyMs >= 0);
      assert.equal(boxes.length, c.boxes.length, `${head} ${c.image}`);
      boxes.forEach((b, i) => {
        const want = c.boxes[i];
        assert.equal(b.index, want.index);
        assert.equal(b.label, ['circle', 'square'][want.index]);
        assert.ok(Math.abs(b.score - want.score) < 5e-3, `${head} ${c.image} score ${b.score} vs ${want.score}`);
        for (const k of ['x', 'y', 'width', 'height']) {
          assert.ok(Math.abs(b[k] - want[k]) < 1e-3, `${head} ${c.image} ${k} ${b[k]} vs ${want[k]}`);
        }
      });
    }
    model.free();
  }
});

test('bad images are refused with the field named, and the model goes on', async () => {
  const model = await load('detector-yolov8');
  const good = image('rgb.97x61x3.raw');
  const cases = [
    [null, /^image is not an image: expected an image/],
    [[1, 2, 3], /^image is not an image/],
    [{ data: good.data, height: 61, channels: 3 }, /^image\.width is missing/],
    [
      { ...good, width: 0 },
      /^the image's width is not a size edgeserve takes: expected a whole number of pixels from 1 to 16384, got 0$/,
    ],
    [{ ...good, width: 96.5 }, /^image\.width is not a whole number/],
    [{ ...good, channels: 2 }, /^the image's channels are not a count edgeserve takes/],
    [
      { ...good, data: new Float32Array(good.data.length) },
      /^image\.data is not 8-bit pixels: expected a Uint8Array or a Uint8ClampedArray/,
    ],
    [
      { ...good, data: good.data.subarray(1) },
      /^the image's data has the wrong length: expected 17751 bytes \(97 x 61 pixels, 3 channels each\), got 17750 bytes$/,
    ],
    [{ data: good.data, width: 97, height: 61 }, /expected 23668 bytes \(97 x 61 pixels, 4 channels each\)/],
    [
      {
        get width() {
          throw new Error('a getter');
        },
        height: 1,
        data: good.data,
      },
      /image\.width/,
    ],
  ];
  for (const [input, message] of cases) {
    assert.throws(() => model.detect(input), { code: 'BAD_INPUT', message }, String(input));
  }
  assert.throws(() => model.predict(good), { code: 'BAD_INPUT', message: /is a detector: expected detect\(image\)/ });
  assert.throws(() => model.predict([1, 2, 3]), { code: 'BAD_INPUT' });
  assert.equal(model.detect(good).boxes.length, 4);
  const digits = await Model.load('digits-accurate');
  assert.throws(() => digits.detect(good), { code: 'BAD_INPUT', message: /is not a detector/ });
  digits.free();
  model.free();
});

test('the serving modes take images: predictBatch(images, { onProgress }), stream() of images', async () => {
  const model = await load('image-classifier');
  const { cases } = json('image-classifier.golden.json');
  const images = cases.map(c => (cases.indexOf(c) % 2 ? rgba(image(c.image)) : image(c.image)));
  const progress = [];
  const batch = await model.predictBatch(images, { chunkSize: 3, onProgress: p => progress.push(p.done) });
  assert.deepEqual(progress, [3, 4]);
  assert.deepEqual(
    batch.labels,
    cases.map(c => c.label),
  );
  cases.forEach((c, i) => {
    const worst = Math.max(...c.scores.map((s, k) => Math.abs(s - batch.scores[i * 3 + k])));
    assert.ok(worst <= 1e-3, `${c.image}: off by ${worst}`);
  });
  await assert.rejects(model.predictBatch([images[0], { ...images[1], width: 0 }]), {
    code: 'BAD_INPUT',
    message: /^rows\[1\]: the image's width is not a size edgeserve takes/,
  });
  const stream = model.stream({ maxBatch: 4, maxWaitMs: 1 });
  const writer = stream.writable.getWriter();
  const reading = (async () => {
    const out = [];
    for await (const o of stream.readable) out.push(o);
    return out;
  })();
  for (const item of [images[0], { data: new Uint8Array(3), width: 2, height: 2, channels: 3 }, images[1], 'text'])
    await writer.write(item);
  await writer.close();
  const outputs = await reading;
  assert.deepEqual(
    outputs.map(o => o.index),
    [0, 1, 2, 3],
  );
  assert.equal(outputs[0].prediction.label, cases[0].label);
  assert.equal(outputs[2].prediction.label, cases[1].label);
  assert.equal(outputs[1].error.code, 'BAD_INPUT');
  assert.match(outputs[1].error.message, /^rows\[1\]: the image's data has the wrong length/);
  assert.match(outputs[3].error.message, /^rows\[3\]: image is not an image/);
  model.free();
});
