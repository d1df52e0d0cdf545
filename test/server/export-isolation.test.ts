/**
 * Exports cannot reach outside their study's export folder (Security I, the two critical cases):
 * a name of "." or ".." once made the export job delete the data folder or every export, and two
 * studies exporting under the same name once shared one folder, so one researcher downloaded the
 * other study's participants. Run on both back ends.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import fc from 'fast-check';
import { insideFolder, isInside } from '../../src/server/storage/paths.js';
import { BACKENDS, exportAndWait, reportBody, restartHarness, setupStudy, startHarness, untar, type Harness } from './helpers.js';

const iso = (ms: number) => new Date(ms).toISOString();

/** Names an attacker would try: dots, separators, absolute paths, unicode, NUL, long strings. */
const hostileName = fc.oneof(
  fc.constantFrom('.', '..', '../..', '/', '/etc', 'a/../..', '..\\..', '\0', 'final', 'x_legacy', '~', '%2e%2e'),
  fc.string({ unit: fc.constantFrom('.', '/', '\\', 'a', 'Z', '0', '-', '_', '\0', 'é', ' ', '%'), maxLength: 12 }),
  fc.string({ maxLength: 120 }),
);

describe('export paths (property)', () => {
  it('insideFolder never returns a path outside its root, whatever the segments', () => {
    const root = '/srv/moodlens/exports';
    fc.assert(fc.property(fc.array(hostileName, { minLength: 1, maxLength: 3 }), (segs) => {
      let p: string;
      try { p = insideFolder(root, ...segs); } catch { return true; } // refused: fine
      return isInside(root, p) && !segs.some((s) => s.includes('..') || s.includes('/'));
    }), { numRuns: 2000 });
  });
});

