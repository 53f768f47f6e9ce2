// Completes the npm package that wasm-pack wrote into pkg/: adds the JavaScript that must be
// JavaScript (js/client.js + js/worker.js: the Worker and its client) and an entry point,
// index.js, that exports the wasm API and WorkerModel together. Run by `make pkg`.
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';

const pkg = new URL('../pkg/', import.meta.url);
const js = new URL('../js/', import.meta.url);

for (const file of ['client.js', 'client.d.ts', 'worker.js', 'lifetime.js']) copyFileSync(new URL(file, js), new URL(file, pkg));

const exports = `export * from './edgeserve.js';
export { default } from './edgeserve.js';
export { WorkerModel } from './client.js';
`;
// A use after free() throws a clear Error (code BAD_INPUT) for every class that owns wasm memory.
const guarded = ['Model', 'ModelSet', 'BatchResult'];
const entry = `// The edgeserve npm package: the wasm API (edgeserve.js) and the Worker client.
import { ${guarded.join(', ')} } from './edgeserve.js';
import { guardFreed } from './lifetime.js';

${guarded.map((c) => `guardFreed(${c});`).join('\n')}
${exports}`;
writeFileSync(new URL('index.js', pkg), entry);
writeFileSync(new URL('index.d.ts', pkg), `// Types of the edgeserve npm package.\n${exports}`);

const manifest = JSON.parse(readFileSync(new URL('package.json', pkg), 'utf8'));
manifest.main = 'index.js';
manifest.module = 'index.js';
manifest.types = 'index.d.ts';
manifest.files = [...new Set([...(manifest.files ?? []), 'index.js', 'index.d.ts', 'client.js', 'client.d.ts', 'worker.js', 'lifetime.js', 'snippets'])];
manifest.sideEffects = ['./index.js', './lifetime.js', './edgeserve.js', './worker.js', './snippets/*'];
writeFileSync(new URL('package.json', pkg), `${JSON.stringify(manifest, null, 2)}\n`);
console.log(`pkg/: ${manifest.name} ${manifest.version}, entry index.js, files ${manifest.files.join(' ')}`);
