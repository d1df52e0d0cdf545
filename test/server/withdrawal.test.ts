/**
 * Withdrawal reaches everything (Security I, item 2): exports that hold the person, uploads that
 * race the withdrawal (speech and raw accelerometer, streamed), files a crash left without a row,
 * free-page copies in the SQLite file, and the old phone's push subscription after a code
 * reissue. Run on both back ends (the database-file scan on SQLite only).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createECDH, randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { encodeWav16 } from '../../src/signal/wav.js';
import { openFile } from '../../src/server/storage/sealed-files.js';
import { BACKENDS, exportAndWait, reportBody, restartHarness, setupStudy, startHarness, type Harness } from './helpers.js';

const iso = (ms: number) => new Date(ms).toISOString();

/** A WAV whose samples are random (so its bytes are unique and findable). */
function noiseWav(seconds: number, rate = 16000): Buffer {
  const x = new Float32Array(Math.round(seconds * rate));
  for (let i = 0; i < x.length; i++) x[i] = (Math.random() - 0.5) * 0.5;
  return Buffer.from(encodeWav16(x, rate));
}

/** Every file under `dir` (recursively). */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

/** Start a streamed upload through inject; returns the stream to finish and the pending response. */
function streamed(h: Harness, method: 'PUT', url: string, token: string, ctype: string) {
  const body = new PassThrough();
  const res = h.server.app.inject({ method, url, headers: { authorization: `Bearer ${token}`, 'content-type': ctype }, payload: body });
  return { body, res };
}

const tick = (ms = 30) => new Promise((r) => setTimeout(r, ms));

