// Text models through the built npm package in Node: minilm and minilm-int8 (made by `make
// models-text` into target/models-text, or EDGESERVE_TEXT_MODELS) loaded with
// Model.fromBytes(onnx, manifest, { tokenizer }), against the references recorded with them:
// the Python tokenizers' ids, masks and type ids on tests/text/corpus.json (exact), onnxruntime's
// sentence embeddings of the golden texts; then the bad input a text model must refuse, each
// with a code, the model serving on. Natively: tests/text.rs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { edgeserve, root } from './helpers.mjs';
import { cosine } from '../common/raw.mjs';

const { Model } = await edgeserve();
const base = process.env.EDGESERVE_TEXT_MODELS ?? `${root}target/models-text`;
const file = (name, f) => readFileSync(`${base}/${name}/${f}`);
const json = (name, f) => JSON.parse(file(name, f).toString('utf8'));

async function load(name) {
  return Model.fromBytes(file(name, 'model.onnx'), json(name, 'manifest.json'), {
    tokenizer: file(name, 'tokenizer.json'),
  });
}

const int8 = await load('minilm-int8');

test('tokenize() equals the Python tokenizers on every text of the corpus', () => {
  const corpus = JSON.parse(readFileSync(`${root}tests/text/corpus.json`, 'utf8'));
  const expected = json('minilm-int8', 'parity.json').encodings;
  assert.ok(corpus.length >= 500 && expected.length === corpus.length);
  const differ = [];
  corpus.forEach((text, i) => {
    const t = int8.tokenize(text);
    assert.ok(t.ids instanceof Uint32Array && t.offsets instanceof Uint32Array);
    const same = (a, b) => a.length === b.length && a.every((v, k) => v === b[k]);
    if (
      !same(t.ids, expected[i].ids) ||
      !same(t.attentionMask, expected[i].attentionMask) ||
      !same(t.tokenTypeIds, expected[i].typeIds)
    ) {
      differ.push(JSON.stringify(text));
    }
  });
  assert.deepEqual(differ, [], `${differ.length} of ${corpus.length} texts differ`);
  // Offsets are string indices: each word token's span is its text.
  const text = 'Héllo 😀 wörld';
  const t = int8.tokenize(text);
  const spans = t.tokens.map((_, k) => text.slice(t.offsets[2 * k], t.offsets[2 * k + 1]));
  assert.deepEqual(t.tokens, ['[CLS]', 'hello', '[UNK]', 'world', '[SEP]']);
  assert.deepEqual(spans, ['', 'Héllo', '😀', 'wörld', '']);
});

for (const [name, bounds] of [
  ['minilm', { cos: 0.99999, batch: 0.99999 }],
  ['minilm-int8', { cos: 0.995, batch: 0.95 }],
]) {
  test(`${name}: embed() matches onnxruntime, text by text and as one batch`, async () => {
    const model = name === 'minilm-int8' ? int8 : await load(name);
    const rows = json(name, 'golden.json').texts;
    assert.ok(rows.length >= 50);
    const batch = model.embed(rows.map(r => r.text));
    assert.equal(batch.count, rows.length);
    assert.equal(batch.dim, 384);
    assert.ok(batch.data instanceof Float32Array && batch.data.length === rows.length * 384);
    assert.ok(batch.latencyMs > 0);
    let worst = 1,
      worstBatch = 1;
    rows.forEach((r, i) => {
      const one = model.embed(r.text);
      assert.equal(one.count, 1);
      worst = Math.min(worst, cosine(one.data, r.embedding));
      worstBatch = Math.min(worstBatch, cosine(batch.data.subarray(i * 384, (i + 1) * 384), r.embedding));
    });
    assert.ok(worst >= bounds.cos, `min cosine ${worst}`);
    assert.ok(worstBatch >= bounds.batch, `batched, min cosine ${worstBatch}`);
    const latency = model.latency();
    assert.equal(latency.realtime.count, rows.length);
    assert.equal(latency.batch.count, rows.length);
    if (model !== int8) model.free();
  });
}

test('a paraphrase ranks its sentence first', () => {
  const docs = [
    'A man is playing a guitar.',
    'The stock market fell sharply today.',
    'A cat sleeps on the sofa.',
    'How do I reset my password?',
  ];
  const d = int8.embed(docs);
  const q = int8.embed('Someone strums an acoustic guitar');
  const scores = docs.map((_, i) => cosine(q.data, d.data.subarray(i * 384, (i + 1) * 384)));
  assert.equal(scores.indexOf(Math.max(...scores)), 0, String(scores));
});

test('bad text input is refused with BAD_INPUT and the model keeps serving', () => {
  const cases = [
    [42, /^texts are not text/],
    [null, /^texts are not text/],
    [['ok', 3], /^texts\[1\] is not a string/],
    [[], /^texts is empty/],
    ['bad \uD800 half', /^text has a lone surrogate at index 4/],
    [['fine', 'x\uDC00'], /^texts\[1\] has a lone surrogate at index 1/],
    [new Array(4097).fill('x'), /^too many texts/],
  ];
  for (const [bad, message] of cases) {
    assert.throws(
      () => int8.embed(bad),
      e => e.code === 'BAD_INPUT' && message.test(e.message),
      String(bad).slice(0, 40),
    );
  }
  const throwing = ['a', 'b'];
  Object.defineProperty(throwing, 1, {
    get() {
      throw new Error('boom');
    },
  });
  assert.throws(
    () => int8.embed(throwing),
    e => e.code === 'BAD_INPUT' && /could not be read/.test(e.message),
  );
  assert.throws(
    () => int8.tokenize(7),
    e => e.code === 'BAD_INPUT',
  );
  assert.throws(
    () => int8.predict(new Float32Array(4)),
    e => e.code === 'BAD_INPUT',
  );
  // A megabyte of text is truncated to maxLength tokens, at once.
  const started = performance.now();
  const long = int8.tokenize('lorem ipsum dolor sit amet '.repeat(40000));
  assert.equal(long.ids.length, 256);
  assert.equal(int8.embed(['lorem ipsum '.repeat(100000), 'short']).count, 2);
  assert.ok(performance.now() - started < 10000);
  assert.equal(int8.embed('still serving').count, 1);
});

