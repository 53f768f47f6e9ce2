// RapidOCR's pipeline ported to JavaScript on onnxruntime-web, the comparison of bench/ocr.mjs:
// what a developer writes today to read text in a page with the same three graphs. Step by step
// as rapidocr_onnxruntime 1.4.4 (main.py, ch_ppocr_det, ch_ppocr_cls, ch_ppocr_rec), with OpenCV
// in wasm (@techstark/opencv-js, the same functions as the cv2 of the Python reference) and
// Clipper (clipper-lib, the library pyclipper wraps). The image is RGB; the models take BGR,
// swapped where each tensor is filled. Images over 2000 pixels or under 30, and RapidOCR's
// letterbox of narrow strips, are left out: the benchmark's images need neither.

/** The reader: `read(rgb, width, height)` gives `{ lines, timings }` as readText() does. */
export async function createReference({ ort, cv, ClipperLib, detector, classifier, recognizer, characters }) {
  const options = { executionProviders: ['wasm'], graphOptimizationLevel: 'all' };
  const det = await ort.InferenceSession.create(detector, options);
  const cls = await ort.InferenceSession.create(classifier, options);
  const rec = await ort.InferenceSession.create(recognizer, options);
  const classes = ['', ...characters, ' '];

  /** The CHW float tensor of an RGB Mat, BGR, (x / 255 - 0.5) / 0.5, `width` wide (zeros after). */
  function fill(mat, data, offset, height, width) {
    const w = mat.cols;
    const plane = height * width;
    const src = mat.data;
    for (let y = 0; y < mat.rows; y++) {
      for (let x = 0; x < w; x++) {
        const i = (y * w + x) * 3;
        const o = offset + y * width + x;
        data[o] = src[i + 2] / 127.5 - 1;
        data[o + plane] = src[i + 1] / 127.5 - 1;
        data[o + 2 * plane] = src[i] / 127.5 - 1;
      }
    }
  }

  function resized(mat, width, height) {
    const out = new cv.Mat();
    cv.resize(mat, out, new cv.Size(width, height), 0, 0, cv.INTER_LINEAR);
    return out;
  }

  /** get_mini_boxes: the minimum-area rectangle's corners, ordered, and its shorter side. */
  function miniBox(contour) {
    const rect = cv.minAreaRect(contour);
    const points = cv.RotatedRect.points(rect).sort((a, b) => a.x - b.x);
    const [i1, i4] = points[1].y > points[0].y ? [0, 1] : [1, 0];
    const [i2, i3] = points[3].y > points[2].y ? [2, 3] : [3, 2];
    return { box: [points[i1], points[i2], points[i3], points[i4]], side: Math.min(rect.size.width, rect.size.height) };
  }

  function boxScore(map, width, height, box) {
    const xs = box.map(p => p.x);
    const ys = box.map(p => p.y);
    const clip = (v, hi) => Math.min(Math.max(v, 0), hi);
    const x0 = clip(Math.floor(Math.min(...xs)), width - 1);
    const x1 = clip(Math.ceil(Math.max(...xs)), width - 1);
    const y0 = clip(Math.floor(Math.min(...ys)), height - 1);
    const y1 = clip(Math.ceil(Math.max(...ys)), height - 1);
    const mask = cv.Mat.zeros(y1 - y0 + 1, x1 - x0 + 1, cv.CV_8UC1);
    const poly = cv.matFromArray(
      4,
      1,
      cv.CV_32SC2,
      box.flatMap(p => [Math.trunc(p.x - x0), Math.trunc(p.y - y0)]),
    );
    const polys = new cv.MatVector();
    polys.push_back(poly);
    cv.fillPoly(mask, polys, new cv.Scalar(1));
    let sum = 0;
    let count = 0;
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        if (mask.data[(y - y0) * mask.cols + (x - x0)]) {
          sum += map[y * width + x];
          count++;
        }
      }
    }
    mask.delete();
    poly.delete();
    polys.delete();
    return count ? sum / count : 0;
  }

  function unclip(box, ratio) {
    let area = 0;
    let length = 0;
    for (let i = 0; i < 4; i++) {
      const [a, b] = [box[i], box[(i + 1) % 4]];
      area += a.x * b.y - b.x * a.y;
      length += Math.hypot(b.x - a.x, b.y - a.y);
    }
    const distance = (Math.abs(area) / 2) * (ratio / length);
    const offset = new ClipperLib.ClipperOffset();
    offset.AddPath(
      box.map(p => ({ X: Math.trunc(p.x), Y: Math.trunc(p.y) })),
      ClipperLib.JoinType.jtRound,
      ClipperLib.EndType.etClosedPolygon,
    );
    const solution = new ClipperLib.Paths();
    offset.Execute(solution, distance);
    return solution[0] ?? [];
  }

  /** DBPostProcess and filter_tag_det_res: the map to line boxes in the image's pixels. */
  function boxes(map, width, height, imageWidth, imageHeight) {
    const bitmap = new cv.Mat(height, width, cv.CV_8UC1);
    for (let i = 0; i < map.length; i++) bitmap.data[i] = map[i] > 0.3 ? 255 : 0;
    const dilated = new cv.Mat();
    const kernel = cv.Mat.ones(2, 2, cv.CV_8U);
    cv.dilate(bitmap, dilated, kernel);
    const contours = new cv.MatVector();
    const hierarchy = new cv.Mat();
    cv.findContours(dilated, contours, hierarchy, cv.RETR_LIST, cv.CHAIN_APPROX_SIMPLE);
    const found = [];
    for (let k = 0; k < Math.min(contours.size(), 1000); k++) {
      const contour = contours.get(k);
      const first = miniBox(contour);
      contour.delete();
      if (first.side < 3) continue;
      if (boxScore(map, width, height, first.box) < 0.5) continue;
      const grown = unclip(first.box, 1.6);
      if (grown.length === 0) continue;
      const points = cv.matFromArray(
        grown.length,
        1,
        cv.CV_32SC2,
        grown.flatMap(p => [p.X, p.Y]),
      );
      const second = miniBox(points);
      points.delete();
      if (second.side < 5) continue;
      const scale = (v, from, to) => Math.min(Math.max(roundHalfEven((v / from) * to), 0), to);
      let box = second.box.map(p => ({ x: scale(p.x, width, imageWidth), y: scale(p.y, height, imageHeight) }));
      // order_points_clockwise, clip_det_res
      const byX = [...box].sort((a, b) => a.x - b.x);
      const [tl, bl] = byX.slice(0, 2).sort((a, b) => a.y - b.y);
      const [tr, br] = byX.slice(2).sort((a, b) => a.y - b.y);
      box = [tl, tr, br, bl].map(p => ({
        x: Math.trunc(Math.min(Math.max(p.x, 0), imageWidth - 1)),
        y: Math.trunc(Math.min(Math.max(p.y, 0), imageHeight - 1)),
      }));
      const w = Math.trunc(Math.hypot(box[0].x - box[1].x, box[0].y - box[1].y));
      const h = Math.trunc(Math.hypot(box[0].x - box[3].x, box[0].y - box[3].y));
      if (w <= 3 || h <= 3) continue;
      found.push(box);
    }
    for (const m of [bitmap, dilated, kernel, contours, hierarchy]) m.delete();
    // sorted_boxes
    found.sort((a, b) => a[0].y - b[0].y || a[0].x - b[0].x);
    for (let i = 0; i < found.length - 1; i++) {
      for (let j = i; j >= 0; j--) {
        if (Math.abs(found[j + 1][0].y - found[j][0].y) < 10 && found[j + 1][0].x < found[j][0].x) {
          [found[j], found[j + 1]] = [found[j + 1], found[j]];
        } else break;
      }
    }
    return found;
  }

  function crop(image, box) {
    const d = (a, b) => Math.hypot(a.x - b.x, a.y - b.y);
    const width = Math.trunc(Math.max(d(box[0], box[1]), d(box[2], box[3])));
    const height = Math.trunc(Math.max(d(box[0], box[3]), d(box[1], box[2])));
    const from = cv.matFromArray(
      4,
      1,
      cv.CV_32FC2,
      box.flatMap(p => [p.x, p.y]),
    );
    const to = cv.matFromArray(4, 1, cv.CV_32FC2, [0, 0, width, 0, width, height, 0, height]);
    const m = cv.getPerspectiveTransform(from, to);
    const out = new cv.Mat();
    cv.warpPerspective(image, out, m, new cv.Size(width, height), cv.INTER_CUBIC, cv.BORDER_REPLICATE);
    from.delete();
    to.delete();
    m.delete();
    if (out.rows / out.cols >= 1.5) {
      const turned = new cv.Mat();
      cv.rotate(out, turned, cv.ROTATE_90_COUNTERCLOCKWISE);
      out.delete();
      return turned;
    }
    return out;
  }

  /** Lines in batches of 6, narrowest first; `run(batch, order)` for each. */
  async function batched(lines, run) {
    const order = lines.map((l, i) => i).sort((a, b) => lines[a].cols / lines[a].rows - lines[b].cols / lines[b].rows);
    for (let start = 0; start < order.length; start += 6) await run(order.slice(start, start + 6));
  }

  async function tensorOf(lines, group, height, width) {
    const data = new Float32Array(group.length * 3 * height * width);
    group.forEach((i, slot) => {
      const line = lines[i];
      const w = Math.min(width, Math.ceil(height * (line.cols / line.rows)));
      const small = resized(line, w, height);
      fill(small, data, slot * 3 * height * width, height, width);
      small.delete();
    });
    return new ort.Tensor('float32', data, [group.length, 3, height, width]);
  }

  async function read(rgb, width, height) {
    const timings = {};
    let t = performance.now();
    const image = new cv.Mat(height, width, cv.CV_8UC3);
    image.data.set(rgb);
    // DetPreProcess: the shorter side up to 736, sides multiples of 32.
    const ratio = Math.min(width, height) < 736 ? 736 / Math.min(width, height) : 1;
    const side = s => Math.max(32, roundHalfEven(Math.trunc(s * ratio) / 32) * 32);
    const [dw, dh] = [side(width), side(height)];
    const small = resized(image, dw, dh);
    const input = new Float32Array(3 * dw * dh);
    fill(small, input, 0, dh, dw);
    small.delete();
    const out = await det.run({ [det.inputNames[0]]: new ort.Tensor('float32', input, [1, 3, dh, dw]) });
    const map = out[det.outputNames[0]].data;
    const found = boxes(map, dw, dh, width, height);
    timings.detectorMs = performance.now() - t;

    t = performance.now();
    const lines = found.map(box => crop(image, box));
    image.delete();
    timings.cropMs = performance.now() - t;

    t = performance.now();
    await batched(lines, async group => {
      const scores = (await cls.run({ [cls.inputNames[0]]: await tensorOf(lines, group, 48, 192) }))[cls.outputNames[0]]
        .data;
      group.forEach((i, slot) => {
        if (scores[slot * 2 + 1] > scores[slot * 2] && scores[slot * 2 + 1] > 0.9) {
          const turned = new cv.Mat();
          cv.rotate(lines[i], turned, cv.ROTATE_180);
          lines[i].delete();
          lines[i] = turned;
        }
      });
    });
    timings.classifierMs = performance.now() - t;

    t = performance.now();
    const read = new Array(lines.length);
    await batched(lines, async group => {
      const widest = Math.max(320 / 48, ...group.map(i => lines[i].cols / lines[i].rows));
      const output = (
        await rec.run({ [rec.inputNames[0]]: await tensorOf(lines, group, 48, Math.trunc(48 * widest)) })
      )[rec.outputNames[0]];
      const [, steps, n] = output.dims;
      group.forEach((i, slot) => {
        let text = '';
        let sum = 0;
        let kept = 0;
        let previous = -1;
        for (let s = 0; s < steps; s++) {
          const base = (slot * steps + s) * n;
          let best = 0;
          for (let c = 1; c < n; c++) if (output.data[base + c] > output.data[base + best]) best = c;
          if (best !== 0 && best !== previous) {
            text += classes[best];
            sum += output.data[base + best];
            kept++;
          }
          previous = best;
        }
        read[i] = { text, score: kept ? sum / kept : 0 };
      });
    });
    timings.recognizerMs = performance.now() - t;
    lines.forEach(l => l.delete());
    return {
      lines: found.map((box, i) => ({ ...read[i], box: box.map(p => [p.x, p.y]) })).filter(l => l.score >= 0.5),
      timings,
    };
  }

  return { read };
}

/** Python's round(): half to even. */
function roundHalfEven(v) {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
