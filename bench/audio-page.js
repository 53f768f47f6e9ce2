// The audio benchmark's page (driven by bench/audio.mjs through Playwright; the repository served
// cross-origin isolated): window.measure(dir, chunks) runs bench/audio-measure.mjs on edgeserve's
// npm package (the full build, the wasm its init() picks) and onnxruntime-web (wasm, one thread),
// on the package vad and the recordings under `dir` (made by `make models-audio`).
import { measureAudio, wavSamples } from './audio-measure.mjs';

const ORT = '../node_modules/onnxruntime-web/dist/';

async function get(url, as) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return as === 'json' ? res.json() : new Uint8Array(await res.arrayBuffer());
}

window.measure = async (dir, chunkCount) => {
  const edgeserve = await import('../pkg/index.js');
  await edgeserve.default();
  const ort = await import(`${ORT}ort.wasm.min.mjs`);
  ort.env.wasm.wasmPaths = new URL(ORT, location.href).href;
  ort.env.wasm.numThreads = 1;
  ort.env.logLevel = 'error';
  const [onnx, manifest, speech16k, speech48k] = await Promise.all([
    get(`../${dir}/vad/model.onnx`),
    get(`../${dir}/vad/manifest.json`, 'json'),
    get(`../${dir}/audio/speech-16k-snr20.wav`),
    get(`../${dir}/audio/speech-48k-snr20.wav`),
  ]);
  const results = await measureAudio({
    Model: edgeserve.Model,
    ort,
    onnx,
    manifest,
    speech16k: wavSamples(speech16k),
    speech48k: wavSamples(speech48k),
    chunkCount,
  });
  return { ...results, wasmBuild: edgeserve.wasmBuild(), isolated: crossOriginIsolated };
};
document.body.dataset.ready = '1';
