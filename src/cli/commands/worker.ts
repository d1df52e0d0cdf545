/**
 * `moodlens worker --queue postgres://… --kinds experiment-row,amm-row,speech`: a worker machine. It takes jobs of
 * the kinds it is told from the job queue (pg-boss in that PostgreSQL database) until it is
 * stopped (SIGINT/SIGTERM: the runs in hand finish first; a SIGKILL loses nothing — the runs it
 * held are retried elsewhere when its heartbeat stops). Study folders are named by the paths in
 * the jobs, so every worker must see them at the same path (a shared mount).
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { optionsFrom, parseFlags } from '../../util/flags.js';
import { UsageError } from '../../util/errors.js';

const KINDS = ['experiment-row', 'amm-row', 'speech'] as const;

const Flags = z.object({
  queue: z.string().regex(/^postgres(ql)?:\/\//, 'expected a PostgreSQL URL (postgres://user@host:5432/db)'),
  kinds: z.string().default(KINDS.join(',')).transform((s, ctx) => {
    const list = s.split(',').map((k) => k.trim()).filter(Boolean);
    for (const k of list) if (!(KINDS as readonly string[]).includes(k)) ctx.addIssue({ code: 'custom', message: `unknown job kind "${k}" (kinds: ${KINDS.join(', ')})` });
    return list as Array<(typeof KINDS)[number]>;
  }),
  concurrency: z.coerce.number().int().positive().max(64).default(1),
}).strict();

export function register(program: Command): void {
  const opt = optionsFrom(Flags);
  program.command('worker')
    .description('take background jobs (experiment rows of table2/3 and of the AMM/MIMML designs, speech features of study folders) from a PostgreSQL job queue; run one per machine or core')
    .requiredOption('--queue <url>', 'PostgreSQL database of the job queue (pg-boss)')
    .option(...opt('--kinds <list>', `job kinds to take, comma-separated (of ${KINDS.join(', ')})`))
    .option(...opt('--concurrency <n>', 'runs at a time in this process, one worker thread each'))
    .action(async (raw: unknown) => {
      const f = parseFlags(Flags, raw, 'worker');
      const { PgBossEngine } = await import('../../queue/pgboss.js');
      const engine = new PgBossEngine({ connectionString: f.queue });
      try { await engine.start(); } catch (e) {
        throw new UsageError(`worker: cannot reach the job queue at ${new URL(f.queue).host} (${(e as Error).message}); check --queue`);
      }
      for (const kind of f.kinds) {
        if (kind === 'experiment-row') {
          const { experimentRowJob, experimentRowHandler } = await import('../../train/experiment-queue.js');
          await engine.work({ ...experimentRowJob, concurrency: f.concurrency }, experimentRowHandler());
        } else if (kind === 'amm-row') {
          const { seqRowJob, seqRowHandler } = await import('../../amm/experiment-queue.js');
          await engine.work({ ...seqRowJob, concurrency: f.concurrency }, seqRowHandler());
        } else if (kind === 'speech') {
          const { speechFileJob, speechFileHandler } = await import('../../io/speech-queue.js');
          await engine.work({ ...speechFileJob, concurrency: f.concurrency }, speechFileHandler());
        }
      }
      console.log(`moodlens worker: taking ${f.kinds.join(', ')} from ${new URL(f.queue).host} (${f.concurrency} at a time); Ctrl-C stops after the runs in hand`);
      await new Promise<void>((resolve) => {
        const stop = () => { console.log('moodlens worker: stopping…'); void engine.stop().then(resolve); };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
