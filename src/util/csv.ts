/**
 * The one CSV reader and writer of the project (Node only: file I/O).
 * Reading streams row by row (csv-parse), so a study with millions of activity epochs is never
 * held as text; each row carries its 1-based line number for error messages.
 * Text cells a spreadsheet would run as a formula are written with a leading `'` and read back
 * without it (escapeFormula / unescapeFormula below; docs/security.md).
 */
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { parse } from 'csv-parse';

export interface CsvRow {
  /** Column name → raw cell text (empty string for an empty cell). */
  values: Record<string, string>;
  /** Cells in file order. */
  cells: string[];
  /** 1-based line number where this record starts (header is line 1). */
  line: number;
}

/** Stream the rows of a CSV file with a header line. */
export async function* readCsv(path: string): AsyncGenerator<CsvRow & { header: string[] }> {
  const parser = createReadStream(path).pipe(parse({
    bom: true,
    relax_column_count: true,
    skip_empty_lines: true,
    info: true,
  }));
  let header: string[] | null = null;
  for await (const rec of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
    const cells = unescapeCells(rec.record);
    if (header === null) { header = cells.map((h) => h.trim()); continue; }
    const values: Record<string, string> = {};
    for (let i = 0; i < header.length; i++) values[header[i]] = cells[i] ?? '';
    yield { values, cells, line: rec.info.lines, header };
  }
}

/** Read only the header line of a CSV file ([] for an empty file). */
export async function readCsvHeader(path: string): Promise<string[]> {
  for await (const row of readCsv(path)) return row.header;
  // No data rows: parse the header alone.
  const parser = createReadStream(path).pipe(parse({ bom: true, to_line: 1 }));
  for await (const rec of parser as AsyncIterable<string[]>) return unescapeCells(rec).map((h) => h.trim());
  return [];
}

/** A batch of records from `readCsvBatches`, with the 1-based line where each record starts. */
export interface CsvBatch {
  header: string[];
  records: string[][];
  lines: number[];
}

/**
 * Stream a big CSV file in batches of records (one batch per ~1 MiB read): the fast path for
 * files with millions of rows (≈ 10× csv-parse's per-record async iteration here). RFC 4180:
 * quoted fields with "" escapes, commas and newlines inside quotes, CRLF, a BOM; empty lines are
 * skipped. Lines are numbered like `readCsv` (header = line 1).
 */
export async function* readCsvBatches(path: string, opts: { chunkBytes?: number } = {}): AsyncGenerator<CsvBatch> {
  let buf = '';
  let line = 1;
  let header: string[] | null = null;
  let first = true;
  const stream = createReadStream(path, { encoding: 'utf8', highWaterMark: opts.chunkBytes ?? 1 << 20 });
  const take = (final: boolean): CsvBatch | null => {
    const records: string[][] = [];
    const lines: number[] = [];
    let pos = 0;
    while (pos < buf.length) {
      const nl = buf.indexOf('\n', pos);
      if (nl < 0 && !final) break;
      const end = nl < 0 ? buf.length : nl;
      let text = buf.slice(pos, end);
      let cells: string[];
      let next = end + 1;
      let span = 1;
      if (text.indexOf('"') < 0) {
        if (text.endsWith('\r')) text = text.slice(0, -1);
        if (text === '') { pos = next; line++; continue; }
        cells = text.split(',');
      } else {
        const q = parseQuotedRecord(buf, pos, final);
        if (!q) break; // the record continues in the next chunk
        cells = q.cells; next = q.next; span = 1 + q.newlines;
      }
      unescapeCells(cells);
      if (header === null) header = cells.map((h) => h.trim());
      else { records.push(cells); lines.push(line); }
      line += span;
      pos = next;
    }
    buf = buf.slice(pos);
    return header === null ? null : { header, records, lines };
  };
  for await (const chunk of stream as AsyncIterable<string>) {
    buf += first && chunk.charCodeAt(0) === 0xfeff ? chunk.slice(1) : chunk;
    first = false;
    const b = take(false);
    if (b && b.records.length) yield b;
  }
  const b = take(true);
  if (b && (b.records.length || header !== null)) yield b;
}

