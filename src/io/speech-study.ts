/**
 * eGeMAPS v02 features of every recording a study folder lists in speech.csv (report_id,file),
 * computed on worker threads, cached by file hash in DIR/.cache/speech/, written to
 * DIR/speech_features.csv (report_id + the 88 functionals). Rejected recordings are returned with
 * their reason and written to DIR/speech_rejected.csv, and left out of the features file.
 * `moodlens features DIR` is the command-line shell over `computeStudyFeatures`.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, isAbsolute, resolve } from 'node:path';
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { readCsv, CsvWriter } from '../util/csv.js';
import { InputError, UsageError, type InputIssue } from '../util/errors.js';
import { progress } from '../util/progress.js';
import { spawnWorker, workerFile } from '../util/spawn-worker.js';
import { STUDY_FILES } from '../data/study.js';
import { EGEMAPS_NAMES } from '../signal/speech/egemaps.js';
import { featuresForFile, sha256File, type FileFeatures } from './speech-node.js';
import type { PipelineOptions } from '../signal/speech/pipeline.js';
import type { JobEngine } from '../queue/engine.js';
import { runSpeechQueued } from './speech-queue.js';

const SpeechRow = z.object({
  report_id: z.string().trim().min(1, 'report_id is empty'),
  file: z.string().trim().min(1, 'file is empty'),
});

export interface FeaturesOptions {
  workers?: number; lld?: string; denoise?: boolean; vad?: boolean; cache?: boolean; quiet?: boolean;
  /** Compute on `moodlens worker --kinds speech` processes through this job engine instead of local threads (speech-queue.ts). */
  engine?: JobEngine;
}

export interface FeaturesSummary { total: number; ok: number; rejected: Array<{ report_id: string; file: string; reason: string; message: string }>; cached: number }

async function readSpeechCsv(path: string): Promise<Array<{ report_id: string; file: string; line: number }>> {
  if (!existsSync(path)) throw new UsageError(`${path} not found (a study folder lists its recordings in ${STUDY_FILES.speech}: report_id,file)`);
  const rows: Array<{ report_id: string; file: string; line: number }> = [];
  const issues: InputIssue[] = [];
  for await (const row of readCsv(path)) {
    for (const col of ['report_id', 'file']) {
      if (!row.header.includes(col)) throw new InputError([{ file: path, line: 1, field: col, message: `missing column "${col}" (expected header report_id,file)` }]);
    }
    const p = SpeechRow.safeParse(row.values);
    if (!p.success) {
      for (const iss of p.error.issues) {
        const field = String(iss.path[0]);
        issues.push({ file: path, line: row.line, column: row.header.indexOf(field) + 1, field, message: iss.message });
      }
      continue;
    }
    rows.push({ ...p.data, line: row.line });
  }
  if (issues.length) throw new InputError(issues);
  return rows;
}

/** Run `fn` over jobs on `n` worker threads (in-process when n ≤ 1 or the compiled worker is absent). */
async function runPool(jobs: Array<{ id: number; path: string }>, n: number, opts: PipelineOptions, onDone: (id: number, r: FileFeatures) => void): Promise<void> {
  if (n <= 1 || !workerFile(import.meta.url, 'speech-worker').compiled || jobs.length < 2) {
    for (const j of jobs) onDone(j.id, featuresForFile(j.path, opts));
    return;
  }
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, jobs.length) }, () => new Promise<void>((resolve, reject) => {
    const w = spawnWorker(import.meta.url, 'speech-worker');
    const send = () => {
      if (next >= jobs.length) { void w.terminate().then(() => resolve()); return; }
      const j = jobs[next++];
      w.postMessage({ id: j.id, path: j.path, opts });
    };
    w.on('message', (m: { id: number; result: FileFeatures }) => { onDone(m.id, m.result); send(); });
    w.on('error', reject);
    send();
  })));
}

