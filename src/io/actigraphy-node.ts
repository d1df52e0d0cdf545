/**
 * Node side of actigraphy: stream a raw accelerometer file from disk through a reader and the
 * epoch pipeline (src/signal/actigraphy), 1 MiB at a time, so a 14-day 100 Hz recording never
 * sits in memory.
 */
import { createReadStream, statSync } from 'node:fs';
import {
  ActigraphyPipeline, AutoReader, createReader,
  type AccelFormat, type ActigraphyOptionsInput, type EpochRow, type ReaderOptions, type RecordingInfo,
} from '../signal/actigraphy/index.js';

export interface ActigraphyFileOptions {
  format?: AccelFormat | 'auto';
  reader?: ReaderOptions;
  pipeline?: ActigraphyOptionsInput;
  /** Called with bytes read so far. */
  onProgress?: (bytes: number, total: number) => void;
  /** Called with each batch of finished epochs, in time order. */
  onRows: (rows: EpochRow[]) => void;
  /** Read size (bytes). */
  chunkBytes?: number;
}

export interface ActigraphyFileSummary {
  info: RecordingInfo;
  bytes: number;
  samples: number;
  epochs: number;
  /** Epochs with every value missing (gaps, ragged ends, non-wear). */
  missing: number;
  nonWear: number;
  /** Samples dropped because time went back into a finished epoch. */
  dropped: number;
  first: number;
  last: number;
}

export async function actigraphyFromFile(path: string, opts: ActigraphyFileOptions): Promise<ActigraphyFileSummary> {
  const total = statSync(path).size;
  const ropts: ReaderOptions = { name: path, ...opts.reader };
  const reader = !opts.format || opts.format === 'auto' ? new AutoReader(ropts) : createReader(opts.format, ropts);
  const pipe = new ActigraphyPipeline(opts.pipeline);
  const s: ActigraphyFileSummary = { info: reader.info, bytes: 0, samples: 0, epochs: 0, missing: 0, nonWear: 0, dropped: 0, first: NaN, last: NaN };
  const emit = (rows: EpochRow[]) => {
    if (rows.length === 0) return;
    for (const r of rows) {
      s.epochs++;
      if (r.nonWear) s.nonWear++;
      if (Number.isNaN(r.values.zcm)) s.missing++;
      if (Number.isNaN(s.first)) s.first = r.start;
      s.last = r.start;
    }
    opts.onRows(rows);
  };
  const stream = createReadStream(path, { highWaterMark: opts.chunkBytes ?? 1 << 20 });
  for await (const buf of stream as AsyncIterable<Buffer>) {
    const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    const c = reader.push(bytes);
    if (c) s.samples += c.n;
    emit(pipe.push(c));
    s.bytes += buf.byteLength;
    opts.onProgress?.(s.bytes, total);
  }
  const c = reader.end();
  if (c) s.samples += c.n;
  emit(pipe.push(c));
  emit(pipe.end());
  s.info = reader.info;
  s.dropped = pipe.dropped;
  return s;
}
