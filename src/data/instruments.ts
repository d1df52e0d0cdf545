/**
 * Questionnaires (docs/study-design.md): the study's instruments with their items, schedule and
 * scoring resolved (the main items are the instrument "ema"; built-ins expand to their published
 * items and scoring), the numeric columns models and reports.csv use, and scoring of a report.
 *
 * Built-in instruments (public domain, Pfizer): PHQ-9 (Kroenke, Spitzer & Williams 2001) and
 * GAD-7 (Spitzer et al. 2006), with their standard wording, response labels, sum scoring and
 * severity bands. This module is pure (no I/O): the server, the command line and the app use it.
 */
import { BUILTIN_ITEM_COUNT, MAIN_INSTRUMENT, itemRange, optionColumn, type BuiltinInstrument } from './design.js';
import type { Item, Schedule, Scoring, StudyConfig, StudyItem } from './study.js';

/** The standard response labels of the PHQ-9 and GAD-7 (scored 0–3). */
export const FREQUENCY_LABELS = ['Not at all', 'Several days', 'More than half the days', 'Nearly every day'] as const;

interface BuiltinDefinition { label: string; instructions: string; items: string[]; bands: { min: number; max: number; label: string }[] }

/** The built-in instruments' published wording and severity bands of the total. */
export const BUILTIN_DEFINITIONS: Record<BuiltinInstrument, BuiltinDefinition> = {
  phq9: {
    label: 'PHQ-9',
    instructions: 'Over the last 2 weeks, how often have you been bothered by any of the following problems?',
    items: [
      'Little interest or pleasure in doing things',
      'Feeling down, depressed, or hopeless',
      'Trouble falling or staying asleep, or sleeping too much',
      'Feeling tired or having little energy',
      'Poor appetite or overeating',
      'Feeling bad about yourself — or that you are a failure or have let yourself or your family down',
      'Trouble concentrating on things, such as reading the newspaper or watching television',
      'Moving or speaking so slowly that other people could have noticed? Or the opposite — being so fidgety or restless that you have been moving around a lot more than usual',
      'Thoughts that you would be better off dead or of hurting yourself in some way',
    ],
    bands: [
      { min: 0, max: 4, label: 'minimal' }, { min: 5, max: 9, label: 'mild' }, { min: 10, max: 14, label: 'moderate' },
      { min: 15, max: 19, label: 'moderately severe' }, { min: 20, max: 27, label: 'severe' },
    ],
  },
  gad7: {
    label: 'GAD-7',
    instructions: 'Over the last 2 weeks, how often have you been bothered by the following problems?',
    items: [
      'Feeling nervous, anxious or on edge',
      'Not being able to stop or control worrying',
      'Worrying too much about different things',
      'Trouble relaxing',
      'Being so restless that it is hard to sit still',
      'Becoming easily annoyed or irritable',
      'Feeling afraid as if something awful might happen',
    ],
    bands: [
      { min: 0, max: 4, label: 'minimal' }, { min: 5, max: 9, label: 'mild' }, { min: 10, max: 14, label: 'moderate' },
      { min: 15, max: 21, label: 'severe' },
    ],
  },
};

/** An instrument with everything filled in: its items, scoring (null: not scored) and schedule (null: never prompted). */
export interface ResolvedInstrument {
  id: string;
  label: string;
  instructions?: string;
  builtin?: BuiltinInstrument;
  items: StudyItem[];
  scoring: Scoring | null;
  schedule: Schedule | null;
}

/** The schedule of the main items: study.json's `schedule`, or the paper's (11:00, 15:00, 19:00 ± 10 min, 14 days). */
export function studySchedule(config: Pick<StudyConfig, 'schedule'>): Schedule {
  // ScheduleSchema.parse({}) (held as a literal: this module is bundled into the app without zod)
  return config.schedule ?? { jitterMinutes: 10, wakeAndBed: true, days: 14 };
}

/** A built-in instrument's items (ids `<id>_1` …, Likert 0–3 with the standard labels) and published scoring. */
export function builtinInstrument(name: BuiltinInstrument, id: string = name): Pick<ResolvedInstrument, 'label' | 'instructions' | 'items' | 'scoring'> {
  const def = BUILTIN_DEFINITIONS[name];
  if (def.items.length !== BUILTIN_ITEM_COUNT[name]) throw new Error(`built-in ${name}: ${def.items.length} items defined, ${BUILTIN_ITEM_COUNT[name]} declared`);
  return {
    label: def.label,
    instructions: def.instructions,
    items: def.items.map((label, k) => ({ id: `${id}_${k + 1}`, kind: 'likert' as const, label, labels: [...FREQUENCY_LABELS], min: 0 })),
    scoring: { method: 'sum', reverse: [], subscales: [], bands: def.bands.map((b) => ({ ...b })), maxMissing: 0 },
  };
}

