/**
 * zod issues of a file the user wrote (study.json, a config, a tasks file) as InputIssues that
 * say where and what to do: an unknown key (schemas are strict) names the known key it is
 * closest to — `unknown key "epochSecond" at activity — did you mean "epochSeconds"?`.
 */
import type { z } from 'zod';
import type { InputIssue } from './errors.js';
import { closestName } from './suggest.js';

type Def = { type: string; shape?: Record<string, z.ZodType>; innerType?: z.ZodType; in?: z.ZodType; element?: z.ZodType; valueType?: z.ZodType; options?: z.ZodType[] };
const defOf = (s: z.ZodType) => (s as unknown as { _zod: { def: Def } })._zod.def;

/** The object schemas a value at `path` is checked against (several for a union). */
function objectsAt(schema: z.ZodType, path: PropertyKey[]): Def[] {
  const d = defOf(schema);
  const inner = d.innerType ?? (d.type === 'pipe' ? d.in : undefined);
  if (inner) return objectsAt(inner, path);
  if (d.type === 'union') return (d.options ?? []).flatMap((o) => objectsAt(o, path));
  if (path.length === 0) return d.type === 'object' ? [d] : [];
  const [head, ...rest] = path;
  if (d.type === 'object') return d.shape?.[String(head)] ? objectsAt(d.shape[String(head)], rest) : [];
  if (d.type === 'array' && d.element) return objectsAt(d.element, rest);
  if (d.type === 'record' && d.valueType) return objectsAt(d.valueType, rest);
  return [];
}

/** The keys a schema knows for the object at `path`. */
export function knownKeys(schema: z.ZodType, path: PropertyKey[]): string[] {
  return [...new Set(objectsAt(schema, path).flatMap((d) => Object.keys(d.shape ?? {})))];
}

/** Every issue of a failed parse of `file` against `schema`, unknown keys with a suggestion. */
export function schemaIssues(schema: z.ZodType, error: z.ZodError, file: string): InputIssue[] {
  return error.issues.flatMap((i): InputIssue[] => {
    const at = i.path.join('.');
    if (i.code !== 'unrecognized_keys') return [{ file, field: at || undefined, message: i.message }];
    const known = knownKeys(schema, i.path);
    return i.keys.map((k) => {
      const near = closestName(k, known);
      return { file, message: `unknown key "${k}"${at ? ` at ${at}` : ''} — ${near ? `did you mean "${near}"?` : `expected one of: ${known.join(', ')}`}` };
    });
  });
}
