// The OCR benchmark's measurement, the same in Node (bench/ocr.mjs) and in Chromium
// (bench/ocr-page.js): edgeserve's readText() and onnxruntime-web with RapidOCR's processing in
// JavaScript (bench/ocr-reference.mjs) on one image, each first checked to read what RapidOCR
// reads, then timed alternating call by call. Returns the p50 of each (ms), of each stage, and
// what each read.
import { createReference } from './ocr-reference.mjs';

const median = xs => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/**
 * `files`: the package's model.onnx, classifier.onnx and recognizer.onnx (bytes) and the
 * recogniser's characters (a string, one a line); `image`: { data (RGB), width, height };
 * `want`: RapidOCR's texts.
 */
export async function measureOcr({ Model, ort, cv, ClipperLib, files, image, want, rounds }) {
  const ours = await Model.load('ocr');
  const characters = files.characters.split('\n');
  if (characters.at(-1) === '') characters.pop();
  ort.env.wasm.numThreads = 1;
  const reference = await createReference({
    ort,
    cv,
    ClipperLib,
    detector: files.detector,
    classifier: files.classifier,
    recognizer: files.recognizer,
    characters,
  });
  const input = { ...image, channels: 3 };
  const texts = reading => reading.lines.map(l => l.text);
  const read = {
    edgeserve: texts(ours.readText(input)),
    onnxruntimeWeb: texts(await reference.read(image.data, image.width, image.height)),
  };
  for (const [who, got] of Object.entries(read)) {
    if (got.filter(t => want.includes(t)).length < want.length - 1)
      throw new Error(`${who} reads ${JSON.stringify(got)}, RapidOCR ${JSON.stringify(want)}`);
  }
  const times = { edgeserve: [], onnxruntimeWeb: [] };
  const stages = { edgeserve: [], onnxruntimeWeb: [] };
  for (let i = 0; i < rounds; i++) {
    let t = performance.now();
    const a = ours.readText(input);
    times.edgeserve.push(performance.now() - t);
    stages.edgeserve.push(a.timings);
    t = performance.now();
    const b = await reference.read(image.data, image.width, image.height);
    times.onnxruntimeWeb.push(performance.now() - t);
    stages.onnxruntimeWeb.push(b.timings);
  }
  ours.free();
  const stageMedians = list =>
    Object.fromEntries(Object.keys(list[0]).map(k => [k, Number(median(list.map(s => s[k])).toFixed(1))]));
  return {
    p50Ms: { edgeserve: median(times.edgeserve), onnxruntimeWeb: median(times.onnxruntimeWeb) },
    stagesMs: { edgeserve: stageMedians(stages.edgeserve), onnxruntimeWeb: stageMedians(stages.onnxruntimeWeb) },
    read,
  };
}
