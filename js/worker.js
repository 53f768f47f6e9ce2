// The edgeserve module Worker: loads the wasm package once and serves one model to the client in
// client.js. Started by WorkerModel.create() as
//   new Worker(new URL('./worker.js', import.meta.url), { type: 'module' })
// (a file of the package: no blob: URL, so a strict Content-Security-Policy works).
//
// Message protocol (structured clone; every request carries an id, every reply echoes it, so
// many requests can be in flight and replies may come in any order):
//   client -> worker  { id, method, args }        method: 'load' | 'loadBytes' | 'predict' | 'predictBatch' |
//                                                 'predictCsv' | 'latency' | 'resetLatency' | 'manifest'
//                                                 'streamOpen' | 'streamWrite' | 'streamClose'
//   worker -> client  { id, progress }            zero or more, for predictBatch / predictCsv
//                     { stream, output }          for an open stream: each output, in order
//                                                 (an error output carries { message, code })
//                     { id, ok: true, result }    exactly one reply ...
//                     { id, ok: false, error }    ... or this; error = { name, message, code }
// A request with id 0 gets no reply (streamWrite, sent for every stream item).
// Typed arrays in results are transferred (not copied). A batch yields between chunks, so a
// predict sent during a batch is answered before the batch ends.
import { Model } from './edgeserve.js';
import init from './load.js';

const ready = init();
let model = null;
/** Open streams by id: the writer into model.stream(). */
const streams = new Map();

function plainBatch(r, withCsv) {
  const out = {
    rows: r.rows, labels: r.labels, indices: r.indices, scores: r.scores, values: r.values,
    latencyMs: r.latencyMs, rowsPerSecond: r.rowsPerSecond, accuracy: r.accuracy, truth: r.truth,
  };
  if (withCsv) out.csv = r.toCsv();
  r.free();
  return out;
}

const methods = {
  load(name) {
    model?.free();
    model = name ? Model.load(name) : Model.default();
    return { name: model.name, inputWidth: model.inputWidth, manifest: model.manifest };
  },
  async loadBytes(bytes, manifest) {
    model?.free();
    model = await Model.fromBytes(bytes, manifest ?? undefined);
    return { name: model.name, inputWidth: model.inputWidth, manifest: model.manifest };
  },
  predict(row) {
    return model.predict(row);
  },
  async predictBatch(rows, options, progress) {
    return plainBatch(await model.predictBatch(rows, { ...options, onProgress: progress }), false);
  },
  async predictCsv(text, options, progress) {
    return plainBatch(await model.predictCsv(text, { ...options, onProgress: progress }), true);
  },
  latency() {
    return model.latency();
  },
  resetLatency() {
    model.resetLatency();
  },
  manifest() {
    return model.manifest;
  },
  streamOpen(sid, options) {
    const stream = model.stream(options);
    const writer = stream.writable.getWriter();
    streams.set(sid, writer);
    (async () => {
      const reader = stream.readable.getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        // Error objects lose their code in a structured clone: send the fields.
        if (value.error) value.error = { message: value.error.message, code: value.error.code };
        self.postMessage({ stream: sid, output: value }, transferables(value.prediction));
      }
      self.postMessage({ stream: sid, done: true });
    })();
  },
  streamWrite(sid, items) {
    const writer = streams.get(sid);
    // A failed write also fails the stream's reader, which reports it; nothing to do here.
    for (const item of items) writer.write(item).catch(() => {});
  },
  async streamClose(sid) {
    await streams.get(sid).close();
    streams.delete(sid);
  },
};

function transferables(value) {
  const found = [];
  for (const v of Object.values(value ?? {})) {
    if (ArrayBuffer.isView(v) && !found.includes(v.buffer)) found.push(v.buffer);
  }
  return found;
}

self.onmessage = async ({ data: { id, method, args = [] } }) => {
  try {
    await ready;
    const handler = methods[method];
    if (!handler) throw Object.assign(new Error(`unknown method "${method}": expected one of ${Object.keys(methods).join(', ')}`), { code: 'BAD_INPUT' });
    if (!model && method !== 'load' && method !== 'loadBytes') throw Object.assign(new Error('no model is loaded: expected a load request first'), { code: 'REGISTRY' });
    const progress = (p) => self.postMessage({ id, progress: p });
    const result = await handler(...args, progress);
    if (id === 0) return; // fire and forget (streamWrite): no reply
    self.postMessage({ id, ok: true, result }, transferables(result));
  } catch (e) {
    self.postMessage({ id, ok: false, error: { name: e?.name ?? 'Error', message: e?.message ?? String(e), code: e?.code } });
  }
};
