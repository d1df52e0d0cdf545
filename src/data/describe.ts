/**
 * `describeStudy`: what a study holds, as plain numbers (the CLI renders them as tables, the
 * server can send them as JSON): participants, reports, compliance per participant, missingness
 * per modality, item means and SDs, and how many instances each policy keeps and why the others
 * were dropped.
 */
import { DateTime } from 'luxon';
import type { MissingPolicy } from './dataset.js';
import type { LoadedStudy } from './load.js';
import { assembleInstances, selectInstances } from './build.js';
import { promptsPerDay } from './schedule.js';
import { bandOf, scoreItems, studyInstruments } from './instruments.js';

export interface ParticipantCompliance {
  participant: string;
  timezone: string;
  /** Rows in reports.csv. */
  reports: number;
  /** Reports with at least one item answered. */
  answered: number;
  /** Local calendar days from the first to the last report (inclusive). */
  days: number;
  /** Schedule only: scheduled prompts answered / expected (times × schedule.days). */
  scheduledAnswered?: number;
  scheduledExpected?: number;
  /** scheduledAnswered / scheduledExpected (schedule), else NaN. */
  compliance: number;
  /** answered / days. */
  reportsPerDay: number;
  wake: number;
  bed: number;
}

export interface ModalityMissingness {
  modality: string;
  /** Reports whose modality is incomplete (any missing epoch; no usable speech). */
  incompleteReports: number;
  /** Fraction of all reports. */
  incompleteFraction: number;
  /** Fraction of the values missing: window epochs (activity) or item cells (items). */
  missingValueFraction?: number;
}

export interface ItemSummary { id: string; min: number; max: number; answered: number; mean: number; sd: number }

/** A questionnaire of the study (docs/study-design.md): its reports and its scores. */
export interface InstrumentSummary {
  id: string;
  label: string;
  /** Reports of this instrument (reports.csv `instrument`). */
  reports: number;
  /** Each score column: how many reports have it, mean and SD, and how many fall in each severity band (total only). */
  scores: (ItemSummary & { bands?: Record<string, number> })[];
}

export interface StudyDescription {
  name: string;
  participants: number;
  reports: number;
  activityEpochs: number;
  channels: string[];
  epochSeconds: number;
  windowEpochs: number;
  speechKind: string;
  speechFeatures: number;
  complianceMode: 'schedule' | 'reports-per-day';
  compliance: ParticipantCompliance[];
  missingness: ModalityMissingness[];
  items: ItemSummary[];
  /** The study's questionnaires beside the main items (absent when it has none). */
  instruments?: InstrumentSummary[];
  policies: Record<MissingPolicy, { kept: number; dropped: Record<string, number> }>;
  notes: string[];
}

/** Mean and sample SD (n − 1) of the non-NaN values. */
function meanSd(values: ArrayLike<number>, stride: number, offset: number, n: number): { n: number; mean: number; sd: number } {
  let m = 0, s = 0, k = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i * stride + offset];
    if (Number.isNaN(v)) continue;
    k++;
    const d = v - m; m += d / k; s += d * (v - m); // Welford
  }
  return { n: k, mean: k ? m : NaN, sd: k > 1 ? Math.sqrt(s / (k - 1)) : NaN };
}

