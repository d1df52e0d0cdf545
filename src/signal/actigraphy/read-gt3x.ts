/**
 * ActiGraph `.gt3x` files, after ActiGraph's format descriptions (github.com/actigraph/GT3X-File-Format
 * and github.com/actigraph/NHANES-GT3X-File-Format, both MIT); behaviour checked against pygt3x,
 * read.gt3x and ActiLife's own CSV export (docs/actigraphy.md). A `.gt3x` is a ZIP archive:
 *
 * - `info.txt`: "Key: Value" lines — Serial Number, Firmware, Sample Rate (Hz), Start Date and
 *   Last Sample Time (.NET ticks of the device's wall clock: 100 ns since 0001-01-01),
 *   TimeZone ("-04:00:00", the offset of that wall clock), Acceleration Scale (LSB per g).
 * - current format (GT3X+ firmware ≥ 3, wGT3X, wGT3X-BT, GT9X Link …): `log.bin`, a stream of
 *   records `1E type ts:u32 size:u16 payload[size] checksum` (all little-endian; ts = wall-clock
 *   seconds since 1970; checksum = ~XOR of header and payload bytes). Read here:
 *   ACTIVITY2 (0x1A: one second of int16 x,y,z), ACTIVITY (0x00: one second of 12-bit big-endian
 *   two's-complement values in y,x,z order), ACTIVITY3 (0x1B: 12-bit x,y,z, as pygt3x),
 *   PARAMETERS (0x15: ACCEL_SCALE, SAMPLE_RATE, FEATURE_ENABLE), EVENT (0x03: payload 08/09 =
 *   idle sleep mode entered/left). A 1-byte ACTIVITY payload is a USB-docking mark, not data.
 *   Records with a wrong checksum are skipped and counted; stray bytes between records are skipped
 *   (the format notes zero bytes may appear there).
 * - legacy NHANES format (NEO/MRA serials with firmware ≤ 2.5.0): `activity.bin`, one continuous
 *   stream of 12-bit y,x,z samples from Start Date at the sample rate (scale 341 LSB/g).
 *
 * Values are raw / scale in g, unrounded (ActiLife and the format notes round to 3 decimals; the
 * full value is kept here). Scale: the PARAMETERS record's ACCEL_SCALE, else info.txt's
 * Acceleration Scale, else by serial prefix (NEO, CLE, MRA: 341; MOS, TAS: 256).
 * Sample i of a record stamped ts is at ts + i/rate (wall clock), moved to UTC with the TimeZone of
 * info.txt (or the `timezone` option's offset at the start, fixed for the recording, as the device
 * clock does not follow daylight saving).
 * Idle sleep mode: the device stops writing records while still; the missing whole seconds are
 * filled per the `fill` option (types.ts) — by default as ActiLife's CSV export does: the last
 * sample repeated, but zeros after a USB-connection mark (docked) and up to the Last Sample Time.
 */
import { concat } from './lines.js';
import { fileClock } from './time.js';
import { SampleBuffer, byteError, type AccelChunk, type AccelSourceReader, type Gt3xFill, type ReaderOptions, type RecordingInfo } from './types.js';
import { zipEntries, zipEntryBytes, zipEntryChunks, type ByteSource, type ZipEntry } from './zip.js';

/** Seconds between 0001-01-01 and 1970-01-01 in .NET ticks (100 ns). */
const TICKS_1970 = 621355968000000000n;

/** .NET ticks (text) → seconds since 1970 of the same wall clock; NaN for 0 / not a number. */
export function ticksToSeconds(text: string | undefined): number {
  if (!text || !/^\d+$/.test(text.trim())) return NaN;
  const t = BigInt(text.trim());
  if (t === 0n) return NaN;
  const d = t - TICKS_1970;
  return Number(d / 10000000n) + Number(d % 10000000n) / 1e7;
}

/** "-04:00:00" / "05:30:00" / "+01:00" → seconds east of UTC; NaN if not an offset. */
export function parseGt3xZone(text: string | undefined): number {
  const m = /^\s*([+-]?)(\d{1,2}):(\d{2})(?::(\d{2}))?\s*$/.exec(text ?? '');
  if (!m) return NaN;
  const v = +m[2] * 3600 + +m[3] * 60 + (m[4] ? +m[4] : 0);
  return m[1] === '-' ? -v : v;
}

