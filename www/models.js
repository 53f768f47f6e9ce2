// Model panel: the thread count the page runs with (and a switch), each packaged model's
// manifest, an on-device benchmark of every model, and a latency budget that picks the model the
// real-time and batch panels use.
import { supported, threads } from './threads.js';

const $ = id => document.getElementById(id);

function cell(row, text, tag = 'td') {
  const c = document.createElement(tag);
  c.textContent = text;
  row.append(c);
  return c;
}

/**
 * The thread switch of the full build's panels (search, listen, read): 1 up to the device's
 * logical cores (one only where the page is not cross-origin isolated). Choosing reloads the page
 * with ?threads=N: a wasm instance makes its pool once.
 */
function setupThreads() {
  const select = $('threads');
  const cores = navigator.hardwareConcurrency || 1;
  const counts = supported
    ? [...new Set([1, 2, 4, 8, cores, threads])].filter(n => n <= Math.max(cores, threads))
    : [1];
  for (const n of counts.sort((a, b) => a - b)) select.add(new Option(String(n), String(n), false, n === threads));
  select.disabled = !supported;
  $('threads-status').textContent = supported
    ? `for the search, listen and read panels (the full build), of ${cores} logical cores; the digits models run on one`
    : 'one: this page is not cross-origin isolated (no shared memory for threads)';
  document.body.dataset.threads = String(threads);
  select.addEventListener('change', () => {
    const url = new URL(location.href);
    url.searchParams.set('threads', select.value);
    location.assign(url);
  });
}

export function setupModels(state, { Model, ModelSet }) {
  setupThreads();
  const table = $('model-table');
  const head = table.insertRow();
  for (const h of ['model', 'version', 'held-out accuracy', 'size', 'p50', 'p95', 'p99', 'sha256']) cell(head, h, 'th');
  const rows = new Map();
  for (const name of Model.names()) {
    const m = Model.load(name);
    const { version, metrics, sha256 } = m.manifest;
    const tr = table.insertRow();
    tr.dataset.model = name;
    cell(tr, name + (name === state.model ? ' (default)' : ''));
    cell(tr, version);
    cell(tr, `${(metrics.accuracy * 100).toFixed(2)}%`);
    cell(tr, `${(m.sizeBytes / 1024).toFixed(1)} KiB`);
    rows.set(name, [cell(tr, '–'), cell(tr, '–'), cell(tr, '–')]);
    const hash = cell(tr, '');
    hash.append(Object.assign(document.createElement('code'), { className: 'hash', textContent: sha256 }));
    m.free();
  }

  let set = null; // loaded when the benchmark is asked for: it holds every model
  let range = null;
  const budgetAt = slider => range.lo * (range.hi / range.lo) ** (slider / 100); // log scale
  const fmt = ms => (ms < 1 ? `${(ms * 1000).toFixed(1)} µs` : `${ms.toFixed(3)} ms`);
  const choose = () => {
    const budgetMs = budgetAt(Number($('budget').value));
    $('budget-value').textContent = fmt(budgetMs);
    const choice = set.choose({ budgetMs, percentile: 95 });
    $('choice-name').textContent = choice.name;
    $('choice-reason').textContent = `(${choice.reason})`;
    choice.model.free();
    if (choice.name !== state.model) state.use(choice.name);
    document.body.dataset.choice = choice.name;
  };

  $('bench-run').addEventListener('click', async () => {
    $('bench-run').disabled = true;
    $('bench-status').textContent = 'measuring…';
    set ??= ModelSet.embedded();
    const measured = await set.benchmark({ runs: 200 });
    for (const m of measured)
      rows.get(m.name).forEach((td, i) => {
        td.textContent = fmt([m.p50, m.p95, m.p99][i]);
      });
    const p95s = measured.map(m => m.p95);
    range = { lo: Math.min(...p95s) / 2, hi: Math.max(...p95s) * 2 };
    $('bench-status').textContent =
      `${measured[0].runs} samples per model; clock step ${fmt(measured[0].clockResolutionMs)}`;
    $('budget').disabled = false;
    $('bench-run').disabled = false;
    choose();
    document.body.dataset.benchmarked = '1';
  });
  $('budget').addEventListener('input', choose);
}
