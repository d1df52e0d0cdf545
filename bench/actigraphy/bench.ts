/**
 * Actigraphy throughput: a generated 24 h, 100 Hz tri-axial recording written as a generic CSV
 * (ISO times) and as an Axivity .cwa (16-bit blocks), then read from disk through the full
 * reader → epoch pipeline (the `moodlens actigraphy` path without the CSV writing). Prints
 * samples/second, epochs/second and the peak resident memory (to show it stays bounded).
 *
 *   npx tsx bench/actigraphy/bench.ts [--hours 24] [--dir /tmp] [--keep]
 *
 * One Node process, one core. The machine is shared: wall-clock rates drop when other work
 * runs, so the rates are also given per CPU-second of this process (process.cpuUsage), which
 * other processes disturb far less. Run it twice.
 */
import { createWriteStream, existsSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { actigraphyFromFile } from '../../src/io/actigraphy-node.js';
import type { Channel } from '../../src/signal/actigraphy/index.js';
import { Rng } from '../../src/util/random.js';
import { cwaDataBlock, cwaHeaderBlock } from '../../test/signal/actigraphy-fixtures.js';

const arg = (name: string, def: string) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : def; };
const HOURS = Number(arg('--hours', '24'));
const DIR = arg('--dir', tmpdir());
const KEEP = process.argv.includes('--keep');
const RATE = 100;
const T0 = Date.UTC(2024, 2, 4, 0, 0, 0) / 1000;

/** A day of wrist movement: each minute its own sway frequency and amplitude, quieter at night, flat (off-wrist) 13:00–14:30. */
function* samples(hours: number): Generator<[number, number, number, number]> {
  const rng = new Rng(42);
  const n = hours * 3600 * RATE;
  let f = 1, amp = 0.1;
  for (let i = 0; i < n; i++) {
    const s = i / RATE, hour = (s / 3600) % 24;
    if (i % (60 * RATE) === 0) { f = rng.uniform(0.3, 2.5); amp = (hour < 7 ? 0.01 : 0.15) * rng.uniform(0, 2); }
    const off = hour >= 13 && hour < 14.5;
    const mv = off ? 0 : amp * Math.sin(2 * Math.PI * f * s);
    const e = 0.004;
    yield [T0 + s, 0.2 * (off ? 0 : 1) + mv * 0.6 + e * rng.normal(), -0.3 + mv * 0.5 + e * rng.normal(), 0.93 + mv + e * rng.normal()];
  }
}

async function writeCsv(path: string): Promise<void> {
  const out = createWriteStream(path);
  let buf: string[] = ['time,x,y,z\n'];
  for (const [t, x, y, z] of samples(HOURS)) {
    buf.push(`${new Date(Math.round(t * 1000)).toISOString()},${x.toFixed(4)},${y.toFixed(4)},${z.toFixed(4)}\n`);
    if (buf.length >= 20000) { if (!out.write(buf.join(''))) await once(out, 'drain'); buf = []; }
  }
  out.write(buf.join(''));
  out.end(); await once(out, 'finish');
}

async function writeCwa(path: string): Promise<void> {
  const out = createWriteStream(path);
  out.write(cwaHeaderBlock({ rateCode: 0x4a, start: T0 }));
  let block: number[][] = [], first = T0, seq = 0, pending: Uint8Array[] = [];
  for (const [t, x, y, z] of samples(HOURS)) {
    if (block.length === 0) first = t;
    block.push([x, y, z]);
    if (block.length === 80) {
      pending.push(cwaDataBlock({ seq: seq++, first, rateCode: 0x4a, samples: block, packing: 2, fractional: true }));
      block = [];
      if (pending.length >= 512) { if (!out.write(Buffer.concat(pending))) await once(out, 'drain'); pending = []; }
    }
  }
  if (block.length) pending.push(cwaDataBlock({ seq: seq++, first, rateCode: 0x4a, samples: block, packing: 2, fractional: true }));
  out.write(Buffer.concat(pending));
  out.end(); await once(out, 'finish');
}

async function measure(label: string, path: string, channels: Channel[]): Promise<void> {
  let peak = 0, epochs = 0;
  const cpu0 = process.cpuUsage();
  const t = performance.now();
  const s = await actigraphyFromFile(path, {
    pipeline: { channels },
    onRows: (rows) => { epochs += rows.length; },
    onProgress: () => { peak = Math.max(peak, process.memoryUsage().rss); },
  });
  const sec = (performance.now() - t) / 1000;
  const c = process.cpuUsage(cpu0);
  const cpu = (c.user + c.system) / 1e6;
  const mb = statSync(path).size / 2 ** 20;
  const rates = (d: number) => `${(s.samples / d / 1e6).toFixed(2)} M samples/s ${(epochs / d).toFixed(0).padStart(5)} epochs/s ${(mb / d).toFixed(0).padStart(3)} MB/s`;
  console.log(`${label.padEnd(30)} ${channels.join(',').padEnd(25)} wall ${sec.toFixed(1).padStart(5)} s: ${rates(sec)} | ` +
    `CPU ${cpu.toFixed(1).padStart(5)} s: ${rates(cpu)} (${(s.samples / RATE / cpu).toFixed(0)}× real time) | peak RSS ${(peak / 2 ** 20).toFixed(0)} MB` +
    ` [${s.epochs} epochs, ${s.missing} missing, ${s.nonWear} non-wear]`);
}

const csv = join(DIR, `moodlens-bench-${HOURS}h-100hz.csv`);
const cwa = join(DIR, `moodlens-bench-${HOURS}h-100hz.cwa`);
let t = performance.now();
if (!existsSync(csv)) await writeCsv(csv);
if (!existsSync(cwa)) await writeCwa(cwa);
console.log(`${HOURS} h at ${RATE} Hz = ${(HOURS * 3600 * RATE / 1e6).toFixed(2)} M samples; CSV ${(statSync(csv).size / 2 ** 20).toFixed(0)} MB, ` +
  `CWA ${(statSync(cwa).size / 2 ** 20).toFixed(0)} MB (ready in ${((performance.now() - t) / 1000).toFixed(0)} s); node ${process.version}, one core`);
t = performance.now();
for (const channels of [['zcm', 'pim'], ['zcm', 'pim', 'tat', 'counts', 'sleep']] as Channel[][]) {
  await measure('CSV (ISO times) → epochs', csv, channels);
  await measure('CWA (16-bit blocks) → epochs', cwa, channels);
}
if (!KEEP) { rmSync(csv); rmSync(cwa); }