export function describeStudy(study: LoadedStudy): StudyDescription {
  const { config, reports, participants } = study;
  const K = study.items.length, C = config.activity.channels.length, W = config.window.epochs, M = C + 1;
  const all = assembleInstances(study);
  const schedule = config.schedule;

  // Compliance per participant.
  const per = participants.map((p): ParticipantCompliance & { first: string; last: string } => ({
    participant: p.id, timezone: p.timezone, reports: 0, answered: 0, days: 0, compliance: NaN, reportsPerDay: NaN,
    wake: 0, bed: 0, first: '', last: '', ...(schedule ? { scheduledAnswered: 0, scheduledExpected: promptsPerDay(schedule) * Math.ceil(schedule.days / (schedule.everyDays ?? 1)) } : {}),
  }));
  for (let r = 0; r < reports.n; r++) {
    const c = per[reports.participant[r]];
    c.reports++;
    const ok = all.answered[r] > 0;
    if (!ok) continue;
    c.answered++;
    const tr = reports.trigger[r];
    if (tr === 'wake') c.wake++;
    if (tr === 'bed') c.bed++;
    if (tr === 'scheduled' && c.scheduledAnswered !== undefined) c.scheduledAnswered++;
    const day = DateTime.fromMillis(reports.time[r], { zone: c.timezone }).toISODate()!;
    if (!c.first || day < c.first) c.first = day;
    if (!c.last || day > c.last) c.last = day;
  }
  const compliance = per.map(({ first, last, ...c }) => {
    if (first) c.days = DateTime.fromISO(last).diff(DateTime.fromISO(first), 'days').days + 1;
    c.reportsPerDay = c.days ? c.answered / c.days : 0;
    if (c.scheduledExpected) c.compliance = c.scheduledAnswered! / c.scheduledExpected;
    return c;
  });

  // Missingness per modality, over all reports.
  const missingness: ModalityMissingness[] = config.activity.channels.map((ch, c) => {
    let inc = 0, missing = 0;
    for (let r = 0; r < reports.n; r++) {
      if (!all.mask[r * M + c]) inc++;
      const o = r * C * W + c * W;
      for (let w = 0; w < W; w++) if (Number.isNaN(all.activity[o + w])) missing++;
    }
    return { modality: ch, incompleteReports: inc, incompleteFraction: reports.n ? inc / reports.n : NaN,
      missingValueFraction: reports.n ? missing / (reports.n * W) : NaN };
  });
  if (config.speech.kind !== 'none') {
    let inc = 0;
    for (let r = 0; r < reports.n; r++) if (!all.mask[r * M + C]) inc++;
    missingness.push({ modality: 'speech', incompleteReports: inc, incompleteFraction: reports.n ? inc / reports.n : NaN });
  }
  let emptyItems = 0;
  for (let i = 0; i < reports.n * K; i++) if (Number.isNaN(reports.items[i])) emptyItems++;
  const partial = reports.n - countFull(all.answered, K);
  missingness.push({ modality: 'items', incompleteReports: partial, incompleteFraction: reports.n ? partial / reports.n : NaN,
    missingValueFraction: reports.n ? emptyItems / (reports.n * K) : NaN });

  const items = study.items.map((it, k) => {
    const s = meanSd(reports.items, K, k, reports.n);
    return { id: it.id, min: it.min, max: it.max, answered: s.n, mean: s.mean, sd: s.sd };
  });

  const policies = {} as StudyDescription['policies'];
  for (const policy of ['complete', 'masked'] as const) {
    const res = selectInstances(all, policy);
    policies[policy] = { kept: res.dataset.n, dropped: res.dropped };
  }
  // answered_at (diaries rated after the fact): how many reports were rated later than their time.
  const notes = [...study.notes];
  let late = 0; const delays: number[] = [];
  for (let r = 0; r < reports.n; r++) if (reports.answeredAt[r] > reports.time[r]) { late++; delays.push((reports.answeredAt[r] - reports.time[r]) / 3.6e6); }
  if (late > 0) {
    delays.sort((a, b) => a - b);
    notes.push(`answered_at: ${late} of ${reports.n} reports were rated after their time (median ${delays[delays.length >> 1].toFixed(1)} h later); history features and the last-report baseline use only reports answered before the one predicted`);
  }
  const instruments = studyInstruments(config).slice(1).map((ins): InstrumentSummary => {
    const scores = scoreItems(ins).map((it) => {
      const col = study.items.findIndex((x) => x.id === it.id);
      const values = col >= 0 ? Float32Array.from({ length: reports.n }, (_, r) => reports.items[r * K + col]) : reports.extra[it.id] ?? new Float32Array(reports.n).fill(NaN);
      const s = meanSd(values, 1, 0, reports.n);
      const summary: InstrumentSummary['scores'][number] = { id: it.id, min: it.min, max: it.max, answered: s.n, mean: s.mean, sd: s.sd };
      if (it.id === `${ins.id}_total` && ins.scoring?.bands.length) {
        summary.bands = Object.fromEntries(ins.scoring.bands.map((b) => [b.label, 0]));
        for (const v of values) { const band = Number.isNaN(v) ? null : bandOf(ins.scoring, v); if (band) summary.bands[band]++; }
      }
      return summary;
    });
    return { id: ins.id, label: ins.label, reports: reports.instrument.filter((x) => x === ins.id).length, scores };
  });
  return {
    name: config.name, participants: participants.length, reports: reports.n, activityEpochs: study.activityEpochs,
    channels: [...config.activity.channels], epochSeconds: config.activity.epochSeconds, windowEpochs: W,
    speechKind: config.speech.kind, speechFeatures: study.speechFeatures?.names.length ?? 0,
    complianceMode: schedule ? 'schedule' : 'reports-per-day', compliance, missingness, items, ...(instruments.length ? { instruments } : {}), policies, notes,
  };
}

function countFull(answered: Int32Array, K: number): number {
  let n = 0;
  for (const a of answered) if (a === K) n++;
  return n;
}
