// Read text panel: OCR on this device. On demand (a button or a picked image), the page fetches
// the full build of edgeserve (pkg-full/, as the search and listen panels do) and starts a
// WorkerModel of the package ocr (PP-OCRv4: detector, orientation classifier, recogniser) by name:
// the package ships it beside its wasm (pkg-full/models/ocr/) and the worker fetches it, so reading
// never blocks the page.
// - An image picked or dropped here: the browser decodes it (imageData(), EXIF orientation
//   applied), the worker reads it; its lines' boxes are drawn over it and their texts listed.
// - The camera: its current frame is read, then the next one as soon as that is done, with the
//   boxes drawn over the frame that was read.
// Each reading shows the time of each stage (detector, crops, classifier, recogniser).
import { running, threads } from './threads.js';
import { acceptDrops, deviceError } from './lib/media.js';

const $ = id => document.getElementById(id);

export function setupRead() {
  const cameraButton = $('read-camera');
  const file = $('read-file');
  const panel = $('read');
  const status = $('read-status');
  const canvas = $('read-canvas');
  const list = $('read-lines');
  const video = document.createElement('video');
  video.muted = true;
  video.playsInline = true;
  let pkg = null;
  let model = null;
  let camera = null;
  let readings = 0;

  async function loadOcr() {
    if (!model) {
      status.textContent = 'Downloading the OCR model (PP-OCRv4, 16 MB, once)…';
      pkg = await import('./pkg-full/index.js');
      await pkg.default();
      model = await pkg.WorkerModel.create({ model: 'ocr', threads });
      running(threads > 1 && model.wasmBuild === 'threads' ? threads : 1, model.wasmBuild);
    }
    return model;
  }

  function show(image, reading) {
    canvas.width = image.width;
    canvas.height = image.height;
    const g = canvas.getContext('2d');
    g.putImageData(image, 0, 0);
    g.lineWidth = Math.max(2, image.width / 400);
    g.strokeStyle = '#1f6feb';
    for (const line of reading.lines) {
      g.beginPath();
      line.box.forEach(([x, y], i) => (i ? g.lineTo(x, y) : g.moveTo(x, y)));
      g.closePath();
      g.stroke();
    }
    list.replaceChildren(
      ...reading.lines.map(line => {
        const li = document.createElement('li');
        li.textContent = line.text;
        li.title = `score ${line.score.toFixed(3)}`;
        return li;
      }),
    );
    const t = reading.timings;
    $('read-latency').textContent =
      `${reading.latencyMs.toFixed(0)} ms: detector ${t.detectorMs.toFixed(0)} ms, crops ${t.cropMs.toFixed(0)} ms, ` +
      `classifier ${t.classifierMs.toFixed(0)} ms, recogniser ${t.recognizerMs.toFixed(0)} ms`;
    readings++;
    document.body.dataset.readLines = String(reading.lines.length);
    document.body.dataset.readings = String(readings);
  }

  async function readImage(source, name) {
    const ocr = await loadOcr();
    status.textContent = `Reading ${name}…`;
    const image = await pkg.imageData(source);
    const reading = await ocr.readText(image);
    show(image, reading);
    status.textContent = `${name} (${image.width} x ${image.height}): ${reading.lines.length} lines.`;
    return reading;
  }

  async function readFrames() {
    while (camera) {
      const reading = await readImage(video, 'the camera');
      if (!camera) break;
      status.textContent = `The camera (${video.videoWidth} x ${video.videoHeight}): ${reading.lines.length} lines; reading the next frame…`;
    }
  }

  async function startCamera() {
    if (!navigator.mediaDevices?.getUserMedia) {
      status.textContent =
        'No camera here: this browser gives none to this page (it needs https or localhost). Pick an image instead.';
      return;
    }
    cameraButton.disabled = true;
    try {
      await loadOcr();
      status.textContent = 'Asking for the camera…';
      camera = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 } });
      video.srcObject = camera;
      await video.play();
      cameraButton.textContent = 'Stop the camera';
      document.body.dataset.camera = '1';
      readFrames().catch(e => {
        status.textContent = `Could not read the camera's frame: ${e.message}`;
        stopCamera();
      });
    } catch (e) {
      stopCamera();
      status.textContent = e?.code ? `Could not read: ${e.message}` : deviceError(e, 'camera', 'pick an image');
    } finally {
      cameraButton.disabled = false;
    }
  }

  function stopCamera() {
    camera?.getTracks().forEach(t => t.stop());
    camera = null;
    video.srcObject = null;
    cameraButton.textContent = 'Read from the camera';
    document.body.dataset.camera = '0';
  }

  function readFile(picked) {
    if (!picked) return;
    if (camera) stopCamera();
    readImage(picked, picked.name).catch(e => {
      status.textContent = `Could not read ${picked.name}: ${e.message}`;
    });
  }

  cameraButton.addEventListener('click', () => (camera ? stopCamera() : startCamera()));
  file.addEventListener('change', () => readFile(file.files[0]));
  acceptDrops(panel, readFile);
}
