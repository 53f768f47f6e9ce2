// The audio benchmark's measurements, the same in Node and in a page (bench/audio.mjs runs them
// in both): the voice-activity package vad through edgeserve beside the same graph on
// onnxruntime-web (its wasm backend, one thread), the state and the context passed by hand as
// silero-vad's OnnxWrapper passes them. No imports: the caller gives both runtimes and the audio.
// - per-chunk latency, p50 and p99, of one 32 ms chunk at 16 kHz (edgeserve: session.push of 512
//   samples, framing and state included; onnxruntime-web: session.run), alternating chunk by
//   chunk;
// - the real-time factor of a 60 s recording at 48 kHz, resampling included (speechSegments);
// - many streams at once: 10 and 100 sessions fed in turn, throughput and p99 per chunk.

/** The samples of a 16-bit PCM WAV file written by training/audio_packages.py (44-byte header). */
export function wavSamples(bytes) {
  const pcm = new Int16Array(bytes.buffer.slice(bytes.byteOffset + 44, bytes.byteOffset + bytes.length));
  return Float32Array.from(pcm, s => s / 32768);
}

const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

/**
 * Measures `Model` (edgeserve's) and `ort` (onnxruntime-web, set to one thread) on `onnx` with
 * its `manifest`; `speech16k` and `speech48k` are recordings (Float32Array) at those rates.
 */
export async function measureAudio({ Model, ort, onnx, manifest, speech16k, speech48k, chunkCount = 2000 }) {
  const chunk = i => {
    const at = (i * 512) % (speech16k.length - 512);
    return speech16k.subarray(at, at + 512);
  };

  // onnxruntime-web, the state and the context by hand.
  const session = await ort.InferenceSession.create(onnx, {
    executionProviders: ['wasm'],
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
  });
  const zeros = () => new ort.Tensor('float32', new Float32Array(128), [1, 1, 128]);
  let [h, c] = [zeros(), zeros()];
  let context = new Float32Array(64);
  async function ortChunk(samples512) {
    const x = new Float32Array(576);
    x.set(context);
    x.set(samples512, 64);
    const out = await session.run({ input: new ort.Tensor('float32', x, [1, 576]), h, c });
    [h, c] = [out.hn, out.cn];
    context = x.subarray(512);
    return out.speech_probs.data[0];
  }

  const vad = await Model.fromBytes(onnx, manifest);
  const ours = vad.session({ sampleRate: 16000 });

  // Warm up both, then alternate chunk by chunk; the probabilities must agree.
  let worst = 0;
  for (let i = 0; i < 50; i++) {
    const p = ours.push(chunk(i)).probabilities[0];
    worst = Math.max(worst, Math.abs(p - (await ortChunk(chunk(i)))));
  }
  if (!(worst <= 1e-4)) throw new Error(`edgeserve and onnxruntime-web disagree by ${worst}`);
  const times = { edgeserve: [], ort: [] };
  for (let i = 0; i < chunkCount; i++) {
    let t = performance.now();
    ours.push(chunk(i));
    times.edgeserve.push(performance.now() - t);
    t = performance.now();
    await ortChunk(chunk(i));
    times.ort.push(performance.now() - t);
  }
  ours.free();
  await session.release?.();
  const perChunk = Object.fromEntries(
    Object.entries(times).map(([k, v]) => [k, { p50: quantile(v, 0.5), p99: quantile(v, 0.99) }]),
  );

  // The real-time factor of 60 s at 48 kHz: the 48 kHz recording repeated to a minute.
  const minute = new Float32Array(60 * 48000);
  for (let at = 0; at < minute.length; at += speech48k.length)
    minute.set(speech48k.subarray(0, Math.min(speech48k.length, minute.length - at)), at);
  vad.speechSegments(minute.subarray(0, 48000), { sampleRate: 48000 });
  const rtfRuns = [];
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    vad.speechSegments(minute, { sampleRate: 48000 });
    rtfRuns.push(60 / ((performance.now() - t) / 1000));
  }
  const realTimeFactor = quantile(rtfRuns, 0.5);

  // Many streams: n sessions fed one chunk each in turn.
  const many = {};
  for (const n of [10, 100]) {
    const sessions = Array.from({ length: n }, () => vad.session({ sampleRate: 16000 }));
    const each = [];
    const rounds = Math.max(5, Math.floor(2000 / n));
    const t0 = performance.now();
    for (let r = 0; r < rounds; r++) {
      for (const s of sessions) {
        const t = performance.now();
        s.push(chunk(r));
        each.push(performance.now() - t);
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    many[n] = { chunksPerSecond: each.length / seconds, p99: quantile(each, 0.99) };
    for (const s of sessions) s.free();
  }
  vad.free();
  return { chunks: chunkCount, agreement: worst, perChunk, realTimeFactor, many };
}
