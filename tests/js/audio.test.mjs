// Audio through the built npm package in Node: the voice-activity package vad (made by `make
// models-audio` into target/models-audio, or EDGESERVE_AUDIO_MODELS) loaded with
// Model.fromBytes(onnx, manifest), against the references recorded with it: onnxruntime's
// probability of every chunk, silero-vad's segments and VADIterator's events; then sessions and
// the bad input an audio model must refuse, each with a code, the model and the session serving
// on. Natively: tests/audio.rs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { edgeserve, root } from './helpers.mjs';

const { Model } = await edgeserve();
const base = process.env.EDGESERVE_AUDIO_MODELS ?? `${root}target/models-audio`;
const manifest = JSON.parse(readFileSync(`${base}/vad/manifest.json`, 'utf8'));
const golden = JSON.parse(readFileSync(`${base}/vad/golden.json`, 'utf8'));
const wav = file => new Uint8Array(readFileSync(`${base}/audio/${file}`));
const vad = await Model.fromBytes(readFileSync(`${base}/vad/model.onnx`), manifest);
const at16k = golden.recordings.filter(r => r.sampleRate === 16000);

/** The samples of a 16-bit PCM WAV file written by training/audio_packages.py (44-byte header). */
function samples(bytes) {
  const pcm = new Int16Array(bytes.buffer.slice(bytes.byteOffset + 44, bytes.byteOffset + bytes.length));
  return Float32Array.from(pcm, s => s / 32768);
}

const worstDifference = (a, b) => a.reduce((w, x, i) => Math.max(w, Math.abs(x - b[i])), 0);

test('speechSegments() of a WAV file: every probability within 1e-4 of onnxruntime, segments as silero-vad', () => {
  assert.equal(at16k.length, 3);
  for (const r of at16k) {
    const found = vad.speechSegments(wav(r.file));
    assert.ok(found.probabilities instanceof Float32Array);
    assert.equal(found.probabilities.length, r.probabilities.length, r.file);
    assert.ok(worstDifference(found.probabilities, r.probabilities) <= 1e-4, r.file);
    assert.deepEqual(
      found.segments,
      r.segments.map(s => ({ start: s.start / 16000, end: s.end / 16000 })),
      r.file,
    );
    assert.equal(found.frameSeconds, 512 / 16000);
    assert.equal(found.durationSeconds, r.modelSamples / 16000);
    assert.ok(found.latencyMs > 0);
  }
});

// The reference resamples with scipy, edgeserve with rubato: the probabilities differ near the
// edges of speech, and an edge may move by a few 32 ms frames (tests/audio.rs says the same).
test('speechSegments() of samples at 8 to 48 kHz resamples them: the segments of the reference within 128 ms', () => {
  let worst = 0;
  for (const r of golden.recordings.filter(x => x.sampleRate !== 16000)) {
    const found = vad.speechSegments(samples(wav(r.file)), { sampleRate: r.sampleRate });
    assert.equal(found.segments.length, r.segments.length, r.file);
    found.segments.forEach((s, i) => {
      worst = Math.max(
        worst,
        Math.abs(s.start - r.segments[i].start / 16000),
        Math.abs(s.end - r.segments[i].end / 16000),
      );
    });
  }
  assert.ok(worst <= 0.128, `an edge ${worst} s from the reference's`);
});

test('a session fed in pieces streams the events of silero-vad VADIterator', () => {
  for (const r of at16k) {
    const audio = samples(wav(r.file));
    const session = vad.session({ sampleRate: 16000 });
    assert.equal(session.sampleRate, 16000);
    const probabilities = [];
    const events = [];
    const sizes = [160, 1, 512, 4000, 37, 16000];
    for (let at = 0, k = 0; at < audio.length; k++) {
      const end = Math.min(audio.length, at + sizes[k % sizes.length]);
      const step = session.push(audio.subarray(at, end));
      assert.equal(step.firstFrame, probabilities.length);
      probabilities.push(...step.probabilities);
      events.push(...step.events);
      at = end;
    }
    const last = session.finish();
    probabilities.push(...last.probabilities);
    events.push(...last.events);
    assert.ok(worstDifference(probabilities, r.probabilities) <= 1e-4, r.file);
    assert.deepEqual(
      events,
      r.events.map(e => ({ type: e.kind, time: e.sample / 16000, frame: e.chunk })),
      r.file,
    );
    assert.equal(session.frames, 0, 'finish() starts over');
    session.free();
  }
});

