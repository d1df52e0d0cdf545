/**
 * Start the server and stop it cleanly on SIGINT/SIGTERM. `moodlens serve` calls `runServe`;
 * this file also runs on its own (`node --import tsx src/server/main.ts --db … --port …`), which
 * skips loading every other CLI command (the durability test and the benchmark spawn it so).
 */
import { parseArgs } from 'node:util';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readFileSync } from 'node:fs';
import { buildServer } from './server.js';
import { UsageError } from '../util/errors.js';
import { LIMIT_FLAGS, limitsFromFlags, type ServerLimits } from './http/limits.js';

export interface ServeOptions { db?: string; port: number; host: string; dataDir: string; modelsDir?: string; publicUrl?: string; log?: boolean; authRateLimit?: number; exportRetentionDays?: number; ffmpeg?: string; keyFile?: string; tlsCert?: string; tlsKey?: string; trustProxy?: boolean | string; limits?: Partial<ServerLimits>; speechWorkers?: number }

/** The key and certificate files, read (again on SIGHUP); a clear error when one is missing. */
function readTls(o: ServeOptions): { key: Buffer; cert: Buffer } | undefined {
  if (!o.tlsCert && !o.tlsKey) return undefined;
  if (!o.tlsCert || !o.tlsKey) throw new UsageError('--tls-cert and --tls-key go together');
  const read = (flag: string, f: string) => {
    try { return readFileSync(f); } catch (e) { throw new UsageError(`${flag}: cannot read ${f}: ${(e as NodeJS.ErrnoException).code ?? e}`); }
  };
  return { key: read('--tls-key', o.tlsKey), cert: read('--tls-cert', o.tlsCert) };
}

export async function runServe(o: ServeOptions): Promise<void> {
  const dataDir = resolve(o.dataDir);
  const db = o.db ?? `sqlite:${join(dataDir, 'moodlens.db')}`;
  const email = process.env.MOODLENS_ADMIN_EMAIL, password = process.env.MOODLENS_ADMIN_PASSWORD;
  const tls = readTls(o);
  const server = await buildServer({
    // The data key (docs/security.md): --key-file, or MOODLENS_DATA_KEY, or <data-dir>/keys/data.key.
    keyFile: o.keyFile === undefined ? undefined : resolve(o.keyFile), dataKey: process.env.MOODLENS_DATA_KEY || undefined,
    db, dataDir, modelsDir: o.modelsDir ? resolve(o.modelsDir) : undefined, logger: o.log ?? false, publicUrl: o.publicUrl, authRateLimit: o.authRateLimit, exportRetentionDays: o.exportRetentionDays, ffmpeg: o.ffmpeg, limits: o.limits, trustProxy: o.trustProxy, speechWorkers: o.speechWorkers,
    admin: email && password ? { email, password } : undefined, tls,
  });
  let address: string;
  try {
    address = await server.app.listen({ port: o.port, host: o.host });
  } catch (e) {
    await server.close().catch(() => {});
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new UsageError(`--port: ${o.host}:${o.port} is already in use (another moodlens serve?); stop it or choose another --port`);
    if (code === 'EACCES') throw new UsageError(`--port: not allowed to listen on ${o.host}:${o.port} (ports below 1024 need privileges; use a reverse proxy: docs/deploy.md)`);
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new UsageError(`--host: ${o.host} is not an address of this machine`);
    throw e;
  }
  const base = (o.publicUrl ?? address).replace(/\/$/, '');
  console.log(`moodlens serve: listening on ${address} (db ${db.replace(/:[^:@/]*@/, ':***@')}; models from ${server.ctx.modelsDir}); API docs at ${address}/docs`);
  console.log(`  dashboard (researchers)   ${base}/dashboard/`);
  console.log(`  app (participants)        ${base}/app/`);
  console.log(`  API docs                  ${base}/docs`);
  if (o.speechWorkers === 0) console.log('  speech features           none computed in this instance (--speech-workers 0): the other instances take them');
  const users = await server.store.countUsers();
  console.log(users > 0
    ? `  accounts                  ${users}`
    : '  no account yet: stop the server, set MOODLENS_ADMIN_EMAIL and MOODLENS_ADMIN_PASSWORD and start it again to create the first admin');
  if (!tls && !/^https:/.test(base) && o.host !== '127.0.0.1' && o.host !== 'localhost') {
    console.log('  warning: plain HTTP on a network address — phones need HTTPS for the microphone and for reminders (--tls-cert/--tls-key, or a reverse proxy: docs/deploy.md)');
  }
  if (tls) {
    // A renewed certificate (e.g. by certbot) is taken up without a restart.
    process.on('SIGHUP', () => {
      try { (server.app.server as import('node:https').Server).setSecureContext(readTls(o)!); console.log('moodlens serve: TLS certificate reloaded'); } catch (e) { console.error(`moodlens serve: TLS reload failed, keeping the old certificate: ${e instanceof Error ? e.message : e}`); }
    });
  }
  const stop = async () => { await server.close(); process.exit(0); };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const limitOptions = Object.fromEntries(Object.values(LIMIT_FLAGS).map((f) => [f, { type: 'string' as const }]));
  const { values } = parseArgs({ options: { db: { type: 'string' }, port: { type: 'string', default: '8080' }, host: { type: 'string', default: '127.0.0.1' }, 'data-dir': { type: 'string', default: './moodlens-data' }, 'key-file': { type: 'string' }, 'models-dir': { type: 'string' }, 'auth-rate-limit': { type: 'string', default: '10' }, ...limitOptions } });
  await runServe({ db: values.db, port: Number(values.port), host: values.host!, dataDir: values['data-dir']!, modelsDir: values['models-dir'], authRateLimit: Number(values['auth-rate-limit']), keyFile: values['key-file'], limits: limitsFromFlags(values as Record<string, string | undefined>) });
}
