/**
 * Web Push reminders, server side, for real: a participant subscribes with a P-256 key pair and
 * auth secret made here (as a browser's PushManager would) whose endpoint is a local HTTP server
 * standing in for the push service. The scheduler's pass at a prompt time sends one push, which
 * this test decrypts itself with node:crypto (RFC 8291 aes128gcm — not with the library that
 * encrypted it) and whose VAPID JWT it verifies (RFC 8292); a second pass and a restart of the
 * server send nothing twice, a prompt that fell due while the server was down is reminded on
 * start, the VAPID key survives the restart, and a 410 from the push service drops the
 * subscription. On SQLite and PostgreSQL.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { DateTime } from 'luxon';
import { createServer, type Server as HttpServer } from 'node:http';
import { createECDH, createDecipheriv, createPublicKey, hkdfSync, randomBytes, verify } from 'node:crypto';
import { buildServer, type Server } from '../../src/server/server.js';
import { ADMIN, BACKENDS, makeBackend, setupStudy, type Harness } from './helpers.js';

interface Received { path: string; headers: Record<string, string | string[] | undefined>; body: Buffer }

/** RFC 8291 §3.4 / RFC 8188: decrypt one aes128gcm Web Push message for the receiver's keys. */
function decryptWebPush(body: Buffer, receiver: ReturnType<typeof createECDH>, authSecret: Buffer): string {
  const salt = body.subarray(0, 16);
  const rs = body.readUInt32BE(16);
  const idlen = body[20];
  const senderPublic = body.subarray(21, 21 + idlen);
  const ciphertext = body.subarray(21 + idlen);
  expect(idlen).toBe(65);
  expect(ciphertext.length).toBeLessThanOrEqual(rs); // one record
  const ecdhSecret = receiver.computeSecret(senderPublic);
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), receiver.getPublicKey(), senderPublic]);
  const ikm = Buffer.from(hkdfSync('sha256', ecdhSecret, authSecret, keyInfo, 32));
  const cek = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16));
  const nonce = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12));
  const d = createDecipheriv('aes-128-gcm', cek, nonce);
  d.setAuthTag(ciphertext.subarray(ciphertext.length - 16));
  const plain = Buffer.concat([d.update(ciphertext.subarray(0, ciphertext.length - 16)), d.final()]);
  let end = plain.length - 1;
  while (end >= 0 && plain[end] === 0) end--; // padding
  expect(plain[end]).toBe(2); // delimiter of the last record
  return plain.subarray(0, end).toString('utf8');
}

