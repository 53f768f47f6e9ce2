// Model panel: each packaged model's manifest, an on-device benchmark of every model, and a
// latency budget that picks the model the real-time and batch panels use.
const $ = id => document.getElementById(id);

function cell(row, text, tag = 'td') {
  const c = document.createElement(tag);
  c.textContent = text;
  row.append(c);
  return c;
}

export function setupModels(state, { Model, ModelSet }) {
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
