// Puts the benchmark's parts together: bench/results/{node,chromium,native}.json (or the -smoke
// ones) and the bytes a page downloads, into bench/results/latest.json and latest.md, with every
// figure against its peer as a ratio (edgeserve / onnxruntime-web; lower is better) and the
// issue's targets marked met or not. Prints the Markdown.
//
//   node bench/report.mjs [--smoke]
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, gzipSync } from 'node:zlib';

const smoke = process.argv.includes('--smoke');
const root = fileURLToPath(new URL('../', import.meta.url));
const results = `${root}bench/results/`;
const part = name => {
  const file = `${results}${name}${smoke ? '-smoke' : ''}.json`;
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : null;
};
const node = part('node');
const chromium = part('chromium');
const native = part('native');
// How busy the CPUs were with other work before each part (bench/quiet.mjs): above 10%, the
// figures were taken beside other work and are not comparable.
const quiet = part('quiet') ?? {};
const BUSY = 0.1;
const busyParts = Object.entries(quiet)
  .filter(([, v]) => v !== null && v > BUSY)
  .map(([k]) => k);

const files = dir =>
  readdirSync(dir).flatMap(f => (statSync(join(dir, f)).isDirectory() ? files(join(dir, f)) : [join(dir, f)]));
function sizes(paths) {
  const total = { raw: 0, gzip: 0, brotli: 0, files: paths.map(p => p.replace(root, '')) };
  for (const p of paths) {
    const b = readFileSync(p);
    total.raw += b.length;
    total.gzip += gzipSync(b, { level: 9 }).length;
    total.brotli += brotliCompressSync(b).length;
  }
  return total;
}
const ortDist = `${root}node_modules/onnxruntime-web/dist/`;
// The wasm a page downloads is one of the two builds (js/load.js): the +simd128 one is counted;
// the relaxed-SIMD twin is within a few kB of it.
const edgeserveBytes = dir => ({
  wasm: sizes([`${dir}edgeserve_bg.wasm`]),
  relaxedWasm: sizes([`${dir}edgeserve_relaxed_bg.wasm`]),
  js: sizes([
    ...['edgeserve.js', 'index.js', 'load.js', 'client.js', 'guard.js'].map(f => `${dir}${f}`),
    ...files(`${dir}snippets`),
  ]),
});
const bytes = {
  'edgeserve lean (edgeserve/lean)': edgeserveBytes(`${root}pkg/lean/`),
  'edgeserve full': edgeserveBytes(`${root}pkg/`),
  'onnxruntime-web': {
    wasm: sizes([`${ortDist}ort-wasm-simd-threaded.wasm`]),
    js: sizes([`${ortDist}ort.wasm.min.mjs`, `${ortDist}ort-wasm-simd-threaded.mjs`]),
  },
};

const models = [...new Set([node, chromium, native].flatMap(p => Object.keys(p?.models ?? {})))];
const PEER = 'onnxruntime-web';
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : null);
const small = name => name.startsWith('digits');

const rows = [];
for (const name of models) {
  for (const [where, part] of [
    ['Node', node],
    ['Chromium', chromium],
  ]) {
    const r = part?.models[name]?.runtimes ?? part?.models[name];
    if (!r?.edgeserve || !r[PEER]) continue;
    const e = r.edgeserve;
    const o = r[PEER];
    const nat = native?.models[name]?.['tract (native)'];
    rows.push({
      model: name,
      where,
      p50: [e.latencyMs.p50, o.latencyMs.p50],
      p95: [e.latencyMs.p95, o.latencyMs.p95],
      p99: [e.latencyMs.p99, o.latencyMs.p99],
      predictP50: r['edgeserve predict()']?.latencyMs.p50 ?? null,
      // The digits packages: the same run() on tract's plans instead of the row executor.
      tractPlans: r['edgeserve (tract plans)']?.latencyMs ?? null,
      ortThreads: r[`${PEER} (2 threads)`]?.latencyMs.p50 ?? null,
      // Chromium's 2-thread page: edgeserve's threaded build, 2 threads.
      threads: r['edgeserve (2 threads)']?.latencyMs.p50 ?? null,
      rows: Object.fromEntries(
        Object.keys(e.rowsPerSecond ?? {}).map(n => [n, [e.rowsPerSecond[n], o.rowsPerSecond[n]]]),
      ),
      cold: [e.coldStartMs, o.coldStartMs, e.coldStartFrom],
      memory: [e.wasmMemoryBytes, o.wasmMemoryBytes],
      reloaded: [e.reloadedWasmMemoryBytes, o.reloadedWasmMemoryBytes],
      native: nat?.latencyMs.p50 ?? null,
      // Chromium: the +simd128 build beside the relaxed-SIMD one, in the same page.
      simd128: r['edgeserve simd128'] ?? null,
    });
  }
}

