/** Options must be an object (or absent), as Model's methods require; checked here because
 * destructuring a string would quietly turn it into an object. */
function options(method, value) {
  if (value === undefined || value === null) return {};
  if (typeof value === 'object' && !Array.isArray(value)) return value;
  const got = typeof value === 'string' ? `a string (${JSON.stringify(value.slice(0, 40))})` : Array.isArray(value) ? `an array of ${value.length} items` : `a ${typeof value} (${String(value)})`;
  const error = new Error(`${method} options are not an object: expected an object such as { chunkSize: 256 }, got ${got}`);
  throw Object.assign(error, { code: 'BAD_INPUT' });
}

// WorkerModel: the edgeserve Model, off the main thread. The same methods as Model, async; see
// worker.js for the message protocol. Browser only (Node serves on its own thread).
export class WorkerModel {
  #worker;
  #next = 1;
  #pending = new Map();
  #streams = new Map();
  #terminated = false;

  /**
   * Starts a module Worker and loads a model in it (`model`: an embedded package name; the
   * default package when absent). Resolves when the model is ready.
   */
  static async create({ model } = {}) {
    return WorkerModel.#start('load', [model ?? null]);
  }

  /**
   * Like Model.fromBytes, in a new Worker: loads an ONNX model from its bytes (Uint8Array or
   * ArrayBuffer, copied to the worker) with a manifest object or without one (then inferred).
   */
  static async fromBytes(bytes, manifest) {
    return WorkerModel.#start('loadBytes', [bytes, manifest ?? null]);
  }

  static async #start(method, args) {
    const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module', name: 'edgeserve' });
    const remote = new WorkerModel(worker);
    try {
      const info = await remote.#call(method, args);
      remote.name = info.name;
      remote.inputWidth = info.inputWidth;
      remote.manifest = info.manifest;
      return remote;
    } catch (e) {
      worker.terminate();
      throw e;
    }
  }

  constructor(worker) {
    this.#worker = worker;
    worker.onmessage = ({ data }) => this.#reply(data);
    worker.onerror = (event) => {
      event.preventDefault?.();
      this.#failAll(new Error(`the edgeserve worker failed: ${event.message ?? 'could not start'}`));
    };
  }

  #reply({ id, progress, ok, result, error, stream, output, done }) {
    if (stream !== undefined) {
      this.#streams.get(stream)?.(output, done);
      return;
    }
    const pending = this.#pending.get(id);
    if (!pending) return;
    if (progress !== undefined) {
      pending.onProgress?.(progress);
      return;
    }
    this.#pending.delete(id);
    if (ok) pending.resolve(result);
    else pending.reject(Object.assign(new Error(error.message), { name: error.name, code: error.code }));
  }

  #failAll(error) {
    for (const { reject } of this.#pending.values()) reject(error);
    this.#pending.clear();
  }

  #call(method, args, { onProgress, transfer = [] } = {}) {
    if (this.#terminated) {
      const error = new Error(`${method}() on a terminated WorkerModel: expected a running worker, got one whose terminate() was called`);
      return Promise.reject(Object.assign(error, { code: 'BAD_INPUT' }));
    }
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, onProgress });
      this.#worker.postMessage({ id, method, args }, transfer);
    });
  }

  /** Like Model.predict. With { transfer: true } the row's buffer is moved, not copied (the array is then empty). */
  predict(row, { transfer = false } = {}) {
    return this.#call('predict', [row], { transfer: transfer && ArrayBuffer.isView(row) ? [row.buffer] : [] });
  }

  /** Like Model.predictBatch; onProgress is called in this thread. */
  async predictBatch(rows, opts) {
    const { onProgress, transfer = false, ...rest } = options('predictBatch', opts);
    return this.#call('predictBatch', [rows, rest], { onProgress, transfer: transfer && ArrayBuffer.isView(rows) ? [rows.buffer] : [] });
  }

  /** Like Model.predictCsv; the result's toCsv() returns the CSV the worker wrote. */
  async predictCsv(text, opts) {
    const { onProgress, ...rest } = options('predictCsv', opts);
    const { csv, ...result } = await this.#call('predictCsv', [text, rest], { onProgress });
    return { ...result, toCsv: () => csv };
  }

  /**
   * Like Model.stream: a TransformStream of rows in, StreamOutput out, in order, with the model
   * running in the worker. At most `inFlight` items (default 4 * maxBatch) are in the worker at
   * once: beyond that, writes wait, so backpressure reaches the producer.
   */
  stream({ maxBatch = 32, maxWaitMs = 5, inFlight = 4 * maxBatch } = {}) {
    const sid = this.#next++;
    let sent = 0;
    let received = 0;
    let wake = null;
    let finished = null;
    let controller;
    this.#streams.set(sid, (output, done) => {
      if (done) {
        this.#streams.delete(sid);
        finished?.();
        return;
      }
      received++;
      if (output.error) output.error = Object.assign(new Error(output.error.message), { code: output.error.code });
      controller.enqueue(output);
      wake?.();
    });
    const opened = this.#call('streamOpen', [sid, { maxBatch, maxWaitMs }]);
    return new TransformStream({
      start: async (c) => {
        controller = c;
        await opened;
      },
      transform: async (item) => {
        while (sent - received >= inFlight) await new Promise((r) => { wake = r; });
        sent++;
        this.#worker.postMessage({ id: 0, method: 'streamWrite', args: [sid, [item]] });
      },
      flush: async () => {
        const ended = new Promise((r) => { finished = r; });
        await this.#call('streamClose', [sid]);
        await ended;
      },
    }, { highWaterMark: maxBatch }, { highWaterMark: maxBatch });
  }

  /** Like Model.latency. */
  latency() {
    return this.#call('latency', []);
  }

  /** Like Model.resetLatency. */
  resetLatency() {
    return this.#call('resetLatency', []);
  }

  /** Stops the worker; requests in flight reject. */
  terminate() {
    this.#worker.terminate();
    this.#terminated = true;
    this.#failAll(new Error('the edgeserve worker was terminated'));
  }
}
