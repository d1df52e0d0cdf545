/**
 * Which reader for which file: by the first bytes ("MD" header block → .cwa; a ZIP archive or the
 * name *.gt3x → ActiGraph .gt3x; "Device Identity" text with calibration lines or the name *.bin
 * with a GENEActiv header → GENEActiv .bin; the ActiLife title line → ActiGraph CSV; a GENEActiv
 * device line → GENEActiv CSV; anything else → generic CSV), a reader that decides from the first
 * 4 KiB of a stream, and `openAccel`, which reads any format from a random-access source.
 */
import { ActiGraphCsvReader } from './read-actigraph.js';
import { CsvAccelReader } from './read-csv.js';
import { CwaReader } from './read-cwa.js';
import { GeneActivCsvReader } from './read-geneactiv.js';
import { GeneActivBinReader } from './read-geneactiv-bin.js';
import { openGt3x } from './read-gt3x.js';
import { isZip, type ByteSource } from './zip.js';
import { InputError } from '../../util/errors.js';
import type { AccelChunk, AccelFormat, AccelReader, AccelSourceReader, ReaderOptions, RecordingInfo } from './types.js';

export function detectFormat(head: Uint8Array, name = ''): AccelFormat {
  // "MD" and a packet length that fills whole 512-byte sectors (1020 + 4 = 1024).
  if (/\.cwa$/i.test(name) || (head.length >= 4 && head[0] === 0x4d && head[1] === 0x44 && (head[2] + 256 * head[3] + 4) % 512 === 0)) return 'cwa';
  if (/\.(gt3x|agdc)$/i.test(name) || isZip(head)) return 'gt3x';
  const text = new TextDecoder('utf-8').decode(head.subarray(0, 4096));
  if (/^\uFEFF?\s*Device Identity\s*$/m.test(text.split(/\r?\n/, 1)[0]) || (/\.bin$/i.test(name) && /GENEActiv/i.test(text))) return 'geneactiv-bin';
  if (/^\uFEFF?-*\s*Data File Created By ActiGraph/i.test(text)) return 'actigraph';
  const firstLines = text.split(/\r?\n/).slice(0, 5).join('\n');
  if (/GENEActiv/i.test(firstLines) || /^Measurement Frequency,/mi.test(text)) return 'geneactiv';
  return 'csv';
}

export function createReader(format: AccelFormat, opts: ReaderOptions = {}): AccelReader {
  switch (format) {
    case 'csv': return new CsvAccelReader(opts);
    case 'actigraph': return new ActiGraphCsvReader(opts);
    case 'geneactiv': return new GeneActivCsvReader(opts);
    case 'cwa': return new CwaReader(opts);
    case 'geneactiv-bin': return new GeneActivBinReader(opts);
    case 'gt3x': throw new InputError([{ file: opts.name ?? 'input', message: 'a .gt3x is a ZIP archive read through its directory at the end: it needs the whole file (openAccel on a byte source), not a stream of bytes' }]);
  }
}

/**
 * Open a recording of any format from a random-access source: `.gt3x` through its ZIP directory,
 * every other format streamed front to back (`chunkBytes` at a time) through its push reader.
 */
export async function openAccel(src: ByteSource, opts: ReaderOptions & { format?: AccelFormat | 'auto'; chunkBytes?: number } = {}): Promise<AccelSourceReader> {
  const format = !opts.format || opts.format === 'auto' ? detectFormat(await src.read(0, 4096), opts.name ?? '') : opts.format;
  if (format === 'gt3x') return openGt3x(src, opts);
  const reader = createReader(format, opts);
  const step = opts.chunkBytes ?? 1 << 20;
  return {
    get info() { return reader.info; },
    async *chunks() {
      for (let o = 0; o < src.size; o += step) {
        const c = reader.push(await src.read(o, Math.min(step, src.size - o)));
        if (c) yield c;
      }
      const c = reader.end();
      if (c) yield c;
    },
  };
}

/** A reader that picks the format from the first 4 KiB it is given (or the file name). */
export class AutoReader implements AccelReader {
  private inner: AccelReader | null = null;
  private head: Uint8Array[] = [];
  private headLen = 0;

  constructor(private readonly opts: ReaderOptions = {}) {}

  get info(): RecordingInfo { return this.inner?.info ?? { format: 'csv', header: {}, skipped: 0 }; }
  get format(): AccelFormat | null { return this.inner?.info.format ?? null; }

  push(bytes: Uint8Array): AccelChunk | null {
    if (this.inner) return this.inner.push(bytes);
    this.head.push(bytes.slice()); this.headLen += bytes.length;
    return this.headLen >= 4096 ? this.start() : null;
  }

  end(): AccelChunk | null {
    if (this.inner) return this.inner.end();
    // Short input: everything arrives now; copy the first part, since chunks are views.
    const first = copyChunk(this.start());
    return joinChunks(first, this.inner!.end());
  }

  private start(): AccelChunk | null {
    const all = new Uint8Array(this.headLen);
    let o = 0;
    for (const b of this.head) { all.set(b, o); o += b.length; }
    this.head = [];
    this.inner = createReader(detectFormat(all, this.opts.name ?? ''), this.opts);
    return this.inner.push(all);
  }
}

function copyChunk(c: AccelChunk | null): AccelChunk | null {
  return c && { n: c.n, t: c.t.slice(), x: c.x.slice(), y: c.y.slice(), z: c.z.slice(), rate: c.rate };
}

function joinChunks(a: AccelChunk | null, b: AccelChunk | null): AccelChunk | null {
  if (!a || a.n === 0) return b;
  if (!b || b.n === 0) return a;
  const cat = (p: Float64Array, q: Float64Array) => { const r = new Float64Array(p.length + q.length); r.set(p); r.set(q, p.length); return r; };
  return { n: a.n + b.n, t: cat(a.t, b.t), x: cat(a.x, b.x), y: cat(a.y, b.y), z: cat(a.z, b.z), rate: b.rate };
}
