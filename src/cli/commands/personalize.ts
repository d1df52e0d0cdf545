/**
 * `moodlens personalize --model MODEL --study DIR --participant ID [--k 10] [--out MODEL2]`:
 * fits only the participant's micro layer (a new row in every per-user table) from their first
 * k reports, leaving the shared network untouched, and reports their CCC on their later reports
 * before (macro path, or their existing layer) and after.
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { optionsFrom, parseFlags } from '../../util/flags.js';
import { UsageError } from '../../util/errors.js';
import { initNodeBackend } from '../../train/backend-node.js';
import { loadModel, saveMemberUpdate } from '../../train/model-folder.js';
import { memberDir } from '../../model/folder-node.js';
import { checkModelFits, loadDataset } from '../../train/study-node.js';
import { labelsOf, predictMembers } from '../../train/fit.js';
import { personalizeParticipant } from '../../model/personalize.js';
import { meanCCC } from '../../eval/evaluate.js';

const Flags = z.object({
  model: z.string().min(1), study: z.string().min(1), participant: z.string().min(1),
  k: z.coerce.number().int().positive().default(10),
  epochs: z.coerce.number().int().positive().default(100),
  out: z.string().optional(),
});

export function register(program: Command): void {
  const opt = optionsFrom(Flags);
  program.command('personalize')
    .description("fit one participant's micro layer from their first k reports (shared weights untouched)")
    .requiredOption('--model <dir>', 'model folder')
    .requiredOption('--study <dir>', 'study folder holding the participant\'s reports')
    .requiredOption('--participant <id>', 'participant id')
    .option(...opt('--k <n>', 'number of first reports to fit on'))
    .option(...opt('--epochs <n>', 'passes over the k reports'))
    .option('--out <dir>', 'write the personalised model here (default: update --model in place)')
    .action(async (raw: unknown) => {
      const f = parseFlags(Flags, raw, 'personalize');
      await initNodeBackend();
      const m = loadModel(f.model);
      const ds = await loadDataset(f.study, m.config.train.policy, { targets: { extra: m.items.map((i) => i.id) } });
      checkModelFits(m, ds, f.study);
      const p = ds.participantIds.indexOf(f.participant);
      if (p < 0) throw new UsageError(`personalize: participant ${f.participant} is not in ${f.study}`);
      const mine = Array.from({ length: ds.n }, (_, i) => i).filter((i) => ds.participant[i] === p).sort((a, b) => ds.time[a] - ds.time[b]);
      if (mine.length <= f.k) throw new UsageError(`personalize: ${f.participant} has ${mine.length} reports; need more than --k ${f.k}`);
      const first = Int32Array.from(mine.slice(0, f.k)), later = Int32Array.from(mine.slice(f.k));
      const K = ds.items.length;
      const before = meanCCC(labelsOf(ds, later), predictMembers(m.members, ds, later), K).mean;
      let secs = 0;
      for (const member of m.members) secs += personalizeParticipant(member, ds, f.participant, first, { epochs: f.epochs });
      const after = meanCCC(labelsOf(ds, later), predictMembers(m.members, ds, later), K).mean;
      const dir = f.out ?? f.model;
      if (f.out) cpSync(f.model, f.out, { recursive: true });
      m.members.forEach((member, j) => saveMemberUpdate(memberDir(dir, m.kind, j), member));
      console.log(`${f.participant}: fitted the micro layer on the first ${f.k} reports in ${secs.toFixed(1)} s; ` +
        `mean CCC on the later ${later.length} reports ${before.toFixed(3)} → ${after.toFixed(3)}; wrote ${dir}`);
    });
}
