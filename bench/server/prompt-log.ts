/**
 * The prompt log's cost: a study of N participants enrolled 14 days ago (two slider windows a day
 * with a 90-minute expiry, weekly PHQ-9 and GAD-7, as in test/support/study-week.ts), about 70 %
 * of prompts answered with their promptId, on SQLite in this process with an injected clock. Prints
 * the time of GET /studies/:id/prompts over the last 14 days (every page: what the dashboard's study
 * page loads; and its first page alone), of one participant's, and of an export with its prompts.csv.
 *
 *   npx tsx bench/server/prompt-log.ts [--participants 100] [--days 14]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildServer } from '../../src/server/server.js';
import { studyPromptsBetween } from '../../src/data/schedule.js';
import { WEEK_CONFIG } from '../../test/support/study-week.js';

const { values: args } = parseArgs({ options: { participants: { type: 'string', default: '100' }, days: { type: 'string', default: '14' } } });
const N = Number(args.participants), DAYS = Number(args.days);
const ADMIN = { email: 'bench@example.org', password: 'bench-password-1' };
const dataDir = mkdtempSync(join(tmpdir(), 'moodlens-bench-prompts-'));
let clock = Date.parse('2026-10-01T07:00:00+02:00');
const server = await buildServer({ db: `sqlite:${join(dataDir, 'b.db')}`, dataDir, admin: ADMIN, authRateLimit: 1e6, keyLog: () => {}, now: () => clock, notify: { smtp: null, tickMs: 0 }, limits: { ingestRatePerMinute: 1_000_000 } });
const req = async (method: string, url: string, token?: string, body?: unknown) => {
  const r = await server.app.inject({ method: method as 'GET', url, headers: token ? { authorization: `Bearer ${token}` } : {}, ...(body !== undefined ? { payload: body as object } : {}) });
  return { status: r.statusCode, json: r.json() as any };
};
try {
  const admin = (await req('POST', '/auth/login', undefined, ADMIN)).json.token as string;
  const week = JSON.parse(JSON.stringify(WEEK_CONFIG));
  week.schedule.days = DAYS; for (const i of week.instruments) i.schedule.days = DAYS;
  week.notifications = [];
  const studyId = (await req('POST', '/studies', admin, { config: week })).json.id as string;
  const devices: { token: string; label: string }[] = [];
  for (let k = 0; k < N; k++) {
    const inv = await req('POST', `/studies/${studyId}/participants`, admin, { participantId: `P${k}` });
    devices.push({ token: (await req('POST', '/enrol', undefined, { code: inv.json.enrolCode })).json.token, label: `P${k}` });
  }
  const end = clock + DAYS * 86_400_000;
  const config = (await server.ctx.studyInfo(studyId)).config;
  let reports = 0, prompts = 0;
  for (const d of devices) {
    const p = (await server.store.participant(studyId, d.label))!;
    const all = studyPromptsBetween(config, { zone: p.timezone, seed: p.seed, enrolledMs: p.enrolled_ms! }, p.enrolled_ms! - 1, end);
    prompts += all.length;
    for (const [j, x] of all.entries()) {
      if ((j * 7 + Number(d.label.slice(1))) % 10 >= 7) continue; // ~70 % answered
      clock = x.timeMs + 5 * 60_000;
      const answers = x.instrument === 'ema' ? { mood: 50, energy: 50 } : Object.fromEntries(Array.from({ length: x.instrument === 'phq9' ? 9 : 7 }, (_, i) => [`${x.instrument}_${i + 1}`, 1]));
      const r = await req('POST', '/me/reports', d.token, { id: `${d.label}-${j}`, time: new Date(clock).toISOString(), trigger: 'scheduled', answers, itemOrder: Object.keys(answers), promptId: x.id, ...(x.instrument === 'ema' ? {} : { instrument: x.instrument }) });
      if (r.status !== 201) throw new Error(JSON.stringify(r.json));
      reports++;
    }
  }
  await server.monitor.idle();
  clock = end;
  const time = async (f: () => Promise<unknown>, n = 5) => {
    const t: number[] = [];
    for (let i = 0; i < n; i++) { const t0 = performance.now(); await f(); t.push(performance.now() - t0); }
    return t.sort((a, b) => a - b)[n >> 1];
  };
  // The dashboard's study page: the last 14 days (the default span), every page.
  let entries = 0, pages = 0;
  const whole = await time(async () => {
    entries = 0; pages = 0;
    let cursor: string | null = null;
    do {
      const r = await req('GET', `/studies/${studyId}/prompts${cursor ? `?cursor=${encodeURIComponent(cursor)}` : ''}`, admin);
      entries += r.json.entries.length; pages++; cursor = r.json.nextCursor;
    } while (cursor);
  });
  const page = await time(() => req('GET', `/studies/${studyId}/prompts`, admin));
  const one = await time(() => req('GET', `/studies/${studyId}/prompts?participant=P0`, admin));
  const t0 = performance.now();
  let job = (await req('POST', `/studies/${studyId}/export`, admin, {})).json;
  while (job.status === 'queued' || job.status === 'running') { await new Promise((r) => setTimeout(r, 20)); job = (await req('GET', job.statusUrl, admin)).json; }
  const exportMs = performance.now() - t0;
  console.log(`${N} participants × ${DAYS} days: ${prompts} prompts, ${reports} reports`);
  console.log(`GET /studies/:id/prompts (last 14 days, whole study: ${entries} entries in ${pages} page(s)): median ${whole.toFixed(0)} ms of 5`);
  console.log(`GET /studies/:id/prompts (its first page): median ${page.toFixed(0)} ms of 5`);
  console.log(`GET /studies/:id/prompts?participant=P0: median ${one.toFixed(1)} ms of 5`);
  console.log(`export with prompts.csv (${job.summary?.prompts} rows, ${job.summary?.reports} reports): ${exportMs.toFixed(0)} ms (${job.status})`);
} finally {
  await server.close();
  rmSync(dataDir, { recursive: true, force: true });
}
