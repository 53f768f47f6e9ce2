// What the benchmark measures, the same in Node and in the browser (no imports): the runtimes
// under test behind one small interface, the wasm memories they create, and the measurements
// (single-prediction latency, batch throughput), alternating A/B so that drift hits every runtime.
//
// A runtime: { name, load(bytes, meta) -> Promise<session>, run(session, batch) -> Promise|value,
//              free(session) }; a batch is { [inputName]: { data: TypedArray, shape } }.
// Each runtime makes its own arguments for a batch (edgeserve's plain objects, onnxruntime-web's
// Tensors) once per batch, not per call: the calls are timed, not the harness building them.

/** `make(batch)`, made once per batch object and kept. */
function perBatch(make) {
  const made = new WeakMap();
  return batch => {
    let args = made.get(batch);
    if (!args) made.set(batch, (args = make(batch)));
    return args;
  };
}

/** Watches WebAssembly instantiation so that every wasm memory made afterwards can be measured
 * (exported or imported: edgeserve exports its memory, onnxruntime-web's threaded build imports
 * a shared one). Call before a runtime is loaded. */
export function watchWasmMemory() {
  const memories = new Set();
  const note = obj => {
    for (const v of Object.values(obj ?? {})) {
      if (v instanceof WebAssembly.Memory) memories.add(v);
      else if (v && typeof v === 'object' && !(v instanceof WebAssembly.Module))
        for (const w of Object.values(v)) if (w instanceof WebAssembly.Memory) memories.add(w);
    }
  };
  const { instantiate, instantiateStreaming } = WebAssembly;
  WebAssembly.instantiate = async function (source, imports) {
    note(imports);
    const result = await instantiate.call(WebAssembly, source, imports);
    note((result.instance ?? result).exports);
    return result;
  };
  if (instantiateStreaming) {
    WebAssembly.instantiateStreaming = async function (source, imports) {
      note(imports);
      const result = await instantiateStreaming.call(WebAssembly, source, imports);
      note(result.instance.exports);
      return result;
    };
  }
  const Instance = WebAssembly.Instance;
  WebAssembly.Instance = function (module, imports) {
    note(imports);
    const instance = new Instance(module, imports);
    note(instance.exports);
    return instance;
  };
  WebAssembly.Instance.prototype = Instance.prototype;
  let seen = new Set();
  return {
    /** The memories made since the last take(): the ones a runtime just created. */
    take() {
      const fresh = [...memories].filter(m => !seen.has(m));
      seen = new Set(memories);
      return { bytes: () => fresh.reduce((n, m) => n + m.buffer.byteLength, 0) };
    },
  };
}

/** run()'s arguments for a batch: the inputs and their shapes. */
const edgeserveArgs = perBatch(batch => [
  Object.fromEntries(Object.entries(batch).map(([k, t]) => [k, t.data])),
  { shapes: Object.fromEntries(Object.entries(batch).map(([k, t]) => [k, t.shape])) },
]);

/** edgeserve through its public API: Model.fromBytes + model.run (the graph as given, no
 * preprocessing), as onnxruntime-web runs it. */
export function edgeserveRuntime(edgeserve) {
  return {
    name: 'edgeserve',
    load: bytes => edgeserve.Model.fromBytes(bytes),
    run: (model, batch) => model.run(...edgeserveArgs(batch)),
    free: model => model.free(),
  };
}

/** edgeserve's own serving path for an embedded package: Model.load + predict() on raw input
 * (preprocessing and decoding included). */
export function edgeservePredictRuntime(edgeserve, name, raw) {
  return {
    name: 'edgeserve predict()',
    load: async () => edgeserve.Model.load(name),
    run: model => model.predict(raw),
    free: model => model.free(),
  };
}

/** edgeserve on tract's plans instead of its row executor (`useEngine('tract')`), through run()
 * on `batch` like `edgeserveRuntime`: beside it, the row executor's gain in the same run. */
