/**
 * Shared shapes of the actigraphy pipeline: raw tri-axial samples in chunks (what a reader
 * emits), recording facts, and the reader contract. Browser-safe.
 */
import { InputError, formatIssue } from '../../util/errors.js';

/** Raw accelerometer samples: times in seconds since the Unix epoch (UTC), axes in g. */
export interface AccelChunk {
  n: number;
  t: Float64Array;
  x: Float64Array;
  y: Float64Array;
  z: Float64Array;
  /** Nominal sample rate (Hz) of the recording. */
  rate: number;
}

export const ACCEL_FORMATS = ['csv', 'actigraph', 'geneactiv', 'cwa', 'gt3x', 'geneactiv-bin'] as const;
export type AccelFormat = (typeof ACCEL_FORMATS)[number];

export interface RecordingInfo {
  format: AccelFormat;
  /** Nominal sample rate (Hz), once known. */
  rate?: number;
  /** Facts from the file's header (device, serial, start, time zone …), as text. */
  header: Record<string, string>;
  /** Data blocks / rows skipped as invalid (bad checksum, unreadable), when the format has them. */
  skipped: number;
}

/**
 * A streaming reader: give it the file's bytes in chunks of any size; each `push` returns the
 * samples those bytes completed. The returned arrays are views into the reader's buffer, valid
 * until the next `push`/`end` — consume them at once.
 */
export interface AccelReader {
  readonly info: RecordingInfo;
  push(bytes: Uint8Array): AccelChunk | null;
  end(): AccelChunk | null;
}

export interface ReaderOptions {
  /** Name used in error messages (a file path). */
  name?: string;
  /** Zone of wall-clock times in the file; overrides a zone the file itself states. */
  timezone?: string;
  /** Zone used when neither the option above nor the file gives one (default UTC). */
  defaultTimezone?: string;
  /** Generic CSV: sample rate (Hz) when it should not be estimated from the times. */
  rate?: number;
  /** Generic CSV: ISO start time when the time column holds seconds from the start (or is absent). */
  start?: string;
  /**
   * `.gt3x`: what fills the whole seconds missing between activity records (idle sleep mode) and
   * after the last record up to the file's "Last Sample Time": `last` — the last sample repeated,
   * zeros once a USB-connection mark shows the device docked (ActiLife's CSV export, sample for
   * sample; pygt3x repeats the last sample inside idle-sleep periods only; the default),
   * `zero` — 0 g on every axis (read.gt3x `imputeZeroes`), `none` — left as a gap (missing epochs).
   */
  fill?: Gt3xFill;
}

export const GT3X_FILLS = ['last', 'zero', 'none'] as const;
export type Gt3xFill = (typeof GT3X_FILLS)[number];

/**
 * A reader over a random-access source (formats that cannot be read front to back, e.g. the ZIP
 * archive `.gt3x`): `chunks()` yields the samples in time order; each chunk's arrays are views,
 * valid until the next one is asked for.
 */
export interface AccelSourceReader {
  readonly info: RecordingInfo;
  chunks(): AsyncGenerator<AccelChunk>;
}

/** Growable sample store from which readers hand out chunks. */
export class SampleBuffer {
  t = new Float64Array(4096);
  x = new Float64Array(4096);
  y = new Float64Array(4096);
  z = new Float64Array(4096);
  n = 0;

  add(t: number, x: number, y: number, z: number): void {
    if (this.n === this.t.length) this.grow();
    const i = this.n++;
    this.t[i] = t; this.x[i] = x; this.y[i] = y; this.z[i] = z;
  }

  private grow(): void {
    const cap = this.t.length * 2;
    const g = (a: Float64Array) => { const b = new Float64Array(cap); b.set(a); return b; };
    this.t = g(this.t); this.x = g(this.x); this.y = g(this.y); this.z = g(this.z);
  }

  /** Hand out what was added since the last take (views; valid until the next add). */
  take(rate: number): AccelChunk | null {
    const n = this.n;
    if (n === 0) return null;
    this.n = 0;
    return { n, t: this.t.subarray(0, n), x: this.x.subarray(0, n), y: this.y.subarray(0, n), z: this.z.subarray(0, n), rate };
  }
}

/** An input error at a line (and column) of a text file. */
export function lineError(name: string, line: number, message: string, column?: number, field?: string): InputError {
  return new InputError([{ file: name, line, column, field, message }]);
}

/**
 * An input error in a binary file, as one line "file: byte N: message" (offset null: the whole
 * file), for truncated or corrupt recordings.
 */
export function byteError(name: string, offset: number | null, message: string): InputError {
  const issue = { file: name, message: offset === null ? message : `byte ${offset}: ${message}` };
  return new InputError([issue], formatIssue(issue));
}
