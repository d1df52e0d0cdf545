/**
 * Moodlens participant app (SPEC §1, §6): enrol with the one-time code, see the prompts open now
 * (docs/study-design.md: a prompt is open from its time until its expiry; answering closes it)
 * and the next one, answer one — for the main items the speech task first (a neutral sentence
 * with the current date and time, recorded, played back, redone at will), then the items in a
 * new random order each time: sliders with no preset thumb, Likert and choice items as large
 * radio or check boxes, yes/no, free text; a questionnaire (e.g. PHQ-9) in its own order with its
 * instructions — and wake/bed and event-contingent reports on demand. Answers and recordings go
 * to the IndexedDB outbox first and are uploaded with retries (queue.ts).
 *
 * Which prompts are open is computed here with the same schedule module the server uses
 * (src/data/schedule.ts), from the design and the participant's clock of the last GET /me/next,
 * so it works offline. Time is the page's clock (Date.now()): browser tests drive it with
 * Playwright's page.clock, the server's with ServerOptions.now (docs/web.md).
 */
import { flush, outbox, type OutboxEntry } from './queue.js';
import { SpeechRecorder, type Recording } from './recorder.js';
import { extractEgemaps } from '../../signal/speech/egemaps.js';
import { secureShuffle } from '../../util/shuffle.js';
import { MAIN_INSTRUMENT, itemRange } from '../../data/design.js';
import type { StudyConfig, StudyItem } from '../../data/study.js';
import { studyInstruments, type ResolvedInstrument } from '../../data/instruments.js';
import { eventInstruments, nextStudyPrompt, openPrompts, type Prompt } from '../../data/schedule.js';
// The server's answer to GET /me/next (a type only: no server code is bundled).
import type { NextPromptBody as Next } from '../../server/http/responses.js';

type Item = StudyItem;
type Answer = number | number[] | string;

const view = document.getElementById('view')!;
const net = document.getElementById('net')!;
const KEY = 'moodlens.device';
let device: { token: string; participantId: string; study: string } | null = JSON.parse(localStorage.getItem(KEY) ?? 'null');

const api = (path: string, init: RequestInit = {}) => fetch(path, {
  ...init, headers: { ...(init.headers as Record<string, string> ?? {}), ...(device ? { authorization: `Bearer ${device.token}` } : {}) },
});
const uploader = {
  postReport: (body: OutboxEntry['report']) => api('/me/reports', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  putFeatures: (id: string, features: Record<string, number | null>) => api(`/me/reports/${encodeURIComponent(id)}/speech-features`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ features }) }),
  putSpeech: (id: string, wav: ArrayBuffer) => api(`/me/reports/${encodeURIComponent(id)}/speech`, { method: 'PUT', headers: { 'content-type': 'audio/wav' }, body: wav }),
  putSpeechFailure: (id: string, note: { reason: string; detail?: string }) => api(`/me/reports/${encodeURIComponent(id)}/speech-failure`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(note) }),
};

