// The demo page's Read text panel in Chromium (dist/, built by `make site`): the package ocr and
// the full build fetched on demand, reading in a WorkerModel; an image picked (a test image of
// `make models-ocr`, read as RapidOCR reads it), the camera (Chromium's fake capture fed a Y4M
// video of a test image) and the message when the camera is refused. Fails on any console error
// or warning, any failed request, and any request that leaves the page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from '../../scripts/serve.mjs';
import { openIn } from './browser.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const ocrModels = process.env.EDGESERVE_OCR_MODELS ?? `${root}target/models-ocr`;
const golden = JSON.parse(readFileSync(`${ocrModels}/golden.json`, 'utf8'));
const entry = name => golden.images.find(e => e.name === name);

let server, base, work;
const browsers = [];

/** A Y4M file (4:2:0, BT.601, two frames) of a test image's RGB pixels: Chromium's fake camera. */
function y4m(name) {
  const { width, height } = entry(name);
  const rgb = readFileSync(`${ocrModels}/images/${name}.rgb`);
  const y = new Uint8Array(width * height);
  const u = new Uint8Array((width / 2) * (height / 2));
  const v = new Uint8Array(u.length);
  for (let i = 0; i < width * height; i++) {
    const [r, g, b] = [rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2]];
    y[i] = Math.round(16 + 0.257 * r + 0.504 * g + 0.098 * b);
    const [row, col] = [Math.floor(i / width), i % width];
    if (row % 2 === 0 && col % 2 === 0) {
      const j = (row / 2) * (width / 2) + col / 2;
      u[j] = Math.round(128 - 0.148 * r - 0.291 * g + 0.439 * b);
      v[j] = Math.round(128 + 0.439 * r - 0.368 * g - 0.071 * b);
    }
  }
  const frame = Buffer.concat([Buffer.from('FRAME\n'), y, u, v]);
  const file = join(work, `${name}.y4m`);
  writeFileSync(
    file,
    Buffer.concat([Buffer.from(`YUV4MPEG2 W${width} H${height} F10:1 Ip A1:1 C420jpeg\n`), frame, frame]),
  );
  return file;
}

before(async () => {
  server = await serve(`${root}dist`, 0);
  base = `http://127.0.0.1:${server.address().port}/`;
  work = mkdtempSync(join(tmpdir(), 'edgeserve-read-'));
});

after(async () => {
  await Promise.all(browsers.map(b => b.close()));
  server?.close();
  rmSync(work, { recursive: true, force: true });
});

const open = args => openIn(browsers, base, args);

const listed = page => page.$$eval('#read-lines li', items => items.map(li => li.textContent));

test("an image picked is read as RapidOCR reads it, its lines boxed, each stage's time shown", async () => {
  const { page, problems, offsite } = await open();
  await page.setInputFiles('#read-file', `${ocrModels}/images/notice.png`);
  await page.waitForFunction(() => Number(document.body.dataset.readings ?? 0) >= 1, null, { timeout: 120_000 });
  assert.deepEqual(
    await listed(page),
    entry('notice').reference.lines.map(l => l.text),
  );
  assert.match(await page.textContent('#read-status'), /^notice\.png \(1024 x 768\): 7 lines\.$/);
  assert.match(
    await page.textContent('#read-latency'),
    /^\d+ ms: detector \d+ ms, crops \d+ ms, classifier \d+ ms, recogniser \d+ ms$/,
  );
  assert.deepEqual(await page.$eval('#read-canvas', c => [c.width, c.height]), [1024, 768]);
  // A second image, dropped on the panel's file input again: the worker is reused.
  await page.setInputFiles('#read-file', `${ocrModels}/images/receipt.png`);
  await page.waitForFunction(() => Number(document.body.dataset.readings) >= 2, null, { timeout: 60_000 });
  assert.deepEqual(
    await listed(page),
    entry('receipt').reference.lines.map(l => l.text),
  );
  assert.deepEqual(problems, []);
  assert.deepEqual(offsite, []);
});

test("the camera: Chromium's fake capture of a receipt is read frame after frame", async () => {
  const { page, problems, offsite } = await open([
    '--use-fake-device-for-media-stream',
    '--use-fake-ui-for-media-stream',
    `--use-file-for-fake-video-capture=${y4m('receipt')}`,
  ]);
  await page.click('#read-camera');
  await page.waitForFunction(() => Number(document.body.dataset.readings ?? 0) >= 2, null, { timeout: 120_000 });
  assert.equal(await page.evaluate(() => document.body.dataset.camera), '1');
  const lines = await listed(page);
  // The frame went through 4:2:0 colour and back: the lines, if not every character.
  const want = entry('receipt').reference.lines.map(l => l.text);
  const same = lines.filter(l => want.includes(l)).length;
  assert.ok(same >= want.length - 2, `${lines} against ${want}`);
  await page.click('#read-camera');
  await page.waitForFunction(() => document.body.dataset.camera === '0', null, { timeout: 10_000 });
  assert.deepEqual(problems, []);
  assert.deepEqual(offsite, []);
});

test('a refused camera is said clearly, and an image still reads', async () => {
  // A fake device, but no fake consent: headless Chromium refuses the permission prompt.
  const { page, problems } = await open(['--use-fake-device-for-media-stream']);
  await page.click('#read-camera');
  await page.waitForFunction(
    () => /permission was refused/.test(document.getElementById('read-status').textContent),
    null,
    { timeout: 120_000 },
  );
  assert.equal(await page.isDisabled('#read-camera'), false);
  await page.setInputFiles('#read-file', `${ocrModels}/images/astronaut.png`);
  await page.waitForFunction(() => Number(document.body.dataset.readings ?? 0) >= 1, null, { timeout: 60_000 });
  assert.deepEqual(
    await listed(page),
    entry('astronaut').reference.lines.map(l => l.text),
  );
  assert.deepEqual(problems, []);
});