/** info.txt → key/value map (keys as written). */
export function parseGt3xInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.replace(/^\uFEFF/, '').split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  return out;
}

/** Scale (LSB per g) by serial prefix, per the format notes; NaN when unknown. */
function prefixScale(serial: string): number {
  const p = serial.slice(0, 3).toUpperCase();
  return p === 'NEO' || p === 'CLE' || p === 'MRA' ? 341 : p === 'MOS' || p === 'TAS' ? 256 : NaN;
}

/** The PARAMETERS record's float encoding: 24-bit two's-complement fraction / 2^23 × 2^(8-bit exponent). */
export function decodeParamFloat(v: number): number {
  if (v === 0x007fffff) return Number.MAX_VALUE;
  if (v === 0x00800000) return -Number.MAX_VALUE;
  const e = ((v >>> 24) << 24) >> 24;
  const f = ((v & 0xffffff) << 8) >> 8;
  return (f / 8388608) * 2 ** e;
}

const REC_ACTIVITY = 0x00, REC_EVENT = 0x03, REC_PARAMETERS = 0x15, REC_ACTIVITY2 = 0x1a, REC_ACTIVITY3 = 0x1b;
/** Samples handed out per chunk at most (fills of long idle periods are cut into such chunks). */
const CHUNK = 1 << 16;
/** Gaps longer than this are left as gaps, not filled (a broken clock, not idle sleep). */
const MAX_FILL_SECONDS = 31 * 86400;

interface LogConfig {
  name: string;
  info: RecordingInfo;
  rate: number;
  /** Scale from info.txt / serial prefix (NaN: unknown); a PARAMETERS record overrides it. */
  scale: number;
  /** Seconds to subtract from wall-clock seconds to get UTC. */
  offset: number;
  fill: Gt3xFill;
  /** Wall-clock second (exclusive) up to which the end is filled; NaN: no fill at the end. */
  lastSampleTime: number;
}

/**
 * Decoder of `log.bin` bytes given in chunks of any size. `push` and `end` are generators that hand
 * out chunks of at most 65,536 samples (views, valid until the next is asked for).
 */
export class Gt3xLogDecoder {
  private readonly buf = new SampleBuffer();
  private carry: Uint8Array = new Uint8Array(0);
  /** Bytes of log.bin consumed before `carry`. */
  private pos = 0;
  private rate: number;
  private scale: number;
  private lastSec = NaN;
  private lx = 0; private ly = 0; private lz = 0;
  private ism = false;
  private ismPeriods = 0;
  /** Wall-clock second of the last USB-connection mark since the last activity record (NaN: none). */
  private usbAt = NaN;
  private usbMarks = 0;
  private strayBytes = 0;
  private outOfOrder = 0;
  private filled = 0;
  private unfilled = 0;

  constructor(private readonly cfg: LogConfig) {
    this.rate = cfg.rate;
    this.scale = cfg.scale;
  }

  *push(bytes: Uint8Array): Generator<AccelChunk> {
    const data = this.carry.length ? concat(this.carry, bytes) : bytes;
    const n = data.length;
    let p = 0;
    while (p < n) {
      if (data[p] !== 0x1e) {
        // Stray byte between records: skip to the next separator.
        const q = data.indexOf(0x1e, p);
        const k = (q < 0 ? n : q) - p;
        this.strayBytes += k; p += k;
        continue;
      }
      if (n - p < 8) break;
      const size = data[p + 6] | (data[p + 7] << 8);
      if (n - p < 9 + size) break;
      yield* this.record(data, p, size);
      p += 9 + size;
    }
    this.pos += p;
    this.carry = p < n ? data.slice(p) : new Uint8Array(0);
    if (this.buf.n) yield this.buf.take(this.rate)!;
  }

