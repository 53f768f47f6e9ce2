// Completes the npm package that wasm-pack wrote into pkg/: adds the JavaScript that must be
// JavaScript (js/client.js + js/worker.js: the Worker and its client) and an entry point,
// index.js, that exports the wasm API and WorkerModel together. Run by `make pkg`.
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';

const pkg = new URL('../pkg/', import.meta.url);
const js = new URL('../js/', import.meta.url);

for (const file of ['client.js', 'client.d.ts', 'worker.js']) copyFileSync(new URL(file, js), new URL(file, pkg));

const entry = `// The edgeserve npm package: the wasm API (edgeserve.js) and the Worker client.
export * from './edgeserve.js';
export { default } from './edgeserve.js';
export { WorkerModel } from './client.js';
`;
writeFileSync(new URL('index.js', pkg), entry);
writeFileSync(new URL('index.d.ts', pkg), entry.replace('// The edgeserve', '// Types of the edgeserve'));

const manifest = JSON.parse(readFileSync(new URL('package.json', pkg), 'utf8'));
manifest.main = 'index.js';
manifest.module = 'index.js';
manifest.types = 'index.d.ts';
manifest.files = [...new Set([...(manifest.files ?? []), 'index.js', 'index.d.ts', 'client.js', 'client.d.ts', 'worker.js', 'snippets'])];
manifest.sideEffects = ['./index.js', './edgeserve.js', './worker.js', './snippets/*'];
writeFileSync(new URL('package.json', pkg), `${JSON.stringify(manifest, null, 2)}\n`);
console.log(`pkg/: ${manifest.name} ${manifest.version}, entry index.js, files ${manifest.files.join(' ')}`);
