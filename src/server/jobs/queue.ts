/**
 * The server's background jobs behind one small interface: enqueue a job of kind K with payload P.
 * Every kind runs in this process today, on the service that owns it, exactly as it is called
 * directly (the report follow-up is coalesced per participant by the monitor, recordings are
 * queued for the speech extractor's worker threads, exports run one at a time). A durable queue
 * (pg-boss) can stand in for `inProcessQueue` without a route changing: payloads are plain data
 * (decoded rows), as such a queue stores them.
 */
import type { Participant, Report, ExportJob } from '../storage/store.js';
import type { StudyInfo } from '../http/context.js';

export interface JobPayloads {
  /** A report was stored: predict it and re-evaluate the participant's alerts (monitoring/monitor.ts). */
  'report-follow-up': { participant: Participant; report: Report };
  /** Speech features of a stored report arrived: predict it again with them (monitoring/monitor.ts). */
  'speech-follow-up': { info: StudyInfo; participant: Participant; report: Report };
  /** A recording was stored: compute its eGeMAPS features (jobs/speech-extractor.ts). */
  'speech-features': { reportId: string };
  /** An export was requested: write the study folder (jobs/export-jobs.ts). */
  'export': { job: ExportJob; info: StudyInfo };
  /** A report was stored: raise the study's notification rules it meets (jobs/notify.ts). */
  'notify-report': { reportId: string };
  /** A new early-warning alert episode was recorded: raise the rules it meets (jobs/notify.ts). */
  'notify-alert': { alertId: string };
}
export type JobKind = keyof JobPayloads;

export interface JobQueue {
  /** Queue a job; returns at once (the job runs after the request that queued it has answered). */
  enqueue<K extends JobKind>(kind: K, payload: JobPayloads[K]): void;
}

export type JobHandlers = { [K in JobKind]: (payload: JobPayloads[K]) => void };

/** Run each job in this process, by handing it to its kind's handler. */
export function inProcessQueue(handlers: JobHandlers): JobQueue {
  return { enqueue: (kind, payload) => handlers[kind](payload) };
}
