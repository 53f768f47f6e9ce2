//! The boundary: the only module with `#[wasm_bindgen]` items, thin over the core.
//!
//! It compiles natively too: there, a JavaScript value is stood for by a `serde_json::Value`
//! and errors stay [`crate::Error`], so `cargo test` covers the same code paths and result
//! shapes; on wasm32 the same methods take and return real JavaScript values. Where JavaScript
//! needs a Promise (batches yield to the event loop between chunks) the wasm32 method is async
//! and the native one runs to the end.
//!
//! Errors reach JavaScript as `Error` objects whose `message` says what was wrong, what was
//! expected and what came, and whose `code` is [`crate::Error::code`].

// `Ok(x?)` converts the core error into a JavaScript Error on wasm32; natively, where the error
// type is the core's, clippy sees a needless `?`.
#![allow(clippy::needless_question_mark)]

pub mod audio;
pub mod batch;
pub mod image;
mod job;
pub mod js;
pub mod ocr;
pub mod runtime;
pub mod set;
#[cfg(target_family = "wasm")]
pub mod stream;
pub mod text;
pub mod threads;

use std::cell::RefCell;
use std::rc::Rc;

use crate::error::Error;
use crate::model::LoadedModel;
use crate::package::Registry;
use crate::serve::realtime::Timed;
use js::{read_row, to_value, PredictionJs};

#[cfg(target_family = "wasm")]
use wasm_bindgen::prelude::*;

pub use batch::BatchResult;
pub use set::ModelSet;

/// A JavaScript value (natively: its JSON stand-in).
#[cfg(target_family = "wasm")]
pub type Value = JsValue;
/// A JavaScript value (natively: its JSON stand-in).
#[cfg(not(target_family = "wasm"))]
pub type Value = serde_json::Value;

#[cfg(target_family = "wasm")]
#[wasm_bindgen]
extern "C" {
    /// One row of raw features as JavaScript passes it (`RowInput` in the `.d.ts`).
    #[wasm_bindgen(typescript_type = "RowInput")]
    pub type RowInput;
    /// A batch of rows (`BatchInput` in the `.d.ts`).
    #[wasm_bindgen(typescript_type = "BatchInput")]
    pub type BatchInput;
    /// An options object of one of the option types of the `.d.ts`.
    #[wasm_bindgen(typescript_type = "BatchOptions")]
    pub type BatchOptions;
    #[wasm_bindgen(typescript_type = "CsvOptions")]
    pub type CsvOptions;
    #[wasm_bindgen(typescript_type = "StreamOptions")]
    pub type StreamOptions;
    #[wasm_bindgen(typescript_type = "BenchmarkOptions")]
    pub type BenchmarkOptions;
    #[wasm_bindgen(typescript_type = "ChooseOptions")]
    pub type ChooseOptions;
    #[wasm_bindgen(typescript_type = "Partial<Manifest>")]
    pub type ManifestInput;
    #[wasm_bindgen(typescript_type = "RunOptions")]
    pub type RunOptions;
    #[wasm_bindgen(typescript_type = "Record<string, number[]>")]
    pub type ShapesInput;
    #[wasm_bindgen(typescript_type = "FromUrlOptions")]
    pub type FromUrlOptions;
    #[wasm_bindgen(typescript_type = "FromBytesOptions")]
    pub type FromBytesOptions;
    #[wasm_bindgen(typescript_type = "LoadOptions")]
    pub type LoadOptions;
    #[wasm_bindgen(typescript_type = "TextInput")]
    pub type TextInput;
    #[wasm_bindgen(typescript_type = "string")]
    pub type StringInput;
}
/// One row of raw features (natively: the JSON stand-in of the JavaScript value).
#[cfg(not(target_family = "wasm"))]
pub type RowInput = serde_json::Value;
/// A batch of rows (natively: JSON).
#[cfg(not(target_family = "wasm"))]
pub type BatchInput = serde_json::Value;
/// Options objects (natively: JSON).
#[cfg(not(target_family = "wasm"))]
pub type BatchOptions = serde_json::Value;
#[cfg(not(target_family = "wasm"))]
pub type CsvOptions = serde_json::Value;
#[cfg(not(target_family = "wasm"))]
pub type ChooseOptions = serde_json::Value;
#[cfg(not(target_family = "wasm"))]
pub type BenchmarkOptions = serde_json::Value;
/// A text or a list of texts (natively: JSON).
#[cfg(not(target_family = "wasm"))]
pub type TextInput = serde_json::Value;
/// A string argument (natively: JSON).
#[cfg(not(target_family = "wasm"))]
pub type StringInput = serde_json::Value;

/// An options object as a plain value.
#[cfg(target_family = "wasm")]
fn options<T: AsRef<JsValue>>(o: &Option<T>) -> Option<&Value> {
    o.as_ref().map(AsRef::as_ref)
}
#[cfg(not(target_family = "wasm"))]
fn options(o: &Option<Value>) -> Option<&Value> {
    o.as_ref()
}

