// Real-time panel: draw a digit, see the 8x8 grid the model sees, the prediction, a bar per
// class, this prediction's latency and the session's percentiles.
import { paintGrid, toFeatures } from './lib/digits.js';

const $ = (id) => document.getElementById(id);

function formatMs(ms) {
  return ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(2)} ms`;
}

export function setupRealtime(state, workerFor) {
  const pad = $('pad');
  const ctx = pad.getContext('2d', { willReadFrequently: true });
  const scratch = document.createElement('canvas');
  scratch.width = scratch.height = 32;
  const bars = $('rt-bars');
  for (let i = 0; i < 10; i++) {
    const li = document.createElement('li');
    li.innerHTML = `<span>${i}</span><meter min="0" max="1" value="0"></meter><span>0.00</span>`;
    bars.append(li);
  }

  const clear = () => {
    ctx.clearRect(0, 0, pad.width, pad.height);
    paintGrid($('grid'), new Float32Array(64));
    $('rt-label').textContent = '–';
    $('rt-latency').textContent = '–';
    for (const li of bars.children) {
      li.children[1].value = 0;
      li.children[2].textContent = '0.00';
    }
  };

  let predictions = 0;
  const predict = async () => {
    const features = toFeatures(pad, scratch);
    if (!features) return;
    paintGrid($('grid'), features);
    const remote = await workerFor(state.model);
    const r = await remote.predict(features);
    $('rt-label').textContent = r.label;
    $('rt-latency').textContent = formatMs(r.latencyMs);
    [...bars.children].forEach((li, i) => {
      li.children[1].value = r.scores[i];
      li.children[2].textContent = r.scores[i].toFixed(2);
    });
    const { realtime } = await remote.latency();
    $('rt-stats').textContent = `${realtime.count} predictions · p50 ${formatMs(realtime.p50)} · p95 ${formatMs(realtime.p95)} · p99 ${formatMs(realtime.p99)}`;
    document.body.dataset.realtimeModel = remote.name;
    document.body.dataset.realtimePredictions = String(++predictions);
  };

  let drawing = false;
  const point = (e) => {
    const rect = pad.getBoundingClientRect();
    return [((e.clientX - rect.left) / rect.width) * pad.width, ((e.clientY - rect.top) / rect.height) * pad.height];
  };
  pad.addEventListener('pointerdown', (e) => {
    drawing = true;
    pad.setPointerCapture(e.pointerId);
    ctx.lineWidth = 22;
    ctx.lineCap = ctx.lineJoin = 'round';
    ctx.strokeStyle = '#111';
    ctx.beginPath();
    ctx.moveTo(...point(e));
    ctx.lineTo(...point(e));
    ctx.stroke();
  });
  pad.addEventListener('pointermove', (e) => {
    if (!drawing) return;
    ctx.lineTo(...point(e));
    ctx.stroke();
  });
  const end = () => {
    if (!drawing) return;
    drawing = false;
    predict();
  };
  pad.addEventListener('pointerup', end);
  pad.addEventListener('pointercancel', end);
  $('clear').addEventListener('click', clear);
  pad.addEventListener('keydown', (e) => (e.key === 'Escape' || e.key === 'Delete') && clear());

  const showModel = (name) => {
    $('rt-model').textContent = name;
    predict();
  };
  state.listeners.push(showModel);
  $('rt-model').textContent = state.model;
  clear();
}