for (const b of BACKENDS) {
  describe.skipIf(b.skip)(`export isolation on ${b.name}`, () => {
    let h: Harness;
    beforeAll(async () => { h = await startHarness(b.name); });
    afterAll(async () => { await h?.close(); });

    const download = async (token: string, url: string) => {
      const r = await h.server.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
      expect(r.statusCode, r.body.slice(0, 200)).toBe(200);
      return untar(r.rawPayload);
    };

    it('refuses "." and ".." (and names that are not labels) and never touches the data folder', async () => {
      const s = await setupStudy(h);
      const tok = await s.enrol('D01');
      await h.req('POST', '/me/reports', { token: tok, body: reportBody('d-1', iso(Date.now() - 60_000), 40) });
      const first = (await exportAndWait(h, s.researcher, s.studyId, { name: 'keep' })).job;
      expect(first.status).toBe('done');
      const before = readdirSync(h.backend.dataDir).sort();
      for (const name of ['..', '.', '../x', '/tmp', 'a/b', '.hidden', '', 'x'.repeat(101), 'a\\b', 'a\0b']) {
        const r = await h.req('POST', `/studies/${s.studyId}/export`, { token: s.researcher, body: { name } });
        expect(r.status, `name ${JSON.stringify(name)}`).toBe(400);
        expect(r.json.message).toMatch(/body\.name/);
      }
      await h.server.exportJobs.idle();
      expect(readdirSync(h.backend.dataDir).sort()).toEqual(before);
      if (b.name === 'sqlite') expect(existsSync(join(h.backend.dataDir, 'test.db'))).toBe(true);
      expect(existsSync(join(first.dir, 'study.json'))).toBe(true);
      // The database still answers.
      expect((await h.req('GET', `/studies/${s.studyId}/exports`, { token: s.researcher })).json.length).toBeGreaterThanOrEqual(1);
    });

    it('puts every accepted export name\'s job inside the study\'s export folder, and touches nothing else (property)', async () => {
      const s = await setupStudy(h);
      const before = readdirSync(h.backend.dataDir).sort();
      const studyDir = join(h.backend.dataDir, 'exports', s.studyId);
      await fc.assert(fc.asyncProperty(hostileName, async (name) => {
        const r = await h.req('POST', `/studies/${s.studyId}/export`, { token: s.researcher, body: { name } });
        if (r.status === 400) return true;
        expect(r.status).toBe(202);
        expect(relative(studyDir, r.json.dir)).toBe(r.json.id);
        return true;
      }), { numRuns: 60 });
      await h.server.exportJobs.idle();
      expect(readdirSync(h.backend.dataDir).sort()).toEqual(before.includes('exports') ? before : [...before, 'exports'].sort());
      if (b.name === 'sqlite') expect(existsSync(join(h.backend.dataDir, 'test.db'))).toBe(true);
      expect((await h.req('GET', '/health')).status).toBe(200);
    });

    it('keeps a row with a tampered name or id away from anything outside the study\'s export folder', async () => {
      const s = await setupStudy(h);
      // A row as an older version (or someone with database access) may have left it.
      const row = { id: 'x_legacy', study_id: s.studyId, user_id: 'u', name: '..', status: 'done', phase: 'done', done: 1, total: 1, summary: null, error: null, created_ms: Date.now(), started_ms: Date.now(), finished_ms: Date.now(), deleted_ms: null, deleted_by: null };
      await h.server.store.createExportJob(row);
      expect(h.server.exportJobs.dir(row)).toBe(join(h.server.exportJobs.studyDir(s.studyId), 'x_legacy'));
      const del = await h.req('DELETE', `/studies/${s.studyId}/exports/x_legacy`, { token: s.researcher });
      expect(del.status).toBe(200);
      if (b.name === 'sqlite') expect(existsSync(join(h.backend.dataDir, 'test.db'))).toBe(true);
      expect(() => h.server.exportJobs.dir({ study_id: s.studyId, id: '..' })).toThrow(/refused/);
      expect(() => h.server.exportJobs.dir({ study_id: '..', id: 'x_1' })).toThrow(/refused/);
    });

    it('gives each study its own folder: two studies exporting as "final" each download only their own data', async () => {
      const a = await setupStudy(h), bb = await setupStudy(h);
      const ta = await a.enrol('ALPHA01'), tb = await bb.enrol('BRAVO01');
      await h.req('POST', '/me/reports', { token: ta, body: reportBody('a-1', iso(Date.now() - 60_000), 11) });
      await h.req('POST', '/me/reports', { token: tb, body: reportBody('b-1', iso(Date.now() - 60_000), 22) });
      const ja = (await exportAndWait(h, a.researcher, a.studyId, { name: 'final' })).job;
      const jb = (await exportAndWait(h, bb.researcher, bb.studyId, { name: 'final' })).job;
      expect([ja.status, jb.status]).toEqual(['done', 'done']);
      expect(ja.dir).not.toBe(jb.dir);
      for (const [j, sid] of [[ja, a.studyId], [jb, bb.studyId]] as const) {
        expect(relative(join(h.backend.dataDir, 'exports', sid), j.dir)).toBe(j.id);
      }
      const filesA = await download(a.researcher, ja.downloadUrl);
      const all = [...filesA.entries()].map(([k, v]) => `${k}\n${v.toString('utf8')}`).join('\n');
      expect(all).toContain('ALPHA01');
      expect(all).not.toContain('BRAVO01');
      expect([...filesA.keys()].every((k) => k.startsWith('final/'))).toBe(true);
      const filesB = await download(bb.researcher, jb.downloadUrl);
      expect([...filesB.values()].map((v) => v.toString('utf8')).join('\n')).toContain('BRAVO01');
      // Deleting A's export leaves B's.
      expect((await h.req('DELETE', `/studies/${a.studyId}/exports/${ja.id}`, { token: a.researcher })).status).toBe(200);
      expect(existsSync(ja.dir)).toBe(false);
      expect(existsSync(join(jb.dir, 'study.json'))).toBe(true);
      // Listing shows only the study's own jobs.
      const listA = (await h.req('GET', `/studies/${a.studyId}/exports`, { token: a.researcher })).json.map((j: any) => j.id);
      expect(listA).toContain(ja.id);
      expect(listA).not.toContain(jb.id);
    });

    it('removes folders of the old shared-name layout at start and marks their jobs deleted', async () => {
      const s = await setupStudy(h);
      const legacyDir = join(h.backend.dataDir, 'exports', 'final');
      mkdirSync(legacyDir, { recursive: true });
      writeFileSync(join(legacyDir, 'study.json'), '{}');
      const row = { id: 'x_oldlayout', study_id: s.studyId, user_id: 'u', name: 'final', status: 'done', phase: 'done', done: 1, total: 1, summary: null, error: null, created_ms: Date.now(), started_ms: Date.now(), finished_ms: Date.now(), deleted_ms: null, deleted_by: null };
      await h.server.store.createExportJob(row);
      h = await restartHarness(h);
      expect(existsSync(legacyDir)).toBe(false);
      const token = await h.login(s.researcherEmail, 'researcher-pass-1');
      const view = (await h.req('GET', `/studies/${s.studyId}/exports/x_oldlayout`, { token })).json;
      expect(view).toMatchObject({ status: 'deleted', deletedBy: 'layout' });
    });
  });
}
