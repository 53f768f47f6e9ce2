// The demo page's Listen panel in Chromium (dist/, built by `make site`): the package vad and the
// full build fetched on demand; the microphone through edgeserve's AudioWorklet, fed by Chromium's
// fake audio capture with a recording made by `make models-audio` (espeak-ng's phrases, at 48
// kHz); an audio file picked; decodeAudio() and an AudioBuffer in the page; and the message when
// the microphone is refused. Fails on any console error or warning, any failed request, and any
// request that leaves the page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { serve } from '../../scripts/serve.mjs';
import { openIn } from './browser.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const audioModels = process.env.EDGESERVE_AUDIO_MODELS ?? `${root}target/models-audio`;
const golden = JSON.parse(readFileSync(`${audioModels}/vad/golden.json`, 'utf8'));
const recording = name => golden.recordings.find(r => r.file === name);
const MICROPHONE = 'speech-48k-clean.wav';
const FILE = 'speech-16k-clean.wav';

let server, base;
const browsers = [];

before(async () => {
  server = await serve(`${root}dist`, 0);
  base = `http://127.0.0.1:${server.address().port}/`;
});

after(async () => {
  await Promise.all(browsers.map(b => b.close()));
  server?.close();
});

const open = args => openIn(browsers, base, args);

const segmentsListed = page =>
  page.$$eval('#listen-segments li', items =>
    items.map(
      li =>
        li.textContent
          .match(/^([\d.]+) s – ([\d.]+) s$/)
          ?.slice(1)
          .map(Number) ?? li.textContent,
    ),
  );

test('the microphone, live: frames and speech segments stream in as the recording plays', async () => {
  const { page, problems, offsite } = await open([
    '--use-fake-device-for-media-stream',
    '--use-fake-ui-for-media-stream',
    `--use-file-for-fake-audio-capture=${audioModels}/audio/${MICROPHONE}`,
  ]);
  await page.click('#listen-mic');
  await page.waitForFunction(() => document.body.dataset.listening === '1', null, { timeout: 60_000 });
  assert.match(await page.textContent('#listen-status'), /^Listening at \d+ Hz/);
  // Three phrases end within the first 12 s of the recording (it loops).
  await page.waitForFunction(() => Number(document.body.dataset.listenSegments ?? 0) >= 3, null, { timeout: 60_000 });
  await page.click('#listen-mic');
  await page.waitForFunction(() => document.body.dataset.listening === '0', null, { timeout: 10_000 });
  const frames = Number(await page.evaluate(() => document.body.dataset.listenFrames));
  assert.match(await page.textContent('#listen-status'), /^Stopped after \d+ frames/);
  assert.ok(frames > 300, `${frames} frames`);
  assert.match(await page.textContent('#listen-latency'), /^[\d.]+ ms for \d+ frame\(s\) \(median [\d.]+ ms\)$/);
  // Where the recording started against the page's clock is not known: the segments' lengths
  // are compared, each with one of the reference's (silero-vad's on the same recording).
  const lengths = recording(MICROPHONE).segments.map(s => (s.end - s.start) / 16000);
  const done = (await segmentsListed(page)).filter(s => Array.isArray(s));
  assert.ok(done.length >= 3, JSON.stringify(done));
  for (const [start, end] of done.slice(0, 3)) {
    const closest = Math.min(...lengths.map(l => Math.abs(end - start - l)));
    assert.ok(closest <= 0.3, `a segment of ${(end - start).toFixed(2)} s; the reference's: ${lengths}`);
  }
  assert.deepEqual(problems, []);
  assert.deepEqual(offsite, []);
});

test('a file picked, and decodeAudio() with an AudioBuffer: the segments of silero-vad', async () => {
  const { page, problems, offsite } = await open([]);
  const want = recording(FILE).segments.map(s => [s.start / 16000, s.end / 16000]);
  await page.setInputFiles('#listen-file', `${audioModels}/audio/${FILE}`);
  await page.waitForFunction(f => document.body.dataset.listenFile === f, FILE, { timeout: 60_000 });
  assert.match(await page.textContent('#listen-status'), new RegExp(`^${FILE}: ${want.length} speech segments`));
  assert.deepEqual(
    await segmentsListed(page),
    want.map(([s, e]) => [Number(s.toFixed(2)), Number(e.toFixed(2))]),
  );
  // The browser's decoder and a real AudioBuffer, through the package's exports.
  const bytes = [...readFileSync(`${audioModels}/audio/${FILE}`)];
  const decoded = await page.evaluate(async bytes => {
    const pkg = await import('./pkg-full/index.js');
    await pkg.default();
    const vad = await pkg.Model.load('vad');
    const buffer = await pkg.decodeAudio(new Uint8Array(bytes), 16000);
    const found = vad.speechSegments(buffer);
    const refused = await pkg.decodeAudio(new Uint8Array(100), 16000).catch(e => e.code);
    vad.free();
    return { isAudioBuffer: buffer instanceof AudioBuffer, segments: found.segments, refused };
  }, bytes);
  assert.equal(decoded.isAudioBuffer, true);
  assert.deepEqual(
    decoded.segments,
    want.map(([start, end]) => ({ start, end })),
  );
  assert.equal(decoded.refused, 'BAD_INPUT');
  assert.deepEqual(problems, []);
  assert.deepEqual(offsite, []);
});

test('a refused microphone is said clearly, and a file still works', async () => {
  // A fake device, but no fake consent: headless Chromium refuses the permission prompt.
  const { page, problems } = await open(['--use-fake-device-for-media-stream']);
  await page.click('#listen-mic');
  await page.waitForFunction(
    () => /permission was refused/.test(document.getElementById('listen-status').textContent),
    null,
    {
      timeout: 60_000,
    },
  );
  assert.equal(await page.isDisabled('#listen-mic'), false);
  await page.setInputFiles('#listen-file', `${audioModels}/audio/${FILE}`);
  await page.waitForFunction(f => document.body.dataset.listenFile === f, FILE, { timeout: 60_000 });
  assert.deepEqual(problems, []);
});
