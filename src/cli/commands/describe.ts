/**
 * `moodlens describe DIR`: participants, reports, compliance per participant, missingness per
 * modality, item means and SDs, and the instances each missing-data policy keeps (and why the
 * others were dropped), as tables.
 */
import type { Command } from 'commander';
import Table from 'cli-table3';
import { z } from 'zod';
import { InputError, formatIssue } from '../../util/errors.js';
import { optionsFrom, parseFlags } from '../../util/flags.js';
import { describeStudy, loadStudy, type StudyDescription } from '../../data/index.js';

const Flags = z.object({
  participants: z.coerce.number().int().min(0).default(20),
  json: z.boolean().default(false),
});

const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(1)} %` : '–');
const num = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '–');

function table(head: string[]): Table.Table {
  return new Table({ head, style: { head: [], border: [], compact: true } });
}

/** The description as text tables; `maxParticipants` rows of the compliance table (0 = all). */
export function renderDescription(d: StudyDescription, maxParticipants = 20): string {
  const out: string[] = [];
  const s = new Table({ head: ['study', d.name], colWidths: [18, 72], wordWrap: true, style: { head: [], border: [], compact: true } });
  s.push(['participants', String(d.participants)], ['reports', String(d.reports)],
    ['activity epochs', `${d.activityEpochs} (${d.epochSeconds} s each; window ${d.windowEpochs} epochs)`],
    ['channels', d.channels.join(', ')],
    ['speech', d.speechKind + (d.speechFeatures ? ` (${d.speechFeatures} features)` : '')]);
  out.push(s.toString());

  const sched = d.complianceMode === 'schedule';
  const c = table(['participant', 'time zone', 'reports', 'answered', 'days', ...(sched ? ['scheduled answered/expected', 'compliance'] : []), 'reports/day', 'wake', 'bed']);
  const rows = maxParticipants > 0 ? d.compliance.slice(0, maxParticipants) : d.compliance;
  for (const p of rows) {
    c.push([p.participant, p.timezone, p.reports, p.answered, p.days,
      ...(sched ? [`${p.scheduledAnswered}/${p.scheduledExpected}`, pct(p.compliance)] : []), num(p.reportsPerDay), p.wake, p.bed].map(String));
  }
  const vals = d.compliance.map((p) => (sched ? p.compliance : p.reportsPerDay)).filter(Number.isFinite);
  const mean = vals.reduce((a, b) => a + b, 0) / (vals.length || 1);
  const fmt = sched ? pct : (x: number) => num(x);
  out.push(`Compliance per participant (${sched ? 'answered scheduled prompts / expected' : 'answered reports per day'}):`);
  out.push(c.toString());
  if (rows.length < d.compliance.length) out.push(`… ${d.compliance.length - rows.length} more participants (--participants 0 shows all)`);
  if (vals.length) out.push(`mean ${fmt(mean)}, min ${fmt(Math.min(...vals))}, max ${fmt(Math.max(...vals))} over ${vals.length} participants`);

  const m = table(['modality', 'reports incomplete', 'share of reports', 'values missing']);
  for (const x of d.missingness) m.push([x.modality, String(x.incompleteReports), pct(x.incompleteFraction), x.missingValueFraction === undefined ? '' : pct(x.missingValueFraction)]);
  out.push('Missingness per modality (activity: any epoch of the window missing; speech: no usable features; items: not all answered):');
  out.push(m.toString());

  const it = table(['item', 'range', 'answered', 'mean', 'SD']);
  for (const x of d.items) it.push([x.id, `${x.min}–${x.max}`, String(x.answered), num(x.mean), num(x.sd)]);
  out.push('Items (raw scale):');
  out.push(it.toString());

  if (d.instruments?.length) {
    const q = table(['questionnaire', 'reports', 'score', 'range', 'scored', 'mean', 'SD', 'severity bands']);
    for (const ins of d.instruments) {
      if (!ins.scores.length) q.push([ins.label, String(ins.reports), '–', '', '', '', '', '']);
      for (const s of ins.scores) q.push([ins.label, String(ins.reports), s.id, `${s.min}–${s.max}`, String(s.answered), num(s.mean), num(s.sd), s.bands ? Object.entries(s.bands).map(([b, n]) => `${b}: ${n}`).join('\n') : '']);
    }
    out.push('Questionnaires (docs/study-design.md):');
    out.push(q.toString());
  }

  const p = table(['policy', 'instances kept', 'dropped', 'why dropped (first reason that applies)']);
  for (const [name, r] of Object.entries(d.policies)) {
    const dropped = Object.values(r.dropped).reduce((a, b) => a + b, 0);
    p.push([name, String(r.kept), String(dropped), Object.entries(r.dropped).map(([k, v]) => `${k}: ${v}`).join('\n') || '–']);
  }
  out.push('Instances (complete = every modality whole and every item answered, the paper; masked = at least one item answered):');
  out.push(p.toString());
  for (const n of d.notes) out.push(`note: ${n}`);
  return out.join('\n');
}

export function register(program: Command): void {
  const opt = optionsFrom(Flags);
  program.command('describe')
    .description('summarise a study: participants, reports, compliance, missingness, items, instances per policy')
    .argument('<dir>', 'study folder')
    .option(...opt('--participants <n>', 'rows of the per-participant compliance table (0 = all)'))
    .option('--json', 'print the description as JSON')
    .action(async (dir: string, raw: unknown) => {
      const flags = parseFlags(Flags, raw, 'describe');
      const res = await loadStudy(dir);
      if (!res.study || res.totalIssues > 0) throw new InputError(res.issues, `${dir} is not a valid study (${res.totalIssues} problems; run \`moodlens validate ${dir}\` for the list):\n` +
        res.issues.slice(0, 10).map((i) => '  ' + formatIssue(i)).join('\n'));
      const d = describeStudy(res.study);
      console.log(flags.json ? JSON.stringify(d, null, 2) : renderDescription(d, flags.participants));
    });
}
