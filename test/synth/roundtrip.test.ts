import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { synthesizeStudy, simulateParticipant, SPEECH_FEATURES } from '../../src/synth/index.js';
import { validateStudy, buildDataset } from '../../src/data/index.js';
import { DAMS_ITEMS } from '../../src/data/study.js';
import { localIso } from '../../src/util/localtime.js';

// The synthetic study read back through the project's importer: what the generator meant is what a model gets.
describe('synthetic study → importer round trip (5 participants × 16 days)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ml-synth-rt-'));
  const seed = 23, nP = 5, days = 16; // seed 23: four of the five change UTC offset during the study
  beforeAll(async () => { await synthesizeStudy({ out: dir, participants: nP, days, seed }); });

  it('validates', async () => {
    const v = await validateStudy(dir);
    expect(v.issues).toEqual([]);
    expect(v.ok).toBe(true);
  });

  it('yields instances whose labels and hour-before activity equal the simulation, across time zones and DST', async () => {
    const { dataset: d } = await buildDataset(dir, { policy: 'masked' });
    const sims = Array.from({ length: nP }, (_, i) => simulateParticipant(seed, i, days));
    const byId = new Map(sims.flatMap((s) => s.reports.map((r) => [r.reportId, { s, r }] as const)));
    expect(d.n).toBe(byId.size);
    expect(d.speechFeatures).toEqual([...SPEECH_FEATURES]);
    const K = DAMS_ITEMS.length, C = d.channels.length, W = d.windowEpochs;
    let windowsChecked = 0;
    for (let i = 0; i < d.n; i++) {
      const { s, r } = byId.get(d.reportIds[i])!;
      expect(d.time[i]).toBe(r.time);
      for (let k = 0; k < K; k++) {
        const want = r.items[k] / 100;
        if (Number.isNaN(want)) expect(d.labels[i * K + k]).toBeNaN(); else expect(d.labels[i * K + k]).toBeCloseTo(want, 6);
      }
      // Activity window: the 60 epochs before the report, NaN where the device did not record or was off the wrist.
      const end = Math.floor((r.time - s.activityStart) / 60_000);
      for (let w = 0; w < W; w++) {
        const e = end - W + w;
        const want = e < 0 || !s.recorded[e] ? NaN : s.zcm[e];
        const got = d.activity[(i * C + 0) * W + w];
        if (Number.isNaN(want)) expect(got).toBeNaN(); else expect(got).toBe(want);
      }
      windowsChecked++;
    }
    expect(windowsChecked).toBeGreaterThan(200);
    // DST: some participants' reports carry two UTC offsets, and still matched above.
    const offsets = sims.map((s) => new Set(s.reports.map((r) => localIso(r.time, s.params.timezone).slice(19))).size);
    expect(offsets.filter((n) => n === 2).length).toBeGreaterThanOrEqual(2);
  });
});
