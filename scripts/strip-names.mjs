// Drops the `name` custom section of a wasm file (function names for stack traces: about 1.1 MB
// of edgeserve's wasm that every visitor would download), keeping every other section as is.
// Used by scripts/package.mjs on both builds.
import { readFileSync, writeFileSync } from 'node:fs';

function leb(bytes, at) {
  let value = 0;
  let shift = 0;
  let i = at;
  for (;;) {
    const b = bytes[i++];
    value += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if (b < 0x80) return [value, i];
  }
}

/** Returns the bytes without the `name` section, and how many bytes that removed. */
export function withoutNames(bytes) {
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d)
    throw new Error('not a wasm module');
  const keep = [bytes.subarray(0, 8)];
  let removed = 0;
  for (let i = 8; i < bytes.length;) {
    const start = i;
    const id = bytes[i];
    const [size, body] = leb(bytes, i + 1);
    const end = body + size;
    let drop = false;
    if (id === 0) {
      const [nameLength, nameAt] = leb(bytes, body);
      drop = new TextDecoder().decode(bytes.subarray(nameAt, nameAt + nameLength)) === 'name';
    }
    if (drop) removed += end - start;
    else keep.push(bytes.subarray(start, end));
    i = end;
  }
  const out = new Uint8Array(bytes.length - removed);
  let at = 0;
  for (const part of keep) {
    out.set(part, at);
    at += part.length;
  }
  return [out, removed];
}

export function stripFile(path) {
  const [out, removed] = withoutNames(readFileSync(path));
  writeFileSync(path, out);
  return removed;
}
