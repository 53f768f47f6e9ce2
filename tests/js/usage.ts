// Type-checked (tsc --strict --noEmit, by types.test.mjs) against the generated pkg/edgeserve.d.ts:
// what a TypeScript user writes must compile, and misuse must not.
import init, {
  initSync,
  wasmBuild,
  threadCount,
  threadsSupported,
  defaultThreads,
  wasmUrl,
  Model,
  ModelSet,
  type FetchedModelName,
  WorkerModel,
  BatchResult,
  trapped,
  type ClassPrediction,
  type DType,
  type Manifest,
  type Prediction,
  type EdgeserveError,
  type LatencyReport,
  type StreamOutput,
  type Choice,
  type EngineDetails,
  type Embeddings,
  type Tokenized,
  listen,
  decodeAudio,
  imageData,
  type Detections,
  type DetectedBox,
  type AudioStep,
  type SpeechSegments,
} from '../../pkg/index.js';

declare const wasmBytes: BufferSource;
initSync({ module: wasmBytes });

const names: string[] = Model.names();
const model: Model = names.includes('digits-fast') ? Model.load('digits-fast') : Model.default();
const manifest: Manifest = model.manifest;
const accuracy: number | undefined = manifest.metrics?.accuracy;
const labels: string[] | undefined = manifest.labels;
const width: number = model.inputWidth;

const r: Prediction = model.predict(new Float32Array(width));
model.predict([0, 1, 2]);
model.predict(new Uint8Array(64));
if ('label' in r) {
  const c: ClassPrediction = r;
  const scores: Float32Array = c.scores;
  const best: string = c.label + c.index.toFixed(0) + scores[0].toFixed(2);
  console.log(best, c.latencyMs.toFixed(3), accuracy, labels);
} else {
  const values: Float32Array = r.values;
  console.log(values, r.latencyMs);
}
try {
  model.predict([]);
} catch (e) {
  const code: EdgeserveError['code'] = (e as EdgeserveError).code;
  console.log(code === 'BAD_INPUT');
}
async function modes(rows: Float32Array[], csvText: string): Promise<void> {
  const batch: BatchResult = await model.predictBatch(rows, {
    chunkSize: 64,
    onProgress: ({ done, total }) => console.log(done / total),
  });
  const indices: Int32Array = batch.indices;
  const scores: Float32Array = batch.scores;
  const csv = await model.predictCsv(csvText, { labelColumn: 'label' });
  const accuracy: number | undefined = csv.accuracy;
  const text: string = csv.toCsv();
  const latency: LatencyReport = model.latency();
  const p99: number = latency.stream.p99;
  const stream: TransformStream<unknown, StreamOutput> = model.stream({ maxBatch: 32, maxWaitMs: 5 });
  const set = ModelSet.embedded();
  await set.benchmark({ runs: 50 });
  const choice: Choice = set.choose({ budgetMs: 0.05, percentile: 95 });
  const chosen: Model = choice.model;
  const loaded: Model = await Model.fromBytes(new Uint8Array(8), { name: 'mine' });
  const outputs = loaded.run({ a: new Float32Array(3), b: new BigInt64Array(1) }, { shapes: { a: [1, 3] } });
  const sum: DType = outputs.sum.dtype;
  // Free dimensions: plan ahead for the shapes to come; how the engine runs the graph.
  loaded.planFor({ a: [4, 3], b: [4] });
  const details: EngineDetails = loaded.engineDetails;
  const typing: 'fixed' | 'symbolic' | 'per shape set' = details.typing;
  const planned: number[][][] = details.plannedShapes;
  const independent: boolean = details.rowsIndependent;
  console.log(typing, planned, independent, details.notes.join('\n'));
  // @ts-expect-error: a shape is an array of numbers
  loaded.planFor({ a: '4x3' });
  // Text: a package with its tokenizer; embed() and tokenize().
  const minilm: Model = await Model.fromBytes(
    new Uint8Array(8),
    { name: 'minilm', task: 'embedding', embedding: { pooling: 'mean', normalize: true } },
    { tokenizer: '{}' },
  );
  const vectors: Embeddings = minilm.embed(['a text', 'another']);
  const one: Float32Array = minilm.embed('a text').data;
  const tokenized: Tokenized = minilm.tokenize('a text');
  const ids: Uint32Array = tokenized.ids;
  const words: string[] = tokenized.tokens;
  console.log(vectors.dim, vectors.count, vectors.latencyMs, one.length, ids.length, words, tokenized.offsets[0]);
  // @ts-expect-error: texts are strings
  minilm.embed([1, 2]);
  // By name: a package shipped beside the wasm is fetched (a Promise), an embedded one is not.
  const shipped: FetchedModelName = 'minilm-int8';
  const byName: Model = await Model.load(shipped, { modelsUrl: '/models/', onProgress: p => console.log(p.loaded) });
  const embedded: Model = Model.load('digits-fast');
  // @ts-expect-error: a shipped package's load is a Promise
  const notYet: Model = Model.load('minilm');
  const pair = new ModelSet();
  pair.add(byName);
  pair.add(embedded);
  const pairChoice: Choice = pair.choose({ budgetMs: 10 });
  console.log(notYet, pairChoice.name);
  const remoteText = await WorkerModel.create({ model: 'minilm', modelsUrl: '/models/' });
  console.log((await remoteText.embed('a text')).dim);
  const fetched: Model = await Model.fromUrl('model.onnx', {
    sha256: 'ab'.repeat(32),
    onProgress: ({ loaded, total }) => console.log(loaded, total),
  });
  console.log(sum, fetched.name);
  const remote = await WorkerModel.create({ model: 'digits-fast' });
  const remoteBatch = await remote.predictBatch(rows, { onProgress: p => console.log(p.rowsPerSecond) });
  console.log(
    indices,
    scores,
    accuracy,
    text,
    p99,
    stream,
    chosen.name,
    remoteBatch.indices.length,
    (await remote.latency()).realtime.count,
  );
  // A trap (a bug) poisons the instance: every call then throws code INTERNAL; a WorkerModel restarts.
  const trap: WebAssembly.RuntimeError | null = trapped();
  const restarts: number = remote.restarts;
  const internal: EdgeserveError['code'] = 'INTERNAL';
  console.log(trap, restarts, internal);
  // @ts-expect-error: restarts is counted by the WorkerModel
  remote.restarts = 0;
  // The baseline build on the page and in a worker of its own; which build each runs.
  await init({ relaxedSimd: false });
  const pageBuild: 'threads' | 'relaxed' | 'baseline' | null = wasmBuild();
  const baseline = await WorkerModel.create({ model: 'digits-fast', relaxedSimd: false });
  const workerBuild: 'threads' | 'relaxed' | 'baseline' = baseline.wasmBuild;
  console.log(pageBuild, workerBuild, wasmUrl(false).href);
  // @ts-expect-error: relaxedSimd is a boolean
  await WorkerModel.create({ relaxedSimd: 'no' });
  // Threads: the threaded build where the host has shared memory, its pool's size.
  await init({ threads: threadsSupported() ? defaultThreads() : 1 });
  const running: number = threadCount();
  const threadedWorker = await WorkerModel.create({ model: 'minilm', threads: 2 });
  console.log(running, threadedWorker.wasmBuild);
  // @ts-expect-error: threads is a number
  await WorkerModel.create({ threads: '2' });
  // @ts-expect-error: chunkSize is a number
  await model.predictBatch(rows, { chunkSize: 'big' });
  // @ts-expect-error: choose needs a budget
  set.choose({ percentile: 95 });
}
console.log(modes);
model.free();

