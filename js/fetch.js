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
 * Fetches the model at `url` and loads it (`pending.load(bytes, sha256)`, which checks the
 * expected sha256 and answers INTEGRITY when it differs). With `sha256`, the Cache API first
 * (keyed by URL and sha256; bytes that no longer hash to it are fetched again), and the fetched
 * bytes are cached once loaded. `onProgress({ loaded, total })` after each chunk; its throw, or
 * the rejection of the Promise it returns, ends the load with that error. Failures of the fetch
 * are MODEL_LOAD errors made by `pending.error(detail)`.
 */
export async function loadUrl(url, sha256, onProgress, pending) {
  try {
    const key = sha256 ? `${url}${url.includes('?') ? '&' : '?'}edgeserve-sha256=${sha256}` : null;
    let cache = null;
    if (key && typeof caches !== 'undefined') {
      try {
        cache = await caches.open(CACHE);
      } catch {
        cache = null; // no Cache API here (an opaque origin): fetch every time
      }
    }
    if (cache) {
      const hit = await cache.match(key).catch(() => undefined);
      if (hit) {
        const bytes = new Uint8Array(await hit.arrayBuffer());
        const found = await hex(startDigest(bytes));
        if (found === sha256) return pending.load(bytes, found);
      }
    }
    let response;
    try {
      response = await fetch(url);
    } catch (e) {
      throw pending.error(`fetching it: expected a response, got a failed fetch (${text(e)})`);
    }
    if (!response.ok) throw pending.error(`fetching it: expected HTTP 200, got HTTP ${response.status}`);
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
        throw pending.error(`reading it: expected the whole body, got an error (${text(e)})`);
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
    const found = await hex(startDigest(bytes));
    const model = pending.load(bytes, found);
    if (cache) {
      // A cache that cannot store (quota, private mode) only costs the next visit a fetch.
      await cache.put(key, new Response(bytes)).catch(() => {});
    }
    return model;
  } finally {
    pending.free();
  }
}
