/**
 * The authorisation matrix, generated from the OpenAPI document: every operation of
 * GET /openapi.json × nine callers (no token, a participant of this study and of another, a
 * viewer, a researcher and an owner of this study, an owner of another study, an admin, a
 * disabled account), on both back ends, expecting exactly what the rules table
 * (src/server/http/roles.ts) says: allowed (the handler ran: no 401, no 403, no "study … not found"),
 * or refused with 401 (no or wrong kind of token, disabled), 403 (role too low / not an admin)
 * or 404 (not a member: the study's existence is not revealed).
 *
 * The table is checked from both sides: an operation without a rule fails here, and so does
 * removing any one rule (the coverage check names its operation; the server refuses to register
 * its route). The table's content is pinned by the policy checks at the end (owner-only
 * destructive actions, no export for viewers, admin-only account administration).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import Fastify from 'fastify';
import { randomBytes } from 'node:crypto';
import { RULES, ruleFor, installAccessControl, type Rule } from '../../src/server/http/roles.js';
import { roleAtLeast } from '../../src/server/storage/columns.js';
import type { ServerContext } from '../../src/server/http/context.js';
import { BACKENDS, exportAndWait, reportBody, setupStudy, startHarness, type Harness } from './helpers.js';

const ACTORS = ['none', 'participant', 'otherParticipant', 'viewer', 'researcher', 'owner', 'otherOwner', 'admin', 'disabled'] as const;
type Actor = (typeof ACTORS)[number];
type Outcome = 'allowed' | 401 | 403 | 404;

/** What the rules table promises for a caller. */
function expected(rule: Rule, actor: Actor): Outcome {
  const accounts: Actor[] = ['viewer', 'researcher', 'owner', 'otherOwner', 'admin'];
  switch (rule.who) {
    case 'public': return 'allowed';
    case 'participant': return actor === 'participant' || actor === 'otherParticipant' ? 'allowed' : 401;
    case 'account': return accounts.includes(actor) ? 'allowed' : 401;
    case 'admin': return actor === 'admin' ? 'allowed' : accounts.includes(actor) ? 403 : 401;
    case 'member':
      if (actor === 'admin') return 'allowed';
      if (actor === 'viewer' || actor === 'researcher' || actor === 'owner') return roleAtLeast(actor, rule.min) ? 'allowed' : 403;
      if (actor === 'otherOwner') return 404;
      return 401;
  }
}

interface Operation { method: string; path: string; url: string }

/** The operations of an OpenAPI document, with Fastify's URL pattern (:param). */
function operations(doc: any): Operation[] {
  const out: Operation[] = [];
  for (const [path, ops] of Object.entries<Record<string, unknown>>(doc.paths)) {
    for (const m of Object.keys(ops)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(m)) continue;
      out.push({ method: m.toUpperCase(), path, url: path.replace(/\{(\w+)\}/g, ':$1') });
    }
  }
  return out;
}

/** Operations of the document that have no rule in `rules`. */
const uncovered = (doc: any, rules: Readonly<Record<string, Rule>>) => operations(doc).filter((o) => !ruleFor(o.method, o.url, rules)).map((o) => `${o.method} ${o.url}`);

const without = (key: string): Record<string, Rule> => Object.fromEntries(Object.entries(RULES).filter(([k]) => k !== key));

/** Operations that change the caller itself run last: leaving a study, signing out, a participant's withdrawal. */
const order = (o: Operation) => (o.url === '/me' && o.method === 'DELETE' ? 4 : o.url === '/auth/logout' ? 3 : o.url.endsWith('/leave') ? 2 : o.method === 'DELETE' ? 1 : 0);

