// Real-time panel: draw a digit, see the 8x8 grid the model sees, the prediction, a bar per
// class, this prediction's latency and the session's percentiles.
import { paintGrid, toFeatures } from './lib/digits.js';

const $ = id => document.getElementById(id);

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

  const blank = () => {
    $('rt-label').textContent = '–';
    $('rt-latency').textContent = '–';
    for (const li of bars.children) {
      li.children[1].value = 0;
      li.children[2].textContent = '0.00';
    }
  };

  // Requests are numbered, and only the latest one's reply (or error) is shown: predictions
  // overlap (a stroke, then a change of model), run on different workers (a warm one, one still
  // starting) and can finish out of order, so an older reply would show another model's label
  // than the one selected, or refill a pad cleared meanwhile. A clear counts as a request.
  let latest = 0;
  const clear = () => {
    latest++;
    ctx.clearRect(0, 0, pad.width, pad.height);
    paintGrid($('grid'), new Float32Array(64));
    blank();
  };

  let predictions = 0; // shown, counted once each (the e2e tests wait on it)
  const predict = async () => {
    const features = toFeatures(pad, scratch);
    if (!features) return;
    const seq = ++latest;
    const name = state.model;
    paintGrid($('grid'), features);
    try {
      const remote = await workerFor(name);
      const r = await remote.predict(features);
      const { realtime } = await remote.latency();
      if (seq !== latest) return; // superseded: a newer request shows its own reply
      $('rt-label').textContent = r.label;
      $('rt-latency').textContent = formatMs(r.latencyMs);
      [...bars.children].forEach((li, i) => {
        li.children[1].value = r.scores[i];
        li.children[2].textContent = r.scores[i].toFixed(2);
      });
      $('rt-stats').textContent =
        `${realtime.count} predictions · p50 ${formatMs(realtime.p50)} · p95 ${formatMs(realtime.p95)} · p99 ${formatMs(realtime.p99)}`;
      document.body.dataset.realtimeModel = remote.name;
      document.body.dataset.realtimePredictions = String(++predictions);
    } catch (e) {
      // Callers do not wait on predict(): a failure (a model's worker that could not start, a
      // worker that failed) is shown here, in the panel, or nowhere.
      if (seq !== latest) return;
      blank();
      $('rt-latency').textContent = `could not predict with ${name}: ${e.message}`;
    }
  };

  let drawing = false;
  const point = e => {
    const rect = pad.getBoundingClientRect();
    return [((e.clientX - rect.left) / rect.width) * pad.width, ((e.clientY - rect.top) / rect.height) * pad.height];
  };
  pad.addEventListener('pointerdown', e => {
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
  pad.addEventListener('pointermove', e => {
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
  pad.addEventListener('keydown', e => (e.key === 'Escape' || e.key === 'Delete') && clear());

  const showModel = name => {
    $('rt-model').textContent = name;
    predict();
  };
  state.listeners.push(showModel);
  $('rt-model').textContent = state.model;
  clear();
}
