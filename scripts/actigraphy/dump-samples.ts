/**
 * Dump the samples a reader gives for a raw accelerometer file as CSV (t,x,y,z with t in UTC
 * seconds; values with full double precision), for comparing with a reference reader:
 *
 *   npx tsx scripts/actigraphy/dump-samples.ts FILE [OUT.csv] [--fill last|zero|none] [--timezone ZONE]
 *
 * Without OUT.csv it prints the count and the first samples.
 */
import { createWriteStream } from 'node:fs';
import { openAccelFile } from '../../src/io/actigraphy-node.js';
import type { Gt3xFill } from '../../src/signal/actigraphy/index.js';

const args = process.argv.slice(2);
const opt = (k: string) => { const i = args.indexOf(k); if (i < 0) return undefined; const v = args[i + 1]; args.splice(i, 2); return v; };
const fill = opt('--fill') as Gt3xFill | undefined;
const timezone = opt('--timezone');
const [file, out] = args;
if (!file) { console.error('usage: dump-samples.ts FILE [OUT.csv] [--fill last|zero|none] [--timezone ZONE]'); process.exit(2); }
const reader = await openAccelFile(file, { reader: { fill, timezone } });
const w = out ? createWriteStream(out) : null;
let n = 0;
const head: string[] = [];
for await (const c of reader.chunks()) {
  let s = '';
  for (let i = 0; i < c.n; i++) {
    const line = `${c.t[i]},${c.x[i]},${c.y[i]},${c.z[i]}\n`;
    if (w) s += line; else if (head.length < 5) head.push(line);
  }
  n += c.n;
  if (w && !w.write(s)) await new Promise((r) => w.once('drain', r));
}
if (w) await new Promise((r) => w.end(r));
console.error(JSON.stringify({ file, samples: n, info: reader.info }));
if (!w) process.stdout.write(head.join(''));
