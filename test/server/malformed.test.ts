/**
 * A corpus of bad requests: every one gets a 4xx whose message names the field at fault —
 * never a 500 — and none leaves anything behind (row counts and passwords are unchanged afterwards).
 * Every route has cases: ingest, enrolment, accounts (password change and reset), studies,
 * export jobs, models.
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
      const n = async (t: 'reports' | 'activity' | 'speech' | 'participants' | 'studies' | 'users' | 'password_resets' | 'export_jobs' | 'sessions' | 'predictions') => Number((await db.selectFrom(t).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
      const pw = await db.selectFrom('users').select('password_hash').orderBy('id').execute();
      return { reports: await n('reports'), activity: await n('activity'), speech: await n('speech'), participants: await n('participants'), studies: await n('studies'), users: await n('users'),
        passwordResets: await n('password_resets'), exportJobs: await n('export_jobs'), sessions: await n('sessions'), predictions: await n('predictions'), passwords: pw.map((r) => r.password_hash).join() };
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
        // Password change
        { name: 'password: no token', url: '/auth/password', body: { currentPassword: 'researcher-pass-1', newPassword: 'another-pass-1' }, token: null, status: 401, field: 'authorization' },
        { name: 'password: device token', url: '/auth/password', body: { currentPassword: 'researcher-pass-1', newPassword: 'another-pass-1' }, status: 401, field: 'authorization' },
        { name: 'password: missing new password', url: '/auth/password', body: { currentPassword: 'researcher-pass-1' }, token: 'RESEARCHER', status: 400, field: 'body.newPassword' },
        { name: 'password: new password too short', url: '/auth/password', body: { currentPassword: 'researcher-pass-1', newPassword: 'short' }, token: 'RESEARCHER', status: 400, field: 'body.newPassword' },
        { name: 'password: new password a number', url: '/auth/password', body: { currentPassword: 'researcher-pass-1', newPassword: 12345678901 }, token: 'RESEARCHER', status: 400, field: 'body.newPassword' },
        { name: 'password: unknown field', url: '/auth/password', body: { currentPassword: 'researcher-pass-1', newPassword: 'another-pass-1', admin: true }, token: 'RESEARCHER', status: 400, field: /body/ },
        { name: 'password: wrong current password', url: '/auth/password', body: { currentPassword: 'not-the-password', newPassword: 'another-pass-1' }, token: 'RESEARCHER', status: 403, field: 'body.currentPassword' },
        { name: 'password: same as current', url: '/auth/password', body: { currentPassword: 'researcher-pass-1', newPassword: 'researcher-pass-1' }, token: 'RESEARCHER', status: 400, field: 'body.newPassword' },
        { name: 'password: invalid JSON', url: '/auth/password', payload: '{"currentPassword":', ctype: 'application/json', token: 'RESEARCHER', status: 400, field: /body/ },
        // Password reset
        { name: 'reset: unknown token', url: '/auth/password-reset', body: { token: 'rs_' + 'A'.repeat(43), newPassword: 'another-pass-1' }, token: null, status: 400, field: 'body.token' },
        { name: 'reset: token too short', url: '/auth/password-reset', body: { token: 'rs_', newPassword: 'another-pass-1' }, token: null, status: 400, field: 'body.token' },
        { name: 'reset: token as number', url: '/auth/password-reset', body: { token: 1234567890123, newPassword: 'another-pass-1' }, token: null, status: 400, field: 'body.token' },
        { name: 'reset: missing new password', url: '/auth/password-reset', body: { token: 'rs_' + 'A'.repeat(43) }, token: null, status: 400, field: 'body.newPassword' },
        { name: 'reset: body is an array', url: '/auth/password-reset', body: [1], token: null, status: 400, field: /body/ },
        { name: 'reset issue: not an admin', url: '/admin/researchers/USER/password-reset', body: {}, token: 'RESEARCHER', status: 403 },
        { name: 'reset issue: device token', url: '/admin/researchers/USER/password-reset', body: {}, status: 401, field: 'authorization' },
        { name: 'reset issue: unknown user', url: '/admin/researchers/u_nobody/password-reset', body: {}, token: 'ADMIN', status: 404, field: /u_nobody/ },
        { name: 'reset issue: bad user id', url: '/admin/researchers/..%2Fx/password-reset', body: {}, token: 'ADMIN', status: 400, field: 'params.userId' },
        { name: 'reset issue: negative expiry', url: '/admin/researchers/USER/password-reset', body: { expiresHours: -1 }, token: 'ADMIN', status: 400, field: 'body.expiresHours' },
        { name: 'reset issue: expiry too long', url: '/admin/researchers/USER/password-reset', body: { expiresHours: 10_000 }, token: 'ADMIN', status: 400, field: 'body.expiresHours' },
        { name: 'reset issue: expiry as string', url: '/admin/researchers/USER/password-reset', body: { expiresHours: '2' }, token: 'ADMIN', status: 400, field: 'body.expiresHours' },
        { name: 'reset issue: unknown field', url: '/admin/researchers/USER/password-reset', body: { sendEmail: true }, token: 'ADMIN', status: 400, field: /body/ },
        { name: 'admin audit: not an admin', method: 'GET', url: '/admin/audit', token: 'RESEARCHER', status: 403 },
        { name: 'admin audit: bad limit', method: 'GET', url: '/admin/audit?limit=0', token: 'ADMIN', status: 400, field: 'querystring.limit' },
        { name: 'admin audit: bad resource', method: 'GET', url: '/admin/audit?resource=DROP%20TABLE', token: 'ADMIN', status: 400, field: 'querystring.resource' },
        // Export jobs
        { name: 'export: bad name', url: '/studies/STUDY/export', body: { name: '../../etc' }, token: 'RESEARCHER', status: 400, field: 'body.name' },
        { name: 'export: name too long', url: '/studies/STUDY/export', body: { name: 'x'.repeat(300) }, token: 'RESEARCHER', status: 400, field: 'body.name' },
        { name: 'export: unknown field', url: '/studies/STUDY/export', body: { format: 'zip' }, token: 'RESEARCHER', status: 400, field: /body/ },
        { name: 'export: other study', url: '/studies/s_doesnotexist/export', body: {}, token: 'RESEARCHER', status: 404 },
        { name: 'export: device token', url: '/studies/STUDY/export', body: {}, status: 401, field: 'authorization' },
        { name: 'export job: unknown', method: 'GET', url: '/studies/STUDY/exports/x_nope', token: 'RESEARCHER', status: 404, field: /x_nope/ },
        { name: 'export job: bad id', method: 'GET', url: '/studies/STUDY/exports/..%2F..%2Fx', token: 'RESEARCHER', status: 400, field: 'params.jobId' },
        { name: 'export download: unknown', method: 'GET', url: '/studies/STUDY/exports/x_nope/download', token: 'RESEARCHER', status: 404, field: /x_nope/ },
        { name: 'export jobs: other study', method: 'GET', url: '/studies/s_doesnotexist/exports', token: 'RESEARCHER', status: 404 },
        // Model status and attach
        { name: 'model status: other study', method: 'GET', url: '/studies/s_doesnotexist/model', token: 'RESEARCHER', status: 404 },
        { name: 'model: not a folder', method: 'PUT', url: '/studies/STUDY/model', body: { model: '/nonexistent/model' }, token: 'RESEARCHER', status: 400, field: 'body.model' },
        { name: 'model: a folder without a model', method: 'PUT', url: '/studies/STUDY/model', body: { model: '/tmp' }, token: 'RESEARCHER', status: 400, field: 'body.model' },
        { name: 'model: missing', method: 'PUT', url: '/studies/STUDY/model', body: {}, token: 'RESEARCHER', status: 400, field: 'body.model' },
      ];
      const userId = (await h.req('GET', '/auth/me', { token: s.researcher })).json.id as string;
      // The speech cases need a report of this participant that has no recording yet.
      expect((await h.req('POST', '/me/reports', { token: tok, body: reportBody('mine', iso(Date.now() - 2000)) })).status).toBe(201);
      const before = await counts();
      const failures: string[] = [];
      for (const c of corpus) {
        const token = c.token === null ? undefined : c.token === 'RESEARCHER' ? s.researcher : c.token === 'ADMIN' ? s.admin : c.token ?? tok;
        const url = (c.url ?? '/me/reports').replace('REPORT', 'mine').replace('STUDY', s.studyId).replace('USER', userId);
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
