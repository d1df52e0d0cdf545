/**
 * Clock text of raw accelerometer files → seconds since the Unix epoch (UTC), fast enough for
 * 100 rows per second of recording: the date-and-minute prefix of a timestamp is parsed once and
 * cached, and wall-clock (local) times are moved to UTC with the zone's offset cached per half
 * hour of wall-clock time. Browser-safe (luxon only for zone offsets).
 */
import { DateTime, IANAZone } from 'luxon';

const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];
const ISO_PREFIX = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})$/;

/**
 * Parses "YYYY-MM-DD[T ]HH:MM[:SS[(.|:)fff…]][Z|±HH[:MM]]" (ISO 8601, and GENEActiv's
 * "2013-08-23 10:00:00:500" with a colon before the milliseconds).
 * `parse` returns the wall-clock reading as seconds since 1970 read as if UTC (NaN when the text
 * is not such a time) and sets `offset` to the text's UTC offset in seconds (NaN: none given).
 */
export class TimestampParser {
  offset = NaN;
  private prefix = '';
  private prefixSec = NaN;
  private suffix = '';
  private suffixOff = NaN;

  parse(s: string, start = 0, end = s.length): number {
    if (end - start < 16) return NaN;
    if (!(this.prefix.length === 16 && s.startsWith(this.prefix, start))) {
      const key = s.slice(start, start + 16);
      const m = ISO_PREFIX.exec(key);
      if (!m) return NaN;
      const [y, mo, d, h, mi] = [+m[1], +m[2], +m[3], +m[4], +m[5]];
      const ms = Date.UTC(y, mo - 1, d, h, mi);
      const back = new Date(ms);
      if (back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59) return NaN;
      this.prefix = key; this.prefixSec = ms / 1000;
    }
    let sec = 0, i = start + 16;
    const n = end;
    if (i < n && s.charCodeAt(i) === 58 /* : */) {
      const d1 = s.charCodeAt(i + 1) - 48, d2 = s.charCodeAt(i + 2) - 48;
      if (!(i + 2 < n && d1 >= 0 && d1 <= 9 && d2 >= 0 && d2 <= 9)) return NaN;
      sec = d1 * 10 + d2; i += 3;
      if (sec > 60) return NaN;
      const c = s.charCodeAt(i);
      if (i < n && (c === 46 /* . */ || c === 58 /* : */ || c === 44 /* , */)) {
        i++;
        const first = i;
        let m = 0;
        for (; i < n; i++) {
          const d = s.charCodeAt(i) - 48;
          if (d < 0 || d > 9) break;
          if (i - first < 9) m = m * 10 + d;
        }
        if (i === first) return NaN;
        sec += m / POW10[Math.min(i - first, 9)];
      }
    }
    if (i === n) { this.offset = NaN; return this.prefixSec + sec; }
    if (!(this.suffix.length === n - i && s.startsWith(this.suffix, i))) {
      const suf = s.slice(i, n);
      const off = parseOffset(suf);
      if (Number.isNaN(off)) return NaN;
      this.suffix = suf; this.suffixOff = off;
    }
    this.offset = this.suffixOff;
    return this.prefixSec + sec;
  }
}

/** "Z", "+01:00", "-0530", "+02", " GMT +01:00" → seconds east of UTC; NaN if not an offset. */
export function parseOffset(text: string): number {
  const t = text.trim().replace(/^(GMT|UTC)\s*/i, '');
  if (t === 'Z' || t === '') return 0;
  const m = /^([+-])(\d{1,2})(?::?(\d{2}))?$/.exec(t);
  if (!m) return NaN;
  const v = (+m[2] * 60 + (m[3] ? +m[3] : 0)) * 60;
  return m[1] === '-' ? -v : v;
}

/** A time zone for wall-clock readings: an IANA name, or a fixed offset in seconds. */
export type Zone = string | number;

export function checkZone(zone: Zone): void {
  if (typeof zone === 'number') { if (!Number.isFinite(zone)) throw new RangeError('zone offset must be finite'); return; }
  if (!IANAZone.isValidZone(zone)) throw new RangeError(`not an IANA time zone: "${zone}" (e.g. Europe/Berlin)`);
}

/** Converts wall-clock seconds (as if UTC) in a zone to true UTC seconds; offsets cached per half hour. */
export class ZoneClock {
  private key = NaN;
  private off = 0;
  constructor(readonly zone: Zone) { checkZone(zone); }

  /** UTC offset (seconds) of the zone at this wall-clock reading. */
  offsetAt(wall: number): number {
    if (typeof this.zone === 'number') return this.zone;
    const key = Math.floor(wall / 1800);
    if (key !== this.key) {
      this.key = key;
      this.off = DateTime.fromSeconds(key * 1800, { zone: 'utc' })
        .setZone(this.zone, { keepLocalTime: true }).offset * 60;
    }
    return this.off;
  }

  toUtc(wall: number): number { return wall - this.offsetAt(wall); }
}

/**
 * The clock for a file's wall-clock times: the `timezone` option, else the offset the file states
 * (seconds east of UTC; NaN: none), else the default zone (UTC unless given).
 */
export function fileClock(opts: { timezone?: string; defaultTimezone?: string }, fileOffset: number): ZoneClock {
  if (opts.timezone) return new ZoneClock(opts.timezone);
  if (!Number.isNaN(fileOffset)) return new ZoneClock(fileOffset);
  return new ZoneClock(opts.defaultTimezone ?? 'UTC');
}