for (const b of BACKENDS) {
  describe.skipIf(b.skip)(`withdrawal on ${b.name}`, () => {
    let h: Harness;
    beforeAll(async () => { h = await startHarness(b.name); });
    afterAll(async () => { await h?.close(); });

    it('leaves no row, file, export or free-page copy of the person (planted string and audio scanned)', async () => {
      const s = await setupStudy(h);
      const planted = `PLANTED${randomBytes(8).toString('hex')}`;
      const old = (await exportAndWait(h, s.researcher, s.studyId, { name: 'before-enrolment' })).job; // cannot hold them
      const inv = await h.req('POST', `/studies/${s.studyId}/participants`, { token: s.researcher, body: { participantId: 'WX1', covariates: { remark: planted } } });
      expect(inv.status, inv.body).toBe(201);
      const tok = (await h.req('POST', '/enrol', { body: { code: inv.json.enrolCode } })).json.token;
      const other = await s.enrol('WX2');
      await h.req('POST', '/me/reports', { token: other, body: reportBody('o-1', iso(Date.now() - 70_000), 44) });
      // The planted string is in deleted rows too (the app's report ids): free pages must not keep it.
      for (let i = 0; i < 3; i++) expect((await h.req('POST', '/me/reports', { token: tok, body: reportBody(`${planted}-${i}`, iso(Date.now() - 60_000 + i * 1000), 10 + i) })).status).toBe(201);
      const wav = noiseWav(0.5);
      expect((await h.req('PUT', `/me/reports/${planted}-0/speech`, { token: tok, payload: wav, headers: { 'content-type': 'audio/wav' } })).status).toBe(201);
      const exp = (await exportAndWait(h, s.researcher, s.studyId, { name: 'with-them' })).job;
      expect(exp.status).toBe('done');
      expect((await openFile(h.server.store.keys, join(exp.dir, 'participants.csv'))).toString('utf8')).toContain(planted); // sealed at rest
      await h.server.monitor.idle();
      await h.server.speech.idle();

      const del = await h.req('DELETE', '/me', { token: tok });
      expect(del.status, del.body).toBe(200);
      expect(del.json).toMatchObject({ participantId: 'WX1', reports: 3, deletedFiles: 1, exports: [{ id: exp.id, name: 'with-them' }] });
      // The export that held them is gone and marked; the one made before they joined stays.
      expect(existsSync(exp.dir)).toBe(false);
      expect(existsSync(join(old.dir, 'study.json'))).toBe(true);
      const view = (await h.req('GET', `/studies/${s.studyId}/exports/${exp.id}`, { token: s.researcher })).json;
      expect(view).toMatchObject({ status: 'deleted', deletedBy: 'withdrawal' });
      const audit = (await h.req('GET', `/studies/${s.studyId}/audit`, { token: s.researcher })).json;
      expect(audit.some((a: any) => a.actor === 'system:withdrawal' && a.resource === 'export' && JSON.parse(a.detail).job === exp.id)).toBe(true);

      // Nothing in the data folder holds the planted string or the recording's samples.
      await h.server.store.purgeFreedPages();
      const needle = wav.subarray(1000, 1064);
      const hits = filesUnder(h.backend.dataDir).filter((f) => {
        const buf = readFileSync(f);
        return buf.includes(planted) || buf.includes(needle);
      });
      expect(hits).toEqual([]);
      if (b.name === 'sqlite') expect(statSync(join(h.backend.dataDir, 'test.db')).size).toBeGreaterThan(0); // the scan read the database file
    });

    it('answers 410 and keeps no file when the withdrawal comes during a streamed speech upload', async () => {
      const s = await setupStudy(h);
      const tok = await s.enrol('RS1');
      expect((await h.req('POST', '/me/reports', { token: tok, body: reportBody('rs-1', iso(Date.now() - 60_000)) })).status).toBe(201);
      const pid = (await h.server.store.participant(s.studyId, 'RS1'))!.id;
      const wav = noiseWav(1);
      const up = streamed(h, 'PUT', '/me/reports/rs-1/speech', tok, 'audio/wav');
      up.body.write(wav.subarray(0, 8000));
      await tick(100);
      expect((await h.req('DELETE', `/studies/${s.studyId}/participants/RS1`, { token: s.researcher })).status).toBe(200);
      up.body.end(wav.subarray(8000));
      const r = await up.res;
      expect(r.statusCode, r.body).toBe(410);
      expect(existsSync(join(h.backend.dataDir, 'speech', s.studyId, pid))).toBe(false);
      expect(readdirSync(join(h.backend.dataDir, 'tmp')).filter((f) => f.endsWith('.part'))).toEqual([]);
      expect(await h.server.store.holdings(pid)).toEqual({ reports: 0, speech: 0, activity: 0, predictions: 0, alerts: 0 });
    });

    it('refuses the speech row of a participant who withdrew after the upload was checked (410, no file)', async () => {
      const s = await setupStudy(h);
      const tok = await s.enrol('RS2');
      expect((await h.req('POST', '/me/reports', { token: tok, body: reportBody('rs2-1', iso(Date.now() - 60_000)) })).status).toBe(201);
      const p = (await h.server.store.participant(s.studyId, 'RS2'))!;
      const report = (await h.server.store.reportByClientId(p.id, 'rs2-1'))!;
      // The state a racing withdrawal leaves between the route's checks and its write.
      await h.server.store.withdraw(p, { actor_kind: 'system', actor_id: 'test', action: 'delete', study_id: s.studyId, participant_id: p.id, resource: 'participant' });
      await expect(h.server.store.insertSpeech({ report_id: report.id, study_id: s.studyId, participant_id: p.id, file: 'speech/x.wav', bytes: 1, sha256: 'x', sample_rate: 16000, channels: 1, duration_s: 0, created_ms: Date.now() }))
        .rejects.toMatchObject({ statusCode: 410 });
      await expect(h.server.store.insertReport({ ...report, id: 'r_new', client_id: 'rs2-2' })).rejects.toMatchObject({ statusCode: 410 });
      await expect(h.server.store.insertEpochs(s.studyId, p.id, [{ t_ms: Date.now() - 600_000, vals: '[1,2]' }])).rejects.toMatchObject({ statusCode: 410 });
      expect(await h.server.store.holdings(p.id)).toEqual({ reports: 0, speech: 0, activity: 0, predictions: 0, alerts: 0 });
    });

    it('answers 410 and stores no epoch when the withdrawal comes during a raw accelerometer upload', async () => {
      const s = await setupStudy(h);
      const tok = await s.enrol('RA1');
      const pid = (await h.server.store.participant(s.studyId, 'RA1'))!.id;
      const rate = 25, t0 = Date.UTC(2026, 0, 5, 9, 0);
      const lines = ['time,x,y,z'];
      for (let i = 0; i < 10 * 60 * rate; i++) lines.push(`${new Date(t0 + Math.round((i / rate) * 1000)).toISOString()},0.01,${(0.2 * Math.sin(i / 5)).toFixed(4)},1`);
      const csv = Buffer.from(lines.join('\n') + '\n');
      const up = streamed(h, 'PUT', '/me/activity/raw', tok, 'text/csv');
      up.body.write(csv.subarray(0, csv.length >> 1));
      await tick(100);
      expect((await h.req('DELETE', '/me', { token: tok })).status).toBe(200);
      up.body.end(csv.subarray(csv.length >> 1));
      const r = await up.res;
      expect(r.statusCode, r.body).toBe(410);
      expect(r.json().message).toMatch(/withdrawn/);
      expect(await h.server.store.holdings(pid)).toEqual({ reports: 0, speech: 0, activity: 0, predictions: 0, alerts: 0 });
    });

    it('removes recording files without a database row: at start, and in the participant\'s folder at withdrawal', async () => {
      const s = await setupStudy(h);
      const tok = await s.enrol('OR1');
      const pid = (await h.server.store.participant(s.studyId, 'OR1'))!.id;
      expect((await h.req('POST', '/me/reports', { token: tok, body: reportBody('or-1', iso(Date.now() - 60_000)) })).status).toBe(201);
      expect((await h.req('PUT', '/me/reports/or-1/speech', { token: tok, payload: noiseWav(0.3), headers: { 'content-type': 'audio/wav' } })).status).toBe(201);
      const kept = (await h.server.store.speechOf((await h.server.store.reportByClientId(pid, 'or-1'))!.id))!.file;
      // A crash between a rename and its commit left these.
      const orphanDir = join(h.backend.dataDir, 'speech', s.studyId, pid);
      writeFileSync(join(orphanDir, 'r_crashed.wav'), noiseWav(0.1));
      mkdirSync(join(h.backend.dataDir, 'speech', 's_gone', 'p_gone'), { recursive: true });
      writeFileSync(join(h.backend.dataDir, 'speech', 's_gone', 'p_gone', 'r_x.wav'), 'RIFF');
      h = await restartHarness(h);
      expect(existsSync(join(orphanDir, 'r_crashed.wav'))).toBe(false);
      expect(existsSync(join(h.backend.dataDir, 'speech', 's_gone', 'p_gone', 'r_x.wav'))).toBe(false);
      expect(existsSync(join(h.backend.dataDir, kept))).toBe(true);
      // Left after start (no restart in between): withdrawal removes the participant's whole folder.
      writeFileSync(join(orphanDir, 'r_later.wav'), noiseWav(0.1));
      expect((await h.req('DELETE', '/me', { token: tok })).status).toBe(200);
      expect(existsSync(orphanDir)).toBe(false);
    });

    it('drops the old phone\'s push subscription when a new enrolment code is issued', async () => {
      const s = await setupStudy(h);
      const tok = await s.enrol('PH1');
      const ua = createECDH('prime256v1'); ua.generateKeys();
      const sub = { endpoint: 'https://push.example.org/push/PH1-old-phone', expirationTime: null, keys: { p256dh: ua.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') } };
      expect((await h.req('PUT', '/me/push/subscription', { token: tok, body: sub })).status).toBe(201);
      const pid = (await h.server.store.participant(s.studyId, 'PH1'))!.id;
      const count = async () => (await (h.server.store.db as any).selectFrom('web_push_subscriptions').selectAll().where('participant_id', '=', pid).execute()).length;
      expect(await count()).toBe(1);
      const code = await h.req('POST', `/studies/${s.studyId}/participants/PH1/code`, { token: s.researcher });
      expect(code.status).toBe(200);
      expect(code.json.removedPushSubscriptions).toBe(1);
      expect(await count()).toBe(0);
      expect((await h.req('GET', '/me', { token: tok })).status).toBe(401);
    });
  });
}
