// The bad-input catalogue (tests/catalogue/bad-input.mjs) through the npm package (wasm) in Node:
// each kind gets its documented error, and a good prediction matches the golden output after it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { edgeserve, golden, root, TOLERANCE } from './helpers.mjs';
import { catalogue, runCatalogue } from '../catalogue/bad-input.mjs';

const { Model } = await edgeserve();

test('every kind of bad input in the catalogue gets its documented error; the model stays good', async () => {
  const { cases } = golden('digits-accurate');
  const good = cases[0];
  const multiIo = await Model.fromBytes(readFileSync(`${root}tests/fixtures/onnx/multi_io.onnx`));
  const multiSpec = JSON.parse(readFileSync(`${root}tests/fixtures/onnx/multi_io.json`, 'utf8'));
  const runInputs = {
    a: Float32Array.from(multiSpec.inputs.a.data),
    b: BigInt64Array.from(multiSpec.inputs.b.data.map(BigInt)),
  };
  const textDir = `${process.env.EDGESERVE_TEXT_MODELS ?? `${root}target/models-text`}/minilm-int8/`;
  const textFiles = {
    onnx: new Uint8Array(readFileSync(`${textDir}model.onnx`)),
    manifest: JSON.parse(readFileSync(`${textDir}manifest.json`, 'utf8')),
    tokenizer: new Uint8Array(readFileSync(`${textDir}tokenizer.json`)),
  };
  const audio = await Model.load('vad'); // shipped beside the wasm (make models-audio, make pkg)
  const imageDir = `${root}tests/fixtures/image/`;
  const ctx = {
    image: await Model.fromBytes(
      readFileSync(`${imageDir}detector-yolov8.onnx`),
      JSON.parse(readFileSync(`${imageDir}detector-yolov8.manifest.json`, 'utf8')),
    ),
    goodImage: { data: new Uint8Array(readFileSync(`${imageDir}rgb.97x61x3.raw`)), width: 97, height: 61, channels: 3 },
    audio,
    audioSession: audio.session({ sampleRate: 16000 }),
    text: await Model.fromBytes(textFiles.onnx, textFiles.manifest, { tokenizer: textFiles.tokenizer }),
    textFiles,
    fromText: async (onnx, manifest, tokenizer) =>
      (await Model.fromBytes(onnx, manifest, tokenizer ? { tokenizer } : undefined)).free(),
    sha256: async bytes => Buffer.from(await crypto.subtle.digest('SHA-256', bytes)).toString('hex'),
    model: Model.load('digits-accurate'),
    fromBytes: (bytes, manifest) => Model.fromBytes(bytes, manifest),
    load: async name => Model.load(name),
    fresh: async () => Model.load('digits-accurate'),
    dispose: m => m.free(),
    run: inputs => multiIo.run(inputs),
    runInputs,
    runFirst: 'a',
    onnx: new Uint8Array(readFileSync(`${root}models/digits-fast/model.onnx`)),
    manifest: JSON.parse(readFileSync(`${root}models/digits-fast/manifest.json`, 'utf8')),
    fuzzedOnnx: new Uint8Array(readFileSync(`${root}tests/fixtures/fuzz/package/unsqueeze-axis-outside-rank.onnx`)),
    good: good.input,
    csv: readFileSync(`${root}www/data/digits-test.csv`, 'utf8').split('\n').slice(0, 4).join('\n'),
    csvRows: 3,
    sameAsGolden(p) {
      if (p?.label !== good.expected.label) return `expected label ${good.expected.label}, got ${p?.label}`;
      const d = Math.max(...good.expected.scores.map((s, i) => Math.abs(s - p.scores[i])));
      return d <= TOLERANCE ? null : `scores off the golden output by ${d}`;
    },
  };
  const results = await runCatalogue(ctx, 'main');
  const problems = results.filter(r => r.problem).map(r => `${r.kind}: ${r.problem}`);
  assert.deepEqual(problems, []);
  assert.ok(results.length >= 25, `${results.length} kinds`);
  assert.equal(results.length, catalogue.filter(e => (e.layers ?? ['main', 'worker']).includes('main')).length);
  console.log(`bad-input catalogue (wasm in Node): ${results.length} kinds, every one as documented`);
});

test('every malformed ONNX file a fuzzer or training/malformed.py made is refused in wasm, and the module keeps working', async () => {
  const { cases } = golden('digits-accurate');
  const model = Model.load('digits-accurate');
  const dir = `${root}tests/fixtures/fuzz/package/`;
  const files = readdirSync(dir)
    .filter(f => f.endsWith('.onnx'))
    .sort();
  assert.ok(files.length >= 30, `${files.length} files`);
  for (const file of files) {
    await assert.rejects(
      Model.fromBytes(new Uint8Array(readFileSync(dir + file))),
      e => {
        assert.equal(e.code, 'MODEL_LOAD', `${file}: ${e.message}`);
        if (file.startsWith('op-'))
          assert.match(e.message.toLowerCase(), new RegExp(`\\(${file.split('-')[1]}\\): expected `), file);
        return true;
      },
      file,
    );
    const p = model.predict(Float32Array.from(cases[0].input));
    assert.equal(p.label, cases[0].expected.label, `after ${file}`);
  }
  model.free();
  console.log(`malformed ONNX (wasm in Node): ${files.length} files refused, the module unharmed`);
});
