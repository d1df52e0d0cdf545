/**
 * ActiGraph .gt3x and GENEActiv .bin readers on real device recordings (test/fixtures/actigraphy,
 * see its README), held to the reference readers: pygt3x's values and times (digests made by
 * bench/actigraphy/reference/gt3x_reference.py), ActiLife's own CSV export of two of the files,
 * an independent Python decoder and GGIRread's test expectations for the GENEActiv file.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ActigraphyFlags, runActigraphy } from '../../src/cli/commands/actigraphy.js';
import { parseFlags } from '../../src/util/flags.js';
import {
  ActigraphyPipeline, GeneActivBinReader, Gt3xLogDecoder, NhanesActivityDecoder, decodeParamFloat, bytesSource, detectFormat, openAccel, parseGt3xZone,
  zipEntries, zipEntryBytes, type AccelChunk, type ByteSource, type Gt3xFill, type RecordingInfo,
} from '../../src/signal/actigraphy/index.js';
import { InputError } from '../../src/util/errors.js';
import { randomByteChunks } from './actigraphy-fixtures.js';

const DIR = join(import.meta.dirname, '..', 'fixtures', 'actigraphy');
const file = (name: string) => new Uint8Array(readFileSync(join(DIR, name)));
const gt3xRef = JSON.parse(readFileSync(join(DIR, 'gt3x-reference.json'), 'utf8')).files;
const geneRef = JSON.parse(readFileSync(join(DIR, 'geneactiv-reference.json'), 'utf8')).files;

interface Samples { t: number[]; x: number[]; y: number[]; z: number[]; n: number; rate: number; info: RecordingInfo }

function collect(chunks: Iterable<AccelChunk | null>, acc: Samples): void {
  for (const c of chunks) {
    if (!c) continue;
    acc.rate = c.rate;
    for (let i = 0; i < c.n; i++) { acc.t.push(c.t[i]); acc.x.push(c.x[i]); acc.y.push(c.y[i]); acc.z.push(c.z[i]); }
    acc.n += c.n;
  }
}

async function read(bytes: Uint8Array, name: string, opts: { fill?: Gt3xFill; timezone?: string } = {}): Promise<Samples> {
  const r = await openAccel(bytesSource(bytes), { name, ...opts });
  const acc: Samples = { t: [], x: [], y: [], z: [], n: 0, rate: NaN, info: r.info };
  for await (const c of r.chunks()) collect([c], acc);
  return acc;
}

const sha = (a: number[]) => createHash('sha256').update(new Uint8Array(Float64Array.from(a).buffer)).digest('hex');
/** Sample count and every x, y, z value (as float64 bits, after `f`) equal the reference's digests. */
function expectValues(s: Samples, ref: { x: string; y: string; z: string }, n: number, f = (v: number) => v): void {
  expect(s.n).toBe(n);
  expect(sha(s.x.map(f))).toBe(ref.x);
  expect(sha(s.y.map(f))).toBe(ref.y);
  expect(sha(s.z.map(f))).toBe(ref.z);
}

/** numpy's round(v, 3): half to even on v·1000. */
const npRound3 = (v: number) => { const s = v * 1000, f = Math.floor(s), d = s - f; return (d > 0.5 || (d === 0.5 && f % 2 !== 0) ? f + 1 : f) / 1000; };

function actilifeRows(name: string): number[][] {
  const lines = gunzipSync(readFileSync(join(DIR, name))).toString('utf8').split(/\r?\n/);
  const i = lines.findIndex((l) => l.startsWith('Accelerometer X'));
  return lines.slice(i + 1).filter((l) => l.trim()).map((l) => l.split(',').map(Number));
}

