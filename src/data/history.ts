/**
 * History as a modality (SPEC §6, issue 16): in monitoring, a participant's own earlier reports are
 * known when the next one is predicted. Per instance i and item k, from the reports of the same
 * participant ANSWERED STRICTLY BEFORE i was answered (`answered_at`, default `time`):
 *   last_k   the most recent such answer of item k (label scale [0,1]);
 *   ewma_k   the exponentially weighted mean of those answers in answering order
 *            (m ← α·y + (1 − α)·m, starting at the first answer; α = 0.3 by default);
 *   since_k  log(1 + hours) from that most recent report's time to i's time;
 * and the report's own local clock: sin/cos of the hour of day and of the weekday.
 * Items never answered before are NaN (standardised to 0 by the model); the modality is masked
 * when the participant has no earlier-answered report at all. Nothing of report i itself, nor of
 * any report answered at the same moment or later, enters its features. Pure; browser-safe.
 */
import { answeredAtOf, type Dataset } from './dataset.js';

export interface HistoryOptions { /** EWMA weight of the newest answer (default 0.3). */ alpha?: number }

export const HISTORY_CLOCK = ['hour_sin', 'hour_cos', 'weekday_sin', 'weekday_cos'] as const;

export function historyFeatureNames(items: readonly { id: string }[]): string[] {
  return [...items.flatMap((it) => [`last_${it.id}`, `ewma_${it.id}`, `since_${it.id}`]), ...HISTORY_CLOCK];
}

export interface HistoryFeatures {
  names: string[];
  /** n × H, NaN = no earlier answer of that item. */
  values: Float32Array;
  /** Per instance: 1 when at least one report of the participant was answered before it. */
  mask: Uint8Array;
}

/** Local weekday (0 = Monday … 6 = Sunday) from the UTC time and the local hour of day. */
export function localWeekday(timeMs: number, localHour: number): number {
  const utcHour = ((timeMs / 3.6e6) % 24 + 24) % 24;
  let off = localHour - utcHour; // the zone's offset, in (−24, 24): bring it into [−12, 14]
  if (off < -12) off += 24; else if (off > 14) off -= 24;
  const localDay = Math.floor((timeMs + off * 3.6e6) / 864e5);
  return ((localDay + 3) % 7 + 7) % 7; // 1970-01-01 was a Thursday (3 with Monday = 0)
}

export function historyFeatures(ds: Pick<Dataset, 'n' | 'items' | 'participant' | 'time' | 'answeredAt' | 'localHour' | 'labels' | 'reportIds'>, o: HistoryOptions = {}): HistoryFeatures {
  const K = ds.items.length, H = 3 * K + HISTORY_CLOCK.length, alpha = o.alpha ?? 0.3;
  const values = new Float32Array(ds.n * H).fill(NaN), mask = new Uint8Array(ds.n);
  const byP = new Map<number, number[]>();
  for (let i = 0; i < ds.n; i++) {
    let a = byP.get(ds.participant[i]); if (!a) { a = []; byP.set(ds.participant[i], a); }
    a.push(i);
  }
  const last = new Float64Array(K), ewma = new Float64Array(K), lastTime = new Float64Array(K);
  for (const rows of byP.values()) {
    rows.sort((a, b) => (answeredAtOf(ds, a) - answeredAtOf(ds, b)) || (ds.time[a] - ds.time[b]) ||
      (ds.reportIds[a] < ds.reportIds[b] ? -1 : ds.reportIds[a] > ds.reportIds[b] ? 1 : 0));
    last.fill(NaN); ewma.fill(NaN); lastTime.fill(NaN);
    let seen = 0;
    for (let s = 0; s < rows.length;) {
      let e = s + 1;
      while (e < rows.length && answeredAtOf(ds, rows[e]) === answeredAtOf(ds, rows[s])) e++;
      // Every report of this group sees only the groups answered before it.
      for (let j = s; j < e; j++) {
        const i = rows[j], o0 = i * H;
        mask[i] = seen > 0 ? 1 : 0;
        for (let k = 0; k < K; k++) {
          values[o0 + 3 * k] = last[k];
          values[o0 + 3 * k + 1] = ewma[k];
          values[o0 + 3 * k + 2] = Number.isNaN(lastTime[k]) ? NaN : Math.log1p(Math.max(0, ds.time[i] - lastTime[k]) / 3.6e6);
        }
      }
      for (let j = s; j < e; j++) {
        const i = rows[j];
        seen++;
        for (let k = 0; k < K; k++) {
          const y = ds.labels[i * K + k];
          if (Number.isNaN(y)) continue;
          last[k] = y; lastTime[k] = ds.time[i];
          ewma[k] = Number.isNaN(ewma[k]) ? y : alpha * y + (1 - alpha) * ewma[k];
        }
      }
      s = e;
    }
  }
  for (let i = 0; i < ds.n; i++) {
    const o0 = i * H + 3 * K, h = (2 * Math.PI * ds.localHour[i]) / 24, w = (2 * Math.PI * localWeekday(ds.time[i], ds.localHour[i])) / 7;
    values[o0] = Math.sin(h); values[o0 + 1] = Math.cos(h); values[o0 + 2] = Math.sin(w); values[o0 + 3] = Math.cos(w);
  }
  return { names: historyFeatureNames(ds.items), values, mask };
}
