// The relaxed-SIMD twin of each build (edgeserve_relaxed_bg.wasm) and the choice between the two
// (js/load.js). That the twin predicts like onnxruntime is checked by running the golden suites
// on it: `make test-js` runs them again with EDGESERVE_WASM=relaxed under
// --experimental-wasm-relaxed-simd (Node 20 has relaxed SIMD behind that flag), and in Chromium,
// which has it, every page test loads the twin (tests/e2e/worker.test.mjs checks which).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { edgeserve, pkgDir, wasmFile } from './helpers.mjs';

const es = await edgeserve();

for (const [build, dir] of [
  ['full', pkgDir],
  ['lean', `${pkgDir}lean/`],
]) {
  test(`${build} build: the twin holds relaxed-SIMD code, the baseline does not`, () => {
    const baseline = readFileSync(`${dir}edgeserve_bg.wasm`);
    const relaxed = readFileSync(`${dir}edgeserve_relaxed_bg.wasm`);
    assert.ok(WebAssembly.validate(baseline), 'the baseline build runs on any host with simd128');
    // Where this host has relaxed SIMD, both validate; where it has not (Node 20 without the
    // flag), the twin must fail to: else it was built without +relaxed-simd.
    assert.equal(WebAssembly.validate(relaxed), es.relaxedSimd);
    assert.notDeepEqual(relaxed, baseline);
  });
}

test('wasmUrl() names the build this host runs', () => {
  const url = es.wasmUrl();
  assert.ok(url instanceof URL);
  assert.equal(url.pathname.split('/').pop(), es.relaxedSimd ? 'edgeserve_relaxed_bg.wasm' : 'edgeserve_bg.wasm');
  assert.equal(url.href, new URL(url.pathname.split('/').pop(), new URL('index.js', `file://${pkgDir}`)).href);
});

test('the suites run the build they say they run', () => {
  // With EDGESERVE_WASM=relaxed, the helpers loaded the twin: possible only where relaxed SIMD runs.
  if (wasmFile === 'edgeserve_relaxed_bg.wasm') assert.equal(es.relaxedSimd, true);
  assert.equal(typeof es.relaxedSimd, 'boolean');
});

test('wasmUrl(false) names the baseline build; init() refuses a choice that is not a boolean', async () => {
  assert.equal(es.wasmUrl(false).pathname.split('/').pop(), 'edgeserve_bg.wasm');
  // initSync was given the bytes: which build they are is the caller's to know.
  assert.equal(es.wasmBuild(), null);
  for (const [relaxedSimd, got] of [
    ['no', 'a string ("no")'],
    [1, 'the number 1'],
    [null, 'null'],
  ]) {
    await assert.rejects(es.default({ relaxedSimd }), {
      code: 'BAD_INPUT',
      message: `relaxedSimd is not a boolean: expected true or false, got ${got}`,
    });
  }
  const throwing = {
    get relaxedSimd() {
      throw new RangeError('no');
    },
  };
  await assert.rejects(es.default(throwing), { code: 'BAD_INPUT', message: /could not be read.*RangeError: no/ });
});
