// Stream panel: a source emits test-set digits at a chosen rate through WorkerModel.stream()
// (model.stream() running in the worker). Live: events in, predictions out, queue depth,
// end-to-end latency (queued + inference) over time, its p99, and errors.
import { parseDigitsCsv } from './lib/digits.js';

const $ = id => document.getElementById(id);
// 12,345 without Intl (its first use loads locale data: a long task on the main thread).
const thousands = n => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
const WINDOW_MS = 250;

/** Events a second, as the slider says (10 to 5,000). */
const rateAt = v => Math.min(5000, Math.max(10, v));

function p99(values) {
  if (values.length === 0) return 0;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))];
}

function drawChart(canvas, points) {
  const ctx = canvas.getContext('2d');
  const { width, height } = canvas;
  ctx.clearRect(0, 0, width, height);
  if (points.length < 2) return;
  const max = Math.max(...points, 0.01);
  ctx.strokeStyle = '#2563eb';
  ctx.lineWidth = 2;
  ctx.beginPath();
  points.forEach((v, i) => {
    const x = (i / (points.length - 1)) * width;
    const y = height - (v / max) * (height - 4) - 2;
    if (i === 0) ctx.moveTo(x, y);
    else ctx.lineTo(x, y);
  });
  ctx.stroke();
  ctx.fillStyle = 'currentColor';
  ctx.fillText(`${max.toFixed(2)} ms`, 4, 12);
}

export function setupStream(state, workerFor) {
  let running = null;
  let rows = null;
  const stats = { in: 0, out: 0, errors: 0, latencies: [], chart: [] };
  const show = () => {
    $('stream-in').textContent = thousands(stats.in);
    $('stream-out').textContent = thousands(stats.out);
    $('stream-queue').textContent = String(stats.in - stats.out);
    $('stream-errors').textContent = String(stats.errors);
    $('stream-p99').textContent = `${p99(stats.latencies).toFixed(3)} ms`;
    document.body.dataset.streamIn = String(stats.in);
    document.body.dataset.streamOut = String(stats.out);
    document.body.dataset.streamErrors = String(stats.errors);
  };
  $('stream-rate').addEventListener('input', () => {
    $('stream-rate-value').textContent = `${rateAt(Number($('stream-rate').value))} / s`;
  });
  $('stream-rate').dispatchEvent(new Event('input'));

  const start = async () => {
    rows ??= parseDigitsCsv(await (await fetch('data/digits-test.csv')).text());
    const remote = await workerFor(state.model);
    Object.assign(stats, { in: 0, out: 0, errors: 0, latencies: [], chart: [] });
    let stop = false;
    let windowLatencies = [];
    const source = new ReadableStream({
      async start(controller) {
        let last = performance.now();
        let owed = 0;
        while (!stop) {
          await new Promise(r => setTimeout(r, 10));
          const now = performance.now();
          owed += ((now - last) / 1000) * rateAt(Number($('stream-rate').value));
          last = now;
          for (; owed >= 1; owed--) {
            controller.enqueue(rows[stats.in % rows.length].features);
            stats.in++;
          }
        }
        controller.close();
      },
    });
    const sink = new WritableStream({
      write(o) {
        stats.out++;
        if (o.error) stats.errors++;
        else {
          const e2e = o.queuedMs + o.latencyMs;
          stats.latencies.push(e2e);
          windowLatencies.push(e2e);
          if (stats.latencies.length > 20_000) stats.latencies.splice(0, 10_000);
        }
      },
    });
    const ticker = setInterval(() => {
      stats.chart.push(p99(windowLatencies));
      if (stats.chart.length > 120) stats.chart.shift();
      windowLatencies = [];
      drawChart($('stream-chart'), stats.chart);
      show();
    }, WINDOW_MS);
    const done = source.pipeThrough(remote.stream({ maxBatch: 32, maxWaitMs: 5 })).pipeTo(sink);
    running = async () => {
      stop = true;
      await done;
      clearInterval(ticker);
      show();
    };
    $('stream-toggle').textContent = 'Stop';
    document.body.dataset.streaming = '1';
  };

  $('stream-toggle').addEventListener('click', async () => {
    $('stream-toggle').disabled = true;
    if (running) {
      const stop = running;
      running = null;
      await stop();
      $('stream-toggle').textContent = 'Start';
      document.body.dataset.streaming = '0';
    } else {
      await start();
    }
    $('stream-toggle').disabled = false;
  });
}
