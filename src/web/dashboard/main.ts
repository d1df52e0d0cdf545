/**
 * Researcher dashboard: login, password reset page, studies, members and roles, participants
 * (invite, compliance), alerts and threshold notifications to acknowledge, the prompt log (each
 * prompt's fate), export, model attach (each offered by role), and per participant the item trajectories with the model's
 * predictions and intervals overlaid and a day × hour heat map. Charts are the shared Vega-Lite
 * specs in ../charts.ts rendered with vega's View (SVG).
 */
import * as vega from 'vega';
import { expressionInterpreter } from 'vega-interpreter';
import { compile } from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';
import {
  SMALL_N, cccSpec, compliance, complianceSpec, dayHourHeatmapSpec, localDayHour, trajectorySpec, wearSpec, type CccRow, type QualityRow, type TrajectoryPoint,
} from '../charts.js';
// The server's answers (types only: no server code is bundled).
import type { DayHourActivityBody, MemberViewBody, ModelEvaluationBody, NotificationBody, NotifySettingsBody, PromptLogEntryBody } from '../../server/http/responses.js';

/** An item a model predicts: one numeric answer (not text, not multiple choice; docs/study-design.md). */
const predicted = (i: { kind?: string; multiple?: boolean }) => i.kind !== 'text' && !(i.kind === 'choice' && i.multiple);

const view = document.getElementById('view')!;
const nav = document.getElementById('nav')!;
let token = sessionStorage.getItem('moodlens.researcher');

async function api<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  const r = await fetch(path, {
    method, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const j = await r.json().catch(() => ({}));
  if (r.status === 401 && path !== '/auth/login') { token = null; sessionStorage.removeItem('moodlens.researcher'); loginView('Your session ended; please log in again.'); throw new Error('unauthorised'); }
  if (!r.ok) throw new Error(j.message ?? `HTTP ${r.status}`);
  return j as T;
}
const esc = (s: unknown) => String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const f3 = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(3));
const hm = (minutes: number) => `${Math.floor(minutes / 60)} h ${String(Math.round(minutes % 60)).padStart(2, '0')}`;

/** Data quality rows as a table: wear time, reports, late, recordings received / failed / skipped / missing. */
function qualityTable(rows: QualityRow[], id: string, withParticipant: boolean): string {
  if (!rows.length) return '<p class="status">No study day yet.</p>';
  return `<div class="scroll"><table id="${id}"><thead><tr>${withParticipant ? '<th scope="col">Participant</th>' : ''}<th scope="col">Day</th><th scope="col">Wear time</th><th scope="col">Reports</th><th scope="col">Late</th><th scope="col">Recordings</th><th scope="col">Failed</th><th scope="col">Skipped</th><th scope="col">Missing</th></tr></thead><tbody>
  ${rows.map((r) => `<tr>${withParticipant ? `<td>${esc(r.participantId)}</td>` : ''}<td>${esc(r.day)}</td><td>${hm(r.wearMinutes)} of ${hm(r.minutesInDay)} (${Math.round(r.wearFraction * 100)} %)</td><td>${r.reports}</td><td>${r.late}</td><td>${r.recordings}</td><td>${r.failedRecordings ? `<strong class="error">${r.failedRecordings}</strong>` : 0}</td><td>${r.skippedRecordings}</td><td>${r.missingRecordings}</td></tr>`).join('')}
  </tbody></table></div>`;
}

/** The prompt log per participant: prompts by fate, reminders pushed, app opened, compliance = answered ÷ (answered + expired). */
function promptSummaryTable(entries: PromptLogEntryBody[]): string {
  if (!entries.length) return '<p class="status">No prompt is due yet.</p>';
  const by = new Map<string, { n: number; answered: number; expired: number; open: number; sent: number; opened: number }>();
  for (const e of entries) {
    const s = by.get(e.participantId) ?? { n: 0, answered: 0, expired: 0, open: 0, sent: 0, opened: 0 };
    s.n++; if (e.fate === 'answered') s.answered++; else if (e.fate === 'expired') s.expired++; else if (e.fate === 'open') s.open++;
    if (e.pushSentAt) s.sent++; if (e.openedAt) s.opened++;
    by.set(e.participantId, s);
  }
  const pct = (a: number, b: number) => (b ? `${Math.round((100 * a) / b)} %` : '—');
  return `<div class="scroll"><table id="prompt-summary"><caption class="sr-only">Prompts per participant by fate</caption><thead><tr><th scope="col">Participant</th><th scope="col">Prompts</th><th scope="col">Answered</th><th scope="col">Expired</th><th scope="col">Open</th><th scope="col">Reminder sent</th><th scope="col">App opened</th><th scope="col">Compliance</th></tr></thead><tbody>
  ${[...by].map(([pid, s]) => `<tr><td>${esc(pid)}</td><td>${s.n}</td><td>${s.answered}</td><td>${s.expired ? `<strong class="error">${s.expired}</strong>` : 0}</td><td>${s.open}</td><td>${s.sent}</td><td>${s.opened}</td><td>${pct(s.answered, s.answered + s.expired)}</td></tr>`).join('')}
  </tbody></table></div>`;
}

/** The prompt log's default span (the server's): the dashboard shows the last 14 days; the export has the whole log. */
const PROMPT_LOG_DAYS = 14;

/** Every page of a prompt log query (the server answers whole participants a page at a time). */
async function promptLogPages(url: string): Promise<{ entries: PromptLogEntryBody[] }> {
  const entries: PromptLogEntryBody[] = [];
  let cursor: string | null = null;
  do {
    const page: { entries: PromptLogEntryBody[]; nextCursor: string | null } = await api('GET', cursor ? `${url}${url.includes('?') ? '&' : '?'}cursor=${encodeURIComponent(cursor)}` : url);
    entries.push(...page.entries);
    cursor = page.nextCursor;
  } while (cursor);
  return { entries };
}

/** One participant's prompt log: every prompt, its instrument, intended time and fate. */
function promptLogTable(entries: PromptLogEntryBody[]): string {
  if (!entries.length) return '<p class="status">No prompt is due yet.</p>';
  const t = (iso: string | null) => (iso ? esc(iso.slice(0, 16).replace('T', ' ')) : '—');
  return `<div class="scroll"><table id="prompt-log"><caption class="sr-only">Prompt log</caption><thead><tr><th scope="col">Prompt</th><th scope="col">Questionnaire</th><th scope="col">Intended (local)</th><th scope="col">Expires (UTC)</th><th scope="col">Reminder sent</th><th scope="col">App opened</th><th scope="col">Answered</th><th scope="col">Fate</th></tr></thead><tbody>
  ${entries.map((e) => `<tr data-fate="${esc(e.fate)}"><td>${esc(e.promptId)}</td><td>${esc(e.instrument)}</td><td>${esc(e.promptTime.slice(0, 16).replace('T', ' '))}</td><td>${t(e.expiresAt)}</td><td>${t(e.pushSentAt)}</td><td>${t(e.openedAt)}</td><td>${t(e.answeredAt)}</td><td>${e.fate === 'expired' ? `<strong class="error">expired</strong>` : esc(e.fate)}</td></tr>`).join('')}
  </tbody></table></div>`;
}