/// What a failing export throws (natively: the core error).
#[cfg(target_family = "wasm")]
pub type Thrown = JsValue;
/// What a failing export throws (natively: the core error).
#[cfg(not(target_family = "wasm"))]
pub type Thrown = Error;

#[cfg(target_family = "wasm")]
impl From<Error> for JsValue {
    /// A JavaScript `Error` with the message and a `code` property.
    fn from(e: Error) -> JsValue {
        let js = js_sys::Error::new(&e.to_string());
        // Setting a property on a fresh Error object cannot fail.
        let _ = js_sys::Reflect::set(&js, &JsValue::from_str("code"), &JsValue::from_str(e.code()));
        js.into()
    }
}

#[cfg(target_family = "wasm")]
#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** Element types of tensors, named as in numpy. */
export type DType = 'float32' | 'float64' | 'int8' | 'int16' | 'int32' | 'int64' | 'uint8' | 'uint16' | 'uint32' | 'uint64' | 'bool';
/** A dimension: a fixed size, or a symbol such as "N" (the batch dimension). */
export type Dim = number | string;
export interface TensorSpec { name: string; dtype: DType; shape: Dim[] }
export interface OutputSpec extends TensorSpec {
  /** label: class index into labels, shape [N]; scores: one per class, [N, labels.length]; value: regression values. Absent without a task. */
  role?: 'label' | 'scores' | 'value' | 'embedding' | 'probability' | 'state' | 'detections';
}
/** What edgeserve applies to a raw input before the model; `range` is the allowed raw [min, max]. */
export type Preprocessing =
  | { type: 'none'; range?: [number, number] }
  | { type: 'affine'; scale: number; offset: number; range?: [number, number] }
  | { type: 'standardize'; mean: number[]; std: number[]; range?: [number, number] }
  | TextPreprocessing
  | AudioPreprocessing
  | ImagePreprocessing;
/**
 * An image model's input: the image resized (resize), its channels put in the model's order,
 * each 0..255 value times scale, minus mean, over std (per channel), laid out as layout, into the
 * graph input `input`.
 */
export interface ImagePreprocessing {
  type: 'image';
  input: string;
  resize:
    | { mode: 'stretch'; width: number; height: number }
    /** The shorter side to `shorter` (default the larger of width and height), then the centre cut out (torchvision's Resize + CenterCrop). */
    | { mode: 'centerCrop'; width: number; height: number; shorter?: number }
    /** Scaled to fit, centred, the rest filled with `fill` (default 114): YOLO's letterbox. */
    | { mode: 'letterbox'; width: number; height: number; fill?: number }
    /** Sides rounded to multiples of `of`, up to minSide, down to maxSide (a text detector's). */
    | { mode: 'multiple'; of: number; maxSide: number; minSide?: number };
  /** nearest (Pillow's NEAREST), bilinear (OpenCV's INTER_LINEAR; the default) or area (a box filter: OpenCV's INTER_AREA at whole factors). */
  filter?: 'nearest' | 'bilinear' | 'area';
  channels?: 'rgb' | 'bgr' | 'gray';
  scale?: number;
  mean?: number[];
  std?: number[];
  layout?: 'nchw' | 'nhwc';
  dtype?: 'float32' | 'uint8';
}
/** A detector's head and thresholds (task detection). */
export interface DetectionSettings {
  /** yolov5: [N, anchors, 5 + classes] (box, objectness, class probabilities); yolov8: [N, 4 + classes, anchors]. Boxes as centre x, centre y, width, height in the tensor's pixels. */
  head: 'yolov5' | 'yolov8';
  /** Candidates scoring below this are dropped (default 0.25). */
  scoreThreshold?: number;
  /** Boxes of one class overlapping a better one by more than this IoU are dropped (default 0.45). */
  iouThreshold?: number;
  /** The most boxes returned (default 300). */
  maxDetections?: number;
  /** Boxes of different classes suppress each other too (default false). */
  classAgnostic?: boolean;
}
/** An image as predict() and detect() take it: an ImageData (imageData() of edgeserve makes one of an element, a bitmap, a video frame or a file), or 8-bit pixels row after row with 1 (gray), 3 (RGB) or 4 (RGBA, the default) channels. */
export type ImageInput =
  | ImageDataLike
  | { data: Uint8Array | Uint8ClampedArray; width: number; height: number; channels?: 1 | 3 | 4 };
