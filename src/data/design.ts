/**
 * The zod-free part of the study design (docs/study-design.md): item kinds and their numeric
 * ranges, option columns, the built-in instruments' names and the main instrument's id. The
 * schemas are in ./study.ts (which re-exports all of this); this module carries no zod, so the
 * participant app bundles the schedule and scoring modules without it.
 */

/** The kinds of item a study may ask. */
export const ITEM_KINDS = ['slider', 'likert', 'choice', 'boolean', 'text'] as const;
export type ItemKind = (typeof ITEM_KINDS)[number];

/** The id of the study's main items (top-level `items` and `schedule`) as an instrument. */
export const MAIN_INSTRUMENT = 'ema';

/** The built-in instruments (public domain): their items, wording and published scoring are in ./instruments.ts. */
export const BUILTIN_INSTRUMENTS = ['phq9', 'gad7'] as const;
export type BuiltinInstrument = (typeof BUILTIN_INSTRUMENTS)[number];

/** Items of each built-in instrument. */
export const BUILTIN_ITEM_COUNT: Record<BuiltinInstrument, number> = { phq9: 9, gad7: 7 };

/**
 * What these helpers read of an item (any StudyItem of ./study.ts fits; structural, so this
 * module imports nothing from the schemas).
 */
export interface ItemShape {
  id: string;
  kind?: ItemKind;
  min?: number;
  max?: number;
  labels?: readonly string[];
  multiple?: boolean;
  options?: readonly { value: number }[];
}

/** An item's kind (`slider` when study.json leaves it out). */
export function itemKind(item: ItemShape): ItemKind {
  return item.kind ?? 'slider';
}

/** The range of an item with one numeric answer; null for text and multiple choice. */
export function itemRange(item: ItemShape): { min: number; max: number } | null {
  switch (itemKind(item)) {
    case 'slider': return { min: item.min!, max: item.max! };
    case 'likert': return { min: item.min ?? 0, max: (item.min ?? 0) + item.labels!.length - 1 };
    case 'boolean': return { min: 0, max: 1 };
    case 'choice': {
      if (item.multiple) return null;
      const v = item.options!.map((o) => o.value);
      return { min: Math.min(...v), max: Math.max(...v) };
    }
    case 'text': return null;
  }
}

/** The 0/1 column of each option of a multiple-choice item: `<item id>_<option value>`. */
export function optionColumn(item: Pick<ItemShape, 'id'>, value: number): string {
  return `${item.id}_${value}`;
}
