/**
 * Reader throughput for the binary wrist formats: generated recordings at 100 Hz written as an
 * ActiGraph .gt3x (log.bin of ACTIVITY2 records, deflated, info.txt after it, idle-sleep gaps),
 * a legacy NHANES .gt3x (12-bit activity.bin) and a GENEActiv .bin (hex pages), each read from
 * disk by the project's reader (samples only, no epochs), then — with --pygt3x — the same .gt3x
 * files read by pygt3x in a Python child process, in the same run. Rates are samples per CPU-second
 * of the reading process (the machine is shared); peak RSS shows memory does not grow with the file.
 *
 *   npx tsx bench/actigraphy/readers.ts [--hours 24] [--dir /tmp] [--keep] [--pygt3x /path/to/pygt3x-source]
 *
 * pygt3x needs numpy and pandas for /usr/bin/python3 (or PYTHON=…); it is never a project dependency.
 */
import { spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateRawSync, crc32 } from 'node:zlib';
import { openAccelFile } from '../../src/io/actigraphy-node.js';
import { Rng } from '../../src/util/random.js';

const arg = (name: string, def: string) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : def; };
const HOURS = Number(arg('--hours', '24'));
const DIR = arg('--dir', tmpdir());
const KEEP = process.argv.includes('--keep');
const PYGT3X = arg('--pygt3x', '');
const PYTHON = process.env.PYTHON ?? '/usr/bin/python3';
const RATE = 100;
const T0 = Date.UTC(2024, 2, 4, 0, 0, 0) / 1000;        // device wall clock
const TICKS = (s: number) => (BigInt(Math.round(s)) * 10000000n + 621355968000000000n).toString();

/** One second of movement as int16 counts at 256 LSB/g (x, y, z interleaved). */
function second(rng: Rng, s: number, out: Int16Array): void {
  const amp = (s / 3600) % 24 < 7 ? 0.01 : 0.15, f = 0.3 + ((s * 7) % 23) / 10;
  for (let i = 0; i < RATE; i++) {
    const t = s + i / RATE, mv = amp * Math.sin(2 * Math.PI * f * t);
    out[3 * i] = Math.round((0.2 + 0.6 * mv + 0.004 * rng.normal()) * 256);
    out[3 * i + 1] = Math.round((-0.3 + 0.5 * mv + 0.004 * rng.normal()) * 256);
    out[3 * i + 2] = Math.round((0.93 + mv + 0.004 * rng.normal()) * 256);
  }
}

function zip(entries: [string, Uint8Array][]): Buffer[] {
  const parts: Buffer[] = [], cd: Buffer[] = [];
  let off = 0;
  for (const [name, data] of entries) {
    const comp = deflateRawSync(data, { level: 6 });
    const n = Buffer.from(name);
    const lh = Buffer.alloc(30); lh.writeUInt32LE(0x04034b50, 0); lh.writeUInt16LE(20, 4); lh.writeUInt16LE(8, 8);
    lh.writeUInt32LE(crc32(data), 14); lh.writeUInt32LE(comp.length, 18); lh.writeUInt32LE(data.length, 22); lh.writeUInt16LE(n.length, 26);
    const ch = Buffer.alloc(46); ch.writeUInt32LE(0x02014b50, 0); ch.writeUInt16LE(20, 4); ch.writeUInt16LE(20, 6); ch.writeUInt16LE(8, 10);
    ch.writeUInt32LE(crc32(data), 16); ch.writeUInt32LE(comp.length, 20); ch.writeUInt32LE(data.length, 24); ch.writeUInt16LE(n.length, 28); ch.writeUInt32LE(off, 42);
    parts.push(lh, n, comp); cd.push(ch, n);
    off += 30 + n.length + comp.length;
  }
  const cdBuf = Buffer.concat(cd);
  const e = Buffer.alloc(22); e.writeUInt32LE(0x06054b50, 0); e.writeUInt16LE(entries.length, 8); e.writeUInt16LE(entries.length, 10);
  e.writeUInt32LE(cdBuf.length, 12); e.writeUInt32LE(off, 16);
  return [...parts, cdBuf, e];
}

function record(type: number, ts: number, payload: Uint8Array): Uint8Array {
  const r = new Uint8Array(9 + payload.length);
  r[0] = 0x1e; r[1] = type; new DataView(r.buffer).setUint32(2, ts, true); new DataView(r.buffer).setUint16(6, payload.length, true);
  r.set(payload, 8);
  let x = 0;
  for (let i = 0; i < 8 + payload.length; i++) x ^= r[i];
  r[8 + payload.length] = ~x & 0xff;
  return r;
}

