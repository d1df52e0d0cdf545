import { describe, expect, it } from 'vitest';
import {
  ActiGraphCsvReader, AutoReader, CsvAccelReader, CwaReader, GeneActivCsvReader, ActigraphyPipeline,
  detectFormat, epochsOf, type AccelChunk, type AccelReader, type EpochRow,
} from '../../src/signal/actigraphy/index.js';
import { InputError } from '../../src/util/errors.js';
import { T0, cwaDataBlock, cwaFile, cwaHeaderBlock, makeSignal, randomByteChunks } from './actigraphy-fixtures.js';

const enc = (s: string) => new TextEncoder().encode(s);

/** Read all samples (copied) from bytes given in chunks. */
function readAll(reader: AccelReader, chunks: Uint8Array[]) {
  const t: number[] = [], x: number[] = [], y: number[] = [], z: number[] = [];
  let rate = NaN;
  const take = (c: AccelChunk | null) => {
    if (!c) return;
    rate = c.rate;
    for (let i = 0; i < c.n; i++) { t.push(c.t[i]); x.push(c.x[i]); y.push(c.y[i]); z.push(c.z[i]); }
  };
  for (const b of chunks) take(reader.push(b));
  take(reader.end());
  return { t, x, y, z, rate, n: t.length };
}

function expectInputError(f: () => unknown, line: number | undefined, text: RegExp) {
  try { f(); } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    const issue = (e as InputError).issues[0];
    expect(issue.line).toBe(line);
    expect(issue.message).toMatch(text);
    return issue;
  }
  throw new Error('expected an InputError');
}

describe('generic CSV reader', () => {
  it('ISO times with offset, header with extra columns, rate estimated from the times', () => {
    const rows = Array.from({ length: 700 }, (_, i) => {
      const ms = Date.UTC(2024, 2, 1, 9, 0, 0) + i * 40;           // 25 Hz
      const iso = new Date(ms).toISOString().replace('Z', '+00:00');
      return `${iso.replace('+00:00', '+01:00')},${(i % 7) / 10},0.5,-1,${i}`;
    });
    const file = enc('timestamp,acc_x,acc_y,acc_z,temp\n' + rows.join('\n') + '\n');
    const r = readAll(new CsvAccelReader({ name: 'a.csv' }), [file]);
    expect(r.n).toBe(700);
    expect(r.rate).toBe(25);
    expect(r.t[0]).toBeCloseTo(Date.UTC(2024, 2, 1, 8, 0, 0) / 1000, 6);   // +01:00 → 08:00Z
    expect(r.t[699] - r.t[0]).toBeCloseTo(699 * 0.04, 6);
    expect(r.x[3]).toBeCloseTo(0.3, 12); expect(r.y[3]).toBe(0.5); expect(r.z[3]).toBe(-1);
    // Random byte chunks give the same samples.
    expect(readAll(new CsvAccelReader(), randomByteChunks(file, 4, 97))).toEqual(r);
  });

  it('local times without offset are read in the given zone (DST-aware); GENEActiv-style colon milliseconds too', () => {
    const file = enc('time,x,y,z\n2024-07-01 12:00:00.000,0,0,1\n2024-07-01 12:00:00.500,0,0,1\n2024-07-01 12:00:01:000,0,0,1\n');
    const r = readAll(new CsvAccelReader({ timezone: 'Europe/Berlin' }), [file]);
    expect(r.t).toEqual([Date.UTC(2024, 6, 1, 10) / 1000, Date.UTC(2024, 6, 1, 10) / 1000 + 0.5, Date.UTC(2024, 6, 1, 10) / 1000 + 1]);
    expect(r.rate).toBe(2);
  });

  it('seconds: Unix seconds, Unix milliseconds, or seconds from --start; no header; m/s² scaled to g', () => {
    const unix = readAll(new CsvAccelReader(), [enc('1700000000,0,0,9.81\n1700000000.01,0,0,9.81\n1700000000.02,0,0,9.81\n')]);
    expect(unix.t[1]).toBeCloseTo(1700000000.01, 6);
    expect(unix.rate).toBe(100);
    expect(unix.z[0]).toBeCloseTo(9.81 / 9.80665, 9);
    const ms = readAll(new CsvAccelReader(), [enc('1700000000000,0,0,1\n1700000000020,0,0,1\n')]);
    expect(ms.t).toEqual([1700000000, 1700000000.02]);
    expect(ms.rate).toBe(50);
    const rel = readAll(new CsvAccelReader({ start: '2024-01-01T00:00:00Z' }), [enc('t,x,y,z\n0,0,0,1\n0.1,0,0,1\n')]);
    expect(rel.t).toEqual([1704067200, 1704067200.1]);
    const none = readAll(new CsvAccelReader({ start: '2024-01-01T00:00:00Z', rate: 4 }), [enc('x,y,z\n0,0,1\n0,0,1\n0,0,1\n')]);
    expect(none.t).toEqual([1704067200, 1704067200.25, 1704067200.5]);
  });

  it('a last line cut off mid-write (no newline) is skipped and counted; the same line inside the file is an error', () => {
    const reader = new CsvAccelReader();
    const r = readAll(reader, [enc('time,x,y,z\n2024-01-01T00:00:00Z,0,0,1\n2024-01-01T00:00:01Z,0,0,1\n2024-01-01T00:00:02Z,0.')]);
    expect(r.n).toBe(2);
    expect(reader.info.skipped).toBe(1);
    expectInputError(() => readAll(new CsvAccelReader(), [enc('time,x,y,z\n2024-01-01T00:00:02Z,0.\n2024-01-01T00:00:03Z,0,0,1\n')]), 2, /at least 4 fields/);
  });

  it('errors name the line and column', () => {
    const issue = expectInputError(() => readAll(new CsvAccelReader({ name: 'a.csv' }), [enc('time,x,y,z\n2024-01-01T00:00:00Z,0,abc,1\n')]), 2, /expected a number/);
    expect(issue.file).toBe('a.csv'); expect(issue.column).toBe(3);
    expectInputError(() => readAll(new CsvAccelReader(), [enc('t,x,y,z\n5,0,0,1\n')]), 2, /--start/);
    expectInputError(() => readAll(new CsvAccelReader(), [enc('when,a,b\n')]), 1, /no column for axis/);
  });
});

