/**
 * Service worker of the participant app: caches the app shell at install so the app opens with
 * no network (offline first). API calls are not cached — the page queues its uploads in
 * IndexedDB (queue.ts) and retries them itself.
 */
// Typed loosely: the project compiles with lib DOM (not WebWorker), whose types would clash.
const sw = self as any;
const CACHE = 'moodlens-app-v1';
const SHELL = ['./', 'index.html', 'main.js', 'style.css', 'manifest.webmanifest', 'icon.svg'];

sw.addEventListener('install', (e: any) => {
  e.waitUntil(caches.open(CACHE).then((c: Cache) => c.addAll(SHELL)).then(() => sw.skipWaiting()));
});
sw.addEventListener('activate', (e: any) => {
  e.waitUntil(caches.keys().then((ks: string[]) => Promise.all(ks.filter((k: string) => k !== CACHE).map((k: string) => caches.delete(k)))).then(() => sw.clients.claim()));
});
sw.addEventListener('fetch', (e: any) => {
  const url = new URL(e.request.url);
  if (e.request.method !== 'GET' || url.origin !== sw.location.origin || !url.pathname.startsWith('/app/')) return;
  // Network first (a new build shows up at once), the cached shell when offline.
  e.respondWith(fetch(e.request).then((r: Response) => {
    if (r.ok) { const copy = r.clone(); void caches.open(CACHE).then((c: Cache) => c.put(e.request, copy)); }
    return r;
  }).catch(async () => (await caches.match(e.request, { ignoreSearch: true })) ?? (await caches.match('index.html')) ?? Response.error()));
});
export {};