const info = (extra: string) => new TextEncoder().encode(
  `Serial Number: TAS1X00000000\r\nDevice Type: Link\r\nFirmware: 1.7.2\r\nSample Rate: ${RATE}\r\nStart Date: ${TICKS(T0)}\r\n` +
  `Last Sample Time: ${TICKS(T0 + HOURS * 3600)}\r\nTimeZone: 01:00:00\r\nAcceleration Scale: 256.0\r\n${extra}`);

async function writeGt3x(path: string): Promise<number> {
  const rng = new Rng(7);
  const sec = new Int16Array(3 * RATE);
  const recs: Uint8Array[] = [];
  let samples = 0;
  for (let s = 0; s < HOURS * 3600; s++) {
    // 5 minutes of idle sleep every 2 hours (nothing written, filled on reading).
    if (s % 7200 >= 3600 && s % 7200 < 3900) {
      if (s % 7200 === 3600) recs.push(record(0x03, T0 + s, new Uint8Array([8])));
      continue;
    }
    if (s % 7200 === 3900) recs.push(record(0x03, T0 + s, new Uint8Array([9])));
    second(rng, s, sec);
    recs.push(record(0x1a, T0 + s, new Uint8Array(sec.buffer.slice(0))));
    samples += RATE;
  }
  const total = recs.reduce((n, r) => n + r.length, 0);
  const log = new Uint8Array(total);
  let o = 0;
  for (const r of recs) { log.set(r, o); o += r.length; }
  const out = createWriteStream(path);
  for (const b of zip([['log.bin', log], ['info.txt', info('')]])) if (!out.write(b)) await once(out, 'drain');
  out.end(); await once(out, 'finish');
  return samples;
}

async function writeNhanes(path: string): Promise<void> {
  const rng = new Rng(8);
  const sec = new Int16Array(3 * RATE);
  const n = HOURS * 3600 * RATE;
  const act = new Uint8Array(Math.ceil(n / 2) * 9);
  let k = 0; // 12-bit value index
  const put = (v: number) => {
    const u = v & 0xfff, q = (k >> 1) * 3;
    if (k & 1) { act[q + 1] |= u >> 8; act[q + 2] = u & 0xff; } else { act[q] = u >> 4; act[q + 1] = (u & 0xf) << 4; }
    k++;
  };
  for (let s = 0; s < HOURS * 3600; s++) {
    second(rng, s, sec);
    for (let i = 0; i < RATE; i++) { put(Math.round(sec[3 * i + 1] * 341 / 256)); put(Math.round(sec[3 * i] * 341 / 256)); put(Math.round(sec[3 * i + 2] * 341 / 256)); }
  }
  const out = createWriteStream(path);
  const nhInfo = new TextEncoder().encode(`Serial Number: NEO1C00000000\r\nDevice Type: GT3XPlus\r\nFirmware: 2.5.0\r\nSample Rate: ${RATE}\r\nStart Date: ${TICKS(T0)}\r\nTimeZone: 01:00:00\r\n`);
  for (const b of zip([['info.txt', nhInfo], ['log.txt', new Uint8Array(0)], ['activity.bin', act]])) if (!out.write(b)) await once(out, 'drain');
  out.end(); await once(out, 'finish');
}

async function writeGeneactiv(path: string): Promise<void> {
  const rng = new Rng(9);
  const sec = new Int16Array(3 * RATE);
  const out = createWriteStream(path);
  const hex3 = (v: number) => (v & 0xfff).toString(16).toUpperCase().padStart(3, '0');
  out.write('Device Identity\r\nDevice Unique Serial Code:000001\r\nDevice Type:GENEActiv\r\n\r\nConfiguration Info\r\n' +
    `Measurement Frequency:${RATE} Hz\r\nTime Zone:GMT +01:00\r\n\r\nCalibration Data\r\nx gain:25600\r\nx offset:0\r\ny gain:25600\r\ny offset:0\r\nz gain:25600\r\nz offset:0\r\nVolts:300\r\nLux:800\r\n\r\n` +
    `Memory Status\r\nNumber of Pages:${HOURS * 3600 * RATE / 300}\r\n`);
  let page: string[] = [], seq = 0, buf: string[] = [];
  for (let s = 0; s < HOURS * 3600; s++) {
    second(rng, s, sec);
    for (let i = 0; i < RATE; i++) page.push(hex3(Math.round(sec[3 * i] * 100 / 256)) + hex3(Math.round(sec[3 * i + 1] * 100 / 256)) + hex3(Math.round(sec[3 * i + 2] * 100 / 256)) + '000');
    if (page.length === 300) {
      const t = new Date((T0 + s - 2) * 1000).toISOString().replace('T', ' ').slice(0, 19);
      buf.push(`Recorded Data\r\nDevice Unique Serial Code:000001\r\nSequence Number:${seq++}\r\nPage Time:${t}:000\r\nUnassigned:\r\nTemperature:25.0\r\nBattery voltage:4.0\r\nDevice Status:Recording\r\nMeasurement Frequency:${RATE}.0\r\n${page.join('')}\r\n`);
      page = [];
      if (buf.length >= 200) { if (!out.write(buf.join(''))) await once(out, 'drain'); buf = []; }
    }
  }
  out.write(buf.join(''));
  out.end(); await once(out, 'finish');
}

