/**
 * Realism figures of the synthetic study (in memory, no files): item correlations, night vs day
 * activity, latent → item fit, and the oracle comparison (per-person vs pooled linear fit of the
 * items on the hour's mean activity + voice features, and chance).
 * Usage: npx tsx bench/synth/realism.ts [participants=60] [days=14] [seed=1]
 */
import { simulateParticipant } from '../../src/synth/participant.js';
import { oracleRows, oracleComparison, hourBefore, withinOracle } from '../../src/synth/checks.js';
import { DAMS_ITEMS } from '../../src/data/study.js';
import { localHourOfDay } from '../../src/util/localtime.js';

const [nP = '60', days = '14', seed = '1'] = process.argv.slice(2);
const t0 = performance.now();
const sims = Array.from({ length: Number(nP) }, (_, i) => simulateParticipant(Number(seed), i, Number(days)));
const simSecs = (performance.now() - t0) / 1000;

const pearson = (a: number[], b: number[]) => {
  const n = a.length, ma = a.reduce((s, x) => s + x, 0) / n, mb = b.reduce((s, x) => s + x, 0) / n;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < n; i++) { sab += (a[i] - ma) * (b[i] - mb); saa += (a[i] - ma) ** 2; sbb += (b[i] - mb) ** 2; }
  return sab / Math.sqrt(saa * sbb);
};
const reps = sims.flatMap((s) => s.reports.filter((r) => r.items.every(Number.isFinite)));
const col = (id: string) => reps.map((r) => r.items[DAMS_ITEMS.indexOf(id as never)]);
const corr: Record<string, number> = {};
for (const [a, b] of [['gloomy', 'depressed'], ['gloomy', 'unpleasant'], ['happy', 'cheerful'], ['happy', 'vigorous'], ['anxious', 'worried'], ['happy', 'gloomy'], ['anxious', 'gloomy']]) {
  corr[`${a}~${b}`] = Number(pearson(col(a), col(b)).toFixed(3));
}
let night = 0, nn = 0, day = 0, nd = 0;
for (const s of sims) for (let i = 0; i < s.zcm.length; i += 7) {
  if (!s.recorded[i] || !Number.isFinite(s.zcm[i])) continue;
  const h = localHourOfDay(s.activityStart + i * 60_000, s.params.timezone);
  if (h >= 1 && h < 5) { night += s.zcm[i]; nn++; } else if (h >= 10 && h < 20) { day += s.zcm[i]; nd++; }
}
// Within-person correlation of log hour activity with the true positive-affect deviation, and its spread across people.
const perPerson = sims.map((s) => {
  const xs: number[] = [], ys: number[] = [];
  for (const r of s.reports) { const h = hourBefore(s, r.time); if (h) { xs.push(Math.log1p(h.zcm)); ys.push(r.deviation[1]); } }
  return xs.length > 8 ? pearson(xs, ys) : NaN;
}).filter(Number.isFinite);
const negShare = perPerson.filter((c) => c < 0).length / perPerson.length;
const t1 = performance.now();
const rowsAll = oracleRows(sims);
const oracle = oracleComparison(rowsAll);
// Single modalities: activity only (log hour-mean ZCM, PIM) and voice only.
const subset = (cols: number[]) => rowsAll.map((r) => ({ ...r, x: cols.map((c) => r.x[c]) }));
const nX = rowsAll[0].x.length;
const activityOnly = oracleComparison(subset([0, 1]));
const voiceOnly = oracleComparison(subset(Array.from({ length: nX - 2 }, (_, i) => i + 2)));
// Shared-slope oracle (per-person standardised predictors, one pooled slope, per-person means): the linear analogue of macro-micro.
const w = (rs: typeof rowsAll) => withinOracle(rs);
const wAll = w(rowsAll), wAct = w(subset([0, 1])), wVoice = w(subset(Array.from({ length: nX - 2 }, (_, i) => i + 2)));
const groupMean = (items: number[], ids: string[]) => Number((ids.reduce((s, id) => s + items[DAMS_ITEMS.indexOf(id as never)], 0) / ids.length).toFixed(3));
const groups = { pos: ['happy', 'cheerful', 'vigorous'], dep: ['gloomy', 'depressed', 'unpleasant'], anx: ['anxious', 'worried', 'concerned'] };
const byGroup = (items: number[]) => Object.fromEntries(Object.entries(groups).map(([g, ids]) => [g, groupMean(items, ids)]));
const fmt = (o: Record<string, number>) => Object.fromEntries(Object.entries(o).filter(([k]) => !k.startsWith('n')).map(([k, v]) => [k, Number(v.toFixed(3))]));
console.log(JSON.stringify({
  participants: sims.length, reports: sims.reduce((s, x) => s + x.reports.length, 0), simulateSeconds: Number(simSecs.toFixed(2)),
  itemCorrelations: corr,
  zcmMeanNight1to5: Number((night / nn).toFixed(1)), zcmMeanDay10to20: Number((day / nd).toFixed(1)),
  latentDepVsDepressed: Number(pearson(reps.map((r) => r.latent[0]), col('depressed')).toFixed(3)),
  hourActivityVsPosDeviation: {
    meanWithinPersonR: Number((perPerson.reduce((s, x) => s + x, 0) / perPerson.length).toFixed(3)),
    shareNegative: Number(negShare.toFixed(2)),
  },
  oracleMeanCcc: Object.fromEntries(Object.entries(oracle).map(([k, v]) => [k, Number(v.toFixed(3))])),
  oracleActivityOnly: fmt(activityOnly as never),
  oracleVoiceOnly: fmt(voiceOnly as never),
  sharedSlopeOracle: {
    all: { mean: Number(wAll.mean.toFixed(3)), ...byGroup(wAll.items) },
    activityOnly: { mean: Number(wAct.mean.toFixed(3)), ...byGroup(wAct.items) },
    voiceOnly: { mean: Number(wVoice.mean.toFixed(3)), ...byGroup(wVoice.items) },
  },
  oracleSeconds: Number(((performance.now() - t1) / 1000).toFixed(2)),
}, null, 1));
