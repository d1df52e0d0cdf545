/**
 * The participant app with every item kind and a questionnaire, in Chromium against the real
 * server, both on one injected clock (the server's ServerOptions.now, the page's through
 * Playwright's page.clock): only open prompts are offered (from their time until their expiry,
 * closed once answered, computed offline too), each kind is answered by keyboard or touch with
 * an accessible name and large targets, and what arrives is what was chosen — the PHQ-9 scored.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import type { Browser, Page } from 'playwright-core';
import { buildServer, type Server } from '../../src/server/server.js';
import { launchChromium, PHONE, screen } from './screens.js';
import { EVERY_KIND_ITEMS } from '../support/item-kinds.js';

const CHROMIUM = process.env.MOODLENS_CHROMIUM ?? '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM) console.warn(`web tests: no chromium at ${CHROMIUM} — skipped (install it: apt-get install chromium, or run scripts/setup-services.sh)`);
const ADMIN = { email: 'admin@example.org', password: 'correct horse battery' };
const ZONE = 'Europe/Berlin';
const at = (iso: string) => DateTime.fromISO(iso, { zone: ZONE }).toMillis();

const CONFIG = {
  name: 'Kinds study', timezone: ZONE, speech: { kind: 'none' },
  items: EVERY_KIND_ITEMS,
  schedule: { times: ['11:00', '15:00', '19:00'], jitterMinutes: 0, expiryMinutes: 60, wakeAndBed: false, days: 7 },
  instruments: [
    { id: 'phq9', builtin: 'phq9', schedule: { times: ['20:00'], jitterMinutes: 0, expiryMinutes: 180, days: 7 } },
    { id: 'craving', label: 'Craving', items: [{ id: 'crave', kind: 'boolean', label: 'Strong craving?' }], schedule: { times: [], eventContingent: true, days: 7 } },
    { id: 'morning', label: 'Morning', items: [{ id: 'slept', kind: 'likert', label: 'How did you sleep?', labels: ['badly', 'fair', 'well'] }],
      schedule: { windows: [{ start: 'wake', end: 'wake+30' }], expiryMinutes: 30, days: 7 } },
  ],
};

/** Every button, input and textarea has an accessible name; every radio or check box sits in a named group. */
async function unnamedControls(page: Page): Promise<string[]> {
  return page.evaluate(() => [...document.querySelectorAll('button, input, select, textarea')].filter((el) => {
    const e = el as HTMLInputElement;
    if (e.hidden || e.type === 'hidden') return false;
    const named = (e.labels && e.labels.length > 0) || e.getAttribute('aria-label') || e.getAttribute('aria-labelledby') || (e.textContent ?? '').trim();
    const grouped = !['radio', 'checkbox'].includes(e.type) || e.id === 'agree' || !!e.closest('fieldset')?.querySelector('legend')?.textContent?.trim();
    return !(named && grouped);
  }).map((el) => el.outerHTML.slice(0, 80)));
}