/** What edgeserve reads of an ImageData (the DOM's is one): RGBA pixels. */
export interface ImageDataLike { readonly data: Uint8ClampedArray; readonly width: number; readonly height: number }
/** A box found in an image, in its pixels: (x, y) its top left corner. */
export interface DetectedBox { label: string; index: number; score: number; x: number; y: number; width: number; height: number }
/** detect()'s result: the boxes, best first, and the call's time in ms. */
export interface Detections { boxes: DetectedBox[]; latencyMs: number }
/** A point in an image's pixels: [x, y]. */
export type Point = [number, number];
/** A line of text read in an image: its text, its score (0 to 1: the mean probability of its characters) and its four corners in the image's pixels (top left, top right, bottom right, bottom left, as the line reads). */
export interface TextLine { text: string; score: number; box: [Point, Point, Point, Point] }
/** readText()'s result: the lines in reading order (top to bottom, then left to right), the time of each stage and of the whole call, in ms. */
export interface TextReading {
  lines: TextLine[];
  /** detectorMs: the image made into the detector's tensor, the detector and its map made into lines; cropMs: the lines cut out and straightened; classifierMs: the orientation classifier; recognizerMs: the recogniser and its decoding. */
  timings: { detectorMs: number; cropMs: number; classifierMs: number; recognizerMs: number };
  latencyMs: number;
}
/** A graph of an OCR package beside model.onnx, with its sha256, and its NNEF form's (the file with .onnx replaced by .nnef.tar, which the lean build embeds; written by make models-nnef). */
export interface OcrStageFile { file: string; sha256: string; nnef?: { sha256: string; tract: string } }
/** Task ocr: the stages after the package's detector (model.onnx), with RapidOCR's defaults. */
export interface OcrSettings {
  /** DB's post-processing of the detector's map: pixel threshold (0.3), line threshold (0.5), unclip ratio (1.6), dilation (true), the most contours (1000); an image first scaled to at most maxImageSide (2000) and at least minImageSide (30) pixels; black rows added above and below an image of at most minHeight (30) pixels or wider than maxAspect (8) times its height. */
  detector?: {
    threshold?: number;
    boxThreshold?: number;
    unclipRatio?: number;
    dilate?: boolean;
    maxCandidates?: number;
    maxImageSide?: number;
    minImageSide?: number;
    minHeight?: number;
    maxAspect?: number;
  };
  /** The orientation classifier: lines resized to height, at most width wide, batch at a time; turned when class 1 (upside down) scores over threshold (0.9). */
  classifier?: OcrStageFile & { height: number; width: number; batch?: number; threshold?: number };
  /** The recogniser (CTC): lines resized to height, padded to the widest of a batch (at least width); characters: the metadata property of its graph that lists them, one a line; lines scoring under scoreThreshold (0.5) are dropped. */
  recognizer: OcrStageFile & { height: number; width: number; batch?: number; characters: string; scoreThreshold?: number };
}
/**
 * An audio model's input: mono samples resampled to sampleRate (Hz) and cut into chunks of
 * context + frame samples (the last context samples of the previous chunk, then frame new ones)
 * for the graph input `input`; sampleRateInput: the graph input that takes the sample rate;
 * sequence: true when the input's N is consecutive chunks of one stream that the graph runs in
 * order, its state carried from chunk to chunk (a whole recording then runs in blocks of chunks).
 */
export interface AudioPreprocessing {
  type: 'audio';
  sampleRate: number;
  frame: number;
  context?: number;
  input: string;
  sampleRateInput?: string;
  sequence?: boolean;
}
/** Thresholds and durations that turn speech probabilities into segments (silero-vad's get_speech_timestamps; its defaults where absent). */
export interface VoiceActivitySettings {
  /** A frame at or above this probability is speech (default 0.5). */
  threshold?: number;
  /** Within speech, a frame below this is silence (default max(threshold - 0.15, 0.01)). */
  negThreshold?: number;
  /** Segments shorter than this are dropped, in ms (default 250). */
  minSpeechMs?: number;
  /** Silence that ends a segment, in ms (default 100). */
  minSilenceMs?: number;
  /** Padding added before and after each segment, in ms (default 30). */
  speechPadMs?: number;
  /** Segments longer than this are split at their longest silence, in seconds (default: no limit). */
  maxSpeechS?: number;
}
/** What speechSegments reads of an AudioBuffer (Web Audio's AudioBuffer is one): channels averaged, at its sampleRate. */
export interface AudioBufferLike {
  readonly numberOfChannels: number;
  readonly sampleRate: number;
  readonly length: number;
  getChannelData(channel: number): Float32Array;
}
/** A whole recording for speechSegments: mono samples (with options.sampleRate), an AudioBuffer, or the bytes of a WAV file. */
export type AudioInput = Float32Array | number[] | AudioBufferLike | Uint8Array | ArrayBuffer;
/** speechSegments() options: the samples' rate in Hz (required for samples; an AudioBuffer or a WAV file has its own), and settings to override. */
export interface SpeechOptions extends VoiceActivitySettings { sampleRate?: number }
/** model.session() options: the rate of the audio in Hz, and settings to override. */
export interface SessionOptions extends VoiceActivitySettings { sampleRate: number }
/** A stretch of speech, in seconds from the start of the audio. */
export interface SpeechSegment { start: number; end: number }
/** speechSegments()' result: the segments, one speech probability per frame of frameSeconds, the audio's duration, the call's time. */
export interface SpeechSegments {
  segments: SpeechSegment[];
  probabilities: Float32Array;
  frameSeconds: number;
  durationSeconds: number;
  latencyMs: number;
}
/** A start or end of speech in a session: time in seconds from the session's start (padded as the settings say), found at frame `frame`. */
export interface SpeechEvent { type: 'start' | 'end'; time: number; frame: number }
/** What a session's chunk gave: a probability per frame it completed (the first is frame firstFrame), the events they made, whether speech is ongoing, the chunk's time. */
export interface AudioStep {
  probabilities: Float32Array;
  firstFrame: number;
  events: SpeechEvent[];
  inSpeech: boolean;
  latencyMs: number;
}
/**
 * A text model's tokenizer: the package's tokenizer.json (Hugging Face's format) and how texts
 * become the graph's inputs. maxLength: the most tokens a text becomes (longer ones are truncated
 * at the end); padding: the texts that run together padded to the longest of them (default) or
 * always to maxLength;
 * inputs: the graph inputs that get the token ids, the attention mask and the token type ids;
 * maxTexts: the most texts one call takes (default 4096).
 */