describe('.gt3x reader against pygt3x (sample by sample, bit for bit)', () => {
  for (const name of ['ISM_Enabled.gt3x', 'TAS1H30182785_first60s.gt3x']) {
    it(`${name}: every value and time equals pygt3x's`, async () => {
      const ref = gt3xRef[name];
      const s = await read(file(name), name);
      expectValues(s, ref, ref.pygt3xSamples);
      // pygt3x's times are the device's wall clock; ours are UTC: add back the file's TimeZone.
      const off = parseGt3xZone(s.info.header.timezone);
      expect(sha(s.t.map((t) => Math.round((t + off) * 1000)))).toBe(ref.tMs);
      expect([s.t[0] + off, s.x[0], s.y[0], s.z[0]]).toEqual(ref.first);
      expect(s.info.format).toBe('gt3x');
      expect(s.info.skipped).toBe(0);
    });
  }

  it('the NHANES layout (activity.bin) equals pygt3x after its rounding to 3 decimals', async () => {
    const name = 'neo_first60s.gt3x';
    const ref = gt3xRef[name];
    const s = await read(file(name), name);
    expect(ref.nhanesRounded3).toBe(true);
    expectValues(s, ref, ref.pygt3xSamples, npRound3);
    expect(s.info.header.layout).toBe('NHANES activity.bin');
    expect(s.rate).toBe(30);
    // Start Date 2021-12-20 11:55:00 at TimeZone -06:00 → 17:55 UTC; sample i at i/30 s.
    expect(s.t[0]).toBe(Date.UTC(2021, 11, 20, 17, 55) / 1000);
    expect(s.t[1799]).toBeCloseTo(s.t[0] + 1799 / 30, 9);
    expect(s.x[0]).toBe(-5 / 341);             // full value, unrounded: raw / 341
  });
});

describe('.gt3x reader against ActiLife\'s CSV export of the same files (3 decimals)', () => {
  for (const [name, csv] of [['TAS1H30182785_first60s.gt3x', 'TAS1H30182785_first60s.actilife.csv.gz'], ['neo_first60s.gt3x', 'neo_first60s.actilife.csv.gz']]) {
    it(`${name}: same number of rows, every value within ActiLife's rounding (±0.0005 g)`, async () => {
      const s = await read(file(name), name);
      const rows = actilifeRows(csv);
      expect(s.n).toBe(rows.length);
      let max = 0;
      for (let i = 0; i < s.n; i++) {
        max = Math.max(max, Math.abs(s.x[i] - rows[i][0]), Math.abs(s.y[i] - rows[i][1]), Math.abs(s.z[i] - rows[i][2]));
      }
      expect(max).toBeLessThanOrEqual(0.0005 + 1e-12);
    });
  }

  it('counts: equal to counts from ActiLife\'s exported samples at 30 Hz; at 100 Hz within 0.1 % (no ActiGraph count file ships with these recordings)', async () => {
    const counts = (t: number[], x: number[], y: number[], z: number[], rate: number) => {
      const pipe = new ActigraphyPipeline({ channels: ['counts'], epochSeconds: 10, nonWear: false, minCoverage: 0.5 });
      const c: AccelChunk = { n: x.length, t: Float64Array.from(t), x: Float64Array.from(x), y: Float64Array.from(y), z: Float64Array.from(z), rate };
      return [...pipe.push(c), ...pipe.end()].map((r) => r.values.counts);
    };
    for (const [name, csv, rate] of [['neo_first60s.gt3x', 'neo_first60s.actilife.csv.gz', 30], ['TAS1H30182785_first60s.gt3x', 'TAS1H30182785_first60s.actilife.csv.gz', 100]] as const) {
      const s = await read(file(name), name);
      const rows = actilifeRows(csv);
      const ours = counts(s.t, s.x, s.y, s.z, rate);
      const theirs = counts(s.t, rows.map((r) => r[0]), rows.map((r) => r[1]), rows.map((r) => r[2]), rate);
      expect(ours.length).toBe(6);
      // agcounts rounds its 30 Hz input to 3 decimals, so at 30 Hz the unrounded samples give ActiLife's
      // export's counts exactly; at 100 Hz the rounding comes after resampling and the export's
      // 3-decimal values move the counts slightly.
      if (rate === 30) expect(ours).toEqual(theirs);
      else ours.forEach((v, i) => expect(Math.abs(v - theirs[i])).toBeLessThanOrEqual(1e-3 * Math.max(1, theirs[i])));
    }
  });
});

