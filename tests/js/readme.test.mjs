// Runs the Node examples of README.md and docs/ as a user would: the built package installed as
// node_modules/edgeserve of a fresh project, the code block copied from the page verbatim. Every
// other JavaScript block of those pages must at least parse as a module, and every relative link
// of theirs must lead to a file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { edgeserve, root, pkgDir, golden } from './helpers.mjs';

const pages = [
  'README.md',
  ...readdirSync(`${root}docs`)
    .filter(f => f.endsWith('.md'))
    .map(f => `docs/${f}`),
];
const jsBlocks = page => [...readFileSync(`${root}${page}`, 'utf8').matchAll(/```js\n([\s\S]*?)```/g)].map(m => m[1]);

function readmeBlock(containing, page = 'README.md') {
  const block = jsBlocks(page).find(b => b.includes(containing));
  assert.ok(block, `${page} has a js block with ${containing}`);
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
  try {
    return execFileSync(process.execPath, ['example.mjs'], { cwd: dir, encoding: 'utf8' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
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

test('the text example (docs/text.md) loads minilm-int8 by name and finds the sentence closest to its query', () => {
  const out = runAsUser(readmeBlock('model.embed(', 'docs/text.md'));
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

test('the lean example (docs/builds.md) runs against the built package (edgeserve/lean)', async () => {
  const out = runAsUser(readmeBlock("from 'edgeserve/lean';", 'docs/builds.md'));
  const [first, second] = out.trim().split('\n');
  // A blank image: the lean build must say what the full one says.
  const full = (await edgeserve()).Model.default();
  assert.equal(first, `digits-accurate rows 1 ${full.predict(new Float32Array(64)).label}`);
  full.free();
  assert.equal(second, 'MODEL_LOAD');
});

test('the threads example (docs/builds.md) runs on the threaded build in Node, and the process exits', () => {
  const out = runAsUser(readmeBlock('init({ threads: 2 })', 'docs/builds.md'));
  assert.deepEqual(out.trim().split('\n'), ['threads 2', '384']);
});

test('the Node example of docs/bundlers.md runs against the built package', async () => {
  const out = runAsUser(readmeBlock('initSync({ module: readFileSync(wasmUrl()) })', 'docs/bundlers.md'));
  const full = (await edgeserve()).Model.default();
  const blank = full.predict(new Float32Array(64)).label;
  full.free();
  assert.equal(out.trim(), `[ '${blank}', '${blank}' ]`);
});

test('every JavaScript block of README.md and docs/ parses as a module, and every relative link leads to a file', t => {
  const dir = mkdtempSync(join(tmpdir(), 'edgeserve-docs-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  let blocks = 0;
  for (const page of pages) {
    jsBlocks(page).forEach((block, i) => {
      const file = join(dir, `${page.replace(/\W/g, '_')}-${i}.mjs`);
      writeFileSync(file, block);
      try {
        execFileSync(process.execPath, ['--check', file], { encoding: 'utf8', stdio: 'pipe' });
      } catch (e) {
        assert.fail(`${page}, js block ${i + 1}, does not parse:\n${e.stderr}`);
      }
      blocks += 1;
    });
    const text = readFileSync(`${root}${page}`, 'utf8');
    for (const [, target] of text.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)) {
      if (/^[a-z]+:/.test(target)) continue; // https: and the like
      assert.ok(existsSync(join(root, dirname(page), target)), `${page} links to ${target}, which is not there`);
    }
  }
  assert.ok(blocks >= 8, `only ${blocks} js blocks found`);
});
