/**
 * Who may call which route: ONE table, read by the server (every route gets its check from it
 * when it is registered; a route without an entry stops the server from starting) and by the
 * authorisation matrix test (test/server/authz-matrix.test.ts), which calls every operation of
 * the OpenAPI document as nine kinds of caller and expects exactly what the table says.
 *
 * Per study, roles are ordered viewer < researcher < owner:
 * - viewer: read-only dashboards (participants, reports, schedules, activity, quality, predictions,
 *   alerts, the model and its evaluation, the members); no export, no raw audio, no writes.
 * - researcher: day-to-day work — invite participants, export and download, predictions, alert
 *   evaluation and acknowledgement.
 * - owner: destructive and configuring actions — withdraw (delete) a participant, delete an
 *   export, reissue an enrolment code, attach/detach a model, change the members; the study's
 *   audit log.
 * Admins may do everything on every study; account administration is admin-only.
 * docs/security.md ("Roles and sign-in") describes the rules in words.
 */
import type { FastifyReply, FastifyRequest, RouteOptions, onRequestHookHandler, onResponseHookHandler } from 'fastify';
import type { ServerContext } from './context.js';
import type { Role } from '../storage/columns.js';

export type Rule =
  /** Anyone, no token (sign-in, enrolment, password reset, health, static files, docs). */
  | { who: 'public' }
  /** An enrolled participant's device token; the route acts on that participant only (/me/…). */
  | { who: 'participant' }
  /** Any signed-in, enabled researcher or admin account (its own account, its study list, a new study). */
  | { who: 'account' }
  /** An admin account. */
  | { who: 'admin' }
  /** A member of the study named by the route's :studyId with at least this role (or an admin). */
  | { who: 'member'; min: Role };

const PUBLIC: Rule = { who: 'public' };
const PARTICIPANT: Rule = { who: 'participant' };
const ACCOUNT: Rule = { who: 'account' };
const ADMIN: Rule = { who: 'admin' };
const VIEWER: Rule = { who: 'member', min: 'viewer' };
const RESEARCHER: Rule = { who: 'member', min: 'researcher' };
const OWNER: Rule = { who: 'member', min: 'owner' };

/**
 * "METHOD /route/:pattern" (Fastify's URL pattern) → rule. A key ending in "*" covers every route
 * under that prefix (the static front ends and the API docs page). HEAD routes follow their GET.
 */
