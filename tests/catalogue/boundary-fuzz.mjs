// The boundary fuzzer: random JavaScript values (tests/catalogue/js-values.mjs) thrown at every
// export of the package, from a fixed seed, for a bounded time. Run by
//   tests/js/boundary-fuzz.test.mjs     the npm package in Node: the full build and the lean one
//   tests/e2e/boundary-fuzz.test.mjs    Chromium: a Model on the page thread (both builds), and a WorkerModel
// No imports but js-values.mjs (fast-check is passed in), so it runs in Node and in a page alike.
//
// Each fast-check run is one to three calls (in turn, or started together), each of an export
// with generated arguments. After each call the contract is checked:
//   - it returned (or resolved), or threw (or rejected) an Error whose `code` is documented
//     (never INTERNAL: that is a trapped instance) and whose message says what was expected and
//     what came (`expected ... got|found ...`); never a WebAssembly.RuntimeError, an Error with no
//     code, a value that is no Error, nor a hang;
//   - the one exception, a callback's own throw or rejection (onProgress, a piped source that
//     errors), comes back as is: the very sentinel the generated callback threw; and a call whose
//     onProgress threw does not resolve;
//   - a non-string where a string is taken (load, useEngine, predictCsv, fromUrl) is BAD_INPUT
//     `... is not a string`, and nothing of it is coerced (its toString never runs);
//   - a "could not be read" error includes the message of what threw;
//   - the lean build never loads ONNX (fromBytes, fromUrl);
//   - a stream yields one output per item written, in order, each a prediction or `{ index, error }`
//     with a coded error, and goes on;
// and after each run a good prediction is still exactly what it was before fuzzing: the same
// label (the golden one) and bit-identical scores (on the engine in use).
//
// ctx (what the layer gives):
//   layer      a name for the figures ('node/full', 'chromium/lean', 'chromium/worker', ...)
//   kind       'main' (a Model on this thread) or 'worker' (a WorkerModel)
//   build      'full' or 'lean' (main only)
//   api        { Model, ModelSet } (main) or { WorkerModel } (worker)
//   model      the model under test: digits-accurate (a Model, or a WorkerModel)
//   values     the env of jsValues() (see js-values.mjs): good, goodRows, csv, manifest, onnx, ...
//   goldenLabel    models/digits-accurate/golden.json cases[0].expected.label
//   callTimeoutMs  how long a call may take before it counts as a hang (default 20000)
//
// fuzzBoundary() resolves to the figures { layer, seed, runs, calls, perExport, outcomes,
// elapsedMs, failures }; on a failure it throws fast-check's report (counterexample, seed, path)
// with the figures in `error.figures`.
import { ABSENT, FuzzerBug, Maker, makeArgs, describeSafely, jsValues } from './js-values.mjs';

export const CODES = [
  'UNKNOWN_MODEL',
  'BAD_INPUT',
  'BAD_MANIFEST',
  'INTEGRITY',
  'MODEL_LOAD',
  'INFERENCE',
  'REGISTRY',
  'INTERNAL',
];
const WHAT_EXPECTED_GOT = /expected .+(got|found)[: ]/s;
const LOAD_CODES = ['BAD_INPUT', 'BAD_MANIFEST', 'INTEGRITY', 'MODEL_LOAD'];

const isError = e =>
  e instanceof Error || (e !== null && typeof e === 'object' && Object.prototype.toString.call(e) === '[object Error]');
const isWasmTrap = e =>
  (typeof WebAssembly === 'object' && e instanceof WebAssembly.RuntimeError) ||
  (isError(e) && e.name === 'RuntimeError');
const isCoded = e => isError(e) && CODES.includes(e.code) && e.code !== 'INTERNAL';

function freeResult(v) {
  try {
    if (v === null || typeof v !== 'object') return;
    if (typeof v.terminate === 'function') v.terminate();
    else if (typeof v.free === 'function' && v.__wbg_ptr !== 0) v.free();
    if (v.model && typeof v.model.free === 'function' && v.model.__wbg_ptr !== 0) v.model.free();
  } catch {
    // freeing is tidiness only
  }
}

