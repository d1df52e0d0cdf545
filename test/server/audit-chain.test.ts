/**
 * The audit log is a hash chain: after a scripted session (sign-ins, a failed sign-in, a
 * membership change, reports, an export and its download, a withdrawal) `moodlens audit verify`
 * passes; after one row is edited, deleted or forged in the database it fails and names that row.
 * Rows from before the chain existed are sealed at start, and every request of a signed-in
 * researcher is an access row. Both back ends, one server each.
 */
import { describe, it, expect, beforeAll, afterAll, vi } from 'vitest';
import { sql } from 'kysely';
import { run } from '../../src/cli/main.js';
import { verifyAuditChain } from '../../src/server/storage/audit-chain.js';
import { ADMIN, BACKENDS, exportAndWait, reportBody, restartHarness, setupStudy, startHarness, type Harness } from './helpers.js';

/** `moodlens audit verify --db URL --json` in this process: exit code and the parsed result. */
async function verifyCli(url: string): Promise<{ code: number; out: any }> {
  const lines: string[] = [];
  const spy = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => { lines.push(a.join(' ')); });
  try {
    process.exitCode = undefined;
    const code = await run(['audit', 'verify', '--db', url, '--json']);
    return { code, out: JSON.parse(lines.at(-1) ?? 'null') };
  } finally {
    spy.mockRestore();
    process.exitCode = undefined;
  }
}