export const RULES: Readonly<Record<string, Rule>> = {
  // meta, static files and documentation (hidden from the OpenAPI document)
  'GET /': PUBLIC, // redirects to the dashboard
  'GET /health': PUBLIC,
  'GET /openapi.json': PUBLIC,
  'GET /docs': PUBLIC,
  'GET /docs/*': PUBLIC,
  'GET /app': PUBLIC,
  'GET /app/*': PUBLIC,
  'GET /dashboard': PUBLIC,
  'GET /dashboard/*': PUBLIC,
  'GET /enrol': PUBLIC,

  // accounts
  'POST /auth/login': PUBLIC,
  'POST /auth/password-reset': PUBLIC,
  'POST /auth/logout': ACCOUNT,
  'GET /auth/me': ACCOUNT,
  'POST /auth/password': ACCOUNT,
  'GET /admin/researchers': ADMIN,
  'POST /admin/researchers': ADMIN,
  'POST /admin/researchers/:userId/password-reset': ADMIN,
  'POST /admin/researchers/:userId/disable': ADMIN,
  'POST /admin/researchers/:userId/enable': ADMIN,
  'POST /admin/researchers/:userId/unlock': ADMIN,
  'GET /admin/audit': ADMIN,

  // studies and members
  'POST /studies': ACCOUNT,
  'GET /studies': ACCOUNT,
  'GET /studies/:studyId': VIEWER,
  'PUT /studies/:studyId': OWNER, // configuring: only while the study holds no data
  'GET /studies/:studyId/members': VIEWER,
  'POST /studies/:studyId/members': OWNER,
  'DELETE /studies/:studyId/members/:userId': OWNER,
  'POST /studies/:studyId/leave': VIEWER,
  'GET /studies/:studyId/audit': OWNER,

  // participants
  'POST /studies/:studyId/participants': RESEARCHER,
  'GET /studies/:studyId/participants': VIEWER,
  'POST /studies/:studyId/participants/:participantId/code': OWNER,
  'GET /studies/:studyId/participants/:participantId/reports': VIEWER,
  'GET /studies/:studyId/participants/:participantId/schedule': VIEWER,
  'PUT /studies/:studyId/participants/:participantId/schedule-overrides': RESEARCHER,
  'PUT /studies/:studyId/participants/:participantId/activity/raw': RESEARCHER, // a wristband export uploaded for the participant
  'DELETE /studies/:studyId/participants/:participantId': OWNER,

  // exports (they hold the raw data, audio included: no viewer)
  'POST /studies/:studyId/export': RESEARCHER,
  'GET /studies/:studyId/exports': RESEARCHER,
  'GET /studies/:studyId/exports/:jobId': RESEARCHER,
  'GET /studies/:studyId/exports/:jobId/download': RESEARCHER,
  'DELETE /studies/:studyId/exports/:jobId': OWNER,

  // models, predictions, alerts
  'PUT /studies/:studyId/model': OWNER,
  'DELETE /studies/:studyId/model': OWNER,
  'GET /studies/:studyId/model': VIEWER,
  'GET /studies/:studyId/models': OWNER, // the choice of a model to attach (owners attach)
  'POST /studies/:studyId/participants/:participantId/predict': RESEARCHER,
  'GET /studies/:studyId/participants/:participantId/predictions': VIEWER,
  'POST /studies/:studyId/participants/:participantId/alerts/evaluate': RESEARCHER,
  'GET /studies/:studyId/alerts': VIEWER,
  'POST /studies/:studyId/alerts/:alertId/ack': RESEARCHER,

  // dashboard panels
  'GET /studies/:studyId/participants/:participantId/activity/day-hour': VIEWER,
  'GET /studies/:studyId/quality': VIEWER,
  'GET /studies/:studyId/model/evaluation': VIEWER,
  'GET /studies/:studyId/participants/:participantId/predictions/by-report': VIEWER,

  // the participant app
  'POST /enrol': PUBLIC,
  'GET /me': PARTICIPANT,
  'DELETE /me': PARTICIPANT,
  'GET /me/next': PARTICIPANT,
  'POST /me/consent': PARTICIPANT,
  'GET /me/schedule': PARTICIPANT,
  'PUT /me/schedule-overrides': PARTICIPANT,
  'POST /me/reports': PARTICIPANT,
  'GET /me/reports': PARTICIPANT,
  'PUT /me/reports/:reportId/speech': PARTICIPANT,
  'PUT /me/reports/:reportId/speech-features': PARTICIPANT,
  'PUT /me/reports/:reportId/speech-failure': PARTICIPANT,
  'POST /me/activity': PARTICIPANT,
  'PUT /me/activity/raw': PARTICIPANT,
  'GET /me/push/key': PARTICIPANT,
  'PUT /me/push/subscription': PARTICIPANT,
  'DELETE /me/push/subscription': PARTICIPANT,
};

/** The rule of a route (HEAD follows GET; "…/*" keys cover their prefix), or undefined. */
export function ruleFor(method: string, url: string, rules: Readonly<Record<string, Rule>> = RULES): Rule | undefined {
  const m = method.toUpperCase() === 'HEAD' ? 'GET' : method.toUpperCase();
  const exact = rules[`${m} ${url}`];
  if (exact) return exact;
  for (const [key, rule] of Object.entries(rules)) {
    if (!key.endsWith('/*')) continue;
    const [km, kp] = key.split(' ');
    if (km === m && url.startsWith(kp.slice(0, -1))) return rule;
  }
  return undefined;
}