/** Feeds `items` into a TransformStream (written, piped, or piped from a source that errors). */
async function driveStream(ts, items, mode, mk) {
  const outputs = [];
  try {
    if (mode === 'write') {
      const writer = ts.writable.getWriter();
      const reader = ts.readable.getReader();
      const reading = (async () => {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          outputs.push(value);
        }
      })();
      try {
        for (const item of items) await writer.write(item);
        await writer.close();
      } finally {
        await reading;
      }
    } else {
      let i = 0;
      const source = new ReadableStream(
        {
          pull(controller) {
            if (i < items.length) controller.enqueue(items[i++]);
            else if (mode === 'pipe-error') controller.error(mk.sentinel('source'));
            else controller.close();
          },
        },
        { highWaterMark: 0 },
      );
      const reader = source.pipeThrough(ts).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        outputs.push(value);
      }
    }
    return { outputs, mode, items };
  } catch (error) {
    return { outputs, mode, items, erroredWith: error };
  }
}

function errorProblems(e, cmd, mk) {
  if (isWasmTrap(e)) return [{ fatal: true, text: `a wasm trap surfaced: ${describeSafely(e)}` }];
  if (!isError(e)) return [`threw ${describeSafely(e)}, which is no Error`];
  if (e.code === undefined) return [`threw an Error with no code: ${describeSafely(e)}`];
  if (!CODES.includes(e.code)) return [`threw an Error with an undocumented code: ${describeSafely(e)}`];
  if (e.code === 'INTERNAL') return [{ fatal: true, text: `INTERNAL (the instance trapped): ${e.message}` }];
  const problems = [];
  if (cmd.codes && cmd.codes.length === 0) problems.push(`expected it to succeed, got ${describeSafely(e)}`);
  else if (cmd.codes && !cmd.codes.includes(e.code))
    problems.push(`expected code ${cmd.codes.join(' or ')}, got ${describeSafely(e)}`);
  const message = String(e.message);
  if (!WHAT_EXPECTED_GOT.test(message))
    problems.push(`the message does not say what was expected and what came: ${message}`);
  if (
    /could not be read/.test(message) &&
    mk.readErrors.length > 0 &&
    !mk.engineThrows &&
    !mk.readErrors.some(m => message.includes(m))
  ) {
    problems.push(`says a read threw but gives none of the thrown messages (${mk.readErrors.join('; ')}): ${message}`);
  }
  return problems;
}

/** What is wrong with a call's outcome (strings; { fatal, text } for what harms the module). */
function judge(cmd, mk, outcome, kind) {
  if (outcome.timedOut) return [`did not settle within ${outcome.timedOut} ms (a hang)`];
  if (outcome.error instanceof FuzzerBug) return [`(a bug of the fuzzer) ${outcome.error.message}`];
  const problems = [];
  const stringArg =
    cmd.stringArg !== undefined && mk.args && mk.args.length > cmd.stringArg ? mk.args[cmd.stringArg] : undefined;
  const notAString = cmd.stringArg !== undefined && mk.args !== undefined && typeof stringArg !== 'string';
  if (outcome.ok) {
    if (cmd.neverResolves) problems.push('resolved, but this build has no ONNX parser (expected MODEL_LOAD)');
    if (notAString) problems.push(`accepted ${describeSafely(stringArg)} for a string`);
    for (const cb of mk.callbacks) {
      if (cmd.propagates && cb.field === 'onProgress' && cb.threw > 0)
        problems.push(
          `onProgress (which ${cb.kind}) threw ${cb.threw} time(s), yet the call resolved: a callback's throw must come back`,
        );
    }
    const p = cmd.check?.(outcome.value, mk, kind);
    if (p) problems.push(...[].concat(p));
  } else {
    const e = outcome.error;
    const where = mk.sentinels.get(e);
    if (where !== undefined) {
      if (!(cmd.callbackFields ?? []).includes(where))
        problems.push(`threw the sentinel of the function at ${where}: it called a function that is no callback`);
    } else {
      problems.push(...errorProblems(e, cmd, mk));
      if (notAString && isCoded(e)) {
        const allowed = cmd.stringRuleCodes ?? ['BAD_INPUT'];
        if (!allowed.includes(e.code))
          problems.push(
            `given ${describeSafely(stringArg)} for a string: expected ${allowed.join(' or ')}, got ${e.code}`,
          );
        else if (
          kind === 'main' &&
          e.code === 'BAD_INPUT' &&
          mk.args.length === 1 &&
          !/is not a string/.test(e.message)
        ) {
          problems.push(
            `given ${describeSafely(stringArg)} for a string: expected "... is not a string", got: ${e.message}`,
          );
        }
      }
    }
  }
  problems.push(...mk.problems);
  if (cmd.stringArg !== undefined && mk.coerced.has(cmd.stringArg))
    problems.push('coerced the argument that must be a string (its toString, valueOf or Symbol.toPrimitive ran)');
  for (const inner of mk.inner) {
    if (!inner.ok && !isCoded(inner.error))
      problems.push(`a call from inside a callback threw ${describeSafely(inner.error)}`);
  }
  return problems;
}