const targets = [];
const check = (what, value, limit, note) =>
  targets.push({ what, value, limit, met: value !== null && value <= limit, note });
for (const r of rows.filter(x => x.where === 'Chromium')) {
  if (small(r.model)) {
    check(`${r.model} p50, Chromium`, ratio(...r.p50), 0.3);
    check(`${r.model} p99, Chromium`, ratio(...r.p99), 0.3);
    check(`${r.model} cold start (embedded), Chromium`, ratio(r.cold[0], r.cold[1]), 0.5);
  } else {
    check(`${r.model} p50, Chromium`, ratio(...r.p50), 0.9);
    // The issue's models: the large CNNs (the table below has them all).
    if (r.threads !== null && ['mobilenet-v2', 'resnet-18'].includes(r.model))
      check(
        `${r.model} p50, Chromium, 2 threads each`,
        ratio(r.threads, r.ortThreads),
        0.9,
        "edgeserve's threaded build against onnxruntime-web, both with 2 threads",
      );
  }
  if (r.native)
    check(
      `${r.model} wasm / native p50`,
      ratio(r.p50[0], r.native),
      1.5,
      'edgeserve in Chromium against its core natively (bench/native.rs: the same engine, no JavaScript boundary)',
    );
}
// The threads, batches and memory issue: rows per second at least onnxruntime-web's at every
// batch size, and wasm memory after the first prediction at most onnxruntime-web's.
for (const r of rows) {
  for (const [n, [e, o]] of Object.entries(r.rows))
    check(`${r.model} batch ${n} rows/s, ort / edgeserve, ${r.where}`, ratio(o, e), 1.0);
  check(`${r.model} wasm memory, edgeserve / ort, ${r.where}`, ratio(...r.memory), 1.0);
}
check(
  'page wasm with the digits packages (lean build), gzip, MB (absolute)',
  bytes['edgeserve lean (edgeserve/lean)'].wasm.gzip / 1e6,
  1.1,
);

const fmtMs = x => (x === null || x === undefined ? '-' : x < 1 ? `${(x * 1000).toFixed(1)} us` : `${x.toFixed(2)} ms`);
const fmtX = x => (x === null ? '-' : `${x.toFixed(2)}x`);
const fmtRate = x =>
  x === undefined || x === null ? '-' : x >= 1000 ? `${(x / 1000).toFixed(1)}k/s` : `${x.toFixed(1)}/s`;
const mb = b => `${(b / 1e6).toFixed(2)} MB`;

