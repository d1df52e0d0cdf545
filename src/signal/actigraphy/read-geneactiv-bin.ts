/**
 * GENEActiv `.bin` files (Activinsights; format per the GENEActiv instructions, "Decoding .bin
 * files"; behaviour checked against GGIRread's GENEActivReader.cpp and its test expectations).
 * The file is text, CRLF or LF lines:
 *
 *   header: "Key:Value" lines in sections (Device Identity, Device Capabilities, Configuration
 *     Info — "Measurement Frequency:100 Hz", "Time Zone:GMT +01:00" —, Trial Info, Subject Info,
 *     Calibration Data — "x gain:25875", "x offset:439", y…, z…, "Volts:300", "Lux:800" —,
 *     Memory Status — "Number of Pages:222048").
 *   pages: "Recorded Data", then "Key:Value" lines (Device Unique Serial Code, Sequence Number,
 *     "Page Time:2013-05-30 10:12:54:500", Unassigned, Temperature, Battery voltage, Device Status,
 *     "Measurement Frequency:85.7") and one line of hex digits: 300 samples of 12 hex digits each
 *     — x, y, z as 12-bit two's complement (3 digits each), then 10 bits of light, a button bit
 *     and a reserved bit.
 *
 * Calibrated acceleration (g) = (raw × 100 − offset) / gain per axis, in double precision (GGIRread
 * computes the same and stores it as float32). Sample i of a page is at Page Time + i / frequency of
 * that page; Page Time is the device's wall clock in the header's "Time Zone" (unless the `timezone`
 * option says otherwise), read as a fixed offset. GGIRread instead runs one clock from the first
 * page (page k at first + 300k/f); the two differ by the pages' millisecond rounding.
 * A last page cut off by the end of the file keeps its whole samples (noted in `header.truncated`).
 */
import { fileClock, parseOffset, type ZoneClock } from './time.js';
import { concat } from './lines.js';
import { SampleBuffer, byteError, type AccelChunk, type AccelReader, type ReaderOptions, type RecordingInfo } from './types.js';

const HEX = new Int8Array(256).fill(-1);
for (let i = 0; i < 10; i++) HEX[48 + i] = i;
for (let i = 0; i < 6; i++) { HEX[65 + i] = 10 + i; HEX[97 + i] = 10 + i; }

/** Longest line accepted (a page's hex line is 3,600 digits). */
const MAX_LINE = 1 << 16;
const PAGE_TIME = /^(\d{4})-(\d{1,2})-(\d{1,2}) (\d{1,2}):(\d{2}):(\d{2})(?:[:.](\d{1,3}))?$/;

export class GeneActivBinReader implements AccelReader {
  readonly info: RecordingInfo = { format: 'geneactiv-bin', header: {}, skipped: 0 };
  private readonly buf = new SampleBuffer();
  private readonly name: string;
  private readonly latin1 = new TextDecoder('latin1');
  private carry: Uint8Array = new Uint8Array(0);
  /** File offset of the first byte of `carry` / of the next chunk's bytes. */
  private pos = 0;
  private stage: 'header' | 'page' = 'header';
  private lines = 0;
  private readonly gain = [NaN, NaN, NaN];
  private readonly off = [NaN, NaN, NaN];
  private clock: ZoneClock | null = null;
  private rate = NaN;
  /** Current page: its time (UTC s) and frequency. */
  private pageTime = NaN;
  private pageFreq = NaN;
  private pages = 0;
  /** Header section ("Device Identity", "Subject Info" …): the lines without a colon. */
  private section = '';

  constructor(private readonly opts: ReaderOptions = {}) { this.name = opts.name ?? 'input'; }

  push(bytes: Uint8Array): AccelChunk | null {
    let data = bytes, base = this.pos;
    if (this.carry.length) {
      const nl = bytes.indexOf(10);
      if (nl < 0) {
        this.carry = concat(this.carry, bytes);
        this.pos += bytes.length;
        this.checkCarry();
        return this.buf.take(this.rate);
      }
      const first = concat(this.carry, bytes.subarray(0, nl + 1));
      this.line(first, 0, first.length - 1, base - this.carry.length);
      data = bytes.subarray(nl + 1); base += nl + 1;
      this.carry = new Uint8Array(0);
    }
    let p = 0;
    const n = data.length;
    for (;;) {
      const nl = data.indexOf(10, p);
      if (nl < 0) break;
      this.line(data, p, nl, base + p);
      p = nl + 1;
    }
    this.carry = data.slice(p);
    this.pos = base + n;
    this.checkCarry();
    return this.buf.take(this.rate);
  }

  end(): AccelChunk | null {
    if (this.carry.length) {
      const c = this.carry;
      this.carry = new Uint8Array(0);
      this.line(c, 0, c.length, this.pos - c.length, true);
    }
    if (this.stage === 'header') throw this.error(this.pos, 'file ended in the header: no "Recorded Data" page (not a GENEActiv .bin, or cut off)');
    const declared = Number(this.info.header['Number of Pages']);
    if (declared > this.pages && !this.info.header.truncated) this.info.header.truncated = `${this.pages} of ${declared} pages in the file`;
    return this.buf.take(this.rate);
  }

  private error(offset: number, message: string) { return byteError(this.name, offset, message); }

  private checkCarry(): void {
    if (this.carry.length > MAX_LINE) throw this.error(this.pos - this.carry.length, `no line break within ${MAX_LINE} bytes: not a GENEActiv .bin`);
  }