/** Threshold notifications (newest first) to acknowledge, and for owners how the team is told (e-mail, webhook). */
async function notificationsCard(el: HTMLElement, studyId: string, canAck: boolean, isOwner: boolean): Promise<void> {
  const list = await api<NotificationBody[]>('GET', `/studies/${studyId}/notifications?status=all`);
  const when = (iso: string) => esc(iso.slice(0, 16).replace('T', ' '));
  const delivery = (d: NotificationBody['deliveries'][number]) => `${esc(d.channel)}: ${d.status === 'sent' ? '<span class="ok">sent</span>' : d.status === 'failed' ? `<strong class="error" title="${esc(d.lastError ?? '')}">failed</strong>` : `${esc(d.status)}${d.nextTryAt ? ` (retry ${when(d.nextTryAt)})` : ''}`}`;
  el.innerHTML = `${list.length ? `<ul id="notification-list">${list.map((n) => `<li data-notification="${esc(n.id)}"><strong>${esc(n.participantId)}</strong> needs attention — rule <code>${esc(n.rule)}</code> (${esc(n.source)}, ${when(n.createdAt)}); ${n.deliveries.map(delivery).join(', ') || 'no channel'}${n.alsoMatched ? ` <span class="status" data-also="${n.alsoMatched}">also matched ${n.alsoMatched} time${n.alsoMatched === 1 ? '' : 's'} since (not sent: cooldown)</span>` : ''}
    ${n.acknowledgedAt ? '<span class="ok">acknowledged</span>' : canAck ? `<button class="secondary" data-nack="${esc(n.id)}">Acknowledge</button>` : '<span class="error">not acknowledged</span>'}</li>`).join('')}</ul>` : '<p class="status">No notifications.</p>'}
    ${isOwner ? '<details id="notify-settings"><summary>How the team is told</summary><div id="notify-form"></div></details>' : ''}`;
  el.querySelectorAll<HTMLButtonElement>('button[data-nack]').forEach((b) => b.addEventListener('click', async () => { await api('POST', `/studies/${studyId}/notifications/${b.dataset.nack}/ack`); await notificationsCard(el, studyId, canAck, isOwner); }));
  const form = document.getElementById('notify-form');
  if (!form) return;
  const s = await api<NotifySettingsBody>('GET', `/studies/${studyId}/notify-settings`);
  form.innerHTML = `<form id="notify" class="stack">
      <label><input type="checkbox" id="notify-email" ${s.email ? 'checked' : ''}> E-mail the study's owners and researchers${s.smtpConfigured ? '' : ' (this server has no SMTP server set: MOODLENS_SMTP_URL)'}</label>
      <label for="notify-url">Webhook URL (https)</label><input id="notify-url" type="url" placeholder="https://…" value="${esc(s.webhookUrl ?? '')}">
      <label><input type="checkbox" id="notify-rotate"> Make a new webhook secret</label>
      <button type="submit" class="secondary">Save</button></form>
    <p class="status">Messages say only which participant needs attention, with a link here. Webhooks are signed: header <code>${esc(s.signatureHeader)}</code> = <code>t=&lt;unix time&gt;,v1=&lt;HMAC-SHA256 of "t.body"&gt;</code> with the study's secret.</p>
    <p id="notify-msg" role="status"></p>`;
  document.getElementById('notify')!.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const out = document.getElementById('notify-msg')!;
    try {
      const url = (document.getElementById('notify-url') as HTMLInputElement).value.trim();
      const r = await api<NotifySettingsBody>('PUT', `/studies/${studyId}/notify-settings`, { email: (document.getElementById('notify-email') as HTMLInputElement).checked, webhookUrl: url || null, rotateSecret: (document.getElementById('notify-rotate') as HTMLInputElement).checked });
      out.innerHTML = r.webhookSecret ? `Saved. The webhook secret (shown once; keep it with the receiver): <code id="notify-secret">${esc(r.webhookSecret)}</code>` : 'Saved.';
    } catch (e) { out.textContent = (e as Error).message; }
  });
}

/** The attached model's evaluation: stored test-split CCC (evaluate --json) and the server's own predictions vs answers. */
async function evaluationCard(el: HTMLElement, studyId: string, study: any): Promise<void> {
  if (!study.model) { el.innerHTML = '<p class="status">Attach a model to see its evaluation.</p>'; return; }
  const ev = await api<ModelEvaluationBody>('GET', `/studies/${studyId}/model/evaluation`);
  const labels = new Map<string, string>(study.config.items.map((i: any) => [i.id, i.label]));
  const stored = ev.stored;
  const refs = stored?.baselines?.length
    ? ` Reference predictors on the same reports: ${stored.baselines.map((b) => `${esc(b.name)} ${f3(b.meanCCC)}`).join(', ')}${stored.vsBestBaseline ? `; model − ${esc(stored.vsBestBaseline.baseline)} <strong>${f3(stored.vsBestBaseline.diff)}</strong> [${f3(stored.vsBestBaseline.ciLow)}, ${f3(stored.vsBestBaseline.ciHigh)}] (paired participant bootstrap)` : ''}.`
    : '';
  const online = ev.online;
  const storedName = stored ? `${stored.split ?? 'stored'} split` : '';
  const rows: CccRow[] = [
    ...(stored ? stored.items.filter((r) => r.ccc !== null).map((r) => ({ item: labels.get(r.item) ?? r.item, ccc: r.ccc!, model: storedName, n: r.n, lo: r.ciLow ?? undefined, hi: r.ciHigh ?? undefined })) : []),
    ...online.items.filter((r) => r.ccc !== null).map((r) => ({ item: labels.get(r.item) ?? r.item, ccc: r.ccc!, model: 'on this server', n: r.n })),
  ];
  // A CCC from few reports is mostly noise: marked in the table, faded in the chart, said in words.
  const few = rows.filter((r) => r.n! < SMALL_N);
  const mark = (ccc: number | null | undefined, n: number | undefined) => (ccc != null && (n ?? 0) < SMALL_N ? `${f3(ccc)} <abbr class="caution" title="from ${n ?? 0} reports: fewer than ${SMALL_N}, too few to rely on">⚠</abbr>` : f3(ccc));
  const caution = few.length ? `<p class="caution" id="small-n">Caution: ${few.length === rows.length ? 'every CCC here' : `${few.length} of the ${rows.length} CCC values here (marked ⚠)`} rest${few.length === rows.length || few.length === 1 ? 's' : ''} on fewer than ${SMALL_N} reports. With so few, a CCC can land far from the model's true agreement (its 95 % interval spans several tenths): wait for more reports before judging the model.</p>` : '';
  const byItem = new Map(online.items.map((r) => [r.item, r]));
  const items: string[] = stored ? stored.items.map((r) => r.item) : online.items.map((r) => r.item);
  el.innerHTML = `<p>${stored ? `Stored evaluation (<code>evaluation.json</code>, ${esc(storedName)}): ${stored.n} reports${stored.participants ? ` of ${stored.participants} participants` : ''}, mean CCC <strong>${f3(stored.meanCCC)}</strong>${stored.meanCiLow !== null ? ` [${f3(stored.meanCiLow)}, ${f3(stored.meanCiHigh)}]` : ''}.${refs}` : 'The model folder has no stored evaluation (<code>moodlens evaluate --model M --study S --json &gt; M/evaluation.json</code> adds one).'}
    ${ev.training?.devMeanCCC != null ? ` Training: best development mean CCC ${f3(ev.training.devMeanCCC)} at epoch ${esc(ev.training.bestEpoch)} of ${esc(ev.training.epochs ?? '?')}.` : ''}
    On this server: ${online.reports} predicted report${online.reports === 1 ? '' : 's'} of ${online.participants} participant${online.participants === 1 ? '' : 's'}, mean CCC <strong>${f3(online.meanCCC)}</strong> (each report's prediction, made from the data before it, against its answers).</p>
    ${caution}
    <div class="scroll"><table id="ccc-table"><caption class="sr-only">Concordance (CCC) per item</caption><thead><tr><th scope="col">Item</th>${stored ? `<th scope="col">CCC (${esc(storedName)})</th><th scope="col">95 % CI</th><th scope="col">n</th>` : ''}<th scope="col">CCC (server)</th><th scope="col">n</th></tr></thead><tbody>
    ${items.map((id) => { const s = stored?.items.find((r) => r.item === id); const o = byItem.get(id); return `<tr><td>${esc(labels.get(id) ?? id)}</td>${stored ? `<td>${mark(s?.ccc, s?.n)}</td><td>${s && s.ciLow !== null ? `${f3(s.ciLow)} – ${f3(s.ciHigh)}` : '—'}</td><td>${s?.n ?? 0}</td>` : ''}<td>${mark(o?.ccc, o?.n)}</td><td>${o?.n ?? 0}</td></tr>`; }).join('')}
    </tbody></table></div><div id="ccc-chart" class="chart"></div>`;
  const cccEl = document.getElementById('ccc-chart')!;
  if (rows.length) await chart(cccEl, cccSpec(rows, { width: room(cccEl, 260, 210) }), 'Concordance (CCC) of the model per item');
  else document.getElementById('ccc-chart')!.innerHTML = '<p class="status">No CCC yet (needs at least 2 predicted reports with answers).</p>';
}

