// Runs the README's Node example as a user would: the built package installed as
// node_modules/edgeserve of a fresh project, the code block copied from README.md verbatim.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { edgeserve, root, pkgDir, golden } from './helpers.mjs';

function readmeBlock(containing) {
  const readme = readFileSync(`${root}README.md`, 'utf8');
  const blocks = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map(m => m[1]);
  const block = blocks.find(b => b.includes(containing));
  assert.ok(block, `README.md has a js block with ${containing}`);
  return block;
}

/** Runs a README block as example.mjs of a fresh project with the package installed. */
function runAsUser(block, prepare = () => {}) {
  const dir = mkdtempSync(join(tmpdir(), 'edgeserve-readme-'));
  prepare(dir);
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(pkgDir, join(dir, 'node_modules', 'edgeserve'), 'dir');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }));
  writeFileSync(join(dir, 'example.mjs'), block);
  return execFileSync(process.execPath, ['example.mjs'], { cwd: dir, encoding: 'utf8' });
}

test('the README Node example runs against the built package', () => {
  const out = runAsUser(readmeBlock('initSync'));
  const expected = golden('digits-accurate').cases[0].expected;
  const [first, second] = out.trim().split('\n');
  assert.match(
    first,
    new RegExp(
      `^digits-accurate says ${expected.label} \\(p=${expected.scores[expected.index].toFixed(3)}\\) in \\d+\\.\\d{3} ms$`,
    ),
  );
  assert.equal(second, 'BAD_INPUT input has the wrong length: expected 64 raw features, got 63 values');
});

test('the README text example finds the sentence closest to its query', () => {
  const models = process.env.EDGESERVE_TEXT_MODELS ?? `${root}target/models-text`;
  const out = runAsUser(readmeBlock('model.embed('), dir =>
    symlinkSync(`${models}/minilm-int8`, join(dir, 'minilm-int8'), 'dir'),
  );
  const [first, second] = out.trim().split('\n');
  assert.match(first, /^A man is playing a guitar\. \(0\.\d\d, \d+\.\d ms\)$/);
  assert.equal(second, '[CLS] hello world [SEP]');
});

test('the README browser example uses the names the package exports', async () => {
  const block = readmeBlock('await init()');
  const dts = readFileSync(`${pkgDir}edgeserve.d.ts`, 'utf8');
  for (const name of ['names', 'load', 'default', 'manifest', 'predict']) {
    assert.ok(block.includes(`.${name}`), `the example calls ${name}`);
    assert.match(dts, new RegExp(`\\b${name}\\b`), `the .d.ts declares ${name}`);
  }
});

test('the README lean example runs against the built package (edgeserve/lean)', async () => {
  const out = runAsUser(readmeBlock("from 'edgeserve/lean';"));
  const [first, second] = out.trim().split('\n');
  // A blank image: the lean build must say what the full one says.
  const full = (await edgeserve()).Model.default();
  assert.equal(first, `digits-accurate rows 1 ${full.predict(new Float32Array(64)).label}`);
  full.free();
  assert.equal(second, 'MODEL_LOAD');
});
