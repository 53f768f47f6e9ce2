// Reads of a caller's values that are JavaScript by nature, for the boundary's primitives
// (src/wasm/js/web.rs imports each with `catch`: an exception thrown here, by a getter, a Proxy
// trap or a detached buffer, reaches Rust as an error value and never unwinds through it).

/**
 * `array[0..length]` as a new Float64Array, or the index of the first element that is not a
 * number (no element is converted: a string or an object is refused by the caller). Elements are
 * read by index, so an array's iterator never runs.
 */
export function readNumbers(array, length) {
  const out = new Float64Array(length);
  for (let i = 0; i < length; i++) {
    const x = array[i];
    if (typeof x !== 'number') return i;
    out[i] = x;
  }
  return out;
}

/** Whether the buffer of a view (or an ArrayBuffer itself) is detached. */
export function isDetached(value) {
  const buffer = ArrayBuffer.isView(value) ? value.buffer : value;
  if (!(buffer instanceof ArrayBuffer)) return false; // a SharedArrayBuffer cannot be detached
  if (typeof buffer.detached === 'boolean') return buffer.detached;
  try {
    // Making a view of a detached buffer throws (engines before ArrayBuffer.prototype.detached).
    new Uint8Array(buffer);
    return false;
  } catch {
    return true;
  }
}

/** `Name: message` of a thrown value, for error messages; never throws itself. */
export function thrownText(thrown) {
  try {
    if (thrown instanceof Error) return `${thrown.name}: ${thrown.message}`;
    if (typeof thrown === 'string') return JSON.stringify(thrown.slice(0, 200));
    if (typeof thrown === 'object' && thrown !== null)
      return `a thrown ${Object.prototype.toString.call(thrown).slice(8, -1)}`;
    return `a thrown ${typeof thrown}`;
  } catch {
    return 'a thrown value that cannot be described';
  }
}

/** The most values (keys and elements) a manifest object may hold. */
const MANIFEST_VALUES = 1_000_000;

/**
 * A manifest object as JSON text, read once (JSON.stringify): a cycle, a BigInt, a getter or
 * toJSON that throws, a typed array or buffer (no JSON value), or more than MANIFEST_VALUES values
 * throw here, before the work grows with the value.
 */
export function manifestJson(manifest) {
  let values = 0;
  return JSON.stringify(manifest, function replacer(key, value) {
    if (++values > MANIFEST_VALUES) throw new RangeError(`a manifest of more than ${MANIFEST_VALUES} values`);
    if (
      ArrayBuffer.isView(value) ||
      value instanceof ArrayBuffer ||
      (typeof SharedArrayBuffer === 'function' && value instanceof SharedArrayBuffer)
    ) {
      throw new TypeError(`${key === '' ? 'the manifest' : `field "${key}"`} is binary data, which is no JSON value`);
    }
    return value;
  });
}
