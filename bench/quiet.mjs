// How busy this machine's CPUs were with other work just before a part of the benchmark ran: a
// one-second sample of /proc/stat (Linux), kept in bench/results/quiet.json (quiet-smoke.json with
// --smoke) under the part's name. report.mjs prints it and warns above 10%: figures taken beside
// a build or a test run are slower by a factor, not comparable with the ones of a quiet machine.
//
//   node bench/quiet.mjs <part> [--reset] [--smoke]
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const part = process.argv[2];
if (!part || part.startsWith('--')) {
  console.error('usage: node bench/quiet.mjs <part> [--reset] [--smoke]');
  process.exit(2);
}
const out = fileURLToPath(
  new URL(`results/quiet${process.argv.includes('--smoke') ? '-smoke' : ''}.json`, import.meta.url),
);

/** [busy, total] jiffies of all CPUs, or null where there is no /proc/stat. */
function jiffies() {
  if (!existsSync('/proc/stat')) return null;
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  const idle = fields[3] + (fields[4] ?? 0); // idle + iowait
  return [total - idle, total];
}

const before = jiffies();
await new Promise(resolve => setTimeout(resolve, 1000));
const after = jiffies();
const busy = before && after && after[1] > before[1] ? (after[0] - before[0]) / (after[1] - before[1]) : null;
const record = !process.argv.includes('--reset') && existsSync(out) ? JSON.parse(readFileSync(out, 'utf8')) : {};
record[part] = busy;
writeFileSync(out, `${JSON.stringify(record, null, 1)}\n`);
console.log(
  `before ${part}: CPUs ${busy === null ? '(no /proc/stat)' : `${(busy * 100).toFixed(1)}%`} busy with other work`,
);
