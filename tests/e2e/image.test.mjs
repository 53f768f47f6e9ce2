// Images in Debian's headless Chromium: imageData() reads what a page holds (an ImageData, a
// canvas, an OffscreenCanvas, an ImageBitmap, a VideoFrame, an <img> and a PNG file) at its own
// size, and detect() on each gives the same boxes, those of the reference (training/
// image_fixtures.py); a <video> of Chromium's fake camera gives its current frame; what
// imageData() cannot read is refused with a code. No console error.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { serve } from '../../scripts/serve.mjs';
import { launch, openPage } from './browser.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const golden = JSON.parse(readFileSync(`${root}tests/fixtures/image/detector-yolov8.golden.json`, 'utf8'));
let server, browser, page;
const problems = [];

before(async () => {
  server = await serve(root, 0);
  browser = await launch(['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream']);
  page = await openPage(browser, `http://127.0.0.1:${server.address().port}/tests/e2e/fixtures/image.html`, problems);
});

after(async () => {
  await browser?.close();
  server?.close();
});

test("every kind of image a page holds gives the reference's boxes", async () => {
  const results = await page.evaluate(async () => {
    const { Model, imageData } = window.edgeserve;
    const dir = '/tests/fixtures/image/';
    const bytes = async name => new Uint8Array(await (await fetch(dir + name)).arrayBuffer());
    const model = await Model.fromBytes(
      await bytes('detector-yolov8.onnx'),
      await (await fetch(`${dir}detector-yolov8.manifest.json`)).json(),
    );
    // The fixture's RGB pixels as an ImageData, then on a canvas.
    const [width, height] = [97, 61];
    const rgb = await bytes('rgb.97x61x3.raw');
    const rgba = new Uint8ClampedArray(width * height * 4);
    for (let p = 0; p < width * height; p++) rgba.set([rgb[p * 3], rgb[p * 3 + 1], rgb[p * 3 + 2], 255], p * 4);
    const pixels = new ImageData(rgba, width, height);
    const canvas = document.createElement('canvas');
    [canvas.width, canvas.height] = [width, height];
    canvas.getContext('2d').putImageData(pixels, 0, 0);
    const offscreen = new OffscreenCanvas(width, height);
    offscreen.getContext('2d').putImageData(pixels, 0, 0);
    const png = await offscreen.convertToBlob({ type: 'image/png' });
    const img = new Image();
    img.src = URL.createObjectURL(png);
    await img.decode();
    const frame = new VideoFrame(canvas, { timestamp: 0 });
    const sources = {
      ImageData: pixels,
      HTMLCanvasElement: canvas,
      OffscreenCanvas: offscreen,
      ImageBitmap: await createImageBitmap(canvas),
      VideoFrame: frame,
      HTMLImageElement: img,
      'Blob (PNG)': png,
    };
    const out = {};
    for (const [kind, source] of Object.entries(sources)) {
      const data = await imageData(source);
      out[kind] = { size: [data.width, data.height], boxes: model.detect(data).boxes };
    }
    frame.close();
    const refusals = [];
    for (const bad of [42, null, {}, new Blob(['not an image'], { type: 'image/png' }), new Image()]) {
      try {
        await imageData(bad);
        refusals.push('resolved');
      } catch (e) {
        refusals.push(`${e.code}: ${e.message}`);
      }
    }
    model.free();
    return { out, refusals };
  });
  const want = golden.cases.find(c => c.image === 'rgb.97x61x3.raw').boxes;
  const reference = results.out.ImageData.boxes;
  assert.equal(reference.length, want.length);
  reference.forEach((b, i) => {
    assert.equal(b.index, want[i].index);
    assert.ok(Math.abs(b.score - want[i].score) < 5e-3, `score ${b.score} vs ${want[i].score}`);
    for (const k of ['x', 'y', 'width', 'height']) assert.ok(Math.abs(b[k] - want[i][k]) < 1e-3, `${k}`);
  });
  for (const [kind, { size, boxes }] of Object.entries(results.out)) {
    assert.deepEqual(size, [97, 61], kind);
    assert.deepEqual(boxes, reference, `${kind}: the same pixels, the same boxes`);
  }
  assert.equal(results.refusals.length, 5);
  for (const r of results.refusals) assert.match(r, /^BAD_INPUT: imageData\(\)/);
  assert.match(results.refusals[3], /does not decode as an image/);
  assert.match(results.refusals[4], /has no size yet/);
  assert.deepEqual(problems, []);
});

test('a <video> of the camera: imageData() reads its current frame, detect() runs on it', async () => {
  const result = await page.evaluate(async () => {
    const { Model, imageData } = window.edgeserve;
    const dir = '/tests/fixtures/image/';
    const model = await Model.fromBytes(
      new Uint8Array(await (await fetch(`${dir}detector-yolov8.onnx`)).arrayBuffer()),
      await (await fetch(`${dir}detector-yolov8.manifest.json`)).json(),
    );
    const video = document.createElement('video');
    video.muted = true;
    let noFrame;
    try {
      await imageData(video);
      noFrame = 'resolved';
    } catch (e) {
      noFrame = `${e.code}: ${e.message}`;
    }
    const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 } });
    video.srcObject = stream;
    await video.play();
    await new Promise(resolve => video.requestVideoFrameCallback(resolve));
    const frame = await imageData(video);
    const found = model.detect(frame);
    const opaque = frame.data.every((v, i) => i % 4 !== 3 || v === 255);
    stream.getTracks().forEach(t => t.stop());
    model.free();
    return { noFrame, size: [frame.width, frame.height], boxes: found.boxes.length, opaque, latency: found.latencyMs };
  });
  assert.match(result.noFrame, /^BAD_INPUT: imageData\(\): the image has no size yet \(0 x 0\)/);
  assert.deepEqual(result.size, [640, 480]);
  assert.ok(result.opaque, 'a camera frame is opaque RGBA');
  assert.ok(Number.isInteger(result.boxes) && result.boxes >= 0 && result.boxes <= 4);
  assert.ok(result.latency >= 0);
  assert.deepEqual(problems, []);
});
