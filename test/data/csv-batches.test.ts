import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCsv, readCsvBatches } from '../../src/util/csv.js';
import { tempDir } from './fixture.js';

async function viaBatches(path: string, chunkBytes?: number) {
  const out: Array<{ cells: string[]; line: number }> = [];
  let header: string[] = [];
  for await (const b of readCsvBatches(path, { chunkBytes })) {
    header = b.header;
    b.records.forEach((cells, i) => out.push({ cells, line: b.lines[i] }));
  }
  return { header, out };
}

describe('readCsvBatches (fast reader for big files)', () => {
  it('parses RFC 4180 like csv-parse, with the same line numbers', async () => {
    const text = '\ufeffa,b,c\r\n1,2,3\r\n\r\n"x, y","say ""hi""",\n"multi\nline",5,6\nlast,,"q"';
    const path = join(tempDir(), 't.csv');
    writeFileSync(path, text);
    const { header, out } = await viaBatches(path);
    expect(header).toEqual(['a', 'b', 'c']);
    expect(out).toEqual([
      { cells: ['1', '2', '3'], line: 2 },
      { cells: ['x, y', 'say "hi"', ''], line: 4 },
      { cells: ['multi\nline', '5', '6'], line: 5 },
      { cells: ['last', '', 'q'], line: 7 },
    ]);
    // Same cells as the csv-parse reader (which wants one record delimiter per file: LF here).
    const lf = join(tempDir(), 'lf.csv');
    writeFileSync(lf, text.replace(/\r\n/g, '\n'));
    const ref: Array<{ cells: string[]; line: number }> = [];
    for await (const r of readCsv(lf)) ref.push({ cells: r.cells, line: r.line });
    expect((await viaBatches(lf)).out.map((r) => r.cells)).toEqual(ref.map((r) => r.cells));
  });

  it('handles records split across read chunks', async () => {
    const rows = ['id,note'];
    for (let i = 0; i < 20_000; i++) rows.push(i % 7 === 0 ? `${i},"a ""quoted"", long\nnote ${i}"` : `${i},plain ${i}`);
    const path = join(tempDir(), 'big.csv');
    writeFileSync(path, rows.join('\n') + '\n');
    const { out } = await viaBatches(path, 997); // ~400 chunk boundaries, inside and outside quotes
    expect(out).toHaveLength(20_000);
    let line = 2;
    const wrong: number[] = [];
    out.forEach((r, i) => {
      const note = i % 7 === 0 ? `a "quoted", long\nnote ${i}` : `plain ${i}`;
      if (r.cells[0] !== String(i) || r.cells[1] !== note || r.line !== line) wrong.push(i);
      line += i % 7 === 0 ? 2 : 1;
    });
    expect(wrong).toEqual([]);
  });
});
