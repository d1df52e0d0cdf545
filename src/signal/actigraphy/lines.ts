/**
 * Bytes in chunks of any size → whole text lines with their 1-based line numbers (UTF-8, a BOM
 * dropped, "\n" or "\r\n"), and the number parsing of sensor rows. Browser-safe (TextDecoder).
 *
 * Speed matters here (a day at 100 Hz is 8.6 million rows), so lines are handed out as ranges of
 * the decoded text and numbers are parsed in place (`parseDecimal`) instead of split and sliced.
 */
import { InputError } from '../../util/errors.js';
import type { RecordingInfo } from './types.js';

export type RangeLine = (text: string, start: number, end: number, lineNo: number) => void;

export class LineSplitter {
  private readonly decoder = new TextDecoder('utf-8');
  /** Bytes after the last newline seen (an unfinished line). */
  private rest: Uint8Array = new Uint8Array(0);
  /** Line number of the last line handed out. */
  line = 0;

  /**
   * Call `onLine(text, start, end, lineNo)` for every line the bytes complete (line = text[start, end)).
   * Only whole lines are decoded — a newline byte is always a character boundary in UTF-8 — so
   * each chunk becomes one flat string (no concatenation, which makes every later character
   * access slower).
   */
  pushRanges(bytes: Uint8Array, onLine: RangeLine): void {
    const nl = bytes.lastIndexOf(10);
    if (nl < 0) { this.rest = concat(this.rest, bytes); return; }
    const whole = this.rest.length ? concat(this.rest, bytes.subarray(0, nl + 1)) : bytes.subarray(0, nl + 1);
    this.rest = bytes.slice(nl + 1);
    this.lines(this.decoder.decode(whole), onLine);
  }

  /** Flush the last line (without a final newline). */
  endRanges(onLine: RangeLine): void {
    const tail = this.decoder.decode(this.rest);
    this.rest = new Uint8Array(0);
    const end = tail.endsWith('\r') ? tail.length - 1 : tail.length;
    if (end > 0) onLine(tail, 0, end, ++this.line);
  }

  /**
   * Flush the last line; a last line without its newline that does not parse is a cut-off write:
   * skipped and counted in `info`, not an error.
   */
  endRangesTolerant(onLine: RangeLine, info: RecordingInfo): void {
    this.endRanges((s, a, b, no) => {
      try { onLine(s, a, b, no); } catch (e) {
        if (!(e instanceof InputError)) throw e;
        info.skipped++;
        info.header.truncated = `line ${no} cut off`;
      }
    });
  }

  private lines(s: string, onLine: RangeLine): void {
    let start = 0;
    for (;;) {
      const nl = s.indexOf('\n', start);
      if (nl < 0) break;
      const end = nl > start && s.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      onLine(s, start, end, ++this.line);
      start = nl + 1;
    }
  }

  /** As pushRanges, with each line as its own string. */
  push(bytes: Uint8Array, onLine: (line: string, lineNo: number) => void): void {
    this.pushRanges(bytes, (s, a, b, n) => onLine(s.slice(a, b), n));
  }

  end(onLine: (line: string, lineNo: number) => void): void {
    this.endRanges((s, a, b, n) => onLine(s.slice(a, b), n));
  }
}

/** a followed by b, in a new array. */
export function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const r = new Uint8Array(a.length + b.length);
  r.set(a); r.set(b, a.length);
  return r;
}

/** Split a CSV line on commas (sensor files are plain numbers; surrounding quotes are removed). */
export function splitFields(line: string): string[] {
  const f = line.split(',');
  for (let i = 0; i < f.length; i++) {
    let v = f[i].trim();
    if (v.length >= 2 && v.charCodeAt(0) === 34 && v.charCodeAt(v.length - 1) === 34) v = v.slice(1, -1);
    f[i] = v;
  }
  return f;
}

/** Strict number: the whole cell must be a finite decimal number (parseFloat alone accepts "1.2abc"). */
export function toNumber(cell: string | undefined): number {
  if (cell === undefined) return NaN;
  const v = Number(cell);
  return cell.trim().length > 0 && Number.isFinite(v) ? v : NaN;
}

const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);

/**
 * The number in text[start, end): plain decimals ("-0.1234", " 12 ") are parsed in place —
 * an exact integer mantissa divided once by a power of ten, so the result is the correctly
 * rounded double, as Number() gives; anything else (exponents, quotes, long mantissas) goes
 * through Number(). NaN when the range is not a number.
 */
export function parseDecimal(s: string, start: number, end: number): number {
  let i = start;
  while (i < end && s.charCodeAt(i) === 32) i++;
  let e = end;
  while (e > i && s.charCodeAt(e - 1) === 32) e--;
  if (i === e) return NaN;
  let neg = false;
  let c = s.charCodeAt(i);
  if (c === 45 /* - */) { neg = true; i++; } else if (c === 43 /* + */) i++;
  let m = 0, digits = 0, frac = 0, dot = false;
  for (; i < e; i++) {
    c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      m = m * 10 + (c - 48); digits++;
      if (dot) frac++;
    } else if (c === 46 && !dot) dot = true;
    else return toNumber(s.slice(start, end));
  }
  if (digits === 0) return NaN;
  if (digits > 15 || frac > 22) return toNumber(s.slice(start, end));
  const v = frac ? m / POW10[frac] : m;
  return neg ? -v : v;
}

/**
 * Field boundaries of text[start, end) split on commas: fills `starts`/`ends` (each at least
 * `max` long) for the first `max` fields and returns how many fields the line has (up to max).
 */
export function fieldRanges(s: string, start: number, end: number, starts: Int32Array, ends: Int32Array, max: number): number {
  let k = 0, a = start;
  while (k < max) {
    let c = s.indexOf(',', a);
    if (c < 0 || c > end) c = end;
    starts[k] = a; ends[k] = c; k++;
    if (c === end) break;
    a = c + 1;
  }
  return k;
}
