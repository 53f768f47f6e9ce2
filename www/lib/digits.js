// From a drawing to the 8x8 grid of 0..16 intensities the digits models were trained on.
//
// scikit-learn's digits (UCI optdigits) were made from 32x32 black-and-white bitmaps of
// size-normalised digits, cut into 4x4 blocks whose "on" pixels were counted (0..16). This does
// the same to the drawing: crop to the ink, scale it (keeping its aspect ratio) to fit a 32x32
// box with its longer side filling it, centre it, threshold, and count per 4x4 block.

export const GRID = 8;
const BITMAP = 32;
const BLOCK = BITMAP / GRID;

/** The ink's bounding box in an RGBA ImageData (ink = any opaque pixel), or null when blank. */
function inkBox(image) {
  const { width, height, data } = image;
  let [x0, y0, x1, y1] = [width, height, -1, -1];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (data[(y * width + x) * 4 + 3] > 32) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  return x1 < 0 ? null : { x: x0, y: y0, w: x1 - x0 + 1, h: y1 - y0 + 1 };
}

/**
 * Reduces the drawing on `canvas` to 64 raw features (row by row, 0..16), or null when the
 * canvas is blank. `scratch` is a 32x32 canvas used for the scaling.
 */
export function toFeatures(canvas, scratch) {
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  const box = inkBox(ctx.getImageData(0, 0, canvas.width, canvas.height));
  if (!box) return null;
  const side = Math.max(box.w, box.h);
  const scale = BITMAP / side;
  const [w, h] = [box.w * scale, box.h * scale];
  const s = scratch.getContext('2d', { willReadFrequently: true });
  s.clearRect(0, 0, BITMAP, BITMAP);
  s.imageSmoothingEnabled = true;
  s.drawImage(canvas, box.x, box.y, box.w, box.h, (BITMAP - w) / 2, (BITMAP - h) / 2, w, h);
  const { data } = s.getImageData(0, 0, BITMAP, BITMAP);
  const features = new Float32Array(GRID * GRID);
  for (let y = 0; y < BITMAP; y++) {
    for (let x = 0; x < BITMAP; x++) {
      if (data[(y * BITMAP + x) * 4 + 3] >= 96) features[Math.floor(y / BLOCK) * GRID + Math.floor(x / BLOCK)] += 1;
    }
  }
  return features;
}

/** Paints 64 features (0..16) as an 8x8 grey image on a canvas of GRID x GRID pixels. */
export function paintGrid(canvas, features) {
  const ctx = canvas.getContext('2d');
  const image = ctx.createImageData(GRID, GRID);
  features.forEach((v, i) => {
    const c = Math.round((v / 16) * 255);
    image.data.set([c, c, c, 255], i * 4);
  });
  ctx.putImageData(image, 0, 0);
}

/** Parses the test-set CSV (header p0..p63,label) into rows of features and labels. */
export function parseDigitsCsv(text) {
  const [header, ...lines] = text.trim().split('\n');
  const labelAt = header.split(',').indexOf('label');
  return lines.map(line => {
    const cells = line.split(',').map(Number);
    return { features: Float32Array.from(cells.filter((_, i) => i !== labelAt)), label: String(cells[labelAt]) };
  });
}
