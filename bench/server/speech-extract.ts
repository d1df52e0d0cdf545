/**
 * Speech features on the server: milliseconds per recording on the extraction worker thread
 * (src/server/jobs/speech-worker.ts), over the synthesizer's voiced utterances (≈ 2–3.5 s, 16 kHz).
 *   npx tsx bench/server/speech-extract.ts [--n 40]
 * Prints the per-recording times the worker reports (first one separately: JIT warm-up).
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { synthesizeStudy } from '../../src/synth/index.js';
import { spawnWorker } from '../../src/util/spawn-worker.js';

const n = Number(process.argv[process.argv.indexOf('--n') + 1] || 40);
const dir = mkdtempSync(join(tmpdir(), 'moodlens-speech-bench-'));
const days = Math.ceil(n / 4);
await synthesizeStudy({ out: dir, participants: 1, days, seed: 9, speech: 'audio' });
const files = readdirSync(join(dir, 'speech')).filter((f) => f.endsWith('.wav')).sort().slice(0, n).map((f) => join(dir, 'speech', f));
const w = spawnWorker(import.meta.url, '../../src/server/jobs/speech-worker');
const results: { ok: boolean; ms: number; reason?: string }[] = [];
await new Promise<void>((resolve) => {
  let next = 0;
  const send = () => { if (next < files.length) w.postMessage({ id: next, path: files[next++] }); else resolve(); };
  w.on('message', (m: any) => { if (m.ready) { send(); return; } results.push(m); send(); });
});
await w.terminate();
rmSync(dir, { recursive: true, force: true });
const ms = results.slice(1).map((r) => r.ms).sort((a, b) => a - b);
const q = (p: number) => ms[Math.min(ms.length - 1, Math.floor(p * ms.length))];
console.log(`${results.length} recordings (${results.filter((r) => r.ok).length} usable, ${results.filter((r) => !r.ok).length} rejected); first ${results[0].ms.toFixed(0)} ms`);
console.log(`after the first: mean ${(ms.reduce((a, b) => a + b, 0) / ms.length).toFixed(0)} ms, p50 ${q(0.5).toFixed(0)} ms, p90 ${q(0.9).toFixed(0)} ms, max ${ms[ms.length - 1].toFixed(0)} ms per recording`);
