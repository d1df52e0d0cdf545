/**
 * The `moodlens` command line. A thin shell over the library: every file in ./commands/
 * exports `register(program)` and adds one command (or a group), so commands are added
 * without editing this file.
 */
import { Command, CommanderError } from 'commander';
import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';
import { fsProblem, InputError, UsageError } from '../util/errors.js';

export interface CommandModule { register(program: Command): void }

/**
 * Build the program. With `only` (the first word of the command line), only the command files
 * whose name starts with it are loaded — `moodlens validate` does not pay for tfjs or Fastify —
 * and when none of them defines that command, every file is loaded (help, typos, aliases).
 */
export async function buildProgram(only?: string): Promise<Command> {
  const dir = join(dirname(fileURLToPath(import.meta.url)), 'commands');
  const files = readdirSync(dir).filter((f) => /\.(js|ts)$/.test(f) && !f.endsWith('.d.ts') && !f.endsWith('.map')).sort();
  const make = async (subset: string[]) => {
    const program = new Command('moodlens')
      .description('Personalised, multimodal, multitask monitoring of daily mental health')
      .showHelpAfterError()
      .exitOverride();
    for (const f of subset) {
      const mod = (await import(pathToFileURL(join(dir, f)).href)) as Partial<CommandModule>;
      if (typeof mod.register === 'function') mod.register(program);
    }
    return program;
  };
  if (only && /^[a-z]/.test(only)) {
    const subset = files.filter((f) => f.startsWith(only));
    if (subset.length > 0) {
      const program = await make(subset);
      if (program.commands.some((c) => c.name() === only || c.aliases().includes(only))) return program;
    }
  }
  return make(files);
}

/** Run the command line; errors become a clear message and exit code, never a stack trace. */
export async function run(argv: string[]): Promise<number> {
  // --debug (anywhere) or MOODLENS_DEBUG=1: an unexpected error prints its stack trace.
  const debug = argv.includes('--debug') || process.env.MOODLENS_DEBUG === '1';
  argv = argv.filter((a) => a !== '--debug');
  const program = await buildProgram(argv[0]);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    if (e instanceof InputError) { console.error(e.message); return 1; }
    if (e instanceof UsageError) { console.error(`moodlens: ${e.message}`); return 1; }
    if (debug) console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
    else {
      const err = e as NodeJS.ErrnoException;
      // A file the command could not read or write: say which, in one line.
      const what = err?.code && err.path ? `${err.path}: ${fsProblem(err)}` : (e instanceof Error ? e.message : String(e));
      console.error(`moodlens: ${what.split('\n')[0]} (run again with --debug for the details)`);
    }
    return 1;
  }
}


const isMain = process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href;
const viaBin = process.argv[1]?.endsWith('moodlens.js') || process.argv[1]?.endsWith('moodlens');
if (isMain || viaBin) {
  run(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}
