/**
 * The composition root: `buildServer` opens the storage (database, data keys), builds every
 * service once — the request context, the monitor (predictions, alerts), the background jobs
 * (exports, speech features, push reminders) and the domain services — and hands them to the
 * HTTP app (http/app.ts). Nothing else constructs a service; route files receive them.
 *
 * Rooms: http/ (app, routes, schemas, auth, context, errors, limits, ingest), storage/ (schema,
 * migrations, repositories, group commit, audit chain, sealed files), jobs/ (export, speech
 * extraction, personalisation, push; the job queue seam), monitoring/ (monitor, predictors,
 * alerts), services/ (reports, withdrawal, dashboard, schedule).
 */
import { mkdirSync, rmSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { openDatabase } from './storage/connect.js';
import { Store } from './storage/store.js';
import { DataKeys, sealAtStart } from './storage/data-key.js';
import { mkdirPrivate } from './storage/sealed-files.js';
import { ServerContext, type ContextOptions } from './http/context.js';
import { createApp, type AppOptions } from './http/app.js';
import type { App, RouteDeps } from './http/deps.js';
import { IngestLimiter, parseLimits, type ServerLimits } from './http/limits.js';
import { hashPassword } from './http/auth.js';
import { checkAdminPassword } from './http/signin.js';
import { checkFfmpeg, removeOrphanAudio } from './http/ingest/speech-upload.js';
import { BUILTIN_BASELINE, Monitor } from './monitoring/monitor.js';
import { CacheBus } from './services/cache-bus.js';
import { sql } from 'kysely';
import { UsageError } from '../util/errors.js';
import { legacyModelName } from './monitoring/model-path.js';
import { SpeechExtractor } from './jobs/speech-extractor.js';
import { ExportJobs } from './jobs/export-jobs.js';
import { PushService, pushOptionsFromEnv } from './jobs/push.js';
import { ServerJobs } from './jobs/queue.js';
import { LocalEngine } from '../queue/engine.js';
import { PgBossEngine } from '../queue/pgboss.js';
import { NotificationService, notifyOptionsFromEnv, type NotifyOptions } from './jobs/notify.js';
import { Withdrawal } from './services/withdrawal.js';
import { DashboardService } from './services/dashboard.js';

export interface ServerOptions extends Omit<ContextOptions, 'dataDir' | 'keys'>, AppOptions {
  /** sqlite:FILE or postgres://… */
  db: string;
  dataDir: string;
  /** Create this admin when the database has no user yet. */
  admin?: { email: string; password: string };
  /** Requests per minute per client address on login and enrolment (default 10). */
  authRateLimit?: number;
  /** Public base URL for enrolment links (default: from the request's Host). */
  publicUrl?: string;
  /** Worker threads computing speech features from uploaded audio (default 1). */
  speechWorkers?: number;
  /** Remove finished exports this many days after they finished (default: keep them). */
  exportRetentionDays?: number;
  /** The data key's file (default <data-dir>/keys/data.key, created 0600 if absent on a database with no sealed data). */
  keyFile?: string;
  /** The data key itself, base64 of 32 bytes (MOODLENS_DATA_KEY); not together with keyFile. */
  dataKey?: string;
  /** How often to look for a key rotation another process started (default 2000 ms; 0 = never). */
  keyPollMs?: number;
  /** Where the data-key notices go (the new-key backup line; default stderr). */
  keyLog?: (line: string) => void;
  /** Body sizes, ingest rate, speech and schedule limits (limits.ts; defaults in ServerLimitsSchema). */
  limits?: Partial<ServerLimits>;
  /** Threshold notifications: SMTP, webhook and retry settings (default: from the environment, jobs/notify.ts). */
  notify?: Partial<NotifyOptions>;
}

/**
 * Databases from before --models-dir stored a model as an absolute path. One under the models
 * folder is renamed to its relative name; any other is detached, with the reason in the log and
 * the study's audit trail (the researcher attaches it again by name once it is copied there).
 */
async function adoptLegacyModels(store: Store, ctx: ServerContext): Promise<void> {
  for (const { id, model_dir } of await store.studyModels()) {
    if (model_dir === BUILTIN_BASELINE || !isAbsolute(model_dir)) continue;
    const name = legacyModelName(ctx.modelsDir, model_dir);
    if (name) {
      await store.setModel(id, name);
      console.log(`moodlens serve: study ${id}: model ${model_dir} is now named "${name}" (relative to --models-dir ${ctx.modelsDir})`);
      continue;
    }
    await store.setModel(id, null);
    const why = `model ${model_dir} detached: model folders are read only from under --models-dir (${ctx.modelsDir}); copy it there and attach it again by name`;
    console.warn(`moodlens serve: study ${id}: ${why}`);
    await store.audit({ actor_kind: 'system', actor_id: 'models-dir', action: 'write', study_id: id, participant_id: null, resource: 'model', detail: why });
  }
}

export interface Server {
  app: App;
  store: Store;
  ctx: ServerContext;
  monitor: Monitor;
  exportJobs: ExportJobs;
  speech: SpeechExtractor;
  /** The Web Push reminders (tests call its `tick()`). */
  push: PushService;
  /** The background jobs (in process, or pg-boss on PostgreSQL). */
  jobs: ServerJobs;
  /** Threshold notifications (tests call its `tick()` and `idle()`). */
  notify: NotificationService;
  close(): Promise<void>;
}

export async function buildServer(opts: ServerOptions): Promise<Server> {
  const limits = parseLimits(opts.limits);
  const notifyOptions = { ...notifyOptionsFromEnv(), ...opts.notify }; // a wrong SMTP setting fails at start
  if (opts.ffmpeg) await checkFfmpeg(opts.ffmpeg); // a wrong path fails at start, not at the first upload
  await mkdirPrivate(opts.dataDir); // 0700 whatever the umask (docs/security.md)
  // Uploads a crash interrupted were never acknowledged: their temporary files can go.
  rmSync(join(opts.dataDir, 'tmp'), { recursive: true, force: true });
  const handle = await openDatabase(opts.db);
  // Encryption at rest: a wrong or missing data key stops the start here, with a one-line error.
  const keyLog = opts.keyLog ?? ((l: string) => console.warn(l));
  let dataKeys: DataKeys;
  try {
    dataKeys = await DataKeys.open(handle.db, { keyFile: opts.keyFile, key: opts.dataKey, dataDir: opts.dataDir }, keyLog);
  } catch (e) { await handle.close(); throw e; }
  const store = new Store(handle, dataKeys.keyring);
  await store.sealAudit(); // rows from before the audit chain existed
  if (opts.admin && (await store.countUsers()) === 0) {
    try { checkAdminPassword(opts.admin.password); } catch (e) { await store.close(); throw e; }
    await store.createUser({ email: opts.admin.email, passwordHash: await hashPassword(opts.admin.password), isAdmin: true });
  }
  // Recordings a crash left without their database row: nothing may exist that withdrawal or export would miss.
  const orphans = await removeOrphanAudio(opts.dataDir, await store.speechFiles());
  if (orphans.length > 0) console.error(`speech: removed ${orphans.length} recording file(s) without a database row (left by an interrupted upload or withdrawal)`);
  // What an older version stored in plaintext is sealed now (once); folders 0700, files 0600.
  try { await sealAtStart(handle.db, handle.kind, opts.dataDir, dataKeys, keyLog); } catch (e) { await store.close(); throw e; }
  dataKeys.start(opts.keyPollMs ?? 2000);
  const ctx = new ServerContext(store, { ...opts, keys: dataKeys.keyring });
  mkdirSync(ctx.modelsDir, { recursive: true, mode: 0o700 }); // 0700 when new, like every folder the server makes
  await adoptLegacyModels(store, ctx);
  // Background jobs (jobs/queue.ts): in this process on SQLite; on PostgreSQL pg-boss in the same
  // database, shared by every instance (a job is enqueued in the transaction of its write).
  const jobs = new ServerJobs(handle.kind === 'postgres' ? new PgBossEngine({ connectionString: opts.db }) : new LocalEngine(), { speechWorkers: opts.speechWorkers, beforeCommit: store.beforeCommit });
  const monitor = new Monitor(ctx, () => jobs.idle());
  // Several instances on one PostgreSQL database: what one forgets, all forget (services/cache-bus.ts).
  let bus: CacheBus | null = null;
  if (handle.kind === 'postgres') {
    bus = new CacheBus(opts.db, (channel, payload) => sql`select pg_notify(${channel}, ${payload})`.execute(store.db),
      (m) => { ctx.applyCacheMessage(m); if (m.k === 'study') monitor.resetStudy(m.studyId); });
    try { await bus.start(); } catch (e) { await store.close(); throw e; }
    ctx.attachCacheBus(bus);
  }
  const exportJobs = new ExportJobs(store, ctx, jobs, opts.exportRetentionDays);
  const speech = new SpeechExtractor(ctx, jobs, opts.speechWorkers ?? 1, limits);
  const push = new PushService(ctx, pushOptionsFromEnv(), opts.publicUrl);
  const notify = new NotificationService(ctx, notifyOptions, opts.publicUrl, () => jobs.idle());
  monitor.onNewAlert = (alertId) => void jobs.send('notify-alert', { alertId }).catch((e) => console.error(`jobs: could not queue notify-alert: ${e instanceof Error ? e.message : e}`));
  try {
    // Each kind is run by the service that owns it; the payloads are ids, the handlers load the rows.
    await jobs.work({
      'report-follow-up': ({ reportId }) => monitor.followUp(reportId, false),
      'speech-follow-up': ({ reportId }) => monitor.followUp(reportId, true),
      'speech-features': ({ reportId }) => speech.extract(reportId),
      'export': ({ exportJobId }) => exportJobs.run(exportJobId),
      'push-pass': () => push.scheduledPass(),
      'notify-report': async ({ reportId }) => { await notify.checkReport(reportId); },
      'notify-alert': async ({ alertId }) => { await notify.checkAlert(alertId); },
    });
    // Interrupted exports failed (in process; on pg-boss those whose job failed for good), old-layout folders removed, expired exports pruned.
    await exportJobs.startUp();
  } catch (e) {
    await jobs.stop().catch(() => {}); await bus?.close(); await store.close();
    // pg-boss creates its schema ("pgboss") in the database at the first start: say so in one line.
    if (jobs.durable && !(e instanceof UsageError)) throw new UsageError(`--db: the job queue (pg-boss) could not start in ${handle.display}: ${e instanceof Error ? e.message : e} (the database user must be able to create the schema "pgboss", docs/scale.md)`);
    throw e;
  }

  const deps: RouteDeps = {
    ctx, store, monitor, exportJobs, speech, push, notify, jobs,
    withdrawal: new Withdrawal(ctx, store, exportJobs), dashboard: new DashboardService(ctx, store),
    authRateLimit: opts.authRateLimit ?? 10, publicUrl: opts.publicUrl, limits, ingest: new IngestLimiter(limits.ingestRatePerMinute, ctx.now),
  };
  const app = await createApp(deps, opts);
  push.start(jobs); // Web Push reminders at prompt times (on PostgreSQL one pass per tick across the instances: a push-pass job)
  notify.start(); // checks a crash interrupted, deliveries due or interrupted, then retries
  // Recordings whose features a previous process never computed (crash, restart) are queued again.
  await speech.resume();

  return {
    app, store, ctx, monitor, exportJobs, speech, push, jobs, notify,
    async close() {
      await app.close();
      await push.stop();
      // Queued extractions are given back (pg-boss: another instance takes them), running ones end;
      // then the engine stops taking jobs and waits for the runs in hand.
      await speech.close();
      await jobs.stop();
      await exportJobs.stop();
      await monitor.stop();
      await notify.stop(); // after the monitor: its last alerts may raise notifications
      dataKeys.stop();
      await bus?.close();
      await store.close();
    },
  };
}
