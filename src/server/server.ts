/**
 * The study platform server (SPEC §1 "MHIT", §6): a Fastify app whose every body, query and
 * parameter is a zod schema (fastify-type-provider-zod) — one schema gives the runtime check,
 * the handler's type and the OpenAPI document (/openapi.json, docs page at /docs).
 * A thin shell: storage in store.ts, schedule/alerts/predictor as pure modules, export via the
 * data library's StudyWriter.
 */
import Fastify, { type FastifyInstance, type FastifyError } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import rateLimit from '@fastify/rate-limit';
import {
  serializerCompiler, validatorCompiler, jsonSchemaTransform, hasZodFastifySchemaValidationErrors, type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { mkdirSync, rmSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { openDatabase } from './storage/connect.js';
import { Store } from './storage/store.js';
import { ServerContext, type ContextOptions } from './http/context.js';
import { BUILTIN_BASELINE, Monitor } from './monitoring/monitor.js';
import { legacyModelName } from './monitoring/model-path.js';
import { SpeechExtractor } from './jobs/speech-extractor.js';
import { ExportJobs } from './jobs/export-jobs.js';
import { checkFfmpeg, removeOrphanAudio } from './http/ingest/speech-upload.js';
import { HttpError } from './http/errors.js';
import { closeAfterEarlyAnswer, IngestLimiter, parseLimits, TooManyRequests, type ServerLimits } from './http/limits.js';
import { hashPassword } from './http/auth.js';
import { httpSecurity } from './http/security-headers.js';
import { accountRoutes } from './http/routes/accounts.js';
import { studyRoutes } from './http/routes/studies.js';
import { participantRoutes } from './http/routes/participant.js';
import { monitoringRoutes } from './http/routes/monitoring.js';
import { webRoutes } from '../web/static-node.js';
import { dashboardRoutes } from './http/routes/dashboard.js';
import { participantWebRoutes } from './http/routes/participant-web.js';
import { pushRoutes } from './jobs/push.js';
import { DataKeys, sealAtStart } from './storage/data-key.js';
import { mkdirPrivate } from './storage/sealed-files.js';
import { installAccessControl } from './http/roles.js';
import { checkAdminPassword, redactingLogger } from './http/signin.js';

export type App = FastifyInstance<any, any, any, any, ZodTypeProvider>;

export interface ServerOptions extends Omit<ContextOptions, 'dataDir' | 'keys'> {
  /** sqlite:FILE or postgres://… */
  db: string;
  dataDir: string;
  /** Create this admin when the database has no user yet. */
  admin?: { email: string; password: string };
  /** Requests per minute per client address on login and enrolment (default 10). */
  authRateLimit?: number;
  /**
   * Behind a reverse proxy: take the client's address from X-Forwarded-For (Fastify's
   * trustProxy), so rate limits key on the real client. Off by default: then every client behind
   * a proxy shares the proxy's address and its limits. true (trust every hop), or the proxies' addresses/CIDRs, comma-separated.
   */
  trustProxy?: boolean | string;
  logger?: boolean;
  /** Where the request log goes (default stdout); tests read it. */
  logStream?: { write(line: string): void };
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
  /** Serve HTTPS with this key and certificate (PEM); reload with server.reloadTls. */
  tls?: { key: Buffer; cert: Buffer };
  /** Body sizes, ingest rate, speech and schedule limits (limits.ts; defaults in ServerLimitsSchema). */
  limits?: Partial<ServerLimits>;
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
  close(): Promise<void>;
}

export async function buildServer(opts: ServerOptions): Promise<Server> {
  const limits = parseLimits(opts.limits);
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
  const monitor = new Monitor(ctx);
  const exportJobs = new ExportJobs(store, ctx, opts.exportRetentionDays);
  const speech = new SpeechExtractor(ctx, monitor, opts.speechWorkers ?? 1, limits);
  await exportJobs.startUp(); // interrupted jobs failed, old-layout folders removed, expired exports pruned

  const app = Fastify({ logger: opts.logger ? redactingLogger(opts.logStream) : false, bodyLimit: limits.bodyBytes, trustProxy: opts.trustProxy ?? false, ...(opts.tls ? { https: { key: opts.tls.key, cert: opts.tls.cert } } : {}) }).withTypeProvider<ZodTypeProvider>();
  // Every route registered from here on gets its access check from the rules table (roles.ts).
  installAccessControl(app, ctx);
  // An answer sent before the request's body was read to its end closes the connection (limits.ts).
  closeAfterEarlyAnswer(app, limits.lingerMs);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  // Every failure becomes a 4xx naming the field, or a 500 that says nothing internal.
  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (hasZodFastifySchemaValidationErrors(err)) {
      const where = err.validationContext ?? 'body';
      const issues = err.validation.map((v) => ({
        field: where + (v.instancePath === '/' ? '' : v.instancePath.replace(/\//g, '.')),
        message: v.message ?? 'invalid',
      }));
      return reply.code(400).send({ statusCode: 400, error: 'Bad Request', message: issues.map((i) => `${i.field}: ${i.message}`).join('; '), issues });
    }
    if (err instanceof HttpError) {
      if (err instanceof TooManyRequests) reply.header('retry-after', String(err.retryAfterS));
      return reply.code(err.statusCode).send({
        statusCode: err.statusCode, error: httpName(err.statusCode), message: err.message,
        ...(err.field ? { issues: [{ field: err.field, message: err.message }] } : {}),
      });
    }
    const status = err.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      const field = err.code?.startsWith('FST_ERR_CTP') ? 'body' : undefined;
      const message = field && !err.message.startsWith('body') ? `body: ${err.message}` : err.message;
      return reply.code(status).send({ statusCode: status, error: httpName(status), message });
    }
    req.log.error(err);
    if (!opts.logger) console.error(err);
    return reply.code(500).send({ statusCode: 500, error: 'Internal Server Error', message: 'internal error (logged on the server)' });
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ statusCode: 404, error: 'Not Found', message: `no route ${req.method} ${req.url.split('?')[0]}` }));

  await httpSecurity(app, { https: Boolean(opts.tls) || (opts.publicUrl?.startsWith('https:') ?? false) });
  await app.register(rateLimit, { global: false });
  await app.register(swagger, {
    openapi: {
      info: { title: 'Moodlens study platform', version: '0.1.0', description: 'Enrolment, EMA schedules, ingest of reports, speech and wristband data, export, predictions and alerts.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/', { schema: { hide: true } }, async (_req, reply) => reply.redirect('/dashboard/'));
  app.get('/health', { schema: { tags: ['meta'] } }, async () => { await store.ping(); return { ok: true, db: handle.kind }; });

  const deps = { ctx, store, monitor, exportJobs, speech, authRateLimit: opts.authRateLimit ?? 10, publicUrl: opts.publicUrl, limits, ingest: new IngestLimiter(limits.ingestRatePerMinute, ctx.now) };
  await app.register(async (a) => accountRoutes(a.withTypeProvider<ZodTypeProvider>(), deps));
  await app.register(async (a) => studyRoutes(a.withTypeProvider<ZodTypeProvider>(), deps));
  await app.register(async (a) => participantRoutes(a.withTypeProvider<ZodTypeProvider>(), deps));
  await app.register(async (a) => monitoringRoutes(a.withTypeProvider<ZodTypeProvider>(), deps));
  await app.register(async (a) => dashboardRoutes(a.withTypeProvider<ZodTypeProvider>(), deps)); // dashboard panels (docs/web.md)
  await app.register(async (a) => participantWebRoutes(a.withTypeProvider<ZodTypeProvider>(), deps));
  await app.register(async (a) => pushRoutes(a.withTypeProvider<ZodTypeProvider>(), deps)); // Web Push reminders + their scheduler
  await app.register(async (a) => webRoutes(a)); // participant app /app/, dashboard /dashboard/ (dist/web/public)
  await app.ready();
  // Recordings whose features a previous process never computed (crash, restart) are queued again.
  await speech.resume();

  return {
    app, store, ctx, monitor, exportJobs, speech,
    async close() {
      await app.close();
      await speech.close();
      await exportJobs.stop();
      await monitor.stop();
      dataKeys.stop();
      await store.close();
    },
  };
}

export interface RouteDeps {
  ctx: ServerContext;
  store: Store;
  monitor: Monitor;
  exportJobs: ExportJobs;
  speech: SpeechExtractor;
  authRateLimit: number;
  publicUrl?: string;
  limits: ServerLimits;
  /** Per-participant ingest rate limit: `ingest.take(participant.id)` before any upload is read. */
  ingest: IngestLimiter;
}

function httpName(status: number): string {
  return ({ 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict', 413: 'Payload Too Large', 415: 'Unsupported Media Type', 429: 'Too Many Requests' } as Record<number, string>)[status] ?? 'Error';
}
