import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { synthesizeStudy, simulateParticipant, type SimParticipant } from '../../src/synth/index.js';
import { oracleComparison, oracleRows, hourBefore, withinOracle } from '../../src/synth/checks.js';
import { SPEECH_FEATURES } from '../../src/synth/features.js';
import { readCsv } from '../../src/util/csv.js';
import { DAMS_ITEMS, StudyConfigSchema } from '../../src/data/study.js';
import { localHourOfDay, localIso } from '../../src/util/localtime.js';

async function rows(path: string): Promise<Record<string, string>[]> {
  const out: Record<string, string>[] = [];
  for await (const r of readCsv(path)) out.push(r.values);
  return out;
}
function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}
function pearson(a: number[], b: number[]): number {
  const n = a.length, ma = a.reduce((s, x) => s + x, 0) / n, mb = b.reduce((s, x) => s + x, 0) / n;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < n; i++) { sab += (a[i] - ma) * (b[i] - mb); saa += (a[i] - ma) ** 2; sbb += (b[i] - mb) ** 2; }
  return sab / Math.sqrt(saa * sbb);
}
/** Local wall-clock minutes since midnight from an ISO string with offset ("…T11:04:12+02:00"). */
const localMinutes = (iso: string) => Number(iso.slice(11, 13)) * 60 + Number(iso.slice(14, 16)) + Number(iso.slice(17, 19)) / 60;
const tmp = () => mkdtempSync(join(tmpdir(), 'ml-synth-'));

describe('synthetic study: files (6 participants × 4 days)', () => {
  let a: string, b: string, c: string, three: string;
  beforeAll(async () => {
    a = tmp(); b = tmp(); c = tmp(); three = tmp();
    await synthesizeStudy({ out: a, participants: 6, days: 4, seed: 3 });
    await synthesizeStudy({ out: b, participants: 6, days: 4, seed: 3 });
    await synthesizeStudy({ out: c, participants: 6, days: 4, seed: 4 });
    await synthesizeStudy({ out: three, participants: 3, days: 4, seed: 3 });
  });

  it('is byte-identical for the same seed and differs for another seed', () => {
    const fa = filesUnder(a).map((f) => relative(a, f)).sort();
    expect(fa).toEqual(filesUnder(b).map((f) => relative(b, f)).sort());
    expect(fa).toContain('ground_truth/reports.csv');
    for (const f of fa) expect(readFileSync(join(a, f)).equals(readFileSync(join(b, f))), f).toBe(true);
    expect(readFileSync(join(a, 'reports.csv')).equals(readFileSync(join(c, 'reports.csv')))).toBe(false);
  });

  it('gives each participant the same data whatever the study size (per-participant random streams)', async () => {
    const r6 = (await rows(join(a, 'reports.csv'))).filter((r) => r.participant_id === 'P003');
    const r3 = (await rows(join(three, 'reports.csv'))).filter((r) => r.participant_id === 'P003');
    expect(r6.length).toBeGreaterThan(5);
    expect(r3).toEqual(r6);
  });

  it('writes a valid study.json with the schedule filled', () => {
    const cfg = StudyConfigSchema.parse(JSON.parse(readFileSync(join(a, 'study.json'), 'utf8')));
    expect(cfg.items.map((i) => i.id)).toEqual([...DAMS_ITEMS]);
    expect(cfg.activity.channels).toEqual(['zcm', 'pim']);
    expect(cfg.speech.kind).toBe('features');
    expect(cfg.schedule).toEqual({ times: ['11:00', '15:00', '19:00'], jitterMinutes: 10, wakeAndBed: true, days: 4 });
  });

  it('follows the protocol: ≤ 3 scheduled prompts a day within ±10 min of 11/15/19 local, plus wake and bed', async () => {
    const reps = await rows(join(a, 'reports.csv'));
    const triggers = new Set(reps.map((r) => r.trigger));
    expect(triggers.has('scheduled') && triggers.has('wake') && triggers.has('bed')).toBe(true);
    const perDay = new Map<string, number>();
    for (const r of reps) {
      expect(r.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/);
      if (r.trigger !== 'scheduled') continue;
      const m = localMinutes(r.time);
      const nearest = Math.min(...[11, 15, 19].map((h) => Math.abs(m - h * 60)));
      expect(nearest).toBeLessThanOrEqual(10);
      const key = r.participant_id + r.time.slice(0, 10);
      perDay.set(key, (perDay.get(key) ?? 0) + 1);
    }
    expect(Math.max(...perDay.values())).toBeLessThanOrEqual(3);
    // Skipped prompts: fewer scheduled reports than 6 × 4 × 3.
    expect(reps.filter((r) => r.trigger === 'scheduled').length).toBeLessThan(72);
    // Item order: a permutation of the 9 items, not always the same.
    const orders = reps.map((r) => r.item_order);
    for (const o of orders) expect(o.split(';').sort()).toEqual([...DAMS_ITEMS].sort());
    expect(new Set(orders).size).toBeGreaterThan(reps.length / 2);
  });

  it('writes items as integers 0–100 and activity lower at night than by day', async () => {
    const reps = await rows(join(a, 'reports.csv'));
    for (const r of reps) for (const id of DAMS_ITEMS) {
      if (r[id] === '') continue;
      expect(r[id]).toMatch(/^\d+$/);
      expect(Number(r[id])).toBeLessThanOrEqual(100);
    }
    const act = await rows(join(a, 'activity.csv'));
    let night = 0, nn = 0, day = 0, nd = 0;
    for (const r of act) {
      if (r.zcm === '') continue;
      const h = localMinutes(r.time) / 60;
      if (h >= 1 && h < 5) { night += Number(r.zcm); nn++; } else if (h >= 10 && h < 20) { day += Number(r.zcm); nd++; }
    }
    expect(night / nn).toBeLessThan(0.1 * (day / nd));
    expect(act.filter((r) => r.zcm === '0').length).toBeGreaterThan(act.length / 5); // realistic zeros
  });

  it('writes ground truth whose latent state predicts the items', async () => {
    const gt = await rows(join(a, 'ground_truth/reports.csv'));
    const reps = await rows(join(a, 'reports.csv'));
    expect(gt.map((r) => r.report_id)).toEqual(reps.map((r) => r.report_id));
    const pairs = reps.map((r, i) => [Number(gt[i].z_dep), r.depressed === '' ? NaN : Number(r.depressed)]).filter(([, y]) => Number.isFinite(y));
    expect(pairs.length).toBeGreaterThan(40);
    expect(pearson(pairs.map((p) => p[0]), pairs.map((p) => p[1]))).toBeGreaterThan(0.6);
    const people = JSON.parse(readFileSync(join(a, 'ground_truth/participants.json'), 'utf8'));
    expect(people.participants).toHaveLength(6);
    expect(people.participants[0].coupling.activity).toHaveLength(3);
  });
});

