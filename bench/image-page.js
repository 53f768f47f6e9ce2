// The image benchmark's page (driven by bench/image.mjs through Playwright; the repository served
// cross-origin isolated, a 5 us clock): window.measure(runs) times, on a 1920 x 1080 frame, the
// preprocessing of a 224 x 224 ImageNet classifier two ways, alternating run by run:
// - edgeserve: model.predict(imageData) of tests/fixtures/image/image-mean (a regression whose
//   graph only averages its input: the call is the preprocessing, in the wasm: resize of the
//   shorter side to 256 with OpenCV's bilinear, centre crop, normalisation, NCHW);
// - a canvas and JavaScript, as pages do it by hand: drawImage of the frame (an ImageBitmap) into
//   a 256-high canvas, getImageData of the centre 224 x 224, and a loop that normalises it into a
//   Float32Array in NCHW (the browser's own resampling, which differs from browser to browser).
// Both start from what a page holds: the ImageData for edgeserve, the ImageBitmap for the canvas.

const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];

/** A 1920 x 1080 frame: gradients and shapes, drawn once. */
function frame() {
  const canvas = new OffscreenCanvas(1920, 1080);
  const ctx = canvas.getContext('2d');
  const g = ctx.createLinearGradient(0, 0, 1920, 1080);
  g.addColorStop(0, '#1d3557');
  g.addColorStop(0.5, '#e9c46a');
  g.addColorStop(1, '#e76f51');
  ctx.fillStyle = g;
  ctx.fillRect(0, 0, 1920, 1080);
  for (let i = 0; i < 60; i++) {
    ctx.fillStyle = `hsl(${i * 37}, 70%, ${30 + (i % 5) * 10}%)`;
    ctx.beginPath();
    ctx.arc((i * 331) % 1920, (i * 197) % 1080, 20 + (i % 7) * 15, 0, Math.PI * 2);
    ctx.fill();
  }
  return canvas;
}

/** The hand-written way: the browser resizes, JavaScript crops and normalises. */
function byCanvas(bitmap, canvas, ctx, out) {
  const height = 256;
  const width = Math.floor((256 * bitmap.width) / bitmap.height);
  if (canvas.width !== width) [canvas.width, canvas.height] = [width, height];
  ctx.drawImage(bitmap, 0, 0, width, height);
  const left = Math.round((width - 224) / 2);
  const top = Math.round((height - 224) / 2);
  const { data } = ctx.getImageData(left, top, 224, 224);
  const plane = 224 * 224;
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) out[c * plane + p] = (data[p * 4 + c] / 255 - MEAN[c]) / STD[c];
  }
  return out;
}

window.measure = async runs => {
  const edgeserve = await import('../pkg/index.js');
  await edgeserve.default();
  const dir = '../tests/fixtures/image/';
  const model = await edgeserve.Model.fromBytes(
    new Uint8Array(await (await fetch(`${dir}image-mean.onnx`)).arrayBuffer()),
    await (await fetch(`${dir}image-mean.manifest.json`)).json(),
  );
  const source = frame();
  const imageData = source.getContext('2d').getImageData(0, 0, 1920, 1080);
  const bitmap = await createImageBitmap(source);
  const canvas = new OffscreenCanvas(1, 1);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  const out = new Float32Array(3 * 224 * 224);
  const times = { edgeserve: [], canvas: [] };
  let sink = 0;
  for (let i = 0; i < runs + 5; i++) {
    let t = performance.now();
    sink += model.predict(imageData).values[0];
    const e = performance.now() - t;
    t = performance.now();
    sink += byCanvas(bitmap, canvas, ctx, out)[0];
    const c = performance.now() - t;
    if (i >= 5) {
      times.edgeserve.push(e);
      times.canvas.push(c);
    }
  }
  // The two means agree to within what the browsers' resampling changes.
  const mean = model.predict(imageData).values[0];
  const canvasMean = byCanvas(bitmap, canvas, ctx, out).reduce((a, b) => a + b, 0) / out.length;
  model.free();
  const stats = xs => ({ p50: quantile(xs, 0.5), p95: quantile(xs, 0.95) });
  return {
    crossOriginIsolated,
    wasmBuild: edgeserve.wasmBuild(),
    edgeserve: stats(times.edgeserve),
    canvas: stats(times.canvas),
    means: { edgeserve: mean, canvas: canvasMean },
    sink: Number.isFinite(sink),
  };
};
document.body.dataset.ready = '1';
