// Images from the browser into an image model: only what must be JavaScript. The resizing,
// cropping, normalisation and decoding of outputs are the core's (model.predict(image) and
// model.detect(image) in src/wasm/image.rs), the same in every browser and in Node; this reads
// the pixels of what a page holds (an element, a bitmap, a video's current frame, a file) at
// their own size, with no resampling, into an ImageData.

/** An Error with edgeserve's `code`. */
function coded(code, message, cause) {
  return Object.assign(new Error(message, cause === undefined ? undefined : { cause }), { code });
}

const KINDS =
  'an ImageData, ImageBitmap, HTMLImageElement, HTMLCanvasElement, OffscreenCanvas, HTMLVideoElement, VideoFrame, Blob or File';

/** The natural size of a drawable source, or null where it has none yet. */
function naturalSize(source) {
  const is = name => typeof globalThis[name] === 'function' && source instanceof globalThis[name];
  if (is('HTMLImageElement')) return [source.naturalWidth, source.naturalHeight];
  if (is('HTMLVideoElement')) return [source.videoWidth, source.videoHeight];
  if (is('VideoFrame')) return [source.displayWidth, source.displayHeight];
  if (is('ImageBitmap') || is('HTMLCanvasElement') || is('OffscreenCanvas')) return [source.width, source.height];
  return null;
}

/** A 2D context of a canvas of `width x height` that getImageData reads often. */
function context(width, height) {
  if (typeof OffscreenCanvas === 'function') {
    return new OffscreenCanvas(width, height).getContext('2d', { willReadFrequently: true });
  }
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  return canvas.getContext('2d', { willReadFrequently: true });
}

/**
 * The pixels of an image a page holds, at its natural size, as an ImageData (RGBA, sRGB) for
 * model.predict(image) or model.detect(image): an ImageData (returned as it is), an ImageBitmap,
 * an HTMLImageElement (loaded), an HTMLCanvasElement or OffscreenCanvas, an HTMLVideoElement or
 * a VideoFrame (its current frame), or a Blob or File (decoded by the browser: JPEG, PNG, WebP,
 * ...; the EXIF orientation applied). The image is drawn once at its own size: no resampling,
 * which edgeserve's core does the same way everywhere.
 *
 * Rejects with code BAD_INPUT for anything else, an image not loaded yet (no size), a file that
 * does not decode, or where there is no canvas (Node: pass { data, width, height, channels }).
 */
export async function imageData(source) {
  if (typeof ImageData === 'function' && source instanceof ImageData) return source;
  if (typeof Blob === 'function' && source instanceof Blob) {
    if (typeof createImageBitmap !== 'function')
      throw coded('BAD_INPUT', 'imageData(): this platform cannot decode images (no createImageBitmap)');
    let bitmap;
    try {
      bitmap = await createImageBitmap(source, { imageOrientation: 'from-image' });
    } catch (e) {
      throw coded(
        'BAD_INPUT',
        `imageData(): the ${source.type || 'file'} does not decode as an image: ${e?.message ?? e}`,
        e,
      );
    }
    try {
      return draw(bitmap, bitmap.width, bitmap.height);
    } finally {
      bitmap.close();
    }
  }
  const size = source === null || typeof source !== 'object' ? null : naturalSize(source);
  if (!size) throw coded('BAD_INPUT', `imageData(): expected ${KINDS}, got ${describe(source)}`);
  const [width, height] = size;
  if (!(width > 0 && height > 0)) {
    throw coded(
      'BAD_INPUT',
      `imageData(): the image has no size yet (${width} x ${height}): expected one that has loaded (await img.decode(), a video with a frame)`,
    );
  }
  return draw(source, width, height);
}

function draw(source, width, height) {
  if (typeof OffscreenCanvas !== 'function' && typeof document === 'undefined') {
    throw coded(
      'BAD_INPUT',
      'imageData() needs a canvas (a browser or a worker): in Node pass { data, width, height, channels }',
    );
  }
  const ctx = context(width, height);
  ctx.drawImage(source, 0, 0, width, height);
  try {
    return ctx.getImageData(0, 0, width, height, { colorSpace: 'srgb' });
  } catch (e) {
    // A SecurityError: the canvas is tainted by an image of another origin served without CORS.
    throw coded(
      'BAD_INPUT',
      `imageData(): the image's pixels cannot be read: expected an image of this origin or one served with CORS (img.crossOrigin = 'anonymous'), got ${e?.name ?? 'an error'}: ${e?.message ?? e}`,
      e,
    );
  }
}

function describe(v) {
  if (v === null) return 'null';
  if (typeof v !== 'object') return typeof v;
  return `an object (${v.constructor?.name ?? 'Object'})`;
}