describe('synthetic study: in-memory properties (40 participants × 14 days)', () => {
  let sims: SimParticipant[];
  beforeAll(() => { sims = Array.from({ length: 40 }, (_, i) => simulateParticipant(11, i, 14)); });

  it('correlates items as designed', () => {
    const reps = sims.flatMap((s) => s.reports.filter((r) => r.items.every(Number.isFinite)));
    const col = (id: (typeof DAMS_ITEMS)[number]) => reps.map((r) => r.items[DAMS_ITEMS.indexOf(id)]);
    expect(pearson(col('gloomy'), col('depressed'))).toBeGreaterThan(0.5);
    expect(pearson(col('happy'), col('cheerful'))).toBeGreaterThan(0.5);
    expect(pearson(col('anxious'), col('worried'))).toBeGreaterThan(0.5);
    expect(pearson(col('happy'), col('gloomy'))).toBeLessThan(-0.1);
  });

  it('has person-specific couplings: activity follows mood with different strength and sign across people', () => {
    const betaPos = sims.map((s) => s.params.coupling.activity[1]);
    expect(Math.min(...betaPos)).toBeLessThan(0);
    expect(Math.max(...betaPos)).toBeGreaterThan(0.4);
    // Observed: within-person correlation of the hour's activity with positive affect differs in sign across people.
    const r = sims.map((s) => {
      const xs: number[] = [], ys: number[] = [];
      for (const rep of s.reports) { const h = hourBefore(s, rep.time); if (h) { xs.push(Math.log1p(h.zcm)); ys.push(rep.deviation[1]); } }
      return pearson(xs, ys);
    });
    expect(r.filter((x) => x > 0.3).length).toBeGreaterThan(5);
    expect(r.filter((x) => x < -0.1).length).toBeGreaterThan(0);
  });

  it('keeps prompts at local clock times across a daylight-saving change', () => {
    const dst = sims.filter((s) => ['Europe/Berlin', 'Europe/London', 'America/New_York'].includes(s.params.timezone)
      && new Set(s.reports.map((r) => localIso(r.time, s.params.timezone).slice(19))).size === 2);
    expect(dst.length).toBeGreaterThan(3);
    for (const s of dst) for (const r of s.reports) {
      if (r.trigger !== 'scheduled') continue;
      const m = localHourOfDay(r.time, s.params.timezone) * 60;
      expect(Math.min(...[11, 15, 19].map((h) => Math.abs(m - h * 60)))).toBeLessThanOrEqual(10);
    }
    expect(new Set(sims.map((s) => s.params.timezone)).size).toBeGreaterThanOrEqual(4);
  });

  it('has realistic missingness: skipped prompts, gaps, off-wrist nights, failed and corrupt recordings, unanswered items', () => {
    const reps = sims.flatMap((s) => s.reports);
    const scheduled = reps.filter((r) => r.trigger === 'scheduled').length;
    expect(scheduled).toBeLessThan(40 * 14 * 3 * 0.95);
    expect(scheduled).toBeGreaterThan(40 * 14 * 3 * 0.6);
    const gaps = sims.flatMap((s) => s.gaps);
    expect(gaps.some((g) => g.kind === 'charging')).toBe(true);
    expect(gaps.some((g) => g.kind === 'off_wrist')).toBe(true);
    expect(sims.some((s) => s.zcm.some((v) => Number.isNaN(v)))).toBe(true);
    expect(sims.some((s) => s.recorded.some((v) => v === 0))).toBe(true);
    const status = new Set(reps.map((r) => r.speech));
    expect(status.has('missing')).toBe(true);
    expect([...status].filter((s) => s !== 'ok' && s !== 'missing').length).toBeGreaterThan(0);
    expect(reps.some((r) => r.items.some((v) => Number.isNaN(v)))).toBe(true);
    expect(reps.filter((r) => r.speech === 'missing').length / reps.length).toBeLessThan(0.2);
    // Dropouts (≈ 5 % of people): no reports and no recorded epochs after they stop.
    expect(sims.some((s) => s.gaps.some((g) => g.kind === 'dropout'))).toBe(true);
    for (const s of sims) for (const g of s.gaps.filter((x) => x.kind === 'dropout')) {
      expect(s.reports.every((r) => r.time < g.start)).toBe(true);
      expect(s.recorded[s.recorded.length - 1]).toBe(0);
    }
  });

  it('lets a personalised oracle beat a pooled one, and both beat chance', () => {
    const res = oracleComparison(oracleRows(sims));
    expect(res.nTest).toBeGreaterThan(300);
    expect(res.chance).toBeCloseTo(0, 6);
    expect(res.pooled).toBeGreaterThan(0.15);
    expect(res.personal).toBeGreaterThan(res.pooled + 0.1);
    // Activity and voice carry within-person information beyond each person's mean.
    expect(res.personal).toBeGreaterThan(res.personalMean + 0.03);
  });

  it('makes each modality informative and the two together at least as good as the better one', () => {
    const rows = oracleRows(sims);
    const only = (cols: number[]) => oracleComparison(rows.map((r) => ({ ...r, x: cols.map((c) => r.x[c]) })));
    const both = oracleComparison(rows);
    const activity = only([0, 1]);
    const voice = only(Array.from({ length: rows[0].x.length - 2 }, (_, i) => i + 2));
    expect(activity.personal).toBeGreaterThan(both.personalMean + 0.02);
    expect(voice.personal).toBeGreaterThan(both.personalMean + 0.02);
    expect(both.personal).toBeGreaterThanOrEqual(Math.max(activity.personal, voice.personal) - 0.005);
  });

  it('makes the modalities complementary: activity carries positive affect, the voice anxiety; together they beat either', () => {
    const rows = oracleRows(sims);
    const only = (cols: number[]) => withinOracle(rows.map((r) => ({ ...r, x: cols.map((c) => r.x[c]) })));
    const activity = only([0, 1]), voice = only(Array.from({ length: rows[0].x.length - 2 }, (_, i) => i + 2)), both = withinOracle(rows);
    const mean = (res: { items: number[] }, ids: string[]) => ids.reduce((s, id) => s + res.items[DAMS_ITEMS.indexOf(id as never)], 0) / ids.length;
    const pos = ['happy', 'cheerful', 'vigorous'], anx = ['anxious', 'worried', 'concerned'];
    expect(mean(activity, pos)).toBeGreaterThan(mean(voice, pos) + 0.03);
    expect(mean(voice, anx)).toBeGreaterThan(mean(activity, anx) + 0.03);
    expect(both.mean).toBeGreaterThan(Math.max(activity.mean, voice.mean) + 0.02);
  });
});

