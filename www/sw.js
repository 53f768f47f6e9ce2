// The demo's service worker: the page works offline after its first visit.
// - On install it caches every asset of this build (the list and the version are written into
//   dist/sw.js by scripts/site.mjs; the version is the package version plus a hash of the
//   assets, so any change installs a new worker and a new cache).
// - On activate it deletes the caches of older versions and takes control.
// - It answers every same-origin GET from the cache (falling back to the network), and adds the
//   cross-origin-isolation headers (COOP/COEP) so that hosts that cannot set headers still get
//   performance.now() at 5 us resolution on the next load.
const VERSION = 'dev';
const ASSETS = ['./'];
const CACHE = `edgeserve-${VERSION}`;

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(ASSETS)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith('edgeserve-') && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

function isolated(response) {
  if (response.status === 0) return response; // opaque: leave as is
  const headers = new Headers(response.headers);
  headers.set('Cross-Origin-Opener-Policy', 'same-origin');
  headers.set('Cross-Origin-Embedder-Policy', 'require-corp');
  headers.set('Cross-Origin-Resource-Policy', 'same-origin');
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET' || new URL(request.url).origin !== self.location.origin) return;
  event.respondWith(
    caches.open(CACHE).then(async (cache) => {
      const hit = await cache.match(request, { ignoreSearch: true });
      return isolated(hit ?? (await fetch(request)));
    }),
  );
});
