/**
 * Encryption at rest (docs/security.md) through the running server, on SQLite and PostgreSQL:
 * nothing a participant gave (recording, note, covariate, push keys) is readable in the data
 * folder or the sealed columns; files 0600 and folders 0700 under a umask of 0; a wrong or missing
 * data key stops the start with a clear error; a tampered value is an error; `rotate-key` while
 * the server runs, then everything read back under the new key; plaintext from an older version
 * sealed at start.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readdirSync, readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createECDH, randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { encodeWav16 } from '../../src/signal/wav.js';
import { buildServer, type ServerOptions } from '../../src/server/server.js';
import { openDatabase } from '../../src/server/storage/connect.js';
import { DecryptError, FILE_HEADER_BYTES, fileKeyId, keyIdOf, parseKey, valueKeyId } from '../../src/server/storage/crypto.js';
import { SEALED_COLUMNS, createKeyFile, defaultKeyFile, rotateDataKey } from '../../src/server/storage/data-key.js';
import { openFile } from '../../src/server/storage/sealed-files.js';
import { ADMIN, BACKENDS, exportAndWait, makeBackend, reportBody, restartHarness, setupStudy, startHarness, untar, type Harness } from './helpers.js';

function tone(seconds: number, rate = 16000): Buffer {
  const x = new Float32Array(Math.round(seconds * rate));
  for (let i = 0; i < x.length; i++) x[i] = 0.3 * Math.sin((2 * Math.PI * 220 * i) / rate);
  return Buffer.from(encodeWav16(x, rate));
}
const iso = (ms: number) => new Date(ms).toISOString();
const quiet = { keyLog: () => {}, keyPollMs: 50 } satisfies Partial<ServerOptions>;

function walk(dir: string): { files: string[]; dirs: string[] } {
  const out = { files: [] as string[], dirs: [dir] };
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) { const w = walk(p); out.files.push(...w.files); out.dirs.push(...w.dirs); } else if (e.isFile()) out.files.push(p);
  }
  return out;
}

/** Every file under the data folder that holds a plain WAV header or one of the strings. */
function plaintextFindings(dataDir: string, planted: string[]): string[] {
  const found: string[] = [];
  for (const f of walk(dataDir).files) {
    const text = readFileSync(f).toString('latin1');
    if (/RIFF[\s\S]{4}WAVE/.test(text)) found.push(`${f}: WAV header`);
    for (const p of planted) if (text.includes(p)) found.push(`${f}: ${p.slice(0, 12)}…`);
  }
  return found;
}

/** Every value of the sealed columns (raw, as stored). */
async function sealedColumnValues(db: Kysely<any>): Promise<string[]> {
  const out: string[] = [];
  for (const [table, , col] of SEALED_COLUMNS) for (const r of await db.selectFrom(table).select(col).execute()) if (r[col] !== null) out.push(r[col]);
  return out;
}