/** The study's exports (newest first); finished ones can be deleted — they hold personal data. */
async function exportsList(el: HTMLElement, studyId: string, canDelete = true): Promise<void> {
  const jobs = await api<any[]>('GET', `/studies/${studyId}/exports`);
  if (!jobs.length) { el.innerHTML = ''; return; }
  const when = (iso: string | null) => (iso ? esc(iso.slice(0, 16).replace('T', ' ')) : '—');
  el.innerHTML = `<div class="scroll"><table id="exports-table"><caption>Exports on the server</caption><thead><tr><th scope="col">Name</th><th scope="col">Status</th><th scope="col">Finished</th><th scope="col"><span class="sr-only">Action</span></th></tr></thead><tbody>
  ${jobs.map((j) => `<tr><td><code>${esc(j.name)}</code></td><td>${j.status === 'deleted' ? `deleted ${when(j.deletedAt)}${j.deletedBy === 'retention' ? ' (retention)' : ''}` : esc(j.status)}</td><td>${when(j.finishedAt)}</td>
    <td>${canDelete && (j.status === 'done' || j.status === 'failed') ? `<button class="secondary" data-del-export="${esc(j.id)}" aria-label="Delete export ${esc(j.name)}">Delete</button>` : ''}</td></tr>`).join('')}
  </tbody></table></div>`;
  el.querySelectorAll<HTMLButtonElement>('button[data-del-export]').forEach((b) => b.addEventListener('click', async () => {
    b.disabled = true;
    await api('DELETE', `/studies/${studyId}/exports/${b.dataset.delExport}`);
    await exportsList(el, studyId, canDelete);
  }));
}

/**
 * Who has access to the study. Owners add members or change their roles and remove members (the
 * server refuses to demote or remove the creator by a co-owner, or the last owner); any member may leave.
 */
async function membersCard(el: HTMLElement, studyId: string, isOwner: boolean, isMember: boolean): Promise<void> {
  const members = await api<MemberViewBody[]>('GET', `/studies/${studyId}/members`);
  el.innerHTML = `<div class="scroll"><table id="members-table"><caption class="sr-only">Members of the study</caption><thead><tr><th scope="col">Account</th><th scope="col">Role</th><th scope="col"><span class="sr-only">Action</span></th></tr></thead><tbody>
  ${members.map((m) => `<tr><td>${esc(m.email)}${m.creator ? ' <span class="status">(creator)</span>' : ''}${m.disabled ? ' <span class="status">(disabled)</span>' : ''}</td><td>${esc(m.role)}</td>
    <td>${isOwner ? `<button class="secondary" data-remove-member="${esc(m.userId)}" aria-label="Remove ${esc(m.email)}">Remove</button>` : ''}</td></tr>`).join('')}
  </tbody></table></div>
  ${isOwner ? `<form id="add-member" class="row" style="margin-top:10px"><label for="member-email" class="sr-only">Email of the account</label><input id="member-email" type="email" placeholder="email of an account" required style="flex:1">
    <label for="member-role" class="sr-only">Role</label><select id="member-role"><option value="viewer">viewer (read only)</option><option value="researcher" selected>researcher</option><option value="owner">owner</option></select>
    <button type="submit">Add or change</button></form>` : ''}
  ${isMember ? '<p><button class="secondary" id="leave-study">Leave this study</button></p>' : ''}
  <p id="members-msg" role="status"></p>`;
  const msg = el.querySelector<HTMLElement>('#members-msg')!;
  const act = async (f: () => Promise<unknown>) => { try { await f(); await membersCard(el, studyId, isOwner, isMember); } catch (e) { msg.textContent = (e as Error).message; } };
  el.querySelectorAll<HTMLButtonElement>('button[data-remove-member]').forEach((b) => b.addEventListener('click', () => void act(() => api('DELETE', `/studies/${studyId}/members/${b.dataset.removeMember}`))));
  el.querySelector('#add-member')?.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void act(() => api('POST', `/studies/${studyId}/members`, { email: (el.querySelector('#member-email') as HTMLInputElement).value.trim(), role: (el.querySelector('#member-role') as HTMLSelectElement).value }));
  });
  el.querySelector('#leave-study')?.addEventListener('click', async () => {
    try { await api('POST', `/studies/${studyId}/leave`); await studiesView(); } catch (e) { msg.textContent = (e as Error).message; }
  });
}

/** Width for a chart drawn in `el`: the box's width less `reserve` px (axes, legend), at most `max` — so a chart fits a phone. */
const room = (el: HTMLElement, max: number, reserve: number) => Math.max(120, Math.min(max, el.clientWidth - reserve));

