/**
 * What the browser tests share: a server for the front ends, Chromium's launch, and screenshots of the web pages with the check that goes with each: no horizontal overflow (the
 * page never scrolls sideways; wide tables and charts scroll inside their card). Screenshots go
 * to $MOODLENS_SCREENSHOTS when set (docs use them), else to a fresh temp folder, named once.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { buildServer, type ServerOptions } from '../../src/server/server.js';

export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1280, height: 800 };

let dir: string | null = null;
/** The screenshot folder (created on first use). */
export function screenshotDir(): string {
  if (!dir) {
    dir = process.env.MOODLENS_SCREENSHOTS ?? mkdtempSync(join(tmpdir(), 'moodlens-screens-'));
    mkdirSync(dir, { recursive: true });
    console.log(`web tests: screenshots in ${dir}`);
  }
  return dir;
}

/** Why the page scrolls sideways (the outermost elements reaching past the window), or null. */
export function horizontalOverflow(page: Page): Promise<string | null> {
  return page.evaluate(() => {
    const de = document.documentElement;
    if (de.scrollWidth <= innerWidth) return null;
    // Inside a scrolling box (a wide table in its card) is fine, unless taken out of it (position: absolute or fixed).
    const clipped = (e: Element) => {
      if (['absolute', 'fixed'].includes(getComputedStyle(e).position)) return false;
      for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) if (getComputedStyle(a).overflowX !== 'visible') return true;
      return false;
    };
    const past = [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > innerWidth + 0.5 && !clipped(e));
    const outer = past.filter((e) => !past.includes(e.parentElement!)).slice(0, 5);
    const name = (e: Element) => `${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ''}${typeof e.className === 'string' && e.className ? `.${e.className.split(' ').join('.')}` : ''} (right ${Math.round(e.getBoundingClientRect().right)})`;
    return `scrollWidth ${de.scrollWidth} > innerWidth ${innerWidth}: ${outer.map(name).join(', ')}`;
  });
}

/** A full-page screenshot `name.png`; fails when the page overflows sideways. */
export async function screen(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(screenshotDir(), `${name}.png`), fullPage: true });
  const why = await horizontalOverflow(page);
  if (why) throw new Error(`${name}: the page scrolls sideways — ${why}`);
}

/** Debian's Chromium (or $MOODLENS_CHROMIUM), headless, with the flags every web test needs and `extra` ones. */
export async function launchChromium(executablePath: string, extra: string[] = []) {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', ...extra] });
}

/**
 * The built front ends served by a real server on a random port (SQLite in a fresh temp folder,
 * `admin` as its first account); close() stops it and removes the folder.
 */
export async function startWebServer(prefix: string, opts: Partial<ServerOptions> & { admin: { email: string; password: string } }) {
  execFileSync(process.execPath, ['scripts/build-web.mjs'], { env: { ...process.env, MOODLENS_QUIET: '1' } });
  const dataDir = mkdtempSync(join(tmpdir(), prefix));
  const server = await buildServer({ db: `sqlite:${join(dataDir, 'web.db')}`, dataDir, authRateLimit: 1000, keyLog: () => {}, ...opts });
  await server.app.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${(server.app.server.address() as { port: number }).port}`;
  return { server, base, dataDir, async close() { await server.close(); rmSync(dataDir, { recursive: true, force: true }); } };
}
