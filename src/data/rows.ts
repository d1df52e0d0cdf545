/**
 * Row schemas of the study CSVs (SPEC §7): one zod schema per file, built from the study's
 * config (its items and channels), gives both the TypeScript type and the validation message.
 * Cells are raw text; an empty cell is a missing value (NaN), never a zero.
 * Pure (no I/O): the browser app and the server can validate rows with the same schemas.
 */
import { z } from 'zod';
import { DateTime } from 'luxon';
import { TRIGGERS, type Item } from './study.js';

const NUMBER_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Parse a numeric cell: NaN for an empty cell (missing), undefined for text that is not a number. */
export function parseNumberCell(s: string): number | undefined {
  const t = s.trim();
  if (t === '' || t === 'NA' || t === 'NaN') return NaN;
  if (!NUMBER_RE.test(t)) return undefined;
  const v = Number(t);
  return Number.isFinite(v) ? v : undefined;
}

// ISO 8601 date-time with seconds optional, fraction optional, offset optional.
const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/;

function daysInMonth(y: number, m: number): number {
  return new Date(Date.UTC(y, m, 0)).getUTCDate();
}

/**
 * Parse an ISO 8601 date-time to ms since the Unix epoch (UTC). Exact calendar checks (no
 * 30 February). A time without offset is read in `zone` (an IANA zone) when given, else rejected.
 * Returns NaN when the text is not such a time. Fast path for the millions of activity rows.
 */
export function parseIsoTime(s: string, zone?: string): number {
  const m = ISO_RE.exec(s.trim());
  if (!m) return NaN;
  const y = +m[1], mo = +m[2], d = +m[3], h = +m[4], mi = +m[5], sec = m[6] ? +m[6] : 0;
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || sec > 59) return NaN;
  const ms = m[7] ? Math.round(Number('0.' + m[7]) * 1000) : 0;
  const off = m[8];
  if (off === undefined) {
    if (!zone) return NaN;
    const dt = DateTime.fromObject({ year: y, month: mo, day: d, hour: h, minute: mi, second: sec, millisecond: ms }, { zone });
    return dt.isValid ? dt.toMillis() : NaN;
  }
  let offsetMin = 0;
  if (off !== 'Z') {
    const sign = off[0] === '-' ? -1 : 1;
    const digits = off.slice(1).replace(':', '');
    const oh = +digits.slice(0, 2), om = digits.length > 2 ? +digits.slice(2) : 0;
    if (oh > 18 || om > 59) return NaN;
    offsetMin = sign * (oh * 60 + om);
  }
  return Date.UTC(y, mo - 1, d, h, mi, sec, ms) - offsetMin * 60_000;
}

const ISO_EXAMPLE = 'ISO 8601 date-time with offset, e.g. 2022-09-05T10:23:00+09:00';

/** A required non-empty identifier cell. */
export const IdCell = z.string().trim().min(1, 'expected a non-empty id');

/** A numeric cell; empty → NaN (missing). */
export function numberCell(range?: { min?: number; max?: number }) {
  return z.string().transform((s, ctx) => {
    const v = parseNumberCell(s);
    if (v === undefined) {
      ctx.addIssue({ code: 'custom', message: `expected a number, got "${s}"` });
      return z.NEVER;
    }
    if (!Number.isNaN(v) && range) {
      if ((range.min !== undefined && v < range.min) || (range.max !== undefined && v > range.max)) {
        ctx.addIssue({ code: 'custom', message: `expected a number in [${range.min ?? '-∞'}, ${range.max ?? '∞'}], got ${v}` });
        return z.NEVER;
      }
    }
    return v;
  });
}

/** An item answer cell: empty → NaN (not answered); else a number within the item's [min, max]. */
export function itemCell(item: Item) {
  return numberCell({ min: item.min, max: item.max });
}

/** A time cell: ISO 8601 with explicit offset (reports) or, when `zone` is given, local time in that zone. */
export function timeCell(zone?: string) {
  return z.string().transform((s, ctx) => {
    const t = parseIsoTime(s, zone);
    if (Number.isNaN(t)) {
      ctx.addIssue({ code: 'custom', message: `expected an ${zone ? 'ISO 8601 date-time (offset optional)' : ISO_EXAMPLE}, got "${s}"` });
      return z.NEVER;
    }
    return t;
  });
}

export const TimeZoneCell = z.string().trim().refine((tz) => {
  if (tz === '') return true;
  try { new Intl.DateTimeFormat('en-US', { timeZone: tz }); return true; } catch { return false; }
}, { message: 'expected an IANA time zone such as Asia/Tokyo (or empty for the study default)' });

