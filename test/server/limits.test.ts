/**
 * Limits (docs/security.md, "Limits"): study-config bounds, a schedule computed only for the days
 * asked for, the per-participant ingest rate (429 + Retry-After), body sizes per route, speech
 * duration / sample count / worker timeout, and — on a real listening server, where sockets
 * matter — the keep-alive connection after an early answer and the event loop while a 30 MB
 * activity batch is ingested.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import http from 'node:http';
import net from 'node:net';
import { Worker } from 'node:worker_threads';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { DateTime } from 'luxon';
import { encodeWav16 } from '../../src/signal/wav.js';
import { participantSchedule, promptsBetween } from '../../src/server/services/schedule.js';
import { ScheduleSchema } from '../../src/data/study.js';
import { DEFAULT_LIMITS, IngestLimiter, limitsFromFlags } from '../../src/server/http/limits.js';
import { tooLong } from '../../src/server/jobs/speech-limits.js';
import { activityRowChunks, parseActivity } from '../../src/server/http/ingest/activity-body.js';
import { columnContext } from '../../src/server/storage/data-key.js';
import { BACKENDS, reportBody, setupStudy, startHarness, type Harness } from './helpers.js';

const iso = (ms: number) => new Date(ms).toISOString();
const tone = (seconds: number, rate = 16000) => {
  const x = new Float32Array(Math.round(seconds * rate));
  for (let i = 0; i < x.length; i++) x[i] = 0.3 * Math.sin((2 * Math.PI * 220 * i) / rate);
  return Buffer.from(encodeWav16(x, rate));
};

describe('study configuration bounds', () => {
  let h: Harness;
  let admin: string;
  beforeAll(async () => { h = await startHarness('sqlite'); admin = await h.login('admin@example.org', 'correct horse battery'); });
  afterAll(async () => { await h?.close(); });

  it.each([
    ['schedule days', { schedule: { days: 300_000 } }, 'body.config.schedule.days'],
    ['times per day', { schedule: { times: Array.from({ length: 49 }, (_, i) => `${String(Math.floor(i / 3) % 24).padStart(2, '0')}:${String((i % 3) * 15).padStart(2, '0')}`) } }, 'body.config.schedule.times'],
    ['window length', { window: { epochs: 1_000_000 } }, 'body.config.window.epochs'],
    ['item count', { items: Array.from({ length: 201 }, (_, i) => ({ id: `i${i}`, min: 0, max: 1 })) }, 'body.config.items'],
    ['item id length', { items: [{ id: 'x'.repeat(65), min: 0, max: 1 }] }, 'body.config.items.0.id'],
    ['study name length', { name: 'n'.repeat(201) }, 'body.config.name'],
    ['channel count', { activity: { channels: Array.from({ length: 33 }, (_, i) => `c${i}`) } }, 'body.config.activity.channels'],
  ])('refuses a study beyond the bound on %s, naming the field', async (_what, extra, field) => {
    const r = await h.req('POST', '/studies', { token: admin, body: { config: { name: 'bounded', ...extra } } });
    expect(r.status).toBe(400);
    expect(r.json.issues.map((i: { field: string }) => i.field)).toContain(field);
    expect(r.json.message).not.toContain('\n');
  });

  it('refuses a participant with too many covariates', async () => {
    const s = await setupStudy(h, { name: 'cov', timezone: 'UTC' });
    const covariates = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`c${i}`, i]));
    const r = await h.req('POST', `/studies/${s.studyId}/participants`, { token: s.researcher, body: { participantId: 'C1', covariates } });
    expect(r.status).toBe(400);
    expect(r.json.message).toMatch(/covariates/);
  });
});

describe('schedule: only the days asked for are computed', () => {
  const zone = 'Europe/Berlin';
  const schedule = ScheduleSchema.parse({ days: 40, times: ['00:30', '02:30', '11:00', '23:50'], jitterMinutes: 120 });
  const enrolled = DateTime.fromISO('2026-03-10T09:13:00', { zone }).toMillis(); // the study spans the spring-forward night

  it('promptsBetween equals the full schedule cut to the range, across daylight saving', () => {
    const all = participantSchedule(schedule, zone, 7, enrolled);
    for (let t = enrolled - 86_400_000; t < all.at(-1)!.timeMs + 2 * 86_400_000; t += 97 * 60_000) {
      const want = all.filter((p) => p.timeMs > t - 30 * 60_000 && p.timeMs <= t).map((p) => p.time);
      expect(promptsBetween(schedule, zone, 7, enrolled, t - 30 * 60_000, t).map((p) => p.time)).toEqual(want);
    }
    // A wide range and a page of days give the same prompts as the whole schedule.
    expect(promptsBetween(schedule, zone, 7, enrolled, enrolled - 1, all.at(-1)!.timeMs).length).toBe(all.length);
    const paged = [...participantSchedule(schedule, zone, 7, enrolled, 0, 17), ...participantSchedule(schedule, zone, 7, enrolled, 17, 40)];
    expect(paged.map((p) => p.time)).toEqual(all.map((p) => p.time));
  });

  it('GET /me/schedule of a 10-year study answers one page of at most schedulePagePrompts prompts, fast, and pages to the end', async () => {
    const h = await startHarness('sqlite');
    try {
      const s = await setupStudy(h, { name: 'long', timezone: 'UTC', schedule: { days: 3660, times: ['08:00', '12:00', '16:00', '20:00'] } });
      const tok = await s.enrol('L1');
      const t0 = performance.now();
      const first = await h.req('GET', '/me/schedule', { token: tok });
      const ms = performance.now() - t0;
      expect(first.status).toBe(200);
      expect(first.json.prompts.length).toBeLessThanOrEqual(DEFAULT_LIMITS.schedulePagePrompts);
      expect(first.json).toMatchObject({ fromDay: 0, toDay: 250, nextFromDay: 250, days: 3660 });
      expect(ms).toBeLessThan(2000); // the whole 14,640-prompt schedule took seconds
      const last = await h.req('GET', '/me/schedule?fromDay=3600', { token: tok });
      expect(last.json).toMatchObject({ fromDay: 3600, toDay: 3660, nextFromDay: null });
      expect(last.json.prompts.at(-1).day).toBe(3659);
      const some = await h.req('GET', '/me/schedule?fromDay=10&days=2', { token: tok });
      expect(some.json.prompts.map((p: { day: number }) => p.day)).toEqual([10, 10, 10, 10, 11, 11, 11, 11]);
      expect((await h.req('GET', '/me/schedule?fromDay=-1', { token: tok })).status).toBe(400);
      const researcher = await h.req('GET', `/studies/${s.studyId}/participants/L1/schedule?fromDay=250`, { token: s.researcher });
      expect(researcher.json).toMatchObject({ fromDay: 250, toDay: 500, nextFromDay: 500 });
    } finally { await h.close(); }
  });
});

describe('per-participant ingest rate limit', () => {
  it.each(BACKENDS.filter((b) => !b.skip).map((b) => b.name))('answers 429 with Retry-After past the rate, per participant, on every ingest route (%s)', async (name) => {
    const h = await startHarness(name, { limits: { ingestRatePerMinute: 3 } });
    try {
      const s = await setupStudy(h, { name: 'rate', timezone: 'UTC', activity: { channels: ['zcm'] } });
      const a = await s.enrol('A1'), b = await s.enrol('B1');
      const now = Date.now();
      const post = (tok: string, i: number) => h.req('POST', '/me/reports', { token: tok, body: reportBody(`r${i}`, iso(now - 60_000 + i)) });
      expect([(await post(a, 0)).status, (await post(a, 1)).status, (await post(a, 2)).status]).toEqual([201, 201, 201]);
      const r = await h.server.app.inject({ method: 'POST', url: '/me/reports', headers: { authorization: `Bearer ${a}` }, payload: reportBody('r3', iso(now)) });
      expect(r.statusCode).toBe(429);
      expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(Number(r.headers['retry-after'])).toBeLessThanOrEqual(20);
      expect(r.json().message).toMatch(/at most 3 a minute; retry after \d+ s/);
      // The other ingest routes share the budget; another participant has their own.
      expect((await h.req('POST', '/me/activity', { token: a, body: { start: iso(now - 3_600_000), values: { zcm: [1] } } })).status).toBe(429);
      expect((await h.req('PUT', '/me/reports/r0/speech', { token: a, payload: tone(0.5), headers: { 'content-type': 'audio/wav' } })).status).toBe(429);
      expect((await post(b, 0)).status).toBe(201);
      expect((await h.req('POST', '/me/activity', { token: b, body: { start: iso(now - 3_600_000), values: { zcm: [1] } } })).status).toBe(200);
    } finally { await h.close(); }
  });

  it('refills continuously', () => {
    let t = 0;
    const l = new IngestLimiter(60, () => t);
    for (let i = 0; i < 60; i++) l.take('p');
    expect(() => l.take('p')).toThrow(/retry after 1 s/);
    t += 1000;
    expect(() => l.take('p')).not.toThrow();
    expect(() => l.take('p')).toThrow();
  });

  it('serve flags are checked, naming the flag', () => {
    expect(limitsFromFlags({ 'ingest-rate-limit': '30', 'speech-max-seconds': '120' })).toEqual({ ingestRatePerMinute: 30, speechMaxSeconds: 120 });
    expect(() => limitsFromFlags({ 'ingest-rate-limit': '0' })).toThrow(/^--ingest-rate-limit: .*\(got "0"\)$/);
    expect(() => limitsFromFlags({ 'activity-body-limit': 'lots' })).toThrow(/^--activity-body-limit: /);
  });
});

describe('activity batches', () => {
  it('give the same rows parsed here and on the worker (UTF-8 bytes), a write at a time', () => {
    const values = { a: [1, null, 2.5, null, 1e-7], b: [null, null, 3, null, -4] };
    const p = parseActivity({ text: JSON.stringify({ start: '2020-01-01T00:00:00Z', values }), channels: ['a', 'b'], epochSeconds: 30 });
    if (!p.ok) throw new Error(p.message);
    const want = [{ t_ms: Date.parse('2020-01-01T00:00:00Z'), vals: '[1,null]' }, { t_ms: Date.parse('2020-01-01T00:01:00Z'), vals: '[2.5,3]' }, { t_ms: Date.parse('2020-01-01T00:02:00Z'), vals: '[1e-7,-4]' }];
    expect([...activityRowChunks(p, 2)]).toEqual([want.slice(0, 2), want.slice(2)]);
    expect([...activityRowChunks({ ...p, vals: new TextEncoder().encode(p.vals as string) }, 2)]).toEqual([want.slice(0, 2), want.slice(2)]);
    expect(parseActivity({ text: '{"start": 1', channels: ['a'], epochSeconds: 60 })).toMatchObject({ ok: false, field: 'body' });
    expect(parseActivity({ text: JSON.stringify({ start: '2020-01-01T00:00:00Z', values: { a: [1, '2'] } }), channels: ['a'], epochSeconds: 60 })).toMatchObject({ ok: false, field: 'body.values.a.1' });
  });
});

describe('body sizes and speech limits', () => {
  let h: Harness;
  let s: Awaited<ReturnType<typeof setupStudy>>;
  let tok: string;
  beforeAll(async () => {
    h = await startHarness('sqlite', { limits: { speechMaxSeconds: 30, speechTimeoutS: 0.001 } });
    s = await setupStudy(h, { name: 'sizes', timezone: 'UTC' });
    tok = await s.enrol('S1');
  });
  afterAll(async () => { await h?.close(); });

  it('a report body over the report limit answers 413', async () => {
    const body = reportBody('big', iso(Date.now() - 1000), 50, { itemOrder: Array.from({ length: 700 }, (_, i) => `item_${i}_${'x'.repeat(90)}`) });
    const r = await h.req('POST', '/me/reports', { token: tok, body });
    expect(JSON.stringify(body).length).toBeGreaterThan(DEFAULT_LIMITS.reportBodyBytes);
    expect(r.status).toBe(413);
    expect(r.json.message).toMatch(/^body: /);
  });

  it('a recording longer than the limit (a long low-rate WAV) is refused before it is stored or analysed', async () => {
    expect((await h.req('POST', '/me/reports', { token: tok, body: reportBody('long', iso(Date.now() - 1000)) })).status).toBe(201);
    const wav = tone(700, 1000); // 1.4 MB: 700 s at 1 kHz
    const r = await h.req('PUT', '/me/reports/long/speech', { token: tok, payload: wav, headers: { 'content-type': 'audio/wav' } });
    expect(r.status).toBe(413);
    expect(r.json.message).toBe("body: recording of 700 s is longer than this server's limit of 30 s");
    expect(await h.server.store.speechOf((await h.server.store.reportByClientId((await h.server.store.participant(s.studyId, 'S1'))!.id, 'long'))!.id)).toBeFalsy();
  });

  it('the worker rejects an over-long recording from its header, and stops an analysis past the timeout', async () => {
    expect(tooLong(tone(3, 8000), 2, 1e9)).toMatch(/recording of 3 s is longer than the limit of 2 s/);
    expect(tooLong(tone(3, 8000), 10, 20_000)).toMatch(/24000 samples has more than the limit of 20000/);
    expect(tooLong(tone(3, 8000), 10, 1e9)).toBeNull();
    // speechTimeoutS is 1 ms here: the analysis is stopped, noted as rejected ("timeout"), and the next one gets a fresh worker.
    for (const id of ['t1', 't2']) {
      expect((await h.req('POST', '/me/reports', { token: tok, body: reportBody(id, iso(Date.now() - 1000)) })).status).toBe(201);
      expect((await h.req('PUT', `/me/reports/${id}/speech`, { token: tok, payload: tone(2), headers: { 'content-type': 'audio/wav' } })).status).toBe(201);
    }
    await h.server.speech.idle();
    expect(h.server.speech.status()).toMatchObject({ rejected: 2, done: 0, failed: 0 });
    const notes = await h.server.store.db.selectFrom('web_speech_failures' as never).selectAll().execute() as { report_id: string; detail: string }[];
    const details = notes.map((n) => h.server.store.keys.openValue(n.detail, columnContext('web_speech_failures', 'detail', n.report_id)));
    expect(details).toEqual([expect.stringMatching(/^server: timeout: analysis took longer than 0.001 s/), expect.stringMatching(/^server: timeout: /)]);
  });
});

/** Send raw bytes on one connection; collect what comes back. */
function rawConnection(port: number) {
  const sock = net.connect(port, '127.0.0.1');
  let got = '';
  let closed = false;
  sock.on('data', (d) => { got += d.toString('latin1'); });
  sock.on('close', () => { closed = true; });
  sock.on('error', () => {});
  const until = async (cond: () => boolean, ms: number) => { const t0 = Date.now(); while (!cond() && Date.now() - t0 < ms) await new Promise((r) => setTimeout(r, 20)); return cond(); };
  return {
    sock, until, get got() { return got; }, get closed() { return closed; },
    answers: () => (got.match(/HTTP\/1\.1 \d{3}/g) ?? []).length,
    write: (b: string | Buffer) => { if (!closed) sock.write(b); },
  };
}