  *end(): Generator<AccelChunk> {
    const h = this.cfg.info.header;
    if (this.carry.length) {
      // A record cut off by the end of log.bin (the device stopped mid-write): not an error.
      this.cfg.info.skipped++;
      h.truncated = `log.bin byte ${this.pos}: last record cut off (${this.carry.length} of ${this.carry.length >= 8 ? 9 + (this.carry[6] | (this.carry[7] << 8)) : '≥ 9'} bytes)`;
      this.carry = new Uint8Array(0);
    }
    const last = this.cfg.lastSampleTime;
    if (this.cfg.fill !== 'none' && !Number.isNaN(this.lastSec) && last > this.lastSec + 1) yield* this.fillTo(Math.ceil(last));
    if (this.buf.n) yield this.buf.take(this.rate)!;
    if (this.ismPeriods) h.idleSleepPeriods = String(this.ismPeriods);
    if (this.usbMarks) h.usbConnectionMarks = String(this.usbMarks);
    if (this.filled) h.filledSeconds = String(this.filled);
    if (this.unfilled) h.unfilledGaps = `${this.unfilled} gap(s) longer than 31 days left unfilled`;
    if (this.strayBytes) h.strayBytes = String(this.strayBytes);
    if (this.outOfOrder) h.outOfOrderRecords = String(this.outOfOrder);
  }

  private *record(b: Uint8Array, p: number, size: number): Generator<AccelChunk> {
    let x = 0;
    const e = p + 8 + size;
    for (let i = p; i < e; i++) x ^= b[i];
    if (((~x) & 0xff) !== b[e]) { this.cfg.info.skipped++; return; }
    const type = b[p + 1];
    const ts = b[p + 2] + b[p + 3] * 256 + b[p + 4] * 65536 + b[p + 5] * 16777216;
    const o = p + 8;
    if (type === REC_ACTIVITY2 || type === REC_ACTIVITY || type === REC_ACTIVITY3) {
      if (size <= 1) { // USB connection mark: the device is on its dock from here on
        if (Number.isNaN(this.usbAt)) this.usbAt = ts;
        this.usbMarks++;
        return;
      }
      yield* this.activity(type, b, o, size, ts);
    } else if (type === REC_EVENT && size === 1) {
      if (b[o] === 0x08) { this.ism = true; this.ismPeriods++; } else if (b[o] === 0x09) this.ism = false;
    } else if (type === REC_PARAMETERS) {
      this.parameters(b, o, size);
    }
  }

  private parameters(b: Uint8Array, o: number, size: number): void {
    const h = this.cfg.info.header;
    for (let i = o; i + 8 <= o + size; i += 8) {
      const address = b[i] | (b[i + 1] << 8), key = b[i + 2] | (b[i + 3] << 8);
      const v = (b[i + 4] | (b[i + 5] << 8) | (b[i + 6] << 16)) + b[i + 7] * 16777216;
      if (address === 0 && key === 55) {
        const s = decodeParamFloat(v);
        if (s > 0 && Number.isFinite(s)) {
          if (!Number.isNaN(this.scale) && s !== this.scale) h.scaleNote = `PARAMETERS ACCEL_SCALE ${s} used; info.txt / serial says ${this.scale}`;
          this.scale = s;
          h.scale = String(s);
        }
      } else if (address === 1 && key === 10 && !(this.rate > 0) && v > 0) {
        this.rate = v;
        this.cfg.info.rate = v;
      } else if (address === 1 && key === 2) {
        h.idleSleepMode = (v & 4) !== 0 ? 'enabled' : 'disabled';
      }
    }
  }

