/**
 * GENEActiv raw CSV as written by the GENEActiv PC software ("Convert to CSV"): a header block of
 * "Name,Value" lines (100 lines in the files the software writes) — of which "Measurement
 * Frequency,100 Hz" and "Time Zone,GMT +01:00" are used — then one row per sample:
 *
 *   2013-08-23 10:00:00:000,-0.0234,0.9688,0.1016,102.00,0,25.1
 *   (timestamp with a colon before the milliseconds, x, y, z in g, lux, button, temperature °C)
 *
 * The data begin at the first line whose first field is a date-time. Times are the device's wall
 * clock in the header's time zone (unless a zone is given explicitly).
 */
import { LineSplitter, fieldRanges, parseDecimal } from './lines.js';
import { TimestampParser, fileClock, parseOffset, type ZoneClock } from './time.js';
import { SampleBuffer, lineError, type AccelChunk, type AccelReader, type ReaderOptions, type RecordingInfo } from './types.js';

const DATA_LINE = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}/;

export class GeneActivCsvReader implements AccelReader {
  readonly info: RecordingInfo = { format: 'geneactiv', header: {}, skipped: 0 };
  private readonly lines = new LineSplitter();
  private readonly buf = new SampleBuffer();
  private readonly tsp = new TimestampParser();
  private readonly name: string;
  private clock: ZoneClock | null = null;
  private rate = NaN;
  private inData = false;
  private readonly st = new Int32Array(4);
  private readonly en = new Int32Array(4);

  constructor(private readonly opts: ReaderOptions = {}) { this.name = opts.name ?? 'input'; }

  push(bytes: Uint8Array): AccelChunk | null {
    this.lines.pushRanges(bytes, this.onLine);
    return this.buf.take(this.rate);
  }

  end(): AccelChunk | null {
    this.lines.endRangesTolerant(this.onLine, this.info);
    return this.buf.take(this.rate);
  }

  private readonly onLine = (s: string, a: number, b: number, no: number): void => {
    if (!this.inData) {
      const line = s.slice(a, b);
      if (!DATA_LINE.test(line)) { this.headerLine(line); return; }
      this.startData(no);
    }
    if (a === b) return;
    const st = this.st, en = this.en;
    const k = fieldRanges(s, a, b, st, en, 4);
    if (k < 4) throw lineError(this.name, no, `expected timestamp,x,y,z,lux,button,temperature, got ${k} field(s)`);
    const w = this.tsp.parse(s, st[0], en[0]);
    if (Number.isNaN(w)) throw lineError(this.name, no, `expected a time like 2013-08-23 10:00:00:000, got "${s.slice(st[0], en[0])}"`, 1, 'timestamp');
    const x = parseDecimal(s, st[1], en[1]), y = parseDecimal(s, st[2], en[2]), z = parseDecimal(s, st[3], en[3]);
    if (Number.isNaN(x + y + z)) {
      const bad = Number.isNaN(x) ? 1 : Number.isNaN(y) ? 2 : 3;
      throw lineError(this.name, no, `expected a number (acceleration in g), got "${s.slice(st[bad], en[bad])}"`, bad + 1, 'xyz'[bad - 1]);
    }
    const t = Number.isNaN(this.tsp.offset) ? this.clock!.toUtc(w) : w - this.tsp.offset;
    this.buf.add(t, x, y, z);
  };

  private headerLine(line: string): void {
    const i = line.indexOf(',');
    if (i <= 0) return;
    const key = line.slice(0, i).trim(), value = line.slice(i + 1).trim();
    if (value) this.info.header[key] = value;
  }

  private startData(no: number): void {
    this.inData = true;
    const h = this.info.header;
    const freq = parseFloat(h['Measurement Frequency'] ?? h['Measurement frequency'] ?? '');
    if (!(freq > 0)) throw lineError(this.name, no, 'GENEActiv header has no "Measurement Frequency,<n> Hz" line before the data');
    this.rate = freq;
    this.info.rate = freq;
    this.clock = fileClock(this.opts, h['Time Zone'] ? parseOffset(h['Time Zone']) : NaN);
  }
}
