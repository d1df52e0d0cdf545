/**
 * The one CSV reader and writer of the project (Node only: file I/O).
 * Reading streams row by row (csv-parse), so a study with millions of activity epochs is never
 * held as text; each row carries its 1-based line number for error messages.
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
    const cells = rec.record;
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
  for await (const rec of parser as AsyncIterable<string[]>) return rec.map((h) => h.trim());
  return [];
}

/** Quote a cell when needed (RFC 4180). */
export function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
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