test('bad audio is refused with a code; the session goes on with its state untouched', () => {
  const audio = samples(wav('speech-16k-snr20.wav'));
  const run = (session, skip) => {
    const out = [];
    for (let i = 0; i * 1000 < audio.length; i++) {
      if (i === skip) {
        const nan = audio.slice(i * 1000, i * 1000 + 1000);
        nan[7] = NaN;
        assert.throws(
          () => session.push(nan),
          e => e.code === 'BAD_INPUT' && /index 7/.test(e.message),
        );
        assert.throws(
          () => session.push(new Float32Array(0)),
          e => e.code === 'BAD_INPUT' && /empty/.test(e.message),
        );
        assert.throws(
          () => session.push('not audio'),
          e => e.code === 'BAD_INPUT',
        );
        assert.throws(
          () => session.push(null),
          e => e.code === 'BAD_INPUT',
        );
      }
      out.push(...session.push(audio.subarray(i * 1000, i * 1000 + 1000)).probabilities);
    }
    return out;
  };
  assert.deepEqual(run(vad.session({ sampleRate: 16000 }), 20), run(vad.session({ sampleRate: 16000 }), -1));

  for (const sampleRate of [0, 999, 16000.5, NaN, 1e9, '16000']) {
    assert.throws(
      () => vad.session({ sampleRate }),
      e => e.code === 'BAD_INPUT',
      String(sampleRate),
    );
  }
  assert.throws(
    () => vad.session(),
    e => e.code === 'BAD_INPUT' && /sampleRate/.test(e.message),
  );
  assert.throws(
    () => vad.speechSegments(audio),
    e => e.code === 'BAD_INPUT' && /sampleRate/.test(e.message),
  );
  assert.throws(
    () => vad.speechSegments(new Float32Array(0), { sampleRate: 16000 }),
    e => e.code === 'BAD_INPUT',
  );
  assert.throws(
    () => vad.speechSegments(audio, { sampleRate: 16000, threshold: 2 }),
    e => e.code === 'BAD_INPUT',
  );
  const file = wav('speech-16k-clean.wav');
  assert.throws(
    () => vad.speechSegments(file.subarray(0, 30)),
    e => e.code === 'BAD_INPUT' && /WAV/.test(e.message),
  );
  assert.throws(
    () => vad.speechSegments(file.subarray(0, file.length / 2)),
    e => e.code === 'BAD_INPUT',
  );
  assert.throws(
    () => vad.speechSegments(file, { sampleRate: 48000 }),
    e => e.code === 'BAD_INPUT' && /disagrees/.test(e.message),
  );
  // An exception thrown while an option is read: a coded error, and the model serves on.
  const throwing = {
    get sampleRate() {
      throw new Error('boom');
    },
  };
  assert.throws(
    () => vad.session(throwing),
    e => e.code === 'BAD_INPUT',
  );
  assert.equal(vad.speechSegments(file).segments.length, at16k[0].segments.length);
  // Rows are not audio.
  assert.throws(
    () => vad.predict(new Float32Array(576)),
    e => e.code === 'BAD_INPUT' && /audio/.test(e.message),
  );
});

test("Model.load('vad') fetches the package shipped beside the wasm; Model.names() lists it", async () => {
  assert.ok(Model.names().includes('vad'));
  const byName = await Model.load('vad');
  assert.equal(byName.manifest.task, 'voice-activity');
  const r = at16k[0];
  const found = byName.speechSegments(wav(r.file));
  assert.ok(worstDifference(found.probabilities, r.probabilities) <= 1e-4);
  assert.equal(found.segments.length, r.segments.length);
  byName.free();
});

