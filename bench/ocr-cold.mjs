// One cold start of reading text in a fresh Node process: from the start of this script to the
// first readText() result (import the build, compile its wasm, load the package ocr, read the
// image). Prints JSON. Run by bench/ocr-bytes.mjs, alternating ways.
//
//   node bench/ocr-cold.mjs <shipped|lean> <image .rgb> <width> <height>
//
// shipped: pkg/, the full build, `await Model.load('ocr')` reading its three graphs from
// pkg/models/ocr/ (as it fetches them in a page); lean: target/ocr-bytes/lean (`make ocr-lean`),
// ocr compiled in from its NNEF forms.
import { readFileSync } from 'node:fs';

const start = performance.now();
const [way, image, width, height] = process.argv.slice(2);
const root = new URL('../', import.meta.url);
const build = way === 'lean' ? new URL('target/ocr-bytes/lean/', root) : new URL('pkg/', root);
const edgeserve = await import(new URL(way === 'lean' ? 'edgeserve.js' : 'index.js', build).href);
edgeserve.initSync({ module: readFileSync(new URL('edgeserve_bg.wasm', build)) });
const model = await edgeserve.Model.load('ocr');
const data = new Uint8Array(readFileSync(image));
const reading = model.readText({ data, width: Number(width), height: Number(height), channels: 3 });
const firstMs = performance.now() - start;
console.log(JSON.stringify({ firstMs, texts: reading.lines.map(l => l.text) }));