describe.skipIf(!HAVE_CHROMIUM)('item kinds and questionnaires in the participant app (chromium)', () => {
  let server: Server, base: string, dataDir: string, browser: Browser, researcher: string, studyId: string;
  let clock = at('2026-03-23T08:00');
  const errors: string[] = [];
  const api = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(base + path, { method, headers: { authorization: `Bearer ${researcher}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
    return r.json() as Promise<any>;
  };

  beforeAll(async () => {
    execFileSync(process.execPath, ['scripts/build-web.mjs'], { env: { ...process.env, MOODLENS_QUIET: '1' } });
    dataDir = mkdtempSync(join(tmpdir(), 'moodlens-kinds-'));
    server = await buildServer({ db: `sqlite:${join(dataDir, 'web.db')}`, dataDir, admin: ADMIN, alertDebounceMs: 0, authRateLimit: 1000, now: () => clock, keyLog: () => {} });
    await server.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(server.app.server.address() as { port: number }).port}`;
    researcher = (await (await fetch(base + '/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) })).json()).token;
    studyId = (await api('POST', '/studies', { config: CONFIG })).id;
    browser = await launchChromium(CHROMIUM);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('offers only open prompts and takes every kind by keyboard and touch', async () => {
    const invite = await api('POST', `/studies/${studyId}/participants`, { participantId: 'P01' });
    // The phone is in the participant's zone, 24-hour clock.
    const phone = await browser.newContext({ viewport: PHONE, deviceScaleFactor: 1, hasTouch: true, isMobile: true, timezoneId: ZONE, locale: 'en-GB' });
    const page = await phone.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    const setClock = async (ms: number) => { clock = ms; await page.clock.setFixedTime(ms); };
    await setClock(clock);
    await page.goto(invite.enrolUrl);
    await page.getByRole('button', { name: 'Join' }).click();
    await page.getByLabel(/I have read the information/).check();
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { name: 'Hello' }).waitFor();

    // the participant's own wake time (the morning questionnaire comes in the 30 minutes after it)
    await page.getByText('My wake and bed times').click();
    expect(await page.inputValue('#wake-time')).toBe('08:00');
    await page.getByLabel('I usually wake up at').fill('06:00');
    await page.getByRole('button', { name: 'Save times' }).click();
    await page.getByText('Saved: your check-ins follow these times.').waitFor();
    expect(await page.inputValue('#wake-time')).toBe('06:00');
    const morning = (await api('GET', `/studies/${studyId}/participants/P01/schedule`)).prompts.filter((p: { instrument: string }) => p.instrument === 'morning');
    expect(morning.map((p: { day: number }) => p.day)).toEqual([1, 2, 3, 4, 5, 6]); // day 0's fell before enrolment
    for (const p of morning) expect(p.time.slice(11, 13)).toBe('06');

    // 08:00: nothing open; the next check-in is 11:00
    expect(await page.locator('#h-open').count()).toBe(0);
    expect(await page.textContent('main')).toMatch(/Next check-in: .*11:00/);
    expect(await page.getByRole('button', { name: 'Report: Craving' }).count()).toBe(1);

    // 11:05: the 11:00 check-in is open until 12:00
    await setClock(at('2026-03-23T11:05'));
    await page.reload();
    await page.getByRole('button', { name: 'Check-in of 11:00' }).waitFor();
    expect(await page.textContent('#open-0-until')).toBe('open until 12:00');
    await screen(page, 'app-kinds-open-phone');
    await page.getByRole('button', { name: 'Check-in of 11:00' }).click();
    await page.getByRole('button', { name: 'Save answers' }).waitFor();
    expect(await unnamedControls(page)).toEqual([]);
    // large touch targets: every option row and the text box are at least 44 px high
    for (const box of await page.locator('.options label, textarea').evaluateAll((els) => els.map((e) => e.getBoundingClientRect().height))) expect(box).toBeGreaterThanOrEqual(44);
    // nothing preselected
    expect(await page.locator('input[type=radio]:checked, input[type=checkbox]:checked').count()).toBe(0);
    await screen(page, 'app-kinds-items-phone');

    // keyboard: Tab to the Likert group, arrow keys choose; Space ticks check boxes; touch for the rest
    await page.getByRole('group', { name: 'Energy' }).getByLabel('none').focus();
    await page.keyboard.press('ArrowDown'); // → little
    await page.keyboard.press('ArrowDown'); // → some
    await page.getByRole('group', { name: 'Who is with you?' }).getByLabel('partner').focus();
    await page.keyboard.press('Space');
    await page.getByRole('group', { name: 'Who is with you?' }).getByLabel('friends').tap();
    await page.getByRole('group', { name: 'Where are you?' }).getByLabel('elsewhere').tap();
    await page.getByRole('group', { name: 'Coffee since the last check-in?' }).getByLabel('Yes').tap();
    await page.getByLabel('Anything else?').fill('a walk by the river');
    const slider = page.getByLabel('Mood', { exact: true });
    await slider.focus();
    await page.keyboard.press('ArrowRight'); // a keyboard answer of the slider: touched, one step up from the middle
    expect(await slider.getAttribute('aria-valuetext')).toBe('51');
    await page.getByRole('button', { name: 'Save answers' }).click();
    await page.getByRole('heading', { name: 'Thank you' }).waitFor();
    await page.getByText('Everything is uploaded.').waitFor({ timeout: 15_000 });
    let reports = await api('GET', `/studies/${studyId}/participants/P01/reports`);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({
      trigger: 'scheduled', promptId: 'ema:0:0', promptTime: '2026-03-23T11:00:00+01:00', instrument: 'ema',
      answers: { mood: 51, energy: 2, place: 3, company_0: 0, company_1: 1, company_2: 1, coffee: 1 }, texts: { note: 'a walk by the river' },
    });

    // answered: no longer offered
    await page.getByRole('button', { name: 'Done' }).click();
    await page.getByRole('heading', { name: 'Hello' }).waitFor();
    expect(await page.locator('#h-open').count()).toBe(0);

    // 20:30: the PHQ-9, with its instructions and standard wording, in its own order
    await setClock(at('2026-03-23T20:30'));
    await page.reload();
    await page.getByRole('button', { name: 'PHQ-9 of 20:00' }).click();
    await page.getByText(/^Over the last 2 weeks, how often have you been bothered/).waitFor();
    const groups = page.getByRole('group');
    expect(await groups.count()).toBe(9);
    expect(await groups.first().locator('legend').textContent()).toBe('Little interest or pleasure in doing things');
    expect(await groups.first().locator('label').allTextContents()).toEqual([' Not at all', ' Several days', ' More than half the days', ' Nearly every day']);
    const values = [0, 1, 2, 3, 0, 1, 2, 3, 1]; // 13 by hand: moderate
    for (const [k, v] of values.entries()) await groups.nth(k).locator('input').nth(v).check();
    expect(await unnamedControls(page)).toEqual([]);
    await screen(page, 'app-phq9-phone');
    await page.getByRole('button', { name: 'Save answers' }).click();
    await page.getByText('Everything is uploaded.').waitFor({ timeout: 15_000 });
    reports = await api('GET', `/studies/${studyId}/participants/P01/reports`);
    expect(reports.find((r: any) => r.instrument === 'phq9')).toMatchObject({ promptId: 'phq9:0:0', scores: { phq9_total: 13 }, band: 'moderate' });

    // offline the next morning: the app computes the open prompt itself (same schedule module)
    await phone.setOffline(true);
    await setClock(at('2026-03-24T15:20'));
    await page.getByRole('button', { name: 'Done' }).click();
    await page.getByRole('button', { name: 'Check-in of 15:00' }).waitFor();
    expect(await page.getByRole('button', { name: /^Morning of/ }).count()).toBe(0); // 06:xx + 30 min: expired
    expect(await page.getByRole('button', { name: /Check-in of 11:00/ }).count()).toBe(0); // expired at 12:00
    // and after its expiry it is gone
    await setClock(at('2026-03-24T16:00'));
    await page.evaluate(() => dispatchEvent(new Event('offline')));
    await phone.setOffline(false);
    await page.reload();
    await page.getByRole('heading', { name: 'Hello' }).waitFor();
    expect(await page.locator('#h-open').count()).toBe(0);

    // an event-contingent report, any time
    await page.getByRole('button', { name: 'Report: Craving' }).click();
    await page.getByRole('group', { name: 'Strong craving?' }).getByLabel('No').check();
    await page.getByRole('button', { name: 'Save answers' }).click();
    await page.getByText('Everything is uploaded.').waitFor({ timeout: 15_000 });
    reports = await api('GET', `/studies/${studyId}/participants/P01/reports`);
    expect(reports.find((r: any) => r.instrument === 'craving')).toMatchObject({ trigger: 'event', answers: { crave: 0 }, promptId: null });
    expect(errors).toEqual([]);
    await phone.close();
  }, 120_000);
});