test("a tokenizer that is broken, not the manifest's, or too large for the model is refused with a code", async () => {
  const onnx = file('minilm-int8', 'model.onnx');
  const manifest = json('minilm-int8', 'manifest.json');
  const tokenizer = file('minilm-int8', 'tokenizer.json');
  const sha = async bytes => Buffer.from(await crypto.subtle.digest('SHA-256', bytes)).toString('hex');
  const withTokenizer = async bytes => {
    const m = structuredClone(manifest);
    m.preprocessing.tokenizer.sha256 = await sha(bytes);
    return Model.fromBytes(onnx, m, { tokenizer: bytes });
  };
  await assert.rejects(
    Model.fromBytes(onnx, manifest, { tokenizer: Buffer.concat([tokenizer, Buffer.from('\n')]) }),
    e => e.code === 'INTEGRITY',
  );
  await assert.rejects(
    withTokenizer(tokenizer.subarray(0, 1000)),
    e => e.code === 'MODEL_LOAD' && /tokenizer\.json cannot be used/.test(e.message),
  );
  const grown = JSON.parse(tokenizer.toString('utf8'));
  for (let i = 0; i < 10; i++) grown.model.vocab[`extra${i}`] = 30522 + i;
  await assert.rejects(
    withTokenizer(Buffer.from(JSON.stringify(grown))),
    e =>
      e.code === 'MODEL_LOAD' &&
      /expected at most 30522 tokens \(the rows of the model's embedding table for input "input_ids"\), got a tokenizer of 30532 tokens/.test(
        e.message,
      ),
  );
  await assert.rejects(
    Model.fromBytes(onnx, manifest),
    e => e.code === 'MODEL_LOAD' && /tokenizer\.json is missing/.test(e.message),
  );
  await assert.rejects(Model.fromBytes(onnx, manifest, { tokenizer: 5 }), e => e.code === 'BAD_INPUT');
  // The tokenizer as JSON text works as well as bytes.
  const again = await Model.fromBytes(onnx, manifest, { tokenizer: tokenizer.toString('utf8') });
  assert.equal(again.embed('hello').dim, 384);
  again.free();
});

test('the serving modes take texts: predict(text), predictBatch(texts, { onProgress }), stream() of texts', async () => {
  const texts = [
    'A man is playing a guitar.',
    'The stock market fell.',
    'A cat sleeps.',
    'Reset my password',
    'Rain all day',
  ];
  const one = int8.predict(texts[0]);
  assert.ok(one.values instanceof Float32Array && one.values.length === 384 && one.latencyMs > 0);
  const progress = [];
  const batch = await int8.predictBatch(texts, { chunkSize: 2, onProgress: p => progress.push(p.done) });
  assert.deepEqual(progress, [2, 4, 5]);
  const values = batch.values;
  assert.equal(batch.rows, 5);
  assert.equal(values.length, 5 * 384);
  assert.ok(cosine(values.subarray(0, 384), one.values) > 0.99);
  batch.free();
  await assert.rejects(
    int8.predictBatch(['fine', 7]),
    e => e.code === 'BAD_INPUT' && /^texts\[1\] is not a string/.test(e.message),
  );
  const stream = int8.stream({ maxBatch: 4, maxWaitMs: 1 });
  const writer = stream.writable.getWriter();
  const reading = (async () => {
    const out = [];
    for await (const o of stream.readable) out.push(o);
    return out;
  })();
  for (const item of [texts[0], new Float32Array(4), texts[2], 'x\uD800']) await writer.write(item);
  await writer.close();
  const outputs = await reading;
  assert.deepEqual(
    outputs.map(o => o.index),
    [0, 1, 2, 3],
  );
  assert.ok(outputs[0].prediction.values.length === 384 && cosine(outputs[0].prediction.values, one.values) > 0.99);
  assert.match(outputs[1].error.message, /^rows\[1\] is a row of numbers/);
  assert.equal(outputs[2].prediction.values.length, 384);
  assert.match(outputs[3].error.message, /^rows\[3\] has a lone surrogate at index 1/);
});

test("a text classifier: predict(text) and predictBatch(texts) give onnxruntime's classes and scores", async () => {
  const dir = `${root}tests/fixtures/text/sentiment/`;
  const model = await Model.fromBytes(
    readFileSync(`${dir}model.onnx`),
    JSON.parse(readFileSync(`${dir}manifest.json`, 'utf8')),
    { tokenizer: readFileSync(`${dir}tokenizer.json`, 'utf8') },
  );
  const { cases } = JSON.parse(readFileSync(`${dir}golden.json`, 'utf8'));
  for (const c of cases) {
    assert.deepEqual(Array.from(model.tokenize(c.text).ids), c.ids, c.text);
    const p = model.predict(c.text);
    assert.equal(p.label, c.label, c.text);
    assert.ok(Math.max(...c.scores.map((s, i) => Math.abs(s - p.scores[i]))) <= 1e-5, c.text);
  }
  const batch = await model.predictBatch(
    cases.map(c => c.text),
    { chunkSize: 4 },
  );
  assert.deepEqual(
    batch.labels,
    cases.map(c => c.label),
  );
  batch.free();
  assert.throws(
    () => model.embed('x'),
    e => e.code === 'BAD_INPUT' && /makes no embeddings/.test(e.message),
  );
  model.free();
});
