/**
 * Generic raw CSV: one row per sample, columns time, x, y, z (a header line naming them is
 * optional; other columns are ignored). Time is either an ISO 8601 date-time (with or without
 * offset; without, it is wall-clock time in the given zone) or a number: Unix seconds (> 1e8),
 * Unix milliseconds (> 1e11), or seconds from `start`. Without a time column, `rate` and `start`
 * give the times. Any sample rate: estimated as the median spacing of the first 500 rows unless
 * `rate` is given. Axes in g; axes recorded in m/s² (|a| ≈ 9.8 at rest) are detected and scaled.
 */
import { LineSplitter, fieldRanges, parseDecimal, splitFields, toNumber } from './lines.js';
import { TimestampParser, ZoneClock } from './time.js';
import { SampleBuffer, lineError, type AccelChunk, type AccelReader, type ReaderOptions, type RecordingInfo } from './types.js';

const STANDARD_G = 9.80665;
const PROBE_ROWS = 500;

type TimeKind = 'iso' | 'unix-s' | 'unix-ms' | 'relative' | 'none';

const norm = (h: string) => h.toLowerCase().replace(/[^a-z0-9]/g, '');
const TIME_NAMES = new Set(['time', 'timestamp', 'datetime', 't', 'unixtime', 'unixtimestamp', 'seconds', 'times', 'headertimestamp', 'timeutc', 'date']);
function axisColumn(names: string[], axis: 'x' | 'y' | 'z'): number {
  const re = new RegExp(`^(acc|accel|accelerometer|acceleration|axis|a|raw)?${axis}(axis|g|mg|ms2|accel|acc)?$`);
  return names.findIndex((n) => re.test(n));
}

export class CsvAccelReader implements AccelReader {
  readonly info: RecordingInfo = { format: 'csv', header: {}, skipped: 0 };
  private readonly lines = new LineSplitter();
  private readonly buf = new SampleBuffer();
  private readonly name: string;
  private readonly tsp = new TimestampParser();
  private readonly clock: ZoneClock;
  private cols: { t: number; x: number; y: number; z: number } | null = null;
  private kind: TimeKind | null = null;
  private startSec = NaN;
  private scale = 1;
  private index = 0;
  /** Rows held until the sample rate and units are known: [t, x, y, z]. */
  private probe: number[][] | null = [];
  private rate = NaN;
  private maxCol = 3;
  private readonly st = new Int32Array(64);
  private readonly en = new Int32Array(64);

  constructor(private readonly opts: ReaderOptions = {}) {
    this.name = opts.name ?? 'input';
    this.clock = new ZoneClock(opts.timezone ?? opts.defaultTimezone ?? 'UTC');
    if (opts.rate !== undefined) this.rate = opts.rate;
    if (opts.start !== undefined) {
      const w = this.tsp.parse(opts.start);
      if (Number.isNaN(w)) throw new RangeError(`start must be an ISO 8601 date-time, got "${opts.start}"`);
      this.startSec = Number.isNaN(this.tsp.offset) ? this.clock.toUtc(w) : w - this.tsp.offset;
    }
  }

  push(bytes: Uint8Array): AccelChunk | null {
    this.lines.pushRanges(bytes, this.onLine);
    return this.probe ? null : this.buf.take(this.rate);
  }

  end(): AccelChunk | null {
    this.lines.endRangesTolerant(this.onLine, this.info);
    if (this.probe) this.flushProbe();
    return this.buf.take(this.rate);
  }

  private readonly onLine = (s: string, a: number, b: number, no: number): void => {
    if (a === b || (s.charCodeAt(a) <= 32 && s.slice(a, b).trim() === '')) return;
    if (!this.cols && this.setColumns(s.slice(a, b), no)) return;
    const c = this.cols!, st = this.st, en = this.en;
    const k = fieldRanges(s, a, b, st, en, this.maxCol + 1);
    if (k <= this.maxCol) throw lineError(this.name, no, `expected at least ${this.maxCol + 1} fields, got ${k}`);
    let x = parseDecimal(s, st[c.x], en[c.x]), y = parseDecimal(s, st[c.y], en[c.y]), z = parseDecimal(s, st[c.z], en[c.z]);
    if (Number.isNaN(x + y + z)) {
      const g = splitFields(s.slice(a, b));
      x = toNumber(g[c.x]); y = toNumber(g[c.y]); z = toNumber(g[c.z]);
      for (const [v, col, nm] of [[x, c.x, 'x'], [y, c.y, 'y'], [z, c.z, 'z']] as const) {
        if (Number.isNaN(v)) throw lineError(this.name, no, `expected a number (acceleration in g), got "${g[col] ?? ''}"`, col + 1, nm);
      }
    }
    const t = c.t < 0 ? this.time(s, 0, 0, no, -1) : this.time(s, st[c.t], en[c.t], no, c.t);
    if (this.probe) {
      this.probe.push([t, x, y, z]);
      if (this.probe.length >= PROBE_ROWS) this.flushProbe();
    } else {
      this.buf.add(t, x * this.scale, y * this.scale, z * this.scale);
    }
  };

