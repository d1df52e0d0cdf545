/**
 * WAV encoding and decoding. Pure TypeScript over ArrayBuffers so it runs in the browser as well
 * as in Node (the participant app extracts speech features on the phone).
 *
 * Decoding accepts RIFF/WAVE with PCM 8 (unsigned), 16, 24, 32-bit integer samples, IEEE float 32
 * and 64, and WAVE_FORMAT_EXTENSIBLE wrapping either. Every header field is checked; a problem
 * becomes a `WavError` whose `code` says what kind of problem it is (used by data cleansing).
 */

/** Encode mono float samples in [-1, 1] as a 16-bit PCM WAV file. */
export function encodeWav16(samples: Float32Array, sampleRate: number): Uint8Array {
  return encodeWav([samples], sampleRate, { format: 1, bits: 16 });
}

export const WAVE_FORMAT_PCM = 1;
export const WAVE_FORMAT_IEEE_FLOAT = 3;
export const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

/** What kind of problem a WAV file has: `not-wav` (another container), `unsupported` (a codec
 * we do not decode), `malformed` (inconsistent header), `truncated` (data cut short). */
export type WavErrorCode = 'not-wav' | 'unsupported' | 'malformed' | 'truncated';

export class WavError extends Error {
  constructor(public readonly code: WavErrorCode, message: string) { super(message); this.name = 'WavError'; }
}

export interface WavFormat {
  /** 1 = integer PCM, 3 = IEEE float (after unwrapping WAVE_FORMAT_EXTENSIBLE). */
  format: 1 | 3;
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
  blockAlign: number;
}

export interface DecodedWav extends WavFormat {
  /** One Float32Array per channel, samples scaled to [-1, 1). */
  channelData: Float32Array[];
  /** The channels mixed down to mono (the mean of the channels). */
  mono: Float32Array;
  /** Sample frames declared by the data chunk header (may exceed the decoded count when truncated). */
  declaredFrames: number;
}

export interface DecodeOptions {
  /** Decode what is there when the data chunk is shorter than declared (default false: throw). */
  allowTruncated?: boolean;
}

function fourcc(v: DataView, o: number): string {
  return String.fromCharCode(v.getUint8(o), v.getUint8(o + 1), v.getUint8(o + 2), v.getUint8(o + 3));
}

/** Sniff a container from its first bytes, for a useful "not a WAV file" message. */
export function sniffContainer(bytes: Uint8Array): string {
  const s = String.fromCharCode(...bytes.subarray(0, 12));
  if (s.startsWith('RIFF') && s.slice(8, 12) === 'WAVE') return 'wav';
  if (s.startsWith('RIFF')) return 'riff';
  if (s.startsWith('RF64')) return 'rf64';
  if (s.startsWith('fLaC')) return 'flac';
  if (s.startsWith('OggS')) return 'ogg';
  if (s.startsWith('ID3') || (bytes[0] === 0xff && (bytes[1] & 0xe0) === 0xe0)) return 'mp3';
  if (s.slice(4, 8) === 'ftyp') return 'mp4';
  if (bytes[0] === 0x1a && bytes[1] === 0x45 && bytes[2] === 0xdf && bytes[3] === 0xa3) return 'webm';
  if (s.startsWith('FORM')) return 'aiff';
  return 'unknown';
}