/** The study's instruments: the main items first (id "ema", always scheduled), then study.json's `instruments`. */
export function studyInstruments(config: StudyConfig): ResolvedInstrument[] {
  const main: ResolvedInstrument = { id: MAIN_INSTRUMENT, label: config.name, items: config.items, scoring: null, schedule: studySchedule(config) };
  return [main, ...(config.instruments ?? []).map((ins): ResolvedInstrument => {
    const base = ins.builtin ? builtinInstrument(ins.builtin, ins.id) : { label: ins.label ?? ins.id, instructions: undefined, items: ins.items ?? [], scoring: ins.scoring ?? null };
    return {
      id: ins.id, label: ins.label ?? base.label, instructions: ins.instructions ?? base.instructions, builtin: ins.builtin,
      items: base.items, scoring: base.scoring, schedule: ins.schedule ?? null,
    };
  })];
}

/** One instrument of the study by id, or undefined. */
export function instrumentOf(config: StudyConfig, id: string): ResolvedInstrument | undefined {
  return studyInstruments(config).find((i) => i.id === id);
}

/** Every item of the study, all instruments, in order. */
export function allItems(config: StudyConfig): StudyItem[] {
  return studyInstruments(config).flatMap((i) => i.items);
}

/** The numeric items (one numeric answer each) of a list, as model targets with their range. */
export function numericOf(items: StudyItem[]): Item[] {
  const out: Item[] = [];
  for (const it of items) {
    const r = itemRange(it);
    if (r) out.push({ id: it.id, ...(it.label !== undefined ? { label: it.label } : {}), min: r.min, max: r.max });
  }
  return out;
}

/** The score columns of a scored instrument (`<id>_total`, then `<id>_<subscale>`) with their ranges. */
export function scoreItems(ins: ResolvedInstrument): Item[] {
  if (!ins.scoring) return [];
  const ranges = new Map(numericOf(ins.items).map((i) => [i.id, i]));
  const range = (ids: string[]): { min: number; max: number } => {
    const rs = ids.map((id) => ranges.get(id)).filter((r): r is Item => !!r);
    const lo = rs.reduce((s, r) => s + r.min, 0), hi = rs.reduce((s, r) => s + r.max, 0);
    return ins.scoring!.method === 'mean' ? { min: lo / rs.length, max: hi / rs.length } : { min: lo, max: hi };
  };
  const out: Item[] = [{ id: `${ins.id}_total`, label: `${ins.label} total`, ...range([...ranges.keys()]) }];
  for (const sub of ins.scoring.subscales) out.push({ id: `${ins.id}_${sub.id}`, label: `${ins.label} ${sub.label ?? sub.id}`, ...range(sub.items) });
  return out;
}

/** Which targets beyond the main numeric items (targetItems). */
export interface TargetOptions {
  /** The numeric items of the other instruments. */
  instrumentItems?: boolean;
  /** Scores: true = all; a list = those score columns (unknown → error). */
  scores?: boolean | string[];
  /** Numeric columns (items or scores) by id, unknown ones ignored: a trained model's targets. */
  extra?: string[];
}

/**
 * What models may predict: by default the main items with one numeric answer (the study as before
 * instruments); `instrumentItems` adds the numeric items of the other instruments, `scores` the
 * scores (true: all; a list: those score columns, e.g. ["phq9_total"]).
 */
export function targetItems(config: StudyConfig, opts: TargetOptions = {}): Item[] {
  const ins = studyInstruments(config);
  const out = numericOf(ins[0].items);
  if (opts.instrumentItems) for (const i of ins.slice(1)) out.push(...numericOf(i.items));
  if (opts.scores) {
    const all = ins.flatMap(scoreItems);
    if (opts.scores === true) out.push(...all);
    else for (const id of opts.scores) {
      const s = all.find((x) => x.id === id);
      if (!s) throw new Error(`scores: "${id}" is not a score of this study (scores: ${all.map((x) => x.id).join(', ') || 'none'})`);
      out.push(s);
    }
  }
  if (opts.extra) {
    // Numeric columns asked for by id (a model's targets): those of the study not already in, in the order given.
    const numeric = new Map([...ins.flatMap((i) => numericOf(i.items)), ...ins.flatMap(scoreItems)].map((x) => [x.id, x]));
    for (const id of opts.extra) if (numeric.has(id) && !out.some((o) => o.id === id)) out.push(numeric.get(id)!);
  }
  return out;
}