export interface TextPreprocessing {
  type: 'text';
  tokenizer: { file: 'tokenizer.json'; sha256: string };
  maxLength: number;
  padding?: 'longest' | 'maxLength';
  inputs: { ids: string; attentionMask?: string; tokenTypeIds?: string };
  maxTexts?: number;
}
/** A model package's manifest.json. */
export interface Manifest {
  name: string;
  /** semver */
  version: string;
  description: string;
  /** Absent for a model served by run() only (e.g. an inferred manifest without labels). */
  task?: 'classification' | 'regression' | 'embedding' | 'voice-activity' | 'detection' | 'ocr';
  /** The graph inputs: one, shaped ["N", ...], for rows; the tokenizer's for text; the samples', the sample rate's and the states' for audio. */
  inputs: TensorSpec[];
  outputs: OutputSpec[];
  /** Class names in the order of the scores (classification). */
  labels?: string[];
  preprocessing: Preprocessing;
  /** Task embedding: how the embedding output becomes one vector per text (mean over the attention mask, the first token, or none for an output that is one vector per text already), and whether each vector is scaled to unit length. */
  embedding?: { pooling: 'mean' | 'cls' | 'none'; normalize?: boolean };
  /** Pairs of graph input and output that form a recurrent state (audio models), carried from one chunk of a stream to the next: shape of one stream's state, initial value of every element. */
  state?: { input: string; output: string; shape: number[]; initial?: number }[];
  /** Task voice-activity: how probabilities become speech segments. */
  voiceActivity?: VoiceActivitySettings;
  /** How a detector's output becomes boxes (task detection). */
  detection?: DetectionSettings;
  /** Task ocr: the stages after the detector, and their graphs (files of the package). */
  ocr?: OcrSettings;
  /** Measured on held-out data when the package was made; accuracy is a fraction 0..1. */
  metrics?: { dataset: string; split: string; accuracy?: number; [metric: string]: string | number | undefined };
  /** sha256 of model.onnx, lowercase hex. */
  sha256: string;
  default: boolean;
  training?: Record<string, unknown>;
  /** Limits per call. maxBatchRows: the most rows one predictBatch/predictCsv takes (default 1,000,000); maxImagePixels: the most pixels of one image (default 8192 x 8192). */
  limits?: { maxBatchRows?: number; maxImagePixels?: number };
  /** The package's NNEF form (model.nnef.tar), which the lean build (`edgeserve/lean`) embeds. */
  nnef?: { sha256: string; tract: string };
  /** The package's rows form (model.rows: the graph as edgeserve's row program), which the lean build embeds when every package has one. */
  rows?: { sha256: string; format: number };
}
/** A classification: the predicted class, its index into manifest.labels, one score per class. */
export interface ClassPrediction {
  label: string;
  index: number;
  /** One score (probability) per class, length labels.length. */
  scores: Float32Array;
  /** Milliseconds from the raw input to the prediction, on performance.now(). */
  latencyMs: number;
}
/** A regression: the values of every "value" output, concatenated. An embedding model's predict(text): the text's vector. */
export interface ValuesPrediction {
  values: Float32Array;
  /** Milliseconds from the raw input to the prediction, on performance.now(). */
  latencyMs: number;
}
export type Prediction = ClassPrediction | ValuesPrediction;
/**
 * One row of raw features (model.inputWidth values). Float32Array is used as is; Float64Array
 * values are rounded to float32; 8- and 16-bit integer arrays are converted exactly; Int32Array and
 * Uint32Array values must lie within +-2^24 (exact in float32). For a text model: one text.
 */
