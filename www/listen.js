// Listen panel: voice activity on this device. On demand (a button), the page fetches the full
// build of edgeserve (pkg-full/, as the search panel does) and loads the package vad (Silero VAD)
// by name: the package ships it beside its wasm (pkg-full/models/vad/), edgeserve caches it.
// - The microphone: its stream goes through edgeserve's AudioWorklet (pkg-full/audio-worklet.js,
//   a module file: the page's CSP allows no inline script) to a session of the model, which
//   resamples it to 16 kHz and runs it 32 ms frame by 32 ms frame with the model's state carried
//   over. Each frame's speech probability is drawn as it comes, segments are listed as they start
//   and end, with the time each block took.
// - A file (picked or dropped): WAV is read by edgeserve itself; other formats are decoded by the
//   browser (decodeAudio). Its segments are listed and its probabilities drawn.
import { running, threads } from './threads.js';
import { acceptDrops, deviceError } from './lib/media.js';

const $ = id => document.getElementById(id);
const SHOWN_SECONDS = 10;

export function setupListen() {
  const mic = $('listen-mic');
  const file = $('listen-file');
  const panel = $('listen');
  const status = $('listen-status');
  const chart = $('listen-chart');
  const list = $('listen-segments');
  let pkg = null;
  let vad = null;
  let listener = null;
  let stream = null;
  let probabilities = [];
  let frameSeconds = 0.032;
  let threshold = 0.5;
  let latencies = [];
  let drawn = false;

  async function loadVad() {
    if (!vad) {
      status.textContent = 'Downloading the voice-activity model (Silero VAD, 1.25 MB, once)…';
      pkg = await import('./pkg-full/index.js');
      await pkg.default({ threads });
      running(pkg.threadCount(), pkg.wasmBuild());
      vad = await pkg.Model.load('vad');
      frameSeconds = vad.manifest.preprocessing.frame / vad.manifest.preprocessing.sampleRate;
      threshold = vad.manifest.voiceActivity?.threshold ?? 0.5;
    }
    return vad;
  }

  function draw() {
    drawn = false;
    const g = chart.getContext('2d');
    const { width, height } = chart;
    g.clearRect(0, 0, width, height);
    const shown = Math.round(SHOWN_SECONDS / frameSeconds);
    const values = probabilities.length > shown ? probabilities.slice(-shown) : probabilities;
    const dx = width / Math.max(shown, values.length);
    g.fillStyle = 'rgba(31, 111, 235, 0.15)';
    values.forEach((p, i) => p >= threshold && g.fillRect(i * dx, 0, Math.ceil(dx), height));
    g.strokeStyle = '#888';
    g.setLineDash([4, 4]);
    g.beginPath();
    g.moveTo(0, height * (1 - threshold));
    g.lineTo(width, height * (1 - threshold));
    g.stroke();
    g.setLineDash([]);
    g.strokeStyle = '#1f6feb';
    g.beginPath();
    values.forEach((p, i) => (i ? g.lineTo(i * dx, height * (1 - p)) : g.moveTo(0, height * (1 - p))));
    g.stroke();
  }

  function redraw() {
    if (!drawn) {
      drawn = true;
      requestAnimationFrame(draw);
    }
  }

  function segment(start, end) {
    const li = document.createElement('li');
    li.textContent = `${start.toFixed(2)} s – ${end === null ? '…' : `${end.toFixed(2)} s`}`;
    return li;
  }

  function counted() {
    document.body.dataset.listenFrames = String(probabilities.length);
    document.body.dataset.listenSegments = String(list.querySelectorAll('li.done').length);
  }

  function onStep(step) {
    for (const p of step.probabilities) probabilities.push(p);
    if (probabilities.length > 4 * (SHOWN_SECONDS / frameSeconds)) {
      probabilities = probabilities.slice(-Math.round(SHOWN_SECONDS / frameSeconds));
    }
    for (const event of step.events) {
      if (event.type === 'start') {
        list.append(Object.assign(segment(event.time, null), { start: event.time }));
      } else {
        const open = list.lastElementChild;
        open?.replaceWith(Object.assign(segment(open.start ?? 0, event.time), { className: 'done' }));
      }
    }
    if (step.probabilities.length > 0) {
      latencies.push(step.latencyMs);
      const sorted = [...latencies.slice(-200)].sort((a, b) => a - b);
      $('listen-latency').textContent =
        `${step.latencyMs.toFixed(2)} ms for ${step.probabilities.length} frame(s) (median ${sorted[sorted.length >> 1].toFixed(2)} ms)`;
    }
    $('listen-speech').textContent = step.inSpeech ? 'speech' : 'silence';
    counted();
    redraw();
  }

  async function start() {
    if (!navigator.mediaDevices?.getUserMedia) {
      status.textContent =
        'No microphone here: this browser gives none to this page (it needs https or localhost). Pick an audio file instead.';
      return;
    }
    mic.disabled = true;
    try {
      const model = await loadVad();
      status.textContent = 'Asking for the microphone…';
      stream = await navigator.mediaDevices.getUserMedia({
        audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: false },
      });
      probabilities = [];
      latencies = [];
      list.replaceChildren();
      listener = await pkg.listen(model, stream, {
        onStep,
        onError: e => (status.textContent = `A block failed (listening goes on): ${e.message}`),
      });
      status.textContent = `Listening at ${listener.sampleRate} Hz, resampled to 16 kHz in the model's session.`;
      mic.textContent = 'Stop';
      document.body.dataset.listening = '1';
    } catch (e) {
      stream?.getTracks().forEach(t => t.stop());
      stream = null;
      status.textContent = e?.code ? `Could not listen: ${e.message}` : deviceError(e, 'microphone', 'pick a file');
    } finally {
      mic.disabled = false;
    }
  }

  async function stop() {
    mic.disabled = true;
    try {
      const last = await listener.stop();
      onStep(last);
      status.textContent = `Stopped after ${probabilities.length} frames.`;
    } finally {
      stream?.getTracks().forEach(t => t.stop());
      listener = null;
      stream = null;
      mic.textContent = 'Listen to the microphone';
      mic.disabled = false;
      document.body.dataset.listening = '0';
    }
  }

  async function analyse(picked) {
    const model = await loadVad();
    status.textContent = `Reading ${picked.name}…`;
    const bytes = new Uint8Array(await picked.arrayBuffer());
    const text = (at, n) => String.fromCharCode(...bytes.subarray(at, at + n));
    const wav = text(0, 4) === 'RIFF' && text(8, 4) === 'WAVE';
    const audio = wav ? bytes : await pkg.decodeAudio(bytes, model.manifest.preprocessing.sampleRate);
    const found = model.speechSegments(audio);
    probabilities = Array.from(found.probabilities);
    list.replaceChildren(...found.segments.map(s => Object.assign(segment(s.start, s.end), { className: 'done' })));
    const speed = found.durationSeconds / (found.latencyMs / 1000);
    status.textContent = `${picked.name}: ${found.segments.length} speech segments in ${found.durationSeconds.toFixed(1)} s of audio (${wav ? 'WAV, read by edgeserve' : 'decoded by the browser'}), found in ${found.latencyMs.toFixed(0)} ms (${speed.toFixed(0)}x real time).`;
    $('listen-latency').textContent = `${(found.latencyMs / found.probabilities.length).toFixed(3)} ms per frame`;
    counted();
    document.body.dataset.listenFile = picked.name;
    draw();
  }

  function analyseFile(picked) {
    if (!picked) return;
    if (listener) {
      status.textContent = 'Stop listening to the microphone first.';
      return;
    }
    analyse(picked).catch(e => {
      status.textContent = `Could not read ${picked.name}: ${e.message}`;
    });
  }

  mic.addEventListener('click', () => {
    (listener ? stop() : start()).catch(e => {
      status.textContent = `Could not listen: ${e.message}`;
    });
  });
  file.addEventListener('change', () => analyseFile(file.files[0]));
  acceptDrops(panel, analyseFile);
}
