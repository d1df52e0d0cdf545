/**
 * `moodlens features DIR`: eGeMAPS v02 features of every recording listed in DIR/speech.csv
 * (report_id,file) → DIR/speech_features.csv, on worker threads with a cache
 * (src/io/speech-study.ts). Rejected recordings are listed with their reason (stderr and
 * DIR/speech_rejected.csv) and left out of the features file. With `--queue postgres://…` each
 * recording is a job for `moodlens worker --kinds speech` processes (src/io/speech-queue.ts).
 */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { UsageError } from '../../util/errors.js';
import { parseFlags } from '../../util/flags.js';
import { STUDY_FILES } from '../../data/study.js';
import { computeStudyFeatures } from '../../io/speech-study.js';

/** The command's flags (commander gives strings; zod checks and converts). */
export const FeaturesFlags = z.object({
  workers: z.coerce.number().int().min(1).max(64).optional(),
  lld: z.string().min(1).optional(),
  denoise: z.boolean().optional(),
  vad: z.boolean().optional(),
  cache: z.boolean().optional(),
  queue: z.string().regex(/^postgres(ql)?:\/\//, 'expected a PostgreSQL URL (postgres://user@host:5432/db)').optional(),
});

export function register(program: Command): void {
  program.command('features')
    .description('compute eGeMAPS v02 speech features for every recording of a study (speech.csv → speech_features.csv)')
    .argument('<dir>', 'study folder')
    .option('--workers <n>', 'worker threads (default: 2)')
    .option('--lld <dir>', 'also write the frame-level descriptors (10 ms) of each report to <dir>/<report_id>.csv')
    .option('--denoise', 'spectral-subtraction denoising before feature extraction')
    .option('--vad', 'cut leading/trailing silence with the energy VAD first (off by default: parity with openSMILE)')
    .option('--no-cache', 'recompute every file (ignore DIR/.cache/speech)')
    .option('--queue <url>', 'compute on `moodlens worker --kinds speech` processes through this PostgreSQL job queue instead of local threads (the recordings must be readable by every worker at the same path)')
    .action(async (dir: string, raw: unknown) => {
      const o = parseFlags(FeaturesFlags, raw, 'features');
      if (!existsSync(dir)) throw new UsageError(`study folder not found: ${dir}`);
      let engine: import('../../queue/pgboss.js').PgBossEngine | undefined;
      if (o.queue) {
        const { PgBossEngine } = await import('../../queue/pgboss.js');
        engine = new PgBossEngine({ connectionString: o.queue });
        await engine.start().catch((e) => { throw new UsageError(`features: cannot reach the job queue at ${new URL(o.queue!).host} (${(e as Error).message}); check --queue`); });
      }
      let s: Awaited<ReturnType<typeof computeStudyFeatures>>;
      try { s = await computeStudyFeatures(dir, { ...o, engine }); } finally { await engine?.stop(); }
      for (const r of s.rejected) console.error(`rejected ${r.report_id} (${r.file}): ${r.reason}: ${r.message}`);
      console.log(`${s.ok}/${s.total} recordings → ${join(dir, STUDY_FILES.speechFeatures)} (${s.cached} from cache, ${s.rejected.length} rejected${s.rejected.length ? ' → ' + join(dir, 'speech_rejected.csv') : ''})`);
    });
}