function checkPrediction(p, mk) {
  if (p === null || typeof p !== 'object') return `expected a prediction, got ${describeSafely(p)}`;
  if (typeof p.label !== 'string' || !(p.scores instanceof Float32Array) || p.scores.length !== 10)
    return `expected { label, scores: Float32Array(10) }, got ${describeSafely(p)}`;
  if (mk.goodLabel != null && p.label !== mk.goodLabel)
    return `a good row (expected label ${mk.goodLabel}) got label ${p.label}`;
  return null;
}

function checkStream(r, mk, kind) {
  const { outputs, mode, items, erroredWith } = r;
  if (erroredWith !== undefined) {
    if (mk.sentinels.get(erroredWith) === 'source' && mode === 'pipe-error') return null;
    if (mk.sentinels.has(erroredWith))
      return `the stream errored with the sentinel of ${mk.sentinels.get(erroredWith)}`;
    const problems = errorProblems(erroredWith, { codes: ['BAD_INPUT'] }, mk);
    // A WorkerModel checks its stream's options in the worker: the stream may then error, with a
    // coded error, before any output.
    if (kind === 'worker' && problems.length === 0 && outputs.length === 0) return null;
    return problems.length
      ? problems
      : [
          `the stream errored (expected one output per item, a bad item's carrying its error): ${describeSafely(erroredWith)}`,
        ];
  }
  if (mode === 'pipe-error')
    return "the piped source errored, but the stream ended as if it had not: the source's error must come back as is";
  if (outputs.length !== items.length) return `expected ${items.length} outputs, got ${outputs.length}`;
  const problems = [];
  outputs.forEach((o, i) => {
    if (o === null || typeof o !== 'object' || o.index !== i) {
      problems.push(
        `output ${i}: expected { index: ${i}, ... }, got ${describeSafely(o)} (index ${describeSafely(o?.index)})`,
      );
    } else if (o.error !== undefined) {
      for (const p of errorProblems(o.error, { codes: ['BAD_INPUT'] }, mk))
        problems.push(`output ${i}'s error: ${p.text ?? p}`);
    } else {
      const p = checkPrediction(o.prediction, { goodLabel: items[i]?.goodLabel });
      if (p) problems.push(`output ${i}: ${p}`);
    }
  });
  return problems;
}

