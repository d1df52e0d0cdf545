/**
 * Axivity AX3/AX6 `.cwa` binary files, following Open Movement's format description
 * `Docs/ax3/cwa.h` (github.com/openmovementproject/openmovement; also the reference reader
 * openmovement-python `cwa_load.py`). All values little-endian.
 *
 * Header block "MD" (packetLength 1020 → 1024 bytes): @5 deviceId u16, @7 sessionId u32,
 * @11 upperDeviceId u16, @13 loggingStartTime, @36 samplingRate code, @64 448-byte metadata.
 * Then 512-byte data blocks "AX" (packetLength 508):
 *   @4 deviceFractional u16 (top bit set: 15-bit fraction of a second of the timestamp)
 *   @6 sessionId u32, @10 sequenceId u32, @14 timestamp (packed YYYYYYMM MMDDDDDh hhhhmmmm mmssssss,
 *   years since 2000), @18 lightScale u16 (top 3 bits n: unpacked accel unit 1/2^(8+n) g),
 *   @24 sampleRate code (Hz = 3200 / 2^(15 − (code & 15)); range ±16 >> (code >> 6) g),
 *   @25 numAxesBPS (top nibble axes 3/6/9 — 6 and 9 store gyro first, accel at axis 3; bottom
 *   nibble 2 = 16-bit signed per axis, 0 = one 32-bit word per sample: eezzzzzz zzzzyyyy yyyyyyxx
 *   xxxxxxxx, three 10-bit signed values shifted left by the 2-bit exponent, unit 1/256 g),
 *   @26 timestampOffset i16 (index of the sample at which the whole-second timestamp is valid),
 *   @28 sampleCount u16, @30 480 bytes of samples, @510 checksum: the 16-bit word-wise sum of the
 *   whole block is zero.
 * Sample i of a block is at timestamp + fraction − timestampOffset/rate + i/rate (after undoing
 * the backwards-compatible shift of timestampOffset when the fraction is present, as cwa_load.py).
 * Blocks with a wrong header, length or checksum are skipped (counted in `info.skipped`).
 * The device clock is wall-clock time without a zone, set once when the device is configured and
 * not moved for daylight saving: it is read with the given zone's offset at the first block
 * (default UTC) and that offset is kept for the whole recording.
 */
import { ZoneClock } from './time.js';
import { SampleBuffer, type AccelChunk, type AccelReader, type ReaderOptions, type RecordingInfo } from './types.js';
import { InputError } from '../../util/errors.js';

export const CWA_BLOCK = 512;

/** Packed CWA timestamp → wall-clock seconds since 1970 (as if UTC); NaN for 0 / invalid. */
export function cwaTimestamp(v: number): number {
  if (v === 0 || v === 0xffffffff) return NaN;
  const year = ((v >>> 26) & 0x3f) + 2000, month = (v >>> 22) & 0x0f, day = (v >>> 17) & 0x1f;
  const h = (v >>> 12) & 0x1f, m = (v >>> 6) & 0x3f, s = v & 0x3f;
  if (month < 1 || month > 12 || day < 1 || h > 23 || m > 59 || s > 59) return NaN;
  return Date.UTC(year, month - 1, day, h, m, s) / 1000;
}

/** Sample rate (Hz) of a CWA rate code. */
export function cwaRate(code: number): number { return 3200 / (1 << (15 - (code & 0x0f))); }

export class CwaReader implements AccelReader {
  readonly info: RecordingInfo = { format: 'cwa', header: {}, skipped: 0 };
  private readonly buf = new SampleBuffer();
  private readonly pend = new Uint8Array(CWA_BLOCK);
  private fill = 0;
  private stage: 'header' | 'skip' | 'data' = 'header';
  private skipBytes = 0;
  private readonly clock: ZoneClock;
  private readonly name: string;
  private rate = NaN;
  private sessionId = -1;
  /** UTC offset (s) of the device clock, fixed at the first block. */
  private offset = NaN;

  constructor(opts: ReaderOptions = {}) {
    this.name = opts.name ?? 'input';
    this.clock = new ZoneClock(opts.timezone ?? opts.defaultTimezone ?? 'UTC');
  }

  push(bytes: Uint8Array): AccelChunk | null {
    let off = 0;
    const n = bytes.length;
    while (off < n) {
      if (this.stage === 'skip') {
        const k = Math.min(this.skipBytes, n - off);
        off += k; this.skipBytes -= k;
        if (this.skipBytes === 0) this.stage = 'data';
        continue;
      }
      if (this.fill === 0 && n - off >= CWA_BLOCK) {
        this.block(bytes, off); off += CWA_BLOCK;
        continue;
      }
      const k = Math.min(CWA_BLOCK - this.fill, n - off);
      this.pend.set(bytes.subarray(off, off + k), this.fill);
      this.fill += k; off += k;
      if (this.fill === CWA_BLOCK) { this.block(this.pend, 0); this.fill = 0; }
    }
    return this.buf.take(this.rate);
  }