describe('ActiGraph CSV reader', () => {
  const header = (fmt: string, date: string, hz = 30) => [
    `------------ Data File Created By ActiGraph GT3X+ ActiLife v6.13.3 Firmware v3.2.1 date format ${fmt} at ${hz} Hz  Filter Normal -----------`,
    'Serial Number: NEO1F18120387', 'Start Time 10:00:00', `Start Date ${date}`, 'Epoch Period (hh:mm:ss) 00:00:00',
    'Download Time 10:31:05', 'Download Date 5/20/2014', 'Current Memory Address: 0', 'Current Battery Voltage: 4.07     Mode = 12',
    '--------------------------------------------------',
  ].join('\r\n') + '\r\n';

  it('reads rate, date format and start; sample i at start + i/rate, in the given zone', () => {
    const file = enc(header('M/d/yyyy', '5/7/2014') + 'Accelerometer X,Accelerometer Y,Accelerometer Z\r\n-0.182,-0.182,0.962\r\n-0.182,-0.176,0.959\r\n0.1,0.2,0.3\r\n');
    const reader = new ActiGraphCsvReader({ timezone: 'America/New_York' });
    const r = readAll(reader, [file]);
    expect(r.rate).toBe(30);
    expect(r.n).toBe(3);
    expect(r.t[0]).toBe(Date.UTC(2014, 4, 7, 14) / 1000);             // 10:00 EDT = 14:00Z
    expect(r.t[2] - r.t[0]).toBeCloseTo(2 / 30, 5);   // doubles near 1.4e9 s resolve ~0.2 µs
    expect([r.x[1], r.y[1], r.z[1]]).toEqual([-0.182, -0.176, 0.959]);
    expect(reader.info.header.serial).toBe('NEO1F18120387');
    expect(detectFormat(file)).toBe('actigraph');
    expect(readAll(new ActiGraphCsvReader({ timezone: 'America/New_York' }), randomByteChunks(file, 2, 13))).toEqual(r);
  });

  it('day-first date formats, a Timestamp column, no column-name line', () => {
    const a = readAll(new ActiGraphCsvReader(), [enc(header('dd.MM.yyyy', '07.05.2014', 100) + 'Timestamp,Accelerometer X,Accelerometer Y,Accelerometer Z\n07.05.2014 10:00:00.000,1,2,3\n')]);
    expect(a.t[0]).toBe(Date.UTC(2014, 4, 7, 10) / 1000);
    expect([a.x[0], a.y[0], a.z[0], a.rate]).toEqual([1, 2, 3, 100]);
    const b = readAll(new ActiGraphCsvReader(), [enc(header('d/M/yyyy', '7/5/2014') + '0.5,0.25,1\n')]);
    expect(b.t[0]).toBe(Date.UTC(2014, 4, 7, 10) / 1000);
    expect(b.x[0]).toBe(0.5);
  });

  it('a bad number names its line', () => {
    expectInputError(() => readAll(new ActiGraphCsvReader(), [enc(header('M/d/yyyy', '5/7/2014') + '1,2,3\n1,x,3\n')]), 12, /expected a number/);
  });
});

