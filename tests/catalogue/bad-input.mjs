// The catalogue of bad input: every kind of wrong thing a caller can hand edgeserve, each with the
// error it must get (an Error whose `code` is one of the documented ErrorCodes and whose message
// says what was wrong, what was expected and what came), or, for the kinds edgeserve accepts
// (lossless typed arrays, a BOM, CRLF), the right answer. After every entry, a good prediction
// must still match onnxruntime's golden output: a bad call never harms the module.
//
// One table, run by three layers (no imports here: it runs in Node and in the browser alike):
//   tests/js/bad-input.test.mjs         the npm package (wasm) in Node, on the main thread
//   tests/e2e/bad-input.test.mjs        the npm package in Chromium, main thread and WorkerModel
//   tests/bad_input.rs                  the same kinds natively, through the core and the boundary
// `layers` says where a kind applies: 'main' (a Model) and 'worker' (a WorkerModel, whose
// arguments pass a structured clone, so functions and classes cannot be sent); `messages` gives a
// layer a message of its own (a WorkerModel refuses what it cannot send to its worker before the
// model sees it). An entry with `sameError` expects the call to reject with the very value its
// callback threw (a caller's own error comes back as is): `call(ctx, own)` gets that value.
// `withinMs` bounds how long the call may take (a huge array is refused without being read).
//
// The context a layer gives (ctx):
//   model          the model under test: digits-accurate (Model or WorkerModel)
//   fromBytes(bytes, manifest?)   Model.fromBytes or WorkerModel.fromBytes (a Promise)
//   load(name)     Model.load or WorkerModel.create({ model }) (a Promise)
//   fresh()        a new digits-accurate model, for the kinds that spoil theirs (a Promise)
//   run?           for 'main': (inputs, options) => model.run(...) on tests/fixtures/onnx/multi_io.onnx
//   onnx           bytes of models/digits-fast/model.onnx (Uint8Array); manifest: its manifest
//   fuzzedOnnx     bytes of tests/fixtures/fuzz/package/unsqueeze-axis-outside-rank.onnx, an ONNX
//                  file a fuzzer made on which tract's own parser panics (a trap in wasm)
//   good           a golden raw row (64 numbers); csv: the header and 3 rows of digits-test.csv
//   text           the text package minilm-int8 (Model or WorkerModel), made by `make models-text`
//   textFiles      its { onnx, manifest, tokenizer } (bytes, object, bytes)
//   fromText(onnx, manifest, tokenizer)   fromBytes with options.tokenizer, the model dropped after
//   sha256(bytes)  the hex sha256 of some bytes (a Promise)
//   audio          the voice-activity package vad (a Model: 'main' only, as a WorkerModel has no
//                  sessions), loaded by name (Model.load('vad'), fetched beside the wasm)
//   audioSession   a session of it at 16 kHz
//   image          a detector (tests/fixtures/image/detector-yolov8: a Model, or a WorkerModel in
//                  'worker'); goodImage: { data, width, height, channels } of a 97 x 61 RGB image
//                  it finds 4 boxes in
// An entry with `text: true` is about the text model: after it, the text model must still embed.
// An entry with `audio: true` is about the audio model: after it, the session's state must be what
// it was, and the session must still run a frame. An entry with `image: true` is about the
// detector: after it, the detector must still find its 4 boxes in goodImage.

const WHAT_EXPECTED_GOT = /expected .+(got|found)[: ]/s;

/** A text package's manifest whose tokenizer hash is that of `bytes`, loaded with them. */
async function withTokenizer(ctx, bytes) {
  const m = structuredClone(ctx.textFiles.manifest);
  m.preprocessing.tokenizer.sha256 = await ctx.sha256(bytes);
  return ctx.fromText(ctx.textFiles.onnx, m, bytes);
}

/** minilm's tokenizer.json with `extra` tokens more than the model's embedding table has rows. */
function grownTokenizer(ctx, extra) {
  const t = JSON.parse(new TextDecoder().decode(ctx.textFiles.tokenizer));
  for (let i = 0; i < extra; i++) t.model.vocab[`extra${i}`] = 30522 + i;
  return new TextEncoder().encode(JSON.stringify(t));
}

function row(ctx, change) {
  const r = Float32Array.from(ctx.good);
  change?.(r);
  return r;
}

function withManifest(ctx, change) {
  const m = structuredClone(ctx.manifest);
  change(m);
  return m;
}

function csvWith(ctx, change) {
  const lines = ctx.csv
    .trim()
    .split('\n')
    .map(l => l.split(','));
  change(lines);
  return lines.map(l => l.join(',')).join('\n');
}

/** A good row array whose element [i] is a getter that throws `message`. */
function throwingAt(ctx, i, message) {
  const r = Array.from(ctx.good);
  Object.defineProperty(r, i, {
    get() {
      throw new Error(message);
    },
    enumerable: true,
  });
  return r;
}

/** A rejected Promise that is handled here too (no unhandled rejection if the callee drops it). */
function rejected(value) {
  const p = Promise.reject(value);
  p.catch(() => {});
  return p;
}