/** RFC 8292: `vapid t=<JWT>, k=<public key>`; checks the ES256 signature with k; returns the claims. */
function verifyVapid(header: string, expectKey: string): { aud: string; sub: string; exp: number } {
  const m = /^vapid t=([^,]+),\s*k=(.+)$/.exec(header);
  expect(m, header).toBeTruthy();
  const [, jwt, k] = m!;
  expect(k).toBe(expectKey);
  const [h, p, s] = jwt.split('.');
  expect(JSON.parse(Buffer.from(h, 'base64url').toString())).toMatchObject({ typ: 'JWT', alg: 'ES256' });
  const raw = Buffer.from(k, 'base64url');
  const key = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: raw.subarray(1, 33).toString('base64url'), y: raw.subarray(33, 65).toString('base64url') }, format: 'jwk' });
  expect(verify('sha256', Buffer.from(`${h}.${p}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url'))).toBe(true);
  return JSON.parse(Buffer.from(p, 'base64url').toString());
}

describe.each(BACKENDS)('Web Push reminders ($name)', ({ name, skip }) => {
  let push: HttpServer, pushBase = '';
  const received: Received[] = [];
  let answer = 201;
  const saved: Record<string, string | undefined> = {};

  beforeAll(async () => {
    for (const k of ['MOODLENS_PUSH_TICK_S', 'MOODLENS_PUSH_ALLOW_HTTP', 'MOODLENS_PUSH_GRACE_MIN']) saved[k] = process.env[k];
    process.env.MOODLENS_PUSH_TICK_S = '0'; // the test drives the scheduler's passes itself
    process.env.MOODLENS_PUSH_ALLOW_HTTP = '1'; // the stand-in push service is plain HTTP on loopback
    process.env.MOODLENS_PUSH_GRACE_MIN = '30';
    push = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => { received.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) }); res.writeHead(answer).end(); });
    });
    await new Promise<void>((r) => push.listen(0, '127.0.0.1', () => r()));
    pushBase = `http://127.0.0.1:${(push.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => push.close(r));
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  });

  it.skipIf(skip)('sends one encrypted reminder per prompt, once, across a restart', async () => {
    const backend = await makeBackend(name);
    let clock = Date.now();
    const start = () => buildServer({ db: backend.url, dataDir: backend.dataDir, admin: ADMIN, alertDebounceMs: 0, authRateLimit: 1000, now: () => clock });
    let server: Server = await start();
    const req = async (method: string, url: string, token?: string, body?: unknown) => {
      const r = await server.app.inject({ method: method as any, url, headers: token ? { authorization: `Bearer ${token}` } : {}, ...(body !== undefined ? { payload: body as any } : {}) });
      return { status: r.statusCode, json: (() => { try { return r.json(); } catch { return undefined; } })(), body: r.body };
    };
    try {
      const h = { server, backend, req: (m: string, u: string, o: { token?: string; body?: unknown } = {}) => req(m, u, o.token, o.body), login: async (e: string, p: string) => (await req('POST', '/auth/login', undefined, { email: e, password: p })).json.token } as unknown as Harness;
      const s = await setupStudy(h, { name: 'push study', timezone: 'Europe/Berlin' });
      const device = await s.enrol('P1');

      // The browser side: a P-256 key pair and a 16-byte auth secret.
      const ua = createECDH('prime256v1'); ua.generateKeys();
      const auth = randomBytes(16);
      const sub = { endpoint: `${pushBase}/push/P1-device`, expirationTime: null, keys: { p256dh: ua.getPublicKey().toString('base64url'), auth: auth.toString('base64url') } };

      const key = await req('GET', '/me/push/key', device);
      expect(key.status).toBe(200);
      expect(Buffer.from(key.json.publicKey, 'base64url')).toHaveLength(65);
      expect((await req('GET', '/me/push/key', s.researcher)).status).toBe(401); // participants only
      expect((await req('PUT', '/me/push/subscription', device, sub)).status).toBe(201);
      const again = await req('PUT', '/me/push/subscription', device, sub);
      expect(again.status).toBe(200);
      expect(again.json.created).toBe(false);
      const bad = await req('PUT', '/me/push/subscription', device, { ...sub, keys: { ...sub.keys, auth: 'abc' } });
      expect(bad.status).toBe(400);
      expect(bad.json.message).toMatch(/body\.keys\.auth/);
      expect((await req('PUT', '/me/push/subscription', device, { ...sub, endpoint: 'ftp://example.org/x' })).status).toBe(400);

      const prompts = (await req('GET', `/studies/${s.studyId}/participants/P1/schedule`, s.researcher)).json.prompts as { time: string }[];
      expect(prompts.length).toBeGreaterThan(5);
      const t0 = Date.parse(prompts[0].time), t1 = Date.parse(prompts[1].time);

      // Before the first prompt: nothing is due.
      clock = t0 - 60_000;
      expect(await server.push.tick()).toEqual({ due: 0, claimed: 0, delivered: 0, failed: 0 });
      expect(received).toHaveLength(0);

      // One minute after it: one push, naming the prompt.
      clock = t0 + 60_000;
      expect(await server.push.tick()).toMatchObject({ claimed: 1, delivered: 1 });
      expect(received).toHaveLength(1);
      const m = received[0];
      expect(m.path).toBe('/push/P1-device');
      expect(m.headers['content-encoding']).toBe('aes128gcm');
      expect(Number(m.headers.ttl)).toBeGreaterThan(0);
      const claims = verifyVapid(String(m.headers.authorization), key.json.publicKey);
      expect(claims.aud).toBe(pushBase);
      expect(claims.sub).toBe(`mailto:${ADMIN.email}`);
      const payload = JSON.parse(decryptWebPush(m.body, ua, auth));
      expect(payload).toMatchObject({ type: 'prompt', title: 'push study', promptTime: prompts[0].time, url: `/app/?prompt=${encodeURIComponent(prompts[0].time)}` });

      // A second pass sends nothing again.
      expect(await server.push.tick()).toMatchObject({ due: 1, claimed: 0 });
      expect(received).toHaveLength(1);

      // Restart while the second prompt falls due: on start the scheduler catches up, once.
      await server.close();
      clock = t1 + 5 * 60_000;
      server = await start();
      expect((await req('GET', '/me/push/key', device)).json.publicKey).toBe(key.json.publicKey); // same VAPID key
      expect(await server.push.tick()).toMatchObject({ claimed: 1, delivered: 1 });
      expect(await server.push.tick()).toMatchObject({ claimed: 0 });
      expect(received).toHaveLength(2);
      expect(JSON.parse(decryptWebPush(received[1].body, ua, auth)).promptTime).toBe(prompts[1].time);

      // A prompt the participant already answered gets no reminder.
      clock = Date.parse(prompts[2].time) - 4 * 60_000;
      const ans = await req('POST', '/me/reports', device, { id: 'r-early', time: new Date(Date.parse(prompts[2].time) - 5 * 60_000).toISOString(), trigger: 'scheduled', answers: { happy: 50 }, itemOrder: ['happy'], promptTime: prompts[2].time });
      expect(ans.status, ans.body).toBe(201);
      clock = Date.parse(prompts[2].time) + 60_000;
      expect(await server.push.tick()).toMatchObject({ due: 1, claimed: 0 });
      expect(received).toHaveLength(2);

      // Past the grace window a missed prompt is not reminded (the reminder would be stale).
      clock = Date.parse(prompts[3].time) + 31 * 60_000;
      expect(await server.push.tick()).toMatchObject({ due: 0, claimed: 0 });

      // The push service says the subscription is gone (410): it is removed.
      answer = 410;
      clock = Date.parse(prompts[4].time) + 60_000;
      expect(await server.push.tick()).toMatchObject({ claimed: 1, delivered: 0, failed: 1 });
      expect(received).toHaveLength(3);
      expect(await server.store.subscriptionsOf((await server.store.participant(s.studyId, 'P1'))!.id)).toHaveLength(0);

      // Subscribing was audited; withdrawal removes the participant's subscriptions.
      answer = 201;
      expect((await req('PUT', '/me/push/subscription', device, sub)).status).toBe(201);
      const audit = (await req('GET', `/studies/${s.studyId}/audit`, s.researcher)).json as { resource: string }[];
      expect(audit.filter((a) => a.resource === 'push_subscription').length).toBeGreaterThanOrEqual(2);
      const withdrawn = await req('DELETE', `/studies/${s.studyId}/participants/P1`, s.researcher);
      expect(withdrawn.status).toBe(200);
      // Deleted in the withdrawal's own transaction and counted in what it says it deleted.
      expect(withdrawn.json).toMatchObject({ pushSubscriptions: 1 });
      expect(withdrawn.json.reminders).toBeGreaterThanOrEqual(3);
      clock = Date.parse(prompts[5].time) + 60_000;
      expect(await server.push.tick()).toMatchObject({ claimed: 0 });
      expect(await server.store.subscriptionsOf((await server.store.participant(s.studyId, 'P1'))!.id)).toHaveLength(0);
      expect(received).toHaveLength(3);
    } finally {
      await server.close();
      await backend.cleanup();
    }
  }, 60_000);

  it.skipIf(skip)('reminds each open prompt of every instrument once: prompts at one instant share a reminder, an expired one gets none, an answered one none', async () => {
    const backend = await makeBackend(name);
    const zone = 'Europe/Berlin';
    const at = (iso: string) => DateTime.fromISO(iso, { zone }).toMillis();
    let clock = at('2026-03-23T08:00');
    const server: Server = await buildServer({ db: backend.url, dataDir: backend.dataDir, admin: ADMIN, alertDebounceMs: 0, authRateLimit: 1000, now: () => clock });
    const req = async (method: string, url: string, token?: string, body?: unknown) => {
      const r = await server.app.inject({ method: method as any, url, headers: token ? { authorization: `Bearer ${token}` } : {}, ...(body !== undefined ? { payload: body as any } : {}) });
      return { status: r.statusCode, json: (() => { try { return r.json(); } catch { return undefined; } })(), body: r.body };
    };
    const before = received.length;
    try {
      const h = { server, backend, req: (m: string, u: string, o: { token?: string; body?: unknown } = {}) => req(m, u, o.token, o.body), login: async (e: string, p: string) => (await req('POST', '/auth/login', undefined, { email: e, password: p })).json.token } as unknown as Harness;
      const s = await setupStudy(h, { name: 'design push', timezone: zone,
        schedule: { times: ['11:00'], jitterMinutes: 0, expiryMinutes: 10, days: 3 },
        instruments: [
          { id: 'phq9', builtin: 'phq9', schedule: { times: ['11:00', '12:00'], jitterMinutes: 0, expiryMinutes: 5, days: 3 } },
          { id: 'gad7', builtin: 'gad7', schedule: { times: ['11:20'], jitterMinutes: 0, expiryMinutes: 5, days: 3 } },
        ] });
      const device = await s.enrol('P1');
      const ua = createECDH('prime256v1'); ua.generateKeys();
      const auth = randomBytes(16);
      expect((await req('PUT', '/me/push/subscription', device, { endpoint: `${pushBase}/push/design`, expirationTime: null, keys: { p256dh: ua.getPublicKey().toString('base64url'), auth: auth.toString('base64url') } })).status).toBe(201);
      const last = () => JSON.parse(decryptWebPush(received.at(-1)!.body, ua, auth));

      // 11:01: the main items and the PHQ-9 are both due at 11:00: one reminder naming both
      clock = at('2026-03-23T11:01');
      expect(await server.push.tick()).toMatchObject({ due: 1, claimed: 1, delivered: 1 });
      expect(last()).toMatchObject({ promptTime: '2026-03-23T11:00:00+01:00', promptIds: ['ema:0:0', 'phq9:0:0'] });
      expect(await server.push.tick()).toMatchObject({ claimed: 0 });
      // 11:21: the GAD-7 (11:00's prompts are in the grace window but expired: not counted)
      clock = at('2026-03-23T11:21');
      expect(await server.push.tick()).toMatchObject({ due: 1, claimed: 1 });
      expect(last()).toMatchObject({ promptIds: ['gad7:0:0'] });
      // 12:06: the 12:00 PHQ-9 prompt expired at 12:05: no reminder, though within the grace window
      clock = at('2026-03-23T12:06');
      expect(await server.push.tick()).toMatchObject({ due: 0, claimed: 0 });
      // the next day: the PHQ-9 of 12:00 answered (by its id) before the scheduler's pass gets no reminder
      clock = at('2026-03-24T12:01');
      const ans = await req('POST', '/me/reports', device, { id: 'q', time: '2026-03-24T12:00:30+01:00', trigger: 'scheduled', instrument: 'phq9', promptId: 'phq9:1:1',
        answers: Object.fromEntries(Array.from({ length: 9 }, (_, k) => [`phq9_${k + 1}`, 1])), itemOrder: Array.from({ length: 9 }, (_, k) => `phq9_${k + 1}`) });
      expect(ans.status, ans.body).toBe(201);
      expect(ans.json).toMatchObject({ scores: { phq9_total: 9 }, band: 'mild' });
      clock = at('2026-03-24T12:02');
      expect(await server.push.tick()).toMatchObject({ due: 1, claimed: 0 });
      expect(received.length - before).toBe(2);
    } finally {
      await server.close();
      await backend.cleanup();
    }
  }, 60_000);
});