describe('synthetic study: audio mode (3 participants × 2 days)', () => {
  let dir: string;
  beforeAll(async () => { dir = tmp(); await synthesizeStudy({ out: dir, participants: 3, days: 2, seed: 5, speech: 'audio' }); });

  function decodeWav(buf: Buffer): { rate: number; channels: number; bits: number; samples: Int16Array } {
    expect(buf.toString('ascii', 0, 4)).toBe('RIFF');
    expect(buf.toString('ascii', 8, 12)).toBe('WAVE');
    const dataBytes = buf.readUInt32LE(40);
    expect(44 + dataBytes).toBe(buf.length);
    const samples = new Int16Array(dataBytes / 2);
    for (let i = 0; i < samples.length; i++) samples[i] = buf.readInt16LE(44 + 2 * i);
    return { rate: buf.readUInt32LE(24), channels: buf.readUInt16LE(22), bits: buf.readUInt16LE(34), samples };
  }
  /** Median autocorrelation pitch (Hz) over the loudest 40 ms frames. */
  function pitch(x: Int16Array, sr: number): number {
    const frame = Math.round(0.04 * sr), hop = frame;
    const frames: Array<{ e: number; i: number }> = [];
    for (let i = 0; i + frame <= x.length; i += hop) { let e = 0; for (let k = 0; k < frame; k++) e += x[i + k] ** 2; frames.push({ e, i }); }
    frames.sort((p, q) => q.e - p.e);
    const f0s = frames.slice(0, 8).map(({ i }) => {
      let best = 0, lag = 0;
      for (let L = Math.floor(sr / 400); L <= Math.ceil(sr / 70); L++) {
        let s = 0, n0 = 0, n1 = 0;
        for (let k = 0; k + L < frame; k++) { s += x[i + k] * x[i + k + L]; n0 += x[i + k] ** 2; n1 += x[i + k + L] ** 2; }
        const r = s / Math.sqrt(n0 * n1 + 1e-9);
        if (r > best) { best = r; lag = L; }
      }
      return sr / lag;
    }).sort((p, q) => p - q);
    return f0s[Math.floor(f0s.length / 2)];
  }

  it('writes decodable 16 kHz mono 16-bit WAVs of 2–4 s whose pitch and length follow the voice parameters', async () => {
    const cfg = JSON.parse(readFileSync(join(dir, 'study.json'), 'utf8'));
    expect(cfg.speech.kind).toBe('audio');
    const speech = await rows(join(dir, 'speech.csv'));
    const gt = new Map((await rows(join(dir, 'ground_truth/reports.csv'))).map((r) => [r.report_id, r]));
    expect(speech.length).toBeGreaterThan(10);
    const durations: number[] = [], rates: number[] = [];
    let checkedPitch = 0;
    for (const s of speech) {
      const g = gt.get(s.report_id)!;
      expect(g.speech_status).not.toBe('missing');
      const w = decodeWav(readFileSync(join(dir, s.file)));
      expect([w.rate, w.channels, w.bits]).toEqual([16000, 1, 16]);
      if (g.speech_status !== 'ok') continue;
      const secs = w.samples.length / w.rate;
      expect(secs).toBeGreaterThan(2); expect(secs).toBeLessThan(4.5);
      durations.push(secs); rates.push(Number(g.rate_syll_per_s));
      if (checkedPitch < 6) {
        const f0 = pitch(w.samples, w.rate);
        expect(Math.abs(f0 / Number(g.f0_hz) - 1)).toBeLessThan(0.2);
        checkedPitch++;
      }
    }
    // Slower speech → longer recordings.
    expect(pearson(durations, rates.map((r) => 1 / r))).toBeGreaterThan(0.5);
    for (const f of SPEECH_FEATURES) expect(f).toMatch(/^[A-Za-z0-9_.\-]+$/);
  });
});
