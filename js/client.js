import { wasmBuild } from './load.js';

/** What a value is, for messages. */
function describe(value) {
  if (typeof value === 'string') return `a string (${JSON.stringify(value.slice(0, 40))})`;
  if (value === null) return 'null';
  if (typeof value === 'symbol') return 'a symbol';
  if (typeof value === 'function') return 'a function';
  if (typeof value !== 'object') return `a ${typeof value} (${String(value)})`;
  try {
    return Array.isArray(value) ? `an array of ${value.length} items` : 'an object';
  } catch {
    return 'an object that cannot be read (a revoked Proxy?)';
  }
}

/**
 * A plain copy of an options object (absent: {}), read once here: it must be an object (checked
 * because destructuring a string would quietly turn it into one), whose getters do not throw
 * (they run in this thread, once), and whose `onProgress`, when given, is a function.
 */
function options(method, value) {
  if (value === undefined || value === null) return {};
  let copy;
  try {
    if (typeof value !== 'object' || Array.isArray(value)) {
      throw badInput(
        `${method} options are not an object: expected an object such as { chunkSize: 256 }, got ${describe(value)}`,
      );
    }
    copy = { ...value };
  } catch (e) {
    if (e?.code) throw e;
    throw badInput(
      `${method} options could not be read: expected a value that can be read without an exception, got an exception: ${e?.name ?? 'Error'}: ${e?.message ?? String(e)}`,
    );
  }
  if (copy.onProgress != null && typeof copy.onProgress !== 'function') {
    throw badInput(`onProgress is not a function: expected a function, got ${describe(copy.onProgress)}`);
  }
  return copy;
}

/** Whether a view's (or a buffer's) buffer is detached. */
function detached(value) {
  const buffer = ArrayBuffer.isView(value) ? value.buffer : value;
  if (!(buffer instanceof ArrayBuffer)) return false;
  if (typeof buffer.detached === 'boolean') return buffer.detached;
  try {
    new Uint8Array(buffer);
    return false;
  } catch {
    return true;
  }
}

/** What could not be sent, for messages: a detached buffer, or the structured clone's error. */
function unsendable(values, e) {
  const gone = values.find(v => {
    try {
      return (ArrayBuffer.isView(v) || v instanceof ArrayBuffer) && detached(v);
    } catch {
      return false; // a revoked Proxy: no buffer to name
    }
  });
  if (gone)
    return `a detached ${gone.constructor?.name ?? 'buffer'} (its buffer was transferred, e.g. to another Worker)`;
  return `a value it cannot copy (${e?.name ?? 'Error'}: ${e?.message ?? String(e)})`;
}

function badInput(message) {
  return Object.assign(new Error(message), { code: 'BAD_INPUT' });
}

/** A copy of model bytes (kept to load them again in a new worker), or the value as it is. */
function bytesCopy(bytes) {
  let buffer;
  try {
    buffer = ArrayBuffer.isView(bytes) || bytes instanceof ArrayBuffer;
  } catch {
    return bytes; // a revoked Proxy: refused by the structured clone, as any other value it cannot copy
  }
  if (!buffer) return bytes; // refused by the worker, with the error Model.fromBytes gives
  let gone;
  let copy;
  try {
    gone = detached(bytes);
    // A view's own buffer, byteOffset and byteLength can be getters of a subclass: read once, here.
    if (!gone)
      copy = ArrayBuffer.isView(bytes)
        ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength).slice()
        : bytes.slice(0);
  } catch (e) {
    throw badInput(
      `bytes could not be read: expected a Uint8Array or an ArrayBuffer that can be read without an exception, got an exception: ${e?.name ?? 'Error'}: ${e?.message ?? String(e)}`,
    );
  }
  if (gone)
    throw badInput(
      `bytes are detached: expected a Uint8Array or an ArrayBuffer whose buffer is still usable, got ${unsendable([bytes])}`,
    );
  return copy;
}