/** Pipes a source that gives one good row, then errors with `own`, into a model's stream. */
async function pipeErroring(ctx, own) {
  const stream = ctx.model.stream({ maxBatch: 4, maxWaitMs: 1 });
  const draining = stream.readable.pipeTo(new WritableStream()).catch(() => {});
  let sent = false;
  const source = new ReadableStream({
    pull(controller) {
      if (sent) controller.error(own);
      else controller.enqueue(row(ctx));
      sent = true;
    },
  });
  try {
    return await source.pipeTo(stream.writable);
  } finally {
    await draining;
  }
}

async function streamOf(model, items) {
  const stream = model.stream({ maxBatch: 4, maxWaitMs: 1 });
  const writer = stream.writable.getWriter();
  const outputs = [];
  const reading = (async () => {
    const reader = stream.readable.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      outputs.push(value);
    }
  })();
  for (const item of items) await writer.write(item);
  await writer.close();
  await reading;
  return outputs;
}

/** A 16-bit PCM mono WAV file of `samples` (-1 to 1) at `rate` Hz. */
function wavFile(samples, rate) {
  const bytes = new Uint8Array(44 + samples.length * 2);
  const v = new DataView(bytes.buffer);
  const text = (at, s) => [...s].forEach((ch, i) => (bytes[at + i] = ch.charCodeAt(0)));
  text(0, 'RIFF');
  v.setUint32(4, 36 + samples.length * 2, true);
  text(8, 'WAVEfmt ');
  v.setUint32(16, 16, true);
  v.setUint16(20, 1, true); // PCM
  v.setUint16(22, 1, true); // one channel
  v.setUint32(24, rate, true);
  v.setUint32(28, rate * 2, true);
  v.setUint16(32, 2, true);
  v.setUint16(34, 16, true);
  text(36, 'data');
  v.setUint32(40, samples.length * 2, true);
  samples.forEach((x, i) => v.setInt16(44 + 2 * i, Math.round(x * 32767), true));
  return bytes;
}

/** `n` samples of a 220 Hz tone at 16 kHz. */
const tone = n => Float32Array.from({ length: n }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 220 * i) / 16000));

