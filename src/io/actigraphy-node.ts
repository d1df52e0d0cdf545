/**
 * Node side of actigraphy: stream a raw accelerometer file from disk through a reader and the
 * epoch pipeline (src/signal/actigraphy), 1 MiB at a time, so a 14-day 100 Hz recording never
 * sits in memory. The file is a random-access source (a `.gt3x` is a ZIP archive read through its
 * directory); every other format is read front to back.
 */
import { statSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import {
  ActigraphyPipeline, openAccel,
  type AccelFormat, type AccelSourceReader, type ActigraphyOptionsInput, type ByteSource, type EpochRow, type ReaderOptions, type RecordingInfo,
} from '../signal/actigraphy/index.js';

/** A file on disk as a random-access source; `onRead` gets the bytes read so far (at most the size, for progress). */
export async function fileSource(path: string, onRead?: (bytes: number) => void): Promise<ByteSource & { close(): Promise<void> }> {
  const fh: FileHandle = await open(path, 'r');
  const size = (await fh.stat()).size;
  let total = 0;
  return {
    size,
    async read(offset, length) {
      const n = Math.max(0, Math.min(length, size - offset));
      const buf = new Uint8Array(n);
      let got = 0;
      while (got < n) {
        const { bytesRead } = await fh.read(buf, got, n - got, offset + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      total += got;
      onRead?.(Math.min(total, size));
      return got === n ? buf : buf.subarray(0, got);
    },
    close: () => fh.close(),
  };
}

/** Open a recording file of any format (`format` auto-detected unless given). Close the file by reading all chunks. */
export async function openAccelFile(path: string, opts: { format?: AccelFormat | 'auto'; reader?: ReaderOptions; chunkBytes?: number; onRead?: (bytes: number) => void } = {}): Promise<AccelSourceReader> {
  const src = await fileSource(path, opts.onRead);
  try {
    const r = await openAccel(src, { name: path, ...opts.reader, format: opts.format, chunkBytes: opts.chunkBytes });
    return {
      get info() { return r.info; },
      async *chunks() {
        try { yield* r.chunks(); } finally { await src.close(); }
      },
    };
  } catch (e) {
    await src.close();
    throw e;
  }
}

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
  const s: ActigraphyFileSummary = { info: { format: 'csv', header: {}, skipped: 0 }, bytes: 0, samples: 0, epochs: 0, missing: 0, nonWear: 0, dropped: 0, first: NaN, last: NaN };
  const reader = await openAccelFile(path, {
    format: opts.format, reader: opts.reader, chunkBytes: opts.chunkBytes,
    onRead: (b) => { s.bytes = b; opts.onProgress?.(b, total); },
  });
  s.info = reader.info;
  const pipe = new ActigraphyPipeline(opts.pipeline);
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
  for await (const c of reader.chunks()) {
    s.samples += c.n;
    emit(pipe.push(c));
  }
  emit(pipe.end());
  s.info = reader.info;
  s.dropped = pipe.dropped;
  return s;
}
