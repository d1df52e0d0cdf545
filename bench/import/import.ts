/**
 * Import benchmark: a 298-participant, 14-day synthetic study (≈20,000 reports, ≈6 million
 * one-minute activity epochs) is validated (streaming every CSV) and turned into instances
 * (buildDataset, both policies). Prints wall time per step and peak memory (maxRSS).
 *
 *   npx tsx bench/import/import.ts [--dir DIR] [--participants 298] [--days 14]
 *
 * The study is synthesised once into DIR (default: $TMPDIR/moodlens-bench-import-298x14) in a
 * child process, so the import's peak memory is measured alone. The machine is shared: timings
 * are noisy.
 */
import { existsSync, statSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { parseFlags } from '../../src/util/flags.js';
import { validateStudy, buildDataset } from '../../src/data/index.js';
import { synthesizeStudy } from '../../src/synth/index.js';

const Flags = z.object({
  dir: z.string().optional(),
  participants: z.coerce.number().int().positive().default(298),
  days: z.coerce.number().int().positive().default(14),
  synthOnly: z.boolean().default(false),
});

function parseArgs(argv: string[]): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i].replace(/^--/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    if (k === 'synthOnly') o[k] = true; else o[k] = argv[++i];
  }
  return o;
}

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
const maxRss = () => process.resourceUsage().maxRSS * 1024;

async function main(): Promise<void> {
  const f = parseFlags(Flags, parseArgs(process.argv.slice(2)), 'bench import');
  const dir = f.dir ?? join(tmpdir(), `moodlens-bench-import-${f.participants}x${f.days}`);
  if (f.synthOnly) {
    const t = performance.now();
    const s = await synthesizeStudy({ out: dir, participants: f.participants, days: f.days, speech: 'features' });
    console.log(`synthesised ${dir}: ${s.reports} reports, ${s.activityEpochs} epochs in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    return;
  }
  if (!existsSync(join(dir, 'study.json'))) {
    const script = fileURLToPath(import.meta.url);
    const r = spawnSync(process.execPath, [...process.execArgv, script, '--synth-only', '--dir', dir,
      '--participants', String(f.participants), '--days', String(f.days)], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error('synthesis failed');
  }
  const size = readdirSync(dir).filter((n) => n.endsWith('.csv')).reduce((a, n) => a + statSync(join(dir, n)).size, 0);
  console.log(`study ${dir}: CSV files ${mb(size)} (activity.csv ${mb(statSync(join(dir, 'activity.csv')).size)})`);
  console.log(`before import: rss ${mb(process.memoryUsage().rss)}, maxRSS ${mb(maxRss())}`);

  let t = performance.now();
  const cpu0 = process.cpuUsage();
  const v = await validateStudy(dir);
  const tValidate = (performance.now() - t) / 1000;
  const cpu = process.cpuUsage(cpu0);
  if (!v.ok || !v.study) throw new Error(`study does not validate: ${v.summary}`);
  console.log(`validate (stream + check every row): ${tValidate.toFixed(1)} s wall, ${(cpu.user / 1e6).toFixed(1)} s user + ${(cpu.system / 1e6).toFixed(1)} s system CPU — ${v.summary}`);
  const mem = process.memoryUsage();
  console.log(`  after validate: heapUsed ${mb(mem.heapUsed)}, arrayBuffers ${mb(mem.arrayBuffers)}, rss ${mb(mem.rss)}, maxRSS ${mb(maxRss())}`);

  for (const policy of ['complete', 'masked'] as const) {
    t = performance.now();
    const b = await buildDataset(v.study, { policy });
    const tb = (performance.now() - t) / 1000;
    console.log(`buildDataset ${policy}: ${tb.toFixed(2)} s — ${b.dataset.n} instances; dropped ${JSON.stringify(b.dropped)}`);
  }
  t = performance.now();
  const again = await buildDataset(dir, { policy: 'complete' });
  const tAll = (performance.now() - t) / 1000;
  console.log(`buildDataset(dir) from scratch (validate + build): ${tAll.toFixed(1)} s — ${again.dataset.n} instances`);
  console.log(`peak memory (maxRSS) of the whole run: ${mb(maxRss())}; node ${process.version}`);
}

main().catch((e) => { console.error(e); process.exitCode = 1; });
