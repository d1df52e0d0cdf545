/**
 * The HTTP face of the server: a Fastify app whose every body, query, parameter and response is a
 * zod schema (fastify-type-provider-zod) — one schema gives the runtime check, the handler's type
 * and the OpenAPI document (/openapi.json, docs page at /docs). Access checks come from the rules
 * table (roles.ts), errors become a 4xx naming the field or a 500 that says nothing internal, and
 * the routes get the services the composition root (server.ts) built.
 */
import Fastify, { type FastifyError } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import rateLimit from '@fastify/rate-limit';
import {
  validatorCompiler, jsonSchemaTransform, hasZodFastifySchemaValidationErrors, type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { App, RouteDeps } from './deps.js';
import type { ZodType } from 'zod';
import { knownKeys } from '../../util/schema-issues.js';
import { closestName } from '../../util/suggest.js';
import { HttpError } from './errors.js';
import { closeAfterEarlyAnswer, TooManyRequests } from './limits.js';
import { httpSecurity } from './security-headers.js';
import { installAccessControl } from './roles.js';
import { redactingLogger } from './signin.js';
import { accountRoutes } from './routes/accounts.js';
import { studyRoutes } from './routes/studies.js';
import { participantRoutes } from './routes/participant.js';
import { monitoringRoutes } from './routes/monitoring.js';
import { dashboardRoutes } from './routes/dashboard.js';
import { participantWebRoutes } from './routes/participant-web.js';
import { pushRoutes } from './routes/push.js';
import { promptRoutes } from './routes/prompts.js';
import { notificationRoutes } from './routes/notifications.js';
import { webRoutes } from '../../web/static-node.js';
import { answers, Health, responseSerializer } from './responses.js';
import { databaseRateLimitStore } from './rate-limit-store.js';

export interface AppOptions {
  logger?: boolean;
  /** Where the request log goes (default stdout); tests read it. */
  logStream?: { write(line: string): void };
  /**
   * Behind a reverse proxy: take the client's address from X-Forwarded-For (Fastify's
   * trustProxy), so rate limits key on the real client. Off by default: then every client behind
   * a proxy shares the proxy's address and its limits. true (trust every hop), or the proxies' addresses/CIDRs, comma-separated.
   */
  trustProxy?: boolean | string;
  /** Serve HTTPS with this key and certificate (PEM); reload with server.reloadTls. */
  tls?: { key: Buffer; cert: Buffer };
  /** Check every answer against its route's response schema (default: MOODLENS_CHECK_RESPONSES=1; the test suite sets it). */
  checkResponses?: boolean;
}

/** Build the Fastify app with every route registered, ready to listen. */
export async function createApp(deps: RouteDeps, opts: AppOptions): Promise<App> {
  const { ctx, store, limits, publicUrl } = deps;
  const app = Fastify({ logger: opts.logger ? redactingLogger(opts.logStream) : false, bodyLimit: limits.bodyBytes, trustProxy: opts.trustProxy ?? false, ...(opts.tls ? { https: { key: opts.tls.key, cert: opts.tls.cert } } : {}) }).withTypeProvider<ZodTypeProvider>();
  // Every route registered from here on gets its access check from the rules table (roles.ts).
  installAccessControl(app, ctx);
  // An answer sent before the request's body was read to its end closes the connection (limits.ts).
  closeAfterEarlyAnswer(app, limits.lingerMs);
  app.setValidatorCompiler(validatorCompiler);
  // Answers are JSON.stringify of the handler's value; checked against the route's schema when asked (responses.ts).
  app.setSerializerCompiler(responseSerializer(opts.checkResponses ?? process.env.MOODLENS_CHECK_RESPONSES === '1'));

  // Every failure becomes a 4xx naming the field, or a 500 that says nothing internal.
  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (hasZodFastifySchemaValidationErrors(err)) {
      const where = err.validationContext ?? 'body';
      const schema = (req.routeOptions.schema as Record<string, unknown> | undefined)?.[where] as ZodType | undefined;
      const issues = err.validation.flatMap((v) => {
        const path = v.instancePath === '/' ? [] : v.instancePath.slice(1).split('/');
        const field = where + (path.length ? `.${path.join('.')}` : '');
        // Strict schemas refuse an unknown key: name the known key it is closest to, as the CLI does.
        const keys = (v.params as { keys?: unknown }).keys;
        if (v.keyword === 'unrecognized_keys' && schema && Array.isArray(keys)) {
          const known = knownKeys(schema, path);
          return keys.map((k) => {
            const near = closestName(String(k), known);
            return { field, message: `unknown key "${String(k)}" — ${near ? `did you mean "${near}"?` : `expected one of: ${known.join(', ')}`}` };
          });
        }
        return [{ field, message: v.message ?? 'invalid' }];
      });
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

  await httpSecurity(app, { https: Boolean(opts.tls) || (publicUrl?.startsWith('https:') ?? false) });
  // On PostgreSQL the counters are in the database, shared by every instance (rate-limit-store.ts).
  await app.register(rateLimit, { global: false, ...(store.kind === 'postgres' ? { store: databaseRateLimitStore(store, ctx.now) as never, skipOnError: false } : {}) });
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
  app.get('/health', { schema: { tags: ['meta'], summary: 'Liveness; with an admin\'s token also the background job queue: depth per kind, oldest waiting, failed (counts only)', response: answers({ 200: Health }) } }, async (req) => {
    await store.ping();
    // The queue's counts tell how busy each study's server is: only an admin sees them (a
    // load balancer's probe, with no token, gets liveness alone).
    const admin = req.headers.authorization ? await ctx.admin(req).then(() => true, () => false) : false;
    if (!admin) return { ok: true, db: store.kind };
    const kinds = (await deps.jobs.stats()).map((k) => ({ kind: k.kind, waiting: k.waiting, active: k.active, failed: k.failed, oldestWaitingS: k.oldestWaitingMs === null ? null : Math.round(k.oldestWaitingMs / 100) / 10 }));
    return { ok: true, db: store.kind, queue: { engine: deps.jobs.engine.engine, kinds } };
  });

  await app.register(async (a) => accountRoutes(a.withTypeProvider<ZodTypeProvider>(), deps));
  await app.register(async (a) => studyRoutes(a.withTypeProvider<ZodTypeProvider>(), deps));
  await app.register(async (a) => participantRoutes(a.withTypeProvider<ZodTypeProvider>(), deps));
  await app.register(async (a) => monitoringRoutes(a.withTypeProvider<ZodTypeProvider>(), deps));
  await app.register(async (a) => dashboardRoutes(a.withTypeProvider<ZodTypeProvider>(), deps)); // dashboard panels (docs/web.md)
  await app.register(async (a) => participantWebRoutes(a.withTypeProvider<ZodTypeProvider>(), deps));
  await app.register(async (a) => pushRoutes(a.withTypeProvider<ZodTypeProvider>(), deps)); // Web Push subscriptions (reminders: jobs/push.ts)
  await app.register(async (a) => promptRoutes(a.withTypeProvider<ZodTypeProvider>(), deps)); // the prompt log (services/prompt-log.ts)
  await app.register(async (a) => notificationRoutes(a.withTypeProvider<ZodTypeProvider>(), deps)); // threshold notifications (jobs/notify.ts)
  await app.register(async (a) => webRoutes(a)); // participant app /app/, dashboard /dashboard/ (dist/web/public)
  await app.ready();
  return app;
}

function httpName(status: number): string {
  return ({ 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict', 413: 'Payload Too Large', 415: 'Unsupported Media Type', 429: 'Too Many Requests' } as Record<number, string>)[status] ?? 'Error';
}