async function measure(label: string, path: string): Promise<void> {
  let peak = 0, n = 0, chunks = 0;
  const cpu0 = process.cpuUsage();
  const t = performance.now();
  const r = await openAccelFile(path);
  for await (const c of r.chunks()) {
    n += c.n;
    if (++chunks % 64 === 0) peak = Math.max(peak, process.memoryUsage().rss);
  }
  peak = Math.max(peak, process.memoryUsage().rss);
  const wall = (performance.now() - t) / 1000;
  const c = process.cpuUsage(cpu0);
  const cpu = (c.user + c.system) / 1e6;
  console.log(`${label.padEnd(34)} ${(statSync(path).size / 2 ** 20).toFixed(0).padStart(4)} MB  ${(n / 1e6).toFixed(2)} M samples  ` +
    `wall ${wall.toFixed(1).padStart(5)} s  CPU ${cpu.toFixed(1).padStart(5)} s  ${(n / cpu / 1e6).toFixed(2).padStart(5)} M samples/CPU-s  peak RSS ${(peak / 2 ** 20).toFixed(0)} MB`);
}

function pygt3x(label: string, path: string): void {
  const code = `
import resource, sys, time
from pygt3x.reader import FileReader
t = time.perf_counter()
with FileReader(sys.argv[1]) as r:
    n = len(r.acceleration)
    if not r.nhanes: r.calibrate_acceleration(r.acceleration[:, 1:4])
u = resource.getrusage(resource.RUSAGE_SELF)
print(n, time.perf_counter() - t, u.ru_utime + u.ru_stime, u.ru_maxrss)
`;
  const p = spawnSync(PYTHON, ['-c', code, path], { env: { ...process.env, PYTHONPATH: PYGT3X }, encoding: 'utf8', maxBuffer: 1 << 24 });
  const line = p.stdout.trim().split('\n').pop() ?? '';
  const [n, wall, cpu, rss] = line.split(' ').map(Number);
  if (p.status !== 0 || !(n > 0)) { console.log(`${label.padEnd(34)} failed: ${(p.stderr || '').trim().split('\n').pop()}`); return; }
  console.log(`${label.padEnd(34)} ${(statSync(path).size / 2 ** 20).toFixed(0).padStart(4)} MB  ${(n / 1e6).toFixed(2)} M samples  ` +
    `wall ${wall.toFixed(1).padStart(5)} s  CPU ${cpu.toFixed(1).padStart(5)} s  ${(n / cpu / 1e6).toFixed(2).padStart(5)} M samples/CPU-s  peak RSS ${(rss / 1024).toFixed(0)} MB (whole process)`);
}

const gt3x = join(DIR, `moodlens-bench-${HOURS}h-100hz.gt3x`);
const nhanes = join(DIR, `moodlens-bench-${HOURS}h-100hz-nhanes.gt3x`);
const bin = join(DIR, `moodlens-bench-${HOURS}h-100hz.bin`);
const t = performance.now();
if (!existsSync(gt3x)) await writeGt3x(gt3x);
if (!existsSync(nhanes)) await writeNhanes(nhanes);
if (!existsSync(bin)) await writeGeneactiv(bin);
console.log(`${HOURS} h at ${RATE} Hz = ${(HOURS * 3600 * RATE / 1e6).toFixed(2)} M samples per file (ready in ${((performance.now() - t) / 1000).toFixed(0)} s); node ${process.version}, one process`);
await measure('.gt3x log.bin (ACTIVITY2, deflate)', gt3x);
await measure('.gt3x NHANES activity.bin', nhanes);
await measure('GENEActiv .bin', bin);
if (PYGT3X) {
  pygt3x('pygt3x: .gt3x log.bin', gt3x);
  pygt3x('pygt3x: .gt3x NHANES activity.bin', nhanes);
}
if (!KEEP) { rmSync(gt3x); rmSync(nhanes); rmSync(bin); }