describe('GENEActiv CSV reader', () => {
  const head = ['Device Type,GENEActiv', 'Device Model,1.1', 'Device Unique Serial Code,012345', '', 'Measurement Frequency,100 Hz',
    'Start Time,2013-08-23 10:00:00:000', 'Time Zone,GMT +01:00', '', 'Subject Code,abc', ...Array(20).fill('')].join('\n') + '\n';
  const rows = Array.from({ length: 250 }, (_, i) => {
    const ms = i * 10, s = Math.floor(ms / 1000), frac = ms % 1000;
    return `2013-08-23 10:00:${String(s).padStart(2, '0')}:${String(frac).padStart(3, '0')},${(i % 5) * 0.01},-0.9688,0.1016,102.00,0,25.1`;
  }).join('\n') + '\n';
  const file = enc(head + rows);

  it('reads frequency and time zone from the header and timestamp,x,y,z,lux,button,temp rows', () => {
    const reader = new GeneActivCsvReader({ name: 'g.csv' });
    const r = readAll(reader, [file]);
    expect(r.rate).toBe(100);
    expect(r.n).toBe(250);
    expect(r.t[0]).toBe(Date.UTC(2013, 7, 23, 9) / 1000);             // GMT +01:00
    expect(r.t[123] - r.t[0]).toBeCloseTo(1.23, 5);
    expect([r.x[3], r.y[3], r.z[3]]).toEqual([0.03, -0.9688, 0.1016]);
    expect(reader.info.header['Device Unique Serial Code']).toBe('012345');
    expect(detectFormat(file)).toBe('geneactiv');
    expect(readAll(new GeneActivCsvReader(), randomByteChunks(file, 9, 300))).toEqual(r);
  });

  it('an explicit zone overrides the header', () => {
    const r = readAll(new GeneActivCsvReader({ timezone: 'UTC' }), [file]);
    expect(r.t[0]).toBe(Date.UTC(2013, 7, 23, 10) / 1000);
  });
});

