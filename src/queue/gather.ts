/**
 * Send a batch of keyed jobs of one kind and gather their outputs as they finish (any order): what
 * a sender of experiment rows does (`moodlens experiment … --queue`). A job already sent by an
 * earlier invocation with the same key is not sent twice: its job is waited for (and its kept
 * output read). A job that failed for good is retried once more by this invocation, unless its
 * error matches `noRetry` (a refusal that a retry cannot change, such as a changed study).
 */
import { keyId, type JobEngine, type JobKind } from './engine.js';

export interface GatherItem<P> { payload: P; key: string; label: string }

export async function sendAndGather<P>(engine: JobEngine, kind: JobKind<P>, items: Array<GatherItem<P>>,
  onDone: (output: unknown, item: GatherItem<P>) => void | Promise<void>,
  opts: { pollMs?: number; noRetry?: RegExp } = {}): Promise<void> {
  const pending = new Map<string, GatherItem<P>>();
  for (const item of items) {
    const id = (await engine.send(kind, item.payload, { key: item.key })) ?? keyId(kind.name, item.key);
    pending.set(id, item);
  }
  const retried = new Set<string>();
  const errors: string[] = [];
  while (pending.size > 0) {
    for (const [id, item] of [...pending]) {
      const r = await engine.result(kind as JobKind<unknown>, id);
      if (r.state === 'completed') { pending.delete(id); await onDone(r.output, item); }
      else if (r.state === 'failed') {
        const msg = (r.output as { message?: string } | undefined)?.message ?? 'failed';
        if (!retried.has(id) && !(opts.noRetry?.test(msg))) {
          retried.add(id);
          await engine.retry(kind as JobKind<unknown>, id);
          continue;
        }
        pending.delete(id); errors.push(`${item.label}: ${msg}`);
      }
    }
    if (pending.size > 0) await new Promise((r) => setTimeout(r, opts.pollMs ?? 1000));
  }
  if (errors.length) throw new Error(`${errors.length} ${kind.name} job(s) failed:\n${errors.join('\n')}`);
}
