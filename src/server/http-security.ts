/**
 * HTTP hardening of every answer (@fastify/helmet): a strict Content-Security-Policy for the
 * participant app and the dashboard (scripts only from this origin, no inline script, no eval —
 * the dashboard's charts interpret vega expressions instead of compiling them), nosniff,
 * frame-ancestors 'none' (and X-Frame-Options: DENY), Referrer-Policy: no-referrer, HSTS when the
 * server is reached over https, and `Cache-Control: no-store` on every answer that is not a
 * static file of the web front ends (health data must not stay in caches).
 */
import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';

/** The policy of every page; the Swagger page (/docs) needs inline styles and data: images too. */
export const CSP_DIRECTIVES = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'", "'unsafe-inline'"],
  imgSrc: ["'self'", 'data:'],
  connectSrc: ["'self'"],
  workerSrc: ["'self'"],
  // The app plays a recording back to the participant from a blob: URL before it is sent.
  mediaSrc: ["'self'", 'blob:'],
  manifestSrc: ["'self'"],
  fontSrc: ["'self'"],
  objectSrc: ["'none'"],
  baseUri: ["'self'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
};

export async function httpSecurity(app: FastifyInstance<any, any, any, any, any>, opts: { https: boolean }): Promise<void> {
  await app.register(helmet, {
    contentSecurityPolicy: { useDefaults: false, directives: { ...CSP_DIRECTIVES, ...(opts.https ? { upgradeInsecureRequests: [] } : {}) } },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    hsts: opts.https ? { maxAge: 180 * 86_400, includeSubDomains: true } : false,
    // The app is served to phones from this origin only; nothing is embedded cross-origin.
    crossOriginEmbedderPolicy: false,
  });
  // Every answer: no-store, unless a route says otherwise (the static web files do).
  app.addHook('onRequest', async (_req, reply) => { reply.header('cache-control', 'no-store'); });
}
