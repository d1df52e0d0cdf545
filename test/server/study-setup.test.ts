/**
 * Study set-up from the dashboard (issue 20, item 2), on both back ends: a study's configuration
 * changes only while it holds no data (409 after the first report or wristband epoch); the model
 * folders under --models-dir are listed with their stored evaluation; a model that fails to load
 * leaves the working one attached (predictions go on); a researcher uploads a participant's
 * wristband export, an ActiGraph .gt3x included.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigSchema } from '../../src/model/config.js';
import { BACKENDS, setupStudy, startHarness, type Harness } from './helpers.js';

const ITEMS = [{ id: 'happy', label: 'happy', min: 0, max: 100 }, { id: 'tired', label: 'tired', min: 0, max: 100 }];
const CONFIG = { name: 'set-up study', timezone: 'UTC', items: ITEMS, activity: { epochSeconds: 60, channels: ['zcm', 'pim'] } };

/** A model folder whose config.json reads (so it is listed) but which has no weights (so it cannot load). */
function brokenModel(h: Harness, name: string, meanCCC: number): void {
  const dir = join(h.server.ctx.modelsDir, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ format: 1, kind: 'model', config: ConfigSchema.parse({}), items: ITEMS, bestDev: 0.41 }));
  writeFileSync(join(dir, 'evaluation.json'), JSON.stringify({ split: 'test', n: 120, meanCCC, items: { happy: { ccc: meanCCC, n: 120 }, tired: { ccc: meanCCC, n: 120 } } }));
}

for (const b of BACKENDS) {
  describe.skipIf(b.skip)(`study set-up on ${b.name}`, () => {
    let h: Harness;
    beforeAll(async () => { h = await startHarness(b.name); });
    afterAll(async () => { await h?.close(); });

    it('edits a study while it holds no data, and refuses (409) once a report exists', async () => {
      const s = await setupStudy(h, CONFIG);
      const edited = await h.req('PUT', `/studies/${s.studyId}`, { token: s.researcher, body: { config: { ...CONFIG, name: 'renamed', schedule: { times: ['09:00', '21:00'] } } } });
      expect(edited.status, edited.body).toBe(200);
      expect(edited.json).toMatchObject({ name: 'renamed', config: { schedule: { times: ['09:00', '21:00'] } } });
      expect((await h.req('GET', `/studies/${s.studyId}`, { token: s.researcher })).json.config.schedule.times).toEqual(['09:00', '21:00']);
      // Strict, as study.json is: an unknown key is refused, not dropped.
      expect((await h.req('PUT', `/studies/${s.studyId}`, { token: s.researcher, body: { config: { ...CONFIG, epochSecond: 60 } } })).status).toBe(400);
      // …and named with the known key it is closest to, as the CLI does for study.json.
      const typo = await h.req('PUT', `/studies/${s.studyId}`, { token: s.researcher, body: { config: { ...CONFIG, activity: { epochSecond: 60 } } } });
      expect([typo.status, typo.json.message]).toEqual([400, 'body.config.activity: unknown key "epochSecond" — did you mean "epochSeconds"?']);
      const token = await s.enrol('P01');
      expect((await h.req('POST', '/me/reports', { token, body: { id: 'a-1', time: new Date().toISOString(), trigger: 'voluntary', answers: { happy: 50 }, itemOrder: ['happy', 'tired'] } })).status).toBe(201);
      const refused = await h.req('PUT', `/studies/${s.studyId}`, { token: s.researcher, body: { config: CONFIG } });
      expect(refused.status).toBe(409);
      expect(refused.json.message).toMatch(/already holds data/);
      expect((await h.req('GET', `/studies/${s.studyId}`, { token: s.researcher })).json.name).toBe('renamed');
    });

    it('lists the model folders with their evaluation; a failed attach keeps the working model', async () => {
      const s = await setupStudy(h, CONFIG);
      brokenModel(h, `broken-${b.name}`, 0.37);
      const list = await h.req('GET', `/studies/${s.studyId}/models`, { token: s.researcher });
      expect(list.status, list.body).toBe(200);
      expect(list.json.builtin).toEqual(['builtin:baseline']);
      expect(list.json.models.find((m: any) => m.name === `broken-${b.name}`)).toMatchObject({ kind: 'model', fits: true, bestDevCCC: 0.41, evaluation: { meanCCC: 0.37, n: 120, split: 'test' } });

      expect((await h.req('PUT', `/studies/${s.studyId}/model`, { token: s.researcher, body: { model: 'builtin:baseline' } })).status).toBe(200);
      const token = await s.enrol('P01');
      const report = (id: string) => ({ id, time: new Date().toISOString(), trigger: 'voluntary', answers: { happy: 60, tired: 30 }, itemOrder: ['happy', 'tired'] });
      expect((await h.req('POST', '/me/reports', { token, body: report('a-1') })).status).toBe(201);
      const failed = await h.req('PUT', `/studies/${s.studyId}/model`, { token: s.researcher, body: { model: `broken-${b.name}` } });
      expect(failed.status).toBe(400);
      expect(failed.json.message).toMatch(/could not load a model .*"builtin:baseline" stays attached/);
      const now = await h.req('GET', `/studies/${s.studyId}/model`, { token: s.researcher });
      expect(now.json).toMatchObject({ model: 'builtin:baseline', predictor: expect.any(String), loadError: null });
      // Predictions go on with the working model.
      const predicted = await h.req('POST', `/studies/${s.studyId}/participants/P01/predict`, { token: s.researcher, body: {} });
      expect(predicted.status, predicted.body).toBeLessThan(300);
    });

    it('takes a participant\'s wristband export from a researcher: ActiGraph .gt3x and GENEActiv .bin', async () => {
      const s = await setupStudy(h, { ...CONFIG, activity: { epochSeconds: 10, channels: ['zcm', 'pim'] } });
      await s.enrol('P01');
      const upload = (file: string) => h.req('PUT', `/studies/${s.studyId}/participants/P01/activity/raw?name=${encodeURIComponent(file)}`, {
        token: s.researcher, headers: { 'content-type': 'application/octet-stream' }, payload: readFileSync(join('test/fixtures/actigraphy', file)),
      });
      const gt3x = await upload('ISM_Enabled.gt3x');
      expect(gt3x.status, gt3x.body).toBe(200);
      expect(gt3x.json).toMatchObject({ format: 'gt3x', epochs: expect.any(Number) });
      expect(gt3x.json.epochs).toBeGreaterThan(0);
      expect(gt3x.json.inserted).toBe(gt3x.json.epochs);
      const audit = await h.req('GET', `/studies/${s.studyId}/audit?resource=activity&actor=researcher:${(await h.req('GET', '/auth/me', { token: s.researcher })).json.id}`, { token: s.researcher });
      expect(audit.json.some((r: any) => /wristband file \(gt3x/.test(r.detail))).toBe(true);
      const bin = await upload('GENEActiv_testfile.bin');
      expect(bin.status, bin.body).toBe(200);
      expect(bin.json.format).toBe('geneactiv-bin');
      // Without a token: refused before the body is read.
      expect((await h.req('PUT', `/studies/${s.studyId}/participants/P01/activity/raw`, { headers: { 'content-type': 'text/csv' }, payload: 'x' })).status).toBe(401);
    });
  });
}
