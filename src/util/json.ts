/**
 * JSON for results that may hold NaN or ±Infinity (a CCC of a constant series, an empty group):
 * those become null, which JSON can carry and readers can tell from a number.
 */
export function resultJson(value: unknown, indent = 2): string {
  return JSON.stringify(value, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), indent);
}
