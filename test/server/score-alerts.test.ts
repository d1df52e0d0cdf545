/**
 * Alerts on a questionnaire score (docs/study-design.md): a study may watch `phq9_total` like an
 * item; the reported values an alert reads include each report's scores.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { setupStudy, startHarness, type Harness } from './helpers.js';

describe('alerts on a questionnaire score', () => {
  let h: Harness | undefined;
  afterAll(async () => { await h?.close(); });

  it('flags a run of PHQ-9 totals above the participant\'s baseline band', async () => {
    let clock = Date.parse('2026-05-04T08:00:00Z');
    h = await startHarness('sqlite', { now: () => clock });
    const s = await setupStudy(h, { name: 'score alerts', timezone: 'UTC', speech: { kind: 'none' }, instruments: [{ id: 'phq9', builtin: 'phq9', schedule: { times: ['20:00'], jitterMinutes: 0, days: 14 } }] },
      { alerts: { items: ['phq9_total'], baselineReports: 3, minReports: 2, minDurationHours: 0, sources: ['reported'] } });
    const token = await s.enrol('p1');
    // totals by hand: 9 × 0 = 0, 9 × 1 = 9 … a baseline of 2, 3, 2, then 18 and 27
    const totals = [[1, 1, 0, 0, 0, 0, 0, 0, 0], [1, 1, 1, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 1, 1], [2, 2, 2, 2, 2, 2, 2, 2, 2], [3, 3, 3, 3, 3, 3, 3, 3, 3]];
    for (const [d, values] of totals.entries()) {
      clock = Date.parse(`2026-05-0${4 + d}T20:10:00Z`);
      const r = await h.req('POST', '/me/reports', { token, body: { id: `q${d}`, time: new Date(clock).toISOString(), trigger: 'scheduled', instrument: 'phq9', promptId: `phq9:${d}:0`,
        answers: Object.fromEntries(values.map((v, k) => [`phq9_${k + 1}`, v])), itemOrder: values.map((_, k) => `phq9_${k + 1}`) } });
      expect(r.status, r.body).toBe(201);
      expect(r.json.scores.phq9_total).toBe(values.reduce((a, b) => a + b, 0));
    }
    await expect.poll(async () => (await h!.req('GET', `/studies/${s.studyId}/alerts`, { token: s.researcher })).json, { timeout: 10_000 })
      .toEqual(expect.arrayContaining([expect.objectContaining({ item: 'phq9_total', source: 'reported', direction: 'above' })]));
  }, 30_000);
});
