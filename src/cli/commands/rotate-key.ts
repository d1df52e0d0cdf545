/**
 * `moodlens rotate-key`: seal everything the server keeps encrypted at rest (recordings, notes,
 * covariates, push keys, exports) again under a new data key, while servers keep running and
 * reading (docs/security.md, "Key rotation"). Afterwards every server must be started with the
 * new key.
 */
import type { Command } from 'commander';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { optionsFrom, parseFlags } from '../../util/flags.js';

const RotateOptions = z.object({
  db: z.string().min(1).optional(),
  dataDir: z.string().min(1),
  oldKeyFile: z.string().min(1),
  newKeyFile: z.string().min(1),
  graceS: z.coerce.number().min(0).max(3600).default(5),
}).strict();

export function register(program: Command): void {
  const opt = optionsFrom(RotateOptions);
  program.command('rotate-key')
    .description('seal every encrypted value and file again under a new data key, while servers keep running')
    .option('--db <url>', 'sqlite:FILE or postgres://… (default sqlite:<data-dir>/moodlens.db)')
    .requiredOption('--data-dir <dir>', 'the server\'s data folder (speech recordings, exports)')
    .requiredOption('--old-key-file <path>', 'the data key the server runs with now')
    .requiredOption('--new-key-file <path>', 'the new data key (created 0600 if absent — back it up)')
    .option(...opt('--grace-s <n>', 'seconds to wait after announcing the new key, so running servers (they check every 2 s) seal with it'))
    .action(async (raw) => {
      const o = parseFlags(RotateOptions, raw);
      const dataDir = resolve(o.dataDir);
      const { openDatabase } = await import('../../server/storage/connect.js');
      const { keyFromFile, rotateDataKey } = await import('../../server/storage/data-key.js');
      const log = (l: string) => console.error(l);
      const oldKey = await keyFromFile(resolve(o.oldKeyFile), false, log);
      const newKey = await keyFromFile(resolve(o.newKeyFile), true, log);
      const handle = await openDatabase(o.db ?? `sqlite:${join(dataDir, 'moodlens.db')}`);
      try {
        const r = await rotateDataKey({ db: handle.db, dataDir, oldKey, newKey, graceMs: o.graceS * 1000, log });
        console.log(`rotate-key: done — ${r.values} values and ${r.files} files now sealed under data key ${r.newKeyId} (was ${r.oldKeyId}), ${r.passes} pass${r.passes === 1 ? '' : 'es'}.`);
        console.log(`rotate-key: running servers already use the new key; start them from now on with --key-file ${resolve(o.newKeyFile)} (the old key fails the start-up check). Keep the old key only as long as backups made before today need it.`);
      } finally {
        await handle.close();
      }
    });
}
