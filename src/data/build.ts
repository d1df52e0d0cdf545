/**
 * Instances of a study folder (SPEC §1): one per EMA report — its items scaled to [0,1], the
 * `window.epochs` activity epochs immediately before it, its speech features, with explicit masks,
 * by the rules of instances.ts (which the server uses for live reports) — filtered by a
 * missing-data policy (SPEC §6):
 *   complete — the paper: every modality whole AND every item answered;
 *   masked   — every report with at least one item answered; a model masks what is missing.
 */
import { InputError, type InputIssue } from '../util/errors.js';
import type { Dataset, MissingPolicy } from './dataset.js';
import { extractWindow, medianEpochSpacing } from './activity.js';
import { channelPresent, scaleLabel, speechPresent } from './instances.js';
import { loadStudy, type LoadedStudy, type LoadOptions } from './load.js';
import { STUDY_FILES } from './study.js';

export interface BuildOptions extends LoadOptions {
  policy: MissingPolicy;
  /**
   * Build from the rows that passed the checks even when others did not (default false: a study
   * with any issue is refused). The number of problems is then added to `notes`.
   */
  allowIssues?: boolean;
}

export interface BuildResult {
  dataset: Dataset;
  /** Reports left out, by the first reason that applies (so the counts add up to the drops). */
  dropped: Record<string, number>;
  /** Remarks such as "speech features not computed yet". */
  notes: string[];
  /** Declared modalities no report has (absentModalities): a model would train without them. */
  absent: InputIssue[];
}

/** Reasons a report is dropped, in the order they are checked. */
export const DROP_REASONS = {
  noItems: 'no item answered',
  activity: 'activity window incomplete',
  speech: 'speech missing',
  someItems: 'some items not answered',
} as const;

/** Everything about every report before a policy is applied (also used by `describe`). */
export interface AllInstances {
  study: LoadedStudy;
  /** Report indices (into study.reports) sorted by participant, then time, then id. */
  order: Int32Array;
  /** Per report (report index): items answered. */
  answered: Int32Array;
  /** Per report: n × C × W activity window (report-index-major); NaN = missing. */
  activity: Float32Array;
  /** Per report: n × M modality masks (channels, then speech). */
  mask: Uint8Array;
  /** Per report: n × F speech features. */
  speech: Float32Array;
  speechFeatures: string[];
  /** Whether the speech modality counts for the complete policy (speech.kind ≠ "none"). */
  speechRequired: boolean;
}

/** Extract the windows, speech and masks of every report of a loaded study. */
export function assembleInstances(study: LoadedStudy): AllInstances {
  const { config, reports } = study;
  const n = reports.n, K = study.items.length, C = config.activity.channels.length;
  const W = config.window.epochs, M = C + 1;
  const epochMs = config.activity.epochSeconds * 1000;
  const names = study.speechFeatures?.names ?? [];
  const F = names.length;
  const activity = new Float32Array(n * C * W);
  const mask = new Uint8Array(n * M);
  const speech = new Float32Array(n * F).fill(NaN);
  const answered = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    let a = 0;
    for (let k = 0; k < K; k++) if (!Number.isNaN(reports.items[r * K + k])) a++;
    answered[r] = a;
    extractWindow(study.activity[reports.participant[r]], C, reports.time[r], epochMs, W, activity, r * C * W);
    for (let c = 0; c < C; c++) mask[r * M + c] = channelPresent(activity, r * C * W, c, W);
    const f = study.speechFeatures?.byReport.get(reports.id[r]);
    if (f && F > 0) {
      speech.set(f, r * F);
      mask[r * M + C] = speechPresent(f);
    }
  }
  const order = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) =>
    (reports.participant[a] - reports.participant[b]) || (reports.time[a] - reports.time[b]) ||
    (reports.id[a] < reports.id[b] ? -1 : reports.id[a] > reports.id[b] ? 1 : 0));
  return { study, order, answered, activity, mask, speech, speechFeatures: names, speechRequired: config.speech.kind !== 'none' };
}

/** What to pass when going on without a modality is meant. */
export const ALLOW_MISSING_MODALITY = '--allow-missing-modality';

/**
 * Declared modalities that no report has — activity channels whose window is never complete,
 * speech without features — as issues on study.json that say why: a study whose epochs are a day
 * apart while study.json says 60 s fills no window, and would train on no wristband data at all.
 */
