// Batch panel: the held-out test set (or a CSV the user picks) through the worker, with
// progress, rows per second, accuracy, a confusion matrix and the predictions as a download.
const $ = id => document.getElementById(id);
// 12,345 without Intl (its first use loads locale data: a long task on the main thread).
const thousands = n => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');

function confusion(table, labels, truth, predicted) {
  const index = new Map(labels.map((l, i) => [l, i]));
  const counts = labels.map(() => labels.map(() => 0));
  truth.forEach((t, i) => {
    const [a, b] = [index.get(t), index.get(predicted[i])];
    if (a !== undefined && b !== undefined) counts[a][b]++;
  });
  table.replaceChildren();
  const head = table.insertRow();
  head.append(Object.assign(document.createElement('th'), { textContent: 'true \\ predicted' }));
  labels.forEach(l => head.append(Object.assign(document.createElement('th'), { textContent: l })));
  counts.forEach((row, a) => {
    const tr = table.insertRow();
    tr.append(Object.assign(document.createElement('th'), { textContent: labels[a] }));
    row.forEach((n, b) => {
      const td = tr.insertCell();
      td.textContent = n;
      if (a === b) td.className = 'hit';
    });
  });
}

export function setupBatch(state, workerFor) {
  let csvOut = null;
  const run = async (text, source) => {
    $('batch-run').disabled = true;
    $('batch-download').disabled = true;
    $('batch-progress').value = 0;
    try {
      const remote = await workerFor(state.model);
      const hasLabels = text
        .slice(0, text.indexOf('\n'))
        .split(',')
        .map(c => c.trim())
        .includes('label');
      const res = await remote.predictCsv(text, {
        labelColumn: hasLabels ? 'label' : undefined,
        chunkSize: 64,
        onProgress: ({ done, total, rowsPerSecond }) => {
          $('batch-progress').value = done / total;
          $('batch-rows').textContent = `${done} of ${total} rows`;
          $('batch-rate').textContent = `${thousands(Math.round(rowsPerSecond))} rows/s`;
        },
      });
      $('batch-rows').textContent = `${res.rows} rows of ${source} with ${remote.name}`;
      $('batch-rate').textContent = `${thousands(Math.round(res.rowsPerSecond))} rows/s`;
      $('batch-accuracy').textContent =
        res.accuracy === undefined ? 'no labels' : `${(res.accuracy * 100).toFixed(2)}%`;
      if (res.truth) confusion($('batch-confusion'), remote.manifest.labels, res.truth, res.labels);
      csvOut = res.toCsv();
      $('batch-download').disabled = false;
      document.body.dataset.batchRuns = String(Number(document.body.dataset.batchRuns ?? 0) + 1);
    } catch (e) {
      $('batch-rows').textContent = `Could not predict ${source}: ${e.message}`;
    } finally {
      $('batch-run').disabled = false;
    }
  };
  $('batch-run').addEventListener('click', async () =>
    run(await (await fetch('data/digits-test.csv')).text(), 'the test set'),
  );
  $('batch-file').addEventListener('change', async e => {
    const file = e.target.files?.[0];
    if (file) run(await file.text(), file.name);
  });
  $('batch-download').addEventListener('click', () => {
    // A data: URL, not a blob: URL (the page's CSP allows neither to load; a download is fine).
    const href = `data:text/csv;charset=utf-8,${encodeURIComponent(csvOut)}`;
    Object.assign(document.createElement('a'), { href, download: 'edgeserve-predictions.csv' }).click();
  });
}