/** Parse and validate the header; returns the format and where the sample data lies. */
export function parseWavHeader(bytes: Uint8Array): { fmt: WavFormat; dataOffset: number; dataBytes: number; declaredBytes: number } {
  if (bytes.length < 12) throw new WavError(bytes.length === 0 ? 'truncated' : 'not-wav', `file is ${bytes.length} bytes: too short for a WAV header`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (fourcc(v, 0) !== 'RIFF' || fourcc(v, 8) !== 'WAVE') {
    const kind = sniffContainer(bytes);
    throw new WavError('not-wav', `not a RIFF/WAVE file (looks like ${kind})`);
  }
  let off = 12;
  let fmt: WavFormat | null = null;
  while (off + 8 <= bytes.length) {
    const id = fourcc(v, off);
    const size = v.getUint32(off + 4, true);
    const body = off + 8;
    if (id === 'fmt ') {
      if (size < 16) throw new WavError('malformed', `fmt chunk is ${size} bytes, expected at least 16`);
      if (body + 16 > bytes.length) throw new WavError('truncated', 'file ends inside the fmt chunk');
      let format = v.getUint16(body, true);
      const channels = v.getUint16(body + 2, true);
      const sampleRate = v.getUint32(body + 4, true);
      const byteRate = v.getUint32(body + 8, true);
      const blockAlign = v.getUint16(body + 12, true);
      const bitsPerSample = v.getUint16(body + 14, true);
      if (format === WAVE_FORMAT_EXTENSIBLE) {
        if (size < 40 || body + 40 > bytes.length) throw new WavError('malformed', `WAVE_FORMAT_EXTENSIBLE fmt chunk is ${size} bytes, expected 40`);
        const validBits = v.getUint16(body + 18, true);
        if (validBits > bitsPerSample) throw new WavError('malformed', `valid bits ${validBits} exceed container bits ${bitsPerSample}`);
        format = v.getUint16(body + 24, true); // first two bytes of the SubFormat GUID
      }
      if (format !== WAVE_FORMAT_PCM && format !== WAVE_FORMAT_IEEE_FLOAT) {
        throw new WavError('unsupported', `WAV codec 0x${format.toString(16)} is not decoded here (PCM and IEEE float only; convert with ffmpeg)`);
      }
      if (channels < 1) throw new WavError('malformed', 'fmt chunk declares 0 channels');
      if (sampleRate < 1000 || sampleRate > 768000) throw new WavError('malformed', `sample rate ${sampleRate} Hz is outside 1 kHz–768 kHz`);
      const okBits = format === WAVE_FORMAT_PCM ? [8, 16, 24, 32] : [32, 64];
      if (!okBits.includes(bitsPerSample)) {
        throw new WavError('unsupported', `${bitsPerSample}-bit ${format === 1 ? 'PCM' : 'float'} is not supported (expected ${okBits.join('/')})`);
      }
      const expectAlign = channels * bitsPerSample / 8;
      if (blockAlign !== expectAlign) throw new WavError('malformed', `block align ${blockAlign} does not match ${channels} channel(s) × ${bitsPerSample} bits (${expectAlign})`);
      if (byteRate !== sampleRate * blockAlign) throw new WavError('malformed', `byte rate ${byteRate} does not match sample rate × block align (${sampleRate * blockAlign})`);
      fmt = { format: format as 1 | 3, channels, sampleRate, bitsPerSample, blockAlign };
    } else if (id === 'data') {
      if (!fmt) throw new WavError('malformed', 'data chunk comes before the fmt chunk');
      const available = bytes.length - body;
      // 0xFFFFFFFF (or 0) data sizes are written by streaming recorders that never patched the header.
      const declared = size === 0xffffffff ? available : size;
      const dataBytes = Math.min(declared, available);
      return { fmt, dataOffset: body, dataBytes: dataBytes - (dataBytes % fmt.blockAlign), declaredBytes: declared };
    }
    off = body + size + (size & 1);
  }
  if (!fmt) throw new WavError(off >= bytes.length ? 'truncated' : 'malformed', 'no fmt chunk found');
  throw new WavError('truncated', 'no data chunk found (file cut short?)');
}

/** Decode a WAV file (see the module comment for the formats). Throws `WavError`. */
export function decodeWav(bytes: Uint8Array, opts: DecodeOptions = {}): DecodedWav {
  const { fmt, dataOffset, dataBytes, declaredBytes } = parseWavHeader(bytes);
  if (dataBytes < declaredBytes && !opts.allowTruncated) {
    throw new WavError('truncated', `data chunk declares ${declaredBytes} bytes but only ${bytes.length - dataOffset} are present`);
  }
  const n = dataBytes / fmt.blockAlign;
  const v = new DataView(bytes.buffer, bytes.byteOffset + dataOffset, dataBytes);
  const ch = fmt.channels;
  const channelData = Array.from({ length: ch }, () => new Float32Array(n));
  const bps = fmt.bitsPerSample / 8;
  for (let c = 0; c < ch; c++) {
    const out = channelData[c];
    let o = c * bps;
    const step = fmt.blockAlign;
    if (fmt.format === WAVE_FORMAT_IEEE_FLOAT) {
      if (bps === 4) for (let i = 0; i < n; i++, o += step) out[i] = v.getFloat32(o, true);
      else for (let i = 0; i < n; i++, o += step) out[i] = v.getFloat64(o, true);
    } else if (bps === 1) {
      for (let i = 0; i < n; i++, o += step) out[i] = (v.getUint8(o) - 128) / 128;
    } else if (bps === 2) {
      for (let i = 0; i < n; i++, o += step) out[i] = v.getInt16(o, true) / 32768;
    } else if (bps === 3) {
      for (let i = 0; i < n; i++, o += step) {
        const x = v.getUint8(o) | (v.getUint8(o + 1) << 8) | (v.getInt8(o + 2) << 16);
        out[i] = x / 8388608;
      }
    } else {
      for (let i = 0; i < n; i++, o += step) out[i] = v.getInt32(o, true) / 2147483648;
    }
  }
  let mono: Float32Array;
  if (ch === 1) mono = channelData[0];
  else {
    mono = new Float32Array(n);
    for (const d of channelData) for (let i = 0; i < n; i++) mono[i] += d[i];
    for (let i = 0; i < n; i++) mono[i] /= ch;
  }
  return { ...fmt, channelData, mono, declaredFrames: Math.floor(declaredBytes / fmt.blockAlign) };
}

/** Encode float channels as WAV in any supported format (used by tests and for fixtures). */
export function encodeWav(channels: Float32Array[], sampleRate: number, opts: { format?: 1 | 3; bits?: number; extensible?: boolean } = {}): Uint8Array {
  const format = opts.format ?? 1;
  const bits = opts.bits ?? (format === 3 ? 32 : 16);
  const ch = channels.length;
  const n = channels[0]?.length ?? 0;
  const bps = bits / 8;
  const blockAlign = ch * bps;
  const fmtSize = opts.extensible ? 40 : 16;
  const dataBytes = n * blockAlign;
  const buf = new ArrayBuffer(12 + 8 + fmtSize + 8 + dataBytes);
  const v = new DataView(buf);
  const str = (o: number, s: string) => { for (let i = 0; i < s.length; i++) v.setUint8(o + i, s.charCodeAt(i)); };
  str(0, 'RIFF'); v.setUint32(4, buf.byteLength - 8, true); str(8, 'WAVE');
  str(12, 'fmt '); v.setUint32(16, fmtSize, true);
  v.setUint16(20, opts.extensible ? WAVE_FORMAT_EXTENSIBLE : format, true);
  v.setUint16(22, ch, true); v.setUint32(24, sampleRate, true); v.setUint32(28, sampleRate * blockAlign, true);
  v.setUint16(32, blockAlign, true); v.setUint16(34, bits, true);
  if (opts.extensible) {
    v.setUint16(36, 22, true); v.setUint16(38, bits, true); v.setUint32(40, 0, true);
    // SubFormat GUID: format code + the standard 0000-0010-8000-00aa00389b71 suffix
    v.setUint16(44, format, true);
    const tail = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];
    tail.forEach((b, i) => v.setUint8(46 + i, b));
  }
  const d = 12 + 8 + fmtSize;
  str(d, 'data'); v.setUint32(d + 4, dataBytes, true);
  let o = d + 8;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < ch; c++, o += bps) {
      const x = channels[c][i];
      if (format === 3) { if (bits === 32) v.setFloat32(o, x, true); else v.setFloat64(o, x, true); continue; }
      const s = Math.max(-1, Math.min(1, x));
      if (bits === 8) v.setUint8(o, Math.max(0, Math.min(255, Math.round(s * 128 + 128))));
      else if (bits === 16) v.setInt16(o, Math.round(s < 0 ? s * 0x8000 : s * 0x7fff), true);
      else if (bits === 24) {
        const q = Math.max(-8388608, Math.min(8388607, Math.round(s * 8388608)));
        v.setUint8(o, q & 0xff); v.setUint8(o + 1, (q >> 8) & 0xff); v.setInt8(o + 2, q >> 16);
      } else v.setInt32(o, Math.max(-2147483648, Math.min(2147483647, Math.round(s * 2147483648))), true);
    }
  }
  return new Uint8Array(buf);
}
