/**
 * Service worker of the participant app: caches the app shell at install so the app opens with
 * no network (offline first). API calls are not cached — the page queues its uploads in
 * IndexedDB (queue.ts) and retries them itself.
 *
 * Reminders: the server's Web Push message (src/server/jobs/push.ts: {type: "prompt", title, body,
 * promptTime, url}) is shown as a notification; a click on it brings the app to the prompt — an
 * open app window is told to open it (postMessage) and focused, else a new window opens at
 * `url` (/app/?prompt=…).
 */
import type { PromptPush as ServerPromptPush } from '../../server/jobs/push.js';
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

/** What a push carries (the server's message, read defensively: any field may be missing). */
type PromptPush = Partial<ServerPromptPush>;

/** Show the reminder a push carries (also used by the e2e test through the same code path). */
async function showReminder(msg: PromptPush): Promise<void> {
  const promptTime = typeof msg.promptTime === 'string' ? msg.promptTime : undefined;
  const url = typeof msg.url === 'string' && msg.url.startsWith('/app/') ? msg.url : promptTime ? `/app/?prompt=${encodeURIComponent(promptTime)}` : '/app/';
  await sw.registration.showNotification(msg.title || 'Moodlens', {
    body: msg.body || 'Time for your check-in.', tag: msg.tag || 'moodlens-prompt', renotify: true, requireInteraction: true,
    icon: 'icon.svg', badge: 'icon.svg', data: { url, promptTime },
  });
}

/** Bring the participant to the prompt: an open window is told to open it, else a new one opens. */
async function openPrompt(data: { url?: string; promptTime?: string } | undefined): Promise<void> {
  const url = data?.url && data.url.startsWith('/app/') ? data.url : '/app/';
  const wins = await sw.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const win = wins.find((c: any) => new URL(c.url).pathname.startsWith('/app/'));
  if (win) {
    win.postMessage({ type: 'open-prompt', promptTime: data?.promptTime ?? null });
    try { await win.focus(); } catch { /* focusing needs the click's user activation */ }
    return;
  }
  await sw.clients.openWindow(url);
}

sw.addEventListener('push', (e: any) => {
  let msg: PromptPush = {};
  try { msg = e.data ? e.data.json() : {}; } catch { msg = { body: e.data?.text?.() }; }
  e.waitUntil(showReminder(msg));
});
sw.addEventListener('notificationclick', (e: any) => {
  e.notification.close();
  e.waitUntil(openPrompt(e.notification.data));
});
// For the end-to-end test, which can neither click a system notification nor send a trusted
// notificationclick: the same function the click handler runs.
sw.moodlensOpenPrompt = openPrompt;
export {};
