// The app shell's cache: the terminal starts with the network down. The staff's pages (the
// counter's `/`, 困ったとき's `/fallback.html` and the office's `/office.html`) and their hashed files are cached at
// install (read from each page) and refreshed on every successful navigation; API calls,
// the WebSocket and /health are never cached.
const CACHE = "madoguchi-shell-v3";
const PAGES = ["/", "/office.html", "/fallback.html"];

// The cache key of a navigation: its page ("/index.html" and "/" are one). The guidance
// display's page is its own (a counter PC may show it on a second screen): it must never
// land in the counter's entry.
function pageOf(url) {
  return ["/office.html", "/fallback.html", "/display.html"].includes(url.pathname) ? url.pathname : "/";
}

async function cacheShell() {
  await Promise.all(PAGES.map(cachePage));
}

async function cachePage(page) {
  const cache = await caches.open(CACHE);
  const response = await fetch(page, { cache: "no-store" });
  if (!response.ok) return;
  const html = await response.clone().text();
  await cache.put(page, response);
  const urls = new Set(["/manifest.webmanifest", "/icon.svg"]);
  for (const m of html.matchAll(/(?:href|src)="(\/[^"]+)"/g)) urls.add(m[1]);
  for (const m of html.matchAll(/from '(\/[^']+)'|import\('(\/[^']+)'\)|init\('(\/[^']+)'\)|"(\/[^"]+\.wasm)"/g)) {
    const url = m[1] || m[2] || m[3] || m[4];
    if (url) urls.add(url);
  }
  await Promise.all([...urls].map(async (url) => {
    try {
      const r = await fetch(url, { cache: "no-store" });
      if (r.ok) await cache.put(url, r);
    } catch (_) { /* next install retries */ }
  }));
}

self.addEventListener("install", (event) => {
  event.waitUntil(cacheShell().then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) if (key !== CACHE) await caches.delete(key);
    await self.clients.claim();
  })());
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (url.origin !== self.location.origin || event.request.method !== "GET") return;
  if (url.pathname.startsWith("/api/") || url.pathname === "/ws" || url.pathname === "/health") return;
  if (event.request.mode === "navigate") {
    event.respondWith((async () => {
      try {
        const response = await fetch(event.request);
        if (response.ok) (await caches.open(CACHE)).put(pageOf(url), response.clone());
        return response;
      } catch (_) {
        return (await caches.match(pageOf(url))) || Response.error();
      }
    })());
    return;
  }
  event.respondWith((async () => {
    const cached = await caches.match(url.pathname);
    if (cached) return cached;
    const response = await fetch(event.request);
    if (response.ok) (await caches.open(CACHE)).put(url.pathname, response.clone());
    return response;
  })());
});
