/** `moodlens convert lifesnaps --in daily.csv --out DIR`: real-data converters into a study folder. */
import type { Command } from 'commander';
import { z } from 'zod';
import { optionsFrom, parseFlags } from '../../util/flags.js';
import { UsageError } from '../../util/errors.js';
import { existsSync } from 'node:fs';
import { convertLifeSnaps, DEFAULT_LIFESNAPS_CHANNELS, LIFESNAPS_NUMERIC } from '../../data/lifesnaps.js';
import { validateStudy } from '../../data/index.js';

const LifeSnapsFlags = z.object({
  in: z.string().min(1),
  out: z.string().min(1),
  channels: z.string().optional()
    .transform((s) => (s ? s.split(',').map((c) => c.trim()).filter(Boolean) : [...DEFAULT_LIFESNAPS_CHANNELS]))
    .pipe(z.array(z.enum(LIFESNAPS_NUMERIC, { message: `expected a comma-separated list of: ${LIFESNAPS_NUMERIC.join(', ')}` })).min(1)),
  windowDays: z.coerce.number().int().positive().max(60).default(7),
  reportTime: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected HH:MM').default('22:00'),
});

export function register(program: Command): void {
  const opt = optionsFrom(LifeSnapsFlags);
  const convert = program.command('convert').description('convert a real data set into a study folder');
  convert.command('lifesnaps')
    .description('LifeSnaps daily.csv (Fitbit daily measures + 7 SEMA mood labels) → study folder: items = the 7 moods (0–1), ' +
      'one activity epoch per day, one report per answered day at a fixed local time')
    .requiredOption('--in <file>', 'LifeSnaps daily.csv (e.g. ../shared/data/lifesnaps/daily.csv)')
    .requiredOption('--out <dir>', 'study folder to write')
    .option('--channels <list>', `daily measures as channels, comma-separated (default ${DEFAULT_LIFESNAPS_CHANNELS.join(',')})`)
    .option(...opt('--window-days <n>', 'days of daily measures before each report'))
    .option(...opt('--report-time <HH:MM>', 'local clock time given to each day\'s report'))
    .action(async (raw: unknown) => {
      const f = parseFlags(LifeSnapsFlags, raw, 'convert lifesnaps');
      if (!existsSync(f.in)) throw new UsageError(`convert lifesnaps: --in ${f.in}: no such file`);
      const r = await convertLifeSnaps({ input: f.in, out: f.out, channels: f.channels, windowDays: f.windowDays, reportTime: f.reportTime });
      console.log(`wrote ${f.out}: ${r.participants} participants, ${r.reports} reports (answered days), ${r.epochs} daily epochs, from ${r.rowsRead} rows`);
      const v = await validateStudy(f.out, { progress: false });
      console.log(v.summary);
      if (!v.ok) process.exitCode = 1;
    });
}