export function edgeserveTractRuntime(edgeserve, bytes, batch) {
  const plain = edgeserveRuntime(edgeserve);
  return {
    name: 'edgeserve (tract plans)',
    load: async () => {
      const model = await edgeserve.Model.fromBytes(bytes);
      model.useEngine('tract');
      return model;
    },
    run: model => plain.run(model, batch),
    free: model => model.free(),
  };
}

/** onnxruntime-web, wasm backend (SIMD). `threads` is set before the first session. */
export function ortRuntime(ort, threads) {
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.simd = true;
  const feeds = perBatch(batch =>
    Object.fromEntries(Object.entries(batch).map(([k, t]) => [k, new ort.Tensor(t.type, t.data, t.shape)])),
  );
  return {
    name: threads === 1 ? 'onnxruntime-web' : `onnxruntime-web (${threads} threads)`,
    load: bytes => ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' }),
    run: (session, batch) => session.run(feeds(batch)),
    free: session => session.release(),
  };
}

const TYPES = {
  float32: Float32Array,
  int64: BigInt64Array,
  int32: Int32Array,
  uint8: Uint8Array,
  float64: Float64Array,
};

/** A batch of `n` copies of the model's recorded batch-1 input. */
export function batchOf(meta, inputs, n) {
  const batch = {};
  meta.inputs.forEach((spec, i) => {
    const one = inputs[i];
    const data = new TYPES[spec.dtype](one.length * n);
    for (let k = 0; k < n; k++) data.set(one, k * one.length);
    batch[spec.name] = { type: spec.dtype, data, shape: [n, ...spec.shape.slice(1)] };
  });
  return batch;
}

export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function summary(samples) {
  const s = Float64Array.from(samples).sort();
  return {
    n: s.length,
    p50: percentile(s, 50),
    p95: percentile(s, 95),
    p99: percentile(s, 99),
    mean: s.reduce((a, b) => a + b, 0) / s.length,
  };
}

/**
 * Single-prediction latency in ms, every call timed alone (performance.now(): sub-microsecond in
 * Node, 5 us in a cross-origin-isolated page), `runs` calls per runtime after `warmup` calls,
 * in `rounds` alternating blocks (A, B, A, B, ...).
 *
 * Where the clock is coarse for the call (its per-call median under 20 clock steps, e.g. a 20 us
 * prediction on a 5 us clock), the per-call median is a clock step, not a latency: `p50` is then
 * the median over blocks of calls, each block timed whole and long enough for 20 clock steps
 * (time / calls), alternating the same way; `p50PerCall` keeps the per-call one. p95 and p99
 * stay per call: the tail is many clock steps long.
 */
export async function latency(subjects, { runs, warmup, rounds = 10, clockStepMs = 0 }) {
  for (const s of subjects) for (let i = 0; i < warmup; i++) await s.call();
  const perRound = Math.ceil(runs / rounds);
  const stats = (
    await alternate(
      subjects,
      rounds,
      () => perRound,
      () => 1,
    )
  ).map(summary);
  const coarse = stats.map(st => clockStepMs > 0 && st.p50 < 20 * clockStepMs);
  if (!coarse.some(Boolean)) return stats;
  // Calls per block: 20 clock steps at the per-call median (at least one step): the block's
  // time is then known within 5%.
  const size = stats.map(st =>
    Math.min(1000, Math.max(2, Math.ceil((20 * clockStepMs) / Math.max(st.p50, clockStepMs)))),
  );
  const perRoundBlocks = Math.max(1, Math.ceil(perRound / 10));
  const blocks = await alternate(
    subjects,
    rounds,
    k => (coarse[k] ? perRoundBlocks : 0),
    k => size[k],
  );
  return stats.map((st, k) =>
    coarse[k]
      ? {
          ...st,
          p50: percentile(Float64Array.from(blocks[k]).sort(), 50),
          p50PerCall: st.p50,
          p50Blocks: { n: blocks[k].length, calls: size[k] },
        }
      : st,
  );
}

