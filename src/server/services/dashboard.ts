/**
 * The dashboard's panels as numbers (docs/web.md): a participant's wristband activity as local
 * day × hour aggregates, data quality per participant and local day (wear time, recordings, late
 * reports), and the attached model's evaluation (what `moodlens evaluate` stored, the training
 * summary, and per-item CCC of the server's own predictions against the answers). The routes
 * (http/routes/dashboard.ts) check access and audit the reads.
 */
import { targetItems } from '../../data/instruments.js';
import { z } from 'zod';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { HttpError } from '../http/errors.js';
import type { ServerContext, StudyInfo } from '../http/context.js';
import { BUILTIN_BASELINE } from '../monitoring/monitor.js';
import { ccc } from '../../eval/metrics.js';
import { readModelConfig } from '../../model/folder-node.js';
import type { Participant, Store } from '../storage/store.js';
import type { QualityRowBody, StoredEvaluationBody, TrainingSummaryBody } from '../http/responses.js';

const LocalDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a local date YYYY-MM-DD');

export const DayHourQuery = z.object({
  /** Activity channel to average (default: zcm when the study records it, else its first channel). */
  channel: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).max(64).optional(),
  /** First and last local day (inclusive) in the participant's time zone; default: all. */
  from: LocalDate.optional(),
  to: LocalDate.optional(),
}).strict();

export const QualityQuery = z.object({
  participantId: z.string().min(1).max(100).regex(/^[A-Za-z0-9_.:-]+$/).optional(),
  from: LocalDate.optional(),
  to: LocalDate.optional(),
}).strict();

/** `moodlens evaluate --json` output (NaN written as null), stored as <model>/evaluation.json. */
const Num = z.number().nullable();
export const StoredEvaluationSchema = z.object({
  split: z.string().optional(),
  n: z.number().int().nonnegative(),
  participants: z.number().int().nonnegative().optional(),
  meanCCC: Num, meanCiLow: Num.optional(), meanCiHigh: Num.optional(), sdCCC: Num.optional(),
  items: z.record(z.string(), z.object({ ccc: Num, ciLow: Num.optional(), ciHigh: Num.optional(), n: z.number().int().nonnegative() })),
  /** The reference predictors on the same reports and the model's paired difference to the best (issue 16). */
  baselines: z.record(z.string(), z.object({ meanCCC: Num, meanCiLow: Num.optional(), meanCiHigh: Num.optional() }).passthrough()).optional(),
  vsBestBaseline: z.object({ baseline: z.string(), mean: z.object({ diff: Num, ciLow: Num, ciHigh: Num, shareAGreater: Num.optional() }).passthrough() }).passthrough().optional(),
}).passthrough();

/**
 * The stored `moodlens evaluate --json` result of a model folder (<folder>/evaluation.json), or
 * null when it has none. Errors name the file and the field, never quote its content.
 */
