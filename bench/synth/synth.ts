/**
 * Benchmark: time to write a synthetic study (default: the paper's size, 298 × 14 days, features).
 * Usage: npx tsx bench/synth/synth.ts [participants] [days] [audio|features]
 * The machine is shared (2 cores): timings are noisy.
 */
import { mkdtempSync, rmSync, statSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { synthesizeStudy } from '../../src/synth/index.js';

const [nP = '298', days = '14', speech = 'features'] = process.argv.slice(2);
const out = mkdtempSync(join(tmpdir(), 'ml-synth-bench-'));
const t0 = performance.now();
const s = await synthesizeStudy({ out, participants: Number(nP), days: Number(days), speech: speech as 'audio' | 'features', seed: 1 });
const secs = (performance.now() - t0) / 1000;
const size = (f: string) => statSync(join(out, f)).size;
let speechBytes = 0;
if (speech === 'audio') for (const f of readdirSync(join(out, 'speech'))) speechBytes += statSync(join(out, 'speech', f)).size;
console.log(JSON.stringify({
  participants: s.participants, days: s.days, speech: s.speech, reports: s.reports, activityEpochs: s.activityEpochs,
  speechRows: s.speechRows, seconds: Number(secs.toFixed(1)),
  epochsPerSecond: Math.round(s.activityEpochs / secs),
  activityCsvMB: Number((size('activity.csv') / 1e6).toFixed(1)),
  speechMB: Number((speechBytes / 1e6).toFixed(1)),
  peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
}, null, 1));
rmSync(out, { recursive: true, force: true });