for (const b of BACKENDS) {
  describe.skipIf(b.skip)(`audit chain on ${b.name}`, () => {
    let h: Harness;
    beforeAll(async () => { h = await startHarness(b.name); });
    afterAll(async () => { await h?.close(); });

    it('verifies after a scripted session and names the first edited, deleted or forged row', async () => {
      const s = await setupStudy(h);
      expect((await h.req('POST', '/auth/login', { body: { email: s.researcherEmail, password: 'wrong password!' } })).status).toBe(401);
      const admin = await h.login(ADMIN.email, ADMIN.password);
      const email2 = `second-${Date.now()}@example.org`;
      expect((await h.req('POST', '/admin/researchers', { token: admin, body: { email: email2, password: 'researcher-pass-2' } })).status).toBe(201);
      const m = await h.req('POST', `/studies/${s.studyId}/members`, { token: s.researcher, body: { email: email2, role: 'researcher' } });
      expect(m.status, m.body).toBeLessThan(300);
      const tok = await s.enrol('AU1');
      for (let i = 0; i < 5; i++) await h.req('POST', '/me/reports', { token: tok, body: reportBody(`au-${i}`, new Date(Date.now() - 60_000 + i * 1000).toISOString(), 20 + i) });
      const { job } = await exportAndWait(h, s.researcher, s.studyId, { name: 'audited' });
      expect((await h.req('GET', job.downloadUrl, { token: s.researcher })).status).toBe(200);
      expect((await h.req('DELETE', '/me', { token: tok })).status).toBe(200);
      await h.req('GET', `/studies/${s.studyId}/audit`, { token: s.researcher });

      const good = await verifyCli(h.backend.url);
      expect(good.code).toBe(0);
      expect(good.out).toMatchObject({ ok: true });
      expect(good.out.rows).toBeGreaterThan(10);

      // Edit one row in the middle: verify names it.
      const db = h.server.store.db;
      const ids = (await db.selectFrom('audit').select('id').orderBy('id').execute()).map((r) => Number(r.id));
      const mid = ids[Math.floor(ids.length / 2)];
      const before = await db.selectFrom('audit').selectAll().where('id', '=', mid).executeTakeFirstOrThrow();
      await db.updateTable('audit').set({ detail: 'nothing happened here' }).where('id', '=', mid).execute();
      const edited = await verifyCli(h.backend.url);
      expect(edited.code).toBe(1);
      expect(edited.out.broken.id).toBe(mid);
      await db.updateTable('audit').set({ detail: before.detail }).where('id', '=', mid).execute();
      expect((await verifyAuditChain(db)).ok).toBe(true);

      // Delete a row: the next one is named.
      const victim = ids[3];
      const row = await db.selectFrom('audit').selectAll().where('id', '=', victim).executeTakeFirstOrThrow();
      await db.deleteFrom('audit').where('id', '=', victim).execute();
      expect((await verifyAuditChain(db)).broken?.id).toBe(ids[4]);
      await db.insertInto('audit').values(row as any).execute();
      expect((await verifyAuditChain(db)).ok).toBe(true);

      // A row forged with a made-up hash at the end is named too.
      await db.insertInto('audit').values({ time_ms: Date.now(), actor_kind: 'system', actor_id: 'forger', action: 'read', study_id: null, participant_id: null, resource: 'x', detail: null, hash: 'f'.repeat(64) } as any).execute();
      const forged = await verifyCli(h.backend.url);
      expect(forged.code).toBe(1);
      expect(forged.out.broken.id).toBeGreaterThan(ids.at(-1)!);
      await db.deleteFrom('audit').where('actor_id', '=', 'forger').execute();
      // Writes go on extending the chain.
      await h.req('GET', `/studies/${s.studyId}/audit`, { token: s.researcher });
      expect((await verifyAuditChain(db)).ok).toBe(true);
    });

    it('seals rows written before the chain existed when the server starts', async () => {
      // The access records of the last requests are written after their answers: let them land.
      await new Promise((r) => setTimeout(r, 300));
      await h.server.store.sealAudit();
      await sql`update audit set hash = null`.execute(h.server.store.db);
      expect((await verifyAuditChain(h.server.store.db)).ok).toBe(false);
      h = await restartHarness(h);
      const r = await verifyAuditChain(h.server.store.db);
      expect(r, JSON.stringify(r)).toMatchObject({ ok: true });
      expect(r.rows).toBeGreaterThan(0);
    });

    it('fails clearly on a database file that does not exist', async () => {
      const lines: string[] = [];
      const spy = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => { lines.push(a.join(' ')); });
      try {
        expect(await run(['audit', 'verify', '--db', 'sqlite:/nonexistent/x.db'])).toBe(1);
      } finally { spy.mockRestore(); }
      expect(lines.join('\n')).toMatch(/no such database file/);
    });

    it('records every request of a signed-in researcher, allowed or refused, including reads of the audit log', async () => {
      const s = await setupStudy(h);
      const other = await setupStudy(h);
      await s.enrol('AC1');
      expect((await h.req('GET', `/studies/${s.studyId}/participants`, { token: s.researcher })).status).toBe(200);
      expect((await h.req('GET', `/studies/${s.studyId}/participants`, { token: other.researcher })).status).toBe(404); // not a member
      expect((await h.req('GET', `/studies/${s.studyId}/audit`, { token: s.researcher })).status).toBe(200);
      const rows = async () => (await h.req('GET', `/studies/${s.studyId}/audit?limit=1000`, { token: s.researcher })).json
        .filter((a: any) => a.resource === 'access').map((a: any) => `${a.action} ${a.detail}`);
      await expect.poll(rows).toEqual(expect.arrayContaining([
        'read GET /studies/:studyId/participants → 200',
        'read GET /studies/:studyId/participants → 404',
        'read GET /studies/:studyId/audit → 200',
        'write POST /studies/:studyId/participants → 201',
      ]));
      // The refused attempt names who made it.
      const all = (await h.req('GET', `/studies/${s.studyId}/audit?limit=1000`, { token: s.researcher })).json;
      const refused = all.find((a: any) => a.resource === 'access' && a.detail.endsWith('→ 404'));
      expect(refused.actor).not.toBe(all.find((a: any) => a.resource === 'access' && a.detail.endsWith('participants → 200')).actor);
      // Filters: by action and resource, and by actor.
      const reads = (await h.req('GET', `/studies/${s.studyId}/audit?resource=access&action=read`, { token: s.researcher })).json;
      expect(reads.length).toBeGreaterThan(0);
      expect(new Set(reads.map((a: any) => `${a.resource}/${a.action}`))).toEqual(new Set(['access/read']));
      const byOther = (await h.req('GET', `/studies/${s.studyId}/audit?actor=${encodeURIComponent(refused.actor)}`, { token: s.researcher })).json;
      expect(byOther.map((a: any) => a.detail)).toEqual(['GET /studies/:studyId/participants → 404']);
      expect((await h.req('GET', `/studies/${s.studyId}/audit?actor=nobody`, { token: s.researcher })).status).toBe(400);
      // Participants' own requests are recorded by their writes, not here; anonymous refusals not at all.
      expect((await h.req('GET', `/studies/${s.studyId}/participants`)).status).toBe(401);
      expect((await verifyAuditChain(h.server.store.db)).ok).toBe(true);
    });
  });
}
