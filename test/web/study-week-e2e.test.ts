/**
 * The study-design issue's week in Chromium (the scenario of test/support/study-week.ts, run
 * through the API in test/server/study-week.test.ts): the participant app on a phone and the
 * server share one simulated clock — the server's injected `now`, the page's Playwright clock —
 * which the test moves prompt by prompt through a week in Europe/Berlin containing the end of
 * summer time (Sunday 25 October 2026). Each slider prompt appears in the app's "Open now" list at
 * its time and is gone at its expiry; the PHQ-9 and GAD-7 are answered in the app and scored as
 * worked out by hand; PHQ-9 item 9 = 2 sends exactly one e-mail to a local SMTP server and one
 * signed webhook call; the dashboard shows every prompt's fate and the notification, which the
 * researcher acknowledges; prompts.csv in the export shows every fate.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, type Server as HttpServer } from 'node:http';
import { SMTPServer } from 'smtp-server';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { DESKTOP, launchChromium, PHONE, screen, startWebServer } from './screens.js';
import { exportAndWait } from '../support/export.js';
import { downloadExport } from '../server/helpers.js';
import { verifyWebhook } from '../../src/server/services/webhook.js';
import { studyPromptsBetween, type Prompt } from '../../src/data/schedule.js';
import {
  GAD7_DAY0, GAD7_DAY0_BAND, GAD7_DAY0_TOTAL, PHQ9_DAY0, PHQ9_DAY0_BAND, PHQ9_DAY0_TOTAL, PHQ9_DAY7, PHQ9_DAY7_TOTAL,
  WEEK_CONFIG, WEEK_START, sliderPlan,
} from '../support/study-week.js';

const CHROMIUM = process.env.MOODLENS_CHROMIUM ?? '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const ADMIN = { email: 'admin@example.org', password: 'correct horse battery' };
const MIN = 60_000;

describe.skipIf(!HAVE_CHROMIUM)('a simulated week of the study design in chromium', () => {
  let clock = Date.parse(WEEK_START);
  let web: Awaited<ReturnType<typeof startWebServer>>, browser: Browser;
  let smtp: SMTPServer, hook: HttpServer, hookUrl = '';
  const mails: string[] = [];
  const hooks: { signature: string; body: string }[] = [];
  const errors: string[] = [];
  const watch = (page: Page) => {
    const expected = ['does not support the Push API in incognito mode'];
    page.on('console', (m) => { if (m.type() === 'error' && !expected.some((x) => m.text().includes(x))) errors.push(`${page.url()}: ${m.text()}`); });
    page.on('pageerror', (e) => errors.push(`${page.url()}: ${e.message}`));
  };

  beforeAll(async () => {
    smtp = new SMTPServer({
      authOptional: true, disabledCommands: ['STARTTLS', 'AUTH'], logger: false,
      onData(stream, _s, cb) { const c: Buffer[] = []; stream.on('data', (b: Buffer) => c.push(b)); stream.on('end', () => { mails.push(Buffer.concat(c).toString('utf8')); cb(); }); },
    });
    await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', () => r()));
    hook = createServer((req, res) => {
      const c: Buffer[] = [];
      req.on('data', (b) => c.push(b));
      req.on('end', () => { hooks.push({ signature: String(req.headers['moodlens-signature']), body: Buffer.concat(c).toString('utf8') }); res.writeHead(204).end(); });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', () => r()));
    hookUrl = `http://127.0.0.1:${(hook.address() as { port: number }).port}/hook`;
    web = await startWebServer('moodlens-week-', {
      admin: ADMIN, alertDebounceMs: 0, now: () => clock, publicUrl: undefined,
      notify: { smtp: { url: `smtp://127.0.0.1:${(smtp.server.address() as { port: number }).port}`, from: 'Moodlens <moodlens@example.org>' }, allowHttp: true, tickMs: 0 },
    });
    browser = await launchChromium(CHROMIUM);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await web?.close();
    await new Promise<void>((r) => smtp.close(() => r()));
    await new Promise((r) => hook.close(r));
  });

  it('prompts appear and expire on time across the DST change, questionnaires are scored, one e-mail and one webhook, every fate in the dashboard and prompts.csv', async () => {
    const base = web.base, server = web.server;
    const admin = (await (await fetch(`${base}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) })).json()).token as string;
    const api = async (method: string, path: string, body?: unknown) => {
      const r = await fetch(base + path, { method, headers: { authorization: `Bearer ${admin}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
      return { status: r.status, json: await r.json() as any };
    };
    const study = await api('POST', '/studies', { config: WEEK_CONFIG });
    expect(study.status, JSON.stringify(study.json)).toBe(201);
    const studyId = study.json.id as string;
    const settings = await api('PUT', `/studies/${studyId}/notify-settings`, { email: true, webhookUrl: hookUrl });
    expect(settings.status, JSON.stringify(settings.json)).toBe(200);
    const invite = await api('POST', `/studies/${studyId}/participants`, { participantId: 'P1', timezone: 'Europe/Berlin' });

    const phone: BrowserContext = await browser.newContext({ viewport: PHONE, deviceScaleFactor: 1, hasTouch: true, isMobile: true, timezoneId: 'Europe/Berlin', locale: 'en-GB' });
    const page = await phone.newPage(); watch(page);
    /** Move both clocks: the server's and the page's (timers keep running; Date says `ms`). */
    const at = async (ms: number) => { clock = ms; await phone.clock.setFixedTime(ms); };
    await at(clock);
    await page.goto(invite.json.enrolUrl);
    await page.getByRole('button', { name: 'Join' }).click();
    await page.getByRole('heading', { name: 'About this study' }).waitFor();
    await page.getByLabel(/I have read the information/).check();
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { name: /^Hello/ }).waitFor();
    const p = (await server.store.participant(studyId, 'P1'))!;
    expect(p.enrolled_ms).toBe(clock);
    const config = (await server.ctx.studyInfo(studyId)).config;
    const weekEnd = Date.parse('2026-10-30T12:00:00+01:00');
    const all = studyPromptsBetween(config, { zone: p.timezone, seed: p.seed, enrolledMs: p.enrolled_ms! }, p.enrolled_ms! - 1, weekEnd);
    expect(all).toHaveLength(20);

    /** The app's home screen now: the prompts it offers ("Open now"). */
    const home = async () => {
      await page.goto(`${base}/app/`);
      await page.getByRole('heading', { name: /^Hello/ }).waitFor();
      return page.locator('[data-prompt]').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.prompt!));
    };
    const reports = async () => (await server.store.reportsOf(p.id)).map((r) => r.client_id);
    /** Answer an open prompt in the app (from its home screen); resolves once the server has the report. */
    const answer = async (x: Prompt, values?: number[]) => {
      const before = (await reports()).length;
      expect(await home(), `${x.id} offered`).toContain(x.id);
      await page.locator(`[data-prompt="${x.id}"]`).click();
      if (x.instrument === 'ema') {
        const sliders = page.locator('input[type=range]');
        await expect.poll(() => sliders.count()).toBe(2);
        for (let k = 0; k < 2; k++) { const box = (await sliders.nth(k).boundingBox())!; await sliders.nth(k).click({ position: { x: box.width * (0.2 + 0.5 * k), y: box.height / 2 } }); }
      } else {
        await page.locator('fieldset[data-item]').first().waitFor();
        for (const [j, v] of values!.entries()) await page.locator(`fieldset[data-item="${x.instrument}_${j + 1}"] input[value="${v}"]`).check();
      }
      await page.getByRole('button', { name: 'Save answers' }).click();
      await page.getByRole('heading', { name: 'Thank you' }).waitFor();
      await expect.poll(reports, { timeout: 15_000 }).toHaveLength(before + 1);
    };

    // The week, prompt by prompt: each appears at its time, is answered or left, and is gone at its expiry.
    const expected = new Map<string, string>();
    const sliders = all.filter((x) => x.instrument === 'ema');
    type Step = { at: number; run: () => Promise<void> };
    const steps: Step[] = [];
    sliders.forEach((x, k) => {
      const plan = sliderPlan(k);
      steps.push({ at: x.timeMs - MIN, run: async () => { expect(await home(), `${x.id} before ${x.time}`).not.toContain(x.id); } });
      steps.push({ at: x.timeMs, run: async () => { expect(await home(), `${x.id} at ${x.time}`).toContain(x.id); } });
      if (plan === 'answer') steps.push({ at: x.timeMs + 10 * MIN, run: async () => { await answer(x); expect(await home()).not.toContain(x.id); } });
      else steps.push({ at: x.expiresMs - MIN, run: async () => { expect(await home(), `${x.id} a minute before expiry`).toContain(x.id); } });
      steps.push({ at: x.expiresMs, run: async () => { expect(await home(), `${x.id} at its expiry`).not.toContain(x.id); } });
      expected.set(x.id, plan === 'answer' ? 'answered' : 'expired');
    });
    const form = (id: string) => all.find((x) => x.id === id)!;
    steps.push({ at: form('phq9:0:0').timeMs + 30 * MIN, run: async () => {
      expect(await home()).toEqual(expect.arrayContaining(['phq9:0:0', 'gad7:0:0']));
      await screen(page, 'app-week-open-phone');
      await answer(form('phq9:0:0'), PHQ9_DAY0);
      await server.monitor.idle(); await server.notify.idle();
      expect(mails).toHaveLength(1);
      expect(hooks).toHaveLength(1);
    } });
    steps.push({ at: form('gad7:0:0').timeMs + 40 * MIN, run: async () => { await answer(form('gad7:0:0'), GAD7_DAY0); } });
    steps.push({ at: form('phq9:7:0').timeMs + 30 * MIN, run: async () => { await answer(form('phq9:7:0'), PHQ9_DAY7); } });
    steps.push({ at: form('gad7:7:0').expiresMs, run: async () => { expect(await home()).not.toContain('gad7:7:0'); } });
    for (const id of ['phq9:0:0', 'gad7:0:0', 'phq9:7:0']) expected.set(id, 'answered');
    expected.set('gad7:7:0', 'expired');
    steps.sort((a, b) => a.at - b.at);
    try {
      for (const step of steps) { await at(step.at); await step.run(); }
    } catch (e) { await page.screenshot({ path: join(web.dataDir, 'FAILED-week.png'), fullPage: true }); console.error(errors); throw e; }
    await at(weekEnd);
    await server.monitor.idle(); await server.notify.idle();

    // Scored as worked out by hand (what the server stored with each report from the app).
    const stored = (await server.store.reportsOf(p.id)).filter((r) => r.instrument);
    expect(stored.map((r) => [r.prompt_id, r.scores, r.band]).sort()).toEqual([
      ['gad7:0:0', { gad7_total: GAD7_DAY0_TOTAL }, GAD7_DAY0_BAND],
      ['phq9:0:0', { phq9_total: PHQ9_DAY0_TOTAL }, PHQ9_DAY0_BAND],
      ['phq9:7:0', { phq9_total: PHQ9_DAY7_TOTAL }, 'minimal'],
    ]);
    // Exactly one e-mail and one webhook in the whole week, signed with the study's secret.
    expect(mails).toHaveLength(1);
    expect(mails[0]).toContain('Subject: Moodlens: participant P1 needs attention (Week study)');
    expect(hooks).toHaveLength(1);
    expect(verifyWebhook(settings.json.webhookSecret, hooks[0].signature, hooks[0].body, Date.now())).toMatchObject({ ok: true });

    // The dashboard, opened from the message's link: the notification to acknowledge, every prompt's fate.
    const link: string = JSON.parse(hooks[0].body).url;
    expect(link).toMatch(/^\/dashboard\/#study=s_[\w-]+&notification=n_[\w-]+$/); // relative: this server has no --public-url
    const desk = await browser.newContext({ viewport: DESKTOP, deviceScaleFactor: 1, timezoneId: 'Europe/Berlin', locale: 'en-GB' });
    await desk.clock.setFixedTime(clock);
    const d = await desk.newPage(); watch(d);
    await d.goto(base + link);
    await d.getByLabel('Email').fill(ADMIN.email);
    await d.getByLabel('Password').fill(ADMIN.password);
    await d.getByRole('button', { name: 'Log in' }).click();
    await d.getByRole('heading', { name: 'Week study' }).waitFor();
    const item = d.locator('#notification-list li');
    await expect.poll(() => item.count()).toBe(1);
    // The linked notification is marked once the study page has finished drawing.
    await expect.poll(() => item.getAttribute('aria-current')).toBe('true');
    expect(d.url()).toBe(`${base}/dashboard/`);
    expect(await item.textContent()).toMatch(/P1 needs attention — rule phq9-item9 \(report, .+\); email: sent, webhook: sent/);
    const summary = d.locator('#prompt-summary tbody tr');
    const answeredN = [...expected.values()].filter((f) => f === 'answered').length;
    // Participant, prompts, answered, expired, open, reminder sent (no push service in headless Chromium), app opened (each answered one), compliance.
    expect(await summary.first().locator('td').allTextContents()).toEqual(['P1', '20', String(answeredN), String(20 - answeredN), '0', '0', String(answeredN), `${Math.round((100 * answeredN) / 20)} %`]);
    await screen(d, 'dashboard-week-study-desktop');
    await d.getByRole('button', { name: 'Acknowledge' }).last().click();
    await expect.poll(() => d.locator('#notification-list li').first().textContent()).toContain('acknowledged');
    expect((await api('GET', `/studies/${studyId}/notifications`)).json).toEqual([]);
    await d.getByRole('link', { name: 'P1' }).click();
    const rows = d.locator('#prompt-log tbody tr');
    await expect.poll(() => rows.count()).toBe(20);
    const fates = await rows.evaluateAll((trs) => trs.map((tr) => [tr.children[0].textContent, (tr as HTMLElement).dataset.fate]));
    expect(Object.fromEntries(fates)).toEqual(Object.fromEntries(expected));
    await screen(d, 'dashboard-week-participant-desktop');

    // prompts.csv in the export: every prompt's fate.
    const { job } = await exportAndWait((m, u, o) => api(m, u, o?.body).then((r) => ({ ...r, body: JSON.stringify(r.json) })), admin, studyId);
    expect(job.status).toBe('done');
    const dir = await downloadExport({ server, backend: { dataDir: web.dataDir } } as any, admin, job);
    const rowsCsv = readFileSync(join(dir, 'prompts.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
    expect(Object.fromEntries(rowsCsv.map((r) => [r[1], r[9]]))).toEqual(Object.fromEntries(expected));
    expect(errors).toEqual([]);
    await phone.close(); await desk.close();
  }, 600_000);
});
