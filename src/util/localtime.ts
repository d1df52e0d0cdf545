/**
 * Fast local-time arithmetic for IANA time zones: UTC offsets (cached per UTC hour, since every
 * zone changes its offset only on whole UTC hours or half hours — we cache per half hour) and
 * ISO 8601 strings with the local offset ("2022-10-30T02:30:00+01:00"). Millions of activity
 * epochs are formatted this way, so it avoids a luxon DateTime per call.
 * Pure TypeScript (Intl only): runs in Node and in the browser.
 */

const dtfCache = new Map<string, Intl.DateTimeFormat>();
const offsetCache = new Map<string, Map<number, number>>();
const HALF_HOUR = 1_800_000;

function formatter(zone: string): Intl.DateTimeFormat {
  let f = dtfCache.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone, hourCycle: 'h23',
      year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    dtfCache.set(zone, f);
  }
  return f;
}

function computeOffsetMinutes(ms: number, zone: string): number {
  if (zone === 'UTC' || zone === 'Etc/UTC') return 0;
  const parts = formatter(zone).formatToParts(new Date(ms));
  const get = (t: string) => Number(parts.find((p) => p.type === t)!.value);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  const whole = Math.floor(ms / 1000) * 1000;
  return Math.round((asUtc - whole) / 60_000);
}

/** UTC offset of `zone` at instant `ms`, in minutes (e.g. +120 for Berlin in summer). */
export function zoneOffsetMinutes(ms: number, zone: string): number {
  let m = offsetCache.get(zone);
  if (!m) { m = new Map(); offsetCache.set(zone, m); }
  const key = Math.floor(ms / HALF_HOUR);
  let off = m.get(key);
  if (off === undefined) {
    off = computeOffsetMinutes(key * HALF_HOUR, zone);
    // A transition inside the half hour (never happens in the tz database at present) is still handled.
    const end = computeOffsetMinutes(key * HALF_HOUR + HALF_HOUR - 1000, zone);
    if (end !== off) return computeOffsetMinutes(ms, zone);
    m.set(key, off);
  }
  return off;
}

const pad2 = (n: number) => (n < 10 ? '0' + n : String(n));

/** "+02:00" / "-05:00" / "Z"-free form of an offset in minutes. */
export function formatOffset(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const a = Math.abs(minutes);
  return `${sign}${pad2(Math.floor(a / 60))}:${pad2(a % 60)}`;
}

/** ISO 8601 local time with offset, to the second: "2022-10-24T11:03:27+02:00". */
export function localIso(ms: number, zone: string): string {
  const off = zoneOffsetMinutes(ms, zone);
  const d = new Date(Math.floor(ms / 1000) * 1000 + off * 60_000);
  return `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}T` +
    `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}${formatOffset(off)}`;
}

/** Local clock hour of day in [0, 24) at instant `ms` in `zone`. */
export function localHourOfDay(ms: number, zone: string): number {
  const local = ms + zoneOffsetMinutes(ms, zone) * 60_000;
  const dayMs = ((local % 86_400_000) + 86_400_000) % 86_400_000;
  return dayMs / 3_600_000;
}

/**
 * The instant (ms) at which the local wall clock in `zone` shows the given date and time.
 * Times that do not exist (inside a spring-forward gap) move forward by the gap, as clocks do;
 * ambiguous times (fall-back) resolve to the earlier instant.
 */
export function zonedTimeToUtc(year: number, month: number, day: number, hour: number, minute = 0, second = 0, zone = 'UTC'): number {
  const wall = Date.UTC(year, month - 1, day, hour, minute, second);
  // Offsets a day before and a day after bracket any transition near this wall time.
  const before = zoneOffsetMinutes(wall - 86_400_000, zone);
  const after = zoneOffsetMinutes(wall + 86_400_000, zone);
  const valid = [wall - before * 60_000, wall - after * 60_000]
    .filter((t) => zoneOffsetMinutes(t, zone) * 60_000 === wall - t);
  if (valid.length > 0) return Math.min(...valid);
  return wall - before * 60_000; // in a spring-forward gap: the old offset moves the clock forward
}
