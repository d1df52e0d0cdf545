/**
 * Start the server and stop it cleanly on SIGINT/SIGTERM. `moodlens serve` calls `runServe`;
 * this file also runs on its own (`node --import tsx src/server/main.ts --db … --port …`), which
 * skips loading every other CLI command (the durability test and the benchmark spawn it so).
 */
import { parseArgs } from 'node:util';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildServer } from './app.js';

export interface ServeOptions { db?: string; port: number; host: string; dataDir: string; modelsDir?: string; publicUrl?: string; log?: boolean; authRateLimit?: number; exportRetentionDays?: number; ffmpeg?: string }

export async function runServe(o: ServeOptions): Promise<void> {
  const dataDir = resolve(o.dataDir);
  const db = o.db ?? `sqlite:${join(dataDir, 'moodlens.db')}`;
  const email = process.env.MOODLENS_ADMIN_EMAIL, password = process.env.MOODLENS_ADMIN_PASSWORD;
  const server = await buildServer({
    db, dataDir, modelsDir: o.modelsDir ? resolve(o.modelsDir) : undefined, logger: o.log ?? false, publicUrl: o.publicUrl, authRateLimit: o.authRateLimit, exportRetentionDays: o.exportRetentionDays, ffmpeg: o.ffmpeg,
    admin: email && password ? { email, password } : undefined,
  });
  const address = await server.app.listen({ port: o.port, host: o.host });
  console.log(`moodlens serve: listening on ${address} (db ${db.replace(/:[^:@/]*@/, ':***@')}; models from ${server.ctx.modelsDir}); API docs at ${address}/docs`);
  const stop = async () => { await server.close(); process.exit(0); };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { db: { type: 'string' }, port: { type: 'string', default: '8080' }, host: { type: 'string', default: '127.0.0.1' }, 'data-dir': { type: 'string', default: './moodlens-data' }, 'models-dir': { type: 'string' }, 'auth-rate-limit': { type: 'string', default: '10' } } });
  await runServe({ db: values.db, port: Number(values.port), host: values.host!, dataDir: values['data-dir']!, modelsDir: values['models-dir'], authRateLimit: Number(values['auth-rate-limit']) });
}