  end(): AccelChunk | null {
    if (this.stage === 'header') throw new InputError([{ file: this.name, message: 'not a CWA file: shorter than its 1024-byte header' }]);
    if (this.fill > 0) { this.info.skipped++; this.fill = 0; }
    return this.buf.take(this.rate);
  }

  private block(b: Uint8Array, o: number): void {
    if (this.stage === 'header') this.header(b, o); else this.data(b, o);
  }

  private header(b: Uint8Array, o: number): void {
    const v = new DataView(b.buffer, b.byteOffset + o, CWA_BLOCK);
    if (b[o] !== 0x4d || b[o + 1] !== 0x44) {
      throw new InputError([{ file: this.name, message: 'not a CWA file: it does not start with the "MD" header block' }]);
    }
    const packetLength = v.getUint16(2, true);
    const size = Math.ceil((packetLength + 4) / CWA_BLOCK) * CWA_BLOCK;
    const upper = v.getUint16(11, true);
    const deviceId = v.getUint16(5, true) + (upper === 0xffff ? 0 : upper * 65536);
    this.sessionId = v.getUint32(7, true);
    const code = b[o + 36];
    this.rate = cwaRate(code);
    const hw = b[o + 4];
    const h = this.info.header;
    h.device = hw === 0x64 ? 'AX6' : hw === 0x00 || hw === 0xff || hw === 0x17 ? 'AX3' : `0x${hw.toString(16)}`;
    h.deviceId = String(deviceId);
    h.sessionId = String(this.sessionId);
    h.range = `±${16 >> (code >> 6)} g`;
    const ls = cwaTimestamp(v.getUint32(13, true));
    if (!Number.isNaN(ls)) h.loggingStart = new Date(ls * 1000).toISOString().slice(0, 19);
    let meta = '';
    for (let i = 64; i < 512; i++) { const c = b[o + i]; if (c === 0 || c === 0xff) break; meta += String.fromCharCode(c); }
    if (meta.trim()) h.metadata = meta.trim();
    this.info.rate = this.rate;
    this.skipBytes = size - CWA_BLOCK;
    this.stage = this.skipBytes > 0 ? 'skip' : 'data';
  }

  private data(b: Uint8Array, o: number): void {
    const v = new DataView(b.buffer, b.byteOffset + o, CWA_BLOCK);
    if (b[o] !== 0x41 || b[o + 1] !== 0x58 || v.getUint16(2, true) !== 508) { this.info.skipped++; return; }
    let sum = 0;
    for (let i = 0; i < CWA_BLOCK; i += 2) sum += v.getUint16(i, true);
    if ((sum & 0xffff) !== 0) { this.info.skipped++; return; }
    const code = b[o + 24];
    let tsOffset = v.getInt16(26, true);
    const freq = code === 0 ? tsOffset : cwaRate(code);
    let wall = cwaTimestamp(v.getUint32(14, true));
    const count = v.getUint16(28, true);
    if (Number.isNaN(wall) || !(freq > 0) || count === 0) { this.info.skipped++; return; }
    const frac = v.getUint16(4, true);
    if (frac & 0x8000) {
      const f16 = (frac & 0x7fff) << 1;
      tsOffset += (f16 * Math.trunc(freq)) >> 16;
      wall += f16 / 65536;
    }
    if (Number.isNaN(this.offset)) this.offset = this.clock.offsetAt(wall);
    const t0 = wall - tsOffset / freq - this.offset;
    const axesBps = b[o + 25];
    const channels = axesBps >> 4, bps = axesBps & 0x0f;
    const lightScale = v.getUint16(18, true);
    const unit = 1 / (1 << (8 + ((lightScale >> 13) & 0x07)));
    if (bps === 0 && channels === 3) {
      const max = Math.min(count, 120);
      for (let i = 0; i < max; i++) {
        const w = v.getUint32(30 + 4 * i, true);
        const e = w >>> 30;
        const x = ((((w & 0x3ff) ^ 0x200) - 0x200) << e) / 256;
        const y = (((((w >>> 10) & 0x3ff) ^ 0x200) - 0x200) << e) / 256;
        const z = (((((w >>> 20) & 0x3ff) ^ 0x200) - 0x200) << e) / 256;
        this.buf.add(t0 + i / freq, x, y, z);
      }
    } else if (bps === 2 && channels >= 3) {
      const stride = 2 * channels, a = channels >= 6 ? 6 : 0;
      const max = Math.min(count, Math.floor(480 / stride));
      for (let i = 0; i < max; i++) {
        const p = 30 + i * stride + a;
        this.buf.add(t0 + i / freq, v.getInt16(p, true) * unit, v.getInt16(p + 2, true) * unit, v.getInt16(p + 4, true) * unit);
      }
    } else {
      this.info.skipped++;
    }
  }
}