export function absentModalities(all: AllInstances): InputIssue[] {
  const { study, mask } = all;
  const { config, reports } = study;
  if (reports.n === 0) return [];
  const C = config.activity.channels.length, M = C + 1, W = config.window.epochs, E = config.activity.epochSeconds;
  const present = new Int32Array(M);
  for (let r = 0; r < reports.n; r++) for (let m = 0; m < M; m++) present[m] += mask[r * M + m];
  const issues: InputIssue[] = [];
  const absent = config.activity.channels.filter((_, c) => present[c] === 0);
  if (absent.length > 0) {
    const spacing = medianEpochSpacing(study.activity);
    const why = study.activityEpochs === 0 ? 'activity.csv has no epochs'
      : Math.abs(spacing / E - 1) > 0.1 ? `the epochs in activity.csv are ${spacing} s apart, not ${E} s: is activity.epochSeconds right?`
        : `is window.epochs (${W}) longer than the recordings before a report?`;
    issues.push({ file: STUDY_FILES.config, field: 'activity', message: `no report has a complete window of ${W} epochs of ${E} s for ${absent.join(', ')}: ${why} (${ALLOW_MISSING_MODALITY} goes on without ${absent.length === 1 ? 'it' : 'them'})` });
  }
  if (all.speechRequired && present[C] === 0) {
    const why = config.speech.kind === 'audio' && !study.speechFeatures
      ? 'no speech features computed yet: run `moodlens features DIR` first'
      : `no report has a complete set of speech features in ${STUDY_FILES.speechFeatures}`;
    issues.push({ file: STUDY_FILES.config, field: 'speech', message: `speech.kind is "${config.speech.kind}" but ${why} (${ALLOW_MISSING_MODALITY} goes on without it)` });
  }
  return issues;
}

/** Why a report is dropped under a policy, or null when kept. */
export function dropReason(all: AllInstances, r: number, policy: MissingPolicy): string | null {
  const K = all.study.items.length, C = all.study.config.activity.channels.length, M = C + 1;
  if (all.answered[r] === 0) return DROP_REASONS.noItems;
  if (policy === 'masked') return null;
  for (let c = 0; c < C; c++) if (!all.mask[r * M + c]) return DROP_REASONS.activity;
  if (all.speechRequired && !all.mask[r * M + C]) return DROP_REASONS.speech;
  if (all.answered[r] < K) return DROP_REASONS.someItems;
  return null;
}

/** Apply a policy: the column-wise Dataset of the kept reports and the drop counts. */
export function selectInstances(all: AllInstances, policy: MissingPolicy): BuildResult {
  const { study } = all;
  const { config, reports } = study;
  const K = study.items.length, C = config.activity.channels.length, W = config.window.epochs, M = C + 1;
  const F = all.speechFeatures.length;
  const dropped: Record<string, number> = {};
  const kept: number[] = [];
  for (const r of all.order) {
    const why = dropReason(all, r, policy);
    if (why) dropped[why] = (dropped[why] ?? 0) + 1; else kept.push(r);
  }
  // Report the reasons in the order they are checked.
  const ordered: Record<string, number> = {};
  for (const why of Object.values(DROP_REASONS)) if (dropped[why]) ordered[why] = dropped[why];
  const n = kept.length;
  const d: Dataset = {
    items: study.items.map((i) => ({ ...i })),
    channels: [...config.activity.channels],
    windowEpochs: W,
    speechFeatures: [...all.speechFeatures],
    participantIds: study.participants.map((p) => p.id),
    n,
    participant: new Int32Array(n),
    reportIds: new Array<string>(n),
    time: new Float64Array(n),
    answeredAt: new Float64Array(n),
    localHour: new Float32Array(n),
    trigger: new Array<string>(n),
    labels: new Float32Array(n * K),
    activity: new Float32Array(n * C * W),
    speech: new Float32Array(n * F),
    modalityMask: new Uint8Array(n * M),
    covariates: Object.fromEntries(Object.keys(reports.covariates).map((c) => [c, new Array<string>(n)])),
  };
  kept.forEach((r, i) => {
    d.participant[i] = reports.participant[r];
    d.reportIds[i] = reports.id[r];
    d.time[i] = reports.time[r];
    d.answeredAt![i] = reports.answeredAt[r];
    d.localHour[i] = reports.localHour[r];
    d.trigger[i] = reports.trigger[r];
    study.items.forEach((it, k) => { d.labels[i * K + k] = scaleLabel(it, reports.items[r * K + k]); });
    d.activity.set(all.activity.subarray(r * C * W, (r + 1) * C * W), i * C * W);
    d.speech.set(all.speech.subarray(r * F, (r + 1) * F), i * F);
    d.modalityMask.set(all.mask.subarray(r * M, (r + 1) * M), i * M);
    for (const c of Object.keys(reports.covariates)) d.covariates![c][i] = reports.covariates[c][r];
  });
  return { dataset: d, dropped: ordered, notes: [...study.notes], absent: absentModalities(all) };
}

/**
 * Build the instances of a study folder (or of an already loaded study) under a policy.
 * Throws InputError listing every problem when the study does not validate.
 */
export async function buildDataset(src: string | LoadedStudy, opts: BuildOptions): Promise<BuildResult> {
  let study: LoadedStudy;
  if (typeof src === 'string') {
    const res = await loadStudy(src, opts);
    if (!res.study || (res.totalIssues > 0 && !opts.allowIssues)) throw new InputError(res.issues);
    study = res.study;
    if (res.totalIssues > 0) {
      const out = selectInstances(assembleInstances(study), opts.policy);
      out.notes.push(`${res.totalIssues} problem${res.totalIssues === 1 ? '' : 's'} in the study: the rows concerned were left out (moodlens validate lists them).`);
      return out;
    }
  } else study = src;
  return selectInstances(assembleInstances(study), opts.policy);
}
