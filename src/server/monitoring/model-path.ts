/**
 * Model folders are named relative to the server's models folder (`moodlens serve --models-dir`,
 * default <data-dir>/models) and are only ever read from under it.
 *
 * `resolveModelFolder` walks the name one component at a time from the models folder's real path,
 * the way realpath does, but it reads a symbolic link's target as text and checks it before
 * following it: a link that points outside (absolute or through `..`) is refused without touching
 * its target, and `..` can never climb above the models folder. Every file-system call it makes is
 * on a path inside the models folder (the property test in test/server/model-path.test.ts checks
 * this by recording the calls). Whatever the reason a name is refused — outside, missing, not a
 * folder, a loop — the caller gets the same `null`, so an error can never tell whether something
 * outside exists.
 */
import * as fs from 'node:fs';
import { isAbsolute, join, dirname, resolve, sep } from 'node:path';
import { z } from 'zod';

/** The file-system calls the resolver makes (injectable, so a test can record every path touched). */
export interface ModelFs {
  lstatSync(path: string): { isSymbolicLink(): boolean; isDirectory(): boolean };
  readlinkSync(path: string): string;
  realpathSync(path: string): string;
  readdirSync(path: string): string[];
}
const nodeFs: ModelFs = {
  lstatSync: (p) => fs.lstatSync(p),
  readlinkSync: (p) => fs.readlinkSync(p, 'utf8'),
  realpathSync: (p) => fs.realpathSync(p),
  readdirSync: (p) => fs.readdirSync(p),
};

/** Symbolic links followed while resolving one name (as Linux's MAXSYMLINKS). */
const MAX_LINKS = 40;
/** Entries of a model folder checked for links that leave the models folder. */
const MAX_ENTRIES = 10_000;

/**
 * A model name as a request gives it: a relative path (`name` or `group/name`), `/`-separated,
 * printable, without `..`. (Anything else is refused before the file system is touched.)
 */
export const ModelName = z.string().min(1).max(1024)
  .refine((s) => !/[\u0000-\u001f\u007f\\]/.test(s), 'a model name has no control characters or backslashes')
  .refine((s) => !s.startsWith('/') && !/^[A-Za-z]:/.test(s), 'name the model folder relative to the server\'s models folder (--models-dir), not by an absolute path')
  .refine((s) => !s.split('/').includes('..'), 'a model name may not contain ".."');

/** The same message for every refused name: missing, outside, not a folder — indistinguishable. */
export function modelNotFound(name: string): string {
  const shown = JSON.stringify(name.length > 120 ? `${name.slice(0, 120)}…` : name);
  return `${shown} is not a model folder under the server's models folder (--models-dir)`;
}

const inside = (root: string, p: string) => p === root || p.startsWith(root.endsWith(sep) ? root : root + sep);
const parts = (p: string) => p.split('/').filter((s) => s !== '' && s !== '.');

/**
 * The real path of the folder `name` names under `modelsDir`, or null when it is missing, not a
 * folder, lies outside `modelsDir` (by `..`, an absolute name, or a symbolic link anywhere on the
 * way), is `modelsDir` itself, or holds a symbolic link that resolves outside `modelsDir`.
 */
export function resolveModelFolder(modelsDir: string, name: string, f: ModelFs = nodeFs): string | null {
  if (typeof name !== 'string' || !ModelName.safeParse(name).success) return null;
  let root: string;
  try { root = f.realpathSync(modelsDir); } catch { return null; }
  const dir = walk(root, parts(name), f);
  if (dir === null || dir === root) return null;
  try { if (!f.lstatSync(dir).isDirectory()) return null; } catch { return null; }
  return linksStayInside(root, dir, f) ? dir : null;
}

/**
 * The real path that the components `queue` name from `root` (the models folder's real path),
 * never leaving `root`: null when a step would climb out of it, a link points outside it, a
 * component is missing, or more than MAX_LINKS links are followed.
 */
function walk(root: string, queue: string[], f: ModelFs): string | null {
  let cur = root, links = 0;
  queue = [...queue];
  while (queue.length) {
    const seg = queue.shift()!;
    if (seg === '..') {
      if (cur === root) return null; // would climb out of the models folder
      cur = dirname(cur); // cur is a real path (no links), so its parent is dirname
      continue;
    }
    if (seg.includes('\0') || seg.includes(sep)) return null;
    const next = join(cur, seg);
    if (!inside(root, next)) return null;
    let st;
    try { st = f.lstatSync(next); } catch { return null; }
    if (st.isSymbolicLink()) {
      if (++links > MAX_LINKS) return null;
      let target: string;
      try { target = f.readlinkSync(next); } catch { return null; }
      if (target.includes('\0')) return null;
      if (isAbsolute(target)) {
        // Followed only when spelled under the models folder's real path; the rest is walked.
        if (!inside(root, target)) return null;
        cur = root;
        queue = [...parts(target.slice(root.length)), ...queue];
      } else {
        queue = [...parts(target), ...queue]; // relative to the link's folder (cur)
      }
      continue;
    }
    if (queue.length && !st.isDirectory()) return null;
    cur = next;
  }
  return cur;
}

/** Every symbolic link in the model folder (what the loader may read) resolves inside `root`. */
function linksStayInside(root: string, dir: string, f: ModelFs): boolean {
  const stack = [dir];
  let seen = 0;
  while (stack.length) {
    const d = stack.pop()!;
    let names: string[];
    try { names = f.readdirSync(d); } catch { return false; }
    for (const n of names) {
      if (++seen > MAX_ENTRIES) return false;
      const p = join(d, n);
      let st;
      try { st = f.lstatSync(p); } catch { return false; }
      if (st.isSymbolicLink()) { if (walk(root, p.slice(root.length).split(sep).filter(Boolean), f) === null) return false; }
      else if (st.isDirectory()) stack.push(p);
    }
  }
  return true;
}

/** A name as it is stored: `/`-separated, without empty or `.` components ("./a//b/" → "a/b"). */
export function normaliseModelName(name: string): string { return parts(name).join('/'); }

/**
 * A model_dir stored before --models-dir existed (an absolute path): its name relative to
 * `modelsDir` when it lies under it (spelled under the folder as given or under its real path) and
 * resolves there; null otherwise. The stored path itself is never touched.
 */
export function legacyModelName(modelsDir: string, stored: string, f: ModelFs = nodeFs): string | null {
  if (!isAbsolute(stored)) return null;
  const bases = [resolve(modelsDir)];
  try { bases.push(f.realpathSync(modelsDir)); } catch { return null; }
  for (const base of bases) {
    if (!inside(base, stored) || stored === base) continue;
    const name = stored.slice(base.length).split(sep).filter((s) => s !== '' && s !== '.').join('/');
    if (name && resolveModelFolder(modelsDir, name, f)) return name;
  }
  return null;
}