export function storedEvaluation(folder: string) {
  const f = join(folder, 'evaluation.json');
  if (!existsSync(f)) return null;
  let raw: unknown;
  try { raw = JSON.parse(readFileSync(f, 'utf8')); } catch { throw new HttpError(500, `the model folder's evaluation.json is not valid JSON`); }
  const r = StoredEvaluationSchema.safeParse(raw);
  if (!r.success) throw new HttpError(500, `the model folder's evaluation.json: ${r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  return {
    source: 'evaluation.json', split: r.data.split ?? null, n: r.data.n, participants: r.data.participants ?? null,
    meanCCC: r.data.meanCCC, meanCiLow: r.data.meanCiLow ?? null, meanCiHigh: r.data.meanCiHigh ?? null,
    items: Object.entries(r.data.items).map(([item, v]) => ({ item, ccc: v.ccc, ciLow: v.ciLow ?? null, ciHigh: v.ciHigh ?? null, n: v.n })),
    baselines: r.data.baselines ? Object.entries(r.data.baselines).map(([name, b]) => ({ name, meanCCC: b.meanCCC, ciLow: b.meanCiLow ?? null, ciHigh: b.meanCiHigh ?? null })) : null,
    vsBestBaseline: r.data.vsBestBaseline ? { baseline: r.data.vsBestBaseline.baseline, diff: r.data.vsBestBaseline.mean.diff, ciLow: r.data.vsBestBaseline.mean.ciLow, ciHigh: r.data.vsBestBaseline.mean.ciHigh } : null,
  };
}

/**
 * Local time of an instant in a zone, fast: the zone's offset is looked up once per UTC quarter
 * hour (offset changes happen on quarter hours), not once per epoch.
 */
export function localClock(zone: string): (tMs: number) => { day: string; hour: number } {
  const cache = new Map<number, number>();
  return (t) => {
    const q = Math.floor(t / 900_000);
    let off = cache.get(q);
    if (off === undefined) { off = DateTime.fromMillis(q * 900_000, { zone }).offset; cache.set(q, off); }
    const d = new Date(t + off * 60_000);
    return { day: d.toISOString().slice(0, 10), hour: d.getUTCHours() };
  };
}

/** [start, end) of local days `from`..`to` (inclusive) in a zone, in ms. */
function localRange(zone: string, from?: string, to?: string): { fromMs: number; toMs: number } {
  const fromMs = from ? DateTime.fromISO(from, { zone }).startOf('day').toMillis() : 0;
  const toMs = to ? DateTime.fromISO(to, { zone }).plus({ days: 1 }).startOf('day').toMillis() : 8.64e15;
  return { fromMs, toMs };
}

const r3 = (x: number) => Math.round(x * 1000) / 1000;
const finiteOrNull = (x: number) => (Number.isFinite(x) ? x : null);

export class DashboardService {
  constructor(private ctx: ServerContext, private store: Store) {}

  /** Wristband activity of a participant per local day × hour: mean of a channel, minutes recorded, epochs stored. */
  async activityDayHour(info: StudyInfo, participant: Participant, q: z.infer<typeof DayHourQuery>) {
    const { channels, epochSeconds } = info.config.activity;
    const channel = q.channel ?? (channels.includes('zcm') ? 'zcm' : channels[0]);
    const c = channels.indexOf(channel);
    if (c < 0) throw new HttpError(400, `querystring.channel: "${channel}" is not a channel of this study (${channels.join(', ')})`, 'querystring.channel');
    const zone = participant.timezone;
    const { fromMs, toMs } = localRange(zone, q.from, q.to);
    const clock = localClock(zone);
    const cells = new Map<string, { day: string; hour: number; sum: number; valid: number; epochs: number }>();
    let total = 0;
    for await (const page of this.store.participantActivity(participant.id, fromMs, toMs)) {
      for (const e of page) {
        const { day, hour } = clock(e.t_ms);
        const key = `${day} ${hour}`;
        let cell = cells.get(key);
        if (!cell) { cell = { day, hour, sum: 0, valid: 0, epochs: 0 }; cells.set(key, cell); }
        cell.epochs++; total++;
        const v = e.vals[c];
        if (v !== null && v !== undefined && Number.isFinite(v)) { cell.sum += v; cell.valid++; }
      }
    }
    return {
      participantId: participant.label, timezone: zone, channel, channels, epochSeconds, epochs: total,
      cells: [...cells.values()].sort((a, b) => a.day.localeCompare(b.day) || a.hour - b.hour).map((x) => ({
        day: x.day, hour: x.hour, mean: x.valid ? r3(x.sum / x.valid) : null, minutes: r3(x.valid * epochSeconds / 60), epochs: x.epochs,
      })),
    };
  }

  /** Data quality per participant and local day (the participants it covers, for the audit row). */
  async quality(info: StudyInfo, q: z.infer<typeof QualityQuery>) {
    let participants: Participant[] = (await this.store.participants(info.study.id)).filter((p) => p.status !== 'withdrawn' && p.enrolled_ms !== null);
    if (q.participantId) {
      participants = participants.filter((p) => p.label === q.participantId);
      if (participants.length === 0) throw new HttpError(404, `participant ${q.participantId} not found (or not enrolled)`);
    }
    const { channels, epochSeconds } = info.config.activity;
    const speechKind = info.config.speech.kind;
    const days = Math.max(1, info.config.schedule?.days ?? 14);
    const now = this.ctx.now();
    const speechRows = await this.store.reportSpeech(info.study.id, q.participantId ? participants[0]?.id : undefined);
    const rows: QualityRowBody[] = [];
    for (const p of participants) {
      const zone = p.timezone, clock = localClock(zone);
      const { fromMs, toMs } = localRange(zone, q.from, q.to);
      type Day = { wear: number; epochs: number; reports: number; late: number; recordings: number; failed: number; skipped: number; missing: number };
      const byDay = new Map<string, Day>();
      const dayOf = (d: string) => byDay.get(d) ?? byDay.set(d, { wear: 0, epochs: 0, reports: 0, late: 0, recordings: 0, failed: 0, skipped: 0, missing: 0 }).get(d)!;
      // Every study day from enrolment to today (or the study's last day) is listed, so a day
      // with nothing at all shows as 0 minutes worn rather than being absent.
      const first = DateTime.fromMillis(p.enrolled_ms!, { zone }).startOf('day');
      for (let k = 0; k < Math.min(days, 400); k++) {
        const d = first.plus({ days: k });
        if (d.toMillis() > now) break;
        if (d.toMillis() >= fromMs && d.toMillis() < toMs) dayOf(d.toISODate()!);
      }
      for await (const page of this.store.participantActivity(p.id, fromMs, toMs)) {
        for (const e of page) {
          const cell = dayOf(clock(e.t_ms).day);
          cell.epochs++;
          // Non-wear = no row, or a row whose every channel is empty.
          if (e.vals.some((v) => v !== null && Number.isFinite(v))) cell.wear++;
        }
      }
      for (const r of speechRows) {
        if (r.participant_id !== p.id || r.time_ms < fromMs || r.time_ms >= toMs) continue;
        const cell = dayOf(clock(r.time_ms).day);
        cell.reports++; if (r.late) cell.late++;
        if (speechKind === 'none') continue;
        if (r.speech_bytes !== null || r.features) cell.recordings++;
        else if (r.failure === 'skipped') cell.skipped++;
        else if (r.failure) cell.failed++;
        else cell.missing++;
      }
      for (const [day, c] of [...byDay.entries()].sort((a, b) => a[0].localeCompare(b[0]))) {
        const start = DateTime.fromISO(day, { zone }).startOf('day');
        const minutesInDay = Math.round((start.plus({ days: 1 }).toMillis() - start.toMillis()) / 60_000);
        const wearMinutes = r3(c.wear * epochSeconds / 60);
        rows.push({
          participantId: p.label, day, minutesInDay, wearMinutes, wearFraction: r3(Math.min(1, wearMinutes / minutesInDay)), epochs: c.epochs,
          reports: c.reports, late: c.late, recordings: c.recordings, failedRecordings: c.failed, skippedRecordings: c.skipped, missingRecordings: c.missing,
        });
      }
    }
    return { participants, quality: { channels, epochSeconds, speech: speechKind, rows } };
  }

  /** The attached model's evaluation: stored, training summary, and the server's predictions against the answers. */
  async modelEvaluation(info: StudyInfo) {
    const model = info.study.model_dir;
    if (!model) throw new HttpError(409, 'this study has no model attached (PUT /studies/:studyId/model)');
    const items = targetItems(info.config);
    // 1. What `moodlens evaluate --json > MODEL/evaluation.json` stored in the model folder.
    let stored: StoredEvaluationBody | null = null;
    let training: TrainingSummaryBody | null = null;
    // The folder under --models-dir (model-path.ts): a folder that has gone (or left it) has no stored evaluation.
    const folder = model !== BUILTIN_BASELINE ? this.ctx.modelFolder(model) : null;
    if (folder) {
      stored = storedEvaluation(folder);
      // 2. The training summary the model folder always has (best development epoch, dev mean CCC).
      if (existsSync(join(folder, 'config.json'))) {
        try {
          const c = readModelConfig(folder); // the one model-folder reader (src/model/folder-node.ts)
          let epochs: number | null = null;
          const hf = join(folder, 'history.json');
          if (existsSync(hf)) { const h = JSON.parse(readFileSync(hf, 'utf8')); if (Array.isArray(h)) epochs = h.length; }
          training = { kind: c.kind ?? null, bestEpoch: c.bestEpoch ?? null, devMeanCCC: typeof c.bestDev === 'number' ? c.bestDev : null, epochs };
        } catch { training = null; }
      }
    }
    // 3. Prospective: each report's prediction (made before its answer was known to the model,
    // from the history before it) against the answer.
    const pairs = await this.store.predictedReports(info.study.id);
    const online = items.map((it) => {
      const a: number[] = [], p: number[] = [];
      for (const r of pairs) {
        const ans = r.answers[it.id];
        const pr = r.items[it.id];
        if (Number.isFinite(ans) && pr && Number.isFinite(pr.value)) { a.push(ans); p.push(pr.value); }
      }
      return { item: it.id, label: it.label, ccc: a.length >= 2 ? finiteOrNull(r3(ccc(a, p))) : null, n: a.length };
    });
    const finite = online.map((o) => o.ccc).filter((x): x is number => x !== null);
    return {
      model, stored, training,
      online: { source: 'server predictions vs reports', reports: pairs.length, participants: new Set(pairs.map((r) => r.participant_id)).size, meanCCC: finite.length ? r3(finite.reduce((s, x) => s + x, 0) / finite.length) : null, items: online },
    };
  }
}
