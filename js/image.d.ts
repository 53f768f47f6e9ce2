import type { ImageDataLike } from './edgeserve.js';

/** A drawable image a page holds, or an encoded file. */
export type ImageSource =
  | ImageDataLike
  | ImageBitmap
  | HTMLImageElement
  | HTMLCanvasElement
  | OffscreenCanvas
  | HTMLVideoElement
  | VideoFrame
  | Blob;

/**
 * The pixels of an image a page holds at its natural size, as an ImageData (RGBA, sRGB) for
 * model.predict(image) or model.detect(image): elements, bitmaps and canvases drawn once with no
 * resampling, a video's current frame, a Blob or File decoded by the browser. Browser and
 * workers only (Node: pass { data, width, height, channels }).
 */
export function imageData(source: ImageSource): Promise<ImageData>;