describe('Axivity .cwa reader (blocks built byte by byte per cwa.h)', () => {
  const RATE_100 = 0x4a;   // 3200 / 2^(15−10) = 100 Hz, ±8 g
  it('header, 16-bit and packed blocks, fractional and whole-second timestamps, checksums', () => {
    const start = Date.UTC(2024, 0, 2, 3, 4, 5) / 1000 + 0.25;
    const s16 = Array.from({ length: 80 }, (_, i) => [i / 256, -i / 128, 1 - i / 512]);
    const sPk = Array.from({ length: 120 }, (_, i) => [i / 256, -1, 3.5]);     // 3.5 g needs exponent 1
    const header = cwaHeaderBlock({ rateCode: RATE_100, deviceId: 4321, start });
    const b0 = cwaDataBlock({ seq: 0, first: start, rateCode: RATE_100, samples: s16, packing: 2, fractional: true });
    const b1 = cwaDataBlock({ seq: 1, first: start + 0.8, rateCode: RATE_100, samples: sPk, packing: 0, fractional: true });
    const bad = cwaDataBlock({ seq: 2, first: start + 2, rateCode: RATE_100, samples: s16, packing: 2 });
    bad[100] ^= 0xff;                                                           // breaks the checksum
    const b3 = cwaDataBlock({ seq: 3, first: Date.UTC(2024, 0, 2, 3, 4, 9) / 1000 + 0.1, rateCode: RATE_100, samples: s16, packing: 2, scaleN: 0 });
    const file = new Uint8Array([...header, ...b0, ...b1, ...bad, ...b3]);
    const reader = new CwaReader({ name: 'a.cwa' });
    const r = readAll(reader, [file]);
    expect(reader.info.skipped).toBe(1);
    expect(reader.info.header.deviceId).toBe('4321');
    expect(reader.info.header.metadata).toContain('_c=test');
    expect(r.rate).toBe(100);
    expect(r.n).toBe(80 + 120 + 80);
    expect(Math.abs(r.t[0] - start)).toBeLessThan(1e-4);
    expect(Math.abs(r.t[79] - (start + 0.79))).toBeLessThan(1e-4);
    expect(Math.abs(r.t[80] - (start + 0.8))).toBeLessThan(1e-4);
    expect(Math.abs(r.t[200] - (Date.UTC(2024, 0, 2, 3, 4, 9) / 1000 + 0.1))).toBeLessThan(1e-9);
    expect([r.x[10], r.y[10], r.z[10]]).toEqual([10 / 256, -20 / 256, 1 - 10 / 512]);
    expect([r.x[80 + 7], r.y[80 + 7], r.z[80 + 7]]).toEqual([6 / 256, -1, 3.5]);   // 7/256 loses its last bit to the exponent
    expect(detectFormat(file)).toBe('cwa');
    expect(detectFormat(enc('MD,x,y,z\n1,2,3,4\n'))).toBe('csv');
    // Any chunking, including 1-byte pieces across the header, gives the same samples.
    expect(readAll(new CwaReader(), randomByteChunks(file, 3, 700))).toEqual(r);
    expect(readAll(new CwaReader(), Array.from(file.subarray(0, 1600), (b) => new Uint8Array([b])).concat([file.subarray(1600)]))).toEqual(r);
  });

  it('a whole .cwa recording gives the same epochs as the signal it encodes', () => {
    const c = makeSignal(100, [{ seconds: 300, f: 1, amp: 0.2 }]);
    const file = cwaFile(c, RATE_100, 2);
    const p = new ActigraphyPipeline({ nonWear: false, channels: ['zcm', 'pim'] });
    const rows: EpochRow[] = [];
    const reader = new AutoReader({ name: 'x.bin' });
    for (const b of randomByteChunks(file, 5, 20000)) rows.push(...p.push(reader.push(b)));
    rows.push(...p.push(reader.end()), ...p.end());
    const direct = epochsOf(c, { nonWear: false, channels: ['zcm', 'pim'] });
    expect(rows.map((r) => r.values.zcm)).toEqual(direct.map((r) => r.values.zcm));
    for (let i = 0; i < rows.length; i++) expect(rows[i].values.pim).toBeCloseTo(direct[i].values.pim, 2);
    expect(rows[0].start).toBe(T0);
  });

  it('the device clock keeps the offset of its first block (no daylight-saving jump)', () => {
    const wall0 = Date.UTC(2024, 2, 31, 1, 59, 0) / 1000;                     // 01:59 CET, 1 min before the switch
    const samples = Array.from({ length: 80 }, () => [0, 0, 1]);
    // 12.5 Hz (code 7): 80 samples = 6.4 s per block; 12 blocks run past 02:00, which Berlin skips.
    const blocks = Array.from({ length: 12 }, (_, i) => cwaDataBlock({ seq: i, first: wall0 + i * 6.4, rateCode: 0x47, samples, packing: 2, fractional: true }));
    const file = new Uint8Array([...cwaHeaderBlock({ rateCode: 0x47 }), ...blocks.flatMap((b) => [...b])]);
    const r = readAll(new CwaReader({ timezone: 'Europe/Berlin' }), [file]);
    expect(r.rate).toBe(12.5);
    expect(r.t[0]).toBe(wall0 - 3600);
    for (let i = 1; i < r.n; i++) expect(Math.abs(r.t[i] - r.t[i - 1] - 0.08)).toBeLessThan(1e-4);
  });

  it('refuses a file without the MD header', () => {
    expect(() => readAll(new CwaReader({ name: 'b.cwa' }), [new Uint8Array(1024)])).toThrow(/MD/);
  });
});

describe('in-place number parsing', () => {
  it('parseDecimal equals Number() on plain decimals and falls back for the rest', async () => {
    const { parseDecimal } = await import('../../src/signal/actigraphy/lines.js');
    const { Rng } = await import('../../src/util/random.js');
    const rng = new Rng(8);
    for (let i = 0; i < 20000; i++) {
      const digits = 1 + rng.int(15), dot = rng.int(digits + 1);
      let s = '';
      for (let k = 0; k < digits; k++) s += String(rng.int(10));
      s = (rng.next() < 0.5 ? '-' : '') + s.slice(0, dot) + (dot < digits ? '.' + s.slice(dot) : '');
      expect(parseDecimal(`,${s},`, 1, s.length + 1)).toBe(Number(s));
    }
    for (const s of ['1e-3', ' 2.5 ', '"0.25"'.slice(1, -1), '12345678901234567.5', '+4']) expect(parseDecimal(s, 0, s.length)).toBe(Number(s.trim()));
    for (const s of ['', '-', '.', '1.2.3', 'abc', '1,2']) expect(parseDecimal(s, 0, s.length)).toBeNaN();
  });
});

describe('line splitting', () => {
  it('keeps multi-byte characters split across chunks, drops the BOM, handles CRLF and a last line without newline', async () => {
    const { LineSplitter } = await import('../../src/signal/actigraphy/lines.js');
    const bytes = enc('\uFEFFa,é€\r\n\nb,ü\nlast');
    for (const size of [1, 2, 3, 5, bytes.length]) {
      const l = new LineSplitter();
      const got: [string, number][] = [];
      for (let i = 0; i < bytes.length; i += size) l.push(bytes.subarray(i, i + size), (s, n) => got.push([s, n]));
      l.end((s, n) => got.push([s, n]));
      expect(got).toEqual([['a,é€', 1], ['', 2], ['b,ü', 3], ['last', 4]]);
    }
  });
});