/** A participant with a planted covariate, a report with a recording, one with a planted note, a push subscription; an export. */
async function plant(h: Harness) {
  const s = await setupStudy(h, { name: 'crypt study', timezone: 'Europe/Berlin' });
  const covariate = `cov-${randomBytes(8).toString('hex')}`, note = `note-${randomBytes(8).toString('hex')}`;
  const inv = await h.req('POST', `/studies/${s.studyId}/participants`, { token: s.researcher, body: { participantId: 'C01', covariates: { diagnosis: covariate, age: 41 } } });
  expect(inv.status, inv.body).toBe(201);
  const tok = (await h.req('POST', '/enrol', { body: { code: inv.json.enrolCode } })).json.token as string;
  expect((await h.req('POST', '/me/reports', { token: tok, body: reportBody('c-1', iso(Date.now() - 5000)) })).status).toBe(201);
  expect((await h.req('POST', '/me/reports', { token: tok, body: reportBody('c-2', iso(Date.now() - 4000)) })).status).toBe(201);
  const wav = tone(1.5);
  const up = await h.req('PUT', '/me/reports/c-1/speech', { token: tok, payload: wav, headers: { 'content-type': 'audio/wav' } });
  expect(up.status, up.body).toBe(201);
  const failed = await h.req('PUT', '/me/reports/c-2/speech-failure', { token: tok, body: { reason: 'microphone', detail: note } });
  expect(failed.status, failed.body).toBe(201);
  const ua = createECDH('prime256v1'); ua.generateKeys();
  const sub = { endpoint: `https://push.example.org/${randomBytes(6).toString('hex')}`, expirationTime: null, keys: { p256dh: ua.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') } };
  expect((await h.req('GET', '/me/push/key', { token: tok })).status).toBe(200);
  expect((await h.req('PUT', '/me/push/subscription', { token: tok, body: sub })).status).toBe(201);
  await h.server.speech.idle();
  await h.server.monitor.idle();
  const { job } = await exportAndWait(h, s.researcher, s.studyId, { name: 'crypt' });
  expect(job.status, job.error).toBe('done');
  const pid = (await h.server.store.participant(s.studyId, 'C01'))!.id;
  const vapid = (await h.server.store.pushKeys())!.private_key;
  return { s, tok, pid, covariate, note, wav, sub, vapid, job, planted: [covariate, note, sub.keys.auth, sub.keys.p256dh, vapid] };
}

/** Everything planted reads back through the server. */
async function readsBack(h: Harness, p: Awaited<ReturnType<typeof plant>>) {
  const list = await h.req('GET', `/studies/${p.s.studyId}/participants`, { token: p.s.researcher });
  expect(list.json.find((x: any) => x.participantId === 'C01').covariates).toEqual({ diagnosis: p.covariate, age: 41 });
  const subs = await h.server.store.subscriptionsOf(p.pid);
  expect(subs.map((x) => [x.p256dh, x.auth])).toEqual([[p.sub.keys.p256dh, p.sub.keys.auth]]);
  expect((await h.server.store.pushKeys())!.private_key).toBe(p.vapid);
  const dl = await h.server.app.inject({ method: 'GET', url: p.job.downloadUrl, headers: { authorization: `Bearer ${p.s.researcher}` } });
  expect(dl.statusCode).toBe(200);
  const tar = untar(dl.rawPayload);
  const wavs = [...tar.entries()].filter(([k]) => k.endsWith('.wav'));
  expect(wavs).toHaveLength(1);
  expect(wavs[0][1].equals(p.wav)).toBe(true);
  expect(tar.get('crypt/participants.csv')!.toString()).toContain(p.covariate);
  const noteRow = await (h.server.store.db as any).selectFrom('web_speech_failures').select(['report_id', 'detail']).where('participant_id', '=', p.pid).executeTakeFirstOrThrow();
  expect(h.server.store.keys.openValue(noteRow.detail, `web_speech_failures.detail:${noteRow.report_id}`)).toBe(p.note);
}

/** Every sealed value and file is under `keyId`. */
async function allUnder(h: Harness, keyId: string) {
  const values = await sealedColumnValues(h.server.store.db as any);
  expect(values.length).toBeGreaterThanOrEqual(5);
  for (const v of values) expect(valueKeyId(v)).toBe(keyId);
  const files = [...walk(join(h.backend.dataDir, 'speech')).files, ...walk(join(h.backend.dataDir, 'exports')).files];
  expect(files.length).toBeGreaterThan(3);
  for (const f of files) expect(fileKeyId(readFileSync(f).subarray(0, FILE_HEADER_BYTES)), f).toBe(keyId);
}

for (const b of BACKENDS) {
  describe.skipIf(b.skip)(`encryption at rest on ${b.name}`, () => {
    let umask: number;
    beforeAll(() => { umask = process.umask(0); }); // files 0600 and folders 0700 whatever the umask
    afterAll(() => { process.umask(umask); });

    it('leaves no recording, note, covariate or push key readable in the data folder; files 0600, folders 0700', async () => {
      const h = await startHarness(b.name, quiet);
      try {
        const p = await plant(h);
        await readsBack(h, p);
        expect(plaintextFindings(h.backend.dataDir, p.planted)).toEqual([]);
        for (const v of await sealedColumnValues(h.server.store.db as any)) {
          expect(v.startsWith('mle1:'), v.slice(0, 20)).toBe(true);
          for (const x of p.planted) expect(v).not.toContain(x);
        }
        const { files, dirs } = walk(h.backend.dataDir);
        expect(files.some((f) => f.endsWith('.wav'))).toBe(true);
        expect(files).toContain(defaultKeyFile(h.backend.dataDir));
        for (const f of files) expect((statSync(f).mode & 0o777).toString(8), f).toBe('600');
        for (const d of dirs) expect((statSync(d).mode & 0o777).toString(8), d).toBe('700');
      } finally { await h.close(); }
    });

    it('stops at start with a clear error for a wrong, missing or malformed key; MOODLENS_DATA_KEY works', async () => {
      const h = await startHarness(b.name, quiet);
      const backend = h.backend;
      await h.server.close();
      const start = (o: Partial<ServerOptions>) => buildServer({ db: backend.url, dataDir: backend.dataDir, admin: ADMIN, ...quiet, ...o });
      try {
        const key = parseKey(readFileSync(defaultKeyFile(backend.dataDir), 'utf8'), 'test');
        const other = join(backend.dataDir, 'other.key');
        const otherKey = await createKeyFile(other);
        await expect(start({ keyFile: other })).rejects.toThrow(`wrong data key: key file ${other} has key id ${keyIdOf(otherKey)}, but this database's data is sealed with data key ${keyIdOf(key)}`);
        await expect(start({ keyFile: join(backend.dataDir, 'nope.key') })).rejects.toThrow(/^no data key: .*nope\.key does not exist, but this database's data is sealed with data key/);
        await expect(start({ dataKey: 'not a key' })).rejects.toThrow('MOODLENS_DATA_KEY: expected a base64-encoded 32-byte key');
        await expect(start({ dataKey: randomBytes(16).toString('base64') })).rejects.toThrow('got 16 bytes');
        await expect(start({ dataKey: key.toString('base64'), keyFile: other })).rejects.toThrow(/both --key-file and MOODLENS_DATA_KEY/);
        const ok = await start({ dataKey: key.toString('base64') });
        expect((await ok.app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
        await ok.close();
      } finally { await backend.cleanup(); }
    });

    it('a tampered covariate or recording is an error, never garbage', async () => {
      const h = await startHarness(b.name, quiet);
      try {
        const s = await setupStudy(h);
        const tok = await s.enrol('T01');
        await h.req('POST', '/me/reports', { token: tok, body: reportBody('t-1', iso(Date.now() - 5000)) });
        expect((await h.req('PUT', '/me/reports/t-1/speech', { token: tok, payload: tone(0.5), headers: { 'content-type': 'audio/wav' } })).status).toBe(201);
        await h.server.speech.idle();
        const db = h.server.store.db as Kysely<any>;
        const row = await db.selectFrom('participants').select(['id', 'covariates']).where('label', '=', 'T01').executeTakeFirstOrThrow();
        const raw = Buffer.from(row.covariates.slice(5), 'base64'); raw[raw.length - 1] ^= 1;
        await db.updateTable('participants').set({ covariates: 'mle1:' + raw.toString('base64') }).where('id', '=', row.id).execute();
        await expect(h.server.store.participant(s.studyId, 'T01')).rejects.toThrow(DecryptError);
        await expect(h.server.store.participant(s.studyId, 'T01')).rejects.toThrow(`participants.covariates:${row.id}: the sealed value does not authenticate`);
        expect((await h.req('GET', `/studies/${s.studyId}/participants`, { token: s.researcher })).status).toBe(500);
        const file = join(h.backend.dataDir, (await db.selectFrom('speech').select('file').executeTakeFirstOrThrow()).file);
        const bytes = readFileSync(file); bytes[FILE_HEADER_BYTES + 100] ^= 1; writeFileSync(file, bytes);
        await expect(openFile(h.server.store.keys, file)).rejects.toThrow(/does not authenticate at chunk 0/);
      } finally { await h.close(); }
    });

    it('rotate-key while the server runs: reads keep working, everything ends under the new key, the next start needs it', async () => {
      let h = await startHarness(b.name, quiet);
      let running = true;
      try {
        const p = await plant(h);
        const oldKey = parseKey(readFileSync(defaultKeyFile(h.backend.dataDir), 'utf8'), 'old');
        const newFile = join(h.backend.dataDir, 'keys', 'next.key');
        const newKey = await createKeyFile(newFile);
        await allUnder(h, keyIdOf(oldKey));
        const cli = await openDatabase(h.backend.url); // the CLI's own connection, as `moodlens rotate-key` has
        let reads = 0, stop = false;
        const reader = (async () => { while (!stop) { await readsBack(h, p); reads++; } })();
        try {
          const r = await rotateDataKey({ db: cli.db, dataDir: h.backend.dataDir, oldKey, newKey, graceMs: 300 });
          expect(r).toMatchObject({ oldKeyId: keyIdOf(oldKey), newKeyId: keyIdOf(newKey) });
          expect(r.values).toBeGreaterThanOrEqual(5);
          expect(r.files).toBeGreaterThan(3);
        } finally { stop = true; await reader; await cli.close(); }
        expect(reads).toBeGreaterThan(0);
        // The running server learned the new key: it reads everything and seals new data under it.
        await readsBack(h, p);
        const inv = await h.req('POST', `/studies/${p.s.studyId}/participants`, { token: p.s.researcher, body: { participantId: 'C02', covariates: { x: 'after rotation' } } });
        expect(inv.status).toBe(201);
        await allUnder(h, keyIdOf(newKey));
        expect(plaintextFindings(h.backend.dataDir, p.planted)).toEqual([]);
        // The next start needs the new key; the old one is refused.
        h = await restartHarness(h, { ...quiet, keyFile: newFile });
        await readsBack(h, p);
        await h.server.close(); running = false;
        await expect(buildServer({ db: h.backend.url, dataDir: h.backend.dataDir, ...quiet })).rejects.toThrow(`wrong data key: key file ${defaultKeyFile(h.backend.dataDir)} has key id ${keyIdOf(oldKey)}, but this database's data is sealed with data key ${keyIdOf(newKey)}`);
      } finally { if (running) await h.server.close(); await h.backend.cleanup(); }
    });

    it('seals, at start, the plaintext an older version stored (columns and recordings), and reads it back', async () => {
      const h = await startHarness(b.name, quiet);
      const db = h.server.store.db as Kysely<any>;
      const s = await setupStudy(h);
      const tok = await s.enrol('L01');
      await h.req('POST', '/me/reports', { token: tok, body: reportBody('l-1', iso(Date.now() - 5000)) });
      const wav = tone(0.7);
      expect((await h.req('PUT', '/me/reports/l-1/speech', { token: tok, payload: wav, headers: { 'content-type': 'audio/wav' } })).status).toBe(201);
      await h.server.speech.idle();
      const legacy = `legacy-${randomBytes(6).toString('hex')}`;
      // What an older version left: plaintext covariates, a plaintext WAV, no record of sealing.
      await db.updateTable('participants').set({ covariates: JSON.stringify({ site: legacy }) }).where('label', '=', 'L01').execute();
      const file = join(h.backend.dataDir, (await db.selectFrom('speech').select('file').executeTakeFirstOrThrow()).file);
      writeFileSync(file, wav, { mode: 0o644 });
      mkdirSync(join(h.backend.dataDir, 'exports', 'old'), { recursive: true, mode: 0o755 });
      writeFileSync(join(h.backend.dataDir, 'exports', 'old', 'participants.csv'), `participant_id,site\nL01,${legacy}\n`, { mode: 0o644 });
      await db.deleteFrom('crypto_meta').where('name', '=', 'sealed-at-rest').execute();
      let h2: Harness | null = null;
      try {
        // Plaintext is read as it is before the restart…
        expect((await h.server.store.participant(s.studyId, 'L01'))!.covariates).toEqual({ site: legacy });
        expect((await openFile(h.server.store.keys, file)).equals(wav)).toBe(true);
        h2 = await restartHarness(h, { ...quiet });
        // …and sealed by the start.
        expect(plaintextFindings(h2.backend.dataDir, [legacy])).toEqual([]);
        expect(statSync(file).mode & 0o777).toBe(0o600);
        expect((await h2.server.store.participant(s.studyId, 'L01'))!.covariates).toEqual({ site: legacy });
        expect((await openFile(h2.server.store.keys, file)).equals(wav)).toBe(true);
        const stored = await (h2.server.store.db as Kysely<any>).selectFrom('participants').select('covariates').where('label', '=', 'L01').executeTakeFirstOrThrow();
        expect(valueKeyId(stored.covariates)).toBe(h2.server.store.keys.primaryId);
        if (b.name === 'sqlite') expect((await sql<{ n: number }>`select count(*) as n from crypto_meta`.execute(h2.server.store.db)).rows[0].n).toBe(2);
      } finally { await (h2 ?? h).close(); }
    });
  });
}

describe('a fresh start', () => {
  it('creates the key file 0600 in a 0700 keys folder and says to back it up', async () => {
    const backend = await makeBackend('sqlite');
    const lines: string[] = [];
    const server = await buildServer({ db: backend.url, dataDir: backend.dataDir, keyLog: (l) => lines.push(l) });
    try {
      const key = defaultKeyFile(backend.dataDir);
      expect(statSync(key).mode & 0o777).toBe(0o600);
      expect(statSync(join(backend.dataDir, 'keys')).mode & 0o777).toBe(0o700);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`created a new data key \\(id ${keyIdOf(parseKey(readFileSync(key, 'utf8'), 'k'))}\\) in .*data\\.key — BACK IT UP`));
    } finally { await server.close(); await backend.cleanup(); }
  });
});