/** The researcher or admin a request was made by, once its token checked out (for the access record). */
const ACTOR = Symbol('moodlens.actor');
type WithActor = FastifyRequest & { [ACTOR]?: { userId: string; studyId: string | null } };

/** The check of one rule, run before the body is read (onRequest): 401 no/unknown token, 404 not a member, 403 role too low. */
export function accessCheck(rule: Rule, ctx: ServerContext): onRequestHookHandler {
  return async function access(req: FastifyRequest) {
    switch (rule.who) {
      case 'public': return;
      case 'participant': await ctx.participant(req); return;
      case 'account': {
        const user = await ctx.researcher(req);
        (req as WithActor)[ACTOR] = { userId: user.id, studyId: null };
        return;
      }
      case 'admin': {
        const user = await ctx.researcher(req);
        (req as WithActor)[ACTOR] = { userId: user.id, studyId: null };
        await ctx.admin(req);
        return;
      }
      case 'member': {
        const user = await ctx.researcher(req);
        const studyId = (req.params as { studyId?: string }).studyId ?? '';
        // Recorded under the study it aimed at, refused or not (the owner sees attempts from outside).
        (req as WithActor)[ACTOR] = { userId: user.id, studyId: studyId || null };
        await ctx.requireRole(user, studyId, rule.min);
      }
    }
  };
}

/**
 * The access record: every request a signed-in researcher or admin makes — allowed or refused —
 * is an audit row (`resource: "access"`, detail `METHOD /route/:pattern → status` and the route's
 * parameters other than the study), written after the answer went out. Participant routes are
 * recorded by their own writes (in the data's transaction); anonymous refusals are not recorded
 * (they are rate-limited, and would let anyone grow the log).
 */
export function accessRecord(route: RouteOptions, ctx: ServerContext): onResponseHookHandler {
  return async function record(req: FastifyRequest, reply: FastifyReply) {
    const actor = (req as WithActor)[ACTOR];
    if (!actor) return;
    const { studyId: _s, ...params } = (req.params ?? {}) as Record<string, string>;
    const rest = Object.keys(params).length ? ` ${JSON.stringify(params)}` : '';
    const action = req.method === 'GET' || req.method === 'HEAD' ? 'read' : req.method === 'DELETE' ? 'delete' : 'write';
    await ctx.store.audit({
      actor_kind: 'researcher', actor_id: actor.userId, action, study_id: actor.studyId, participant_id: null,
      resource: 'access', detail: `${req.method} ${route.url} → ${reply.statusCode}${rest}`.slice(0, 500),
    }).catch((e: unknown) => console.error(`audit: access record failed: ${e instanceof Error ? e.message : e}`));
  };
}

/**
 * Give every route registered from now on its check from `rules` (an onRoute hook). A route
 * without a rule throws, so the server does not start with an unchecked route.
 */
export function installAccessControl(app: { addHook(name: 'onRoute', fn: (r: RouteOptions) => void): unknown }, ctx: ServerContext, rules: Readonly<Record<string, Rule>> = RULES): void {
  app.addHook('onRoute', (route: RouteOptions) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const found = methods.map((m) => ruleFor(m, route.url, rules));
    const missing = methods.filter((_, i) => !found[i]);
    if (missing.length) throw new Error(`route ${missing.join(',')} ${route.url} has no entry in the access rules (src/server/http/roles.ts RULES)`);
    if (new Set(found.map((r) => JSON.stringify(r))).size > 1) throw new Error(`route ${methods.join(',')} ${route.url}: its methods have different access rules; register them separately`);
    const rule = found[0]!;
    const own = route.onRequest ? (Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest]) : [];
    route.onRequest = [accessCheck(rule, ctx), ...own];
    if (rule.who !== 'public' && rule.who !== 'participant') {
      const after = route.onResponse ? (Array.isArray(route.onResponse) ? route.onResponse : [route.onResponse]) : [];
      route.onResponse = [accessRecord(route, ctx), ...after];
    }
    route.config = { ...(route.config ?? {}), access: rule } as typeof route.config;
  });
}
