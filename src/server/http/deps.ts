/**
 * What a route file is given: the app it registers its routes on, and the services the
 * composition root (server.ts) built once. Route files import this, never the file that
 * registers them.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { ServerContext } from './context.js';
import type { IngestLimiter, ServerLimits } from './limits.js';
import type { Store } from '../storage/store.js';
import type { Monitor } from '../monitoring/monitor.js';
import type { ExportJobs } from '../jobs/export-jobs.js';
import type { SpeechExtractor } from '../jobs/speech-extractor.js';
import type { PushService } from '../jobs/push.js';
import type { NotificationService } from '../jobs/notify.js';
import type { ServerJobs } from '../jobs/queue.js';
import type { Withdrawal } from '../services/withdrawal.js';
import type { DashboardService } from '../services/dashboard.js';

export type App = FastifyInstance<any, any, any, any, ZodTypeProvider>;

export interface RouteDeps {
  ctx: ServerContext;
  store: Store;
  monitor: Monitor;
  exportJobs: ExportJobs;
  speech: SpeechExtractor;
  push: PushService;
  notify: NotificationService;
  /** Background work that follows a request (predictions, speech features, exports). */
  jobs: ServerJobs;
  withdrawal: Withdrawal;
  dashboard: DashboardService;
  authRateLimit: number;
  publicUrl?: string;
  limits: ServerLimits;
  /** Per-participant ingest rate limit: `ingest.take(participant.id)` before any upload is read. */
  ingest: IngestLimiter;
}