/** The commands of a layer: { name, weight, arb (of argument specs), invoke(specs, mk), codes, ... }. */
function commands(fc, v, ctx) {
  const opt = (arb, freq = 4) => fc.option(arb, { nil: ABSENT, freq });
  const extra = fc.array(v.any, { maxLength: 2 });
  const f = v.fieldValues;
  const command = (name, weight, args, call, more = {}) => ({
    name,
    weight,
    arb: Array.isArray(args) ? fc.tuple(...args) : args,
    invoke(specs, mk) {
      const made = makeArgs(specs, mk);
      mk.args = made;
      if (more.goodLabelOf) mk.goodLabel = more.goodLabelOf(specs);
      return call(made);
    },
    ...more,
  });
  const goodLabelOfRow = specs => specs[0]?.goodLabel;
  const streamCommand = (name, target, streamOptions) => ({
    name,
    weight: 5,
    arb: fc.tuple(
      opt(streamOptions),
      fc.array(v.row, { maxLength: 6 }),
      fc.constantFrom('write', 'write', 'pipe', 'pipe-error').map(m => v.spec(m, () => m)),
    ),
    codes: ['BAD_INPUT'],
    callbackFields: ['source'],
    invoke([optionsSpec, itemSpecs, modeSpec], mk) {
      const args = makeArgs([optionsSpec], mk);
      const ts = target().stream(...args);
      const items = makeArgs(itemSpecs, mk);
      // checkStream sees the good items' labels, not the values (which it must not touch)
      const labels = itemSpecs.map(s => ({ goodLabel: s.goodLabel }));
      return driveStream(ts, items, modeSpec.desc, mk).then(r => ({ ...r, items: labels }));
    },
    check: checkStream,
  });

  const batchOptions = v.options({ chunkSize: f.chunkSize, onProgress: f.onProgress });
  const csvOptions = v.options({ chunkSize: f.chunkSize, onProgress: f.onProgress, labelColumn: f.labelColumn });
  const callbacks = { callbackFields: ['onProgress'], propagates: true };

  if (ctx.kind === 'worker') {
    const W = ctx.api.WorkerModel;
    const remote = () => ctx.model;
    return [
      command('WorkerModel.create', 1, [opt(v.options({ model: v.modelName }))], a => W.create(...a), {
        codes: ['BAD_INPUT', 'UNKNOWN_MODEL'],
      }),
      command('WorkerModel.fromBytes', 1, [v.bytes, opt(v.manifest)], a => W.fromBytes(...a), { codes: LOAD_CODES }),
      command('remote.predict', 8, [v.row, opt(v.options({ transfer: f.transfer }), 6)], a => remote().predict(...a), {
        codes: ['BAD_INPUT'],
        check: checkPrediction,
        goodLabelOf: goodLabelOfRow,
      }),
      command(
        'remote.predictBatch',
        6,
        [v.batch, opt(v.options({ chunkSize: f.chunkSize, onProgress: f.onProgress, transfer: f.transfer }))],
        a => remote().predictBatch(...a),
        { codes: ['BAD_INPUT'], ...callbacks },
      ),
      command('remote.predictCsv', 5, [v.csvText, opt(csvOptions)], a => remote().predictCsv(...a), {
        codes: ['BAD_INPUT'],
        stringArg: 0,
        ...callbacks,
      }),
      streamCommand(
        'remote.stream',
        remote,
        v.options(
          { maxBatch: f.maxBatch, maxWaitMs: f.maxWaitMs, inFlight: f.inFlight },
          { maxWaitMs: v.slowFree.maxWaitMs },
        ),
      ),
      command('remote.detect', 2, [v.row], a => remote().detect(...a), { codes: ['BAD_INPUT'] }),
      command('remote.readText', 2, [v.row], a => remote().readText(...a), { codes: ['BAD_INPUT'] }),
      command('remote.latency', 1, extra, a => remote().latency(...a), { codes: [] }),
      command('remote.resetLatency', 1, extra, a => remote().resetLatency(...a), { codes: [] }),
    ];
  }

  const { Model, ModelSet } = ctx.api;
  const model = () => ctx.model;
  const lean = ctx.build === 'lean';
  const getter = (key, ok) =>
    command(`model.${key}`, 1, extra, () => model()[key], {
      codes: [],
      check: value => (ok(value) ? null : `model.${key} gave ${describeSafely(value)}`),
    });
  return [
    command('Model.names', 1, extra, a => Model.names(...a), {
      codes: [],
      check: n =>
        Array.isArray(n) && n.includes('digits-accurate') && n.includes('digits-fast')
          ? null
          : `expected the embedded names, got ${describeSafely(n)}`,
    }),
    command('Model.load', 3, [v.modelName], a => Model.load(...a), {
      codes: ['BAD_INPUT', 'UNKNOWN_MODEL'],
      stringArg: 0,
    }),
    command('Model.default', 1, extra, a => Model.default(...a), { codes: [] }),
    command('Model.fromBytes', 3, [v.bytes, opt(v.manifest)], a => Model.fromBytes(...a), {
      codes: LOAD_CODES,
      neverResolves: lean,
    }),
    command(
      'Model.fromUrl',
      2,
      [v.url, opt(v.options({ sha256: f.sha256, onProgress: f.onProgress, manifest: v.manifest }))],
      a => Model.fromUrl(...a),
      {
        codes: LOAD_CODES,
        stringArg: 0,
        stringRuleCodes: lean ? ['BAD_INPUT', 'MODEL_LOAD'] : ['BAD_INPUT'],
        callbackFields: ['onProgress'],
        neverResolves: lean,
      },
    ),
    command('ModelSet.embedded', 1, extra, a => ModelSet.embedded(...a), { codes: [] }),
    command('model.predict', 8, [v.row], a => model().predict(...a), {
      codes: ['BAD_INPUT'],
      check: checkPrediction,
      goodLabelOf: goodLabelOfRow,
    }),
    command('model.predictBatch', 6, [v.batch, opt(batchOptions)], a => model().predictBatch(...a), {
      codes: ['BAD_INPUT'],
      ...callbacks,
    }),
    command('model.predictCsv', 5, [v.csvText, opt(csvOptions)], a => model().predictCsv(...a), {
      codes: ['BAD_INPUT'],
      stringArg: 0,
      ...callbacks,
    }),
    streamCommand(
      'model.stream',
      model,
      v.options({ maxBatch: f.maxBatch, maxWaitMs: f.maxWaitMs }, { maxWaitMs: v.slowFree.maxWaitMs }),
    ),
    command('model.run', 3, [v.runInputs, opt(v.options({ shapes: v.shapes }))], a => model().run(...a), {
      codes: null,
    }),
    command('model.useEngine', 2, [v.engineName], a => model().useEngine(...a), { codes: ['BAD_INPUT'], stringArg: 0 }),
    // Audio on a model of rows: whatever the arguments, a coded refusal (the arguments are read first).
    command(
      'model.speechSegments',
      2,
      [v.row, opt(v.options({ sampleRate: f.runs, threshold: f.percentile }))],
      a => model().speechSegments(...a),
      { codes: ['BAD_INPUT'] },
    ),
    command(
      'model.session',
      2,
      [opt(v.options({ sampleRate: f.runs, minSpeechMs: f.budgetMs }))],
      a => model().session(...a),
      {
        codes: ['BAD_INPUT'],
      },
    ),
    // Images on a model of rows: whatever the argument, a coded refusal (the image is read first:
    // any value, and objects with the fields of one).
    command('model.detect', 2, [v.row], a => model().detect(...a), { codes: ['BAD_INPUT'] }),
    command(
      'model.detect(image-like)',
      2,
      [v.options({ data: v.row, width: f.runs, height: f.runs, channels: f.runs })],
      a => model().detect(...a),
      { codes: ['BAD_INPUT'] },
    ),
    command('model.readText', 2, [v.row], a => model().readText(...a), { codes: ['BAD_INPUT'] }),
    command(
      'model.readText(image-like)',
      2,
      [v.options({ data: v.row, width: f.runs, height: f.runs, channels: f.runs })],
      a => model().readText(...a),
      { codes: ['BAD_INPUT'] },
    ),
    getter('name', x => x === 'digits-accurate'),
    getter('inputWidth', x => x === 64),
    getter('sizeBytes', x => Number.isInteger(x) && x > 0),
    getter('manifest', x => x !== null && typeof x === 'object' && x.name === 'digits-accurate'),
    getter('engine', x => x === 'rows' || x === 'tract'),
    command('model.latency', 1, extra, a => model().latency(...a), {
      codes: [],
      check: r =>
        r?.realtime && r?.batch && r?.stream ? null : `expected { realtime, batch, stream }, got ${describeSafely(r)}`,
    }),
    command('model.resetLatency', 1, extra, a => model().resetLatency(...a), { codes: [] }),
    command(
      'set.benchmark',
      2,
      [opt(v.options({ runs: f.runs }, { runs: v.slowFree.runs }), 6)],
      a => ctx.set.benchmark(...a),
      { codes: ['BAD_INPUT'] },
    ),
    command(
      'set.choose',
      2,
      [opt(v.options({ budgetMs: f.budgetMs, percentile: f.percentile }), 6)],
      a => ctx.set.choose(...a),
      { codes: ['BAD_INPUT'] },
    ),
  ];
}

