/**
 * Threshold notification rules of a study (study.json `notifications`): when a report's answer,
 * an instrument's score or an early-warning alert crosses a line, the study team is told by
 * e-mail and/or a signed webhook that a participant needs attention (the server's
 * jobs/notify.ts). A rule names what it watches; the message never carries the value.
 */
import { z } from 'zod';

export const NOTIFY_CHANNELS = ['email', 'webhook'] as const;
export type NotifyChannel = (typeof NOTIFY_CHANNELS)[number];

const Bounds = { atLeast: z.number().optional(), atMost: z.number().optional() };
const bounded = (w: { atLeast?: number; atMost?: number }) => w.atLeast !== undefined || w.atMost !== undefined;
const BOUNDS_MESSAGE = { message: 'give atLeast and/or atMost' };

/** An item's answer in a report (e.g. {"item": "phq9_9", "atLeast": 1}). */
export const ItemConditionSchema = z.object({ item: z.string().min(1).max(64), ...Bounds }).strict().refine(bounded, BOUNDS_MESSAGE);
/** An instrument's total score in a report, or one of its subscales (e.g. {"instrument": "phq9", "atLeast": 20}). */
export const InstrumentConditionSchema = z.object({ instrument: z.string().min(1).max(64), subscale: z.string().min(1).max(64).optional(), ...Bounds }).strict().refine(bounded, BOUNDS_MESSAGE);
/** A new early-warning alert episode (server settings `alerts`), of any watched item or of these. */
export const AlertConditionSchema = z.object({ alert: z.literal(true), items: z.array(z.string().min(1).max(64)).max(100).optional() }).strict();

export const NotifyRuleSchema = z.object({
  /** Names the rule in the dashboard and the audit log (not in the message). */
  id: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, "_", "-" and "." only (1–64)'),
  when: z.union([ItemConditionSchema, InstrumentConditionSchema, AlertConditionSchema]),
  /** How the team is told: e-mail to the study's owners and researchers, the study's webhook, or both. */
  channels: z.array(z.enum(NOTIFY_CHANNELS)).min(1).max(2).default(['email', 'webhook']),
  /**
   * Hours (0–720) a notification of this rule for a participant quiets the rule for them while it
   * is not acknowledged: a match within it is recorded and audited ("also matched N times since"
   * on the open one) but sends nothing. Acknowledging ends it. 0 or absent: every match is sent.
   */
  cooldownHours: z.number().min(0).max(720).optional(),
}).strict();
export type NotifyRule = z.infer<typeof NotifyRuleSchema>;

export const NotifyRulesSchema = z.array(NotifyRuleSchema).max(50)
  .refine((rules) => new Set(rules.map((r) => r.id)).size === rules.length, { message: 'rule ids must be unique' });

/** Does `value` meet the rule's bounds? */
export function withinBounds(w: { atLeast?: number; atMost?: number }, value: number): boolean {
  return Number.isFinite(value) && (w.atLeast === undefined || value >= w.atLeast) && (w.atMost === undefined || value <= w.atMost);
}

/**
 * The rules a report meets: an item rule by the report's answer to the item (any numeric column:
 * an item, an option column, an instrument's item such as "phq9_9"), an instrument rule by the
 * score in the report (`scores`: score column → value, "phq9_total", "<instrument>_<subscale>").
 * An item not answered, or an instrument not scored, meets nothing.
 */
export function reportRuleHits(rules: readonly NotifyRule[], answers: Readonly<Record<string, number>>, scores: Readonly<Record<string, number>>): NotifyRule[] {
  return rules.filter((r) => {
    const w = r.when;
    if ('item' in w) return w.item in answers && withinBounds(w, answers[w.item]);
    if ('instrument' in w) {
      const col = `${w.instrument}_${w.subscale ?? 'total'}`;
      return col in scores && withinBounds(w, scores[col]);
    }
    return false;
  });
}

/** The rules a new early-warning alert episode of `item` meets. */
export function alertRuleHits(rules: readonly NotifyRule[], item: string): NotifyRule[] {
  return rules.filter((r) => 'alert' in r.when && (r.when.items === undefined || r.when.items.includes(item)));
}
