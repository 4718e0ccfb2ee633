// The app's service worker (scope /app/).
//
// - The shell (the app's own files, the shared modules, the vendor modules it imports) is
//   precached on install and served from the cache, refreshed in the background, so the
//   app opens with no signal. Bump VERSION when the list changes.
// - API GETs go to the network first and fall back to the last answer cached (my reports,
//   tasks, grids, taxonomy read offline); photo thumbnails are served from the cache first.
// - Nothing else is touched: POSTs (reports, photos, commands) and the live feed always go
//   to the network, never into a cache. The queued reports live in IndexedDB (outbox.js).
// - Background Sync: a "outbox" sync wakes the open pages, which send their outbox (the
//   tokens live in the page's localStorage, which a worker cannot read).
const VERSION = "app-v2";
const SHELL = `${VERSION}-shell`;
const DATA = `${VERSION}-data`;

const SHELL_FILES = [
  "/app/",
  "/app/index.html",
  "/app/manifest.webmanifest",
  "/app/style.css",
  "/app/main.js",
  "/app/ui.js",
  "/app/login.js",
  "/app/report.js",
  "/app/outbox.js",
  "/app/outbox-view.js",
  "/app/store.js",
  "/app/feed.js",
  "/app/map.js",
  "/app/photos.js",
  "/app/mine.js",
  "/app/tasks.js",
  "/app/task.js",
  "/app/icons/icon-192.png",
  "/app/icons/icon-512.png",
  "/shared/api.js",
  "/shared/live.js",
  "/config.js",
  "/vendor/preact/dist/preact.module.js",
  "/vendor/preact/hooks/dist/hooks.module.js",
  "/vendor/htm/dist/htm.module.js",
  "/vendor/leaflet/dist/leaflet-src.esm.js",
  "/vendor/leaflet/dist/leaflet.css",
];
// Read once on install too, so that the map and the category picker work offline at once.
const WARM_DATA = ["/api/v1/geo/grids"]; // public; the taxonomy needs a token, cached on first use

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const shell = await caches.open(SHELL);
    await shell.addAll(SHELL_FILES.map((url) => new Request(url, { cache: "reload" })));
    const data = await caches.open(DATA);
    await Promise.all(WARM_DATA.map((url) => fetch(url).then((r) => r.ok && data.put(url, r)).catch(() => {})));
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (!name.startsWith(VERSION)) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.headers.get("Accept")?.includes("text/event-stream") || url.pathname.startsWith("/api/v1/live/")) return;
  if (/^\/api\/v1\/photos\/[^/]+\/thumb$/.test(url.pathname)) {
    event.respondWith(cacheFirst(request));
  } else if (url.pathname.startsWith("/api/") || url.pathname === "/config.js") {
    event.respondWith(networkFirst(request));
  } else if (SHELL_FILES.includes(url.pathname) || url.pathname.startsWith("/vendor/")) {
    event.respondWith(staleWhileRevalidate(event, request));
  }
});

async function networkFirst(request) {
  const cache = await caches.open(request.url.endsWith("/config.js") ? SHELL : DATA);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(request, response.clone());
    return response;
  } catch (error) {
    const cached = await cache.match(request);
    if (cached) return cached;
    throw error;
  }
}

async function cacheFirst(request) {
  const cache = await caches.open(DATA);
  const cached = await cache.match(request);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) await cache.put(request, response.clone());
  return response;
}

async function staleWhileRevalidate(event, request) {
  const cache = await caches.open(SHELL);
  const key = new URL(request.url).pathname === "/app/index.html" ? "/app/" : request;
  const cached = await cache.match(key, { ignoreSearch: true });
  const fresh = fetch(request).then(async (response) => {
    if (response.ok) await cache.put(key, response.clone());
    return response;
  });
  if (cached) {
    event.waitUntil(fresh.catch(() => {}));
    return cached;
  }
  return fresh;
}

self.addEventListener("sync", (event) => {
  if (event.tag !== "outbox") return;
  event.waitUntil((async () => {
    const pages = await self.clients.matchAll({ type: "window" });
    for (const page of pages) page.postMessage({ type: "flush-outbox" });
  })());
});

self.addEventListener("message", (event) => {
  if (event.data?.type === "clear-data") event.waitUntil(caches.delete(DATA));
});