/** The transfer list of `{ transfer: true }`: the buffer of a typed array, read once here. */
function transferOf(value, transfer) {
  try {
    return transfer && ArrayBuffer.isView(value) ? [value.buffer] : [];
  } catch (e) {
    throw badInput(
      `the buffer to transfer could not be read: expected a typed array whose buffer can be read, got an exception: ${e?.name ?? 'Error'}: ${e?.message ?? String(e)}`,
    );
  }
}

/**
 * The build a new worker loads, `{ relaxedSimd, threads }`: `relaxedSimd` when given (a boolean),
 * else this page's choice; `threads` when given (an integer from 1 to 64), else the worker's
 * init() default.
 */
function buildChoice(method, { relaxedSimd, threads }) {
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1 && threads <= 64)) {
    throw badInput(
      `${method}'s threads is not a thread count: expected an integer from 1 to 64, got ${describe(threads)}`,
    );
  }
  if (relaxedSimd === undefined) return { relaxedSimd: wasmBuild() !== 'baseline', threads };
  if (typeof relaxedSimd !== 'boolean') {
    throw badInput(`${method}'s relaxedSimd is not a boolean: expected true or false, got ${describe(relaxedSimd)}`);
  }
  return { relaxedSimd, threads };
}

// WorkerModel: the edgeserve Model, off the main thread. The same methods as Model, async; see
// worker.js for the message protocol. Browser only (Node serves on its own thread).
//
// When the worker's wasm instance traps (a bug in edgeserve; its calls then fail with code
// 'INTERNAL'), or the worker itself fails, the call that met it rejects with that error, every
// other call in flight rejects with code 'INTERNAL', open streams fail, and a new worker loads the
// same model (fromBytes keeps a copy of the bytes for that); later calls wait for it. `restarts`
// counts the new workers started.
export class WorkerModel {
  #worker;
  #next = 1;
  #pending = new Map();
  #streams = new Map();
  #terminated = false;
  /** The request that loads the model: { method, args, build }, sent to every new worker. */
  #load;
  /** Settles when the current worker has loaded the model. */
  #ready;
  /** Whether the current worker has loaded the model. */
  #loaded = false;
  /** Why this WorkerModel stopped by itself (a worker that could not load the model), or null. */
  #stopped = null;
  /** New workers started after a trap or a failed worker. */
  restarts = 0;

  /**
   * Starts a module Worker and loads a model in it (`model`: a name of Model.names(), embedded
   * or fetched on demand, as Model.load does, from `modelsUrl` when given; the default package
   * when absent). Resolves when the model is ready. `threads`: as init()'s (the worker's thread
   * count, itself included). `relaxedSimd`: as init()'s (false: the
   * baseline build); when absent, the build this page's init() chose.
   */
  static async create(opts) {
    const { model, modelsUrl, ...build } = options('WorkerModel.create', opts);
    // Resolved here: the worker's own URL is not the page's.
    let url = null;
    if (modelsUrl !== undefined) {
      try {
        if (typeof modelsUrl !== 'string') throw new TypeError('not a string');
        url = new URL(modelsUrl, globalThis.location?.href).href;
      } catch {
        throw badInput(`modelsUrl is not a URL: expected a URL (a string), got ${describe(modelsUrl)}`);
      }
    }
    return WorkerModel.#start('load', [model ?? null, url], buildChoice('WorkerModel.create', build));
  }

  /**
   * Like Model.fromBytes, in a new Worker: loads an ONNX model from its bytes (Uint8Array or
   * ArrayBuffer, copied: once to the worker, once kept here to load again in a new worker)
   * with a manifest object or without one (then inferred).
   */
  static async fromBytes(bytes, manifest, opts) {
    const { tokenizer, ...choice } = options('WorkerModel.fromBytes', opts);
    const build = buildChoice('WorkerModel.fromBytes', choice);
    const tokenizerCopy =
      tokenizer === undefined || typeof tokenizer === 'string' ? (tokenizer ?? null) : bytesCopy(tokenizer);
    return WorkerModel.#start('loadBytes', [bytesCopy(bytes), manifest ?? null, tokenizerCopy], build);
  }

