/**
 * Small study folders written by hand for the data tests (no generator needed): plain CSV text so
 * a test can corrupt any cell and know its exact line and column.
 */
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface FixtureFiles {
  'study.json'?: unknown;
  'participants.csv'?: string[][];
  'reports.csv'?: string[][];
  'activity.csv'?: string[][];
  'speech.csv'?: string[][];
  'speech_features.csv'?: string[][];
  /** Extra files (e.g. audio) by relative path. */
  extra?: Record<string, string>;
}

const csv = (rows: string[][]) => rows.map((r) => r.join(',')).join('\n') + '\n';

export function tempDir(prefix = 'moodlens-data-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function writeStudy(dir: string, f: FixtureFiles): string {
  mkdirSync(dir, { recursive: true });
  if (f['study.json'] !== undefined) writeFileSync(join(dir, 'study.json'), JSON.stringify(f['study.json'], null, 2));
  for (const k of ['participants.csv', 'reports.csv', 'activity.csv', 'speech.csv', 'speech_features.csv'] as const) {
    const rows = f[k];
    if (rows) writeFileSync(join(dir, k), csv(rows));
  }
  for (const [p, text] of Object.entries(f.extra ?? {})) {
    mkdirSync(join(dir, p, '..'), { recursive: true });
    writeFileSync(join(dir, p), text);
  }
  return dir;
}

/** The value of channel c at epoch start t (ms): a known function so windows can be checked exactly. */
export const epochValue = (t: number, c: number) => (t / 60_000) % 1000 + c * 1000;

/**
 * A valid study: 3 items (a, b on 0–100; c on 1–5), channels zcm, pim, 60-s epochs, window 5,
 * speech features. Participants p1 (Asia/Tokyo), p2 (Europe/Berlin), p3 (study default UTC).
 * Each participant has `reportsPerDay` reports a day for `days` days; activity covers every
 * minute of each day from 00:00 to 23:59 UTC of the study days.
 */
export function validStudy(opts: { days?: number; reportsPerDay?: number; speech?: boolean } = {}): FixtureFiles {
  const days = opts.days ?? 2, rpd = opts.reportsPerDay ?? 3;
  const pids = [['p1', 'Asia/Tokyo'], ['p2', 'Europe/Berlin'], ['p3', '']];
  const reports: string[][] = [['report_id', 'participant_id', 'time', 'trigger', 'a', 'b', 'c', 'mood_note']];
  const activity: string[][] = [['participant_id', 'time', 'zcm', 'pim']];
  const feats: string[][] = [['report_id', 'f0', 'f1']];
  const day0 = Date.UTC(2022, 8, 5);
  for (const [pid] of pids) {
    for (let d = 0; d < days; d++) {
      for (let r = 0; r < rpd; r++) {
        const t = day0 + d * 86_400_000 + (6 + r * 4) * 3_600_000 + 17 * 60_000 + 30_000; // 06:17:30Z, 10:17:30Z, …
        const id = `${pid}-d${d}-r${r}`;
        const v = (x: number) => String((x * 37 + d * 11 + r * 5) % 101);
        reports.push([id, pid, new Date(t).toISOString(), 'scheduled', v(1), v(2), String(1 + ((d + r) % 5)), 'note']);
        feats.push([id, String(d + r / 10), String(-r)]);
      }
      for (let m = 0; m < 1440; m++) {
        const t = day0 + d * 86_400_000 + m * 60_000;
        activity.push([pid, new Date(t).toISOString().replace('.000Z', 'Z'), String(epochValue(t, 0)), String(epochValue(t, 1))]);
      }
    }
  }
  const out: FixtureFiles = {
    'study.json': {
      name: 'fixture',
      items: [{ id: 'a', min: 0, max: 100 }, { id: 'b', min: 0, max: 100 }, { id: 'c', min: 1, max: 5 }],
      activity: { epochSeconds: 60, channels: ['zcm', 'pim'], ranges: { zcm: { min: 0 } } },
      window: { epochs: 5 },
      speech: { kind: opts.speech === false ? 'none' : 'features' },
      timezone: 'UTC',
    },
    'participants.csv': [['participant_id', 'timezone', 'age'], ...pids.map(([p, tz], i) => [p, tz, String(30 + i)])],
    'reports.csv': reports,
    'activity.csv': activity,
  };
  if (opts.speech !== false) out['speech_features.csv'] = feats;
  return out;
}