export type RowInput = Float32Array | Float64Array | Int8Array | Uint8Array | Uint8ClampedArray | Int16Array | Uint16Array | Int32Array | Uint32Array | number[] | string | ImageInput;
/**
 * Every error edgeserve throws is an Error with one of these codes (a callback of yours that
 * throws or rejects ends the call with your own error instead). INTERNAL: the wasm instance
 * trapped, a bug in edgeserve; every later call throws it too (load the page again; a WorkerModel
 * starts a new worker by itself).
 */
export type ErrorCode = 'UNKNOWN_MODEL' | 'BAD_INPUT' | 'BAD_MANIFEST' | 'INTEGRITY' | 'MODEL_LOAD' | 'INFERENCE' | 'REGISTRY' | 'THREADS' | 'INTERNAL';
export interface EdgeserveError extends Error { code: ErrorCode }
/** A batch: one typed array of n * inputWidth values, or an array of rows. */
export type BatchInput = RowInput | RowInput[];
/** Where a batch stands, after each chunk. */
export interface BatchProgress { done: number; total: number; rowsPerSecond: number }
export interface BatchOptions {
  /** Rows per chunk (one tensor per chunk; the page gets the event loop between chunks). Default 256. */
  chunkSize?: number;
  /** Called after each chunk. Its throw, or the rejection of a Promise it returns, ends the batch with that error; a Promise it returns is awaited before the next chunk. */
  onProgress?: (progress: BatchProgress) => void | Promise<void>;
}
export interface CsvOptions extends BatchOptions {
  /** The column with the true labels: a header name, or a 0-based index. Its cells are not features. */
  labelColumn?: string | number;
}
/** One mode's latencies, in milliseconds. */
export interface LatencyStats { count: number; mean: number; p50: number; p95: number; p99: number; max: number }
/** Latencies per serving mode. batch: each row counts its chunk's time / rows; stream: each item its micro-batch's inference time. */
export interface LatencyReport { realtime: LatencyStats; batch: LatencyStats; stream: LatencyStats }
export interface StreamOptions {
  /** Most items per micro-batch. Default 32. */
  maxBatch?: number;
  /** Longest time the first item of a micro-batch waits for others, in ms. Default 5. */
  maxWaitMs?: number;
}
/** What one stream item became: its prediction, or its error. */
export type StreamOutput =
  | { index: number; prediction: ClassPrediction | ValuesPrediction; queuedMs: number; latencyMs: number }
  | { index: number; error: EdgeserveError; queuedMs: number; latencyMs: number };
/** One model's figures on this device (ms per prediction). */
export interface Measurement {
  name: string; accuracy: number | null; p50: number; p95: number; p99: number; mean: number;
  runs: number; callsPerSample: number; clockResolutionMs: number;
}
export interface BenchmarkOptions { /** Samples per model (default 200). */ runs?: number }
export interface ChooseOptions { /** The latency budget in ms. */ budgetMs: number; /** Which percentile must fit (default 95). */ percentile?: number }
export interface Choice { model: Model; name: string; withinBudget: boolean; reason: string; measurements: Measurement[] }
/** One input of run(): a typed array of the input's dtype (int64: BigInt64Array; bool: Uint8Array of 0/1), or numbers for float32/float64. */
export type RunInput = Float32Array | Float64Array | Int8Array | Int16Array | Int32Array | BigInt64Array | Uint8Array | Uint16Array | Uint32Array | BigUint64Array | number[];
export interface RunOptions { /** The shape of each input, by name, when the graph's is not fixed. */ shapes?: Record<string, number[]> }
export interface FromUrlOptions {
  /** The model's sha256 (hex): checked, and the key under which the bytes are cached (Cache API). */
  sha256?: string;
  /** Called after each chunk of the download; its throw, or the rejection of a Promise it returns, ends the load with that error. */
  onProgress?: (progress: { loaded: number; total?: number }) => void | Promise<void>;
  manifest?: Partial<Manifest>;
}
/** Options of Model.load() for a package shipped beside the wasm (fetched on demand). */
export interface LoadOptions {
  /** The URL of the directory that holds the package's directory (default: models/ beside the package's index.js). */
  modelsUrl?: string;
  /** Called after each chunk of model.onnx; its throw, or the rejection of a Promise it returns, ends the load with that error. */
  onProgress?: (progress: { loaded: number; total?: number }) => void | Promise<void>;
}
export interface FromBytesOptions {
  /** A text package's tokenizer.json: bytes, or its JSON text. */
  tokenizer?: Uint8Array | ArrayBuffer | string;
}
/** One text, or a list of texts. */
export type TextInput = string | string[];
/** embed()'s vectors: count x dim float32 values, text after text. */
export interface Embeddings {
  data: Float32Array;
  /** The length of one vector. */
  dim: number;
  /** How many texts (vectors). */
  count: number;
  /** Milliseconds from the texts to the vectors (tokenizing, inference, pooling), on performance.now(). */
  latencyMs: number;
}
/** One text as the model sees it (tokenize()). offsets: start and end of each token in the text, in UTF-16 units (string indices), two per token; 0, 0 for special tokens. */
export interface Tokenized {
  ids: Uint32Array;
  attentionMask: Uint32Array;
  tokenTypeIds: Uint32Array;
  tokens: string[];
  offsets: Uint32Array;
}
/** One output of run(). */
export interface RunOutput { dtype: DType; shape: number[]; data: RunInput }
/** How the engine runs a model (model.engineDetails). */
export interface EngineDetails {
  /** 'rows': edgeserve's row executor; 'tract': tract's plans. */
  executor: 'rows' | 'tract';
  /** 'fixed': every input shape fixed, one plan; 'symbolic': free dimensions typed as symbols, one plan for any shapes; 'per shape set': tract could not type the graph for any shapes, so it is typed and planned for the input shapes of each call (at most 8 plans kept, least recently used dropped). */
  typing: 'fixed' | 'symbolic' | 'per shape set';
  /** The input shape sets (in the order of manifest.inputs) that have a plan of their own, least recently used first. */
  plannedShapes: number[][][];
  /** Whether each row of a batch is computed from that row alone (tract's plans, a graph whose operations keep the batch's rows apart): a batch then runs whole or as smaller batches, whichever measured cheaper per row on this device (a CNN's batch runs as single images). */
  rowsIndependent: boolean;
  /** What was done differently from tract's defaults to load or run this model (an optimizer pass skipped, ...), in words; empty when nothing. */
  notes: string[];
}
"#;

