/**
 * `moodlens synth --out DIR` — write a synthetic study folder (with ground_truth/) from a seed.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { optionsFrom } from '../../util/flags.js';
import { synthesizeStudy } from '../../synth/index.js';
import { progress } from '../../util/progress.js';
import { UsageError } from '../../util/errors.js';
import { STUDY_FILES } from '../../data/study.js';

const FlagsSchema = z.object({
  out: z.string().min(1),
  participants: z.coerce.number().int().min(1).max(100_000).default(298),
  days: z.coerce.number().int().min(1).max(365).default(14),
  seed: z.coerce.number().int().min(0).max(0xffffffff).default(1),
  speech: z.enum(['audio', 'features']).default('features'),
});

export function register(program: Command): void {
  const opt = optionsFrom(FlagsSchema);
  program
    .command('synth')
    .description('Write a synthetic study (the paper\'s protocol, latent mood, actigraphy, voice, missingness) with its ground truth')
    .requiredOption('--out <dir>', 'study folder to write (new, or a previous study to overwrite)')
    .option(...opt('--participants <n>', 'number of participants'))
    .option(...opt('--days <n>', 'study days per participant'))
    .option(...opt('--seed <n>', 'random seed (same seed → byte-identical files)'))
    .option(...opt('--speech <kind>', 'speech as "features" (eGeMAPS-named functionals) or "audio" (one 16 kHz WAV per report, '
      + '≈100 kB each: ≈1.5 GB for 298 participants × 14 days — use audio for smaller studies)'))
    .addHelpText('after', `
Writes study.json, participants.csv, reports.csv, activity.csv, speech_features.csv or speech.csv + speech/,
and ground_truth/ (latent states, couplings, voice parameters, gaps, sleep). See docs/synth.md.

Examples:
  moodlens synth --out study                       # the paper's size, 298 × 14 days, features
  moodlens synth --out small --participants 8 --days 5 --speech audio --seed 7`)
    .action(async (raw: Record<string, string>) => {
      const parsed = FlagsSchema.safeParse(raw);
      if (!parsed.success) {
        throw new UsageError(parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; '));
      }
      const f = parsed.data;
      if (existsSync(f.out) && readdirSync(f.out).length > 0 && !existsSync(join(f.out, STUDY_FILES.config))) {
        throw new UsageError(`${f.out} is not empty and is not a study folder; choose a new --out`);
      }
      const bar = progress('synth', f.participants);
      const t0 = performance.now();
      const s = await synthesizeStudy({ ...f, onProgress: (done) => bar.update(done) });
      bar.stop();
      const secs = ((performance.now() - t0) / 1000).toFixed(1);
      console.log(`wrote ${s.out}: ${s.participants} participants × ${s.days} days, ${s.reports} reports, `
        + `${s.activityEpochs} activity epochs, ${s.speechRows} speech ${s.speech === 'audio' ? 'files' : 'rows'} `
        + `(${s.corruptRecordings} deliberately corrupt) in ${secs} s`);
    });
}
