/**
 * The `moodlens` command line. A thin shell over the library: every file in ./commands/
 * exports `register(program)` and adds one command (or a group), so commands are added
 * without editing this file.
 */
import { Command, CommanderError } from 'commander';
import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';
import { InputError, UsageError } from '../util/errors.js';

export interface CommandModule { register(program: Command): void }

export async function buildProgram(): Promise<Command> {
  const program = new Command('moodlens')
    .description('Personalised, multimodal, multitask monitoring of daily mental health')
    .showHelpAfterError()
    .exitOverride();
  const dir = join(dirname(fileURLToPath(import.meta.url)), 'commands');
  const files = readdirSync(dir).filter((f) => /\.(js|ts)$/.test(f) && !f.endsWith('.d.ts') && !f.endsWith('.map')).sort();
  for (const f of files) {
    const mod = (await import(pathToFileURL(join(dir, f)).href)) as Partial<CommandModule>;
    if (typeof mod.register === 'function') mod.register(program);
  }
  return program;
}

/** Run the command line; errors become a clear message and exit code, never a stack trace. */
export async function run(argv: string[]): Promise<number> {
  const program = await buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    if (e instanceof InputError) { console.error(e.message); return 1; }
    if (e instanceof UsageError) { console.error(`moodlens: ${e.message}`); return 1; }
    console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
    return 1;
  }
}


const isMain = process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href;
const viaBin = process.argv[1]?.endsWith('moodlens.js') || process.argv[1]?.endsWith('moodlens');
if (isMain || viaBin) {
  run(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}
