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