// Audio: vad fetched by name; a whole recording (samples, an AudioBuffer, WAV bytes); a stream.
async function audio(microphone: MediaStream, file: ArrayBuffer) {
  const vad: Model = await Model.load('vad');
  const buffer: AudioBuffer = await decodeAudio(file, 16000);
  const found: SpeechSegments = vad.speechSegments(buffer, { threshold: 0.6 });
  const starts: number[] = found.segments.map(s => s.start);
  vad.speechSegments(new Float32Array(16000), { sampleRate: 16000 });
  vad.speechSegments(new Uint8Array(file));
  const session = vad.session({ sampleRate: 48000, minSilenceMs: 200 });
  const step: AudioStep = session.push(new Float32Array(1536));
  const state: Float32Array[] = session.state;
  session.setState(state);
  const listener = await listen(vad, microphone, { blockMs: 20, onStep: s => console.log(s.events, s.inSpeech) });
  const last: AudioStep = await listener.stop();
  console.log(starts, step.probabilities, last.latencyMs, listener.sampleRate);
  // @ts-expect-error: a session needs the rate of its audio
  vad.session({});
  // @ts-expect-error: onStep is a function
  await listen(vad, microphone, { onStep: 1 });
}
console.log(audio);

// Images: pixels a caller holds, an ImageData of an element or a file; classes and boxes.
async function images(detector: Model, classifier: Model, img: HTMLImageElement, file: File) {
  const found: Detections = detector.detect(await imageData(img));
  const first: DetectedBox | undefined = found.boxes[0];
  console.log(first?.label, first?.x, found.latencyMs);
  detector.detect({ data: new Uint8Array(12), width: 2, height: 2, channels: 3 });
  const p = classifier.predict(await imageData(file)) as ClassPrediction;
  console.log(p.label);
  // @ts-expect-error: channels are 1, 3 or 4
  detector.detect({ data: new Uint8Array(8), width: 2, height: 2, channels: 2 });
  // @ts-expect-error: pixels are bytes
  detector.detect({ data: new Float32Array(12), width: 2, height: 2, channels: 3 });
}
console.log(images);

// @ts-expect-error: an object is not a row of numbers (a string is: one text, for a text model)
model.predict({ length: 64 });
// @ts-expect-error: manifest is read-only
model.manifest = manifest;
// @ts-expect-error: the task is one of two
const task: 'ranking' = manifest.task;
console.log(task);