for (const b of BACKENDS) {
  describe.skipIf(b.skip)(`authorisation matrix on ${b.name}`, () => {
    let h: Harness;
    let doc: any;
    const tokens = {} as Record<Actor, string | undefined>;
    const params: Record<string, string> = {};
    let studyId = '';

    beforeAll(async () => {
      h = await startHarness(b.name);
      doc = (await h.req('GET', '/openapi.json')).json;
      const s = await setupStudy(h, { name: 'matrix study', timezone: 'UTC' });
      const other = await setupStudy(h, { name: 'other study', timezone: 'UTC' });
      studyId = s.studyId;
      const account = async (role: 'viewer' | 'researcher' | 'owner' | null) => {
        const email = `m${randomBytes(4).toString('hex')}@example.org`;
        const c = await h.req('POST', '/admin/researchers', { token: s.admin, body: { email, password: 'matrix-pass-1' } });
        expect(c.status, c.body).toBe(201);
        if (role) expect((await h.req('POST', `/studies/${studyId}/members`, { token: s.researcher, body: { email, role } })).status).toBe(200);
        return { id: c.json.id as string, token: await h.login(email, 'matrix-pass-1') };
      };
      tokens.none = undefined;
      tokens.owner = s.researcher; // the creator
      tokens.otherOwner = other.researcher;
      tokens.admin = s.admin;
      tokens.viewer = (await account('viewer')).token;
      tokens.researcher = (await account('researcher')).token;
      const disabled = await account('owner');
      tokens.disabled = disabled.token;
      tokens.participant = await s.enrol('PA');
      tokens.otherParticipant = await other.enrol('PO');
      // Targets the operations name: a participant, one of the actor's reports, a finished
      // export, an alert, and a throwaway member account (so no actor is disabled or removed).
      await s.enrol('P1');
      expect((await h.req('POST', '/me/reports', { token: tokens.participant, body: reportBody('r1', new Date(Date.now() - 60_000).toISOString()) })).status).toBe(201);
      const { job } = await exportAndWait(h, s.researcher, studyId);
      expect(job.status).toBe('done');
      const p1 = await h.server.store.participant(studyId, 'P1');
      const alertId = 'al_matrix';
      await h.server.store.db.insertInto('alerts').values({
        id: alertId, study_id: studyId, participant_id: p1!.id, item: 'gloomy', source: 'reported', direction: 'above', started_ms: Date.now() - 3_600_000,
        last_ms: Date.now(), detected_ms: Date.now(), n_reports: 3, baseline_mean: 10, baseline_sd: 2, acknowledged_by: null, acknowledged_ms: null,
      }).execute();
      const notificationId = 'n_matrix';
      await h.server.store.db.insertInto('notifications').values({
        id: notificationId, study_id: studyId, participant_id: p1!.id, rule_id: 'r', source_key: 'alert:al_matrix', created_ms: Date.now(), acknowledged_ms: null, acknowledged_by: null, cooldown_of: null,
      }).execute();
      const spare = await account('viewer');
      Object.assign(params, { studyId, participantId: 'P1', reportId: 'r1', jobId: job.id, alertId, notificationId, userId: spare.id });
      // Disabled after it signed in: its session must stop working at once.
      expect((await h.req('POST', `/admin/researchers/${disabled.id}/disable`, { token: s.admin })).status).toBe(200);
    }, 120_000);
    afterAll(async () => { await h?.close(); });

    it('has a rule for every operation of the OpenAPI document, and removing any one rule leaves its operation uncovered', () => {
      const ops = operations(doc);
      expect(ops.length).toBeGreaterThan(50);
      expect(uncovered(doc, RULES)).toEqual([]);
      const inDoc = Object.keys(RULES).filter((k) => ops.some((o) => `${o.method} ${o.url}` === k));
      for (const key of inDoc) expect(uncovered(doc, without(key)), `without ${key}`).toEqual([key]);
      // Every rule is a route of the server (no stale rule hides a renamed route).
      for (const key of Object.keys(RULES)) {
        const [method, url] = key.split(' ');
        const has = (u: string) => h.server.app.hasRoute({ method: method as 'GET', url: u });
        expect(has(url) || (url.endsWith('/*') && has(url.slice(0, -1))), key).toBe(true); // "/docs/*" covers the docs page's own routes under /docs/
      }
    });

    it('answers every operation × caller as the rules table says', async () => {
      const ops = operations(doc).sort((a, c) => order(a) - order(c));
      const wrong: string[] = [];
      let calls = 0;
      for (const op of ops) {
        const rule = ruleFor(op.method, op.url)!;
        const url = op.url.replace(/:(\w+)/g, (_, p: string) => {
          if (!(p in params)) throw new Error(`no value for :${p} in ${op.url}`);
          return params[p];
        });
        for (const actor of ACTORS) {
          const want = expected(rule, actor);
          const r = await h.req(op.method, url, { token: tokens[actor], ...(op.method === 'POST' || op.method === 'PUT' || op.method === 'DELETE' ? { body: {} } : {}) });
          calls++;
          const authz404 = r.status === 404 && r.json?.message === `study ${studyId} not found`;
          const refused: Outcome | null = r.status === 401 || r.status === 403 ? r.status : authz404 ? 404 : null;
          const ok = want === 'allowed' ? refused === null && r.status < 500 : refused === want;
          if (!ok) wrong.push(`${op.method} ${op.url} as ${actor}: expected ${want}, got ${r.status} ${r.json?.message ?? ''}`);
        }
      }
      expect(wrong).toEqual([]);
      expect(calls).toBe(ops.length * ACTORS.length);
    }, 120_000);
  });
}

