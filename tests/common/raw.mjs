// Raw little-endian tensor files as typed arrays (the layout the Python preparers write with
// numpy's tobytes(); bool as one byte per element), shared by the wasm runners of the conformance
// and real-model suites and by the real-model page (bench/real-page.js).

export const ARRAYS = {
  float32: Float32Array,
  float64: Float64Array,
  int8: Int8Array,
  int16: Int16Array,
  int32: Int32Array,
  int64: BigInt64Array,
  uint8: Uint8Array,
  uint16: Uint16Array,
  uint32: Uint32Array,
  uint64: BigUint64Array,
  bool: Uint8Array,
};

/** A typed array of `dtype` over a copy of raw little-endian `bytes`. */
export function typedArray(dtype, bytes) {
  const Type = ARRAYS[dtype];
  if (!Type) throw new Error(`unknown dtype ${dtype}`);
  const copy = new Uint8Array(bytes).buffer; // aligned, owned
  return new Type(copy, 0, copy.byteLength / Type.BYTES_PER_ELEMENT);
}

/** A typed array's bytes, to write as a raw file. */
export function bytesOf(data) {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** An error as a runner reports it: a trap, or the coded error's code and message. */
export function describe(err) {
  if (err instanceof WebAssembly.RuntimeError) return `trap: ${err.message}`;
  return err?.code ? `${err.code}: ${err.message}` : String(err?.message ?? err);
}

/** The cosine similarity of two vectors (arrays or typed arrays of one length). */
export function cosine(a, b) {
  let dot = 0,
    na = 0,
    nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / Math.sqrt(na * nb);
}
