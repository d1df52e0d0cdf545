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

/** The policy as a header value: "default-src 'self'; script-src 'self'; …". */
export function cspHeader(https: boolean): string {
  const dash = (k: string) => k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
  const parts = Object.entries(CSP_DIRECTIVES).map(([k, v]) => `${dash(k)} ${v.join(' ')}`);
  if (https) parts.push('upgrade-insecure-requests');
  return parts.join('; ');
}

export async function httpSecurity(app: FastifyInstance<any, any, any, any, any>, opts: { https: boolean }): Promise<void> {
  // helmet sets every header but the CSP: its CSP middleware rebuilds the policy string on each
  // request (for per-request nonces, which these pages do not use), 5 % of the server's CPU per
  // report in bench/server; the fixed policy is built once here and set with no-store below.
  const csp = cspHeader(opts.https);
  await app.register(helmet, {
    contentSecurityPolicy: false,
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    hsts: opts.https ? { maxAge: 180 * 86_400, includeSubDomains: true } : false,
    // The app is served to phones from this origin only; nothing is embedded cross-origin.
    crossOriginEmbedderPolicy: false,
  });
  // Every answer: no-store, unless a route says otherwise (the static web files do).
  app.addHook('onRequest', async (_req, reply) => { reply.header('cache-control', 'no-store').header('content-security-policy', csp); });
}