describe('the rules table', () => {
  it('gives every route its check when it is registered, and a route without a rule stops the server', async () => {
    const ctx = {} as ServerContext; // the checks run per request; registering needs none
    const register = async (rules: Readonly<Record<string, Rule>>, method: string, url: string) => {
      const app = Fastify();
      installAccessControl(app, ctx, rules);
      try {
        app.route({ method: method as 'GET', url, handler: async () => ({}) });
        await app.ready();
      } finally { await app.close().catch(() => {}); }
    };
    for (const key of Object.keys(RULES)) {
      const [method, url] = key.split(' ');
      await expect(register(RULES, method, url), key).resolves.toBeUndefined();
      await expect(register(without(key), method, url), `without ${key}`).rejects.toThrow(`route ${method} ${url} has no entry in the access rules`);
    }
  });

  it('says what the issue asks: destructive and configuring actions owner-only, viewers read only, accounts admin-only', () => {
    const min = (key: string) => { const r = RULES[key]; return r?.who === 'member' ? r.min : r?.who; };
    for (const key of [
      'DELETE /studies/:studyId/participants/:participantId', 'DELETE /studies/:studyId/exports/:jobId', 'POST /studies/:studyId/participants/:participantId/code',
      'PUT /studies/:studyId/model', 'DELETE /studies/:studyId/model', 'POST /studies/:studyId/members', 'DELETE /studies/:studyId/members/:userId',
      'PUT /studies/:studyId/notify-settings',
    ]) expect(min(key), key).toBe('owner');
    for (const key of ['POST /studies/:studyId/export', 'GET /studies/:studyId/exports/:jobId/download', 'POST /studies/:studyId/participants',
      'POST /studies/:studyId/participants/:participantId/predict', 'POST /studies/:studyId/alerts/:alertId/ack',
      'POST /studies/:studyId/notifications/:notificationId/ack']) expect(min(key), key).toBe('researcher');
    for (const [key, rule] of Object.entries(RULES)) {
      const [method, url] = key.split(' ');
      // A viewer may only read.
      if (rule.who === 'member' && rule.min === 'viewer') expect(method === 'GET' || url.endsWith('/leave'), key).toBe(true);
      // A study rule needs the study in the URL; /me is the participant's; /admin is the admin's.
      if (rule.who === 'member') expect(url.startsWith('/studies/:studyId'), key).toBe(true);
      if (url.startsWith('/studies/:studyId')) expect(rule.who, key).toBe('member');
      if (url === '/me' || url.startsWith('/me/')) expect(rule.who, key).toBe('participant');
      if (url.startsWith('/admin/')) expect(rule.who, key).toBe('admin');
    }
  });
});
