/**
 * The four reference predictors (issue 16) against hand computations on a small study folder
 * written here: 2 participants × 5 days × 3 reports (items on 1–5, one `counts` channel, a
 * 3-epoch window), rated at the end of each day (`answered_at` 23:00, as in a diary), one item
 * left unanswered where it matters. Nothing here reads ../shared.
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildDataset, chronologicalSplit } from '../../src/data/index.js';
import type { Dataset } from '../../src/data/dataset.js';
import {
  globalMeanPredictions, personMeanPredictions, lastReportPredictions, personMeanRidgePredictions,
} from '../../src/eval/baselines.js';
import { evaluateWithBaselines } from '../../src/eval/evaluate.js';
import { ccc } from '../../src/eval/metrics.js';
import { Rng } from '../../src/util/random.js';

const DAYS = 5, PER_DAY = 3, HOURS = [12, 18, 23], W = 3;
const PIDS = ['pa', 'pb'];

interface Rep { id: string; pid: string; day: number; r: number; time: number; answered: number; mood: number | null; stress: number | null; epochs: number[] }

/** The study's reports, generated from a seed (the truth the hand computations use). */
function makeReports(): Rep[] {
  const rng = new Rng(11), out: Rep[] = [];
  const day0 = Date.UTC(2021, 2, 1);
  for (const [p, pid] of PIDS.entries()) for (let day = 0; day < DAYS; day++) for (let r = 0; r < PER_DAY; r++) {
    const time = day0 + day * 864e5 + (HOURS[r] - 1) * 36e5; // +01:00 local → UTC
    const answered = day0 + day * 864e5 + 22 * 36e5;
    const mood = 1 + rng.int(5), stress = 1 + ((rng.int(5) + p * 2) % 5);
    out.push({
      id: `${pid}-${day}-${r}`, pid, day, r, time, answered,
      mood,
      // pa's last report of day 3 leaves stress unanswered: its stress "last report" is day 3's afternoon.
      stress: pid === 'pa' && day === 3 && r === 2 ? null : stress,
      epochs: Array.from({ length: W }, () => Math.round(rng.uniform(0, 50 + 30 * p) * 10) / 10),
    });
  }
  return out;
}

function writeStudyFolder(reps: Rep[], withAnsweredAt: boolean): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'baselines-')), 'study');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'study.json'), JSON.stringify({
    name: 'baselines', timezone: 'Europe/Brussels',
    items: [{ id: 'mood', min: 1, max: 5 }, { id: 'stress', min: 1, max: 5 }],
    activity: { epochSeconds: 60, channels: ['counts'] }, window: { epochs: W }, speech: { kind: 'none' },
  }));
  writeFileSync(join(dir, 'participants.csv'), `participant_id\n${PIDS.join('\n')}\n`);
  const iso = (t: number) => new Date(t + 36e5).toISOString().replace('.000Z', '+01:00');
  const lines = [`report_id,participant_id,time,${withAnsweredAt ? 'answered_at,' : ''}trigger,mood,stress`];
  const act = ['participant_id,time,counts'];
  for (const q of reps) {
    lines.push([q.id, q.pid, iso(q.time), ...(withAnsweredAt ? [iso(q.answered)] : []), 'scheduled', q.mood ?? '', q.stress ?? ''].join(','));
    q.epochs.forEach((v, e) => act.push([q.pid, iso(q.time - (W - e) * 60_000), String(v)].join(',')));
  }
  writeFileSync(join(dir, 'reports.csv'), lines.join('\n') + '\n');
  writeFileSync(join(dir, 'activity.csv'), act.join('\n') + '\n');
  return dir;
}

const scaled = (v: number | null) => (v === null ? NaN : (v - 1) / 4);
const val = (q: Rep, k: number) => scaled(k === 0 ? q.mood : q.stress);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** The instance index of a report id. */
const at = (ds: Dataset, id: string) => ds.reportIds.indexOf(id);