  /** One line data[a, e) (without "\n"; a trailing "\r" is dropped) at file offset `at`. */
  private line(d: Uint8Array, a: number, e: number, at: number, last = false): void {
    if (e > a && d[e - 1] === 13) e--;
    this.lines++;
    // A data line: hex digits only (checked as they are decoded), long.
    if (this.stage === 'page' && e - a >= 12 && HEX[d[a]] >= 0 && HEX[d[a + 1]] >= 0 && HEX[d[a + 2]] >= 0 && HEX[d[a + 3]] >= 0) {
      this.samples(d, a, e, at, last);
      return;
    }
    const text = this.latin1.decode(d.subarray(a, e)).trim();
    if (text === 'Recorded Data') {
      if (this.stage === 'header') this.startData(at);
      this.stage = 'page';
      this.pageTime = NaN; this.pageFreq = NaN;
      this.pages++;
      return;
    }
    const i = text.indexOf(':');
    if (i <= 0) { if (this.stage === 'header' && text) this.section = text; return; }
    const key = text.slice(0, i).trim(), value = text.slice(i + 1).replace(/\0/g, '').trim();
    if (this.stage === 'header') {
      // Facts about the device and the recording; the trial's and subject's entries are not kept.
      if (value && this.section !== 'Subject Info' && this.section !== 'Trial Info') this.info.header[key] = value;
      const m = /^([xyz]) (gain|offset)$/i.exec(key);
      if (m) (m[2].toLowerCase() === 'gain' ? this.gain : this.off)['xyz'.indexOf(m[1].toLowerCase())] = Number(value);
      return;
    }
    if (key === 'Page Time') {
      const t = PAGE_TIME.exec(value);
      if (!t) throw this.error(at, `page ${this.pages}: expected "Page Time:YYYY-MM-DD hh:mm:ss:mmm", got "${value}"`);
      const wall = Date.UTC(+t[1], +t[2] - 1, +t[3], +t[4], +t[5], +t[6]) / 1000 + (t[7] ? +t[7].padEnd(3, '0') / 1000 : 0);
      this.pageTime = this.clock!.toUtc(wall);
    } else if (key === 'Measurement Frequency') {
      const f = parseFloat(value);
      if (!(f > 0)) throw this.error(at, `page ${this.pages}: expected "Measurement Frequency:<Hz>", got "${value}"`);
      this.pageFreq = f;
    }
  }

  private startData(at: number): void {
    const h = this.info.header;
    for (let k = 0; k < 3; k++) {
      if (!(this.gain[k] !== 0 && Number.isFinite(this.gain[k]) && Number.isFinite(this.off[k]))) {
        throw this.error(at, `header has no usable "${'xyz'[k]} gain" / "${'xyz'[k]} offset" calibration lines before the first page`);
      }
    }
    const f = parseFloat(h['Measurement Frequency'] ?? '');
    if (f > 0) { this.rate = f; this.info.rate = f; }
    this.clock = fileClock(this.opts, h['Time Zone'] ? parseOffset(h['Time Zone']) : NaN);
  }

  private samples(d: Uint8Array, a: number, e: number, at: number, last: boolean): void {
    if (Number.isNaN(this.pageTime)) throw this.error(at, `page ${this.pages}: hex data before its "Page Time" line`);
    const freq = this.pageFreq > 0 ? this.pageFreq : this.rate;
    if (!(freq > 0)) throw this.error(at, `page ${this.pages}: no "Measurement Frequency" in the page or the header`);
    if (!(this.rate > 0)) { this.rate = freq; this.info.rate = freq; }
    const len = e - a;
    const count = Math.floor(len / 12);
    if (len % 12 !== 0) {
      if (!last) throw this.error(at + count * 12, `page ${this.pages}: expected whole samples of 12 hex digits, the line has ${len} digits`);
      this.info.header.truncated = `page ${this.pages} cut off after ${count} samples (byte ${at + len})`;
    }
    const gx = this.gain[0], gy = this.gain[1], gz = this.gain[2];
    const ox = this.off[0], oy = this.off[1], oz = this.off[2];
    const t0 = this.pageTime, buf = this.buf;
    for (let i = 0, q = a; i < count; i++, q += 12) {
      const h0 = HEX[d[q]], h1 = HEX[d[q + 1]], h2 = HEX[d[q + 2]], h3 = HEX[d[q + 3]], h4 = HEX[d[q + 4]], h5 = HEX[d[q + 5]];
      const h6 = HEX[d[q + 6]], h7 = HEX[d[q + 7]], h8 = HEX[d[q + 8]], h9 = HEX[d[q + 9]], h10 = HEX[d[q + 10]], h11 = HEX[d[q + 11]];
      if ((h0 | h1 | h2 | h3 | h4 | h5 | h6 | h7 | h8 | h9 | h10 | h11) < 0) {
        let bad = q;
        while (HEX[d[bad]] >= 0) bad++;
        throw this.error(at + (bad - a), `page ${this.pages}, sample ${i + 1}: expected a hex digit, got "${String.fromCharCode(d[bad])}"`);
      }
      const rx = ((((h0 << 8) | (h1 << 4) | h2) << 20) >> 20);
      const ry = ((((h3 << 8) | (h4 << 4) | h5) << 20) >> 20);
      const rz = ((((h6 << 8) | (h7 << 4) | h8) << 20) >> 20);
      buf.add(t0 + i / freq, (rx * 100 - ox) / gx, (ry * 100 - oy) / gy, (rz * 100 - oz) / gz);
    }
  }
}

