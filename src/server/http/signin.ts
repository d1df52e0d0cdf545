/**
 * Sign-in hardening that is not a route: the bootstrap admin's password rule and the request
 * logger that never writes a secret (docs/security.md, "Roles and sign-in").
 */
import type { FastifyServerOptions } from 'fastify';
import { UsageError } from '../../util/errors.js';

/** The bootstrap admin (MOODLENS_ADMIN_PASSWORD) needs at least this many characters. */
export const ADMIN_PASSWORD_MIN = 12;

export function checkAdminPassword(password: string): void {
  if (password.length < ADMIN_PASSWORD_MIN) {
    throw new UsageError(`MOODLENS_ADMIN_PASSWORD: the first admin's password needs at least ${ADMIN_PASSWORD_MIN} characters (it has ${password.length}); nothing was created`);
  }
}

/** Query parameters whose value is a secret whatever it looks like. */
const SECRET_PARAM = /^(code|token|reset|password|secret|key|auth|session|access_token)$/i;
/** Token-shaped values: the server's own tokens (r_ session, p_ device, rs_ reset) and any long base64url/hex run. */
const TOKEN_SHAPED = /\b(?:rs|r|p)_[A-Za-z0-9_-]{16,}|[A-Za-z0-9_-]{32,}/g;

/** A URL fit for a log: secret query values and token-shaped strings replaced by "[redacted]". */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  const path = (q < 0 ? url : url.slice(0, q)).replace(TOKEN_SHAPED, '[redacted]');
  if (q < 0) return path;
  const query = url.slice(q + 1).split('&').map((pair) => {
    const eq = pair.indexOf('=');
    if (eq < 0) return pair.replace(TOKEN_SHAPED, '[redacted]');
    const k = pair.slice(0, eq);
    let name = k;
    try { name = decodeURIComponent(k); } catch { /* keep it as it is */ }
    return SECRET_PARAM.test(name) ? `${k}=[redacted]` : `${k}=${pair.slice(eq + 1).replace(TOKEN_SHAPED, '[redacted]')}`;
  }).join('&');
  return `${path}?${query}`;
}

interface LoggedRequest { method: string; url: string; ip?: string; headers?: Record<string, unknown>; socket?: { remotePort?: number } }

/** Fastify logger options (`serve --log`): requests are logged with their URL redacted and no headers. */
export function redactingLogger(stream?: { write(line: string): void }): NonNullable<FastifyServerOptions['logger']> {
  return {
    level: 'info',
    ...(stream ? { stream } : {}),
    serializers: {
      req: (req: LoggedRequest) => ({ method: req.method, url: redactUrl(req.url), host: req.headers?.host, remoteAddress: req.ip, remotePort: req.socket?.remotePort }),
    },
  } as NonNullable<FastifyServerOptions['logger']>;
}