/** One record starting at `pos` that contains quotes; null when it runs past the buffer (not final). */
function parseQuotedRecord(buf: string, pos: number, final: boolean): { cells: string[]; next: number; newlines: number } | null {
  const cells: string[] = [];
  let i = pos, newlines = 0;
  for (;;) {
    let field = '';
    if (buf[i] === '"') {
      i++;
      for (;;) {
        const j = buf.indexOf('"', i);
        if (j < 0) {
          if (!final) return null;
          field += buf.slice(i); i = buf.length; break;
        }
        const part = buf.slice(i, j);
        for (let k = part.indexOf('\n'); k >= 0; k = part.indexOf('\n', k + 1)) newlines++;
        field += part;
        if (buf[j + 1] === '"') { field += '"'; i = j + 2; continue; }
        i = j + 1; break;
      }
      // Text after the closing quote (malformed) is kept as it is, up to the delimiter.
      let k = i;
      while (k < buf.length && buf[k] !== ',' && buf[k] !== '\n') k++;
      if (k === buf.length && !final) return null;
      field += buf.slice(i, k).replace(/\r$/, '');
      i = k;
    } else {
      let k = i;
      while (k < buf.length && buf[k] !== ',' && buf[k] !== '\n') k++;
      if (k === buf.length && !final) return null;
      field = buf.slice(i, k).replace(/\r$/, '');
      i = k;
    }
    cells.push(field);
    if (i >= buf.length) return { cells, next: buf.length, newlines };
    if (buf[i] === '\n') return { cells, next: i + 1, newlines };
    i++; // ','
  }
}

/*
 * Formula cells (CSV injection, OWASP): a spreadsheet runs a cell that begins with = + - @, a tab
 * or a carriage return as a formula. The writer prefixes such text with a single quote (which a
 * spreadsheet shows as "this is text" and does not display) and quotes the cell; the readers take
 * the quote off again, so export → import gives back exactly the text written. Two refinements
 * keep that exact and numbers readable:
 *   - a plain decimal number ("-3.5", "+2", "-1e-7", and every JS number) is not a formula in any
 *     spreadsheet and is written as it is, so numeric cells stay numbers;
 *   - text that itself begins with a quote followed by a quote or one of those characters ("'=x",
 *     "''") is prefixed too, so that the reader's rule (drop one leading quote before a quote or
 *     one of those characters) never changes text that was not escaped.
 * Any other leading quote ("'tis") is left alone on both sides.
 */
const FORMULA_START = /^[=+\-@\t\r]/;
const QUOTED_START = /^'['=+\-@\t\r]/;
const PLAIN_NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Text as written to a CSV cell: `'` prefixed when a spreadsheet would run it as a formula (see above). */
export function escapeFormula(s: string): string {
  return (FORMULA_START.test(s) && !PLAIN_NUMBER.test(s)) || QUOTED_START.test(s) ? `'${s}` : s;
}

/** The inverse of escapeFormula: a cell's text as it was before writing. */
export function unescapeFormula(s: string): string {
  return s.charCodeAt(0) === 39 && QUOTED_START.test(s) ? s.slice(1) : s;
}

/** Undo escapeFormula on every cell of a record, in place (one char test per cell). */
function unescapeCells(cells: string[]): string[] {
  for (let i = 0; i < cells.length; i++) if (cells[i].charCodeAt(0) === 39) cells[i] = unescapeFormula(cells[i]);
  return cells;
}

/**
 * One cell: a number as it is (empty when not finite); text with a formula's first character
 * prefixed by `'` (escapeFormula) and quoted; quoted when it holds `"`, `,` or a line break (RFC 4180).
 */
export function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  const s = String(v);
  const e = escapeFormula(s);
  return e !== s || /[",\n\r]/.test(s) ? `"${e.replace(/"/g, '""')}"` : s;
}

export function csvLine(values: readonly unknown[]): string {
  return values.map(csvCell).join(',') + '\n';
}

/** Buffered CSV writer with back-pressure; `close()` flushes and waits for the file. */
export class CsvWriter {
  private stream: WriteStream;
  private buf: string[] = [];
  private bufLen = 0;

  constructor(path: string, header: readonly string[], opts: { append?: boolean } = {}) {
    this.stream = createWriteStream(path, { flags: opts.append ? 'a' : 'w' });
    if (!opts.append) this.buf.push(csvLine(header));
  }

  async write(values: readonly unknown[]): Promise<void> {
    const l = csvLine(values);
    this.buf.push(l);
    this.bufLen += l.length;
    if (this.bufLen > 1 << 16) await this.flush();
  }

  /** Append ready-made CSV text (whole lines, already quoted) — for bulk writers such as activity epochs. */
  async writeRaw(text: string): Promise<void> {
    this.buf.push(text);
    this.bufLen += text.length;
    if (this.bufLen > 1 << 16) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.buf.length === 0) return;
    const ok = this.stream.write(this.buf.join(''));
    this.buf = []; this.bufLen = 0;
    if (!ok) await once(this.stream, 'drain');
  }

  async close(): Promise<void> {
    await this.flush();
    this.stream.end();
    await once(this.stream, 'finish');
  }
}