function settle(f, ms) {
  let value;
  try {
    value = f();
  } catch (error) {
    return Promise.resolve({ ok: false, error });
  }
  if (!(value instanceof Promise)) return Promise.resolve({ ok: true, value });
  let timer;
  const hang = new Promise(resolve => {
    timer = setTimeout(() => resolve({ timedOut: ms }), ms);
  });
  return Promise.race([
    value.then(
      v => ({ ok: true, value: v }),
      error => ({ ok: false, error }),
    ),
    hang,
  ]).finally(() => clearTimeout(timer));
}

function outcomeKey(outcome, mk) {
  if (outcome.timedOut) return 'hang';
  if (outcome.ok)
    return outcome.value?.erroredWith !== undefined
      ? mk.sentinels.has(outcome.value.erroredWith)
        ? 'callback error, as is'
        : `stream errored: ${outcome.value.erroredWith?.code ?? 'no code'}`
      : 'ok';
  if (mk.sentinels.has(outcome.error)) return 'callback error, as is';
  return isError(outcome.error) ? (outcome.error.code ?? `no code (${outcome.error.name})`) : 'not an Error';
}

/** Runs the fuzzer (see the top of this file). */
export async function fuzzBoundary(fc, ctx, { seed = 1, timeLimitMs = 10_000, numRuns } = {}) {
  const started = Date.now();
  const callTimeoutMs = ctx.callTimeoutMs ?? 20_000;
  const good = ctx.values.good;
  const env = { ...ctx.values, reenter: () => ctx.model.predict(Float32Array.from(good)) };
  const v = jsValues(fc, env);
  const figures = {
    layer: ctx.layer,
    seed,
    runs: 0,
    calls: 0,
    perExport: {},
    outcomes: {},
    elapsedMs: 0,
    slowest: [],
    failures: [],
  };

  // The baseline: the good row's prediction on each engine the model runs on.
  const predictGood = () => ctx.model.predict(Float32Array.from(good));
  const engineNow = () => (ctx.kind === 'main' ? ctx.model.engine : 'worker');
  const baselines = new Map();
  if (ctx.kind === 'main') {
    const first = engineNow();
    for (const e of [first, 'rows', 'tract']) {
      if (baselines.has(e)) continue;
      try {
        ctx.model.useEngine(e);
      } catch {
        continue; // not an engine of this build or graph
      }
      baselines.set(e, await predictGood());
    }
    ctx.model.useEngine(first);
    ctx.set = ctx.api.ModelSet.embedded();
    await ctx.set.benchmark({ runs: 2 });
  } else {
    baselines.set('worker', await predictGood());
  }
  for (const [engine, p] of baselines) {
    if (p.label !== ctx.goldenLabel)
      throw new Error(
        `before fuzzing, the ${engine} engine predicts ${p.label} for the golden row: expected ${ctx.goldenLabel}`,
      );
  }

  async function goldenProblem() {
    let timer;
    let p;
    try {
      p = await Promise.race([
        predictGood(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${callTimeoutMs} ms`)), callTimeoutMs);
        }),
      ]);
    } catch (e) {
      return `a good prediction then failed: ${describeSafely(e)}`;
    } finally {
      clearTimeout(timer);
    }
    let engine;
    try {
      engine = engineNow();
    } catch (e) {
      return `model.engine then threw: ${describeSafely(e)}`;
    }
    const base = baselines.get(engine);
    if (!base) return `the engine is now ${engine}, which has no baseline`;
    if (p?.label !== base.label) return `a good prediction then gave label ${p?.label}: expected ${base.label}`;
    if (!(p.scores instanceof Float32Array) || p.scores.length !== base.scores.length)
      return `a good prediction then gave scores ${describeSafely(p.scores)}`;
    for (let i = 0; i < base.scores.length; i++) {
      if (!Object.is(p.scores[i], base.scores[i]))
        return `a good prediction then gave scores[${i}] = ${p.scores[i]}: expected exactly ${base.scores[i]} (engine ${engine})`;
    }
    return null;
  }

  const cmds = commands(fc, v, ctx);
  const byName = new Map(cmds.map(c => [c.name, c]));
  for (const c of cmds) figures.perExport[c.name] = 0;
  const step = fc.oneof(
    ...cmds.map(c => ({ weight: c.weight, arbitrary: c.arb.map(args => ({ name: c.name, args })) })),
  );
  const runArb = fc.record({
    together: fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    steps: fc.array(step, { minLength: 1, maxLength: 3 }),
  });
  // Every export once first, then random runs.
  const examples = cmds.map((c, i) => [
    { together: false, steps: [{ name: c.name, args: fc.sample(c.arb, { seed: seed + i, numRuns: 1 })[0] }] },
  ]);

  const state = { dead: null, inflight: null };
  const show = s => `${s.name}(${s.args.map(a => a.desc).join(', ')})`;

  async function call(s, together) {
    const cmd = byName.get(s.name);
    const mk = new Maker();
    figures.calls++;
    figures.perExport[s.name]++;
    const t0 = Date.now();
    const outcome = await settle(() => cmd.invoke(s.args, mk), callTimeoutMs);
    const ms = Date.now() - t0;
    if (figures.slowest.length < 5 || ms > figures.slowest.at(-1).ms) {
      // (calls started together each count the others' synchronous work too)
      figures.slowest.push({ ms, call: `${together ? '(together) ' : ''}${show(s).slice(0, 300)}` });
      figures.slowest.sort((a, b) => b.ms - a.ms).splice(5);
    }
    const key = outcomeKey(outcome, mk);
    figures.outcomes[key] = (figures.outcomes[key] ?? 0) + 1;
    let problems;
    try {
      problems = judge(cmd, mk, outcome, ctx.kind);
    } catch (e) {
      // e.g. a Proxy whose getPrototypeOf trap throws, come back from the call
      problems = [`gave back something that cannot even be inspected (${describeSafely(e)})`];
    }
    // A synchronous call cannot be raced: its time is checked after it.
    if (!outcome.timedOut && ms > callTimeoutMs) problems.push(`took ${ms} ms (more than ${callTimeoutMs} ms: a hang)`);
    if (outcome.ok) freeResult(outcome.value);
    return { s, problems };
  }

  async function runOnce(run) {
    figures.runs++;
    const results = run.together ? await Promise.all(run.steps.map(s => call(s, true))) : [];
    if (!run.together) for (const s of run.steps) results.push(await call(s, false));
    const lines = [];
    let fatal = false;
    for (const { s, problems } of results) {
      for (const p of problems) {
        fatal ||= Boolean(p.fatal);
        lines.push(`${show(s)}: ${p.text ?? p}`);
      }
    }
    const harmed = await goldenProblem();
    if (harmed) {
      fatal = true;
      lines.push(`after ${run.steps.map(show).join(run.together ? ' together with ' : ', then ')}: ${harmed}`);
    }
    if (lines.length === 0) return true;
    if (figures.failures.length < 20) figures.failures.push({ run: figures.runs, problems: lines });
    if (fatal) state.dead = lines; // later runs pass: fast-check then reports this run, unshrunk
    throw new Error(lines.join('\n'));
  }

  const property = fc.asyncProperty(runArb, run => {
    if (state.dead) return Promise.resolve(true);
    state.inflight = runOnce(run);
    return state.inflight;
  });
  const params = { seed, numRuns: numRuns ?? 2 ** 31 - 1, examples };
  if (typeof fc.interruptAfterTimeLimit === 'function')
    params.plugins = [fc.interruptAfterTimeLimit(timeLimitMs, { failOnInterrupt: false })];
  else Object.assign(params, { interruptAfterTimeLimit: timeLimitMs, markInterruptAsFailure: false });

  let failure = null;
  try {
    await fc.assert(property, params);
  } catch (e) {
    failure = e;
  }
  // An interrupted run goes on in the background: let it end before the caller moves on.
  await state.inflight?.catch(() => {});
  figures.elapsedMs = Date.now() - started;
  try {
    ctx.set?.free();
  } catch {
    // tidiness only
  }
  if (!failure && figures.failures.length > 0) {
    failure = new Error(
      `a run interrupted by the time limit failed:\n${figures.failures.map(f => f.problems.join('\n')).join('\n')}`,
    );
  }
  if (failure) {
    // fast-check's report names the counterexample, seed and path; what was wrong is said here
    // (the runs that failed, the first 20).
    const found = figures.failures.map(f => `run ${f.run}:\n  ${f.problems.join('\n  ')}`).join('\n');
    if (found && !String(failure.message).includes(found)) failure.message += `\n\nWhat failed:\n${found}`;
    failure.figures = figures;
    throw failure;
  }
  return figures;
}

/** The figures as a few lines, for a test to print. */
export function formatFigures(f) {
  const per = Object.entries(f.perExport)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  const out = Object.entries(f.outcomes)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  const slow = (f.slowest ?? []).map(c => `${c.ms} ms ${c.call}`).join('\n    ');
  return `boundary fuzz (${f.layer}): seed ${f.seed}, ${f.runs} runs, ${f.calls} calls in ${(f.elapsedMs / 1000).toFixed(1)} s\n  per export: ${per}\n  outcomes: ${out}\n  slowest calls:\n    ${slow}`;
}
