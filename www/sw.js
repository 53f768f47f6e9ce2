// The demo's service worker: the page works offline after its first visit.
// - On install it caches every asset of this build (the list and the version are written into
//   dist/sw.js by scripts/site.mjs; the version is the package version plus a hash of the
//   assets, so any change installs a new worker and a new cache).
// - On activate it deletes the caches of older versions and takes control.
// - The search, listen and read text panels' full build (pkg-full/) is large and fetched only
//   when a panel starts: not cached at install, but kept when first fetched. Their models (pkg-full/models/)
//   are kept by edgeserve itself (Model.load caches them in the Cache API by sha256), not twice.
// - It answers every same-origin GET from the cache (falling back to the network), and adds the
//   cross-origin-isolation headers (COOP/COEP) so that hosts that cannot set headers still get
//   performance.now() at 5 us resolution on the next load.
const VERSION = 'dev';
const ASSETS = ['./'];
const CACHE = `edgeserve-${VERSION}`;
const ON_DEMAND = ['/pkg-full/'];
const KEPT_BY_EDGESERVE = '/pkg-full/models/';

// The package holds two wasm builds (pkg/load.js says why); cache the one this browser runs. The
// probe is pkg/load.js's: the smallest module that uses f32x4.relaxed_madd.
const RELAXED = WebAssembly.validate(
  new Uint8Array([
    0, 97, 115, 109, 1, 0, 0, 0, 1, 8, 1, 96, 3, 123, 123, 123, 1, 123, 3, 2, 1, 0, 10, 13, 1, 11, 0, 32, 0, 32, 1, 32,
    2, 253, 133, 2, 11,
  ]),
);
const UNUSED_WASM = RELAXED ? '/edgeserve_bg.wasm' : '/edgeserve_relaxed_bg.wasm';

self.addEventListener('install', event => {
  const assets = ASSETS.filter(a => !a.endsWith(UNUSED_WASM));
  event.waitUntil(
    caches
      .open(CACHE)
      .then(c => c.addAll(assets))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', event => {
  event.waitUntil(
    caches
      .keys()
      .then(keys => Promise.all(keys.filter(k => k.startsWith('edgeserve-') && k !== CACHE).map(k => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

// The body is read whole before it is answered: a body streamed out of a cache that a new
// version's worker deletes meanwhile (its activation, a reload during an update) could stall
// for good in Chromium, and with it the page's module Worker script.
async function isolated(response) {
  if (response.status === 0) return response; // opaque: leave as is
  const headers = new Headers(response.headers);
  headers.set('Cross-Origin-Opener-Policy', 'same-origin');
  headers.set('Cross-Origin-Embedder-Policy', 'require-corp');
  headers.set('Cross-Origin-Resource-Policy', 'same-origin');
  return new Response(await response.blob(), { status: response.status, statusText: response.statusText, headers });
}

/** The network's answer; an on-demand part of this build is also kept in the cache. */
async function fetchAndKeep(request) {
  const response = await fetch(request);
  const path = new URL(request.url).pathname;
  if (response.ok && ON_DEMAND.some(p => path.includes(p)) && !path.includes(KEPT_BY_EDGESERVE)) {
    const copy = response.clone();
    caches
      .has(CACHE)
      .then(current => current && caches.open(CACHE).then(c => c.put(request, copy)))
      .catch(() => {});
  }
  return response;
}

self.addEventListener('fetch', event => {
  const { request } = event;
  if (request.method !== 'GET' || new URL(request.url).origin !== self.location.origin) return;
  // caches.match with a cache name, not caches.open(CACHE).match: open creates the cache, so a
  // worker of an older version still answering while a new one activates would bring its
  // deleted cache back, and a request (the page's module Worker script) could wait on the
  // cache being deleted until the page never became ready (seen in Chromium on a reload right
  // after an update).
  event.respondWith(
    caches
      .match(request, { ignoreSearch: true, cacheName: CACHE })
      .then(async hit => isolated(hit ?? (await fetchAndKeep(request)))),
  );
});
