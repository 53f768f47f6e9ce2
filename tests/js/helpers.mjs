// Shared by the Node tests: the built npm package (pkg/), initialised once, and golden data.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../../', import.meta.url));
export const pkgDir = `${root}pkg/`;
export const TOLERANCE = 1e-5;

/** The npm package initialised: the full build, or with `lean`, the lean one (pkg/lean/). */
export async function edgeserve({ lean = false } = {}) {
  const dir = lean ? `${pkgDir}lean/` : pkgDir;
  const mod = await import(`${dir}index.js`);
  mod.initSync({ module: readFileSync(`${dir}edgeserve_bg.wasm`) });
  return mod;
}

export function golden(name) {
  return JSON.parse(readFileSync(`${root}models/${name}/golden.json`, 'utf8'));
}

export function maxAbsDiff(a, b) {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}