async function chart(el: HTMLElement, spec: TopLevelSpec, title: string): Promise<void> {
  // vega labels the container with the spec's description (its ARIA support): give it the title.
  // Expressions are interpreted from their AST, never compiled with new Function: the dashboard's
  // Content-Security-Policy allows no 'unsafe-eval'.
  const runtime = vega.parse(compile({ ...spec, description: title } as TopLevelSpec).spec, undefined, { ast: true });
  const v = new vega.View(runtime, { renderer: 'svg', container: el, hover: true, expr: expressionInterpreter as any });
  await v.runAsync();
  el.setAttribute('role', 'img'); el.setAttribute('aria-label', title);
}

function loginView(msg = ''): void {
  nav.innerHTML = '';
  view.innerHTML = `<h2>Log in</h2>
  <form id="login" class="stack" style="max-width:420px">
    <label for="email">Email</label><input id="email" type="email" autocomplete="username" required>
    <label for="password">Password</label><input id="password" type="password" autocomplete="current-password" required>
    <button type="submit">Log in</button><p class="error" role="alert">${esc(msg)}</p>
  </form>`;
  document.getElementById('login')!.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const j = await api<{ token: string }>('POST', '/auth/login', { email: (document.getElementById('email') as HTMLInputElement).value, password: (document.getElementById('password') as HTMLInputElement).value });
      token = j.token; sessionStorage.setItem('moodlens.researcher', token);
      await landing();
    } catch (e) { loginView((e as Error).message); }
  });
}

function navBar(): void {
  nav.innerHTML = `<button class="secondary" id="studies-link">Studies</button> <button class="secondary" id="logout">Log out</button>`;
  document.getElementById('studies-link')!.addEventListener('click', () => void studiesView());
  document.getElementById('logout')!.addEventListener('click', async () => { await api('POST', '/auth/logout').catch(() => {}); token = null; sessionStorage.removeItem('moodlens.researcher'); loginView(); });
}

async function studiesView(): Promise<void> {
  navBar();
  // The list gives id and name; each study's details (items, model) come from its own route.
  const studies = await Promise.all((await api<{ id: string }[]>('GET', '/studies')).map((s) => api('GET', `/studies/${s.id}`)));
  view.innerHTML = `<h2>Studies</h2><p><button id="new-study">New study</button></p><div class="scroll"><table id="studies-table"><caption class="sr-only">Your studies</caption><thead><tr><th scope="col">Study</th><th scope="col">Items</th><th scope="col">Model</th><th scope="col">Created</th></tr></thead><tbody>
  ${studies.map((s) => `<tr><td><a href="#study=${esc(s.id)}" data-study="${esc(s.id)}">${esc(s.name)}</a></td><td>${s.config.items.length}</td><td>${esc(s.model ?? '—')}</td><td>${esc(s.createdAt.slice(0, 10))}</td></tr>`).join('')}</tbody></table></div>`;
  view.querySelectorAll<HTMLAnchorElement>('a[data-study]').forEach((a) => a.addEventListener('click', (ev) => { ev.preventDefault(); void studyView(a.dataset.study!); }));
  document.getElementById('new-study')!.addEventListener('click', () => studyFormView());
  if ((await api<{ isAdmin: boolean }>('GET', '/auth/me')).isAdmin) await queueCard();
}

/**
 * Admins: the server's background job queue as GET /health reports it (docs/scale.md) — jobs
 * waiting, running and failed for good per kind, and how long the oldest has waited. On
 * PostgreSQL these are every instance's jobs; a growing "waiting" means more instances or workers.
 */
async function queueCard(): Promise<void> {
  const h = await api<{ queue: { engine: string; kinds: Array<{ kind: string; waiting: number; active: number; failed: number; oldestWaitingS: number | null }> } }>('GET', '/health');
  const section = document.createElement('section');
  section.className = 'card';
  section.setAttribute('aria-labelledby', 'h-queue');
  section.innerHTML = `<h3 id="h-queue">Background jobs</h3>
  <p>Engine: <strong>${esc(h.queue.engine === 'pg-boss' ? 'pg-boss (PostgreSQL, shared by every instance)' : 'in this process')}</strong></p>
  <div class="scroll"><table id="queue-table"><caption class="sr-only">Jobs per kind</caption><thead><tr><th scope="col">Kind</th><th scope="col">Waiting</th><th scope="col">Running</th><th scope="col">Failed</th><th scope="col">Oldest waiting</th></tr></thead><tbody>
  ${h.queue.kinds.map((k) => `<tr><td>${esc(k.kind)}</td><td>${k.waiting}</td><td>${k.active}</td><td${k.failed ? ' class="error"' : ''}>${k.failed}</td><td>${k.oldestWaitingS === null ? '—' : `${esc(k.oldestWaitingS)} s`}</td></tr>`).join('')}</tbody></table></div>`;
  view.appendChild(section);
}

// ---------- study set-up: create, or edit while the study holds no data ----------

/** One item row of the set-up form. */
const itemRow = (it: { id: string; label?: string; min: number; max: number }, k: number) => `<tr>
  <td><label class="sr-only" for="item-id-${k}">Item ${k + 1} id</label><input type="text" id="item-id-${k}" class="item-id" value="${esc(it.id)}" required pattern="[A-Za-z_][A-Za-z0-9_]*" size="10"></td>
  <td><label class="sr-only" for="item-label-${k}">Item ${k + 1} label</label><input type="text" id="item-label-${k}" class="item-label" value="${esc(it.label ?? '')}" size="14"></td>
  <td><label class="sr-only" for="item-min-${k}">Item ${k + 1} minimum</label><input type="number" id="item-min-${k}" class="item-min" value="${it.min}" required style="width:6em"></td>
  <td><label class="sr-only" for="item-max-${k}">Item ${k + 1} maximum</label><input type="number" id="item-max-${k}" class="item-max" value="${it.max}" required style="width:6em"></td>
  <td><button type="button" class="secondary" data-remove-item aria-label="Remove item ${k + 1}">Remove</button></td></tr>`;

/**
 * The study's set-up as a form: items (id, label, range), activity channels and epoch, speech,
 * time zone, schedule, and the information and consent texts the participant app shows. It
 * posts study.json to POST /studies, or to PUT /studies/:id (the server refuses once data exist).
 */