describe('reference baselines (hand computations)', async () => {
  const reps = makeReports();
  const { dataset: ds } = await buildDataset(writeStudyFolder(reps, true), { policy: 'masked', progress: false });
  const split = chronologicalSplit(ds);
  // Per participant 15 reports: 11 train, 2 dev (day 3 evening, day 4 noon), 2 test (day 4 afternoon, evening).
  const role = (q: Rep) => { const j = q.day * PER_DAY + q.r; return j < 11 ? 'train' : j < 13 ? 'dev' : 'test'; };
  const trainReps = reps.filter((q) => role(q) === 'train'), testReps = reps.filter((q) => role(q) === 'test');
  const testIdx = Int32Array.from(testReps.map((q) => at(ds, q.id)));

  it('uses the chronological split the hand computation assumes', () => {
    expect(Array.from(split.test, (i) => ds.reportIds[i]).sort()).toEqual(testReps.map((q) => q.id).sort());
    expect(split.train.length).toBe(22);
    expect(ds.answeredAt![at(ds, 'pa-0-0')]).toBe(reps[0].answered);
  });

  it('globalMean and personMean are the training means per item (participant, then global)', () => {
    const g = globalMeanPredictions(ds, split.train, testIdx), p = personMeanPredictions(ds, split.train, testIdx);
    testReps.forEach((q, r) => {
      for (let k = 0; k < 2; k++) {
        const all = trainReps.map((x) => val(x, k)).filter((v) => !Number.isNaN(v));
        const own = trainReps.filter((x) => x.pid === q.pid).map((x) => val(x, k)).filter((v) => !Number.isNaN(v));
        expect(g[r * 2 + k]).toBeCloseTo(mean(all), 6);
        expect(p[r * 2 + k]).toBeCloseTo(mean(own), 6);
      }
    });
  });

  it('lastReport takes the latest report answered strictly before (previous days only), per item', () => {
    const l = lastReportPredictions(ds, split.train, testIdx);
    testReps.forEach((q, r) => {
      // All of day 4 is answered at once: its afternoon and evening reports see day 3 only.
      const prev = reps.find((x) => x.pid === q.pid && x.day === 3 && x.r === 2)!;
      expect(l[r * 2]).toBeCloseTo(val(prev, 0), 6);
      const prevStress = q.pid === 'pa' ? reps.find((x) => x.pid === 'pa' && x.day === 3 && x.r === 1)! : prev;
      expect(l[r * 2 + 1]).toBeCloseTo(val(prevStress, 1), 6);
    });
    // The first day has nothing answered before it: the person mean.
    const first = Int32Array.of(at(ds, 'pb-0-2'));
    expect(lastReportPredictions(ds, split.train, first)[0]).toBeCloseTo(personMeanPredictions(ds, split.train, first)[0], 6);
  });

  it('without answered_at, lastReport is the immediately preceding report', async () => {
    const { dataset: d2 } = await buildDataset(writeStudyFolder(reps, false), { policy: 'masked', progress: false });
    const s2 = chronologicalSplit(d2);
    const idx = Int32Array.from(testReps.map((q) => at(d2, q.id)));
    const l = lastReportPredictions(d2, s2.train, idx);
    testReps.forEach((q, r) => {
      const prev = reps.find((x) => x.pid === q.pid && x.day === q.day && x.r === q.r - 1)!;
      expect(l[r * 2]).toBeCloseTo(val(prev, 0), 6);
    });
  });

  it('personMeanRidge = person mean + ridge (α given) on within-person z-scored window mean and SD', () => {
    const alpha = 2;
    const feats = (q: Rep) => { const x = q.epochs.map(Math.log1p), m = mean(x); return [m, Math.sqrt(mean(x.map((v) => (v - m) ** 2)))]; };
    // Per participant z-scoring with the training reports' population mean/SD of each summary.
    const z = new Map<string, number[]>();
    for (const pid of PIDS) {
      const tr = trainReps.filter((x) => x.pid === pid).map(feats);
      const st = [0, 1].map((f) => { const v = tr.map((t) => t[f]), m = mean(v); return [m, Math.sqrt(mean(v.map((x) => (x - m) ** 2)))]; });
      for (const q of reps.filter((x) => x.pid === pid)) z.set(q.id, feats(q).map((v, f) => (v - st[f][0]) / st[f][1]));
    }
    const pm = (pid: string, k: number) => mean(trainReps.filter((x) => x.pid === pid).map((x) => val(x, k)).filter((v) => !Number.isNaN(v)));
    const { predicted, fit } = personMeanRidgePredictions(ds, split, testIdx, { ridgeAlpha: alpha });
    expect(fit.alpha).toBe(alpha);
    expect(fit.features).toEqual(['counts_mean', 'counts_sd']);
    for (let k = 0; k < 2; k++) {
      // Closed-form 2 × 2 ridge: w = (XᵀX + αI)⁻¹ Xᵀ r.
      let a = alpha, b = 0, d = alpha, u = 0, v = 0;
      for (const q of trainReps) {
        const y = val(q, k); if (Number.isNaN(y)) continue;
        const [x1, x2] = z.get(q.id)!, res = y - pm(q.pid, k);
        a += x1 * x1; b += x1 * x2; d += x2 * x2; u += x1 * res; v += x2 * res;
      }
      const det = a * d - b * b, w1 = (d * u - b * v) / det, w2 = (a * v - b * u) / det;
      expect(fit.weights[k * 2]).toBeCloseTo(w1, 6);
      expect(fit.weights[k * 2 + 1]).toBeCloseTo(w2, 6);
      testReps.forEach((q, r) => {
        const [x1, x2] = z.get(q.id)!;
        expect(predicted[r * 2 + k]).toBeCloseTo(Math.min(1, Math.max(0, pm(q.pid, k) + w1 * x1 + w2 * x2)), 5);
      });
    }
    // Without a given α, one of the grid is chosen on the development reports.
    expect([0.1, 1, 10, 100, 1000]).toContain(personMeanRidgePredictions(ds, split, testIdx).fit.alpha);
  });

  it('evaluateWithBaselines scores every baseline on the same reports and pairs the model with the best', () => {
    const idx = Int32Array.from([...split.dev, ...split.test]); // 8 reports: enough spread for CCCs
    const truth = Float32Array.from(Array.from(idx).flatMap((i) => [ds.labels[i * 2], ds.labels[i * 2 + 1]]).map((y) => (Number.isNaN(y) ? 0.5 : y)));
    const e = evaluateWithBaselines(ds, split, idx, truth, { B: 200 });
    expect(Object.keys(e.baselines)).toEqual(['globalMean', 'personMean', 'lastReport', 'personMeanRidge']);
    for (const b of Object.values(e.baselines)) {
      expect(Object.keys(b).sort()).toEqual(Object.keys(e).filter((k) => k !== 'baselines' && k !== 'vsBestBaseline').sort());
      expect(b.n).toBe(e.n);
    }
    // personMean's mean CCC is the plain CCC of the hand predictions, item by item.
    const pmPred = personMeanPredictions(ds, split.train, idx);
    const items = [0, 1].map((k) => ccc(Float64Array.from(idx, (i) => ds.labels[i * 2 + k]), Float64Array.from(idx, (_, r) => pmPred[r * 2 + k])));
    expect(e.baselines.personMean.meanCCC).toBeCloseTo(mean(items), 10);
    // The global mean is a constant: CCC 0 (its covariance with anything is 0).
    expect(e.baselines.globalMean.meanCCC).toBeCloseTo(0, 10);
    // The best baseline is the one with the highest mean CCC; the model (the truth) beats it.
    const best = Object.entries(e.baselines).sort((x, y) => y[1].meanCCC - x[1].meanCCC)[0][0];
    expect(e.vsBestBaseline.baseline).toBe(best);
    expect(e.vsBestBaseline.mean.a).toBeCloseTo(e.meanCCC, 10);
    expect(e.vsBestBaseline.mean.b).toBeCloseTo(e.baselines[best as 'personMean'].meanCCC, 10);
    expect(e.vsBestBaseline.mean.diff).toBeGreaterThan(0);
  });
});

describe('experiment tables carry the baselines', async () => {
  const { baselineSummaries, markdownTable } = await import('../../src/eval/report.js');
  const reps = makeReports();
  const { dataset: ds } = await buildDataset(writeStudyFolder(reps, true), { policy: 'masked', progress: false });
  const split = chronologicalSplit(ds);
  it('one row per baseline, scored on the test split as evaluateWithBaselines scores it', () => {
    const rows = baselineSummaries(ds, split, 'fusion', 100);
    const e = evaluateWithBaselines(ds, split, split.test, new Float32Array(split.test.length * 2).fill(0.5), { B: 100 });
    expect(rows.map((r) => r.id)).toEqual(['baseline-globalMean', 'baseline-personMean', 'baseline-lastReport', 'baseline-personMeanRidge']);
    for (const r of rows) {
      const b = e.baselines[r.id.slice('baseline-'.length) as 'personMean'];
      expect(r.mean).toBeCloseTo(b.meanCCC, 10);
      expect(r.items.mood).toBeCloseTo(b.items.mood.ccc, 10);
    }
    const md = markdownTable('t', rows);
    expect(md).toMatch(/\| reference: participant's training mean \| /);
    expect(md).toMatch(/\| reference: last report answered before \| /);
  });
});