/** participants.csv: participant_id[, timezone, …covariates]. */
export const ParticipantRowSchema = z.object({
  participant_id: IdCell,
  timezone: TimeZoneCell.optional(),
});
export type ParticipantRow = z.infer<typeof ParticipantRowSchema>;

/** Separator of item ids in `item_order` (the StudyWriter's ITEM_ORDER_SEPARATOR). */
export const ITEM_ORDER_SEP = ';';

/** item_order: empty, or the item ids in the order shown, joined by ";", each known and at most once. */
export function itemOrderCell(items: readonly Item[]) {
  const known = new Set(items.map((i) => i.id));
  return z.string().optional().superRefine((s, ctx) => {
    if (!s || s.trim() === '') return;
    const ids = s.split(ITEM_ORDER_SEP).map((x) => x.trim());
    const bad = ids.filter((id) => !known.has(id));
    if (bad.length || new Set(ids).size !== ids.length) {
      ctx.addIssue({ code: 'custom', message: `expected item ids joined by "${ITEM_ORDER_SEP}", each once${bad.length ? `; unknown: ${bad.join(', ')}` : '; an id repeats'}` });
    }
  });
}

/**
 * reports.csv: report_id, participant_id, time (with offset), trigger, one column per numeric
 * item (multiple choice: one 0/1 column per option; scores), optionally `instrument` (one of
 * `instruments`; empty = the main items) and `prompt_id`. `orderItems`: the ids item_order may
 * name (default: `items`).
 */
export function reportRowSchema(items: readonly Item[], orderItems: readonly Item[] = items, instruments?: ReadonlySet<string>) {
  const shape: Record<string, z.ZodType> = {
    report_id: IdCell,
    participant_id: IdCell,
    time: timeCell(),
    trigger: z.string().trim().pipe(z.enum(TRIGGERS, { message: `expected one of ${TRIGGERS.join(' | ')}` })),
    item_order: itemOrderCell(orderItems),
    instrument: z.string().optional().transform((s, ctx) => {
      const v = (s ?? '').trim();
      if (v === '' || !instruments) return v || undefined;
      if (!instruments.has(v)) { ctx.addIssue({ code: 'custom', message: `expected an instrument of study.json (${[...instruments].join(', ')}) or empty, got "${v}"` }); return z.NEVER; }
      return v;
    }),
    prompt_id: z.string().max(200).optional(),
    // When the rating was given, if later than `time` (diaries rated after the fact); empty = `time`.
    answered_at: z.string().optional().transform((s, ctx) => {
      if (s === undefined || s.trim() === '') return undefined;
      const t = parseIsoTime(s.trim());
      if (Number.isNaN(t)) { ctx.addIssue({ code: 'custom', message: `expected an ${ISO_EXAMPLE} (or empty: answered at \`time\`), got "${s}"` }); return z.NEVER; }
      return t;
    }),
  };
  for (const it of items) shape[it.id] = itemCell(it);
  return z.object(shape);
}
export interface ReportRow {
  report_id: string; participant_id: string; time: number; trigger: (typeof TRIGGERS)[number];
  item_order?: string; answered_at?: number; [item: string]: unknown;
}

/** activity.csv: participant_id, time (epoch start), one numeric column per channel. */
export function activityRowSchema(channels: readonly string[], zone: string,
  ranges?: Record<string, { min?: number; max?: number }>) {
  const shape: Record<string, z.ZodType> = { participant_id: IdCell, time: timeCell(zone) };
  for (const c of channels) shape[c] = numberCell(ranges?.[c]);
  return z.object(shape);
}

/** speech.csv: report_id, file (path relative to the study folder). */
export const SpeechRowSchema = z.object({
  report_id: IdCell,
  file: z.string().trim().min(1, 'expected a file path relative to the study folder'),
});

/** speech_features.csv: report_id, then one numeric column per feature. */
export function speechFeatureRowSchema(features: readonly string[]) {
  const shape: Record<string, z.ZodType> = { report_id: IdCell };
  for (const f of features) shape[f] = numberCell();
  return z.object(shape);
}

/** texts.csv: report_id, item (a text item's id), text (the participant's words). */
export const TextRowSchema = z.object({
  report_id: IdCell,
  item: z.string().trim().min(1, 'expected a text item id'),
  text: z.string(),
});

/** Required columns of each file (beyond these, item/channel columns from study.json). */
export const REQUIRED_COLUMNS = {
  participants: ['participant_id'],
  reports: ['report_id', 'participant_id', 'time', 'trigger'],
  activity: ['participant_id', 'time'],
  speech: ['report_id', 'file'],
  speechFeatures: ['report_id'],
  texts: ['report_id', 'item', 'text'],
} as const;