describe('.gt3x details', () => {
  it('idle-sleep fill: last (default) / zero / none', async () => {
    const name = 'ISM_Enabled.gt3x';
    const last = await read(file(name), name);
    const zero = await read(file(name), name, { fill: 'zero' });
    const none = await read(file(name), name, { fill: 'none' });
    expect(last.info.header.filledSeconds).toBe('227');
    expect(last.info.header.idleSleepPeriods).toBe('3');
    expect(last.info.header.idleSleepMode).toBe('enabled');     // from the PARAMETERS record
    expect(zero.n).toBe(last.n);
    expect(none.n).toBe(last.n - 227 * 30);
    // A filled second: zero mode has 0 g where last mode repeats the sample before the gap.
    const gap = last.t.findIndex((t, i) => i > 0 && !none.t.includes(t));
    expect(zero.x[gap]).toBe(0); expect(zero.z[gap]).toBe(0);
    expect([last.x[gap], last.y[gap], last.z[gap]]).toEqual([last.x[gap - 1], last.y[gap - 1], last.z[gap - 1]]);
    // Times: 30 Hz from 2021-03-19 15:57:00 at -05:00.
    expect(last.t[0]).toBe(Date.UTC(2021, 2, 19, 20, 57) / 1000);
  });

  it('known answers from ActiGraph\'s format notes: packed 12-bit ACTIVITY (y,x,z) and NHANES samples, PARAMETERS floats', () => {
    // Activity.md / activity.bin.md example: "00 60 08 EB D0 07 00 9E BF" → (y, x, z) = (6, 8, −323), (7, 9, −321).
    const payload = new Uint8Array([0x00, 0x60, 0x08, 0xeb, 0xd0, 0x07, 0x00, 0x9e, 0xbf]);
    const info: RecordingInfo = { format: 'gt3x', header: {}, skipped: 0 };
    const dec = new Gt3xLogDecoder({ name: 't', info, rate: 2, scale: 341, offset: 0, fill: 'none', lastSampleTime: NaN });
    const rec = new Uint8Array(9 + payload.length);
    rec.set([0x1e, 0x00, 0x00, 0x00, 0x00, 0x60, payload.length, 0]);  // ACTIVITY at ts 0x60000000
    rec.set(payload, 8);
    rec[8 + payload.length] = ~rec.subarray(0, 8 + payload.length).reduce((a, b) => a ^ b, 0) & 0xff;
    const acc: Samples = { t: [], x: [], y: [], z: [], n: 0, rate: NaN, info };
    collect(dec.push(rec), acc); collect(dec.end(), acc);
    expect(acc.x).toEqual([8 / 341, 9 / 341]);
    expect(acc.y).toEqual([6 / 341, 7 / 341]);
    expect(acc.z).toEqual([-323 / 341, -321 / 341]);
    expect(acc.t).toEqual([0x60000000, 0x60000000 + 0.5]);
    const nh = new NhanesActivityDecoder(100, 2, 341);
    const acc2: Samples = { t: [], x: [], y: [], z: [], n: 0, rate: NaN, info };
    collect(nh.push(payload), acc2); collect(nh.end(), acc2);
    expect([acc2.x, acc2.y, acc2.z, acc2.t]).toEqual([acc.x, acc.y, acc.z, [100, 100.5]]);
    // Parameters.md example: ACCEL_SCALE "00 00 40 09" = 256 LSB/g, IMU_ACCEL_SCALE "00 00 40 0C" = 2048.
    expect(decodeParamFloat(0x09400000)).toBe(256);
    expect(decodeParamFloat(0x0c400000)).toBe(2048);
    expect(decodeParamFloat(0)).toBe(0);
  });

  it('the `timezone` option overrides the file\'s TimeZone (its offset at the start)', async () => {
    const name = 'ISM_Enabled.gt3x';
    const s = await read(file(name), name, { timezone: 'Europe/Berlin' });
    expect(s.t[0]).toBe(Date.UTC(2021, 2, 19, 14, 57) / 1000);   // 15:57 CET = 14:57 UTC
  });

  it('log.bin read in random byte chunks gives the same samples; checksums and stray bytes', async () => {
    const bytes = file('TAS1H30182785_first60s.gt3x');
    const src = bytesSource(bytes);
    const entries = await zipEntries(src, 't');
    const log = await zipEntryBytes(src, entries.find((e) => e.name === 'log.bin')!, 't');
    const whole = await read(bytes, 't');
    const run = (b: Uint8Array[], info: RecordingInfo) => {
      const dec = new Gt3xLogDecoder({ name: 't', info, rate: 100, scale: 256, offset: -4 * 3600, fill: 'last', lastSampleTime: NaN });
      const acc: Samples = { t: [], x: [], y: [], z: [], n: 0, rate: NaN, info };
      for (const c of b) collect(dec.push(c), acc);
      collect(dec.end(), acc);
      return acc;
    };
    const info = (): RecordingInfo => ({ format: 'gt3x', header: {}, skipped: 0 });
    const chunked = run(randomByteChunks(log, 7, 700), info());
    expect(chunked.n).toBe(whole.n);
    expect(chunked.x).toEqual(whole.x);
    expect(chunked.t).toEqual(whole.t);
    // A corrupted payload byte: that record fails its checksum and is skipped (then filled).
    const bad = log.slice();
    let p = 0;
    while (bad[p + 1] !== 0x1a) p += 9 + (bad[p + 6] | (bad[p + 7] << 8));
    bad[p + 20] ^= 0xff;
    const i2 = info();
    const r2 = run([new Uint8Array([0, 0, 0]), bad], i2);
    expect(i2.skipped).toBe(1);
    expect(i2.header.strayBytes).toBe('3');
    expect(r2.n).toBe(whole.n - 100);        // the first second is gone (nothing before it to fill from)
  });

  it('truncated and corrupt files: one clear error with the file, the byte offset and what was expected', async () => {
    const bytes = file('TAS1H30182785_first60s.gt3x');
    const cut = bytes.subarray(0, 15000);
    await expect(read(cut, 'cut.gt3x')).rejects.toThrow(/cut\.gt3x: ZIP archive cut off: no end-of-central-directory record/);
    const corrupt = bytes.slice();
    for (let i = 5000; i < 5400; i++) corrupt[i] ^= 0x5a;
    const e = await read(corrupt, 'bad.gt3x').catch((err: unknown) => err);
    expect(e).toBeInstanceOf(InputError);
    expect((e as InputError).issues[0].file).toBe('bad.gt3x');
    expect((e as InputError).issues[0].message).toMatch(/^byte \d+: ZIP entry log\.bin: (compressed data corrupt|CRC-32)/);
    await expect(read(new TextEncoder().encode('just text, not a zip'), 'x.gt3x')).rejects.toThrow(/not a ZIP archive/);
    // A source that fails while log.bin is being read: that error comes through (no hang).
    const flaky: ByteSource = { size: bytes.length, read: async (o, n) => { if (o > 0 && n > 1000) throw new Error('disk gone'); return bytes.subarray(o, o + n); } };
    const r = await openAccel(flaky, { name: 'f.gt3x' });
    await expect((async () => { for await (const c of r.chunks()) void c; })()).rejects.toThrow('disk gone');
  });

  it('format detection: a ZIP or *.gt3x → gt3x; a GENEActiv .bin → geneactiv-bin (not the GENEActiv CSV)', () => {
    expect(detectFormat(file('ISM_Enabled.gt3x'))).toBe('gt3x');
    expect(detectFormat(new Uint8Array(0), 'a.GT3X')).toBe('gt3x');
    expect(detectFormat(file('GENEActiv_testfile.bin').subarray(0, 4096))).toBe('geneactiv-bin');
    expect(detectFormat(new TextEncoder().encode('Device Type,GENEActiv\nMeasurement Frequency,100 Hz\n'))).toBe('geneactiv');
  });
});

