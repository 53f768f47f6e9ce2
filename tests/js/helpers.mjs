// Shared by the Node tests: the built npm package (pkg/), initialised once, and golden data.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../../', import.meta.url));
export const pkgDir = `${root}pkg/`;
export const TOLERANCE = 1e-5;

export async function edgeserve() {
  const mod = await import(`${pkgDir}index.js`);
  mod.initSync({ module: readFileSync(`${pkgDir}edgeserve_bg.wasm`) });
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
