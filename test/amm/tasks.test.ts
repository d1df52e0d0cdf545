import { describe, it, expect } from 'vitest';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { buildTasks, TasksConfigSchema, DAMS_TASKS } from '../../src/amm/tasks.js';
import { plantedStudy } from '../../src/amm/planted.js';
import { loadLifesnaps } from '../../src/amm/load-node.js';

const items = ['depressed', 'gloomy', 'happy', 'anxious'];
// Two participants, three reports each; NaN = not answered.
const values = Float32Array.from([
  0.9, 0.7, 0.1, 0.2,
  0.2, 0.1, 0.8, 0.1,
  0.5, 0.5, 0.5, 0.9,
  0.1, 0.1, 0.9, 0.0,
  0.3, 0.2, 0.2, 0.1,
  NaN, NaN, 0.4, 0.2,
]);
const participant = Int32Array.from([0, 0, 0, 1, 1, 1]);

describe('tasks from items', () => {
  it('binary by threshold on the mean of the answered items', () => {
    const [t] = buildTasks({ items, values, participant }, { tasks: [{ name: 'dep', kind: 'binary', items: ['depressed', 'gloomy'], rule: 'threshold', threshold: 0.5, classes: ['no', 'yes'] }] });
    expect(Array.from(t.y)).toEqual([1, 0, 1, 0, 0, -1]);
  });
  it("binary above the participant's own median (median from the given rows)", () => {
    const [t] = buildTasks({ items, values, participant }, { tasks: [{ name: 'dep', kind: 'binary', items: ['depressed'], rule: 'person-median', threshold: 0.5, classes: ['no', 'yes'] }] }, [0, 1, 2, 3, 4]);
    // p0 median of (0.9, 0.2, 0.5) = 0.5; p1 median of (0.1, 0.3) = 0.2
    expect(Array.from(t.y)).toEqual([1, 0, 0, 0, 1, -1]);
  });
  it('dominant group: highest group mean, ties to the first group', () => {
    const groups = { negative: ['depressed', 'gloomy'], positive: ['happy'], anxious: ['anxious'] };
    const [t] = buildTasks({ items, values, participant }, { tasks: [{ name: 'emo', kind: 'dominant', minimum: 0, centre: 'none', groups }] });
    expect(t.classes).toEqual(['negative', 'positive', 'anxious']);
    expect(Array.from(t.y)).toEqual([0, 1, 2, 1, 0, 1]);
    // Centred on each person's item means: p1's means are depressed 0.2, gloomy 0.15, happy 0.5, anxious 0.1.
    const [c] = buildTasks({ items, values, participant }, { tasks: [{ name: 'emo', kind: 'dominant', minimum: 0, centre: 'person', groups }] });
    // p1 row 3: negative −0.075, positive 0.4, anxious −0.1 → positive; row 4: negative 0.075, positive −0.3, anxious 0 → negative
    expect(Array.from(c.y).slice(3, 5)).toEqual([1, 0]);
  });
  it('config validation names the field; unknown items are reported', () => {
    const bad = TasksConfigSchema.safeParse({ tasks: [{ name: 'x', kind: 'binary', items: [] }] });
    expect(bad.success).toBe(false);
    expect(TasksConfigSchema.safeParse(DAMS_TASKS).success).toBe(true);
    expect(() => buildTasks({ items, values, participant }, { tasks: [{ name: 'x', kind: 'binary', items: ['nope'], rule: 'threshold', threshold: 0.5, classes: ['no', 'yes'] }] })).toThrow(/unknown item "nope"/);
  });
  /** Per report: activity's mean value, speech's mean value, speech's largest bump and that bump times the sign channel. */
  function readings(d: ReturnType<typeof plantedStudy>) {
    const [act, sp] = d.modalities;
    const at = (m: typeof act, i: number, t: number, f: number) => m.x[(i * m.steps + t) * m.features + f];
    const meanA: number[] = [], meanB: number[] = [], peak: number[] = [], signedPeak: number[] = [];
    for (let i = 0; i < d.n; i++) {
      let s = 0, sb = 0;
      for (let t = 0; t < act.length[i]; t++) s += at(act, i, t, 0);
      meanA.push(s / act.length[i]);
      const sign = at(sp, i, 0, 3);
      expect(Math.abs(sign)).toBe(1); // held on every present step
      let best = 0;
      for (let t = 0; t < sp.length[i]; t++) {
        expect(at(sp, i, t, 3)).toBe(sign);
        const v = at(sp, i, t, 0);
        sb += v;
        if (Math.abs(v) > Math.abs(best)) best = v;
      }
      meanB.push(sb / sp.length[i]); peak.push(best); signedPeak.push(best * sign);
    }
    // How well a score separates the main classes (AUC over all pairs).
    const y = d.tasks[0].y;
    const auc = (score: number[]) => {
      let win = 0, pairs = 0;
      for (let i = 0; i < d.n; i++) if (y[i] === 1) for (let j = 0; j < d.n; j++) if (y[j] === 0) { pairs++; win += score[i] > score[j] ? 1 : score[i] === score[j] ? 0.5 : 0; }
      return win / pairs;
    };
    return { meanA, meanB, peak, signedPeak, auc };
  }
  const corr = (a: number[], b: number[]) => {
    const m = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
    const ma = m(a), mb = m(b);
    let sab = 0, saa = 0, sbb = 0;
    for (let i = 0; i < a.length; i++) { sab += (a[i] - ma) * (b[i] - mb); saa += (a[i] - ma) ** 2; sbb += (b[i] - mb) ** 2; }
    return sab / Math.sqrt(saa * sbb);
  };
  it('the planted study is reproducible and hides main labels at the asked rate', () => {
    const a = plantedStudy({ participants: 4, perParticipant: 10, seed: 5, mainLabelRate: 0.5 });
    const b = plantedStudy({ participants: 4, perParticipant: 10, seed: 5, mainLabelRate: 0.5 });
    expect(Array.from(a.modalities[1].x.slice(0, 50))).toEqual(Array.from(b.modalities[1].x.slice(0, 50)));
    const hidden = Array.from(a.split.train).filter((r) => a.tasks[0].y[r] < 0).length;
    expect(hidden).toBeGreaterThan(0);
    expect(Array.from(a.split.test).every((r) => a.tasks[0].y[r] >= 0)).toBe(true);
    expect(Array.from(a.tasks[1].y).every((y) => y >= 0)).toBe(true);
  });
  it('planted options: refined emotion classes, the shared cue, missing speech', () => {
    // refine: every emotion class lies on one side of the main boundary (negative = main yes).
    const r = plantedStudy({ participants: 6, perParticipant: 20, seed: 2, emotionClasses: 'refine' });
    for (let i = 0; i < r.n; i++) expect(r.tasks[0].y[i] === 1).toBe(r.tasks[1].y[i] === 0);
    const sym = plantedStudy({ participants: 6, perParticipant: 20, seed: 2 });
    let straddle = 0; // symmetric: the anxious class holds both main classes
    for (let i = 0; i < sym.n; i++) if (sym.tasks[1].y[i] === 1 && sym.tasks[0].y[i] === 1) straddle++;
    expect(straddle).toBeGreaterThan(0);
    // shared: both modalities' bump heights follow one latent, so they correlate across reports.
    const sh = plantedStudy({ participants: 20, perParticipant: 20, seed: 3, cue: 'shared', viewNoise: 0.5 });
    const peakCorr = (d: typeof sh) => {
      const peak = (m: number, i: number) => {
        const mod = d.modalities[m];
        let best = 0;
        for (let t = 0; t < mod.length[i]; t++) { const v = mod.x[(i * mod.steps + t) * mod.features]; if (Math.abs(v) > Math.abs(best)) best = v; }
        return best;
      };
      return corr(Array.from({ length: d.n }, (_, i) => peak(0, i)), Array.from({ length: d.n }, (_, i) => peak(1, i)));
    };
    expect(peakCorr(sh)).toBeGreaterThan(0.5);
    // additive: the latents a, b are independent, so the peaks barely correlate.
    expect(Math.abs(peakCorr(plantedStudy({ participants: 20, perParticipant: 20, seed: 3 })))).toBeLessThan(0.2);
    // nuisance channels: extra features with label-free bumps, zero at padded steps.
    const nu = plantedStudy({ participants: 4, perParticipant: 10, seed: 6, nuisance: 2 });
    expect(nu.modalities[0].features).toBe(5);
    expect(nu.modalities[1].featureNames.slice(3)).toEqual(['nuisance_1', 'nuisance_2']);
    const m0 = nu.modalities[0];
    let peak = 0;
    for (let i = 0; i < nu.n; i++) for (let t = 0; t < m0.steps; t++) {
      const v = m0.x[(i * m0.steps + t) * m0.features + 4];
      if (t >= m0.length[i]) expect(v).toBe(0); else peak = Math.max(peak, Math.abs(v));
    }
    expect(peak).toBeGreaterThan(1);
    expect(plantedStudy({ participants: 4, perParticipant: 10, seed: 6 }).modalities[0].features).toBe(3);
    // missing speech / missing activity (band not worn): only dev/test reports lose that modality,
    // with length 0 and zero content; the other modality is untouched.
    for (const [m, miss] of [[1, { missingSpeech: { eval: 0.5 } }], [0, { missingActivity: { eval: 0.5 } }]] as const) {
      const ms = plantedStudy({ participants: 10, perParticipant: 20, seed: 4, ...miss });
      const mod = ms.modalities[m];
      expect(Array.from(ms.split.train).every((i) => mod.length[i] > 0)).toBe(true);
      const gone = [...ms.split.dev, ...ms.split.test].filter((i) => mod.length[i] === 0);
      expect(gone.length).toBeGreaterThan(0);
      for (const i of gone) expect(mod.x.slice(i * mod.steps * mod.features, (i + 1) * mod.steps * mod.features).every((v) => v === 0)).toBe(true);
      expect(Array.from(ms.modalities[1 - m].length).every((l) => l > 0)).toBe(true);
    }
  });
  it('imbalanced cue: activity shifts every step, speech hides its latent behind a sign channel', () => {
    const d = plantedStudy({ participants: 20, perParticipant: 30, seed: 5, cue: 'imbalanced', activityWeight: 1.2 });
    expect(d.modalities[1].featureNames).toEqual(['value', 'phase_sin', 'phase_cos', 'sign']);
    const { meanA, peak, signedPeak, auc } = readings(d);
    expect(auc(meanA)).toBeGreaterThan(0.8); // activity's plain mean already carries the label
    expect(Math.abs(auc(peak) - 0.5)).toBeLessThan(0.08); // speech's bump alone says nothing…
    expect(auc(signedPeak)).toBeGreaterThan(0.65); // …until multiplied by the sign channel
  });
  it('redundant cue: both modalities read one latent (activity easily, speech through the sign), each nearly sufficient', () => {
    const d = plantedStudy({ participants: 20, perParticipant: 30, seed: 5, cue: 'redundant', viewNoiseA: 0, labelNoise: 0.05, participantSd: 0 });
    const { meanA, peak, signedPeak, auc } = readings(d);
    expect(auc(meanA)).toBeGreaterThan(0.9); // a clean activity view of z: near-perfect alone
    expect(Math.abs(auc(peak) - 0.5)).toBeLessThan(0.08);
    expect(auc(signedPeak)).toBeGreaterThan(0.85); // speech alone is nearly sufficient too, once decoded
    expect(corr(meanA, signedPeak)).toBeGreaterThan(0.6); // the two views share z: what a cross-modal MI term can find without labels
  });
  it('complementary cue: speech carries z₂ (a plain shift) and z₁ (the sign-flipped bump); activity only z₁', () => {
    const d = plantedStudy({ participants: 20, perParticipant: 30, seed: 5, cue: 'complementary' });
    const { meanA, meanB, signedPeak, auc } = readings(d);
    expect(auc(meanA)).toBeGreaterThan(0.65);
    expect(auc(meanB)).toBeGreaterThan(0.65);
    expect(Math.abs(corr(meanA, meanB))).toBeLessThan(0.25); // z₁ and z₂ are independent…
    expect(corr(meanA, signedPeak)).toBeGreaterThan(0.4); // …and speech's decoded bump is activity's z₁
  });
});

