/** `validateStudy`: load a study folder and summarise it in one line, or list what is wrong. */
import type { InputIssue } from '../util/errors.js';
import { loadStudy, type LoadedStudy, type LoadOptions } from './load.js';

export interface ValidationResult {
  ok: boolean;
  /** Issues kept (at most maxIssues, default 1000). */
  issues: InputIssue[];
  /** All issues found. */
  totalIssues: number;
  study: LoadedStudy | null;
  /** One line: what the study holds (when ok) or how many problems were found. */
  summary: string;
}

export async function validateStudy(dir: string, opts: LoadOptions = {}): Promise<ValidationResult> {
  const { study, issues, totalIssues } = await loadStudy(dir, opts);
  const ok = study !== null && totalIssues === 0;
  let summary: string;
  if (ok && study) {
    const c = study.config;
    summary = `OK ${c.name}: ${study.participants.length} participants, ${study.reports.n} reports, ` +
      `${study.activityEpochs} activity epochs (${c.activity.channels.join(', ')} every ${c.activity.epochSeconds} s), ` +
      `${c.items.length} items, speech ${c.speech.kind}` +
      (study.speechFeatures ? ` (${study.speechFeatures.names.length} features for ${study.speechFeatures.byReport.size} reports)` : '');
  } else {
    summary = `${totalIssues} problem${totalIssues === 1 ? '' : 's'} found` +
      (totalIssues > issues.length ? ` (first ${issues.length} listed)` : '');
  }
  return { ok, issues, totalIssues, study, summary };
}
