/**
 * The dashboard's roles and sign-in pages in Chromium (skipped without it): an owner adds a
 * viewer in the Members card; the viewer's study page offers no invite, export or model controls;
 * an admin sees the background job queue under the studies, an owner does not;
 * a password reset link (/dashboard/#reset=…) opens the reset page, which takes the token out of
 * the address bar and sets the password. No page logs an error or a CSP violation.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, startWebServer } from './screens.js';

const CHROMIUM = process.env.MOODLENS_CHROMIUM ?? '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const ADMIN = { email: 'admin@example.org', password: 'correct horse battery' };

describe.skipIf(!HAVE_CHROMIUM)('dashboard members, roles and reset page in chromium', () => {
  let base: string, browser: Browser;
  const errors: string[] = [];
  const call = async (method: string, path: string, body?: unknown, token?: string) => {
    const r = await fetch(base + path, { method, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
    return { status: r.status, json: await r.json() as any };
  };
  const login = async (email: string, password: string) => (await call('POST', '/auth/login', { email, password })).json.token as string;
  const page = async (): Promise<Page> => {
    const p = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    p.on('console', (m) => { if (m.type() === 'error') errors.push(`${p.url()}: ${m.text()}`); });
    p.on('pageerror', (e) => errors.push(`${p.url()}: ${e.message}`));
    return p;
  };
  const signIn = async (p: Page, email: string, password: string) => {
    await p.goto(`${base}/dashboard/`);
    await p.fill('#email', email);
    await p.fill('#password', password);
    await p.getByRole('button', { name: 'Log in' }).click();
    await p.getByRole('heading', { name: 'Studies' }).waitFor();
  };

  let web: Awaited<ReturnType<typeof startWebServer>>;
  beforeAll(async () => {
    web = await startWebServer('moodlens-roles-web-', { admin: ADMIN });
    base = web.base;
    browser = await launchChromium(CHROMIUM);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await web?.close();
  });

  it('an owner adds a viewer, who sees the dashboards without export or invite; a reset link sets a password', async () => {
    const admin = await login(ADMIN.email, ADMIN.password);
    for (const email of ['owner@example.org', 'viewer@example.org']) expect((await call('POST', '/admin/researchers', { email, password: 'web-pass-123' }, admin)).status).toBe(201);
    const owner = await login('owner@example.org', 'web-pass-123');
    const studyId = (await call('POST', '/studies', { config: { name: 'Roles study', timezone: 'UTC' } }, owner)).json.id as string;

    // The owner adds the viewer in the Members card.
    const o = await page();
    await signIn(o, 'owner@example.org', 'web-pass-123');
    await o.getByRole('link', { name: 'Roles study' }).click();
    await o.locator('#members-table').waitFor();
    expect(await o.textContent('#my-role')).toBe('owner');
    await o.fill('#member-email', 'viewer@example.org');
    await o.selectOption('#member-role', 'viewer');
    await o.getByRole('button', { name: 'Add or change' }).click();
    const cells = (p: Page) => p.locator('#members-table tbody tr').evaluateAll((rows) => rows.map((row) => [...(row as HTMLTableRowElement).cells].map((c) => (c.textContent ?? '').trim())));
    await expect.poll(() => cells(o)).toEqual([['owner@example.org (creator)', 'owner', 'Remove'], ['viewer@example.org', 'viewer', 'Remove']]);
    expect(await o.locator('#export').count()).toBe(1);
    expect(await o.locator('#model').count()).toBe(1);

    // Admins see the background job queue (GET /health) under the studies; an owner does not.
    const a = await page();
    await signIn(a, ADMIN.email, ADMIN.password);
    await a.locator('#queue-table').waitFor();
    const kinds = await a.locator('#queue-table tbody tr td:first-child').allTextContents();
    expect(kinds.sort()).toEqual(['export', 'notify-alert', 'notify-report', 'report-follow-up', 'speech-features', 'speech-follow-up']);
    await o.getByRole('button', { name: 'Studies' }).click();
    await o.getByRole('heading', { name: 'Studies' }).waitFor();
    await o.locator('#studies-table').waitFor();
    expect(await o.locator('#queue-table').count()).toBe(0);

    // The viewer: dashboards, but no invite, export or model controls, and no owner buttons.
    const v = await page();
    await signIn(v, 'viewer@example.org', 'web-pass-123');
    await v.getByRole('link', { name: 'Roles study' }).click();
    await v.locator('#members-table').waitFor();
    expect(await v.textContent('#my-role')).toBe('viewer');
    for (const sel of ['#export', '#invite', '#model', '#add-member', 'button[data-remove-member]']) expect(await v.locator(sel).count(), sel).toBe(0);
    expect(await v.locator('#leave-study').count()).toBe(1);
    expect((await call('GET', `/studies/${studyId}/members`, undefined, owner)).json.map((m: any) => m.role)).toEqual(['owner', 'viewer']);

    // A reset link opens the dashboard's reset page; the token leaves the address bar at once.
    const viewerId = (await call('GET', '/admin/researchers', undefined, admin)).json.find((a: any) => a.email === 'viewer@example.org').id;
    const reset = (await call('POST', `/admin/researchers/${viewerId}/password-reset`, {}, admin)).json;
    expect(reset.resetUrl).toBe(`${base}/dashboard/#reset=${reset.resetToken}`);
    const r = await page();
    await r.goto(reset.resetUrl);
    await r.getByRole('heading', { name: 'Choose a new password' }).waitFor();
    expect(r.url()).not.toContain(reset.resetToken);
    await r.fill('#new-password', 'fresh-password-1');
    await r.fill('#new-password-2', 'fresh-password-1');
    await r.getByRole('button', { name: 'Set the password' }).click();
    await r.getByText('Password set for viewer@example.org').waitFor();
    expect((await call('POST', '/auth/login', { email: 'viewer@example.org', password: 'fresh-password-1' })).status).toBe(200);
    expect(errors).toEqual([]);
  }, 120_000);
});