export async function computeStudyFeatures(dir: string, o: FeaturesOptions = {}): Promise<FeaturesSummary> {
  const rows = await readSpeechCsv(join(dir, STUDY_FILES.speech));
  const cacheDir = join(dir, '.cache', 'speech');
  const useCache = o.cache !== false;
  if (useCache) mkdirSync(cacheDir, { recursive: true });
  const opts: PipelineOptions = { denoise: !!o.denoise, vad: o.vad === true };
  const optKey = JSON.stringify(opts);
  const results: Array<FileFeatures | null> = rows.map(() => null);
  const paths = rows.map((r) => (isAbsolute(r.file) ? r.file : join(dir, r.file)));
  const hashes: Array<string | null> = paths.map(() => null);
  const jobs: Array<{ id: number; path: string }> = [];
  let cached = 0;
  rows.forEach((_, i) => {
    if (!existsSync(paths[i])) { results[i] = { ok: false, reason: 'missing', message: `file not found: ${paths[i]}` }; return; }
    if (useCache) {
      hashes[i] = sha256File(paths[i]);
      const c = join(cacheDir, `${hashes[i]}.json`);
      if (existsSync(c)) {
        try {
          const j = JSON.parse(readFileSync(c, 'utf8')) as { opts: string; result: FileFeatures; noLld?: boolean };
          if (j.opts === optKey && !(o.lld && j.noLld)) { results[i] = j.result; cached++; return; }
        } catch { /* a broken cache entry is recomputed */ }
      }
    }
    jobs.push({ id: i, path: paths[i] });
  });
  const bar = o.quiet ? null : progress('features', rows.length);
  bar?.update(rows.length - jobs.length);
  const workers = o.workers ?? Math.min(2, availableParallelism());
  const done = (id: number, r: FileFeatures) => {
    results[id] = r;
    // A worker's failure (not the recording's rejection) is not cached; a queued result without the
    // frame-level descriptors is cached as such (a later --lld run computes them).
    const workerError = o.engine && !r.ok && r.reason === 'error';
    if (useCache && hashes[id] && !workerError) writeFileSync(join(cacheDir, `${hashes[id]}.json`), JSON.stringify({ opts: optKey, result: r, ...(o.engine && !o.lld ? { noLld: true } : {}) }));
    bar?.tick();
  };
  if (o.engine) {
    // Each recording is a job for `moodlens worker --kinds speech`; the paths must be readable by every worker.
    await runSpeechQueued(o.engine, jobs.map((j) => ({ id: j.id, path: resolve(j.path), sha256: hashes[j.id] ?? sha256File(j.path) })), opts, Boolean(o.lld), done);
  } else await runPool(jobs, workers, opts, done);
  bar?.stop();

  const out = new CsvWriter(join(dir, STUDY_FILES.speechFeatures), ['report_id', ...EGEMAPS_NAMES]);
  const rejected: FeaturesSummary['rejected'] = [];
  if (o.lld) mkdirSync(o.lld, { recursive: true });
  for (let i = 0; i < rows.length; i++) {
    const r = results[i]!;
    if (!r.ok) { rejected.push({ report_id: rows[i].report_id, file: rows[i].file, reason: r.reason, message: r.message }); continue; }
    await out.write([rows[i].report_id, ...EGEMAPS_NAMES.map((n) => r.functionals[n])]);
    if (o.lld) {
      const w = new CsvWriter(join(o.lld, `${rows[i].report_id.replace(/[^A-Za-z0-9_.-]/g, '_')}.csv`), ['frameTime', ...r.lld.names]);
      for (let t = 0; t < r.lld.frames.length; t++) await w.write([Math.round((t + 0.5) * r.lld.hopSeconds * 1e4) / 1e4, ...r.lld.frames[t]]);
      await w.close();
    }
  }
  await out.close();
  const rej = new CsvWriter(join(dir, 'speech_rejected.csv'), ['report_id', 'file', 'reason', 'message']);
  for (const r of rejected) await rej.write([r.report_id, r.file, r.reason, r.message]);
  await rej.close();
  return { total: rows.length, ok: rows.length - rejected.length, rejected, cached };
}