function h(html: string): void { view.innerHTML = html; (view.querySelector('h2, [autofocus]') as HTMLElement | null)?.focus?.(); }
const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
/** ISO time with the phone's own offset, e.g. 2026-11-22T21:05:00+01:00 (the server keeps it as sent). */
function isoLocal(d = new Date()): string {
  const off = -d.getTimezoneOffset(), sign = off >= 0 ? '+' : '-', a = Math.abs(off);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}${sign}${p(Math.floor(a / 60))}:${p(a % 60)}`;
}
function newId(): string { return 'a-' + crypto.randomUUID(); }

async function updateNet(): Promise<void> {
  const pending = (await outbox.all().catch(() => [] as OutboxEntry[]));
  const waiting = pending.filter((e) => !e.failed).length;
  net.textContent = `${navigator.onLine ? 'online' : 'offline'}${waiting ? ` · ${waiting} waiting to upload` : ''}`;
  const el = document.getElementById('pending');
  if (el) el.textContent = waiting ? `${waiting} answer${waiting > 1 ? 's' : ''} waiting to upload.` : 'Everything is uploaded.';
}
async function sync(force = false): Promise<void> {
  if (!device || !navigator.onLine) return void updateNet();
  await flush(uploader, force);
  await updateNet();
}

// ---------- enrolment ----------
/**
 * The code of an enrolment link: in the fragment (#code=…, never sent to a server, so in no log),
 * or the query of an old link (?code=…). Read once; the address bar is cleared of it at once.
 */
const linkCode = ((): string => {
  const code = new URLSearchParams(location.hash.slice(1)).get('code') ?? new URLSearchParams(location.search).get('code') ?? '';
  if (code) history.replaceState(null, '', location.pathname);
  return code;
})();

function enrolView(msg = ''): void {
  const code = linkCode;
  h(`<h2 tabindex="-1">Join a study</h2>
  <form id="enrol" class="stack">
    <label for="code">Enrolment code from your researcher</label>
    <input id="code" name="code" type="text" autocomplete="one-time-code" autocapitalize="characters" required value="${esc(code)}">
    <button type="submit">Join</button>
    <p class="error" role="alert">${esc(msg)}</p>
  </form>`);
  document.getElementById('enrol')!.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const value = (document.getElementById('code') as HTMLInputElement).value.trim();
    try {
      const r = await fetch('/enrol', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code: value }) });
      const j = await r.json();
      if (!r.ok) return enrolView(j.message ?? `enrolment failed (${r.status})`);
      device = { token: j.token, participantId: j.participantId, study: j.study.name };
      localStorage.setItem(KEY, JSON.stringify(device));
      localStorage.removeItem(PUSH_KEY); // a subscription stored for an earlier enrolment is re-sent for this one
      history.replaceState(null, '', location.pathname);
      await homeView();
    } catch { enrolView('No connection: enrolment needs the network once.'); }
  });
}

// ---------- reminders (Web Push) ----------
const PUSH_KEY = 'moodlens.push';
function b64urlBytes(s: string): Uint8Array {
  const b = atob(s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (s.length % 4)) % 4));
  return Uint8Array.from(b, (c) => c.charCodeAt(0));
}
/**
 * With notification permission: subscribe with the browser's push service (the server's VAPID
 * key from /me/push/key) and give the server the subscription, so reminders arrive at prompt
 * times even when the app is closed. Returns a line for the participant.
 */
async function setupReminders(): Promise<string> {
  if (!('Notification' in window) || !('serviceWorker' in navigator) || !('PushManager' in window)) return 'This browser cannot show reminders.';
  if (Notification.permission === 'denied') return 'Reminders are off (notifications are blocked for this app in the browser settings).';
  if (Notification.permission !== 'granted') return '';
  try {
    const reg = await navigator.serviceWorker.ready;
    let sub = await reg.pushManager.getSubscription();
    if (!sub) {
      const r = await api('/me/push/key');
      if (!r.ok) throw new Error(`server answered ${r.status}`);
      const { publicKey } = await r.json() as { publicKey: string };
      sub = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: b64urlBytes(publicKey) as BufferSource });
    }
    const j = sub.toJSON();
    if (localStorage.getItem(PUSH_KEY) !== j.endpoint) {
      const r = await api('/me/push/subscription', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ endpoint: j.endpoint, expirationTime: j.expirationTime ?? null, keys: j.keys }) });
      if (!r.ok) throw new Error(`server answered ${r.status}`);
      localStorage.setItem(PUSH_KEY, j.endpoint!);
    }
    return 'Reminders are on: you get a notification at each check-in time.';
  } catch (e) {
    return `Reminders are not available on this device (${(e as Error).message || 'no push service'}). Open the app at the check-in times.`;
  }
}

// ---------- home ----------
async function loadNext(): Promise<Next | null> {
  try {
    const r = await api('/me/next');
    if (r.ok) { const j = (await r.json()) as Next; localStorage.setItem('moodlens.next', JSON.stringify(j)); return j; }
  } catch { /* offline: last known */ }
  return JSON.parse(localStorage.getItem('moodlens.next') ?? 'null');
}

/** Plain text as paragraphs (a blank line separates two). */
const paragraphs = (text: string) => text.split(/\n\s*\n/).map((t) => `<p>${esc(t.trim()).replace(/\n/g, '<br>')}</p>`).join('');

/**
 * The study information and consent, accepted once before the first report: the server records
 * when (POST /me/consent) and refuses reports before it when the study has a consent text.
 */
function consentView(next: Next, msg = ''): void {
  h(`<h2 tabindex="-1">About this study</h2>
  <p class="status">Study: ${esc(device!.study)}</p>
  <section class="card" aria-labelledby="h-info"><h3 id="h-info">Study information</h3>
    ${next.information ? paragraphs(next.information) : '<p>Your researcher will tell you what this study is about. Your answers and recordings go to the research team only.</p>'}</section>
  ${next.consent ? `<section class="card" aria-labelledby="h-consent"><h3 id="h-consent">Consent</h3>${paragraphs(next.consent)}</section>` : ''}
  <form id="consent-form" class="stack">
    <label class="check"><input type="checkbox" id="agree" required> ${next.consent ? 'I have read the information and I agree to take part.' : 'I have read the information.'}</label>
    <button type="submit">${next.consent ? 'Agree and continue' : 'Continue'}</button>
    <p class="error" role="alert">${esc(msg)}</p>
  </form>`);
  document.getElementById('consent-form')!.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const r = await api('/me/consent', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ accepted: true, textSha256: next.textSha256 }) });
      const j = await r.json();
      if (!r.ok) return consentView(next, j.message ?? `not recorded (${r.status})`);
      localStorage.setItem('moodlens.next', JSON.stringify({ ...next, consentedAt: j.consentedAt }));
      await homeView();
    } catch { consentView(next, 'No connection: accepting needs the network once.'); }
  });
}

/** The study's design from the last GET /me/next (null: a cached answer from before instruments). */
function designOf(next: Next): StudyConfig | null {
  if (!next.design) return null;
  // Checked and completed by the server (study.json as parsed there): used as it is, no zod in the app.
  const { items, schedule, instruments } = next.design;
  return { name: device?.study || 'study', items, ...(schedule ? { schedule } : {}), instruments } as StudyConfig;
}

/** Prompt ids this phone has answered (kept so an offline app does not offer them again). */
const ANSWERED_KEY = 'moodlens.answered';
const answeredHere = (): string[] => JSON.parse(localStorage.getItem(ANSWERED_KEY) ?? '[]');
function markAnswered(id: string): void {
  localStorage.setItem(ANSWERED_KEY, JSON.stringify([...answeredHere().filter((x) => x !== id), id].slice(-500)));
}

/** What the home screen offers now: the open prompts (by the page's clock), the next one, the event-contingent instruments. */
function promptsNow(next: Next): { open: Prompt[]; next: Prompt | null; events: ResolvedInstrument[]; instruments: ResolvedInstrument[] } | null {
  const config = designOf(next);
  if (!config || !next.clock) return null;
  const now = Date.now();
  const answered = new Set([...(next.answered ?? []), ...answeredHere()]);
  return {
    open: openPrompts(config, next.clock, now, answered), next: nextStudyPrompt(config, next.clock, now),
    events: eventInstruments(config), instruments: studyInstruments(config),
  };
}

const clockTime = (iso: string) => new Date(iso).toLocaleString([], { weekday: 'long', hour: '2-digit', minute: '2-digit' });
const hhmm = (iso: string) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

async function homeView(): Promise<void> {
  const next = await loadNext();
  if (next && !next.consentedAt) return consentView(next);
  const now = next ? promptsNow(next) : null;
  const label = (id: string) => (id === MAIN_INSTRUMENT ? 'Check-in' : now?.instruments.find((i) => i.id === id)?.label ?? id);
  const upcoming = now ? now.next : next?.prompt ?? null;
  const when = upcoming ? clockTime(upcoming.time) : null;
  const notify = 'Notification' in window && Notification.permission === 'default';
  const open = now?.open ?? [];
  // A schedule with windows bounded by wake or bed time: the participant may give their own times.
  const windowed = now?.instruments.find((i) => i.schedule?.windows?.some((w) => /^(wake|bed)/.test(w.start) || /^(wake|bed)/.test(w.end)))?.schedule;
  const dayTimes = windowed && next?.clock ? { wake: next.clock.overrides?.wake ?? windowed.wake ?? '08:00', bed: next.clock.overrides?.bed ?? windowed.bed ?? '22:00' } : null;
  // The participant's own name when the researcher gave one, else just "Hello": never the internal id.
  h(`<h2 tabindex="-1">Hello${next?.displayName ? ` ${esc(next.displayName)}` : ''}</h2>
  <p class="status">Study: ${esc(device!.study)}</p>
  ${open.length ? `<section class="card" aria-labelledby="h-open"><h3 id="h-open">Open now</h3><ul class="prompt-list">${open.map((p, k) => `
    <li><button id="open-${k}" data-prompt="${esc(p.id)}">${esc(label(p.instrument))} of ${esc(hhmm(p.time))}</button>
    <span class="status" id="open-${k}-until">open until ${esc(hhmm(p.expires))}</span></li>`).join('')}</ul></section>` : ''}
  <div class="card"><p>${next?.studyOver ? 'The study is over — thank you!' : when ? `Next check-in: <strong>${esc(when)}</strong>` : 'No check-in scheduled.'}</p>
  <button id="answer" ${next ? '' : 'disabled'}>Answer now</button></div>
  ${now?.events.length ? `<div class="row">${now.events.map((i, k) => `<button class="secondary" id="event-${k}" data-instrument="${esc(i.id)}">Report: ${esc(i.label)}</button>`).join('')}</div>` : ''}
  ${next?.wakeAndBed !== false ? `<div class="row"><button class="secondary" id="wake">I just woke up</button><button class="secondary" id="bed">I'm going to bed</button></div>` : ''}
  ${notify ? `<p><button class="secondary" id="notify">Remind me with notifications</button></p>` : ''}
  ${dayTimes ? `<details class="card" id="my-day"><summary>My wake and bed times</summary>
    <form id="day-form" class="stack">
      <label for="wake-time">I usually wake up at</label><input type="time" id="wake-time" required value="${esc(dayTimes.wake)}">
      <label for="bed-time">I usually go to bed at</label><input type="time" id="bed-time" required value="${esc(dayTimes.bed)}">
      <button type="submit">Save times</button>
      <p class="status" id="day-status" role="status"></p>
    </form></details>` : ''}
  <p id="reminders" class="status"></p>
  <p id="pending" class="status" role="status"></p>`);
  document.getElementById('day-form')?.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const status = document.getElementById('day-status')!;
    const body = { wake: (document.getElementById('wake-time') as HTMLInputElement).value, bed: (document.getElementById('bed-time') as HTMLInputElement).value };
    try {
      const r = await api('/me/schedule-overrides', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      if (!r.ok) { status.textContent = ((await r.json()) as { message?: string }).message ?? `not saved (${r.status})`; return; }
      await homeView();
      const saved = document.getElementById('day-status');
      if (saved) { (document.getElementById('my-day') as HTMLDetailsElement).open = true; saved.textContent = 'Saved: your check-ins follow these times.'; }
    } catch { status.textContent = 'No connection: saving your times needs the network.'; }
  });
  open.forEach((p, k) => document.getElementById(`open-${k}`)!.addEventListener('click', () => next && promptView(next, 'scheduled', undefined, p)));
  now?.events.forEach((i, k) => document.getElementById(`event-${k}`)!.addEventListener('click', () => next && promptView(next, 'event', undefined, undefined, i.id)));
  document.getElementById('answer')?.addEventListener('click', () => next && promptView(next, 'scheduled'));
  document.getElementById('wake')?.addEventListener('click', () => next && promptView(next, 'wake'));
  document.getElementById('bed')?.addEventListener('click', () => next && promptView(next, 'bed'));
  document.getElementById('notify')?.addEventListener('click', async () => { await Notification.requestPermission(); void homeView(); });
  await updateNet();
  if (navigator.onLine) void setupReminders().then((line) => { const el = document.getElementById('reminders'); if (el) el.textContent = line; });
}

// ---------- a prompt: speech task (main items), then the items ----------
/**
 * Answer a report. `prompt`: the open prompt answered (its id and time go with the report);
 * else "Answer now" answers the open check-in of the main items if there is one (or the one a
 * reminder names), and is a voluntary report otherwise. `instrument`: an event-contingent report.
 */
async function promptView(next: Next, trigger: string, reminded?: string, prompt?: Prompt, instrumentId: string = prompt?.instrument ?? MAIN_INSTRUMENT): Promise<void> {
  if (!next.consentedAt) return consentView(next);
  const started = new Date();
  const now = promptsNow(next);
  if (trigger === 'scheduled' && !prompt && !reminded) prompt = now?.open.find((p) => p.instrument === MAIN_INSTRUMENT);
  // A reminder names the prompt it is for; otherwise the open (or cached next) prompt, once it is due.
  const due = prompt ? prompt.time : reminded && Date.parse(reminded) <= Date.now() + 60_000 ? reminded : next.prompt && Date.parse(next.prompt.time) <= Date.now() ? next.prompt.time : undefined;
  const promptTime = trigger === 'scheduled' ? due : undefined;
  // "Answer now" before the prompt is due is a voluntary report, not the scheduled one.
  if (trigger === 'scheduled' && !promptTime) trigger = 'voluntary';
  const instrument = now?.instruments.find((i) => i.id === instrumentId);
  const main = instrumentId === MAIN_INSTRUMENT;
  let rec: Recording | null = null, speechNote: OutboxEntry['speechNote'];
  if (main && next.speech !== 'none') ({ rec, note: speechNote } = await speechStep(started, next.speech === 'features'));
  // Privacy mode: the eGeMAPS functionals are computed here with the project's own signal code;
  // the audio never leaves the phone (NaN — e.g. no voiced frame — is sent as null).
  let features: Record<string, number | null> | undefined;
  if (rec && next.speech === 'features') {
    features = {};
    for (const [k, v] of Object.entries(extractEgemaps(rec.samples, rec.sampleRate).functionals)) features[k] = Number.isFinite(v) ? v : null;
  }
  // The main items in a new random order each time; a questionnaire in its own (published) order.
  const items = main ? secureShuffle(next.items) : instrument?.items ?? [];
  const sliders = items.every((i) => !i.kind || i.kind === 'slider');
  const heading = main ? (sliders ? 'Right now, how much do you feel…' : 'Right now…') : instrument?.label ?? instrumentId;
  await itemsStep(items, { heading, instructions: main ? undefined : instrument?.instructions }, async (answers, itemOrder) => {
    const id = newId();
    const entry: OutboxEntry = {
      id, report: { id, time: isoLocal(), trigger, answers, itemOrder, ...(promptTime ? { promptTime } : {}),
        ...(main ? {} : { instrument: instrumentId }), ...(prompt && trigger === 'scheduled' ? { promptId: prompt.id } : {}) },
      ...(features ? { features } : rec ? { wav: rec.wav.slice().buffer } : speechNote ? { speechNote } : {}), reportDone: false, tries: 0, nextTryMs: 0, createdMs: Date.now(),
    };
    await outbox.put(entry); // durable before any upload is tried
    if (prompt && trigger === 'scheduled') markAnswered(prompt.id);
    h(`<h2 tabindex="-1">Thank you</h2><p class="ok">Your answers are saved on this phone.</p><p id="pending" class="status" role="status"></p><button id="home">Done</button>`);
    document.getElementById('home')!.addEventListener('click', () => void homeView());
    await sync(true);
  });
}

function speechStep(now: Date, privacy: boolean): Promise<{ rec: Recording | null; note?: OutboxEntry['speechNote'] }> {
  return new Promise((resolve) => {
    const stamp = now.toLocaleString('en-GB', { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric', hour: '2-digit', minute: '2-digit' });
    h(`<h2 tabindex="-1">Speech task</h2>
    <p>Please read this sentence aloud in your normal voice:</p>
    <p class="sentence" id="sentence">The current date and time are ${esc(stamp)}.</p>
    ${privacy ? '<p class="status" id="privacy">Privacy mode: your voice is analysed on this phone; only the voice measures are sent, never the recording.</p>' : ''}
    <div class="row"><button id="rec" aria-describedby="sentence">Record</button><button id="redo" class="secondary" hidden>Redo</button></div>
    <p id="recstate" class="status" role="status"></p>
    <audio id="play" controls hidden aria-label="Play back your recording"></audio>
    <div class="bottom-bar row"><button id="next" disabled>Next: questions</button><button id="skip" class="secondary">Skip speech</button></div>`);
    const recBtn = document.getElementById('rec') as HTMLButtonElement, redo = document.getElementById('redo') as HTMLButtonElement;
    const state = document.getElementById('recstate')!, play = document.getElementById('play') as HTMLAudioElement, nextBtn = document.getElementById('next') as HTMLButtonElement;
    let recorder: SpeechRecorder | null = null, result: Recording | null = null, micError = '';
    const begin = async () => {
      try {
        recorder = new SpeechRecorder(); await recorder.start();
        recBtn.textContent = 'Stop'; recBtn.hidden = false; redo.hidden = true; play.hidden = true; nextBtn.disabled = true; state.textContent = 'Recording…';
      } catch (e) { micError = (e as Error).message; state.textContent = `The microphone is not available (${micError}).`; recorder = null; }
    };
    recBtn.addEventListener('click', async () => {
      if (!recorder) return begin();
      result = await recorder.stop(); recorder = null;
      state.textContent = `Recorded ${result.seconds.toFixed(1)} s. Play it back, or redo it.`;
      play.src = URL.createObjectURL(new Blob([result.wav.slice().buffer], { type: 'audio/wav' })); play.hidden = false;
      recBtn.hidden = true; redo.hidden = false; nextBtn.disabled = false;
    });
    redo.addEventListener('click', () => void begin());
    nextBtn.addEventListener('click', () => resolve({ rec: result }));
    document.getElementById('skip')!.addEventListener('click', async () => {
      if (recorder) await recorder.stop();
      resolve({ rec: null, note: micError ? { reason: 'microphone', detail: micError.slice(0, 300) } : { reason: 'skipped' } });
    });
  });
}

/** One item's form control by kind, with its accessible name; sliders show no value until touched. */
function itemHtml(it: Item, k: number): string {
  const name = esc(it.label ?? it.id);
  const opts = (choices: { value: number; label: string }[], type: 'radio' | 'checkbox', row = false) => `
    <fieldset class="item" data-item="${esc(it.id)}" data-kind="${type}" id="f-${k}"><legend>${name}</legend>
      <div class="options${row ? ' row' : ''}">${choices.map((c, j) => `<label><input type="${type}" name="i-${k}" id="i-${k}-${j}" value="${c.value}"> ${esc(c.label)}</label>`).join('')}</div>
    </fieldset>`;
  switch (it.kind) {
    case 'likert': return opts(it.labels.map((label, j) => ({ value: it.min + j, label })), 'radio');
    case 'choice': return opts(it.options, it.multiple ? 'checkbox' : 'radio');
    case 'boolean': return opts([{ value: 1, label: 'Yes' }, { value: 0, label: 'No' }], 'radio', true);
    case 'text': return `
    <div class="item"><label for="i-${k}">${name}</label>
      <textarea id="i-${k}" data-item="${esc(it.id)}" maxlength="${it.maxLength}" rows="3"></textarea></div>`;
    default: {
      const r = itemRange(it)!;
      return `
    <div class="item">
      <div class="item-head"><label for="i-${k}">${name}</label> <output class="value" id="v-${k}" for="i-${k}"></output>
        <button type="button" class="link" id="s-${k}" aria-label="Skip ${name}">Skip</button></div>
      <input type="range" id="i-${k}" data-item="${esc(it.id)}" min="${r.min}" max="${r.max}" step="1" class="untouched" aria-valuetext="not answered">
      <div class="ends" aria-hidden="true"><span>not at all</span><span>very much</span></div>
    </div>`;
    }
  }
}

/**
 * The items, each by its kind: sliders that show no value until touched (a neutral track with no
 * thumb and an empty value, so nothing anchors the answer; the first touch sets the value where
 * it lands; "Skip" undoes it), Likert, single choice and yes/no as radio rows with nothing
 * preselected, multiple choice as check boxes, text as a text box. An item left untouched is
 * sent as not answered: left out of `answers`, never stored as the middle of the scale.
 */
function itemsStep(items: Item[], text: { heading: string; instructions?: string }, done: (answers: Record<string, Answer>, order: string[]) => Promise<void>): void {
  const sliders = items.some((i) => !i.kind || i.kind === 'slider');
  h(`<h2 tabindex="-1">${esc(text.heading)}</h2>
  ${text.instructions ? `<p class="instructions">${esc(text.instructions)}</p>` : ''}
  <p class="status">${sliders ? 'Touch each line where it fits. ' : ''}Skip a question, or leave it untouched, if you do not want to answer it.</p>
  <form id="items">${items.map(itemHtml).join('')}
    <div class="bottom-bar"><button type="submit">Save answers</button></div>
  </form>`);
  const answered = new Set<string>();
  view.querySelectorAll<HTMLInputElement>('input[type=range]').forEach((el) => {
    const k = el.id.slice(2);
    const value = document.getElementById(`v-${k}`)!, skip = document.getElementById(`s-${k}`) as HTMLButtonElement;
    const mark = () => {
      el.classList.remove('untouched'); answered.add(el.dataset.item!);
      const frac = (Number(el.value) - Number(el.min)) / (Number(el.max) - Number(el.min));
      el.style.setProperty('--fill', `${(100 * frac).toFixed(1)}%`); // the filled part of the track, once answered
      value.textContent = el.value; el.setAttribute('aria-valuetext', el.value); skip.textContent = 'Skip';
    };
    el.addEventListener('input', mark);
    el.addEventListener('change', mark);
    // A touch that lands exactly on the hidden default (the middle) fires no input event: count it too.
    el.addEventListener('pointerup', mark);
    el.addEventListener('click', mark);
    skip.addEventListener('click', () => {
      el.classList.add('untouched'); answered.delete(el.dataset.item!); el.style.removeProperty('--fill');
      value.textContent = ''; el.setAttribute('aria-valuetext', 'not answered'); skip.textContent = 'Skipped';
    });
  });
  document.getElementById('items')!.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const answers: Record<string, Answer> = {};
    view.querySelectorAll<HTMLInputElement>('input[type=range]').forEach((el) => { if (answered.has(el.dataset.item!)) answers[el.dataset.item!] = Number(el.value); });
    view.querySelectorAll<HTMLFieldSetElement>('fieldset[data-item]').forEach((f) => {
      const checked = Array.from(f.querySelectorAll<HTMLInputElement>('input:checked'), (x) => Number(x.value));
      if (f.dataset.kind === 'checkbox') { if (checked.length) answers[f.dataset.item!] = checked; }
      else if (checked.length) answers[f.dataset.item!] = checked[0];
    });
    view.querySelectorAll<HTMLTextAreaElement>('textarea[data-item]').forEach((t) => { if (t.value.trim()) answers[t.dataset.item!] = t.value; });
    void done(answers, items.map((i) => i.id));
  });
}

// ---------- start ----------
if ('serviceWorker' in navigator) navigator.serviceWorker.register('sw.js', { scope: './' }).catch(() => { /* app still works online */ });
addEventListener('online', () => void sync(true));
addEventListener('offline', () => void updateNet());
setInterval(() => void sync(), 15_000);
// A reminder's click: the service worker asks an open window to open the prompt it names, or
// opens /app/?prompt=<time>.
async function openReminded(promptTime: string | null): Promise<void> {
  if (!device) return;
  const next = await loadNext();
  if (!next) return;
  // The open prompt the reminder is for (the main items first when two instruments share the time).
  const at = promptTime ? Date.parse(promptTime) : NaN;
  const open = (promptsNow(next)?.open ?? []).filter((p) => p.timeMs === at).sort((a, b) => Number(b.instrument === MAIN_INSTRUMENT) - Number(a.instrument === MAIN_INSTRUMENT));
  if (open.length) await promptView(next, 'scheduled', undefined, open[0]);
  else await promptView(next, 'scheduled', promptTime ?? undefined);
}
navigator.serviceWorker?.addEventListener('message', (ev) => { if (ev.data?.type === 'open-prompt') void openReminded(ev.data.promptTime ?? null); });
const remindedAt = new URLSearchParams(location.search).get('prompt');
if (remindedAt) history.replaceState(null, '', location.pathname);
if (device && remindedAt) void openReminded(remindedAt).then(() => sync(true));
else if (device) void homeView().then(() => sync(true)); else enrolView();
