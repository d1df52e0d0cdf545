/**
 * Serves the built web front ends (dist/web/public, written by scripts/build-web.mjs) from
 * `moodlens serve`: the participant app under /app/, the researcher dashboard under
 * /dashboard/, and the old enrolment link `/enrol?code=…` redirects into the app with the code in
 * the fragment (invitations now link to `/app/#code=…` directly). Node-only (the rest of src/web is browser code).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.json': 'application/json', '.webmanifest': 'application/manifest+json', '.svg': 'image/svg+xml', '.png': 'image/png', '.map': 'application/json',
};

/** dist/web/public next to the compiled file, or (running from src with tsx) the built one in dist. */
export function webRoot(): string | null {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const c of [join(here, 'public'), resolve(here, '../../dist/web/public')]) if (existsSync(join(c, 'app', 'index.html'))) return c;
  return null;
}

export async function webRoutes(app: FastifyInstance<any, any, any, any, any>, root: string | null = webRoot()): Promise<void> {
  const send = (prefix: 'app' | 'dashboard') => async (req: any, reply: any) => {
    if (!root) return reply.code(404).type('text/plain').send('the web front end is not built: run `npm run build`');
    const rel: string = (req.params['*'] as string | undefined) || 'index.html';
    const base = join(root, prefix);
    const file = normalize(join(base, rel));
    if (!file.startsWith(base + sep) || !existsSync(file) || !statSync(file).isFile()) {
      return reply.code(404).send({ statusCode: 404, error: 'Not Found', message: `no file /${prefix}/${rel}` });
    }
    // The service worker and the pages must be revalidated so a new build reaches installed apps.
    const name = file.slice(base.length + 1);
    reply.header('cache-control', name === 'sw.js' || name.endsWith('.html') || name.endsWith('.webmanifest') ? 'no-cache' : 'public, max-age=300');
    if (name === 'sw.js') reply.header('service-worker-allowed', `/${prefix}/`);
    return reply.type(TYPES[extname(file)] ?? 'application/octet-stream').send(readFileSync(file));
  };
  const hide = { schema: { hide: true } };
  app.get('/app', hide, async (_req, reply) => reply.redirect('/app/'));
  app.get('/app/*', hide, send('app'));
  app.get('/dashboard', hide, async (_req, reply) => reply.redirect('/dashboard/'));
  app.get('/dashboard/*', hide, send('dashboard'));
  // Links the server gives out carry the code in the fragment (/app/#code=…), which no server
  // sees; older links (/enrol?code=…) still work and move the code into the fragment.
  app.get('/enrol', hide, async (req: any, reply) => {
    const code = typeof req.query?.code === 'string' ? req.query.code : '';
    return reply.redirect(code ? `/app/#code=${encodeURIComponent(code)}` : '/app/');
  });
}
