/**
 * `moodlens serve`: the study platform server (src/server). SQLite is the embedded default;
 * PostgreSQL for scale-out. The first admin comes from MOODLENS_ADMIN_EMAIL and
 * MOODLENS_ADMIN_PASSWORD (at least 12 characters) when the database has no user yet.
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { optionsFrom, parseFlags } from '../../util/flags.js';
import { UsageError } from '../../util/errors.js';
import { DEFAULT_LIMITS, LIMIT_FLAGS, LIMIT_HELP, limitsFromFlags } from '../../server/http/limits.js';

const ServeOptions = z.object({
  db: z.string().optional(),
  port: z.coerce.number().int().min(0).max(65535).default(8080),
  host: z.string().default('127.0.0.1'),
  dataDir: z.string().default('./moodlens-data'),
  modelsDir: z.string().min(1).optional(),
  publicUrl: z.string().url().optional(),
  log: z.boolean().default(false),
  authRateLimit: z.coerce.number().int().min(1).max(100000).default(10),
  exportRetentionDays: z.coerce.number().positive().max(36500).optional(),
  ffmpeg: z.string().min(1).optional(),
  tlsCert: z.string().min(1).optional(),
  tlsKey: z.string().min(1).optional(),
  keyFile: z.string().min(1).optional(),
  /** Flag alone: trust every proxy hop; with a value: the proxies' addresses/CIDRs, comma-separated. */
  trustProxy: z.union([z.literal(true), z.string().min(1).regex(/^[0-9A-Fa-f.:/,\s]+$/, 'expected proxy addresses or CIDRs, comma-separated (e.g. 127.0.0.1,10.0.0.0/8)')]).optional(),
  /** Worker threads of this instance computing speech features from uploaded recordings; 0: none (PostgreSQL only: the other instances take them). */
  speechWorkers: z.coerce.number().int().min(0).max(64).default(1),
}).superRefine((o, ctx) => {
  // On SQLite this process is the only one: with no speech worker, no recording would get its features.
  if (o.speechWorkers === 0 && !/^postgres(ql)?:\/\//.test(o.db ?? '')) {
    ctx.addIssue({ code: 'custom', path: ['speechWorkers'], message: '0 leaves recordings to other instances, and on SQLite there are none; use 0 only with --db postgres://…' });
  }
});

export function register(program: Command): void {
  const opt = optionsFrom(ServeOptions);
  const cmd = program.command('serve')
    .description('run the study platform server (enrolment, EMA schedules, ingest, export, predictions, alerts)')
    .addHelpText('after', '\nThe first admin account: set MOODLENS_ADMIN_EMAIL and MOODLENS_ADMIN_PASSWORD when the database has no user yet.\nDeployment (HTTPS, reverse proxy, backups): docs/deploy.md')
    .option('--db <url>', 'sqlite:FILE or postgres://user@host:port/db (default sqlite:<data-dir>/moodlens.db)')
    .option(...opt('--port <n>', 'TCP port (0 = any free port)'))
    .option(...opt('--host <addr>', 'address to listen on'))
    .option(...opt('--data-dir <dir>', 'where speech files, exports and the SQLite database live'))
    .option('--models-dir <dir>', 'the only folder model folders are attached from, each named relative to it (PUT /studies/:id/model {"model": "NAME"}) (default <data-dir>/models)')
    .option('--public-url <url>', 'base URL printed in enrolment links (default: the request\'s Host)')
    .option(...opt('--auth-rate-limit <n>', 'login and enrolment attempts per minute per client address'))
    .option('--export-retention-days <n>', 'remove finished exports (they hold personal data) this many days after they finished (default: keep)')
    .option('--ffmpeg <path>', 'ffmpeg binary: also accept speech uploads in other formats (m4a, 3gpp, ogg, webm, mp3, flac), stored as 16 kHz mono WAV (default: WAV only)')
    .option('--tls-cert <file>', 'serve HTTPS with this certificate (PEM, full chain); reloaded on SIGHUP')
    .option('--tls-key <file>', 'the certificate\'s private key (PEM)')
    .option('--key-file <path>', 'data key (base64, 32 bytes) that seals recordings, notes, covariates, push keys and exports at rest; created 0600 if absent on a new database — back it up apart from the data (default <data-dir>/keys/data.key; or set MOODLENS_DATA_KEY)')
    .option('--trust-proxy [addresses]', 'behind a reverse proxy: take the client address from X-Forwarded-For so rate limits key on the real client (alone: trust every hop; or the proxies\' addresses/CIDRs, comma-separated). Off by default: every client behind a proxy then shares its limits')
    .option(...opt('--speech-workers <n>', 'worker threads computing speech features of uploaded recordings in this instance (PostgreSQL: 0 = none here, the other instances take them)'))
    .option('--log', 'log every request (JSON lines; secrets in URLs redacted)');
  // Limits (docs/security.md, "Limits"): one flag each, checked by ServerLimitsSchema.
  for (const [key, flag] of Object.entries(LIMIT_FLAGS) as [keyof typeof LIMIT_FLAGS, string][]) {
    cmd.option(`--${flag} <n>`, `${LIMIT_HELP[key].replace(/\.$/, '')} (default ${DEFAULT_LIMITS[key]})`);
  }
  cmd.action(async (raw) => {
    let limits;
    try {
      limits = limitsFromFlags(Object.fromEntries(Object.values(LIMIT_FLAGS).map((f) => [f, raw[f.replace(/-([a-z])/g, (_: string, c: string) => c.toUpperCase())] as string | undefined])));
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const { runServe } = await import('../../server/main.js');
    await runServe({ ...parseFlags(ServeOptions, raw), limits });
  });
}
