/**
 * The prompt log, for real: a participant with a push subscription (a local HTTP server stands in
 * for the push service) goes through prompts on a clock the test moves, across the end of
 * daylight saving time in Europe/Berlin (2026-10-25). Each prompt's fate — answered, expired
 * (unanswered, or answered too late), open — with when its reminder was pushed and the app
 * opened, in the API, in the export's prompts.csv (read back by the data library) and in
 * `describe`'s compliance. On SQLite and PostgreSQL.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, type Server as HttpServer } from 'node:http';
import { createECDH, randomBytes } from 'node:crypto';
import { BACKENDS, downloadExport, exportAndWait, reportBody, setupStudy, startHarness } from './helpers.js';
import { loadStudy } from '../../src/data/load.js';
import { describeStudy } from '../../src/data/describe.js';
import { promptFate } from '../../src/server/services/prompt-log.js';

describe('prompt fates', () => {
  it('answered before expiry, expired after it (even if answered late), open or upcoming before', () => {
    const p = { timeMs: 1000, expiresMs: 2000 };
    expect(promptFate(p, null, 500)).toBe('upcoming');
    expect(promptFate(p, null, 1500)).toBe('open');
    expect(promptFate(p, 1800, 1900)).toBe('answered');
    expect(promptFate(p, 1999, 9000)).toBe('answered');
    expect(promptFate(p, 2000, 9000)).toBe('expired'); // open while time ≤ now < expiry
    expect(promptFate(p, null, 1999)).toBe('open');
    expect(promptFate(p, null, 2000)).toBe('expired');
    expect(promptFate(p, 2500, 3000)).toBe('expired');
    expect(promptFate({ timeMs: 1000, expiresMs: null }, null, 1e12)).toBe('open');
  });
});

describe.each(BACKENDS)('the prompt log ($name)', ({ name, skip }) => {
  let push: HttpServer, pushBase = '';
  const saved: Record<string, string | undefined> = {};
  beforeAll(async () => {
    for (const k of ['MOODLENS_PUSH_TICK_S', 'MOODLENS_PUSH_ALLOW_HTTP', 'MOODLENS_PUSH_GRACE_MIN']) saved[k] = process.env[k];
    process.env.MOODLENS_PUSH_TICK_S = '0';
    process.env.MOODLENS_PUSH_ALLOW_HTTP = '1';
    process.env.MOODLENS_PUSH_GRACE_MIN = '30';
    push = createServer((req, res) => { req.resume(); req.on('end', () => res.writeHead(201).end()); });
    await new Promise<void>((r) => push.listen(0, '127.0.0.1', () => r()));
    pushBase = `http://127.0.0.1:${(push.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => push.close(r));
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  });

  it.skipIf(skip)('answers the last 14 days by default, a page of whole participants at a time; the export has the whole log', async () => {
    let clock = Date.parse('2026-10-24T07:00:00+02:00');
    const h = await startHarness(name, { now: () => clock });
    try {
      const s = await setupStudy(h, { name: 'paged study', timezone: 'Europe/Berlin', speech: { kind: 'none' }, schedule: { times: ['09:00', '13:00', '19:00'], jitterMinutes: 0, days: 30, expiryMinutes: 90 } });
      for (const l of ['P1', 'P2', 'P3']) await s.enrol(l);
      clock = Date.parse('2026-11-10T12:00:00Z');
      const get = async (q: string) => { const r = await h.req('GET', `/studies/${s.studyId}/prompts${q}`, { token: s.researcher }); expect(r.status, r.body).toBe(200); return r.json; };
      const all = await get('?from=2026-10-24&to=2026-11-10');
      expect(all.nextCursor).toBeNull();
      const byDefault = await get('');
      expect([byDefault.from, byDefault.to]).toEqual(['2026-10-28', '2026-11-10']);
      const inWindow = all.entries.filter((e: any) => new Date(e.promptTime).toISOString().slice(0, 10) >= '2026-10-28');
      expect(byDefault.entries.length).toBeLessThan(all.entries.length);
      expect(byDefault.entries).toEqual(inWindow);
      // Pages of whole participants: limit 1 → one participant a page; together, the whole answer.
      const pages: any[] = [];
      let cursor: string | null = null;
      do { const page: any = await get(`?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`); pages.push(page); cursor = page.nextCursor; } while (cursor);
      expect(pages).toHaveLength(3);
      expect(pages.map((p) => new Set(p.entries.map((e: any) => e.participantId)).size)).toEqual([1, 1, 1]);
      expect(pages.map((p) => p.truncated)).toEqual([true, true, false]);
      expect(pages.flatMap((p) => p.entries)).toEqual(byDefault.entries);
      // The export writes every prompt since enrolment.
      const { job } = await exportAndWait(h, s.researcher, s.studyId);
      expect(job.summary.prompts).toBe(all.entries.length);
    } finally {
      await h.close();
    }
  });

  it.skipIf(skip)('shows every prompt\'s fate in the API, prompts.csv and describe, across the end of DST', async () => {
    let clock = Date.parse('2026-10-24T07:00:00+02:00'); // Saturday; Berlin leaves summer time on Sunday 03:00
    const h = await startHarness(name, { now: () => clock });
    try {
      const s = await setupStudy(h, { name: 'log study', timezone: 'Europe/Berlin', speech: { kind: 'none' }, schedule: { times: ['09:00', '13:00', '19:00'], jitterMinutes: 0, days: 3, expiryMinutes: 90 } });
      const device = await s.enrol('P1');
      const ua = createECDH('prime256v1'); ua.generateKeys();
      const sub = { endpoint: `${pushBase}/push/P1`, expirationTime: null, keys: { p256dh: ua.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') } };
      expect((await h.req('PUT', '/me/push/subscription', { token: device, body: sub })).status).toBe(201);
      const log = async (q = '') => {
        const r = await h.req('GET', `/studies/${s.studyId}/prompts${q}`, { token: s.researcher });
        expect(r.status, r.body).toBe(200);
        return r.json.entries as any[];
      };
      expect(await log()).toEqual([]); // nothing due yet
      const at = (iso: string) => { clock = Date.parse(iso); };
      const report = (id: string, promptTime: string) => h.req('POST', '/me/reports', { token: device, body: reportBody(id, new Date(clock).toISOString(), 40, { promptTime }) });

      // 09:00: pushed, opened, answered at 09:05.
      at('2026-10-24T09:01:00+02:00');
      expect(await h.server.push.tick()).toMatchObject({ claimed: 1, delivered: 1 });
      at('2026-10-24T09:04:00+02:00');
      const opened = await h.req('POST', '/me/prompts/opened', { token: device, body: { promptTime: '2026-10-24T09:00:00+02:00' } });
      expect(opened.json).toEqual({ promptId: 'ema:0:0', promptTime: '2026-10-24T09:00:00+02:00', openedAt: '2026-10-24T07:04:00.000Z', first: true });
      expect((await h.req('POST', '/me/prompts/opened', { token: device, body: { promptTime: '2026-10-24T07:00:00Z' } })).json.first).toBe(false); // the same instant, spelt in UTC
      expect((await h.req('POST', '/me/prompts/opened', { token: device, body: { promptId: 'ema:0:0' } })).json.first).toBe(false); // by its id
      expect((await h.req('POST', '/me/prompts/opened', { token: device, body: { promptTime: '2026-10-24T09:30:00+02:00' } })).status).toBe(404); // not a prompt
      expect((await h.req('POST', '/me/prompts/opened', { token: device, body: { promptId: 'ema:1:0' } })).status).toBe(409); // tomorrow's
      expect((await h.req('POST', '/me/prompts/opened', { token: device, body: { promptId: 'phq9:0:0' } })).status).toBe(404);
      expect((await h.req('POST', '/me/prompts/opened', { token: device, body: { promptTime: '2026-10-24T09:00:00+02:00', x: 1 } })).status).toBe(400);
      expect((await h.req('POST', '/me/prompts/opened', { token: device, body: {} })).status).toBe(400);
      at('2026-10-24T09:05:00+02:00');
      expect((await report('a1', '2026-10-24T09:00:00+02:00')).status).toBe(201);
      // 13:00: pushed, never opened or answered → expired at 14:30.
      at('2026-10-24T13:01:00+02:00');
      expect(await h.server.push.tick()).toMatchObject({ claimed: 1, delivered: 1 });
      // 19:00: no push pass ran (server down), answered at 20:45 — after its 90 minutes → expired.
      at('2026-10-24T20:45:00+02:00');
      expect((await report('a3', '2026-10-24T19:00:00+02:00')).status).toBe(201);
      // Sunday after the change: 09:00 is now +01:00; at 09:10 it is open.
      at('2026-10-25T09:10:00+01:00');
      expect(await h.server.push.tick()).toMatchObject({ claimed: 1, delivered: 1 });

      const entries = await log();
      expect(entries.map((e) => [e.promptId, e.promptTime, e.fate, !!e.pushSentAt, !!e.openedAt, e.reportId])).toEqual([
        ['ema:0:0', '2026-10-24T09:00:00+02:00', 'answered', true, true, 'a1'],
        ['ema:0:1', '2026-10-24T13:00:00+02:00', 'expired', true, false, null],
        ['ema:0:2', '2026-10-24T19:00:00+02:00', 'expired', false, false, 'a3'],
        ['ema:1:0', '2026-10-25T09:00:00+01:00', 'open', true, false, null],
      ]);
      expect(entries[0]).toMatchObject({ participantId: 'P1', day: 0, slot: 0, expiresAt: '2026-10-24T08:30:00.000Z', pushSentAt: '2026-10-24T07:01:00.000Z', answeredAt: '2026-10-24T07:05:00.000Z' });
      expect(entries[3]).toMatchObject({ day: 1, slot: 0, expiresAt: '2026-10-25T09:30:00.000Z' }); // 09:00 +01:00 = 08:00Z, + 90 min
      expect(await log('?participant=P1')).toEqual(entries);
      // A span of days (UTC): only the prompts whose time falls in it; checked one line per mistake.
      expect((await log('?from=2026-10-25&to=2026-10-25')).map((e) => e.promptId)).toEqual(['ema:1:0']);
      expect((await log('?from=2026-10-24&to=2026-10-24')).map((e) => e.promptId)).toEqual(['ema:0:0', 'ema:0:1', 'ema:0:2']);
      for (const [q, field] of [['?from=2026-10-25&to=2026-10-24', 'querystring.to'], ['?from=2025-01-01&to=2026-10-25', 'querystring.from'], ['?from=2026-02-30', 'querystring.from'], ['?to=25.10.2026', 'querystring.to'], ['?limit=0', 'querystring.limit']] as const) {
        const r = await h.req('GET', `/studies/${s.studyId}/prompts${q}`, { token: s.researcher });
        expect(r.status, q).toBe(400);
        expect(r.body, q).toContain(field);
      }
      const typo = await h.req('GET', `/studies/${s.studyId}/prompts?form=2026-10-24`, { token: s.researcher });
      expect([typo.status, typo.json.message]).toEqual([400, 'querystring: unknown key "form" — did you mean "from"?']);
      expect((await h.req('GET', `/studies/${s.studyId}/prompts?participant=P9`, { token: s.researcher })).status).toBe(404);
      expect((await h.server.store.auditLog(s.studyId, 100, { resource: 'prompt-log' })).length).toBeGreaterThanOrEqual(2);

      // The export: prompts.csv, read back by the data library, and describe's compliance from it.
      const { job } = await exportAndWait(h, s.researcher, s.studyId);
      expect(job.status, JSON.stringify(job)).toBe('done');
      expect(job.summary.prompts).toBe(4);
      const dir = await downloadExport(h, s.researcher, job);
      const csv = readFileSync(join(dir, 'prompts.csv'), 'utf8').trim().split('\n');
      expect(csv[0]).toBe('participant_id,prompt_id,instrument,prompt_time,expires_at,push_sent_at,opened_at,answered_at,report_id,fate');
      expect(csv.slice(1)).toEqual([
        'P1,ema:0:0,ema,2026-10-24T09:00:00+02:00,2026-10-24T10:30:00+02:00,2026-10-24T09:01:00+02:00,2026-10-24T09:04:00+02:00,2026-10-24T09:05:00+02:00,a1,answered',
        'P1,ema:0:1,ema,2026-10-24T13:00:00+02:00,2026-10-24T14:30:00+02:00,2026-10-24T13:01:00+02:00,,,,expired',
        'P1,ema:0:2,ema,2026-10-24T19:00:00+02:00,2026-10-24T20:30:00+02:00,,,2026-10-24T20:45:00+02:00,a3,expired',
        'P1,ema:1:0,ema,2026-10-25T09:00:00+01:00,2026-10-25T10:30:00+01:00,2026-10-25T09:10:00+01:00,,,,open',
      ]);
      const loaded = await loadStudy(dir);
      expect(loaded.issues).toEqual([]);
      expect(loaded.study!.prompts).toHaveLength(4);
      const d = describeStudy(loaded.study!);
      expect(d.complianceMode).toBe('prompt-log');
      expect(d.compliance[0]).toMatchObject({ participant: 'P1', scheduledAnswered: 1, scheduledExpected: 3, prompts: { prompts: 4, answered: 1, expired: 2, open: 1, upcoming: 0, pushSent: 3, opened: 1 } });
      expect(d.compliance[0].compliance).toBeCloseTo(1 / 3, 12);

      // Withdrawal takes the prompt events with the rest.
      const w = await h.req('DELETE', '/me', { token: device });
      expect(w.json.promptEvents).toBe(3); // pushed or opened
      expect(await log()).toEqual([]);
    } finally {
      await h.close();
    }
  });
});
