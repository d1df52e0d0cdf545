/**
 * Speech features of a study folder on a job queue (`moodlens features DIR --queue postgres://…`
 * and `moodlens worker --kinds speech`): each recording is one "speech" job whose payload names
 * the file by a path every worker can read, its sha-256 and the pipeline options. A worker checks
 * the hash before it computes (a file changed after it was enqueued is refused, not silently
 * mixed), computes on a worker thread (the process keeps beating while the thread works) and
 * returns the result as the job's output; the sender stores each result in the folder's cache as
 * it arrives, so a sender started again waits only for what is missing. The computation is
 * `moodlens features`' own (featuresForFile), so the queue gives the file the local run gives.
 */
import { z } from 'zod';
import { defineJob, keyId, payloadKey, type JobEngine } from '../queue/engine.js';
import { featuresForFile, sha256File, SPEECH_FEATURES_VERSION, type FileFeatures } from './speech-node.js';
import { spawnWorker, workerFile } from '../util/spawn-worker.js';
import type { PipelineOptions } from '../signal/speech/pipeline.js';

export const SpeechFilePayload = z.object({
  /** Absolute path of the recording, readable by every worker (a shared mount). */
  file: z.string().min(1).max(4096),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  opts: z.object({ denoise: z.boolean(), vad: z.boolean() }).strict(),
  /** Keep the frame-level descriptors in the result (`--lld`). */
  lld: z.boolean(),
  /** The feature code's version (a worker on other code refuses: its features would differ). */
  version: z.string().min(1).max(100),
}).strict();
export type SpeechFilePayload = z.infer<typeof SpeechFilePayload>;

/** One recording: seconds to minutes; its heartbeat, not its expiry, tells it is alive. */
export const speechFileJob = defineJob({ name: 'speech', payload: SpeechFilePayload, expireInSeconds: 3600, retryLimit: 2, retryDelaySeconds: 5 });

/** The output: JSON text (PostgreSQL's jsonb would reorder the functionals' keys). */
export interface SpeechFileOutput { json: string }

export class RecordingChangedError extends Error {}

/** Compute one file's features on a worker thread (in process when the compiled worker is absent: tests under tsx). */
function computeOnThread(path: string, opts: PipelineOptions): Promise<FileFeatures> {
  if (!workerFile(import.meta.url, 'speech-worker').compiled) return Promise.resolve(featuresForFile(path, opts));
  return new Promise((resolve, reject) => {
    const w = spawnWorker(import.meta.url, 'speech-worker');
    w.once('message', (m: { result: FileFeatures }) => { void w.terminate(); resolve(m.result); });
    w.once('error', reject);
    w.postMessage({ id: 0, path, opts });
  });
}

/** The handler of `moodlens worker --kinds speech`. */
export function speechFileHandler(): (p: SpeechFilePayload) => Promise<SpeechFileOutput> {
  return async (p) => {
    if (p.version !== SPEECH_FEATURES_VERSION) throw new RecordingChangedError(`${p.file}: enqueued for feature code ${p.version}, this worker runs ${SPEECH_FEATURES_VERSION}; update the worker or enqueue again`);
    const hash = sha256File(p.file);
    if (hash !== p.sha256) throw new RecordingChangedError(`${p.file}: the recording changed after it was enqueued (sha256 ${hash.slice(0, 12)}…, expected ${p.sha256.slice(0, 12)}…); enqueue it again`);
    const r = await computeOnThread(p.file, p.opts);
    if (r.ok && !p.lld) r.lld = { names: r.lld.names, hopSeconds: r.lld.hopSeconds, frames: [] };
    return { json: JSON.stringify(r) };
  };
}

/**
 * Enqueue the files and call `onDone` as each finishes (any order). A file already enqueued by an
 * earlier invocation (same path, bytes and options) is waited for, not enqueued twice; one that
 * failed for good is retried once by this invocation, then reported as rejected ("error").
 */
export async function runSpeechQueued(engine: JobEngine, files: Array<{ id: number; path: string; sha256: string }>, opts: PipelineOptions, lld: boolean,
  onDone: (id: number, r: FileFeatures) => void, o: { pollMs?: number } = {}): Promise<void> {
  const pending = new Map<string, number>();
  for (const f of files) {
    const payload: SpeechFilePayload = { file: f.path, sha256: f.sha256, opts: { denoise: !!opts.denoise, vad: opts.vad === true }, lld, version: SPEECH_FEATURES_VERSION };
    const key = payloadKey(payload);
    const id = (await engine.send(speechFileJob, payload, { key })) ?? keyId(speechFileJob.name, key);
    pending.set(id, f.id);
  }
  const retried = new Set<string>();
  while (pending.size > 0) {
    for (const [jobId, id] of [...pending]) {
      const r = await engine.result(speechFileJob as never, jobId);
      if (r.state === 'completed') { pending.delete(jobId); onDone(id, JSON.parse((r.output as SpeechFileOutput).json) as FileFeatures); }
      else if (r.state === 'failed') {
        const message = (r.output as { message?: string } | undefined)?.message ?? 'failed';
        if (!retried.has(jobId) && !/changed after|feature code/.test(message)) { retried.add(jobId); await engine.retry(speechFileJob as never, jobId); continue; }
        pending.delete(jobId);
        onDone(id, { ok: false, reason: 'error', message: `worker: ${message}` });
      }
    }
    if (pending.size > 0) await new Promise((r) => setTimeout(r, o.pollMs ?? 500));
  }
}