const env = [node?.environment, chromium?.environment, native?.environment].filter(Boolean);
const md = [
  `# Benchmark: edgeserve against onnxruntime-web${smoke ? ' (smoke run: few runs, not figures to quote)' : ''}`,
  '',
  `Written by \`make bench\` (bench/report.mjs) on ${new Date().toISOString().slice(0, 10)}. Machine: ${cpus()[0]?.model ?? '?'}, ${cpus().length} cores.`,
  `Runtimes: ${env.map(e => e.runtime).join('; ')}. edgeserve ${node?.environment.edgeserve ?? '?'} (tract-onnx 0.23.9; wasm32 build in Node: +simd128, in Chromium: ${chromium?.environment.edgeserveBuild === 'relaxed-simd' ? '+simd128,+relaxed-simd' : '+simd128'}, and with 2 threads its threaded build: +simd128,+atomics),`,
  `onnxruntime-web ${node?.environment.onnxruntimeWeb ?? '?'} (wasm backend, SIMD, 1 thread unless said). Chromium page cross-origin isolated: ${chromium?.environment.crossOriginIsolated ?? '-'}, clock step ${fmtMs(chromium?.environment.clockStepMs)}.`,
  'Both runtimes run the same model.onnx on the same input, alternating in one process or page; the arguments of each runtime (edgeserve input objects, onnxruntime-web Tensors) are made once per batch and the calls timed; ratios are edgeserve / onnxruntime-web (lower is better).',
  `CPUs busy with other work in the second before each part (bench/quiet.mjs): ${['native', 'node', 'chromium'].map(k => `${k} ${typeof quiet[k] === 'number' ? `${(quiet[k] * 100).toFixed(1)}%` : '-'}`).join(', ')}.`,
  ...(busyParts.length
    ? [
        '',
        `**Warning: other work was running before ${busyParts.join(', ')} (over ${BUSY * 100}% of the CPUs): those figures are slower than this machine's and not comparable.**`,
      ]
    : []),
  '',
  '## Latency of one prediction (batch 1)',
  '',
  '| model | where | edgeserve p50 | ort p50 | ratio | edgeserve p99 | ort p99 | ratio | ort 2 threads p50 | edgeserve predict() p50 | native p50 | wasm / native |',
  '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...rows.map(
    r =>
      `| ${r.model} | ${r.where} | ${fmtMs(r.p50[0])} | ${fmtMs(r.p50[1])} | ${fmtX(ratio(...r.p50))} | ${fmtMs(r.p99[0])} | ${fmtMs(r.p99[1])} | ${fmtX(ratio(...r.p99))} | ${fmtMs(r.ortThreads)} | ${fmtMs(r.predictP50)} | ${fmtMs(r.native)} | ${fmtX(ratio(r.p50[0], r.native))} |`,
  ),
  '',
  "Native: edgeserve's core compiled for this CPU (bench/native.rs: `LoadedModel::run` on the same engine as in wasm, the row executor for the digits packages and tract's plans with AVX2+FMA for the CNNs), without a JavaScript boundary: for the digits packages the wasm / native ratio is mostly the cost of crossing into and out of JavaScript (a run() of digits-fast computes 640 multiply-adds).",
  '',
  `In Chromium the clock steps ${fmtMs(chromium?.environment.clockStepMs)}: where a call's median is under 20 steps, p50 is the median over blocks of calls timed whole (time / calls, alternating like the single calls; bench/measure.mjs), and the per-call median, a clock step, is kept in latest.json as p50PerCall. p95 and p99 are single calls.`,
  '',
  ...(rows.some(r => r.threads !== null)
    ? [
        '## Two threads each (Chromium, cross-origin isolated)',
        '',
        "edgeserve's threaded build (`init({ threads: 2 })`: the page's thread and one module Worker, tract's matrix products split over them) against onnxruntime-web with `numThreads = 2`, alternating in one page; beside them each runtime's 1-thread p50 from the 1-thread page. Speedup: 1 thread / 2 threads. This machine has 2 cores, so a third thread would only share them; on more cores tract splits a product into more chunks (up to 4 per thread) and the large products of ResNet-18 and MobileNet-v2 have the panels for it. Runs that take under a millisecond on one thread (the digits packages, cnn-small) stay on one thread (src/threads.rs), in the threaded build, which has no relaxed SIMD.",
        '',
        '| model | edgeserve 2 threads p50 | ort 2 threads p50 | ratio | edgeserve speedup | ort speedup |',
        '|---|---:|---:|---:|---:|---:|',
        ...rows
          .filter(r => r.threads !== null)
          .map(
            r =>
              `| ${r.model} | ${fmtMs(r.threads)} | ${fmtMs(r.ortThreads)} | ${fmtX(ratio(r.threads, r.ortThreads))} | ${fmtX(ratio(r.p50[0], r.threads))} | ${fmtX(ratio(r.p50[1], r.ortThreads))} |`,
          ),
        '',
      ]
    : []),
  ...(rows.some(r => r.tractPlans)
    ? [
        "## The row executor against tract's plans",
        '',
        "edgeserve runs graphs of dense layers and element-wise operations (the digits packages) on its own row executor (src/engine/rows.rs), other graphs on tract's optimized plans. The same run() of the same model on both, alternating in the same process or page with the runtimes above. Gain: tract plans / row executor (above 1: the row executor faster).",
        '',
        '| model | where | row executor p50 | tract plans p50 | gain p50 | row executor p99 | tract plans p99 | gain p99 |',
        '|---|---|---:|---:|---:|---:|---:|---:|',
        ...rows
          .filter(r => r.tractPlans)
          .map(
            r =>
              `| ${r.model} | ${r.where} | ${fmtMs(r.p50[0])} | ${fmtMs(r.tractPlans.p50)} | ${fmtX(ratio(r.tractPlans.p50, r.p50[0]))} | ${fmtMs(r.p99[0])} | ${fmtMs(r.tractPlans.p99)} | ${fmtX(ratio(r.tractPlans.p99, r.p99[0]))} |`,
          ),
        '',
      ]
    : []),
  ...(rows.some(r => r.simd128)
    ? [
        '## Relaxed SIMD against the +simd128 build (Chromium)',
        '',
        "The two builds of the full package (the same code; the f32 matrix kernels, edgeserve's and tract's, fuse multiply-adds in the relaxed one) alternating in the same page with onnxruntime-web. Gain: simd128 / relaxed (above 1: relaxed SIMD faster).",
        '',
        '| model | relaxed p50 | simd128 p50 | gain p50 | relaxed p99 | simd128 p99 | gain p99 | rows/s relaxed / simd128 at the largest batch |',
        '|---|---:|---:|---:|---:|---:|---:|---:|',
        ...rows
          .filter(r => r.simd128)
          .map(r => {
            const big = Object.keys(r.rows).at(-1);
            return `| ${r.model} | ${fmtMs(r.p50[0])} | ${fmtMs(r.simd128.latencyMs.p50)} | ${fmtX(ratio(r.simd128.latencyMs.p50, r.p50[0]))} | ${fmtMs(r.p99[0])} | ${fmtMs(r.simd128.latencyMs.p99)} | ${fmtX(ratio(r.simd128.latencyMs.p99, r.p99[0]))} | ${big ? `${fmtX(ratio(r.rows[big][0], r.simd128.rowsPerSecond?.[big]))} (batch ${big})` : '-'} |`;
          }),
        '',
      ]
    : []),
  '## Batch throughput (rows per second; edgeserve / ort)',
  '',
  '| model | where | batch | edgeserve | ort | ratio (ort / edgeserve: above 1 = edgeserve faster) |',
  '|---|---|---:|---:|---:|---:|',
  ...rows.flatMap(r =>
    Object.entries(r.rows).map(
      ([n, [e, o]]) => `| ${r.model} | ${r.where} | ${n} | ${fmtRate(e)} | ${fmtRate(o)} | ${fmtX(ratio(o, e))} |`,
    ),
  ),
  '',
  '## Cold start to the first prediction, and wasm memory after it',
  '',
  'Node: a fresh process, from the start of the script. Chromium: a fresh browser context (empty cache), from navigation start (the page, the runtime and, unless embedded, the model fetched from localhost). Median of the runs.',
  '',
  '| model | where | edgeserve | ort | ratio | edgeserve loads from | edgeserve wasm memory | ort wasm memory | ratio | edgeserve after free() and a second load | ort after release() and a second load |',
  '|---|---|---:|---:|---:|---|---:|---:|---:|---:|---:|',
  ...rows.map(
    r =>
      `| ${r.model} | ${r.where} | ${fmtMs(r.cold[0])} | ${fmtMs(r.cold[1])} | ${fmtX(ratio(r.cold[0], r.cold[1]))} | ${r.cold[2] ?? '-'} | ${r.memory[0] ? mb(r.memory[0]) : '-'} | ${r.memory[1] ? mb(r.memory[1]) : '-'} | ${fmtX(ratio(r.memory[0], r.memory[1]))} | ${r.reloaded[0] ? mb(r.reloaded[0]) : '-'} | ${r.reloaded[1] ? mb(r.reloaded[1]) : '-'} |`,
  ),
  '',
  "Wasm memory is the size of the runtime's WebAssembly.Memory, which grows and never shrinks: the most it held at once. After free() the memory a model held is reused by the next load, so a second load of the same model grows it little or not at all.",
  '',
  '## Bytes a page downloads',
  '',
  '| runtime | wasm raw | wasm gzip | wasm brotli | JS raw | JS gzip | JS brotli |',
  '|---|---:|---:|---:|---:|---:|---:|',
  ...Object.entries(bytes).map(
    ([k, v]) =>
      `| ${k} | ${mb(v.wasm.raw)} | ${mb(v.wasm.gzip)} | ${mb(v.wasm.brotli)} | ${mb(v.js.raw)} | ${mb(v.js.gzip)} | ${mb(v.js.brotli)} |`,
  ),
  '',
  "Both edgeserve builds hold the embedded digits packages: the lean one in their rows form, with no ONNX parser and no tract (what a page with embedded packages ships, e.g. the demo), the full one as model.onnx with tract's ONNX parser (for models loaded at run time). onnxruntime-web's page also fetches each model.onnx.",
  '',
  '## Targets (the performance issue; the threads, batches and memory issue)',
  '',
  '| target | measured | limit | met |',
  '|---|---:|---:|---|',
  ...targets.map(
    t => `| ${t.what} | ${t.value === null ? '-' : t.value.toFixed(2)} | ${t.limit} | ${t.met ? 'yes' : '**no**'} |`,
  ),
  '',
];
writeFileSync(`${results}latest${smoke ? '-smoke' : ''}.md`, md.join('\n'));
writeFileSync(
  `${results}latest${smoke ? '-smoke' : ''}.json`,
  `${JSON.stringify({ date: new Date().toISOString(), machine: { cpu: cpus()[0]?.model, cores: cpus().length, busyBeforeParts: quiet }, environment: env, bytes, rows, targets, parts: { node, chromium, native } }, null, 1)}\n`,
);
console.log(md.join('\n'));
