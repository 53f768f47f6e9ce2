// The command line's batch mode against the npm package's, on the same file: `edgeserve predict`
// (native, target/release/edgeserve from `make cli`, every core, CSV read and written streamed)
// and, in Node, the same CSV read into memory and predicted with predictCsv (wasm, one thread),
// then written out; and predictBatch on the rows a user's own code parsed from that CSV (parse,
// predict, write the same columns). Alternating rounds; figures only (bench/results/cli.md and
// cli.json).
//
//   node bench/cli-throughput.mjs [model] [rows] [rounds]      (make bench-cli)
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { initSync, Model } from '../pkg/index.js';

const [name = 'digits-accurate', rowsArg = '100000', roundsArg = '3'] = process.argv.slice(2);
const root = new URL('../', import.meta.url).pathname;
const cli = process.env.EDGESERVE_CLI ?? `${root}target/release/edgeserve`;
const total = Number(rowsArg);
const rounds = Number(roundsArg);

// The file: the held-out digits repeated to `total` rows, with their label column.
const source = readFileSync(`${root}www/data/digits-test.csv`, 'utf8').trim().split('\n');
const lines = [source[0]];
for (let i = 0; i < total; i++) lines.push(source[1 + (i % (source.length - 1))]);
const dir = join(tmpdir(), 'edgeserve-bench-cli');
mkdirSync(dir, { recursive: true });
const input = join(dir, 'in.csv');
writeFileSync(input, lines.join('\n') + '\n');
const megabytes = (lines.join('\n').length / 1e6).toFixed(1);

initSync({ module: readFileSync(`${root}pkg/edgeserve_bg.wasm`) });
const model = Model.load(name);

function runCli(threads) {
  const t = performance.now();
  execFileSync(
    cli,
    [
      'predict',
      '--model',
      `${root}models/${name}`,
      '--input',
      input,
      '--output',
      join(dir, 'cli.csv'),
      '--label-column',
      'label',
      '--quiet',
      '--threads',
      String(threads),
    ],
    { stdio: 'pipe' },
  );
  return total / ((performance.now() - t) / 1e3);
}
async function runNpm() {
  const t = performance.now();
  const result = await model.predictCsv(readFileSync(input, 'utf8'), { labelColumn: 'label', chunkSize: 1024 });
  writeFileSync(join(dir, 'npm.csv'), result.toCsv());
  result.free();
  return total / ((performance.now() - t) / 1e3);
}

async function runBatch() {
  const t = performance.now();
  const lines = readFileSync(input, 'utf8').trim().split('\n');
  const header = lines[0].split(',');
  const labelAt = header.indexOf('label');
  const width = header.length - 1;
  const rows = new Float32Array((lines.length - 1) * width);
  const truth = [];
  let at = 0;
  for (let i = 1; i < lines.length; i++) {
    const cells = lines[i].split(',');
    for (let c = 0; c < cells.length; c++) {
      if (c === labelAt) truth.push(cells[c]);
      else rows[at++] = Number(cells[c]);
    }
  }
  const result = await model.predictBatch(rows, { chunkSize: 1024 });
  const { labels, indices, scores } = result;
  // The columns the command line writes: row, truth, label, index, one score per class.
  const classes = scores.length / labels.length;
  const out = [
    ['row', 'truth', 'label', 'index', ...Array.from({ length: classes }, (_, k) => `score_${k}`)].join(','),
  ];
  for (let i = 0; i < labels.length; i++) {
    const own = Array.from(scores.subarray(i * classes, (i + 1) * classes));
    out.push(`${i},${truth[i]},${labels[i]},${indices[i]},${own.join(',')}`);
  }
  writeFileSync(join(dir, 'batch.csv'), `${out.join('\n')}\n`);
  result.free();
  batchLabels = labels;
  return total / ((performance.now() - t) / 1e3);
}
let batchLabels = [];

const cores = cpus().length;
const results = { npm: [], batch: [], cli1: [], cliAll: [] };
await runNpm(); // warm-up
await runBatch();
for (let i = 0; i < rounds; i++) {
  results.npm.push(await runNpm());
  results.batch.push(await runBatch());
  results.cli1.push(runCli(1));
  results.cliAll.push(runCli(cores));
}
// The same rows, truths, labels and indices; the scores' largest difference (float rounding).
const [cliRows, npmRows] = ['cli.csv', 'npm.csv'].map(f => readFileSync(join(dir, f), 'utf8').trim().split('\n'));
let same = cliRows.length === npmRows.length && cliRows[0] === npmRows[0];
let worst = 0;
cliRows.slice(1).forEach((line, i) => {
  const [a, b] = [line.split(','), (npmRows[i + 1] ?? '').split(',')];
  same &&= a.slice(0, 4).join() === b.slice(0, 4).join();
  a.slice(4).forEach((s, k) => (worst = Math.max(worst, Math.abs(Number(s) - Number(b[4 + k])))));
});
// predictBatch on the parsed rows: the classes the command line wrote.
const labelColumn = cliRows[0].split(',').indexOf('label');
const predicted = cliRows.slice(1).map(line => line.split(',')[labelColumn]);
same &&= predicted.length === batchLabels.length && predicted.every((label, i) => label === batchLabels[i]);
const median = xs => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const npm = median(results.npm);
const batch = median(results.batch);
const row = (what, key) => {
  const rate = median(results[key]);
  return `| ${what} | ${Math.round(rate)} | ${(rate / npm).toFixed(2)}x | ${(rate / batch).toFixed(2)}x |`;
};
const table = [
  `# edgeserve predict (command line) against the npm package's predictCsv and predictBatch`,
  '',
  `${name}, ${total} rows (${megabytes} MB of CSV with a label column), median of ${rounds} rounds; Node ${process.version}, ${cores} cores.`,
  `Each reads the file and writes the predictions (row, truth, label, index, scores): ${same ? 'the same classes for every row' : 'DIFFERENT classes'}, scores within ${worst.toExponential(1)} of each other (native against wasm rounding).`,
  '',
  '| what | rows/s | against predictCsv | against predictBatch |',
  '|---|---|---|---|',
  row('npm package, predictCsv in Node (wasm, 1 thread, file in memory)', 'npm'),
  row(
    "npm package, predictBatch in Node on rows parsed and written by the caller's JavaScript (wasm, 1 thread)",
    'batch',
  ),
  row('edgeserve predict, 1 thread (native, streamed)', 'cli1'),
  row(`edgeserve predict, ${cores} threads`, 'cliAll'),
  '',
].join('\n');
console.log(table);
mkdirSync(`${root}bench/results`, { recursive: true });
writeFileSync(`${root}bench/results/cli.md`, table);
writeFileSync(
  `${root}bench/results/cli.json`,
  JSON.stringify({ name, total, rounds, cores, same, worst, results }, null, 2) + '\n',
);
if (!same) process.exitCode = 1;
