// The bytes a page downloads for some files (Node): raw, and gzip as a server sends them (zlib,
// default level). Shared by bench/text-bytes.mjs and bench/ocr-bytes.mjs.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

/** Raw and gzip bytes of files, summed. */
export function size(files) {
  let raw = 0;
  let gzip = 0;
  for (const f of files) {
    const b = readFileSync(f);
    raw += b.length;
    gzip += gzipSync(b).length;
  }
  return { raw, gzip };
}
