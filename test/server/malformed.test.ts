/**
 * A corpus of bad requests: every one gets a 4xx whose message names the field at fault —
 * never a 500 — and none leaves anything behind (row counts are unchanged afterwards).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { encodeWav16 } from '../../src/signal/wav.js';
import { BACKENDS, DAMS, reportBody, setupStudy, startHarness, type Harness } from './helpers.js';

const iso = (ms: number) => new Date(ms).toISOString();

for (const b of BACKENDS) {
  describe.skipIf(b.skip)(`malformed input on ${b.name}`, () => {
    let h: Harness;
    let s: Awaited<ReturnType<typeof setupStudy>>;
    let tok: string, other: string;
    beforeAll(async () => {
      h = await startHarness(b.name);
      s = await setupStudy(h);
      tok = await s.enrol('P1');
      other = await s.enrol('P2');
      expect((await h.req('POST', '/me/reports', { token: other, body: reportBody('theirs', iso(Date.now() - 1000)) })).status).toBe(201);
    });
    afterAll(async () => { await h?.close(); });

    async function counts() {
      const db = h.server.store.db;
      const n = async (t: 'reports' | 'activity' | 'speech' | 'participants' | 'studies' | 'users') => Number((await db.selectFrom(t).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
      return { reports: await n('reports'), activity: await n('activity'), speech: await n('speech'), participants: await n('participants'), studies: await n('studies'), users: await n('users') };
    }

    it('rejects every malformed request with a 4xx naming the field, and writes nothing', async () => {
      const good = reportBody('ok-1', iso(Date.now() - 1000));
      const wav = Buffer.from(encodeWav16(new Float32Array(8000).fill(0.1), 16000));
      type Case = { name: string; method?: string; url?: string; body?: unknown; payload?: string | Buffer; token?: string | null; ctype?: string; status: number | number[]; field?: string | RegExp };
      const R = (name: string, body: unknown, field: string | RegExp, status = 400): Case => ({ name, body, field, status });
      const corpus: Case[] = [
        R('answer as a string', { ...good, answers: { ...good.answers, gloomy: '50' } }, 'body.answers.gloomy'),
        R('answer above range', { ...good, answers: { ...good.answers, gloomy: 101 } }, 'body.answers.gloomy'),
        R('answer below range', { ...good, answers: { ...good.answers, happy: -1 } }, 'body.answers.happy'),
        R('answer not an integer', { ...good, answers: { ...good.answers, happy: 50.5 } }, 'body.answers.happy'),
        R('answer null', { ...good, answers: { ...good.answers, happy: null } }, 'body.answers.happy'),
        R('answer is NaN-ish', { ...good, answers: { ...good.answers, happy: 1e309 } }, /body/),
        R('unknown item', { ...good, answers: { ...good.answers, sleepy: 3 } }, 'body.answers.sleepy'),
        R('answers not an object', { ...good, answers: [1, 2, 3] }, 'body.answers'),
        R('unknown field', { ...good, admin: true }, /body/),
        R('missing id', { ...good, id: undefined }, 'body.id'),
        R('id with odd characters', { ...good, id: '../../etc/passwd' }, 'body.id'),
        R('id too long', { ...good, id: 'x'.repeat(500) }, 'body.id'),
        R('time not a time', { ...good, time: 'yesterday' }, 'body.time'),
        R('time without offset', { ...good, time: '2026-01-01T10:00:00' }, 'body.time'),
        R('impossible date', { ...good, time: '2026-02-30T10:00:00Z' }, 'body.time'),
        R('time as a number', { ...good, time: 1700000000000 }, 'body.time'),
        R('time in the future', { ...good, time: iso(Date.now() + 86_400_000) }, 'body.time'),
        R('bad trigger', { ...good, trigger: 'sometimes' }, 'body.trigger'),
        R('item order with unknown id', { ...good, itemOrder: ['nope', ...DAMS] }, 'body.itemOrder.0'),
        R('item order with a repeat', { ...good, itemOrder: [...DAMS, 'happy'] }, 'body.itemOrder.9'),
        R('answered item not shown', { ...good, itemOrder: DAMS.slice(1) }, 'body.itemOrder'),
        R('prompt time garbage', { ...good, promptTime: 'soon' }, 'body.promptTime'),
        R('body is an array', [good], /body/),
        R('body is null', null, /body/),
        { name: 'invalid JSON', payload: '{"id": "x", ', ctype: 'application/json', status: 400, field: /body/ },
        { name: 'empty JSON body', payload: '', ctype: 'application/json', status: 400, field: /body/ },
        { name: 'huge payload', payload: JSON.stringify({ ...good, pad: 'x'.repeat(2 * 1024 * 1024) }), ctype: 'application/json', status: 413, field: /body/ },
        { name: 'form-encoded body', payload: 'id=1', ctype: 'application/x-www-form-urlencoded', status: 415 },
        { name: 'no token', body: good, token: null, status: 401, field: 'authorization' },
        { name: 'forged device token', body: good, token: 'p_' + 'A'.repeat(43), status: 401, field: 'authorization' },
        { name: 'researcher token on participant route', body: good, token: 'RESEARCHER', status: 401, field: 'authorization' },
        { name: 'malformed authorization', body: good, token: 'garbage', status: 401, field: 'authorization' },
        // Activity
        { name: 'activity: unknown channel', url: '/me/activity', body: { start: iso(Date.now() - 3_600_000), values: { zcm: [1], pim: [1], steps: [1] } }, status: 400, field: 'body.values.steps' },
        { name: 'activity: missing channel', url: '/me/activity', body: { start: iso(Date.now() - 3_600_000), values: { zcm: [1] } }, status: 400, field: 'body.values.pim' },
        { name: 'activity: unequal lengths', url: '/me/activity', body: { start: iso(Date.now() - 3_600_000), values: { zcm: [1, 2], pim: [1] } }, status: 400, field: 'body.values.pim' },
        { name: 'activity: string value', url: '/me/activity', body: { start: iso(Date.now() - 3_600_000), values: { zcm: [1, '2'], pim: [1, 2] } }, status: 400, field: 'body.values.zcm.1' },
        { name: 'activity: bad start', url: '/me/activity', body: { start: 'now', values: { zcm: [1], pim: [1] } }, status: 400, field: 'body.start' },
        { name: 'activity: empty', url: '/me/activity', body: { start: iso(Date.now() - 3_600_000), values: { zcm: [], pim: [] } }, status: 400, field: 'body.values' },
        { name: 'activity: too many epochs', url: '/me/activity', body: { start: iso(Date.now() - 3_600_000), values: { zcm: new Array(200_001).fill(1), pim: new Array(200_001).fill(1) } }, status: [400, 413], field: /body/ },
        // Speech
        { name: 'speech: truncated audio', method: 'PUT', url: '/me/reports/REPORT/speech', payload: wav.subarray(0, 3000), ctype: 'audio/wav', status: 400, field: 'body' },
        { name: 'speech: header only', method: 'PUT', url: '/me/reports/REPORT/speech', payload: wav.subarray(0, 30), ctype: 'audio/wav', status: 400, field: 'body' },
        { name: 'speech: not audio', method: 'PUT', url: '/me/reports/REPORT/speech', payload: Buffer.from('hello world, not a wav file at all'), ctype: 'audio/wav', status: 400, field: 'body' },
        { name: 'speech: empty', method: 'PUT', url: '/me/reports/REPORT/speech', payload: Buffer.alloc(0), ctype: 'audio/wav', status: 400, field: 'body' },
        { name: 'speech: too large', method: 'PUT', url: '/me/reports/REPORT/speech', payload: Buffer.concat([wav, Buffer.alloc(21 * 1024 * 1024)]), ctype: 'audio/wav', status: 413, field: 'body' },
        { name: "speech: another participant's report", method: 'PUT', url: '/me/reports/theirs/speech', payload: wav, ctype: 'audio/wav', status: 404, field: /theirs/ },
        { name: 'speech: bad report id', method: 'PUT', url: '/me/reports/..%2F..%2Fx/speech', payload: wav, ctype: 'audio/wav', status: 400, field: 'params.reportId' },
        { name: 'speech features on an audio study', method: 'PUT', url: '/me/reports/REPORT/speech-features', body: { features: { f0: 1 } }, status: 409, field: /features/ },
        { name: 'speech features: bad value', method: 'PUT', url: '/me/reports/REPORT/speech-features', body: { features: { f0: 'high' } }, status: 400, field: 'body.features.f0' },
        // Enrolment and accounts
        { name: 'enrol: wrong code', url: '/enrol', body: { code: 'WRONGCODE1' }, token: null, status: 400, field: 'body.code' },
        { name: 'enrol: code as number', url: '/enrol', body: { code: 12345678 }, token: null, status: 400, field: 'body.code' },
        { name: 'login: missing password', url: '/auth/login', body: { email: 'a@b.c' }, token: null, status: 400, field: 'body.password' },
        // Researcher routes
        { name: "researcher: other study's participant", method: 'GET', url: '/studies/s_doesnotexist/participants/P1/reports', token: 'RESEARCHER', status: 404 },
        { name: 'study: invalid item range', url: '/studies', body: { config: { name: 'x', items: [{ id: 'a', min: 5, max: 1 }] } }, token: 'RESEARCHER', status: 400, field: 'body.config.items.0.max' },
        { name: 'study: bad time zone', url: '/studies', body: { config: { name: 'x', timezone: 'Mars/Olympus' } }, token: 'RESEARCHER', status: 400, field: 'body.config.timezone' },
        { name: 'study: unknown setting', url: '/studies', body: { config: { name: 'x' }, settings: { turbo: true } }, token: 'RESEARCHER', status: 400, field: /body.settings/ },
        { name: 'participant: bad time zone', url: '/studies/STUDY/participants', body: { timezone: 'Nowhere/Land' }, token: 'RESEARCHER', status: 400, field: 'body.timezone' },
        { name: 'participant: duplicate id', url: '/studies/STUDY/participants', body: { participantId: 'P1' }, token: 'RESEARCHER', status: 409, field: 'body.participantId' },
        { name: 'audit: bad limit', method: 'GET', url: '/studies/STUDY/audit?limit=-5', token: 'RESEARCHER', status: 400, field: 'querystring.limit' },
      ];
      // The speech cases need a report of this participant that has no recording yet.
      expect((await h.req('POST', '/me/reports', { token: tok, body: reportBody('mine', iso(Date.now() - 2000)) })).status).toBe(201);
      const before = await counts();
      const failures: string[] = [];
      for (const c of corpus) {
        const token = c.token === null ? undefined : c.token === 'RESEARCHER' ? s.researcher : c.token ?? tok;
        const url = (c.url ?? '/me/reports').replace('REPORT', 'mine').replace('STUDY', s.studyId);
        const r = await h.req(c.method ?? 'POST', url, {
          token, body: c.body, payload: c.payload,
          headers: c.ctype ? { 'content-type': c.ctype } : undefined,
        });
        const statuses = Array.isArray(c.status) ? c.status : [c.status];
        const msg = r.json?.message ?? '';
        const fieldOk = c.field === undefined || (typeof c.field === 'string' ? msg.includes(c.field) : c.field.test(msg));
        if (!statuses.includes(r.status) || !fieldOk) failures.push(`${c.name}: ${r.status} ${r.body.slice(0, 200)}`);
      }
      expect(failures).toEqual([]);
      expect(await counts()).toEqual(before);
    });
  });
}
