import { describe, expect, it } from 'vitest';
import { buildDataset, loadStudy, DROP_REASONS, modalityNames } from '../../src/data/index.js';
import { epochValue, tempDir, validStudy, writeStudy } from './fixture.js';

process.env.MOODLENS_QUIET = '1';
const MIN = 60_000;

describe('instances', () => {
  it('takes exactly the W epochs that ended before each report, channel-major', async () => {
    const { dataset: d, dropped } = await buildDataset(writeStudy(tempDir(), validStudy()), { policy: 'complete' });
    expect(dropped).toEqual({});
    expect(d.n).toBe(18);
    expect(modalityNames(d)).toEqual(['zcm', 'pim', 'speech']);
    const W = d.windowEpochs, C = d.channels.length;
    expect(W).toBe(5);
    for (let i = 0; i < d.n; i++) {
      // Report at hh:17:30 → the epochs starting hh:12, …, hh:16 (the last one ends at hh:17 ≤ report).
      const ta = Math.floor(d.time[i] / MIN) * MIN;
      for (let c = 0; c < C; c++) {
        for (let w = 0; w < W; w++) {
          expect(d.activity[i * C * W + c * W + w]).toBe(epochValue(ta - (W - w) * MIN, c));
        }
      }
      expect(Array.from(d.modalityMask.subarray(i * 3, i * 3 + 3))).toEqual([1, 1, 1]);
    }
    // Instances are ordered by participant, then time.
    for (let i = 1; i < d.n; i++) {
      expect(d.participant[i] > d.participant[i - 1] || (d.participant[i] === d.participant[i - 1] && d.time[i] > d.time[i - 1])).toBe(true);
    }
    // Labels scaled by each item's min/max: c is on 1–5.
    const K = 3;
    const c0 = d.labels[0 * K + 2];
    expect(c0).toBeGreaterThanOrEqual(0);
    expect(c0).toBeLessThanOrEqual(1);
    expect([0, 0.25, 0.5, 0.75, 1]).toContain(c0);
    expect(d.speech[0]).toBe(0); // f0 of p1-d0-r0
    expect(d.speechFeatures).toEqual(['f0', 'f1']);
    expect(d.covariates!.mood_note[0]).toBe('note');
  });

  it('activity times without offset are read in the participant\'s zone', async () => {
    const base = await buildDataset(writeStudy(tempDir(), validStudy({ speech: false })), { policy: 'masked' });
    const f = validStudy({ speech: false });
    // Rewrite p1's (Asia/Tokyo, +09:00) and p2's (Europe/Berlin, +02:00 in September) epoch starts as local wall-clock times.
    const offsetH: Record<string, number> = { p1: 9, p2: 2 };
    f['activity.csv'] = f['activity.csv']!.map((r, i) => {
      if (i === 0 || !(r[0] in offsetH)) return r;
      const local = new Date(Date.parse(r[1]) + offsetH[r[0]] * 3_600_000).toISOString().slice(0, 19);
      return [r[0], local, r[2], r[3]];
    });
    expect(f['activity.csv']![1][1]).toBe('2022-09-05T09:00:00');
    const local = await buildDataset(writeStudy(tempDir(), f), { policy: 'masked' });
    expect(Array.from(local.dataset.activity)).toEqual(Array.from(base.dataset.activity));
    expect(Array.from(local.dataset.modalityMask)).toEqual(Array.from(base.dataset.modalityMask));
  });

  it('a report exactly on an epoch boundary excludes the epoch that starts at the report', async () => {
    const f = validStudy({ speech: false });
    f['reports.csv']![1][2] = '2022-09-05T06:00:00Z';
    const { dataset: d } = await buildDataset(writeStudy(tempDir(), f), { policy: 'complete' });
    const t = Date.UTC(2022, 8, 5, 6);
    const i = d.reportIds.indexOf('p1-d0-r0');
    expect(Array.from(d.activity.subarray(i * 10, i * 10 + 5))).toEqual([5, 4, 3, 2, 1].map((k) => epochValue(t - k * MIN, 0)));
  });

  it('a gap in the window gives NaN and mask 0; policies keep or drop it with a reason', async () => {
    const f = validStudy();
    // Remove p2's epoch 10:14 UTC on day 0 (inside the window of report p2-d0-r1 at 10:17:30).
    const gapTime = '2022-09-05T10:14:00Z';
    f['activity.csv'] = f['activity.csv']!.filter((r) => !(r[0] === 'p2' && r[1] === gapTime));
    // p3-d0-r0: item b not answered (empty cell — missing, never zero).
    const rows = f['reports.csv']!;
    const ri = rows.findIndex((r) => r[0] === 'p3-d0-r0');
    rows[ri][5] = '';
    // p3-d1-r2: nothing answered.
    const rn = rows.findIndex((r) => r[0] === 'p3-d1-r2');
    rows[rn][4] = ''; rows[rn][5] = ''; rows[rn][6] = '';
    // p1-d1-r0: no speech features.
    f['speech_features.csv'] = f['speech_features.csv']!.filter((r) => r[0] !== 'p1-d1-r0');
    const dir = writeStudy(tempDir(), f);
    const study = (await loadStudy(dir)).study!;

    const complete = await buildDataset(study, { policy: 'complete' });
    expect(complete.dataset.n).toBe(14);
    expect(complete.dropped).toEqual({
      [DROP_REASONS.activity]: 1, [DROP_REASONS.someItems]: 1, [DROP_REASONS.noItems]: 1, [DROP_REASONS.speech]: 1,
    });
    expect(complete.dataset.reportIds).not.toContain('p2-d0-r1');

    const masked = await buildDataset(study, { policy: 'masked' });
    const d = masked.dataset;
    expect(d.n).toBe(17);
    expect(masked.dropped).toEqual({ [DROP_REASONS.noItems]: 1 });
    const W = 5, C = 2, M = 3, K = 3;
    const g = d.reportIds.indexOf('p2-d0-r1');
    const zcm = Array.from(d.activity.subarray(g * C * W, g * C * W + W));
    expect(Number.isNaN(zcm[2])).toBe(true); // slots 10:12, 10:13, [10:14], 10:15, 10:16
    expect(zcm.filter((v) => Number.isNaN(v))).toHaveLength(1);
    expect(Array.from(d.modalityMask.subarray(g * M, g * M + M))).toEqual([0, 0, 1]);
    const b = d.reportIds.indexOf('p3-d0-r0');
    expect(Number.isNaN(d.labels[b * K + 1])).toBe(true);
    expect(Number.isNaN(d.labels[b * K + 0])).toBe(false);
    const s = d.reportIds.indexOf('p1-d1-r0');
    expect(d.modalityMask[s * M + 2]).toBe(0);
    expect(Number.isNaN(d.speech[s * 2])).toBe(true);
    // Participant indices are stable across policies (all of participants.csv).
    expect(d.participantIds).toEqual(complete.dataset.participantIds);
  });

  it('audio speech without features: speech missing for every report, and a note says so', async () => {
    const f = validStudy({ speech: false });
    (f['study.json'] as { speech: { kind: string } }).speech.kind = 'audio';
    f['speech.csv'] = [['report_id', 'file']];
    const res = await buildDataset(writeStudy(tempDir(), f), { policy: 'complete' });
    expect(res.dataset.n).toBe(0);
    expect(res.dropped).toEqual({ [DROP_REASONS.speech]: 18 });
    expect(res.notes.join(' ')).toMatch(/moodlens features DIR/);
    const m = await buildDataset(writeStudy(tempDir(), f), { policy: 'masked' });
    expect(m.dataset.n).toBe(18);
  });

  it('daily epochs across a daylight-saving change still match their day', async () => {
    // Berlin: DST ends 2022-10-30. Daily epochs at local midnight; window of 3 days.
    const days = ['2022-10-28T00:00:00+02:00', '2022-10-29T00:00:00+02:00', '2022-10-30T00:00:00+02:00', '2022-10-31T00:00:00+01:00', '2022-11-01T00:00:00+01:00'];
    const f = {
      'study.json': { name: 'dst', items: [{ id: 'x', min: 0, max: 1 }], activity: { epochSeconds: 86400, channels: ['steps'] }, window: { epochs: 3 }, speech: { kind: 'none' }, timezone: 'Europe/Berlin' },
      'participants.csv': [['participant_id'], ['a']],
      'reports.csv': [['report_id', 'participant_id', 'time', 'trigger', 'x'],
        ['r1', 'a', '2022-11-01T22:00:00+01:00', 'bed', '1'], ['r2', 'a', '2022-11-02T08:00:00+01:00', 'wake', '0']],
      'activity.csv': [['participant_id', 'time', 'steps'], ...days.map((t, i) => ['a', t, String(1000 + i)])],
    };
    const { dataset: d } = await buildDataset(writeStudy(tempDir(), f), { policy: 'complete' });
    expect(d.n).toBe(2);
    // 1 November has not ended at 22:00 that day: the window is 29, 30 (25 h long), 31 October.
    expect(Array.from(d.activity.subarray(0, 3))).toEqual([1001, 1002, 1003]);
    // The next morning it has.
    expect(Array.from(d.activity.subarray(3, 6))).toEqual([1002, 1003, 1004]);
    expect(d.localHour[0]).toBe(22);
    expect(d.localHour[1]).toBe(8);
  });
});