  private *activity(type: number, b: Uint8Array, o: number, size: number, ts: number): Generator<AccelChunk> {
    const rate = this.rate, scale = this.scale;
    if (!(rate > 0)) throw byteError(this.cfg.name, null, `log.bin byte ${this.pos}: activity record before any sample rate (info.txt has no "Sample Rate")`);
    if (!(scale > 0)) throw byteError(this.cfg.name, null, 'log.bin: no acceleration scale (info.txt "Acceleration Scale", a PARAMETERS record, or a known serial prefix)');
    if (!Number.isNaN(this.lastSec) && ts <= this.lastSec) { this.outOfOrder++; return; }
    if (!Number.isNaN(this.lastSec) && ts > this.lastSec + 1 && this.cfg.fill !== 'none') yield* this.fillTo(ts);
    let count = type === REC_ACTIVITY2 ? Math.floor(size / 6) : Math.floor((size * 2) / 9);
    if (count > rate) count = rate;
    const base = ts - this.cfg.offset, buf = this.buf;
    let rx = 0, ry = 0, rz = 0;
    if (type === REC_ACTIVITY2) {
      for (let i = 0, q = o; i < count; i++, q += 6) {
        rx = ((b[q] | (b[q + 1] << 8)) << 16) >> 16;
        ry = ((b[q + 2] | (b[q + 3] << 8)) << 16) >> 16;
        rz = ((b[q + 4] | (b[q + 5] << 8)) << 16) >> 16;
        buf.add(base + i / rate, rx / scale, ry / scale, rz / scale);
      }
    } else {
      // 12-bit values, two per 3 bytes; ACTIVITY is y,x,z, ACTIVITY3 x,y,z.
      const yxz = type === REC_ACTIVITY;
      for (let i = 0, k = 0; i < count; i++, k += 3) {
        const a = twelve(b, o, k), c = twelve(b, o, k + 1), d = twelve(b, o, k + 2);
        if (yxz) { rx = c; ry = a; } else { rx = a; ry = c; }
        rz = d;
        buf.add(base + i / rate, rx / scale, ry / scale, rz / scale);
      }
    }
    if (count > 0) { this.lx = rx; this.ly = ry; this.lz = rz; }
    this.lastSec = ts;
    this.usbAt = NaN;
    if (buf.n >= CHUNK) yield buf.take(rate)!;
  }

  /**
   * Fill the whole seconds after the last activity second up to (excluding) `until`: with the last
   * sample (`last`), but with zeros from a USB-connection mark on (the device was docked, as
   * ActiLife's export does), or with zeros throughout (`zero`).
   */
  private *fillTo(until: number): Generator<AccelChunk> {
    if (until - this.lastSec - 1 > MAX_FILL_SECONDS) { this.unfilled++; return; }
    const rate = this.rate, scale = this.scale, buf = this.buf;
    const zero = this.cfg.fill === 'zero';
    const usb = this.usbAt;
    for (let s = this.lastSec + 1; s < until; s++) {
      const base = s - this.cfg.offset;
      const z0 = zero || s >= usb;
      const x = z0 ? 0 : this.lx / scale, y = z0 ? 0 : this.ly / scale, z = z0 ? 0 : this.lz / scale;
      for (let i = 0; i < rate; i++) buf.add(base + i / rate, x, y, z);
      this.filled++;
      if (buf.n >= CHUNK) yield buf.take(rate)!;
    }
    this.lastSec = until - 1;
  }
}

/** The k-th 12-bit two's-complement value of a packed payload starting at o. */
function twelve(b: Uint8Array, o: number, k: number): number {
  const q = o + (k >> 1) * 3;
  const v = k & 1 ? ((b[q + 1] & 0x0f) << 8) | b[q + 2] : (b[q] << 4) | (b[q + 1] >> 4);
  return (v << 20) >> 20;
}

/** Decoder of the legacy NHANES `activity.bin`: continuous 12-bit y,x,z samples from `start`. */
export class NhanesActivityDecoder {
  private readonly buf = new SampleBuffer();
  private carry = new Uint8Array(0);
  private index = 0;

  /** start: UTC seconds of the first sample. */
  constructor(private readonly start: number, private readonly rate: number, private readonly scale: number) {}

  *push(bytes: Uint8Array): Generator<AccelChunk> {
    const data = this.carry.length ? concat(this.carry, bytes) : bytes;
    const pairs = Math.floor(data.length / 9);
    const { start, rate, scale, buf } = this;
    for (let j = 0; j < pairs; j++) {
      const o = j * 9;
      for (let h = 0; h < 2; h++) {
        const y = twelve(data, o, 3 * h), x = twelve(data, o, 3 * h + 1), z = twelve(data, o, 3 * h + 2);
        buf.add(start + this.index++ / rate, x / scale, y / scale, z / scale);
      }
      if (buf.n >= CHUNK) yield buf.take(rate)!;
    }
    this.carry = data.slice(pairs * 9);
    if (buf.n) yield buf.take(rate)!;
  }

  /** A last odd sample takes 36 bits of the remaining bytes (the final nibble is unused). */
  *end(): Generator<AccelChunk> {
    if (this.carry.length >= 5) {
      const d = this.carry;
      this.buf.add(this.start + this.index++ / this.rate, twelve(d, 0, 1) / this.scale, twelve(d, 0, 0) / this.scale, twelve(d, 0, 2) / this.scale);
    }
    this.carry = new Uint8Array(0);
    if (this.buf.n) yield this.buf.take(this.rate)!;
  }
}