function studyFormView(existing?: any, msg = ''): void {
  navBar();
  const c = existing?.config ?? { name: '', items: [{ id: 'happy', label: 'happy', min: 0, max: 100 }, { id: 'tired', label: 'tired', min: 0, max: 100 }], activity: { epochSeconds: 60, channels: ['zcm', 'pim'] }, speech: { kind: 'audio' }, timezone: Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC' };
  const sch = c.schedule ?? { times: ['11:00', '15:00', '19:00'], jitterMinutes: 10, wakeAndBed: true, days: 14 };
  view.innerHTML = `<h2 tabindex="-1">${existing ? `Set-up of ${esc(existing.name)}` : 'New study'}</h2>
  ${existing ? '<p class="status">The set-up can change until the first report or wristband data arrive.</p>' : ''}
  <form id="study-form" class="stack" style="max-width:900px">
    <label for="study-name">Name</label><input type="text" id="study-name" required value="${esc(c.name)}">
    <fieldset class="card"><legend>Items (asked as sliders)</legend>
      <div class="scroll"><table id="items-table"><thead><tr><th scope="col">Id (column name)</th><th scope="col">Label shown</th><th scope="col">Min</th><th scope="col">Max</th><th scope="col"><span class="sr-only">Action</span></th></tr></thead>
      <tbody>${c.items.map(itemRow).join('')}</tbody></table></div>
      <button type="button" class="secondary" id="add-item">Add item</button></fieldset>
    <fieldset class="card"><legend>Wristband activity</legend>
      <label for="channels">Channels (comma-separated: zcm, pim, tat, counts, sleep)</label><input type="text" id="channels" value="${esc(c.activity.channels.join(', '))}" required>
      <label for="epoch">Epoch length (seconds)</label><input type="number" id="epoch" min="1" max="86400" value="${c.activity.epochSeconds}" required></fieldset>
    <fieldset class="card"><legend>Speech and time</legend>
      <label for="speech">Speech task</label><select id="speech">${[['audio', 'recordings uploaded (features computed on the server)'], ['features', 'privacy mode: features computed on the phone, no audio leaves it'], ['none', 'no speech task']].map(([v, t]) => `<option value="${v}" ${c.speech.kind === v ? 'selected' : ''}>${t}</option>`).join('')}</select>
      <label for="timezone">Time zone (IANA, e.g. Europe/Berlin)</label><input type="text" id="timezone" value="${esc(c.timezone)}" required></fieldset>
    <fieldset class="card"><legend>Schedule</legend>
      <label for="times">Prompt times (HH:MM, comma-separated)</label><input type="text" id="times" value="${esc(sch.times.join(', '))}">
      <label for="days">Study days</label><input type="number" id="days" min="1" value="${sch.days}">
      <label for="jitter">Random shift of each prompt (± minutes)</label><input type="number" id="jitter" min="0" max="120" value="${sch.jitterMinutes}">
      <label class="check"><input type="checkbox" id="wakebed" ${sch.wakeAndBed ? 'checked' : ''}> Wake and bed reports</label></fieldset>
    <fieldset class="card"><legend>What participants read first</legend>
      <label for="information">Study information</label><textarea id="information" rows="5">${esc(c.information ?? '')}</textarea>
      <label for="consent">Consent statement (accepted once before the first report; leave empty for none)</label><textarea id="consent" rows="3">${esc(c.consent ?? '')}</textarea></fieldset>
    <div class="row"><button type="submit">${existing ? 'Save set-up' : 'Create study'}</button><button type="button" class="secondary" id="cancel-form">Cancel</button></div>
    <p class="error" role="alert" id="study-form-msg">${esc(msg)}</p>
  </form>`;
  (view.querySelector('h2') as HTMLElement).focus();
  const tbody = view.querySelector('#items-table tbody')!;
  const wireRemove = () => tbody.querySelectorAll<HTMLButtonElement>('button[data-remove-item]').forEach((b) => { b.onclick = () => { if (tbody.children.length > 1) b.closest('tr')!.remove(); }; });
  wireRemove();
  document.getElementById('add-item')!.addEventListener('click', () => { tbody.insertAdjacentHTML('beforeend', itemRow({ id: '', label: '', min: 0, max: 100 }, tbody.children.length)); wireRemove(); });
  document.getElementById('cancel-form')!.addEventListener('click', () => void (existing ? studyView(existing.id) : studiesView()));
  document.getElementById('study-form')!.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const v = (id: string) => (document.getElementById(id) as HTMLInputElement).value.trim();
    const list = (id: string) => v(id).split(',').map((x) => x.trim()).filter(Boolean);
    const cell = (tr: Element, cls: string) => (tr.querySelector(`.${cls}`) as HTMLInputElement).value.trim();
    const config = {
      name: v('study-name'),
      items: Array.from(tbody.querySelectorAll('tr')).map((tr) => ({ id: cell(tr, 'item-id'), label: cell(tr, 'item-label') || cell(tr, 'item-id'), min: Number(cell(tr, 'item-min')), max: Number(cell(tr, 'item-max')) })),
      activity: { channels: list('channels'), epochSeconds: Number(v('epoch')) },
      speech: { kind: v('speech') },
      timezone: v('timezone'),
      schedule: { times: list('times'), days: Number(v('days')), jitterMinutes: Number(v('jitter')), wakeAndBed: (document.getElementById('wakebed') as HTMLInputElement).checked },
      ...(v('information') ? { information: v('information') } : {}),
      ...(v('consent') ? { consent: v('consent') } : {}),
    };
    try {
      const s = existing ? await api('PUT', `/studies/${existing.id}`, { config, settings: existing.settings }) : await api('POST', '/studies', { config });
      await studyView(s.id);
    } catch (e) { document.getElementById('study-form-msg')!.textContent = (e as Error).message; }
  });
}

/** The study's audit log, newest first, with the filter form's values (owners; GET …/audit). */
async function auditTable(el: HTMLElement, studyId: string): Promise<void> {
  const val = (id: string) => (document.getElementById(id) as HTMLInputElement | HTMLSelectElement | null)?.value.trim() ?? '';
  const q = new URLSearchParams({ limit: '200' });
  if (val('audit-action')) q.set('action', val('audit-action'));
  if (val('audit-resource')) q.set('resource', val('audit-resource'));
  if (val('audit-since')) q.set('since', `${val('audit-since')}T00:00:00Z`);
  try {
    const rows = await api<any[]>('GET', `/studies/${studyId}/audit?${q}`);
    el.innerHTML = rows.length ? `<table id="audit-table"><thead><tr><th scope="col">Time (UTC)</th><th scope="col">Who</th><th scope="col">Action</th><th scope="col">Resource</th><th scope="col">Detail</th></tr></thead><tbody>
      ${rows.map((r) => `<tr><td>${esc(r.time.slice(0, 19).replace('T', ' '))}</td><td>${esc(r.actor)}</td><td>${esc(r.action)}</td><td>${esc(r.resource)}</td><td>${esc((r.detail ?? '').slice(0, 120))}</td></tr>`).join('')}</tbody></table>`
      : '<p class="status">No audit rows match.</p>';
  } catch (e) { el.textContent = (e as Error).message; }
}

/**
 * The models to choose from (GET …/models): the built-in baseline and each model folder under the
 * server's --models-dir with its stored evaluation (mean CCC, split, n); folders whose items do
 * not fit the study are shown but cannot be chosen.
 */
async function modelChoices(sel: HTMLSelectElement, studyId: string, attached: string | null): Promise<void> {
  const list = await api<{ builtin: string[]; models: { name: string; kind: string | null; fits: boolean; misfit: string | null; bestDevCCC: number | null; evaluation: { meanCCC: number | null; n: number; split: string | null } | null; note: string | null }[] }>('GET', `/studies/${studyId}/models`);
  const label = (m: (typeof list.models)[number]) => `${m.name} — ${m.evaluation ? `mean CCC ${f3(m.evaluation.meanCCC)} (${m.evaluation.split ?? 'stored'} split, n ${m.evaluation.n}${m.evaluation.n < SMALL_N ? ' ⚠ few' : ''})` : m.bestDevCCC !== null ? `development CCC ${f3(m.bestDevCCC)}, no stored evaluation` : 'no evaluation'}${m.fits ? '' : ` — does not fit: ${m.misfit ?? m.note ?? 'unreadable'}`}`;
  sel.innerHTML = [
    ...list.builtin.map((b) => `<option value="${esc(b)}">${esc(b)} — per-participant history, no training</option>`),
    ...list.models.map((m) => `<option value="${esc(m.name)}" ${m.fits ? '' : 'disabled'}>${esc(label(m))}</option>`),
  ].join('');
  if (attached) sel.value = attached;
}