export const catalogue = [
  // ---- one row: predict()
  {
    kind: 'row too short',
    code: 'BAD_INPUT',
    call: c => c.model.predict(new Float32Array(63)),
    message: /expected 64 raw features, got 63 values/,
  },
  {
    kind: 'row too long',
    code: 'BAD_INPUT',
    call: c => c.model.predict(new Float32Array(65)),
    message: /expected 64 raw features, got 65 values/,
  },
  { kind: 'empty input', code: 'BAD_INPUT', call: c => c.model.predict(new Float32Array(0)), message: /got 0 values/ },
  { kind: 'empty array', code: 'BAD_INPUT', call: c => c.model.predict([]), message: /got 0 values/ },
  { kind: 'a string', code: 'BAD_INPUT', call: c => c.model.predict('0,1,2'), message: /got a string \("0,1,2"\)/ },
  { kind: 'null', code: 'BAD_INPUT', call: c => c.model.predict(null), message: /got null/ },
  { kind: 'undefined', code: 'BAD_INPUT', call: c => c.model.predict(undefined), message: /got undefined/ },
  { kind: 'an object', code: 'BAD_INPUT', call: c => c.model.predict({ length: 64 }), message: /got an object/ },
  { kind: 'a number', code: 'BAD_INPUT', call: c => c.model.predict(7), message: /got a number \(7\)/ },
  {
    kind: 'nested array of the wrong shape',
    code: 'BAD_INPUT',
    call: c => c.model.predict([Array.from(c.good)]),
    message: /input\[0\] is not a number.*got an array of 64 items/,
  },
  {
    kind: 'a string inside the row',
    code: 'BAD_INPUT',
    call: c => c.model.predict(Array.from(c.good, (v, i) => (i === 4 ? '4' : v))),
    message: /input\[4\] is not a number.*got a string/,
  },
  {
    kind: 'NaN',
    code: 'BAD_INPUT',
    call: c =>
      c.model.predict(
        row(c, r => {
          r[9] = NaN;
        }),
      ),
    message: /input\[9\] is not a finite number.*got NaN/,
  },
  {
    kind: 'Infinity',
    code: 'BAD_INPUT',
    call: c =>
      c.model.predict(
        row(c, r => {
          r[2] = -Infinity;
        }),
      ),
    message: /input\[2\] is not a finite number.*got -inf/i,
  },
  {
    kind: 'a value outside the manifest range',
    code: 'BAD_INPUT',
    call: c =>
      c.model.predict(
        row(c, r => {
          r[5] = 300;
        }),
      ),
    message: /input\[5\].*expected .*0.*16.*got 300/,
  },
  {
    kind: 'Float64Array (rounded to float32: accepted)',
    accept: true,
    call: c => c.model.predict(Float64Array.from(c.good)),
  },
  {
    kind: 'Int32Array within +-2^24 (exact: accepted)',
    accept: true,
    call: c => c.model.predict(Int32Array.from(c.good)),
  },
  {
    kind: 'Int32Array beyond +-2^24 (inexact in float32)',
    code: 'BAD_INPUT',
    call: c => c.model.predict(Int32Array.from(c.good, (v, i) => (i === 3 ? 16777217 : v))),
    message: /16777217/,
  },
  {
    kind: 'BigInt64Array',
    code: 'BAD_INPUT',
    call: c => c.model.predict(new BigInt64Array(64)),
    message: /got BigInt64Array\(64\)/,
  },

  // ---- batches: predictBatch()
  {
    kind: 'ragged rows in a batch',
    code: 'BAD_INPUT',
    call: c => c.model.predictBatch([Array.from(c.good), Array.from(c.good).slice(1)]),
    message: /rows\[1\].*expected 64 raw features, got 63/,
  },
  {
    kind: 'a bad value deep in a batch',
    code: 'BAD_INPUT',
    call: c => c.model.predictBatch([Array.from(c.good), Array.from(c.good, (v, i) => (i === 2 ? NaN : v))]),
    message: /rows\[1\]\[2\] is not a finite number/,
  },
  {
    kind: 'a flat batch that is not whole rows',
    code: 'BAD_INPUT',
    call: c => c.model.predictBatch(new Float32Array(64 * 3 + 5)),
    message: /a multiple of 64 values.*got 197 values/,
  },
  {
    kind: 'a batch over the manifest size limit',
    code: 'BAD_INPUT',
    call: c => c.model.predictBatch(new Float32Array(64 * 100_001)),
    message: /size limit.*at most 100000 rows.*got 100001 rows/,
  },
  {
    kind: 'chunkSize out of range',
    code: 'BAD_INPUT',
    call: c => c.model.predictBatch(new Float32Array(64), { chunkSize: 0 }),
    message: /chunkSize is out of range/,
  },
  {
    kind: 'options that are not an object',
    code: 'BAD_INPUT',
    call: c => c.model.predictBatch(new Float32Array(64), 'fast'),
    message: /options are not an object/,
  },

  // ---- CSV: predictCsv()
  {
    kind: 'CSV with a missing column',
    code: 'BAD_INPUT',
    call: c =>
      c.model.predictCsv(
        csvWith(c, ls => ls.forEach(l => l.splice(3, 1))),
        { labelColumn: 'label' },
      ),
    message: /wrong number of feature columns.*expected 64.*got 63/,
  },
  {
    kind: 'CSV with a non-numeric cell',
    code: 'BAD_INPUT',
    call: c =>
      c.model.predictCsv(
        csvWith(c, ls => {
          ls[2][7] = 'seven';
        }),
        { labelColumn: 'label' },
      ),
    message: /CSV line 3, column "p7" is not a number.*got "seven"/,
  },
  {
    kind: 'CSV with ragged rows',
    code: 'BAD_INPUT',
    call: c =>
      c.model.predictCsv(
        csvWith(c, ls => ls[3].pop()),
        { labelColumn: 'label' },
      ),
    message: /line 4/,
  },
  {
    kind: 'CSV with an unknown label column',
    code: 'BAD_INPUT',
    call: c => c.model.predictCsv(c.csv, { labelColumn: 'truth' }),
    message: /truth/,
  },
  {
    kind: 'CSV with a BOM (accepted)',
    accept: 'csv',
    call: c => c.model.predictCsv(`\uFEFF${c.csv}`, { labelColumn: 'label' }),
  },
  {
    kind: 'CSV with CRLF line ends (accepted)',
    accept: 'csv',
    call: c => c.model.predictCsv(c.csv.replaceAll('\n', '\r\n'), { labelColumn: 'label' }),
  },

  // ---- model files: fromBytes()
  {
    kind: 'a truncated ONNX file',
    code: 'MODEL_LOAD',
    call: c => c.fromBytes(c.onnx.slice(0, c.onnx.length >> 1)),
    message: /ONNX/,
  },
  {
    kind: 'a corrupt ONNX file',
    code: 'MODEL_LOAD',
    call: c => c.fromBytes(c.onnx.map((b, i) => (i > 16 && i % 7 === 0 ? b ^ 0x5a : b))),
    message: /ONNX/,
  },
  {
    kind: 'an ONNX Unsqueeze with an axis outside its output',
    code: 'MODEL_LOAD',
    call: c => c.fromBytes(c.fuzzedOnnx),
    message: /\(Unsqueeze\): expected the axes of the output within -2\.\.2 \(a tensor of rank 2\), got 38/,
  },
  {
    kind: 'a file that is not ONNX',
    code: 'MODEL_LOAD',
    call: c => c.fromBytes(new TextEncoder().encode('<!doctype html><title>404</title>')),
    message: /ONNX/,
  },
  {
    kind: 'bytes that are a string',
    code: 'BAD_INPUT',
    layers: ['main'],
    call: c => c.fromBytes('model.onnx'),
    message: /expected a Uint8Array or an ArrayBuffer, got a string/,
  },
  {
    kind: 'a wrong sha256',
    code: 'INTEGRITY',
    call: c =>
      c.fromBytes(
        c.onnx,
        withManifest(c, m => {
          m.sha256 = '0'.repeat(64);
        }),
      ),
    message: /expected the sha256 in the manifest, 0{64}, found [0-9a-f]{64}/,
  },
  {
    kind: 'a manifest with a missing field',
    code: 'BAD_MANIFEST',
    call: c =>
      c.fromBytes(
        c.onnx,
        withManifest(c, m => {
          delete m.outputs;
        }),
      ),
    message: /outputs/,
  },
  {
    kind: 'a manifest field of the wrong type',
    code: 'BAD_MANIFEST',
    call: c =>
      c.fromBytes(
        c.onnx,
        withManifest(c, m => {
          m.version = 1;
        }),
      ),
    message: /`version`/,
  },
  {
    kind: 'a manifest with an unknown dtype',
    code: 'BAD_MANIFEST',
    call: c =>
      c.fromBytes(
        c.onnx,
        withManifest(c, m => {
          m.inputs[0].dtype = 'float128';
        }),
      ),
    message: /inputs\[0\]\.dtype.*float128/,
  },
  {
    kind: 'a manifest shape that does not match the graph',
    code: 'BAD_MANIFEST',
    call: c =>
      c.fromBytes(
        c.onnx,
        withManifest(c, m => {
          m.inputs[0].shape = ['N', 65];
        }),
      ),
    message: /inputs\[0\]\.shape.*expected \[N, 64\].*found \[N, 65\]/,
  },
  {
    kind: 'a manifest that is not an object',
    code: 'BAD_INPUT',
    call: c => c.fromBytes(c.onnx, 'manifest.json'),
    message: /manifest is not an object/,
  },
  {
    kind: 'an unknown model name',
    code: 'UNKNOWN_MODEL',
    call: c => c.load('digits-huge'),
    // The full build of the npm package also lists the text packages shipped beside its wasm.
    message:
      /unknown model 'digits-huge': expected one of \["digits-accurate", "digits-fast"(, "minilm", "minilm-int8", "ocr", "vad")?\], got 'digits-huge'/,
  },

  // ---- text: embed(), tokenize(), a text package's tokenizer
  {
    kind: 'a number as text',
    text: true,
    code: 'BAD_INPUT',
    call: c => c.text.embed(42),
    message: /texts are not text.*got a number \(42\)/,
  },
  {
    kind: 'null as text',
    text: true,
    code: 'BAD_INPUT',
    call: c => c.text.embed(null),
    message: /texts are not text.*got null/,
  },
  {
    kind: 'an array of texts with a number',
    text: true,
    code: 'BAD_INPUT',
    call: c => c.text.embed(['fine', 3]),
    message: /texts\[1\] is not a string.*got a number \(3\)/,
  },
  {
    kind: 'an empty array of texts',
    text: true,
    code: 'BAD_INPUT',
    call: c => c.text.embed([]),
    message: /texts is empty.*got an empty array/,
  },
  {
    kind: 'a text with a lone surrogate',
    text: true,
    code: 'BAD_INPUT',
    call: c => c.text.embed('bad \uD800 half'),
    message: /text has a lone surrogate at index 4/,
  },
  {
    kind: 'a lone low surrogate in a list',
    text: true,
    code: 'BAD_INPUT',
    call: c => c.text.embed(['ok', 'x\uDC00']),
    message: /texts\[1\] has a lone surrogate at index 1/,
  },
  {
    kind: 'more texts than the package takes in one call',
    text: true,
    code: 'BAD_INPUT',
    withinMs: 5000,
    call: c => c.text.embed(new Array(4097).fill('x')),
    message: /too many texts for one call.*at most 4096.*got 4097/,
  },
  {
    kind: 'a 1 MB text (truncated to maxLength tokens: accepted)',
    text: true,
    accept: 'text',
    withinMs: 10000,
    call: c => c.text.embed('lorem ipsum dolor '.repeat(60000)),
  },
  {
    kind: 'tokenize() of a number',
    text: true,
    code: 'BAD_INPUT',
    call: c => c.text.tokenize(7),
    message: /text is not a string.*got a number \(7\)/,
  },
  {
    kind: 'a row of numbers to a text model',
    text: true,
    code: 'BAD_INPUT',
    call: c => c.text.predict(Float32Array.from(c.good)),
    message: /input is not text.*expected a string \(this is a text model\), got Float32Array\(64\)/,
  },
  {
    kind: 'text to a model of rows',
    code: 'BAD_INPUT',
    call: c => c.model.embed('hello'),
    message: /model 'digits-accurate' takes no text.*expected a text model/,
  },
  {
    kind: 'a text package without its tokenizer',
    text: true,
    code: 'MODEL_LOAD',
    call: c => c.fromText(c.textFiles.onnx, c.textFiles.manifest),
    message: /tokenizer\.json is missing/,
  },
  {
    kind: "a tokenizer that is not the manifest's",
    text: true,
    code: 'INTEGRITY',
    call: c => c.fromText(c.textFiles.onnx, c.textFiles.manifest, new Uint8Array([...c.textFiles.tokenizer, 10])),
    message: /tokenizer\.json.*expected the sha256 in the manifest/,
  },
  {
    kind: 'a broken tokenizer.json',
    text: true,
    code: 'MODEL_LOAD',
    call: c => withTokenizer(c, c.textFiles.tokenizer.slice(0, 5000)),
    message: /tokenizer\.json cannot be used/,
  },
  {
    kind: 'a tokenizer.json with more tokens than the model',
    text: true,
    code: 'MODEL_LOAD',
    call: c => withTokenizer(c, grownTokenizer(c, 5)),
    message:
      /expected at most 30522 tokens \(the rows of the model's embedding table for input "input_ids"\), got a tokenizer of 30527 tokens/,
  },

  // ---- run() on named tensors
  {
    kind: 'run() without a needed input',
    code: 'BAD_INPUT',
    layers: ['main'],
    call: c => c.run({}),
    message: /input "\w+" is missing/,
  },
  {
    kind: 'run() with an input of the wrong dtype',
    code: 'BAD_INPUT',
    layers: ['main'],
    call: c => c.run({ ...c.runInputs, [c.runFirst]: new Int32Array(c.runInputs[c.runFirst].length) }),
    message: /has the wrong element type/,
  },
  {
    kind: 'run() with an input the model lacks',
    code: 'BAD_INPUT',
    layers: ['main'],
    call: c => c.run({ ...c.runInputs, nope: new Float32Array(1) }),
    message: /"nope" is not an input of the model/,
  },

  // ---- streams and lifetimes
  {
    kind: 'a stream fed a bad item in the middle (the stream goes on)',
    accept: 'stream',
    call: c => streamOf(c.model, [row(c), 'oops', row(c)]),
  },
  {
    kind: 'use after free()',
    code: 'BAD_INPUT',
    spoils: true,
    call: async c => {
      const m = await c.fresh();
      await c.dispose(m);
      return m.predict(row(c));
    },
    message: /after free\(\)|terminated/,
  },

  // ---- JavaScript values that throw, or cannot be read (see also tests/catalogue/js-values.mjs)
  {
    kind: 'a detached Float32Array (its buffer transferred)',
    code: 'BAD_INPUT',
    call: c => {
      const r = row(c);
      structuredClone(r.buffer, { transfer: [r.buffer] });
      return c.model.predict(r);
    },
    message: /detached/,
  },
  {
    kind: 'model bytes in a detached ArrayBuffer',
    code: 'BAD_INPUT',
    call: c => {
      const b = c.onnx.slice().buffer;
      structuredClone(b, { transfer: [b] });
      return c.fromBytes(b);
    },
    message: /detached/,
  },
  {
    kind: 'a row whose element getter throws',
    code: 'BAD_INPUT',
    call: c => c.model.predict(throwingAt(c, 7, 'row getter exploded')),
    message: /could not be read.*row getter exploded/s,
    messages: { worker: /could not be (read|sent to the worker)/ },
  },
  {
    kind: 'a Proxy of a row whose get trap throws',
    code: 'BAD_INPUT',
    call: c =>
      c.model.predict(
        new Proxy(Array.from(c.good), {
          get() {
            throw new Error('get trap exploded');
          },
        }),
      ),
    message: /could not be read.*get trap exploded/s,
    messages: { worker: /could not be (read|sent to the worker)/ },
  },
  {
    kind: 'a revoked Proxy',
    code: 'BAD_INPUT',
    call: c => {
      const { proxy, revoke } = Proxy.revocable(Array.from(c.good), {});
      revoke();
      return c.model.predict(proxy);
    },
    message: /could not be read.*revoked/s,
    messages: { worker: /could not be (read|sent to the worker)/ },
  },
  {
    kind: 'a batch whose rows throw when read',
    code: 'BAD_INPUT',
    call: c => {
      const rows = [Array.from(c.good), Array.from(c.good)];
      Object.defineProperty(rows, 1, {
        get() {
          throw new Error('batch row exploded');
        },
        enumerable: true,
      });
      return c.model.predictBatch(rows);
    },
    message: /could not be read.*batch row exploded/s,
    messages: { worker: /could not be (read|sent to the worker)/ },
  },
  {
    kind: 'CSV text that is an object whose toString throws (never called)',
    code: 'BAD_INPUT',
    call: async c => {
      let called = false;
      const text = {
        toString() {
          called = true;
          throw new Error('toString exploded');
        },
      };
      try {
        return await c.model.predictCsv(text, { labelColumn: 'label' });
      } finally {
        // eslint-disable-next-line no-unsafe-finally -- a call of toString() fails the kind, whatever predictCsv did
        if (called) throw new Error('predictCsv called toString() of its argument: expected no coercion, got a call');
      }
    },
    message: /is not a string/,
    messages: { worker: /is not a string|could not be sent to the worker/ },
  },
  {
    kind: 'options whose chunkSize getter throws',
    code: 'BAD_INPUT',
    call: c =>
      c.model.predictBatch(row(c), {
        get chunkSize() {
          throw new Error('chunkSize getter exploded');
        },
      }),
    message: /could not be read.*chunkSize getter exploded/s,
    messages: { worker: /could not be (read|sent to the worker)/ },
  },
  {
    kind: 'a manifest whose getter throws',
    code: 'BAD_INPUT',
    call: c =>
      c.fromBytes(
        c.onnx,
        Object.defineProperty(structuredClone(c.manifest), 'version', {
          get() {
            throw new Error('manifest getter exploded');
          },
          enumerable: true,
        }),
      ),
    message: /manifest/,
    messages: { worker: /manifest|could not be (read|sent to the worker)/ },
  },
  {
    kind: 'a cyclic manifest',
    code: 'BAD_INPUT',
    call: c =>
      c.fromBytes(
        c.onnx,
        withManifest(c, m => {
          m.preprocessing.self = m;
        }),
      ),
    message: /manifest/,
  },
  {
    kind: 'onProgress that throws (the call rejects with that very error)',
    sameError: true,
    call: (c, own) =>
      c.model.predictBatch(
        Float32Array.from({ length: 64 * 3 }, (_, i) => c.good[i % 64]),
        {
          chunkSize: 1,
          onProgress() {
            throw own;
          },
        },
      ),
  },
  {
    kind: 'onProgress that returns a rejected Promise (the call rejects with its reason)',
    sameError: true,
    call: (c, own) =>
      c.model.predictBatch(
        Float32Array.from({ length: 64 * 3 }, (_, i) => c.good[i % 64]),
        { chunkSize: 1, onProgress: () => rejected(own) },
      ),
  },
  {
    kind: 'a source stream that errors while piped into stream() (pipeTo rejects with its error)',
    sameError: true,
    call: (c, own) => pipeErroring(c, own),
  },
  {
    kind: 'new Array(2**32 - 1) as a row',
    code: 'BAD_INPUT',
    withinMs: 2000,
    call: c => c.model.predict(new Array(2 ** 32 - 1)),
    message: /4294967295/,
  },
  {
    kind: 'new Array(2**32 - 1) as a batch',
    code: 'BAD_INPUT',
    withinMs: 2000,
    call: c => c.model.predictBatch(new Array(2 ** 32 - 1)),
    message: /4294967295/,
  },
  // Audio: the voice-activity package vad. A WorkerModel has no sessions: the page thread only.
  {
    kind: 'a NaN among the samples of a chunk',
    audio: true,
    layers: ['main'],
    code: 'BAD_INPUT',
    call: c => c.audioSession.push(Object.assign(tone(1000), { 5: NaN })),
    message: /chunk \d+ has a sample that is not a finite number at index 5: .*got NaN/,
  },
  {
    kind: 'an empty chunk of audio',
    audio: true,
    layers: ['main'],
    code: 'BAD_INPUT',
    call: c => c.audioSession.push(new Float32Array(0)),
    message: /chunk \d+ is empty: expected at least one sample/,
  },
  {
    kind: 'a chunk of audio of more than 2^20 samples',
    audio: true,
    layers: ['main'],
    code: 'BAD_INPUT',
    call: c => c.audioSession.push(new Float32Array(2 ** 20 + 1)),
    message: /samples has too many values: expected at most 1048576 values, got 1048577/,
    withinMs: 5000,
  },
  {
    kind: 'a string as a chunk of audio',
    audio: true,
    layers: ['main'],
    code: 'BAD_INPUT',
    call: c => c.audioSession.push('hello'),
    message: /samples is not a row of numbers: .*got a string/,
  },
  {
    kind: 'a sample rate of 0',
    audio: true,
    layers: ['main'],
    code: 'BAD_INPUT',
    call: c => c.audio.session({ sampleRate: 0 }),
    message: /sampleRate is not a rate edgeserve takes: expected a whole number of Hz .*got 0/,
  },
  {
    kind: 'a sample rate that is not a whole number',
    audio: true,
    layers: ['main'],
    code: 'BAD_INPUT',
    call: c => c.audio.session({ sampleRate: 16000.5 }),
    message: /sampleRate is not a rate edgeserve takes: .*got 16000\.5/,
  },
  {
    kind: 'samples without their sample rate',
    audio: true,
    layers: ['main'],
    code: 'BAD_INPUT',
    call: c => c.audio.speechSegments(tone(16000)),
    message: /options\.sampleRate is missing/,
  },
  {
    kind: 'a truncated WAV file',
    audio: true,
    layers: ['main'],
    code: 'BAD_INPUT',
    call: c => c.audio.speechSegments(wavFile(tone(16000), 16000).subarray(0, 10001)),
    message: /the WAV file cannot be decoded: expected a RIFF WAVE file/,
  },
  {
    kind: "a WAV file and a sample rate that is not the file's",
    audio: true,
    layers: ['main'],
    code: 'BAD_INPUT',
    call: c => c.audio.speechSegments(wavFile(tone(16000), 16000), { sampleRate: 48000 }),
    message: /options\.sampleRate disagrees with the WAV file/,
  },
  {
    kind: 'a voice-activity threshold out of range',
    audio: true,
    layers: ['main'],
    code: 'BAD_INPUT',
    call: c => c.audio.speechSegments(tone(16000), { sampleRate: 16000, threshold: 1.5 }),
    message: /threshold is out of range: expected a number from 0 to 1, got a number \(1\.5\)/,
  },
  {
    kind: 'a model state of the wrong size given to a session',
    audio: true,
    layers: ['main'],
    code: 'BAD_INPUT',
    call: c => c.audioSession.setState([new Float32Array(127), new Float32Array(128)]),
    message: /state\[0\] has the wrong size: expected 128 values \(shape \[1, 1, 128\]\), got 127/,
  },
  {
    kind: 'a model state with a NaN given to a session',
    audio: true,
    layers: ['main'],
    code: 'BAD_INPUT',
    call: c => c.audioSession.setState([Object.assign(new Float32Array(128), { 9: NaN }), new Float32Array(128)]),
    message: /state\[0\]\[9\] is not finite: .*got NaN/,
  },
  {
    kind: 'a state input of the wrong shape to run()',
    audio: true,
    layers: ['main'],
    code: 'BAD_INPUT',
    call: c =>
      c.audio.run(
        { input: tone(576), h: new Float32Array(127), c: new Float32Array(128) },
        { shapes: { input: [1, 576], h: [1, 1, 128], c: [1, 1, 128] } },
      ),
    message: /input "h" does not fill its shape: expected 128 values for shape \[1, 1, 128\], got 127/,
  },
  {
    kind: 'an AudioBuffer whose getChannelData throws',
    audio: true,
    layers: ['main'],
    code: 'BAD_INPUT',
    call: (c, own) =>
      c.audio.speechSegments({
        numberOfChannels: 1,
        sampleRate: 16000,
        length: 10,
        getChannelData() {
          throw own;
        },
      }),
    message: /audio\.getChannelData\(0\) could not be read: .*the caller's own error/,
  },
  {
    kind: 'a row of numbers to an audio model',
    audio: true,
    layers: ['main'],
    code: 'BAD_INPUT',
    call: c => c.audio.predict(Float32Array.from(c.good)),
    message: /model 'vad' takes audio, not rows: expected audio/,
  },
  {
    kind: 'a session of a model of rows',
    layers: ['main'],
    code: 'BAD_INPUT',
    call: c => c.model.session({ sampleRate: 16000 }),
    message: /model 'digits-accurate' takes no audio: expected an audio model/,
  },
  // Images: a detector (training/image_fixtures.py).
  {
    kind: 'an image of width 0',
    image: true,
    code: 'BAD_INPUT',
    call: c => c.image.detect({ ...c.goodImage, width: 0 }),
    message:
      /^the image's width is not a size edgeserve takes: expected a whole number of pixels from 1 to 16384, got 0$/,
  },
  {
    kind: 'an image larger than the manifest takes (limits.maxImagePixels), refused before its data is read',
    image: true,
    code: 'BAD_INPUT',
    withinMs: 2000,
    call: c => c.image.detect({ data: new Uint8Array(3), width: 16384, height: 16384, channels: 3 }),
    message:
      /^the image is larger than the model takes: expected at most 67108864 pixels \(limits\.maxImagePixels\), got 16384 x 16384$/,
  },
  {
    kind: 'an image of 2 channels',
    image: true,
    code: 'BAD_INPUT',
    call: c => c.image.detect({ ...c.goodImage, channels: 2 }),
    message:
      /^the image's channels are not a count edgeserve takes: expected 1 \(gray\), 3 \(RGB\) or 4 \(RGBA\), got 2$/,
  },
  {
    kind: 'an image whose data is a byte short',
    image: true,
    code: 'BAD_INPUT',
    call: c => c.image.detect({ ...c.goodImage, data: c.goodImage.data.slice(1) }),
    message:
      /^the image's data has the wrong length: expected 17751 bytes \(97 x 61 pixels, 3 channels each\), got 17750 bytes$/,
  },
  {
    kind: 'an image whose data is float32, not bytes',
    image: true,
    code: 'BAD_INPUT',
    call: c => c.image.detect({ ...c.goodImage, data: new Float32Array(c.goodImage.data) }),
    message: /^image\.data is not 8-bit pixels: expected a Uint8Array or a Uint8ClampedArray/,
  },
  {
    kind: 'an image without data',
    image: true,
    code: 'BAD_INPUT',
    call: c => c.image.detect({ width: 97, height: 61, channels: 3 }),
    message: /^image\.data is missing: expected an image/,
  },
  {
    kind: 'a string as an image',
    image: true,
    code: 'BAD_INPUT',
    call: c => c.image.detect('photo.jpg'),
    message: /^image is not an image: expected an image: .*got a string \("photo\.jpg"\)$/,
  },
  {
    kind: 'an image whose data buffer is detached (transferred)',
    image: true,
    layers: ['main'],
    code: 'BAD_INPUT',
    call: c => {
      const data = c.goodImage.data.slice();
      structuredClone(data.buffer, { transfer: [data.buffer] });
      return c.image.detect({ ...c.goodImage, data });
    },
    message: /image\.data is detached/,
  },
  {
    kind: 'an image whose width getter throws',
    image: true,
    layers: ['main'],
    code: 'BAD_INPUT',
    call: c =>
      c.image.detect({
        ...c.goodImage,
        get width() {
          throw new Error('no width here');
        },
      }),
    message: /image\.width could not be read: .*no width here/,
  },
  {
    kind: 'an image to a model that is not a detector',
    image: true,
    code: 'BAD_INPUT',
    call: c => c.model.detect(c.goodImage),
    message:
      /^model 'digits-accurate' is not a detector: expected a model whose task is detection, got "classification"$/,
  },
  {
    kind: 'an image to read text in, given to a model that does not read text',
    image: true,
    code: 'BAD_INPUT',
    call: c => c.model.readText(c.goodImage),
    message: /^model 'digits-accurate' does not read text: expected a model whose task is ocr, got "classification"$/,
  },
];

/** Checks an entry's outcome; returns null when it is right, else what is wrong. */
async function judge(entry, ctx, outcome, layer = 'main') {
  if (entry.withinMs !== undefined && outcome.ms > entry.withinMs)
    return `expected an answer within ${entry.withinMs} ms, took ${Math.round(outcome.ms)} ms`;
  if (entry.sameError) {
    if (outcome.ok) return 'expected the call to reject with the error its callback threw, got a result';
    return outcome.error === outcome.own
      ? null
      : `expected the call to reject with the error its callback threw (as is), got ${outcome.error?.code ?? 'no code'}: ${outcome.error?.message ?? String(outcome.error)}`;
  }
  if (entry.accept) {
    if (!outcome.ok) return `expected it to be accepted, got ${outcome.error?.code}: ${outcome.error?.message}`;
    const r = outcome.value;
    if (entry.accept === true) return ctx.sameAsGolden(r);
    if (entry.accept === 'csv') return r.rows === ctx.csvRows ? null : `expected ${ctx.csvRows} rows, got ${r.rows}`;
    if (entry.accept === 'text')
      return r.count === 1 && r.dim === 384 ? null : `expected one vector of 384, got ${r.count} of ${r.dim}`;
    if (entry.accept === 'stream') {
      const [a, bad, b] = r;
      if (r.length !== 3) return `expected 3 outputs, got ${r.length}`;
      if (!(bad.error instanceof Error) || bad.error.code !== 'BAD_INPUT' || !WHAT_EXPECTED_GOT.test(bad.error.message))
        return `expected item 1 to carry a BAD_INPUT Error, got ${JSON.stringify(bad)}`;
      return ctx.sameAsGolden(a.prediction) ?? ctx.sameAsGolden(b.prediction);
    }
  }
  if (outcome.ok) return `expected an Error with code ${entry.code}, got a result`;
  const e = outcome.error;
  if (!(e instanceof Error)) return `expected an Error, got ${typeof e}: ${String(e)}`;
  if (e.code !== entry.code) return `expected code ${entry.code}, got ${e.code}: ${e.message}`;
  const message = entry.messages?.[layer] ?? entry.message;
  if (!message.test(e.message)) return `expected a message like ${message}, got: ${e.message}`;
  if (!WHAT_EXPECTED_GOT.test(e.message))
    return `expected the message to say what was expected and what came, got: ${e.message}`;
  return null;
}

/** Whether the audio session still has `before` as its state and runs a frame: null when it does. */
function audioProblem(ctx, before) {
  const after = ctx.audioSession.state;
  if (after.length !== before.length || after.some((a, i) => a.some((x, j) => x !== before[i][j])))
    return "after it, the session's state has changed";
  const step = ctx.audioSession.push(tone(512));
  const p = step.probabilities;
  return p.length === 1 && p[0] >= 0 && p[0] <= 1
    ? null
    : `after it, the session runs no frame: ${JSON.stringify(step)}`;
}

/** Whether the detector still finds its 4 boxes in the good image: null when it does. */
async function imageProblem(ctx) {
  const { boxes } = await ctx.image.detect(ctx.goodImage);
  return boxes.length === 4 ? null : `after it, the detector finds ${boxes.length} boxes, not 4`;
}

/**
 * Runs every entry that applies to `layer` ('main' or 'worker'); after each, checks that a good
 * prediction still matches the golden output. Returns one record per entry:
 * { kind, code, message, problem } (problem null when right).
 */
export async function runCatalogue(ctx, layer) {
  const results = [];
  for (const entry of catalogue.filter(e => (e.layers ?? ['main', 'worker']).includes(layer))) {
    let outcome;
    const own = new Error(`the caller's own error (${entry.kind})`);
    const stateBefore = entry.audio ? ctx.audioSession.state : null;
    const started = Date.now();
    try {
      outcome = { ok: true, value: await entry.call(ctx, own) };
    } catch (error) {
      outcome = { ok: false, error };
    }
    Object.assign(outcome, { own, ms: Date.now() - started });
    let problem = await judge(entry, ctx, outcome, layer);
    if (!problem) {
      try {
        problem = ctx.sameAsGolden(await ctx.model.predict(row(ctx)));
        if (problem) problem = `after it, the model is harmed: ${problem}`;
        const embedded = entry.text ? await ctx.text.embed('still serving') : null;
        if (embedded && !(embedded.count === 1 && embedded.dim === 384))
          problem = 'after it, the text model embeds no more';
        if (entry.audio) problem ??= audioProblem(ctx, stateBefore);
        if (entry.image) problem ??= await imageProblem(ctx);
      } catch (e) {
        problem = `after it, a good prediction failed: ${e.message}`;
      }
    }
    const rethrown = !outcome.ok && outcome.error === own;
    results.push({
      kind: entry.kind,
      code: outcome.ok ? 'accepted' : rethrown ? 'its own error, as is' : outcome.error?.code,
      message: outcome.ok || rethrown ? '' : outcome.error?.message,
      problem,
    });
  }
  return results;
}
