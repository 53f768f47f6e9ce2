// The parts of Model.fromBytes and Model.fromUrl that are JavaScript by nature (src/wasm/runtime.rs
// imports them): WebCrypto's hash, fetch with progress, the Cache API. The model itself is loaded
// in wasm, by PendingLoad.load(), called from the async functions below, so that whatever that
// throws (an edgeserve Error, or a trap of the wasm instance) rejects the call's Promise.

/** The cache that holds fetched models. */
const CACHE = 'edgeserve-models';

/**
 * Starts WebCrypto's sha256 of `data` (an ArrayBuffer or a view; WebCrypto copies the bytes now,
 * and hashes them natively, much faster than wasm): a Promise of the digest, or null where the
 * platform has no WebCrypto (a page not in a secure context), or where it refuses the data.
 */
export function startDigest(data) {
  try {
    return globalThis.crypto?.subtle?.digest('SHA-256', data) ?? null;
  } catch {
    return null;
  }
}

/** The hex of a digest (an ArrayBuffer of 32 bytes), or undefined. */
async function hex(digest) {
  if (!digest) return undefined;
  try {
    const bytes = new Uint8Array(await digest);
    return bytes.length === 32 ? Array.from(bytes, b => b.toString(16).padStart(2, '0')).join('') : undefined;
  } catch {
    return undefined; // hashed in wasm instead
  }
}

/** Waits for `digest` (from startDigest, or null), then loads: `pending.load()`'s Model. */
export async function loadHashed(digest, pending) {
  try {
    // Loads after the export that started it has returned.
    const sha256 = await hex(digest);
    return pending.load(undefined, sha256);
  } finally {
    pending.free();
  }
}

function text(e) {
  return typeof e?.message === 'string' ? e.message : String(e);
}

/**
 * The bytes at `url`: with `sha256`, from the Cache API when it holds bytes that still hash to it
 * (keyed by URL and sha256), else fetched (`onProgress({ loaded, total })` after each chunk; its
 * throw, or the rejection of the Promise it returns, ends the load with that error). A `file:` URL
 * is read from disk where the host can (Node). Failures are MODEL_LOAD errors made by
 * `pending.error(detail)`. Resolves to `{ bytes, sha256, keep }`: `sha256` as WebCrypto found it
 * (undefined without WebCrypto); `keep()` caches fetched bytes once they have loaded.
 */
async function fetchBytes(url, sha256, onProgress, pending) {
  const key = sha256 ? `${url}${url.includes('?') ? '&' : '?'}edgeserve-sha256=${sha256}` : null;
  let cache = null;
  if (key && typeof caches !== 'undefined') {
    try {
      cache = await caches.open(CACHE);
    } catch {
      cache = null; // no Cache API here (an opaque origin): fetch every time
    }
  }
  const none = async () => {};
  if (cache) {
    const hit = await cache.match(key).catch(() => undefined);
    if (hit) {
      const bytes = new Uint8Array(await hit.arrayBuffer());
      const found = await hex(startDigest(bytes));
      if (found === sha256) return { bytes, sha256: found, keep: none };
    }
  }
  if (url.startsWith('file:')) {
    // Node (20.16 and later) has no fetch for file: URLs, and gives its modules without an import.
    const fs = globalThis.process?.getBuiltinModule?.('node:fs/promises');
    if (fs) {
      let bytes;
      try {
        bytes = new Uint8Array(await fs.readFile(new URL(url)));
      } catch (e) {
        throw pending.error(`reading ${url}: expected a readable file, got ${text(e)}`);
      }
      if (onProgress) await onProgress({ loaded: bytes.length, total: bytes.length });
      return { bytes, sha256: await hex(startDigest(bytes)), keep: none };
    }
  }
  let response;
  try {
    response = await fetch(url);
  } catch (e) {
    throw pending.error(`fetching ${url}: expected a response, got a failed fetch (${text(e)})`);
  }
  if (!response.ok) throw pending.error(`fetching ${url}: expected HTTP 200, got HTTP ${response.status}`);
  const length = Number(response.headers.get('content-length'));
  const total = Number.isFinite(length) && response.headers.has('content-length') ? length : undefined;
  const reader = response.body.getReader();
  const chunks = [];
  let loaded = 0;
  for (;;) {
    let chunk;
    try {
      chunk = await reader.read();
    } catch (e) {
      throw pending.error(`reading ${url}: expected the whole body, got an error (${text(e)})`);
    }
    if (chunk.done) break;
    chunks.push(chunk.value);
    loaded += chunk.value.length;
    if (onProgress) await onProgress({ loaded, total });
  }
  const bytes = new Uint8Array(loaded);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.length;
  }
  // A cache that cannot store (quota, private mode) only costs the next visit a fetch.
  const keep = cache ? () => cache.put(key, new Response(bytes)).catch(() => {}) : none;
  return { bytes, sha256: await hex(startDigest(bytes)), keep };
}

/**
 * Fetches the model at `url` and loads it (`pending.load(bytes, sha256)`, which checks the
 * expected sha256 and answers INTEGRITY when it differs). With `sha256`, the Cache API first, and
 * the fetched bytes are cached once loaded (see fetchBytes).
 */
export async function loadUrl(url, sha256, onProgress, pending) {
  try {
    const got = await fetchBytes(url, sha256, onProgress, pending);
    const model = pending.load(got.bytes, got.sha256);
    await got.keep();
    return model;
  } finally {
    pending.free();
  }
}

/**
 * Where the packages shipped beside the wasm are: models/ at the npm package's root (this file is
 * snippets/<crate>/js/fetch.js, or threads/snippets/<crate>/js/fetch.js in the threaded build).
 */
function defaultModelsUrl() {
  // Not `new URL('../../../models/', import.meta.url)`: bundlers would try to bundle a directory.
  const here = import.meta.url;
  const root = /\/threads\/snippets\/[^/]+\/js\/fetch\.js$/.test(new URL(here).pathname) ? '../../../../' : '../../../';
  return new URL(`${root}models/`, here).href;
}

/**
 * Loads the package shipped beside the wasm `name`: fetches `<modelsUrl>/<name>/<file>` for each
 * [file, sha256] pair of `files` (model.onnx first, then a text package's tokenizer.json), each
 * as fetchBytes does, then `pending.load()`. `onProgress` follows model.onnx.
 */
export async function loadPackage(name, modelsUrl, files, onProgress, pending) {
  try {
    let base;
    try {
      base = new URL(modelsUrl ?? defaultModelsUrl(), globalThis.location?.href);
      if (!base.pathname.endsWith('/')) base.pathname += '/';
    } catch (e) {
      throw Object.assign(
        new Error(`modelsUrl is not a URL: expected a URL, got ${JSON.stringify(modelsUrl)} (${text(e)})`),
        {
          code: 'BAD_INPUT',
        },
      );
    }
    const got = [];
    for (let i = 0; i < files.length; i += 2) {
      const url = new URL(`${encodeURIComponent(name)}/${files[i]}`, base).href;
      got.push(await fetchBytes(url, files[i + 1], i === 0 ? onProgress : null, pending));
    }
    for (let i = 1; i < got.length; i++) pending.addFile(files[2 * i], got[i].bytes);
    const model = pending.load(got[0].bytes, got[0].sha256);
    for (const g of got) await g.keep();
    return model;
  } finally {
    pending.free();
  }
}