  static async #start(method, args, build) {
    const remote = new WorkerModel({ method, args, build });
    try {
      await remote.#ready;
      return remote;
    } catch (e) {
      remote.#worker.terminate();
      remote.#terminated = true;
      throw e;
    }
  }

  /** Use WorkerModel.create() or WorkerModel.fromBytes(). */
  constructor(load) {
    this.#load = load;
    this.#spawn();
  }

  #spawn() {
    const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
    this.#worker = worker;
    worker.onmessage = ({ data }) => this.#reply(data);
    worker.onerror = event => {
      event.preventDefault?.();
      this.#failed(
        worker,
        Object.assign(
          new Error(
            `the edgeserve worker failed: expected a running worker, got ${event.message ?? 'one that could not start'}`,
          ),
          { code: 'INTERNAL' },
        ),
      );
    };
    this.#loaded = false;
    const { method, args, build } = this.#load;
    this.#ready = this.#send(method, args, { build }).then(info => {
      this.#loaded = true;
      this.wasmBuild = info.wasmBuild;
      this.name = info.name;
      this.inputWidth = info.inputWidth;
      this.manifest = info.manifest;
    });
    // A load that fails rejects the call that waits on it; nothing else to do here.
    this.#ready.catch(() => {});
  }

  /**
   * The worker met a trap or failed: every call in flight fails, and a new worker loads the model;
   * unless this worker never finished loading it, when a new one would only fail the same way:
   * then the WorkerModel stops, as after terminate().
   */
  #failed(worker, error) {
    if (worker !== this.#worker || this.#terminated || this.#stopped) return;
    worker.terminate();
    const again = this.#loaded;
    const message = again
      ? `${error.message}; a new worker is loading the model`
      : `${error.message}; the model never loaded in it, so no new worker is started`;
    const failure = Object.assign(new Error(message), { code: 'INTERNAL', cause: error });
    for (const { reject } of this.#pending.values()) reject(failure);
    this.#pending.clear();
    for (const { fail } of this.#streams.values()) fail(failure);
    this.#streams.clear();
    if (!again) {
      this.#stopped = failure;
      return;
    }
    this.restarts++;
    this.#spawn();
  }

  #reply({ id, progress, ok, result, error, stream, output, done, failed }) {
    if (stream !== undefined) {
      const open = this.#streams.get(stream);
      if (failed) open?.fail(Object.assign(new Error(failed.message), { name: failed.name, code: failed.code }));
      else open?.output(output, done);
      return;
    }
    const pending = this.#pending.get(id);
    if (!pending) return;
    if (progress !== undefined) {
      // onProgress runs here, in this thread; its throw ends the call with that error.
      if (pending.onProgress) {
        try {
          const maybe = pending.onProgress(progress);
          if (maybe instanceof Promise) maybe.catch(e => this.#settle(id, false, e));
        } catch (e) {
          this.#settle(id, false, e);
        }
      }
      return;
    }
    if (ok) {
      this.#settle(id, true, result);
      return;
    }
    const e = Object.assign(new Error(error.message), { name: error.name, code: error.code });
    this.#settle(id, false, e);
    if (error.code === 'INTERNAL') this.#failed(this.#worker, e);
  }

  #settle(id, ok, value) {
    const pending = this.#pending.get(id);
    if (!pending) return;
    this.#pending.delete(id);
    if (ok) pending.resolve(value);
    else pending.reject(value);
  }

  /** Posts one request to the current worker; a Promise of its reply. */
  #send(method, args, { onProgress, transfer = [], build } = {}) {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      try {
        this.#worker.postMessage({ id, method, args, ...build }, transfer);
      } catch (e) {
        reject(
          badInput(
            `${method}() arguments could not be sent to the worker: expected values the structured clone algorithm copies (typed arrays, arrays of numbers, plain objects), got ${unsendable(args, e)}`,
          ),
        );
        return;
      }
      this.#pending.set(id, { resolve, reject, onProgress });
    });
  }

  /** A request once the model is loaded (in a new worker, after a restart). */
  async #call(method, args, options) {
    if (this.#stopped) throw this.#stopped;
    if (this.#terminated) {
      throw badInput(
        `${method}() on a terminated WorkerModel: expected a running worker, got one whose terminate() was called`,
      );
    }
    await this.#ready;
    return this.#send(method, args, options);
  }

  /** Like Model.predict. With { transfer: true } the row's buffer is moved, not copied (the array is then empty). */
  async predict(row, opts) {
    const { transfer = false } = options('predict', opts);
    return this.#call('predict', [row], { transfer: transferOf(row, transfer) });
  }

  /** Like Model.predictBatch; onProgress is called in this thread. */
  async predictBatch(rows, opts) {
    const { onProgress, transfer = false, ...rest } = options('predictBatch', opts);
    return this.#call('predictBatch', [rows, rest], { onProgress, transfer: transferOf(rows, transfer) });
  }

  /** Like Model.detect: the boxes a detector finds in an image (an ImageData, or { data, width, height, channels }). */
  async detect(image) {
    return this.#call('detect', [image]);
  }

  /** Like Model.readText: the lines of text in an image, read in the worker. */
  async readText(image) {
    return this.#call('readText', [image]);
  }

  /** Like Model.embed: the vectors of a text or of an array of texts, computed in the worker. */
  async embed(texts) {
    return this.#call('embed', [texts]);
  }

  /** Like Model.tokenize. */
  async tokenize(text) {
    return this.#call('tokenize', [text]);
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
  stream(opts) {
    const { maxBatch = 32, maxWaitMs = 5, inFlight: given } = options('stream', opts);
    // maxBatch and maxWaitMs are checked by the worker's Model.stream; here they size queues.
    const batch = Number.isInteger(maxBatch) && maxBatch >= 1 ? maxBatch : 32;
    const inFlight = given ?? 4 * batch;
    if (!Number.isInteger(inFlight) || inFlight < 1 || inFlight > 1e6) {
      throw badInput(`inFlight is out of range: expected a whole number from 1 to 1000000, got ${describe(inFlight)}`);
    }
    const sid = this.#next++;
    let sent = 0;
    let received = 0;
    let wake = null;
    let finished = null;
    let controller;
    let failure = null;
    this.#streams.set(sid, {
      output: (output, done) => {
        if (done) {
          this.#streams.delete(sid);
          finished?.();
          return;
        }
        received++;
        if (output.error) output.error = Object.assign(new Error(output.error.message), { code: output.error.code });
        try {
          controller.enqueue(output);
        } catch {
          // The stream was errored or cancelled on this side (an error in the pipe that feeds or
          // reads it): outputs still coming from the worker have nowhere to go.
        }
        wake?.();
      },
      fail: error => {
        this.#streams.delete(sid);
        failure = error;
        controller?.error(error);
        wake?.();
        finished?.();
      },
    });
    const opened = this.#call('streamOpen', [sid, { maxBatch, maxWaitMs }]);
    return new TransformStream(
      {
        start: async c => {
          controller = c;
          await opened;
        },
        transform: async item => {
          while (!failure && sent - received >= inFlight)
            await new Promise(r => {
              wake = r;
            });
          if (failure) throw failure;
          sent++;
          try {
            this.#worker.postMessage({ id: 0, method: 'streamWrite', args: [sid, [item]] });
          } catch (e) {
            // Sent in its place, so that its output (an error) keeps its index and the stream goes on.
            this.#worker.postMessage({
              id: 0,
              method: 'streamWrite',
              args: [sid, [{ unsendable: unsendable([item], e) }]],
            });
          }
        },
        flush: async () => {
          if (failure) throw failure;
          const ended = new Promise(r => {
            finished = r;
          });
          await this.#call('streamClose', [sid]);
          await ended;
          if (failure) throw failure;
        },
      },
      { highWaterMark: batch },
      { highWaterMark: batch },
    );
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
    const error = badInput(
      'the edgeserve worker was terminated: expected a running worker, got one whose terminate() was called',
    );
    for (const { reject } of this.#pending.values()) reject(error);
    this.#pending.clear();
    for (const { fail } of this.#streams.values()) fail(error);
    this.#streams.clear();
  }
}
