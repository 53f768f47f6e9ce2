// esbuild.mjs: each app into a directory of its own (dist/esbuild/full/, dist/esbuild/lean/).
// esbuild leaves `new URL('./worker.js', import.meta.url)` and `new URL('edgeserve_bg.wasm',
// import.meta.url)` as they are, so both resolve next to the app's bundle: the package's
// worker.js is bundled there as an entry point of its own, and its two wasm files and its
// AudioWorklet module (audio-worklet.js, which `listen()` loads by URL) are copied there; so are
// the full build's threaded wasm and its pool's Worker (threads/, bundled the same way). One
// directory per build: each has a worker.js and wasm files of its own.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';

const out = 'dist/esbuild';
rmSync(out, { recursive: true, force: true });
for (const [app, pkg] of [
  ['full', 'node_modules/edgeserve'],
  ['lean', 'node_modules/edgeserve/lean'],
]) {
  const threaded = app === 'full' ? { [`${app}/threads/pool-worker`]: `${pkg}/threads/pool-worker.js` } : {};
  await build({
    entryPoints: { [`${app}/${app}`]: `app/${app}.js`, [`${app}/worker`]: `${pkg}/worker.js`, ...threaded },
    bundle: true,
    format: 'esm',
    minify: true,
    outdir: out,
    logLevel: 'warning',
  });
  mkdirSync(`${out}/${app}`, { recursive: true });
  for (const file of ['edgeserve_bg.wasm', 'edgeserve_relaxed_bg.wasm', 'audio-worklet.js'])
    copyFileSync(`${pkg}/${file}`, `${out}/${app}/${file}`);
  if (app === 'full') copyFileSync(`${pkg}/threads/edgeserve_bg.wasm`, `${out}/${app}/threads/edgeserve_bg.wasm`);
  copyFileSync(`app/${app}.html`, `${out}/${app}/${app}.html`);
}
