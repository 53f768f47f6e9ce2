// The minimal demo: load the default model package, predict held-out test digits one at a
// time, and show the label and the latency measured by edgeserve.
import init, { Model } from './pkg/edgeserve.js';

const $ = (id) => document.getElementById(id);

function parseCsv(text) {
  const [header, ...lines] = text.trim().split('\n');
  const columns = header.split(',');
  const labelAt = columns.indexOf('label');
  return lines.map((line) => {
    const cells = line.split(',').map(Number);
    return { pixels: Float32Array.from(cells.filter((_, i) => i !== labelAt)), truth: String(cells[labelAt]) };
  });
}

function draw(pixels) {
  const ctx = $('digit').getContext('2d');
  const image = ctx.createImageData(8, 8);
  pixels.forEach((v, i) => {
    const c = Math.round((v / 16) * 255);
    image.data.set([c, c, c, 255], i * 4);
  });
  ctx.putImageData(image, 0, 0);
}

function formatMs(ms) {
  return ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(2)} ms`;
}

async function main() {
  await init();
  const model = Model.default();
  const { name, version, metrics } = model.manifest;
  $('model-name').textContent = `${name} ${version}`;
  $('model-accuracy').textContent = `${(metrics.accuracy * 100).toFixed(1)}% on the ${metrics.split}`;
  const rows = parseCsv(await (await fetch('data/digits-test.csv')).text());

  let next = 0;
  const predictNext = () => {
    const { pixels, truth } = rows[next];
    next = (next + 1) % rows.length;
    const r = model.predict(pixels);
    draw(pixels);
    $('label').textContent = r.label;
    $('truth').textContent = truth;
    $('latency').textContent = formatMs(r.latencyMs);
    $('status').textContent = `Test digit ${next} of ${rows.length}: ${r.label === truth ? 'right' : 'wrong'}`;
    document.body.dataset.predictions = String(Number(document.body.dataset.predictions ?? 0) + 1);
  };
  $('next').addEventListener('click', predictNext);
  $('next').disabled = false;
  predictNext();
}

main().catch((e) => {
  $('status').textContent = `Could not start: ${e.message}`;
  throw e;
});
