/**
 * ActiGraph raw CSV as exported by ActiLife (GT3X/GT3X+/wGT3X-BT/GT9X "RAW" export):
 *
 *   ------------ Data File Created By ActiGraph GT3X+ ActiLife v6.13.3 Firmware v3.2.1 date format M/d/yyyy at 30 Hz  Filter Normal -----------
 *   Serial Number: NEO1F18120387
 *   Start Time 00:00:00
 *   Start Date 5/7/2014
 *   Epoch Period (hh:mm:ss) 00:00:00
 *   Download Time 10:31:05
 *   Download Date 5/20/2014
 *   Current Memory Address: 0
 *   Current Battery Voltage: 4.07     Mode = 12
 *   --------------------------------------------------
 *   Accelerometer X,Accelerometer Y,Accelerometer Z        (optional; may start with Timestamp)
 *   -0.182,-0.182,0.962
 *
 * The sample rate and the date format come from the first line; sample i is at start + i/rate
 * (the export has one row per sample without gaps; a Timestamp column, if present, is skipped).
 * Start date and time are the device's wall clock, read in the given zone.
 */
import { LineSplitter, fieldRanges, parseDecimal, splitFields, toNumber } from './lines.js';
import { ZoneClock } from './time.js';
import { SampleBuffer, lineError, type AccelChunk, type AccelReader, type ReaderOptions, type RecordingInfo } from './types.js';

/** Parse a date written in ActiLife's "date format" (e.g. M/d/yyyy, d/M/yyyy, dd.MM.yyyy, yyyy-MM-dd). */
export function parseDateWithFormat(text: string, format: string): { y: number; m: number; d: number } | null {
  const ft = format.split(/[^A-Za-z]+/).filter(Boolean);
  const vt = text.trim().split(/[^0-9]+/).filter(Boolean);
  if (ft.length !== 3 || vt.length !== 3) return null;
  let y = NaN, m = NaN, d = NaN;
  ft.forEach((f, i) => {
    const v = +vt[i];
    if (/^y+$/i.test(f)) y = v < 100 ? 2000 + v : v; else if (/^M+$/.test(f)) m = v; else if (/^d+$/i.test(f)) d = v;
  });
  if (!(m >= 1 && m <= 12 && d >= 1 && d <= 31 && y > 1900)) return null;
  return { y, m, d };
}

export class ActiGraphCsvReader implements AccelReader {
  readonly info: RecordingInfo = { format: 'actigraph', header: {}, skipped: 0 };
  private readonly lines = new LineSplitter();
  private readonly buf = new SampleBuffer();
  private readonly name: string;
  private readonly clock: ZoneClock;
  private stage: 'title' | 'header' | 'columns' | 'data' = 'title';
  private dateFormat = 'M/d/yyyy';
  private startTime = '';
  private startDate = '';
  private start = NaN;
  private rate = NaN;
  private cols = { x: 0, y: 1, z: 2 };
  private index = 0;
  private readonly st = new Int32Array(64);
  private readonly en = new Int32Array(64);

  constructor(opts: ReaderOptions = {}) {
    this.name = opts.name ?? 'input';
    this.clock = new ZoneClock(opts.timezone ?? opts.defaultTimezone ?? 'UTC');
  }

  push(bytes: Uint8Array): AccelChunk | null {
    this.lines.pushRanges(bytes, this.onLine);
    return this.buf.take(this.rate);
  }

  end(): AccelChunk | null {
    this.lines.endRangesTolerant(this.onLine, this.info);
    if (this.stage !== 'data' && this.stage !== 'columns') throw lineError(this.name, this.lines.line, 'ActiGraph header ended early: no "-----" line before the data');
    return this.buf.take(this.rate);
  }

  private readonly onLine = (s: string, a: number, b: number, no: number): void => {
    if (this.stage === 'data') { this.sample(s, a, b, no); return; }
    const line = s.slice(a, b);
    if (this.stage === 'title') {
      if (!/ActiGraph/i.test(line)) throw lineError(this.name, no, 'not an ActiGraph CSV export: the first line should read "------------ Data File Created By ActiGraph …"');
      const hz = /at\s+([\d.]+)\s*Hz/i.exec(line);
      if (!hz) throw lineError(this.name, no, 'ActiGraph title line has no sample rate ("at 30 Hz")');
      this.rate = +hz[1];
      const df = /date format\s+(\S+)/i.exec(line);
      if (df) this.dateFormat = df[1];
      this.info.rate = this.rate;
      this.info.header.title = line.replace(/^-+\s*|\s*-+$/g, '');
      this.info.header.dateFormat = this.dateFormat;
      this.stage = 'header';
      return;
    }
    if (this.stage === 'header') {
      if (/^-{5,}/.test(line.trim())) { this.begin(no); this.stage = 'columns'; return; }
      let m: RegExpExecArray | null;
      if ((m = /^Start Time\s+(\d{1,2}:\d{2}:\d{2})/i.exec(line))) this.startTime = m[1];
      else if ((m = /^Start Date\s+(\S+)/i.exec(line))) this.startDate = m[1];
      else if ((m = /^Serial Number:\s*(\S+)/i.exec(line))) this.info.header.serial = m[1];
      return;
    }
    // 'columns': a line of column names, or already data.
    this.stage = 'data';
    const f = splitFields(line);
    if (f.every((v) => !Number.isNaN(toNumber(v)))) { this.sample(s, a, b, no); return; }
    const names = f.map((h) => h.toLowerCase());
    const find = (a: string) => names.findIndex((n) => n === `accelerometer ${a}` || n === a || n === `axis ${a}`);
    const x = find('x'), y = find('y'), z = find('z');
    if (x < 0 || y < 0 || z < 0 || Math.max(x, y, z) >= 64) throw lineError(this.name, no, `expected the columns Accelerometer X,Accelerometer Y,Accelerometer Z, got "${line}"`);
    this.cols = { x, y, z };
  };

  private begin(no: number): void {
    const d = parseDateWithFormat(this.startDate, this.dateFormat);
    const t = /^(\d{1,2}):(\d{2}):(\d{2})$/.exec(this.startTime);
    if (!d || !t) throw lineError(this.name, no, `ActiGraph header needs "Start Time hh:mm:ss" and "Start Date" in ${this.dateFormat}; got "${this.startTime}", "${this.startDate}"`);
    const wall = Date.UTC(d.y, d.m - 1, d.d, +t[1], +t[2], +t[3]) / 1000;
    this.start = this.clock.toUtc(wall);
    this.info.header.start = `${this.startDate} ${this.startTime}`;
  }

  private sample(s: string, a: number, b: number, no: number): void {
    if (a === b) return;
    const c = this.cols, st = this.st, en = this.en;
    const k = fieldRanges(s, a, b, st, en, Math.max(c.x, c.y, c.z) + 1);
    const x = parseDecimal(s, st[c.x], en[c.x]), y = parseDecimal(s, st[c.y], en[c.y]), z = parseDecimal(s, st[c.z], en[c.z]);
    if (k <= Math.max(c.x, c.y, c.z) || Number.isNaN(x + y + z)) {
      const bad = Number.isNaN(x) ? c.x : Number.isNaN(y) ? c.y : c.z;
      const cell = bad < k ? s.slice(st[bad], en[bad]) : '';
      throw lineError(this.name, no, `expected a number (acceleration in g), got "${cell}"`, bad + 1);
    }
    this.buf.add(this.start + this.index++ / this.rate, x, y, z);
  }
}
