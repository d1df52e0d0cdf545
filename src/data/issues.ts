/**
 * Collects every problem found in a study (not only the first), capped so that a file with a
 * million bad rows does not exhaust memory; `total` still counts them all.
 */
import type { z } from 'zod';
import type { InputIssue } from '../util/errors.js';

export const DEFAULT_ISSUE_CAP = 1000;

export class IssueList {
  readonly issues: InputIssue[] = [];
  /** Every issue found, including those beyond the cap. */
  total = 0;
  constructor(readonly cap = DEFAULT_ISSUE_CAP) {}

  add(issue: InputIssue): void {
    this.total++;
    if (this.issues.length < this.cap) this.issues.push(issue);
  }

  /** Issues found but not kept (beyond the cap). */
  get omitted(): number { return this.total - this.issues.length; }

  /** Add each zod issue of one CSV row, locating it by the header's column position. */
  addZod(file: string, line: number, header: readonly string[], error: z.ZodError): void {
    for (const zi of error.issues) {
      const field = zi.path.length > 0 ? String(zi.path[0]) : undefined;
      const col = field === undefined ? -1 : header.indexOf(field);
      this.add({ file, line, column: col >= 0 ? col + 1 : undefined, field, message: zi.message });
    }
  }
}
