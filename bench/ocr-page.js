// The OCR benchmark's page (driven by bench/ocr.mjs through Playwright; the repository served
// cross-origin isolated): window.measure(dir, name, rounds) runs bench/ocr-measure.mjs on
// edgeserve's npm package (the full build, the wasm its init() picks, the package ocr fetched by
// name) and onnxruntime-web (wasm, one thread) with OpenCV.js and Clipper (classic scripts of this
// page: window.cv, window.ClipperLib), on the image `name` of `make models-ocr` under `dir`.
import { measureOcr } from './ocr-measure.mjs';

const ORT = '../node_modules/onnxruntime-web/dist/';

async function get(url, as) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  if (as === 'json') return res.json();
  if (as === 'text') return res.text();
  return new Uint8Array(await res.arrayBuffer());
}

/** OpenCV.js, once its runtime is up (its Module is a thenable: resolved with a box). */
function opencv() {
  return new Promise(resolve => {
    if (window.cv?.Mat) resolve({ cv: window.cv });
    else window.cv.onRuntimeInitialized = () => resolve({ cv: window.cv });
  });
}

window.measure = async (dir, name, rounds) => {
  const edgeserve = await import('../pkg/index.js');
  await edgeserve.default();
  const ort = await import(`${ORT}ort.wasm.min.mjs`);
  ort.env.wasm.wasmPaths = new URL(ORT, location.href).href;
  ort.env.logLevel = 'error';
  const { cv } = await opencv();
  const golden = await get(`../${dir}/golden.json`, 'json');
  const entry = golden.images.find(e => e.name === name);
  const [detector, classifier, recognizer, characters, data] = await Promise.all([
    get('../pkg/models/ocr/model.onnx'),
    get('../pkg/models/ocr/classifier.onnx'),
    get('../pkg/models/ocr/recognizer.onnx'),
    get(`../${dir}/characters.txt`, 'text'),
    get(`../${dir}/images/${name}.rgb`),
  ]);
  const result = await measureOcr({
    Model: edgeserve.Model,
    ort,
    cv,
    ClipperLib: window.ClipperLib,
    files: { detector, classifier, recognizer, characters },
    image: { data, width: entry.width, height: entry.height },
    want: entry.reference.lines.map(l => l.text),
    rounds,
  });
  return { ...result, crossOriginIsolated, wasmBuild: edgeserve.wasmBuild?.() ?? null };
};
document.body.dataset.ready = '1';