describe('GENEActiv .bin reader', () => {
  const name = 'GENEActiv_testfile.bin';

  it('equals an independent decoder of the format, value for value (float64 bits) and time for time', async () => {
    const ref = geneRef[name];
    const s = await read(file(name), name);
    expectValues(s, ref, ref.samples);
    expect(sha(s.t.map((t) => Math.round(t * 1000)))).toBe(ref.tMs);
    expect([s.t[0], s.x[0], s.y[0], s.z[0]]).toEqual(ref.first);
  });

  it("meets GGIRread's test expectations for this file", async () => {
    const s = await read(file(name), name);
    expect(s.rate).toBe(85.7);
    expect(s.info.header['Number of Pages']).toBe('222048');
    expect(Math.fround(s.z[299])).toBe(-0.80836403369903564453);   // GGIRread keeps float32
    expect(s.t[0]).toBe(1369905174.5);                              // 2013-05-30 10:12:54.5 at GMT+01:00
    expect(s.t[599]).toBeCloseTo(1369905181, -0.5);                  // GGIRread: 1369905181 (to R's tolerance)
    expect(s.info.header['x gain']).toBe('25875');
    expect(s.info.header.truncated).toMatch(/page 17 cut off after 231 samples/);
    expect(s.info.header['Date of Birth']).toBeUndefined();           // subject entries are not kept
  });

  it('random byte chunks give the same samples', () => {
    const bytes = file(name);
    const run = (chunks: Uint8Array[]) => {
      const r = new GeneActivBinReader({ name });
      const acc: Samples = { t: [], x: [], y: [], z: [], n: 0, rate: NaN, info: r.info };
      for (const c of chunks) collect([r.push(c)], acc);
      collect([r.end()], acc);
      return acc;
    };
    const whole = run([bytes]);
    const chunked = run(randomByteChunks(bytes, 3, 5000));
    expect(chunked.n).toBe(whole.n);
    expect(chunked.x).toEqual(whole.x);
    expect(chunked.t).toEqual(whole.t);
  });

  it('a bad hex digit or a missing calibration is one clear error with the byte offset', () => {
    const bytes = file(name).slice();
    const text = new TextDecoder('latin1').decode(bytes);
    const at = text.indexOf('\n', text.indexOf('Measurement Frequency:85.7', text.indexOf('Recorded Data'))) + 1 + 30;
    bytes[at] = 0x5a; // 'Z'
    expect(() => { const r = new GeneActivBinReader({ name: 'g.bin' }); r.push(bytes); r.end(); })
      .toThrow(new RegExp(`g\\.bin: byte ${at}: page 1, sample 3: expected a hex digit, got "Z"`));
    const noCal = new TextEncoder().encode(text.replace('x gain:25875', 'x gainz').slice(0, 20000));
    expect(() => { const r = new GeneActivBinReader({ name: 'g.bin' }); r.push(noCal); r.end(); }).toThrow(/usable "x gain"/);
    expect(() => { const r = new GeneActivBinReader({ name: 'g.bin' }); r.push(bytes.subarray(0, 500)); r.end(); }).toThrow(/file ended in the header/);
  });
});