/// Runs the static constructors (see `engine::run_static_constructors`), makes the dtype names
/// of `run()` results JavaScript strings once (see `intern_results`), and installs the panic
/// hook (feature `console_error_panic_hook`), once, when the module starts.
#[cfg(target_family = "wasm")]
#[wasm_bindgen(start)]
pub fn start() {
    crate::engine::run_static_constructors();
    for dtype in crate::manifest::DType::ALL {
        wasm_bindgen::intern(dtype.as_str());
    }
    #[cfg(feature = "console_error_panic_hook")]
    console_error_panic_hook::set_once();
}

/// Makes the strings in a model's results JavaScript strings once, at load: its labels (in every
/// prediction) and its input and output names (in every `run()`); the dtype names are made once in
/// [`start`]. Without it each call decodes them from UTF-8 again: ~6% of a small model's `run()`
/// in V8, measured. Interned strings stay for the module's life (a few bytes a label).
#[cfg(target_family = "wasm")]
fn intern_results(model: &LoadedModel) {
    for label in model.labels() {
        wasm_bindgen::intern(label);
    }
    for io in model.engine.inputs().iter().chain(model.engine.outputs()) {
        wasm_bindgen::intern(&io.name);
    }
}

/// A loaded model shared by the handles that serve it: the `Model` object, a running batch, a
/// stream, a `ModelSet`'s choice. JavaScript is single-threaded; a borrow is never held across
/// an `await` or a call back into JavaScript.
#[derive(Clone)]
pub(crate) struct Shared(Rc<RefCell<LoadedModel>>);

impl Shared {
    fn new(model: LoadedModel) -> Shared {
        #[cfg(target_family = "wasm")]
        intern_results(&model);
        Shared(Rc::new(RefCell::new(model)))
    }

    /// Runs `f` on the model.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut LoadedModel) -> Result<R, Error>) -> Result<R, Error> {
        let mut model = self.0.try_borrow_mut().map_err(|_| Error::Inference {
            model: "(boundary)".into(),
            detail: "the model is in use by a call that has not returned (a re-entrant call from a callback?)".into(),
        })?;
        f(&mut model)
    }
}

/// A model package loaded and ready to predict, on this device.
///
/// ```js
/// const model = Model.default();          // or Model.load('digits-fast')
/// const r = model.predict(new Float32Array(64));
/// ```
/// Call `free()` when done to release its wasm memory at once (a batch or stream still running
/// keeps the model until it ends).
#[cfg_attr(target_family = "wasm", wasm_bindgen)]
pub struct Model {
    shared: Shared,
    /// The raw input row, reused across predictions.
    raw: Vec<f32>,
}

impl Model {
    pub(crate) fn from_shared(shared: Shared) -> Model {
        Model { shared, raw: Vec::new() }
    }

    fn wrap(inner: LoadedModel) -> Model {
        Model::from_shared(Shared::new(inner))
    }