/** `rounds` rounds of A, B, A, B, ...: each round, subject k gives `samples(k)` samples, each
 * the time in ms of `calls(k)` calls in a row divided by `calls(k)`. */
async function alternate(subjects, rounds, samples, calls) {
  const out = subjects.map(() => []);
  for (let r = 0; r < rounds; r++) {
    for (const [k, s] of subjects.entries()) {
      const n = calls(k);
      for (let i = 0; i < samples(k); i++) {
        const t = performance.now();
        for (let c = 0; c < n; c++) await s.call();
        out[k].push((performance.now() - t) / n);
      }
    }
  }
  return out;
}

/** Rows per second at one batch size: `rounds` alternating samples, each the time of enough
 * calls of the whole batch in a row to last about `sampleMs` (one call of a large model; a
 * hundred of a batch that takes 0.2 ms, which timed alone would be one clock reading and
 * whatever the engine or the garbage collector did during it); the median sample counts. */
export async function throughput(subjects, rows, { rounds = 3, sampleMs = 20 }) {
  const calls = [];
  for (const s of subjects) {
    // Warm-up: the plan for this batch size, and the JIT's later tiers (calls for 50 ms, at
    // least one); then a call's time from calls for 5 ms (at least one), for the sample's calls.
    for (let t = performance.now(), n = 0; n === 0 || performance.now() - t < 50; n++) await s.call();
    let n = 0;
    const t = performance.now();
    do {
      await s.call();
      n += 1;
    } while (performance.now() - t < 5);
    const ms = (performance.now() - t) / n;
    calls.push(Math.min(1000, Math.max(1, Math.ceil(sampleMs / Math.max(ms, 0.005)))));
  }
  const times = await alternate(
    subjects,
    rounds,
    () => 1,
    k => calls[k],
  );
  return times.map(v => Float64Array.from(v, ms => rows / (ms / 1e3)).sort()[v.length >> 1]);
}

/** How many runs and which batch sizes a model gets, from its size (multiply-adds per row). */
export function plan(meta, smoke) {
  const big = meta.flops > 1e8;
  if (smoke) return { runs: 50, warmup: 5, batches: [1, 8], rounds: 1 };
  return big
    ? { runs: 60, warmup: 5, batches: [1, 8], rounds: 3 }
    : { runs: 2000, warmup: 200, batches: [1, 32, 256], rounds: 11 };
}

/** Measures every runtime on one model: latency at batch 1 and throughput per batch size. */
export async function measureModel({ runtimes, bytes, meta, inputs, smoke, extra = [], clockStepMs = 0 }) {
  const p = plan(meta, smoke);
  const sessions = [];
  for (const rt of runtimes) sessions.push(await rt.load(bytes, meta));
  const one = batchOf(meta, inputs, 1);
  const subjects = runtimes.map((rt, i) => ({ call: () => rt.run(sessions[i], one) }));
  for (const e of extra) subjects.push({ call: () => e.runtime.run(e.session) });
  const lat = await latency(subjects, {
    runs: p.runs,
    warmup: p.warmup,
    rounds: Math.max(1, p.rounds * 2),
    clockStepMs,
  });
  const rows = {};
  for (const n of p.batches) {
    const b = batchOf(meta, inputs, n);
    rows[n] = await throughput(
      runtimes.map((rt, i) => ({ call: () => rt.run(sessions[i], b) })),
      n,
      { rounds: p.rounds },
    );
  }
  const result = {};
  runtimes.forEach((rt, i) => {
    result[rt.name] = {
      latencyMs: lat[i],
      rowsPerSecond: Object.fromEntries(Object.entries(rows).map(([n, r]) => [n, r[i]])),
    };
  });
  extra.forEach((e, j) => {
    result[e.runtime.name] = { latencyMs: lat[runtimes.length + j] };
  });
  runtimes.forEach((rt, i) => rt.free(sessions[i]));
  return result;
}