async function studyView(studyId: string): Promise<void> {
  navBar();
  const study = await api('GET', `/studies/${studyId}`);
  // What the caller may do (src/server/http/roles.ts): the page offers only that.
  const role: string = study.role ?? 'viewer';
  const can = { work: role !== 'viewer', own: role === 'owner' || role === 'admin' };
  const [participants, alerts, quality, promptLog] = await Promise.all([ api<any[]>('GET', `/studies/${studyId}/participants`), api<any[]>('GET', `/studies/${studyId}/alerts?status=all`),
    api<{ rows: QualityRow[] }>('GET', `/studies/${studyId}/quality`), promptLogPages(`/studies/${studyId}/prompts`),
  ]);
  const perP = await Promise.all(participants.map(async (p) => {
    const [sched, reps] = await Promise.all([api('GET', `/studies/${studyId}/participants/${p.participantId}/schedule`), api<any[]>('GET', `/studies/${studyId}/participants/${p.participantId}/reports`)]);
    return { p, sched, reps, rows: compliance(p.participantId, sched.prompts, reps, Date.now()) };
  }));
  view.innerHTML = `<h2>${esc(study.name)}</h2>
  ${can.own ? '<p><button class="secondary" id="edit-study">Edit set-up</button></p>' : ''}
  <div class="grid">
    <section class="card" aria-labelledby="h-parts"><h3 id="h-parts">Participants</h3>
      <div class="scroll"><table id="participants-table"><thead><tr><th scope="col">Participant</th><th scope="col">Status</th><th scope="col">Reports</th><th scope="col">Late</th><th scope="col">Answered / due</th><th scope="col">Consent</th></tr></thead><tbody>
      ${perP.map(({ p, reps, rows }) => { const due = rows.reduce((s, r) => s + r.scheduled, 0), ans = rows.reduce((s, r) => s + r.answered, 0); return `<tr><td><a href="#" data-pid="${esc(p.participantId)}">${esc(p.participantId)}</a></td><td>${esc(p.status)}</td><td>${reps.length}</td><td>${reps.filter((r) => r.late).length}</td><td>${ans} / ${due}</td><td>${p.consentedAt ? esc(p.consentedAt.slice(0, 16).replace('T', ' ')) : '—'}</td></tr>`; }).join('')}
      </tbody></table></div>
      ${can.work ? `<form id="invite" class="row" style="margin-top:10px"><label for="newpid" class="sr-only">New participant id</label><input id="newpid" type="text" placeholder="participant id (optional)" style="flex:1">
        <label for="newname" class="sr-only">Name the app greets them with (optional, never exported)</label><input id="newname" type="text" placeholder="name in the app (optional)" title="The app greets the participant with it; never exported. Without it the app says Hello." style="flex:1"><button type="submit">Invite</button></form>
      <p id="invited" role="status"></p>` : ''}
    </section>
    <section class="card" aria-labelledby="h-comp"><h3 id="h-comp">Compliance (answered vs scheduled per day)</h3><div id="comp-chart" class="chart"></div></section>
    <section class="card" aria-labelledby="h-alerts"><h3 id="h-alerts">Alerts</h3>
      ${alerts.length ? `<ul>${alerts.map((a) => `<li>${esc(a.participantId)}: <strong>${esc(a.item)}</strong> ${esc(a.direction)} baseline (${esc(a.source)}, ${a.reports} reports since ${esc(a.startedAt.slice(0, 16))}) ${a.acknowledgedAt ? `<span class="ok">acknowledged</span>` : can.work ? `<button class="secondary" data-ack="${esc(a.id)}">Acknowledge</button>` : ''}</li>`).join('')}</ul>` : '<p class="status">No alerts.</p>'}
    </section>
    <section class="card" aria-labelledby="h-notify"><h3 id="h-notify">Notifications</h3><div id="notifications"></div></section>
    <section class="card" aria-labelledby="h-model"><h3 id="h-model">Model and export</h3>
      <p>Attached model: <strong id="model-now">${esc(study.model ?? 'none')}</strong></p>
      ${can.own ? `<form id="model" class="row"><label for="modeldir" class="sr-only">Model to attach (folders under the server's models folder, with their stored evaluation)</label><select id="modeldir" style="flex:1"></select><button type="submit">Attach</button></form>` : ''}
      ${can.work ? '<p><button id="export" class="secondary">Export study folder</button></p>' : '<p class="status">Your role in this study (viewer) reads the dashboards only: no export.</p>'}
      <p id="model-msg" role="status"></p>
      <div id="exports"></div>
    </section>
    <section class="card full" aria-labelledby="h-quality"><h3 id="h-quality">Data quality (wear time, recordings, late reports per day)</h3>
      <div id="wear-chart" class="chart"></div>${qualityTable(quality.rows, 'quality-table', true)}
      <h4>Prompts, last ${PROMPT_LOG_DAYS} days (the prompt log: answered, expired, open; reminders sent, app opened; the export has all)</h4>${promptSummaryTable(promptLog.entries)}</section>
    <section class="card" aria-labelledby="h-eval"><h3 id="h-eval">Model evaluation (CCC per item)</h3><div id="evaluation"></div></section>
    <section class="card" aria-labelledby="h-members"><h3 id="h-members">Members</h3><p>Your role: <strong id="my-role">${esc(role)}</strong></p><div id="members"></div></section>
    ${can.own ? `<section class="card full" aria-labelledby="h-audit"><h3 id="h-audit">Audit log</h3>
      <form id="audit-filter" class="row">
        <label for="audit-action">Action</label><select id="audit-action"><option value="">any</option><option>read</option><option>write</option><option>delete</option></select>
        <label for="audit-resource">Resource</label><input id="audit-resource" type="text" placeholder="e.g. export, access" size="10">
        <label for="audit-since">Since</label><input id="audit-since" type="date">
        <button type="submit" class="secondary">Filter</button>
      </form>
      <div id="audit" class="scroll"></div>
      <p class="status">Tamper-evident: check the whole chain with <code>moodlens audit verify</code> on the server.</p></section>` : ''}
  </div>
  <div id="participant"></div>`;
  const compRows = perP.flatMap((x) => x.rows);
  const compEl = document.getElementById('comp-chart')!, wearEl = document.getElementById('wear-chart')!;
  await chart(compEl, complianceSpec(compRows, { width: room(compEl, 280, 150) }), 'Answered versus scheduled prompts per day');
  if (!compRows.some((r) => r.scheduled > 0)) document.getElementById('comp-chart')!.insertAdjacentHTML('beforebegin', '<p class="status">No scheduled prompt is due yet.</p>');
  if (quality.rows.length) await chart(wearEl, wearSpec(quality.rows, { width: room(wearEl, 280, 150) }), 'Wristband wear time per day and participant');
  await notificationsCard(document.getElementById('notifications')!, studyId, can.work, can.own);
  await evaluationCard(document.getElementById('evaluation')!, studyId, study);
  if (can.work) await exportsList(document.getElementById('exports')!, studyId, can.own);
  await membersCard(document.getElementById('members')!, studyId, can.own, role !== 'admin');
  if (can.own) {
    const show = async () => auditTable(document.getElementById('audit')!, studyId);
    document.getElementById('audit-filter')!.addEventListener('submit', (ev) => { ev.preventDefault(); void show(); });
    await show();
  }
  view.querySelectorAll<HTMLAnchorElement>('a[data-pid]').forEach((a) => a.addEventListener('click', (ev) => { ev.preventDefault(); void participantView(studyId, a.dataset.pid!, study); }));
  view.querySelectorAll<HTMLButtonElement>('button[data-ack]').forEach((b) => b.addEventListener('click', async () => { await api('POST', `/studies/${studyId}/alerts/${b.dataset.ack}/ack`); await studyView(studyId); }));
  const msg = document.getElementById('model-msg')!;
  document.getElementById('edit-study')?.addEventListener('click', () => studyFormView(study));
  if (can.own) await modelChoices(document.getElementById('modeldir') as HTMLSelectElement, studyId, study.model);
  document.getElementById('invite')?.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const pid = (document.getElementById('newpid') as HTMLInputElement).value.trim();
    const displayName = (document.getElementById('newname') as HTMLInputElement).value.trim();
    try {
      const j = await api('POST', `/studies/${studyId}/participants`, { ...(pid ? { participantId: pid } : {}), ...(displayName ? { displayName } : {}) });
      // The QR code (an SVG the server drew from the link) for the participant's phone camera.
      document.getElementById('invited')!.innerHTML = `Code for ${esc(j.participantId)}: <strong id="enrol-code">${esc(j.enrolCode)}</strong> — link <a href="${esc(j.enrolUrl)}" class="wrap">${esc(j.enrolUrl)}</a>
        <span class="qr" id="enrol-qr" role="img" aria-label="QR code of the enrolment link for ${esc(j.participantId)}">${j.enrolQrSvg}</span>`;
    } catch (e) { document.getElementById('invited')!.textContent = (e as Error).message; }
  });
  document.getElementById('model')?.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const j = await api('PUT', `/studies/${studyId}/model`, { model: (document.getElementById('modeldir') as HTMLSelectElement).value });
      msg.textContent = `Attached (${j.predictor}).`; document.getElementById('model-now')!.textContent = j.model;
      study.model = j.model; await evaluationCard(document.getElementById('evaluation')!, studyId, study);
    }
    catch (e) { msg.textContent = (e as Error).message; }
  });
  document.getElementById('export')?.addEventListener('click', async () => {
    // The export is a background job on the server: show its progress, then offer the archive.
    const button = document.getElementById('export') as HTMLButtonElement;
    button.disabled = true;
    try {
      let j = await api('POST', `/studies/${studyId}/export`, {});
      while (j.status === 'queued' || j.status === 'running') {
        msg.textContent = `Exporting… ${j.phase ?? ''} ${Math.round(100 * (j.progress ?? 0))} %`;
        await new Promise((r) => setTimeout(r, 500));
        j = await api('GET', j.statusUrl);
      }
      if (j.status !== 'done') throw new Error(`export failed: ${j.error ?? 'unknown error'}`);
      msg.textContent = `Exported to ${j.dir} (${j.summary?.participants ?? '?'} participants, ${j.summary?.reports ?? '?'} reports). `;
      const link = document.createElement('a');
      link.textContent = 'Download the archive (.tar)';
      link.href = '#';
      link.addEventListener('click', async (ev) => {
        ev.preventDefault();
        const r = await fetch(j.downloadUrl, { headers: { authorization: `Bearer ${token}` } });
        if (!r.ok) { msg.textContent = `download failed (${r.status})`; return; }
        const url = URL.createObjectURL(await r.blob());
        const a = document.createElement('a'); a.href = url; a.download = `${j.name ?? 'study'}.tar`; a.click();
        setTimeout(() => URL.revokeObjectURL(url), 10_000);
      });
      msg.append(link);
      await exportsList(document.getElementById('exports')!, studyId, can.own);
    }
    catch (e) { msg.textContent = (e as Error).message; }
    finally { button.disabled = false; }
  });
}

async function participantView(studyId: string, pid: string, study: any): Promise<void> {
  const [reports, predictions, activity, quality, promptLog] = await Promise.all([
    api<any[]>('GET', `/studies/${studyId}/participants/${pid}/reports`),
    // Predictions named by the report id the participant's app chose (and the report's time).
    api<any[]>('GET', `/studies/${studyId}/participants/${pid}/predictions/by-report`),
    api<DayHourActivityBody>('GET', `/studies/${studyId}/participants/${pid}/activity/day-hour`),
    api<{ rows: QualityRow[] }>('GET', `/studies/${studyId}/quality?participantId=${encodeURIComponent(pid)}`),
    promptLogPages(`/studies/${studyId}/prompts?participant=${encodeURIComponent(pid)}`),
  ]);
  const labels = new Map<string, string>(study.config.items.map((i: any) => [i.id, i.label]));
  const points: TrajectoryPoint[] = [
    ...reports.flatMap((r) => Object.entries(r.answers as Record<string, number>).map(([item, value]) => ({ time: r.time, item: labels.get(item) ?? item, value, source: 'reported' as const }))),
    ...predictions.flatMap((p) => Object.entries(p.items as Record<string, { value: number; lo: number; hi: number }>).map(([item, v]) => ({ time: p.time, item: labels.get(item) ?? item, value: v.value, lo: v.lo, hi: v.hi, source: 'predicted' as const }))),
  ];
  const heat = reports.map((r) => ({ ...localDayHour(r.time), value: 1 }));
  const actCells = activity.cells.filter((c) => c.mean !== null).map((c) => ({ day: c.day, hour: c.hour, value: c.mean!, minutes: c.minutes }));
  const recent = predictions.slice(-10).reverse();
  const last = predictions[predictions.length - 1];
  const el = document.getElementById('participant')!;
  el.innerHTML = `<section class="card" aria-labelledby="h-p"><h3 id="h-p" tabindex="-1">Participant ${esc(pid)}</h3>
    <p>${reports.length} reports, ${predictions.length} predictions. ${last ? `Latest prediction (${esc(last.kind)}, ${esc(last.time.slice(0, 16))}):` : 'No predictions yet (attach a model).'}</p>
    ${last ? `<div class="scroll"><table id="latest-prediction"><thead><tr><th scope="col">Item</th><th scope="col">Predicted</th><th scope="col">Interval</th></tr></thead><tbody>${Object.entries(last.items as Record<string, any>).map(([k, v]) => `<tr><td>${esc(labels.get(k) ?? k)}</td><td>${v.value.toFixed(1)}</td><td>${v.lo.toFixed(1)} – ${v.hi.toFixed(1)}</td></tr>`).join('')}</tbody></table></div>` : ''}
    <h4>Item trajectories (reported, and predicted with intervals)</h4><div id="traj-chart" class="chart"></div>
    <h4>Predictions by report</h4>
    ${recent.length ? `<div class="scroll"><table id="predictions-table"><thead><tr><th scope="col">Report (app id)</th><th scope="col">Report time</th><th scope="col">Kind</th>${study.config.items.filter(predicted).map((i: any) => `<th scope="col">${esc(i.label)}</th>`).join('')}</tr></thead><tbody>
    ${recent.map((p) => `<tr><td><code>${esc(p.reportId ?? 'on demand')}</code></td><td>${esc((p.reportTime ?? p.time).slice(0, 16).replace('T', ' '))}</td><td>${esc(p.kind)}</td>${study.config.items.filter(predicted).map((i: any) => { const v = p.items[i.id]; return `<td>${v ? `${v.value.toFixed(0)} <span class="status">(${v.lo.toFixed(0)}–${v.hi.toFixed(0)})</span>` : '—'}</td>`; }).join('')}</tr>`).join('')}
    </tbody></table></div>` : '<p class="status">No predictions.</p>'}
    <h4>Wristband activity by day × hour (mean ${esc(activity.channel.toUpperCase())}, ${esc(activity.timezone)})</h4>
    ${study.role !== 'viewer' ? `<form id="wristband" class="row"><label for="wristband-file">Upload a wristband export (ActiGraph .gt3x or CSV, GENEActiv .bin or CSV, Axivity .cwa, generic CSV)</label>
      <input type="file" id="wristband-file" accept=".gt3x,.agdc,.cwa,.bin,.csv,.gz,text/csv,application/octet-stream" required><button type="submit" class="secondary">Upload</button></form><p id="wristband-msg" role="status"></p>` : ''}
    ${actCells.length ? '' : `<p class="status" id="no-activity">No wristband data${activity.epochs ? ' with a value on this channel' : ''} yet.</p>`}<div id="activity-chart" class="chart"></div>
    <h4>Data quality per day</h4>${qualityTable(quality.rows, 'participant-quality', false)}
    <h4>Prompt log, last ${PROMPT_LOG_DAYS} days (the export has all)</h4>${promptLogTable(promptLog.entries)}
    <h4>Reports by day × hour</h4><div id="heat-chart" class="chart"></div></section>`;
  (document.getElementById('h-p') as HTMLElement).focus();
  document.getElementById('wristband')?.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const file = (document.getElementById('wristband-file') as HTMLInputElement).files?.[0];
    const out = document.getElementById('wristband-msg')!;
    if (!file) return;
    out.textContent = `Uploading ${file.name}…`;
    const r = await fetch(`/studies/${studyId}/participants/${encodeURIComponent(pid)}/activity/raw?name=${encodeURIComponent(file.name)}`, { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' }, body: file });
    const j = await r.json().catch(() => ({}));
    if (!r.ok) { out.textContent = j.message ?? `upload failed (${r.status})`; return; }
    await participantView(studyId, pid, study);
    document.getElementById('wristband-msg')!.textContent = `${file.name} (${j.format}): ${j.epochs} epochs from ${String(j.first).slice(0, 16).replace('T', ' ')} to ${String(j.last).slice(0, 16).replace('T', ' ')}, ${j.inserted} new.`;
  });
  // Sized to the card: one panel per row and the heat maps' legend underneath on a phone.
  const trajEl = document.getElementById('traj-chart')!, actEl = document.getElementById('activity-chart')!, heatEl = document.getElementById('heat-chart')!;
  const panel = room(trajEl, 220, 70);
  const heatOpts = (el: HTMLElement) => (el.clientWidth < 560 ? { width: room(el, 420, 90), legend: 'bottom' as const } : { width: 420, legend: 'right' as const });
  if (points.length) await chart(trajEl, trajectorySpec(points, { width: panel, columns: Math.max(1, Math.floor(trajEl.clientWidth / (panel + 80))) }), `Item trajectories of ${pid}`);
  if (actCells.length) await chart(actEl, dayHourHeatmapSpec(actCells, { title: `mean ${activity.channel}`, tooltip: ['minutes'], ...heatOpts(actEl) }), `Wristband activity of ${pid} by day and hour`);
  if (heat.length) await chart(heatEl, dayHourHeatmapSpec(heat, { title: 'reports', ...heatOpts(heatEl) }), `Reports of ${pid} by day and hour`);
}

addEventListener('unhandledrejection', (e) => {
  // Show a failed request in the page rather than leaving a half-drawn view.
  const msg = (e.reason as Error)?.message ?? String(e.reason);
  if (msg !== 'unauthorised') { view.insertAdjacentHTML('afterbegin', `<p class="error" role="alert">${esc(msg)}</p>`); e.preventDefault(); }
});
/**
 * The page a password reset link opens (/dashboard/#reset=<token>): the token is in the fragment,
 * which is never sent to a server; it is taken out of the address bar at once.
 */
function resetView(resetToken: string, msg = ''): void {
  nav.innerHTML = '';
  view.innerHTML = `<h2>Choose a new password</h2>
  <form id="reset" class="stack" style="max-width:420px">
    <label for="new-password">New password (at least 10 characters)</label><input id="new-password" type="password" autocomplete="new-password" minlength="10" required>
    <label for="new-password-2">The same again</label><input id="new-password-2" type="password" autocomplete="new-password" minlength="10" required>
    <button type="submit">Set the password</button><p class="error" role="alert">${esc(msg)}</p>
  </form>`;
  document.getElementById('reset')!.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const pw = (document.getElementById('new-password') as HTMLInputElement).value;
    if (pw !== (document.getElementById('new-password-2') as HTMLInputElement).value) return resetView(resetToken, 'The two passwords differ.');
    try {
      const j = await api<{ email: string }>('POST', '/auth/password-reset', { token: resetToken, newPassword: pw });
      loginView(`Password set for ${j.email}; every earlier session has ended. Log in with the new password.`);
    } catch (e) { resetView(resetToken, (e as Error).message); }
  });
}

/**
 * Where a signed-in researcher lands: the study list, or the notification a message links to
 * (/dashboard/#study=<id>&notification=<id>: its study, the notification marked and in view).
 */
async function landing(): Promise<void> {
  const link = new URLSearchParams(location.hash.slice(1));
  const studyId = link.get('study'), notification = link.get('notification');
  if (!studyId) return studiesView();
  history.replaceState(null, '', location.pathname);
  await studyView(studyId);
  const li = notification ? document.querySelector<HTMLElement>(`li[data-notification="${CSS.escape(notification)}"]`) : null;
  if (li) { li.classList.add('linked'); li.setAttribute('aria-current', 'true'); li.scrollIntoView({ block: 'center' }); }
}

const resetToken = new URLSearchParams(location.hash.slice(1)).get('reset');
if (resetToken) { history.replaceState(null, '', location.pathname); resetView(resetToken); }
else if (token) void landing().catch(() => loginView()); else loginView();
