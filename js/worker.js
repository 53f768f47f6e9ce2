// The edgeserve module Worker: loads the wasm package once and serves one model to the client in
// client.js. Started by WorkerModel.create() as
//   new Worker(new URL('./worker.js', import.meta.url), { type: 'module' })
// (a file of the package: no blob: URL, so a strict Content-Security-Policy works).
//
// Message protocol (structured clone; every request carries an id, every reply echoes it, so
// many requests can be in flight and replies may come in any order):
//   client -> worker  { id, method, args }        the first request also carries relaxedSimd and
//                                                 threads (init()'s choice of build); method: 'load' | 'loadBytes' | 'predict' | 'predictBatch' |
//                                                 'predictCsv' | 'embed' | 'tokenize' | 'detect' | 'readText' | 'latency' |
//                                                 'resetLatency' | 'manifest'
//                                                 'streamOpen' | 'streamWrite' | 'streamClose'
//   worker -> client  { id, progress }            zero or more, for predictBatch / predictCsv
//                     { stream, output }          for an open stream: each output, in order
//                                                 (an error output carries { message, code })
//                     { id, ok: true, result }    exactly one reply ...
//                     { id, ok: false, error }    ... or this; error = { name, message, code }
// A request with id 0 gets no reply (streamWrite, sent for every stream item). A stream item the
// client could not send arrives as { unsendable: reason }: its output is a BAD_INPUT error in its
// place. An error with code 'INTERNAL' means this worker's wasm instance trapped (a bug): the
// client then starts a new worker.
// Typed arrays in results are transferred (not copied). A batch yields between chunks, so a
// predict sent during a batch is answered before the batch ends.
import init, { Model, wasmBuild } from './index.js';

/** The wasm instance, started by the first request (its `relaxedSimd` and `threads` pick the build). */
let ready = null;
let model = null;
/** Open streams by id: the writer into model.stream(), and the reasons of unsendable items by index. */
const streams = new Map();

function plainBatch(r, withCsv) {
  const out = {
    rows: r.rows,
    labels: r.labels,
    indices: r.indices,
    scores: r.scores,
    values: r.values,
    latencyMs: r.latencyMs,
    rowsPerSecond: r.rowsPerSecond,
    accuracy: r.accuracy,
    truth: r.truth,
  };
  if (withCsv) out.csv = r.toCsv();
  r.free();
  return out;
}

const methods = {
  async load(name, modelsUrl) {
    model?.free();
    model = null;
    // A package shipped beside the wasm is fetched (a Promise); an embedded one is loaded at once.
    model = name ? await Model.load(name, modelsUrl ? { modelsUrl } : undefined) : Model.default();
    return { name: model.name, inputWidth: model.inputWidth, manifest: model.manifest, wasmBuild: wasmBuild() };
  },
  async loadBytes(bytes, manifest, tokenizer) {
    model?.free();
    model = await Model.fromBytes(bytes, manifest ?? undefined, tokenizer ? { tokenizer } : undefined);
    return { name: model.name, inputWidth: model.inputWidth, manifest: model.manifest, wasmBuild: wasmBuild() };
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
  embed(texts) {
    return model.embed(texts);
  },
  detect(image) {
    return model.detect(image);
  },
  readText(image) {
    return model.readText(image);
  },
  tokenize(text) {
    return model.tokenize(text);
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
    const open = { writer: stream.writable.getWriter(), written: 0, unsendable: new Map() };
    streams.set(sid, open);
    (async () => {
      const reader = stream.readable.getReader();
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          const reason = open.unsendable.get(value.index);
          if (reason !== undefined) {
            open.unsendable.delete(value.index);
            value.error = {
              code: 'BAD_INPUT',
              message: `rows[${value.index}] could not be sent to the worker: expected a value the structured clone algorithm copies (a typed array, an array of numbers), got ${reason}`,
            };
          } else if (value.error) {
            // Error objects lose their code in a structured clone: send the fields.
            value.error = { message: value.error.message, code: value.error.code };
          }
          self.postMessage({ stream: sid, output: value }, transferables(value.prediction));
        }
        self.postMessage({ stream: sid, done: true });
      } catch (e) {
        self.postMessage({ stream: sid, failed: plainError(e) });
      }
    })();
  },
  streamWrite(sid, items) {
    const open = streams.get(sid);
    for (const item of items) {
      const unsendable =
        item !== null && typeof item === 'object' && 'unsendable' in item && Object.keys(item).length === 1;
      if (unsendable) open.unsendable.set(open.written, String(item.unsendable));
      open.written++;
      // A failed write also fails the stream's reader, which reports it; nothing to do here.
      open.writer.write(unsendable ? null : item).catch(() => {});
    }
  },
  async streamClose(sid) {
    await streams.get(sid).writer.close();
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

function plainError(e) {
  return { name: e?.name ?? 'Error', message: e?.message ?? String(e), code: e?.code };
}

self.onmessage = async ({ data: { id, method, args = [], relaxedSimd = true, threads } }) => {
  try {
    ready ??= init(threads === undefined ? { relaxedSimd } : { relaxedSimd, threads });
    await ready;
    const handler = methods[method];
    if (!handler)
      throw Object.assign(new Error(`unknown method "${method}": expected one of ${Object.keys(methods).join(', ')}`), {
        code: 'BAD_INPUT',
      });
    if (!model && method !== 'load' && method !== 'loadBytes')
      throw Object.assign(new Error('no model is loaded: expected a load request first'), { code: 'REGISTRY' });
    const progress = p => self.postMessage({ id, progress: p });
    const result = await handler(...args, progress);
    if (id === 0) return; // fire and forget (streamWrite): no reply
    self.postMessage({ id, ok: true, result }, transferables(result));
  } catch (e) {
    self.postMessage({ id, ok: false, error: plainError(e) });
  }
};
