/**
 * Paths the server deletes, writes, tars or serves are built here and checked to lie inside the
 * folder they belong to. A path segment is never a user's word: it is a server-made id that
 * matches SEGMENT, and the joined path is resolved and checked to be strictly inside its root —
 * so neither "..", "." nor a separator in a stored value can make a path reach outside.
 */
import { isAbsolute, relative, resolve } from 'node:path';

/** What a server-made path segment (study id, job id) may look like. */
const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

export class PathEscapeError extends Error {}

/** Is `p` (resolved) strictly inside `root` (resolved)? */
export function isInside(root: string, p: string): boolean {
  const rel = relative(resolve(root), resolve(p));
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

/**
 * `root/seg1/seg2/…`, each segment a server-made id (SEGMENT), the result strictly inside `root`.
 * Throws PathEscapeError otherwise (a bug or a tampered row, never a user error).
 */
export function insideFolder(root: string, ...segments: string[]): string {
  for (const s of segments) if (!SEGMENT.test(s)) throw new PathEscapeError(`refused path segment ${JSON.stringify(s.slice(0, 40))}`);
  const p = resolve(root, ...segments);
  if (!isInside(root, p)) throw new PathEscapeError(`refused path outside ${root}`);
  return p;
}
