/**
 * `moodlens demo` (what `npm start` runs): the main job end to end, one readable step at a time:
 * synthesise a small study, validate it, describe it, then train the paper's model and MM's
 * benchmark, evaluate both and write a report (the modelling steps: src/train/demo-steps.ts).
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { optionsFrom, parseFlags } from '../../util/flags.js';
import { InputError } from '../../util/errors.js';
import { synthesizeStudy } from '../../synth/index.js';
import { describeStudy, validateStudy } from '../../data/index.js';
import { renderDescription } from './describe.js';
import { demoModelSteps } from '../../train/demo-steps.js';

const Flags = z.object({
  out: z.string().min(1).default('out/demo-study'),
  participants: z.coerce.number().int().positive().max(1000).default(12),
  days: z.coerce.number().int().positive().max(60).default(14),
  seed: z.coerce.number().int().default(1),
});

const step = (n: number, what: string) => console.log(`\n== ${n}. ${what}`);

export function register(program: Command): void {
  const opt = optionsFrom(Flags);
  program.command('demo')
    .description('the main job end to end on a small synthetic study: synthesise → validate → describe → train → evaluate → report')
    .option(...opt('--out <dir>', 'where the demo study is written'))
    .option(...opt('--participants <n>', 'participants in the demo study'))
    .option(...opt('--days <n>', 'days per participant'))
    .option(...opt('--seed <n>', 'random seed'))
    .action(async (raw: unknown) => {
      const f = parseFlags(Flags, raw, 'demo');

      step(1, `synthesise a study: ${f.participants} participants × ${f.days} days (seed ${f.seed}) → ${f.out}`);
      const s = await synthesizeStudy({ out: f.out, participants: f.participants, days: f.days, seed: f.seed, speech: 'features' });
      console.log(`${s.reports} reports, ${s.activityEpochs} activity epochs, ${s.speechRows} speech feature rows`);

      step(2, `validate ${f.out}`);
      const v = await validateStudy(f.out);
      if (!v.ok || !v.study) throw new InputError(v.issues, v.summary);
      console.log(v.summary);

      step(3, `describe ${f.out}`);
      console.log(renderDescription(describeStudy(v.study), 12));

      // Steps 4–7 (model): train paper + benchmark → evaluate → report (src/train/demo-steps.ts).
      await demoModelSteps(f.out, `${f.out}-models`, step, 4);
    });
}