/** An object shaped as Web Audio's AudioBuffer (Node has none; Chromium's own is tested in tests/e2e/listen.test.mjs). */
function audioBuffer(channels, sampleRate) {
  return {
    numberOfChannels: channels.length,
    sampleRate,
    length: channels[0].length,
    getChannelData: c => channels[c],
  };
}

test('speechSegments() of an AudioBuffer: channels averaged, at its own rate', () => {
  const r = at16k[0];
  const mono = samples(wav(r.file));
  const want = vad.speechSegments(mono, { sampleRate: 16000 });
  const one = vad.speechSegments(audioBuffer([mono], 16000));
  assert.deepEqual(one.segments, want.segments);
  assert.deepEqual(one.probabilities, want.probabilities);
  // Two channels that average to the recording.
  const left = mono.map(x => x * 1.5);
  const right = mono.map(x => x * 0.5);
  const two = vad.speechSegments(audioBuffer([left, right], 16000));
  assert.ok(worstDifference(two.probabilities, want.probabilities) <= 1e-5);
  assert.deepEqual(two.segments, want.segments);
  assert.throws(
    () => vad.speechSegments(audioBuffer([mono], 16000), { sampleRate: 48000 }),
    e => e.code === 'BAD_INPUT' && /AudioBuffer/.test(e.message),
  );
  assert.throws(
    () => vad.speechSegments(audioBuffer([mono, mono.subarray(1)], 16000)),
    e => e.code === 'BAD_INPUT' && /getChannelData\(1\)/.test(e.message),
  );
  assert.throws(
    () => vad.speechSegments({ ...audioBuffer([mono], 16000), getChannelData: () => [0.1, 0.2] }),
    e => e.code === 'BAD_INPUT' && /Float32Array/.test(e.message),
  );
  assert.throws(
    () => vad.speechSegments({ ...audioBuffer([mono], 16000), numberOfChannels: 0 }),
    e => e.code === 'BAD_INPUT' && /numberOfChannels/.test(e.message),
  );
  const throwing = {
    ...audioBuffer([mono], 16000),
    getChannelData() {
      throw new Error('boom');
    },
  };
  assert.throws(
    () => vad.speechSegments(throwing),
    e => e.code === 'BAD_INPUT' && /boom/.test(e.message),
  );
  assert.deepEqual(vad.speechSegments(audioBuffer([mono], 16000)).segments, want.segments);
});

test("a session's state can be read and given back: a stream resumes where it was; a bad state is refused", () => {
  const audio = samples(wav(at16k[1].file));
  const half = 512 * 200;
  const whole = vad.session({ sampleRate: 16000 });
  const want = [
    ...whole.push(audio.subarray(0, half)).probabilities,
    ...whole.push(audio.subarray(half)).probabilities,
  ];
  const first = vad.session({ sampleRate: 16000 });
  const got = [...first.push(audio.subarray(0, half)).probabilities];
  const state = first.state;
  // vad's LSTM: h and c, [1, 1, 128] each.
  assert.equal(state.length, 2);
  for (const value of state) {
    assert.ok(value instanceof Float32Array);
    assert.equal(value.length, 128);
    assert.ok(value.some(x => x !== 0));
  }
  // A second session given the first's state and the context it would have had.
  const second = vad.session({ sampleRate: 16000 });
  second.setState(state);
  second.push(audio.subarray(half - 512, half)); // its context: one frame, whose output is not compared
  second.setState(state);
  got.push(...second.push(audio.subarray(half)).probabilities);
  assert.ok(worstDifference(got, want) <= 1e-6);

  const before = first.state;
  for (const bad of [
    [],
    [state[0]],
    [new Float32Array(127), state[1]],
    [state[0], new Float32Array(129)],
    [state[0], state[1], state[0]],
    [Object.assign(new Float32Array(128), { 3: NaN }), state[1]],
    'state',
    null,
  ]) {
    assert.throws(
      () => first.setState(bad),
      e => e.code === 'BAD_INPUT',
      String(bad),
    );
  }
  assert.deepEqual(first.state, before);
  for (const s of [whole, first, second]) s.free();
});