describe('moodlens actigraphy --in FILE.gt3x|.bin', () => {
  const dir = mkdtempSync(join(tmpdir(), 'moodlens-gt3x-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const flags = (o: Record<string, unknown>) => parseFlags(ActigraphyFlags, { quiet: true, ...o }, 'actigraphy');

  it('reads a .gt3x and a GENEActiv .bin (format detected) into activity.csv', async () => {
    const out = join(dir, 'activity.csv');
    // No --timezone: the file's TimeZone (-05:00) places the samples; output times in UTC (no study).
    const r = await runActigraphy(flags({ in: join(DIR, 'ISM_Enabled.gt3x'), participant: 'p1', out, channels: 'zcm,pim,counts', nonwear: false }));
    expect(r.rows).toBe(5);                              // 20:57–21:01 UTC
    expect(r.summary).toMatch(/gt3x at 30 Hz, 9000 samples; 0 epochs missing.*227 s of idle sleep \/ docked filled \(last\)/);
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    expect(lines[1]).toMatch(/^p1,2021-03-19T20:57:00\+00:00,\d+,[\d.]+,[\d.]+$/);
    const b = await runActigraphy(flags({ in: join(DIR, 'GENEActiv_testfile.bin'), participant: 'p2', out, nonwear: false, minCoverage: 0.5 }));
    expect(b.summary).toMatch(/geneactiv-bin at 85\.7 Hz, 5031 samples.*file cut off: page 17 cut off after 231 samples/);
    const none = await runActigraphy(flags({ in: join(DIR, 'ISM_Enabled.gt3x'), participant: 'p3', out, nonwear: false, fill: 'none' }));
    expect(none.summary).toMatch(/2190 samples/);
  });

  it('a cut-off .gt3x is a one-line error naming the file, the byte and what was expected', async () => {
    const cut = join(dir, 'cut.gt3x');
    writeFileSync(cut, file('TAS1H30182785_first60s.gt3x').subarray(0, 12000));
    const e = await runActigraphy(flags({ in: cut, participant: 'p4', out: join(dir, 'a2.csv') })).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InputError);
    expect((e as Error).message).toBe(`${cut}: ZIP archive cut off: no end-of-central-directory record in its last 12000 bytes (file size 12000)`);
    const cut2 = join(dir, 'cut2.bin');
    writeFileSync(cut2, file('GENEActiv_testfile.bin').subarray(0, 800));
    await expect(runActigraphy(flags({ in: cut2, participant: 'p4', out: join(dir, 'a2.csv') }))).rejects.toThrow(/^\S+cut2\.bin: byte 800: file ended in the header/);
  });
});