for (const backend of BACKENDS) describe.skipIf(backend.skip)(`on a real listening server (${backend.name})`, () => {
  let h: Harness;
  let port: number;
  let base: string;
  let tok: string;
  let studyId: string;
  const channels = ['c0', 'c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7'];
  beforeAll(async () => {
    h = await startHarness(backend.name);
    const s = await setupStudy(h, { name: 'sockets', timezone: 'UTC', activity: { channels } });
    studyId = s.studyId;
    tok = await s.enrol('K1');
    expect((await h.req('POST', '/me/reports', { token: tok, body: reportBody('r1', iso(Date.now() - 1000)) })).status).toBe(201);
    base = await h.server.app.listen({ port: 0, host: '127.0.0.1' });
    port = Number(new URL(base).port);
  });
  afterAll(async () => { await h?.close(); });

  const auth = () => `Authorization: Bearer ${tok}\r\nHost: x\r\n`;
  const MiB = Buffer.alloc(1024 * 1024, 32);
  const chunk = (b: Buffer) => Buffer.concat([Buffer.from(b.length.toString(16) + '\r\n'), b, Buffer.from('\r\n')]);

  it.each([
    ['speech declared over the limit, 1 MiB sent', 'PUT /me/reports/r1/speech', 'Content-Type: audio/wav\r\nContent-Length: 41943040', [MiB], ''],
    ['speech streamed past the limit, chunked body ended early', 'PUT /me/reports/r1/speech', 'Content-Type: audio/wav\r\nTransfer-Encoding: chunked', Array(21).fill(chunk(MiB)), '0\r\n\r\n'],
    ['speech for an unknown report, 1 MiB of 2 sent', 'PUT /me/reports/nope/speech', 'Content-Type: audio/wav\r\nContent-Length: 2097152', [MiB], ''],
  ])('an early answer (%s) closes the connection instead of leaving the next request unanswered', async (_name, line, headers, body, tail) => {
    const c = rawConnection(port);
    c.write(`${line} HTTP/1.1\r\n${auth()}${headers}\r\n\r\n`);
    for (const b of body as Buffer[]) { c.write(b); await new Promise((r) => setTimeout(r, 5)); }
    expect(await c.until(() => c.answers() >= 1, 10_000)).toBe(true);
    expect(c.got).toMatch(/^HTTP\/1\.1 4\d\d/);
    c.write(`${tail}GET /health HTTP/1.1\r\nHost: x\r\n\r\n`);
    // The old code kept the connection open and took the next request for the rest of the body: no answer, ever.
    expect(await c.until(() => c.closed || c.answers() >= 2, 8000)).toBe(true);
    expect(c.got).toMatch(/\r\nconnection: close\r\n/i);
    expect(c.closed).toBe(true);
    c.sock.destroy();
  });

  it('a keep-alive client (node:http Agent) gets the early 413, and its next requests are answered', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const send = (method: string, path: string, headers: Record<string, string | number>, chunks: Buffer[] = []) => new Promise<{ status: number; headers: http.IncomingHttpHeaders }>((resolve, reject) => {
      const q = http.request({ host: '127.0.0.1', port, path, method, headers, agent }, (res) => { res.resume(); res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers })); });
      q.on('error', reject);
      q.setTimeout(8000, () => q.destroy(new Error('no answer within 8 s')));
      for (const c of chunks) q.write(c);
      q.end();
    });
    // A 25 MiB streamed upload over the 20 MiB limit: the 413 comes part-way through the body.
    const first = await send('PUT', '/me/reports/r1/speech', { authorization: `Bearer ${tok}`, 'content-type': 'audio/wav' }, Array(25).fill(MiB));
    expect(first.status).toBe(413);
    expect(first.headers.connection).toBe('close');
    // The old code stopped reading the rest of the body: the agent's socket stayed busy and this request never got an answer.
    const next = await send('PUT', '/me/reports/nope/speech', { authorization: `Bearer ${tok}`, 'content-type': 'audio/wav', 'content-length': MiB.length }, [MiB]);
    expect(next.status).toBe(404);
    expect((await send('GET', '/health', {})).status).toBe(200);
    expect((await send('GET', '/me', { authorization: `Bearer ${tok}` })).status).toBe(200);
    agent.destroy();
  });

  it('a 29 MB activity batch never blocks the event loop for long', async () => {
    // The client runs on its own thread: only the server's work shows in this thread's loop delay.
    const client = new Worker(`
      const { parentPort, workerData } = require('node:worker_threads');
      const n = 200000;
      const col = Array.from({ length: n }, (_, k) => ((k * 13) % 400) + 0.123456789012);
      const body = Buffer.from(JSON.stringify({ start: '2020-01-01T00:00:00Z', values: Object.fromEntries(workerData.channels.map((c, i) => [c, col.map((v) => v * (i + 1.1))])) }));
      parentPort.postMessage({ ready: body.length });
      parentPort.once('message', async () => {
        const r = await fetch(workerData.base + '/me/activity', { method: 'POST', headers: { authorization: 'Bearer ' + workerData.tok, 'content-type': 'application/json' }, body });
        parentPort.postMessage({ status: r.status, json: await r.json() });
      });`, { eval: true, workerData: { base, tok, channels } });
    try {
      const bytes = await new Promise<number>((r) => client.once('message', (m) => r(m.ready)));
      expect(bytes).toBeGreaterThan(27 * 1024 * 1024); // 29 MB: 8 channels × 200,000 epochs
      const hist = monitorEventLoopDelay({ resolution: 10 });
      hist.enable();
      client.postMessage('go');
      const res = await new Promise<{ status: number; json: { stored: number } }>((r) => client.once('message', r));
      hist.disable();
      expect(res.status).toBe(200);
      expect(res.json.stored).toBe(200_000);
      // Stored as sent (the rows came back from the worker thread as UTF-8 bytes).
      const pid = (await h.server.store.participant(studyId, 'K1'))!.id;
      const t0 = Date.parse('2020-01-01T00:00:00Z');
      const rows = await h.server.store.activityBetween(pid, t0 + 199_998 * 60_000, t0 + 200_000 * 60_000);
      const col = (k: number) => ((k * 13) % 400) + 0.123456789012;
      expect(rows.map((r) => r.vals)).toEqual([199_998, 199_999].map((k) => channels.map((_, i) => col(k) * (i + 1.1))));
      // Goal 100 ms (measured 60–135 ms at load average 8–20 on 2 cores, where merely reading the
      // socket shows 100 ms gaps; ~30 ms when quiet). The bound leaves room for such a machine;
      // the old code blocked 0.5 s here on a quiet machine and 4.7–7.7 s at load average 10–20.
      expect(hist.max / 1e6).toBeLessThan(400);
    } finally { await client.terminate(); }
  });
});