    /// Loads the embedded package `name` (for Rust callers: `load` of an embedded package,
    /// without the JavaScript value around it).
    pub fn load_embedded(name: &str) -> Result<Model, Thrown> {
        Ok(Model::wrap(LoadedModel::embedded(name)?))
    }
}

#[cfg_attr(target_family = "wasm", wasm_bindgen)]
impl Model {
    /// Names of the model packages of this build, sorted: those embedded in the wasm, e.g.
    /// `'digits-accurate'`, and those shipped beside it in the npm package's `models/`
    /// directory, whose files `Model.load(name)` fetches (`'minilm'`, `'minilm-int8'`).
    pub fn names() -> Vec<String> {
        Registry::names()
    }

    /// Loads the embedded package `name` (see the wasm32 docs).
    #[cfg(not(target_family = "wasm"))]
    pub fn load(name: &str) -> Result<Model, Thrown> {
        Model::load_embedded(name)
    }

    /// Loads the package `name` (one of `Model.names()`): checks its sha256, parses and
    /// optimizes its graph, and checks its manifest against the graph.
    ///
    /// An embedded package is loaded at once: returns the `Model`. A package shipped beside the
    /// wasm (the npm package's `models/<name>/`: `model.onnx`, and a text package's
    /// `tokenizer.json`) is fetched first: returns a `Promise<Model>`. `await Model.load(name)`
    /// serves both. Its files are fetched from `options.modelsUrl` (the URL of the directory
    /// that holds `<name>/`; default: `models/` beside the package's `index.js`, which a page
    /// serving `node_modules/edgeserve/` as it is finds; with a bundler, copy that directory to
    /// the site and pass its URL), checked against the sha256 its manifest (compiled into the
    /// wasm) gives (`INTEGRITY`), and kept in the Cache API, so a later visit loads offline.
    /// In Node, a `file:` URL is read from disk. `options.onProgress({ loaded, total })` after
    /// each chunk of `model.onnx`.
    ///
    /// Throws (or rejects with) `UNKNOWN_MODEL` for a name no package has (the message lists the
    /// names there are), `BAD_INPUT` for a name that is not a string or bad options,
    /// `MODEL_LOAD` when a file cannot be fetched.
    #[cfg(target_family = "wasm")]
    #[wasm_bindgen(unchecked_return_type = "Model | Promise<Model>")]
    pub fn load(
        #[wasm_bindgen(unchecked_param_type = "string")] name: JsValue,
        options: Option<LoadOptions>,
    ) -> Result<JsValue, Thrown> {
        let name = js::string_arg(&name, "name", "a model name (a string)", js::MAX_NAME_UNITS)?;
        let o = options.as_ref().map(AsRef::as_ref);
        js::check_options(o, "load")?;
        let models_url = js::string_option(o, "modelsUrl", "a URL (a string)")?;
        let on_progress = js::function_option(o, "onProgress")?;
        match crate::package::Registry::fetched(&name) {
            Some(package) => Ok(runtime::load_fetched(package, models_url, on_progress)?.into()),
            None => Ok(Model::wrap(LoadedModel::embedded(&name)?).into()),
        }
    }

    /// Loads the embedded package whose manifest says `"default": true`.
    #[cfg_attr(target_family = "wasm", wasm_bindgen(js_name = "default"))]
    pub fn default_model() -> Result<Model, Thrown> {
        Ok(Model::wrap(LoadedModel::embedded_default()?))
    }

    /// The package's name, e.g. `'digits-accurate'`.
    #[cfg_attr(target_family = "wasm", wasm_bindgen(getter))]
    pub fn name(&self) -> Result<String, Thrown> {
        Ok(self.shared.with(|m| Ok(m.manifest().name.clone()))?)
    }

    /// The number of raw features in one input row (64 for the digits packages: 8x8 pixels).
    #[cfg_attr(target_family = "wasm", wasm_bindgen(getter, js_name = inputWidth))]
    pub fn input_width(&self) -> Result<usize, Thrown> {
        Ok(self.shared.with(|m| Ok(m.width()))?)
    }

    /// The size of the package's graph, in bytes: its `model.onnx`, or in the lean build its
    /// `model.nnef.tar`.
    #[cfg_attr(target_family = "wasm", wasm_bindgen(getter, js_name = sizeBytes))]
    pub fn size_bytes(&self) -> Result<usize, Thrown> {
        Ok(self.shared.with(|m| Ok(m.package().size()))?)
    }

    /// The package's manifest as a plain object (`Manifest` in the `.d.ts`).
    #[cfg_attr(target_family = "wasm", wasm_bindgen(getter, unchecked_return_type = "Manifest"))]
    pub fn manifest(&self) -> Result<Value, Thrown> {
        Ok(self.shared.with(|m| to_value(m.manifest()))?)
    }

