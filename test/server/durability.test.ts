/**
 * Every acknowledged write is durable: the server runs as a child process (`moodlens serve`),
 * clients stream reports, activity batches and speech uploads at it, it is killed with SIGKILL
 * mid-stream, restarted on the same storage, and every acknowledged write is there — and nothing
 * half-written is (each report complete, each batch all-or-nothing, each recording whole).
 */
import { describe, it, expect } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { encodeWav16 } from '../../src/signal/wav.js';
import { BACKENDS, DAMS, makeBackend, ADMIN, httpCall, spawnServer, type Backend } from './helpers.js';
import { Keyring, parseKey } from '../../src/server/storage/crypto.js';
import { defaultKeyFile } from '../../src/server/storage/data-key.js';
import { openFile } from '../../src/server/storage/sealed-files.js';

const startChild = (b: Backend) => spawnServer(b);
const call = httpCall;

for (const b of BACKENDS) {
  describe.skipIf(b.skip)(`durability on ${b.name}`, () => {
    it('keeps every acknowledged write across SIGKILL and no half-written one', async () => {
      const backend = await makeBackend(b.name);
      let { child, base } = await startChild(backend);
      try {
        const admin = (await call(base, 'POST', '/auth/login', undefined, ADMIN)).json.token;
        const study = (await call(base, 'POST', '/studies', admin, { config: { name: 'durable', timezone: 'UTC' } })).json;
        const tokens: string[] = [];
        for (let i = 0; i < 4; i++) {
          const inv = (await call(base, 'POST', `/studies/${study.id}/participants`, admin, { participantId: `D${i}` })).json;
          tokens.push((await call(base, 'POST', '/enrol', undefined, { code: inv.enrolCode })).json.token);
        }
        const ackedReports = new Map<string, number>(); // "participant/reportId" → value
        const ackedBatches: Array<{ p: number; start: number }> = [];
        const sentBatches: Array<{ p: number; start: number }> = [];
        const ackedSpeech = new Map<string, string>(); // "participant/reportId" → sha256
        const t0 = Date.now() - 30 * 86_400_000;
        let stop = false;
        let killedAt = 0;
        const writer = async (p: number) => {
          for (let i = 0; !stop; i++) {
            const id = `r${i}`, value = (i * 7 + p) % 101;
            try {
              const body = { id, time: new Date(t0 + i * 60_000).toISOString(), trigger: 'scheduled', answers: Object.fromEntries(DAMS.map((d) => [d, value])), itemOrder: DAMS };
              const r = await call(base, 'POST', '/me/reports', tokens[p], body);
              if (r.status === 201 || r.status === 200) ackedReports.set(`D${p}/${id}`, value);
              if (i % 5 === 0) {
                const start = t0 + i * 500 * 60_000; // batches of 500 one-minute epochs never overlap
                sentBatches.push({ p, start });
                const vals = Array.from({ length: 500 }, (_, k) => k + i);
                const a = await call(base, 'POST', '/me/activity', tokens[p], { start: new Date(start).toISOString(), values: { zcm: vals, pim: vals } });
                if (a.status === 200) ackedBatches.push({ p, start });
              }
              if (i % 7 === 0 && ackedReports.has(`D${p}/${id}`)) {
                const wav = Buffer.from(encodeWav16(Float32Array.from({ length: 16000 }, (_, k) => Math.sin(k * (p + 1) * 0.01 + i)), 16000));
                const s = await call(base, 'PUT', `/me/reports/${id}/speech`, tokens[p], undefined, { data: wav, type: 'audio/wav' });
                if (s.status === 201) ackedSpeech.set(`D${p}/${id}`, createHash('sha256').update(wav).digest('hex'));
              }
            } catch { /* connection reset by the kill: not acknowledged */ }
          }
        };
        const writers = tokens.map((_, p) => writer(p));
        // Kill once a good number of writes were acknowledged.
        while (ackedReports.size < 100) await new Promise((r) => setTimeout(r, 20));
        child.kill('SIGKILL');
        killedAt = ackedReports.size;
        await new Promise((r) => child.once('exit', r));
        stop = true;
        await Promise.all(writers);

        ({ child, base } = await startChild(backend));
        const tok = (await call(base, 'POST', '/auth/login', undefined, ADMIN)).json.token;
        let found = 0;
        for (let p = 0; p < tokens.length; p++) {
          const reports = (await call(base, 'GET', `/studies/${study.id}/participants/D${p}/reports`, tok)).json as any[];
          for (const r of reports) {
            // Complete: every item present with the value that was sent.
            const expected = (Number(r.id.slice(1)) * 7 + p) % 101;
            expect(Object.keys(r.answers).sort()).toEqual([...DAMS].sort());
            for (const d of DAMS) expect(r.answers[d]).toBe(expected);
            expect(r.itemOrder).toEqual(DAMS);
          }
          const ids = new Set(reports.map((r) => r.id));
          for (const key of ackedReports.keys()) if (key.startsWith(`D${p}/`)) { expect(ids.has(key.split('/')[1])).toBe(true); found++; }
        }
        expect(found).toBe(ackedReports.size);
        expect(found).toBeGreaterThanOrEqual(killedAt);
        // Activity: acknowledged batches whole; any batch either whole or absent.
        const { openDatabase } = await import('../../src/server/storage/connect.js');
        const h = await openDatabase(backend.url, { migrate: false });
        try {
          const pids = new Map((await h.db.selectFrom('participants').select(['id', 'label']).execute()).map((r) => [r.label, r.id]));
          const acked = new Set(ackedBatches.map((x) => `${x.p}/${x.start}`));
          for (const bt of sentBatches) {
            const n = Number((await h.db.selectFrom('activity').select((eb) => eb.fn.countAll<number>().as('n'))
              .where('participant_id', '=', pids.get(`D${bt.p}`)!).where('t_ms', '>=', bt.start).where('t_ms', '<', bt.start + 500 * 60_000)
              .executeTakeFirstOrThrow()).n);
            if (acked.has(`${bt.p}/${bt.start}`)) expect(n).toBe(500); else expect([0, 500]).toContain(n);
          }
          // Speech: every acknowledged recording is there and whole; every stored row points at a whole file.
          const rows = await h.db.selectFrom('speech').innerJoin('reports', 'reports.id', 'speech.report_id').select(['speech.file', 'speech.sha256', 'reports.client_id', 'reports.participant_id']).execute();
          const byKey = new Map(rows.map((r) => [`${[...pids].find(([, v]) => v === r.participant_id)![0]}/${r.client_id}`, r]));
          for (const [key, sha] of ackedSpeech) expect(byKey.get(key)?.sha256).toBe(sha);
          // (sealed at rest with the data key the server created in the data folder; opening authenticates every chunk)
          const keys = new Keyring(parseKey(readFileSync(defaultKeyFile(backend.dataDir), 'utf8'), 'data key'));
          for (const r of rows) {
            const path = join(backend.dataDir, r.file);
            expect(existsSync(path)).toBe(true);
            expect(createHash('sha256').update(await openFile(keys, path)).digest('hex')).toBe(r.sha256);
          }
          expect(ackedBatches.length).toBeGreaterThan(0);
        } finally { await h.close(); }
      } finally {
        child.kill('SIGKILL');
        await new Promise((r) => setTimeout(r, 200));
        await backend.cleanup();
      }
    }, 300_000); // two server starts and a stream of writes; slow when CI runs every suite at once
  });
}
