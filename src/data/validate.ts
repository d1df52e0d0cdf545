/** `validateStudy`: load a study folder and summarise it in one line, or list what is wrong. */
import { formatIssue, type InputIssue } from '../util/errors.js';
import { loadStudy, type LoadedStudy, type LoadOptions } from './load.js';
import { absentModalities, assembleInstances } from './build.js';

export interface ValidateOptions extends LoadOptions {
  /** A declared modality that no report has is a warning (a note), not a problem. */
  allowMissingModality?: boolean;
}

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

export async function validateStudy(dir: string, opts: ValidateOptions = {}): Promise<ValidationResult> {
  const loaded = await loadStudy(dir, opts);
  const { study } = loaded;
  let { issues, totalIssues } = loaded;
  if (study && totalIssues === 0) {
    // Speech recordings whose features are not computed yet are a step still to take (a note
    // says so), not a problem of the folder.
    const pending = study.config.speech.kind === 'audio' && !study.speechFeatures;
    const absent = absentModalities(assembleInstances(study)).filter((i) => !(pending && i.field === 'speech'));
    if (opts.allowMissingModality) study.notes.push(...absent.map((i) => `warning: ${formatIssue(i)}`));
    else { issues = absent; totalIssues = absent.length; }
  }
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
