/** One problem found in an input, located precisely enough to fix it by hand. */
export interface InputIssue {
  file: string;
  /** 1-based line in the file (the header is line 1); absent for whole-file problems. */
  line?: number;
  /** 1-based column (field position) in the CSV row, when known. */
  column?: number;
  /** Field or column name the problem is about. */
  field?: string;
  message: string;
}

export function formatIssue(i: InputIssue): string {
  const loc = [i.file, i.line, i.column].filter((x) => x !== undefined).join(':');
  return `${loc}: ${i.field ? `${i.field}: ` : ''}${i.message}`;
}

/**
 * Thrown when an input (study folder, CSV, config, audio file) is invalid; carries every issue
 * found. One issue is one line (file:line:column: field: message); several are listed.
 */
export class InputError extends Error {
  constructor(public readonly issues: InputIssue[], summary?: string) {
    super(summary ?? (issues.length === 1 ? formatIssue(issues[0]) : `${issues.length} problems found:\n` +
      issues.slice(0, 50).map((i) => '  ' + formatIssue(i)).join('\n') +
      (issues.length > 50 ? `\n  … and ${issues.length - 50} more` : '')));
    this.name = 'InputError';
  }
}

/** A file-system error (EACCES, ENOENT, …) in words: "permission denied", "no such file or folder". */
export function fsProblem(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  return code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'ENOENT' ? 'no such file or folder'
    : code === 'ENOSPC' ? 'no space left on the device' : code === 'EROFS' ? 'read-only file system'
      : code === 'ENOTDIR' ? 'a file is in the way' : code ?? String(e);
}

/** An error whose message is meant for the user as it is (bad flag, missing file): no stack trace. */
export class UsageError extends Error {
  constructor(message: string) { super(message); this.name = 'UsageError'; }
}
