/** `moodlens validate DIR`: check a study folder; exit 1 with every problem as file:line:column: field: message. */
import type { Command } from 'commander';
import { z } from 'zod';
import { formatIssue } from '../../util/errors.js';
import { optionsFrom, parseFlags } from '../../util/flags.js';
import { validateStudy } from '../../data/index.js';

const Flags = z.object({
  maxIssues: z.coerce.number().int().positive().default(1000),
  json: z.boolean().default(false),
  allowMissingModality: z.boolean().default(false),
});

export function register(program: Command): void {
  const opt = optionsFrom(Flags);
  program.command('validate')
    .description('check a study folder (docs/data.md); exit code 1 and the full list of problems when it is not valid')
    .argument('<dir>', 'study folder (study.json, participants.csv, reports.csv, activity.csv, …)')
    .option(...opt('--max-issues <n>', 'list at most this many problems (all are counted)'))
    .option('--json', 'print the result as JSON')
    .option('--allow-missing-modality', 'a declared modality that no report has (e.g. no complete activity window at the declared epoch length) is a warning, not a problem')
    .action(async (dir: string, raw: unknown) => {
      const flags = parseFlags(Flags, raw, 'validate');
      const v = await validateStudy(dir, { maxIssues: flags.maxIssues, allowMissingModality: flags.allowMissingModality });
      if (flags.json) {
        console.log(JSON.stringify({ ok: v.ok, summary: v.summary, totalIssues: v.totalIssues, issues: v.issues }, null, 2));
      } else if (v.ok) {
        console.log(v.summary);
        for (const n of v.study?.notes ?? []) console.log(`note: ${n}`);
      } else {
        for (const i of v.issues) console.log(formatIssue(i));
        if (v.totalIssues > v.issues.length) console.log(`… and ${v.totalIssues - v.issues.length} more`);
        console.log(v.summary);
      }
      if (!v.ok) process.exitCode = 1;
    });
}
