// Shared by the Node tests: the built npm package (pkg/), initialised once, and golden data.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../../', import.meta.url));
export const pkgDir = `${root}pkg/`;
export const TOLERANCE = 1e-5;

/**
 * Which wasm build the tests run: `edgeserve_bg.wasm`, or with EDGESERVE_WASM=relaxed the
 * relaxed-SIMD twin (Node 20 needs --experimental-wasm-relaxed-simd for it; `make test-js` runs
 * the golden suites that way too), or with EDGESERVE_WASM=threads the full build's threaded one,
 * with 2 threads (`init({ threads: 2 })`; the lean build has none, and stays on its baseline).
 */
export const wasmFile = process.env.EDGESERVE_WASM === 'relaxed' ? 'edgeserve_relaxed_bg.wasm' : 'edgeserve_bg.wasm';
export const threaded = process.env.EDGESERVE_WASM === 'threads';

/** The npm package initialised: the full build, or with `lean`, the lean one (pkg/lean/). */
export async function edgeserve({ lean = false } = {}) {
  const dir = lean ? `${pkgDir}lean/` : pkgDir;
  const mod = await import(`${dir}index.js`);
  if (threaded && !lean) {
    await mod.default({ threads: 2 });
    if (mod.wasmBuild() !== 'threads' || mod.threadCount() !== 2) throw new Error('the threaded build did not start');
  } else {
    mod.initSync({ module: readFileSync(`${dir}${wasmFile}`) });
  }
  return mod;
}

/**
 * The packages embedded in the builds (models/), sorted; the full build's Model.names() also
 * lists the text packages shipped beside its wasm (fetched.test.mjs).
 */
export const embeddedNames = readdirSync(`${root}models`)
  .filter(d => existsSync(`${root}models/${d}/manifest.json`))
  .sort();

export function golden(name) {
  return JSON.parse(readFileSync(`${root}models/${name}/golden.json`, 'utf8'));
}

export function maxAbsDiff(a, b) {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

/** The error a promise rejects with; fails the test when it resolves. */
export async function rejection(promise) {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}