const LIFESNAPS = resolve(process.cwd(), '../shared/data/lifesnaps/daily.csv');
describe.skipIf(!existsSync(LIFESNAPS))('LifeSnaps daily sequences (needs ../shared/data; skipped in a clone without it)', () => {
  it('one instance per answered mood report, 7-day sequences, real binary task', async () => {
    const d = await loadLifesnaps(LIFESNAPS);
    expect(d.n).toBe(2290);
    expect(d.modalities.map((m) => [m.name, m.steps])).toEqual([['activity', 7], ['physiology', 7]]);
    expect(d.tasks[0].y.filter((y) => y === 1).length).toBe(598); // SAD or TENSE/ANXIOUS ticked
    expect(d.split.train.length + d.split.dev.length + d.split.test.length).toBe(d.n);
  });
  it('the person prior is each participant\'s training-set rate of the main classes, from training rows only', async () => {
    const d = await loadLifesnaps(LIFESNAPS, { personPrior: true });
    const side = d.modalities[0].side!;
    const S = side.names.length;
    expect(side.names.slice(-2)).toEqual(['prior:negative=no', 'prior:negative=yes']);
    const y = d.tasks[0].y, p = d.participant[d.split.test[0]];
    const train = Array.from(d.split.train).filter((r) => d.participant[r] === p && y[r] >= 0);
    const rate = train.filter((r) => y[r] === 1).length / train.length;
    // Every report of that participant (train, dev and test) carries the same training-set rate.
    for (let i = 0; i < d.n; i++) if (d.participant[i] === p) {
      expect(side.x[i * S + S - 1]).toBeCloseTo(rate, 5);
      expect(side.x[i * S + S - 2]).toBeCloseTo(1 - rate, 5);
    }
  });
});
