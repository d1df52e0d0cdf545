/**
 * Command-line flags are a boundary too: each command parses its commander options with a zod
 * schema; a bad flag becomes a UsageError naming the flag and what was expected.
 */
import type { z } from 'zod';
import { UsageError } from './errors.js';

/** "maxIssues" → "--max-issues". */
export function flagName(key: string): string {
  return '--' + key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}

export function parseFlags<S extends z.ZodType>(schema: S, opts: unknown, command?: string): z.infer<S> {
  const r = schema.safeParse(opts);
  if (r.success) return r.data;
  const msgs = r.error.issues.map((i) => `${i.path.length ? flagName(String(i.path[0])) : 'flags'}: ${i.message}`);
  throw new UsageError(`${command ? command + ': ' : ''}${msgs.join('; ')}`);
}

/** The default a flag's schema fills in when the flag is absent (undefined when it has none). */
export function flagDefault(schema: z.ZodType): unknown {
  const r = schema.safeParse(undefined);
  return r.success ? r.data : undefined;
}

/**
 * Commander options whose defaults live in the command's zod schema alone: `opt('--split <which>',
 * 'train | dev | test')` → the flags and the help text with " (default: test)" taken from the
 * schema (booleans and flags without a default get no suffix). Commander itself is given no
 * default, so an absent flag reaches zod as undefined and zod fills it in.
 */
export function optionsFrom(schema: z.ZodObject): (flags: string, description: string) => [string, string] {
  return (flags, description) => {
    const long = /--(?:no-)?([a-z0-9-]+)/.exec(flags)?.[1] ?? '';
    const key = long.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
    const field = schema.shape[key] as z.ZodType | undefined;
    if (!field) throw new Error(`option ${flags}: no field "${key}" in the command's schema`);
    const d = flagDefault(field);
    return [flags, d === undefined || typeof d === 'boolean' ? description : `${description} (default: ${Array.isArray(d) ? d.join(',') : String(d)})`];
  };
}