function findEntry(entries: ZipEntry[], name: string): ZipEntry | undefined {
  return entries.find((e) => e.name.toLowerCase() === name || e.name.toLowerCase().endsWith('/' + name));
}

/** Open a `.gt3x` (either format) for reading; reads the archive's directory and info.txt. */
export async function openGt3x(src: ByteSource, opts: ReaderOptions = {}): Promise<AccelSourceReader> {
  const name = opts.name ?? 'input';
  const fail = (message: string) => byteError(name, null, message);
  const entries = await zipEntries(src, name);
  const infoEntry = findEntry(entries, 'info.txt');
  if (!infoEntry) throw fail(`no info.txt in the archive (entries: ${entries.map((e) => e.name).join(', ') || 'none'}): not a .gt3x`);
  const kv = parseGt3xInfo(new TextDecoder('utf-8').decode(await zipEntryBytes(src, infoEntry, name)));
  const log = findEntry(entries, 'log.bin');
  const act = log ? undefined : findEntry(entries, 'activity.bin');
  if (!log && !act) throw fail('the archive has neither log.bin (current .gt3x) nor activity.bin (NHANES .gt3x)');
  const calEntry = findEntry(entries, 'calibration.json');
  if (calEntry) {
    let cal: { isCalibrated?: boolean; calibrationMethod?: number } = {};
    try { cal = JSON.parse(new TextDecoder().decode(await zipEntryBytes(src, calEntry, name))); } catch { /* unreadable: treat as absent */ }
    if (cal.isCalibrated === false) throw fail(`calibration.json: the samples are not calibrated on the device (calibration method ${cal.calibrationMethod ?? '?'}), which is not supported`);
  }

  const serial = kv['Serial Number'] ?? '';
  const info: RecordingInfo = { format: 'gt3x', header: {}, skipped: 0 };
  const h = info.header;
  h.layout = log ? 'log.bin' : 'NHANES activity.bin';
  for (const [k, key] of [['serial', 'Serial Number'], ['device', 'Device Type'], ['firmware', 'Firmware'], ['limb', 'Limb'], ['side', 'Side'], ['dominance', 'Dominance']] as const) {
    if (kv[key]) h[k] = kv[key];
  }
  const rate = parseFloat(kv['Sample Rate'] ?? '');
  if (rate > 0) info.rate = rate;
  let scale = parseFloat(kv['Acceleration Scale'] ?? '');
  if (!(scale > 0)) scale = prefixScale(serial);
  if (!(scale > 0) && act) scale = 341;
  if (scale > 0) h.scale = String(scale);
  const startWall = ticksToSeconds(kv['Start Date']);
  const lastWall = ticksToSeconds(kv['Last Sample Time']);
  if (!Number.isNaN(startWall)) h.start = new Date(startWall * 1000).toISOString().slice(0, 19);
  if (!Number.isNaN(lastWall)) h.lastSampleTime = new Date(lastWall * 1000).toISOString().slice(0, 19);
  const fileZone = parseGt3xZone(kv.TimeZone);
  const offset = fileClock(opts, fileZone).offsetAt(Number.isNaN(startWall) ? 0 : startWall);
  if (kv.TimeZone) h.timezone = kv.TimeZone;
  h.utcOffset = `${offset / 3600} h`;

  if (act) {
    if (!(rate > 0)) throw fail('info.txt has no "Sample Rate"');
    if (Number.isNaN(startWall)) throw fail('info.txt has no "Start Date" (needed to time the NHANES activity.bin)');
    const dec = new NhanesActivityDecoder(startWall - offset, rate, scale);
    return {
      info,
      async *chunks() {
        for await (const b of zipEntryChunks(src, act, name)) yield* dec.push(b);
        yield* dec.end();
      },
    };
  }
  const fill = opts.fill ?? 'last';
  h.fill = fill;
  const dec = new Gt3xLogDecoder({ name, info, rate, scale, offset, fill, lastSampleTime: lastWall });
  return {
    info,
    async *chunks() {
      for await (const b of zipEntryChunks(src, log!, name)) yield* dec.push(b);
      yield* dec.end();
    },
  };
}