    /// Predicts one row of raw features (`inputWidth` values; for the digits packages 64 pixel
    /// intensities 0..16, row by row). Returns `{ label, index, scores: Float32Array, latencyMs }`
    /// for classification and `{ values: Float32Array, latencyMs }` for regression; `latencyMs`
    /// is the time from the raw input to the prediction, in milliseconds.
    ///
    /// A text model takes a string instead: a text classifier's `{ label, index, scores,
    /// latencyMs }`, an embedding model's vector as `{ values: Float32Array, latencyMs }` (see
    /// `embed` for many texts at once). An image classifier takes an image (`ImageData`, or
    /// `{ data, width, height, channels }`, as `detect` does): `{ label, index, scores,
    /// latencyMs }`.
    ///
    /// Throws a `BAD_INPUT` error that names the problem for input that is not a row of numbers,
    /// has the wrong length, or holds NaN, an infinity or a value outside the manifest's raw
    /// range (for a text model: that is not a string, or has a lone surrogate); the model keeps
    /// working.
    #[cfg_attr(target_family = "wasm", wasm_bindgen(unchecked_return_type = "Prediction"))]
    pub fn predict(&mut self, input: RowInput) -> Result<Value, Thrown> {
        if self.shared.with(|m| Ok(m.is_text()))? {
            if js::string_units(&input).is_none() {
                Err(Error::bad_input("input is not text", "a string (this is a text model)", js::describe(&input)))?;
            }
            let text = text::read_text(&input, &"input")?;
            let Timed { prediction, latency_ms } = self.shared.with(|m| m.predict_text(&text))?;
            return Ok(to_value(&PredictionJs::new(&prediction, Some(latency_ms)))?);
        }
        if self.shared.with(|m| Ok(m.is_image()))? {
            #[cfg(target_family = "wasm")]
            let input: &Value = input.as_ref();
            #[cfg(not(target_family = "wasm"))]
            let input: &Value = &input;
            let (prediction, latency_ms) = image::predict_image(self, input)?;
            return Ok(to_value(&PredictionJs::new(&prediction, Some(latency_ms)))?);
        }
        self.raw.clear();
        read_row(&input, crate::preprocess::RowName::Input, &mut self.raw)?;
        let raw = &self.raw;
        let Timed { prediction, latency_ms } = self.shared.with(|m| m.predict(raw))?;
        Ok(to_value(&PredictionJs::new(&prediction, Some(latency_ms)))?)
    }

    /// Latency statistics of every prediction this model made, per serving mode, in
    /// milliseconds: `{ realtime, batch, stream }`, each `{ count, mean, p50, p95, p99, max }`.
    #[cfg_attr(target_family = "wasm", wasm_bindgen(unchecked_return_type = "LatencyReport"))]
    pub fn latency(&self) -> Result<Value, Thrown> {
        Ok(self.shared.with(|m| to_value(&m.latency()))?)
    }

    /// The engine that runs this model's predictions: `'rows'`, edgeserve's own executor for
    /// small dense graphs (the default for graphs it covers: the digits packages, linear models
    /// and MLPs), or `'tract'`, tract's optimized plans (every other graph).
    #[cfg_attr(target_family = "wasm", wasm_bindgen(getter, unchecked_return_type = "'rows' | 'tract'"))]
    pub fn engine(&self) -> Result<String, Thrown> {
        Ok(self.shared.with(|m| Ok(m.engine_name().to_owned()))?)
    }

    /// Runs this model's predictions on the engine `name` (see the wasm32 docs).
    #[cfg(not(target_family = "wasm"))]
    pub fn use_engine(&self, name: &str) -> Result<(), Thrown> {
        Ok(self.shared.with(|m| m.use_engine(name))?)
    }

    /// Runs this model's predictions on the engine `name` (`'rows'` or `'tract'`, see `engine`)
    /// from now on: the same outputs up to float rounding, to compare the two or to rule one out.
    /// Throws `BAD_INPUT` for another name (or a value that is not a string), or for `'rows'` when
    /// the graph is not one the row executor covers (the message says which part is not).
    #[cfg(target_family = "wasm")]
    #[wasm_bindgen(js_name = useEngine)]
    pub fn use_engine(
        &self,
        #[wasm_bindgen(unchecked_param_type = "'rows' | 'tract'")] name: JsValue,
    ) -> Result<(), Thrown> {
        let name = js::string_arg(&name, "engine", "'rows' or 'tract'", js::MAX_NAME_UNITS)?;
        Ok(self.shared.with(|m| m.use_engine(&name))?)
    }

    /// Forgets every recorded latency.
    #[cfg_attr(target_family = "wasm", wasm_bindgen(js_name = resetLatency))]
    pub fn reset_latency(&self) -> Result<(), Thrown> {
        Ok(self.shared.with(|m| {
            m.reset_latency();
            Ok(())
        })?)
    }
}
