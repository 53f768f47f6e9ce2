import type {
  BatchInput,
  BatchOptions,
  BatchProgress,
  CsvOptions,
  Detections,
  Embeddings,
  FromBytesOptions,
  ImageInput,
  LatencyReport,
  Manifest,
  Prediction,
  RowInput,
  StreamOptions,
  StreamOutput,
  TextInput,
  TextReading,
  Tokenized,
} from './edgeserve.js';

/** A batch result as it comes back from the worker: plain data, typed arrays transferred. */
export interface RemoteBatchResult {
  rows: number;
  labels: string[];
  indices: Int32Array;
  scores: Float32Array;
  values: Float32Array;
  latencyMs: number;
  rowsPerSecond: number;
  accuracy?: number;
  truth?: string[];
}

/**
 * The edgeserve Model in a module Worker: the same methods, async. Browser only. When the
 * worker's wasm instance traps (a bug; code 'INTERNAL') or the worker fails, the calls in flight
 * reject with code 'INTERNAL', open streams fail, and a new worker loads the same model.
 */
export declare class WorkerModel {
  /**
   * Starts the worker and loads `model` (a name of Model.names(): embedded, or fetched on demand
   * from `modelsUrl` as Model.load does; the default package when absent). `relaxedSimd`: as init()'s (false: the baseline build); when absent, the build this page's
   * init() chose (the best this host runs when the page did not call it). `threads`: as init()'s,
   * the worker's thread count, itself included (when absent, init()'s default in the worker).
   */
  static create(options?: {
    model?: string;
    modelsUrl?: string;
    relaxedSimd?: boolean;
    threads?: number;
  }): Promise<WorkerModel>;
  /** Like Model.fromBytes, in a new worker: an ONNX file's bytes (copied), with a manifest or without (inferred), and a text package's tokenizer (copied); `relaxedSimd` as in create(). */
  static fromBytes(
    bytes: Uint8Array | ArrayBuffer,
    manifest?: Partial<Manifest>,
    options?: FromBytesOptions & { relaxedSimd?: boolean; threads?: number },
  ): Promise<WorkerModel>;
  /** The wasm build the worker runs: 'threads' (threads/edgeserve_bg.wasm), 'relaxed' (edgeserve_relaxed_bg.wasm) or 'baseline' (edgeserve_bg.wasm). */
  readonly wasmBuild: 'threads' | 'relaxed' | 'baseline';
  readonly name: string;
  readonly inputWidth: number;
  readonly manifest: Manifest;
  /** New workers started after a trap or a failed worker. */
  readonly restarts: number;
  predict(row: RowInput, options?: { transfer?: boolean }): Promise<Prediction>;
  predictBatch(rows: BatchInput, options?: BatchOptions & { transfer?: boolean }): Promise<RemoteBatchResult>;
  predictCsv(text: string, options?: CsvOptions): Promise<RemoteBatchResult & { toCsv(): string }>;
  /** Like Model.detect, in the worker (an ImageData is copied to it). */
  detect(image: ImageInput): Promise<Detections>;
  /** Like Model.readText, in the worker (an ImageData is copied to it). */
  readText(image: ImageInput): Promise<TextReading>;
  /** Like Model.embed, in the worker. */
  embed(texts: TextInput): Promise<Embeddings>;
  /** Like Model.tokenize, in the worker. */
  tokenize(text: string): Promise<Tokenized>;
  /** Like Model.stream, the model in the worker; at most `inFlight` items (default 4 * maxBatch) in the worker at once. */
  stream(options?: StreamOptions & { inFlight?: number }): TransformStream<RowInput, StreamOutput>;
  latency(): Promise<LatencyReport>;
  resetLatency(): Promise<void>;
  /** Stops the worker: requests in flight reject, and later calls reject with code BAD_INPUT. */
  terminate(): void;
}
export type { BatchProgress };
