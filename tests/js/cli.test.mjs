// The command line's batch mode (`edgeserve predict`, native, every core) against the npm
// package's (`predictCsv` in Node, wasm) on the same rows: the same CSV for every embedded
// package (the same header, rows, truths, labels and indices; scores equal up to float rounding,
// native code and wasm SIMD rounding differently); and a package made by `edgeserve pack` from one's ONNX file predicts
// what the package it was made from does, in wasm (Model.fromBytes with its manifest).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { edgeserve, root, embeddedNames } from './helpers.mjs';

const cli = process.env.EDGESERVE_CLI ?? `${root}target/debug/edgeserve`;
const csvPath = `${root}www/data/digits-test.csv`;

test('edgeserve predict writes the CSV predictCsv(...).toCsv() gives, for every embedded package', async () => {
  assert.ok(existsSync(cli), `${cli}: build it with cargo build --features cli (make test-js does)`);
  const { Model } = await edgeserve();
  const dir = mkdtempSync(join(tmpdir(), 'edgeserve-cli-'));
  for (const name of embeddedNames) {
    const out = join(dir, `${name}.csv`);
    execFileSync(
      cli,
      [
        'predict',
        '--model',
        `${root}models/${name}`,
        '--input',
        csvPath,
        '--output',
        out,
        '--label-column',
        'label',
        '--chunk',
        '100',
      ],
      { stdio: 'pipe' },
    );
    const model = Model.load(name);
    const result = await model.predictCsv(readFileSync(csvPath, 'utf8'), { labelColumn: 'label' });
    const native = readFileSync(out, 'utf8').trim().split('\n');
    const wasm = result.toCsv().trim().split('\n');
    assert.equal(native.length, wasm.length, name);
    assert.equal(native[0], wasm[0], `${name}: header`);
    let worst = 0;
    native.slice(1).forEach((line, i) => {
      const [a, b] = [line.split(','), wasm[i + 1].split(',')];
      assert.deepEqual(a.slice(0, 4), b.slice(0, 4), `${name}, row ${i}: row, truth, label, index`);
      a.slice(4).forEach((s, k) => {
        worst = Math.max(worst, Math.abs(Number(s) - Number(b[4 + k])));
      });
    });
    assert.ok(worst <= 1e-6, `${name}: scores differ by up to ${worst}`);
    result.free();
    model.free();
  }
  rmSync(dir, { recursive: true });
});

test('a package made by edgeserve pack predicts in wasm what its source package does', async () => {
  const { Model } = await edgeserve();
  const dir = mkdtempSync(join(tmpdir(), 'edgeserve-pack-'));
  writeFileSync(join(dir, 'labels.txt'), '0\n1\n2\n3\n4\n5\n6\n7\n8\n9\n');
  const out = join(dir, 'mine');
  execFileSync(
    cli,
    [
      'pack',
      `${root}models/digits-fast/model.onnx`,
      '--name',
      'mine',
      '--labels',
      join(dir, 'labels.txt'),
      '--preprocess',
      '{"type":"affine","scale":0.0625,"offset":0,"range":[0,16]}',
      '--out',
      out,
    ],
    { stdio: 'pipe' },
  );
  const mine = await Model.fromBytes(
    readFileSync(join(out, 'model.onnx')),
    JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')),
  );
  const shipped = Model.load('digits-fast');
  const golden = JSON.parse(readFileSync(join(out, 'golden.json'), 'utf8'));
  for (const c of golden.cases) {
    const a = mine.predict(c.input);
    assert.equal(a.index, c.expected.index);
    assert.deepEqual(Array.from(a.scores), Array.from(shipped.predict(c.input).scores));
  }
  mine.free();
  shipped.free();
  rmSync(dir, { recursive: true });
});