  /** First line: a header naming the columns (returns true), or data in the order time, x, y, z (or x, y, z). */
  private setColumns(line: string, no: number): boolean {
    const f = splitFields(line);
    const numeric = f.every((v) => !Number.isNaN(toNumber(v)) || !Number.isNaN(this.tsp.parse(v)));
    if (numeric) {
      this.cols = f.length >= 4 ? { t: 0, x: 1, y: 2, z: 3 } : f.length === 3 ? { t: -1, x: 0, y: 1, z: 2 } : null;
      if (!this.cols) throw lineError(this.name, no, `expected columns time,x,y,z (or x,y,z), got ${f.length} field(s)`);
      this.info.header.columns = this.cols.t < 0 ? 'x,y,z' : 'time,x,y,z';
      this.maxCol = Math.max(this.cols.t, this.cols.x, this.cols.y, this.cols.z);
      return false;
    }
    const names = f.map(norm);
    const t = names.findIndex((n) => TIME_NAMES.has(n));
    const x = axisColumn(names, 'x'), y = axisColumn(names, 'y'), z = axisColumn(names, 'z');
    const missing = ([['x', x], ['y', y], ['z', z]] as const).filter(([, i]) => i < 0).map(([n]) => n);
    if (missing.length) throw lineError(this.name, no, `header has no column for axis ${missing.join(', ')} (expected e.g. time,x,y,z); got "${line}"`);
    this.cols = { t, x, y, z };
    this.maxCol = Math.max(t, x, y, z);
    if (this.maxCol >= 64) throw lineError(this.name, no, 'time, x, y, z must be among the first 64 columns');
    this.info.header.columns = f.join(',');
    return true;
  }

  private time(s: string, a: number, b: number, no: number, col: number): number {
    if (this.kind === null) this.kind = this.detectKind(s.slice(a, b).trim(), no, col);
    switch (this.kind) {
      case 'none': return this.startSec + this.index++ / this.rate;
      case 'iso': {
        let w = this.tsp.parse(s, a, b);
        if (Number.isNaN(w)) w = this.tsp.parse(s.slice(a, b).trim().replace(/^"|"$/g, ''));
        if (Number.isNaN(w)) throw lineError(this.name, no, `expected an ISO 8601 date-time, got "${s.slice(a, b)}"`, col + 1, 'time');
        return Number.isNaN(this.tsp.offset) ? this.clock.toUtc(w) : w - this.tsp.offset;
      }
      default: {
        const v = parseDecimal(s, a, b);
        if (Number.isNaN(v)) throw lineError(this.name, no, `expected a time in seconds, got "${s.slice(a, b)}"`, col + 1, 'time');
        return this.kind === 'unix-ms' ? v / 1000 : this.kind === 'unix-s' ? v : this.startSec + v;
      }
    }
  }

  private detectKind(cell: string, no: number, col: number): TimeKind {
    if (col < 0) {
      if (!(this.rate > 0) || Number.isNaN(this.startSec)) {
        throw lineError(this.name, no, 'the file has no time column: give the sample rate and the start time (--rate, --start)');
      }
      return 'none';
    }
    if (!Number.isNaN(this.tsp.parse(cell))) return 'iso';
    const v = toNumber(cell);
    if (Number.isNaN(v)) throw lineError(this.name, no, `expected an ISO 8601 date-time or seconds, got "${cell}"`, col + 1, 'time');
    if (v > 1e11) return 'unix-ms';
    if (v > 1e8) return 'unix-s';
    if (Number.isNaN(this.startSec)) {
      throw lineError(this.name, no, `time ${cell} looks like seconds from the start of the recording: give the start time (--start ISO)`, col + 1, 'time');
    }
    return 'relative';
  }

  /** Estimate rate (median spacing) and units (m/s² if the median |a| is near 9.8), then release the rows. */
  private flushProbe(): void {
    const rows = this.probe!;
    this.probe = null;
    if (!(this.rate > 0)) {
      const d: number[] = [];
      for (let i = 1; i < rows.length; i++) { const dt = rows[i][0] - rows[i - 1][0]; if (dt > 0) d.push(dt); }
      if (d.length === 0) throw lineError(this.name, this.lines.line, 'cannot tell the sample rate: fewer than two distinct times (give --rate)');
      d.sort((a, b) => a - b);
      const r = 1 / d[d.length >> 1];
      this.rate = Math.abs(r - Math.round(r)) < 0.01 * r ? Math.round(r) : Math.round(r * 1000) / 1000;
    }
    const vm = rows.map((r) => Math.hypot(r[1], r[2], r[3])).sort((a, b) => a - b);
    const med = vm.length ? vm[vm.length >> 1] : 1;
    if (med > 6 && med < 14) { this.scale = 1 / STANDARD_G; this.info.header.units = 'm/s² (scaled to g)'; }
    else this.info.header.units = 'g';
    this.info.rate = this.rate;
    for (const r of rows) this.buf.add(r[0], r[1] * this.scale, r[2] * this.scale, r[3] * this.scale);
  }
}