/**
 * The numeric columns of reports.csv, in order: per instrument its items (a single-answer item as
 * its id, a multiple-choice item as one 0/1 column per option), then its scores. Text items are
 * not here (texts.csv).
 */
export function reportColumns(config: StudyConfig): { id: string; min: number; max: number; kind: 'item' | 'option' | 'score'; instrument: string }[] {
  const out: ReturnType<typeof reportColumns> = [];
  for (const ins of studyInstruments(config)) {
    for (const it of ins.items) {
      if (it.kind === 'choice' && it.multiple) for (const o of it.options) out.push({ id: optionColumn(it, o.value), min: 0, max: 1, kind: 'option', instrument: ins.id });
      else {
        const r = itemRange(it);
        if (r) out.push({ id: it.id, ...r, kind: 'item', instrument: ins.id });
      }
    }
    for (const s of scoreItems(ins)) out.push({ id: s.id, min: s.min, max: s.max, kind: 'score', instrument: ins.id });
  }
  return out;
}

/** The text items of the study (answers in texts.csv, sealed at rest on the server). */
export function textItems(config: StudyConfig): StudyItem[] {
  return allItems(config).filter((i) => i.kind === 'text');
}

/** The scores of one report of an instrument. */
export interface InstrumentScore {
  instrument: string;
  /** Score column → value (`<id>_total`, `<id>_<subscale>`); a score with too many items missing is left out. */
  scores: Record<string, number>;
  /** The severity band of the total, or null (no bands, no total, or the total in no band). */
  band: string | null;
  /** Numeric items answered and missing. */
  answered: number;
  missing: number;
}

/** The severity band a total falls in (bands are inclusive: [min, max]), or null. */
export function bandOf(scoring: Scoring, total: number): string | null {
  return scoring.bands.find((b) => total >= b.min && total <= b.max)?.label ?? null;
}

/**
 * Score a report's answers (item id → value on the item's own scale) by the instrument's rule:
 * reverse-scored items count as min + max − answer; the total (and each subscale) is the sum,
 * prorated when at most `maxMissing` of its items are unanswered (sum × n ÷ answered, rounded to
 * an integer when every item is integer-valued), or the mean of the answered items; more missing:
 * no score. Null when the instrument is not scored.
 */
export function scoreAnswers(ins: ResolvedInstrument, answers: Readonly<Record<string, number>>): InstrumentScore | null {
  const scoring = ins.scoring;
  if (!scoring) return null;
  const items = numericOf(ins.items);
  const byId = new Map(items.map((i) => [i.id, i]));
  const reverse = new Set(scoring.reverse);
  const value = (id: string): number | undefined => {
    const v = answers[id], it = byId.get(id);
    if (v === undefined || !it || !Number.isFinite(v)) return undefined;
    return reverse.has(id) ? it.min + it.max - v : v;
  };
  const integer = items.every((i) => Number.isInteger(i.min) && Number.isInteger(i.max));
  const combine = (ids: string[]): number | undefined => {
    const vals = ids.map(value).filter((v): v is number => v !== undefined);
    const missing = ids.length - vals.length;
    if (vals.length === 0 || missing > scoring.maxMissing) return undefined;
    const sum = vals.reduce((s, v) => s + v, 0);
    if (scoring.method === 'mean') return sum / vals.length;
    if (missing === 0) return sum;
    const prorated = (sum * ids.length) / vals.length;
    return integer ? Math.round(prorated) : prorated;
  };
  const ids = items.map((i) => i.id);
  const scores: Record<string, number> = {};
  const total = combine(ids);
  if (total !== undefined) scores[`${ins.id}_total`] = total;
  for (const sub of scoring.subscales) {
    const s = combine(sub.items);
    if (s !== undefined) scores[`${ins.id}_${sub.id}`] = s;
  }
  const answered = ids.filter((id) => value(id) !== undefined).length;
  return { instrument: ins.id, scores, band: total === undefined ? null : bandOf(scoring, total), answered, missing: ids.length - answered };
}
