/**
 * Progress bars for long work (cli-progress). Quiet when stderr is not a terminal or when
 * MOODLENS_QUIET is set, so tests and CI logs stay readable; a final line is always printed.
 */
import cliProgress from 'cli-progress';

export interface Progress {
  tick(n?: number, payload?: Record<string, string | number>): void;
  update(value: number, payload?: Record<string, string | number>): void;
  stop(): void;
}

export function progress(label: string, total: number, extra = ''): Progress {
  const interactive = process.stderr.isTTY && !process.env.MOODLENS_QUIET;
  if (!interactive) {
    let value = 0;
    return {
      tick(n = 1) { value += n; },
      update(v) { value = v; },
      stop() { if (!process.env.MOODLENS_QUIET) process.stderr.write(`${label}: ${value}/${total} done\n`); },
    };
  }
  const bar = new cliProgress.SingleBar({
    format: `${label.padEnd(14)} [{bar}] {percentage}% {value}/{total} eta {eta_formatted}${extra}`,
    stream: process.stderr,
    hideCursor: true,
  }, cliProgress.Presets.shades_classic);
  // Every {name} of `extra` starts as "–", so the bar never shows a raw placeholder.
  bar.start(total, 0, Object.fromEntries([...extra.matchAll(/\{(\w+)\}/g)].map((m) => [m[1], '–'])));
  return {
    tick(n = 1, payload) { bar.increment(n, payload); },
    update(v, payload) { bar.update(v, payload); },
    stop() { bar.stop(); },
  };
}
