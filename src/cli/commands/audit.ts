/**
 * `moodlens audit verify`: walk the server's audit hash chain (src/server/storage/audit-chain.ts) and
 * name the first row that does not verify. Exit 0 when the chain is whole, 1 when it is broken.
 * Read-only: the database is opened without migrations.
 */
import type { Command } from 'commander';
import { join } from 'node:path';
import { z } from 'zod';
import { UsageError } from '../../util/errors.js';
import { optionsFrom, parseFlags } from '../../util/flags.js';

const VerifyOptions = z.object({
  db: z.string().min(1).optional(),
  dataDir: z.string().min(1).default('./moodlens-data'),
  json: z.boolean().default(false),
}).strict();

export function register(program: Command): void {
  const opt = optionsFrom(VerifyOptions);
  const audit = program.command('audit').description('the server\'s tamper-evident audit log');
  audit.command('verify')
    .description('check the audit log\'s hash chain; names the first edited, inserted or deleted row (exit 1)')
    .option('--db <url>', 'sqlite:FILE or postgres://… (default sqlite:<data-dir>/moodlens.db)')
    .option(...opt('--data-dir <dir>', 'the server\'s data folder'))
    .option('--json', 'print the result as JSON')
    .action(async (raw) => {
      const o = parseFlags(VerifyOptions, raw);
      const url = o.db ?? `sqlite:${join(o.dataDir, 'moodlens.db')}`;
      const { openDatabase } = await import('../../server/storage/connect.js');
      const { verifyAuditChain } = await import('../../server/storage/audit-chain.js');
      if (url.startsWith('sqlite:')) {
        const { existsSync } = await import('node:fs');
        if (!existsSync(url.slice(7))) throw new UsageError(`--db: ${url.slice(7)}: no such database file`);
      }
      const handle = await openDatabase(url, { migrate: false }).catch((e: unknown) => { throw new UsageError(`--db: cannot open ${url.replace(/:[^:@/]*@/, ':***@')}: ${e instanceof Error ? e.message : e}`); });
      try {
        const r = await verifyAuditChain(handle.db).catch((e: unknown) => {
          const msg = e instanceof Error ? e.message : String(e);
          if (/hash/.test(msg) && /column|no such/.test(msg)) throw new UsageError('this database has no audit chain yet: start `moodlens serve` on it once');
          throw e;
        });
        if (o.json) console.log(JSON.stringify(r));
        else if (r.ok) console.log(`audit chain OK: ${r.rows} rows verified; last hash ${r.lastHash.slice(0, 16)}…`);
        else console.log(`audit chain BROKEN at row ${r.broken!.id}: ${r.broken!.reason} (${r.rows} rows before it verified)`);
        process.exitCode = r.ok ? 0 : 1;
      } finally {
        await handle.close();
      }
    });
}
