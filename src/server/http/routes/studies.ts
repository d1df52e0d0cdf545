/**
 * Researcher routes: studies, members, participants (invitation codes, schedules, reports,
 * withdrawal), export and the audit log. A researcher sees only studies they are a member of
 * (admins see all); every read or write of participant data is audited.
 */
import { z } from 'zod';
import QRCode from 'qrcode';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import type { FastifyRequest } from 'fastify';
import type { App, RouteDeps } from '../deps.js';
import { answers, ScheduleOverridesView, ExportJobView, Invitation, MemberChanged, MemberView, NewCode, ParticipantSchedule, ParticipantView, ReportView, StudyAuditRow, StudySummary, StudyView, TarArchive, WithdrawalReceipt } from '../responses.js';
import {
  IsoTimeWithOffset, AddMemberBody, CreateParticipantBody, CreateStudyBody, ExportBody, ExportJobParams, MemberParams, ParticipantParams, StudyParams,
  ScheduleQuery,
} from '../schemas.js';
import type { Role } from '../../storage/columns.js';
import { newEnrolCode, normaliseEnrolCode, sha256 } from '../auth.js';
import { newId } from '../../storage/ids.js';
import { HttpError, notFound } from '../errors.js';
import { clockOf, promptView, studySchedulePage } from '../../services/schedule.js';
import { ScheduleOverridesSchema } from '../../../data/study.js';
import { roleAtLeast } from '../../storage/columns.js';
import { tarFolder } from '../../jobs/tar.js';
import type { ExportJob, Participant, User } from '../../storage/store.js';
import type { StudyInfo } from '../context.js';
import { reportView } from '../../services/reports.js';

export function participantView(p: Participant) {
  return {
    participantId: p.label, timezone: p.timezone, status: p.status,
    covariates: p.covariates,
    enrolledAt: p.enrolled_ms ? new Date(p.enrolled_ms).toISOString() : null,
    displayName: p.display_name ?? null,
    consentedAt: p.consented_ms ? new Date(Number(p.consented_ms)).toISOString() : null,
  };
}

function studyView(info: StudyInfo, role: Role | 'admin' | null) {
  return { id: info.study.id, name: info.study.name, config: info.config, settings: info.settings, model: info.study.model_dir, createdAt: new Date(info.study.created_ms).toISOString(), role };
}

/**
 * The enrolment link: the participant app with the code in the URL fragment, which browsers never
 * send to a server (so it is in no access log, proxy log or Referer header).
 */
function enrolUrl(req: FastifyRequest, publicUrl: string | undefined, code: string): string {
  const base = publicUrl ?? `${req.protocol}://${req.headers.host ?? 'localhost'}`;
  return `${base.replace(/\/$/, '')}/app/#code=${code}`;
}

/** The enrolment link as a QR code (SVG) the participant scans with the phone's camera. */
const enrolQr = (url: string) => QRCode.toString(url, { type: 'svg', margin: 1, errorCorrectionLevel: 'M' });

function exportJobView(j: ExportJob, dir: string) {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    id: j.id, name: j.name, status: j.status, phase: j.phase,
    done: j.done, total: j.total, progress: j.status === 'done' ? 1 : j.total > 0 ? j.done / j.total : 0,
    dir, summary: j.summary, error: j.error,
    createdAt: iso(j.created_ms), startedAt: iso(j.started_ms), finishedAt: iso(j.finished_ms),
    deletedAt: iso(j.deleted_ms), deletedBy: j.deleted_by,
    statusUrl: `/studies/${j.study_id}/exports/${j.id}`, downloadUrl: j.status === 'done' ? `/studies/${j.study_id}/exports/${j.id}/download` : null,
  };
}

export async function studyRoutes(app: App, { ctx, store, monitor, exportJobs, withdrawal, publicUrl, limits }: RouteDeps): Promise<void> {
  const tags = ['studies'];

  app.post('/studies', { schema: { response: answers({ 201: StudyView }), tags, summary: 'Create a study (you become its owner)', body: CreateStudyBody } }, async (req, reply) => {
    const u = await ctx.researcher(req);
    const s = await store.createStudy({ config: req.body.config, settings: req.body.settings, ownerId: u.id });
    return reply.code(201).send(studyView(await ctx.studyInfo(s.id), 'owner'));
  });

  app.get('/studies', { schema: { response: answers({ 200: z.array(StudySummary) }), tags, summary: 'Studies you may see' } }, async (req) => {
    const u = await ctx.researcher(req);
    return (await store.studiesOf(u)).map((s) => ({ id: s.id, name: s.name }));
  });

  app.get('/studies/:studyId', { schema: { response: answers({ 200: StudyView }), tags, params: StudyParams } }, async (req) => {
    const u = await ctx.researcher(req);
    const info = await ctx.studyFor(u, req.params.studyId);
    // The caller's own role, so a front end shows only what it may do.
    return studyView(info, u.is_admin ? 'admin' : ((await store.memberRole(info.study.id, u.id)) ?? null));
  });

  app.put('/studies/:studyId', {
    schema: { response: answers({ 200: StudyView }), tags, summary: 'Change the study\'s configuration (items, activity, speech, time zone, schedule, texts) and settings — only while it holds no data (409 once a report or a wristband epoch exists)', params: StudyParams, body: CreateStudyBody },
  }, async (req) => {
    const u = await ctx.researcher(req);
    const info = await ctx.studyFor(u, req.params.studyId);
    const changed = await store.updateStudy(info.study.id, { config: req.body.config, settings: req.body.settings },
      { actor_kind: 'researcher', actor_id: u.id, action: 'write', study_id: info.study.id, participant_id: null, resource: 'study', detail: `configuration changed ("${req.body.config.name}")` });
    if (!changed) throw new HttpError(409, 'this study already holds data (reports or wristband epochs): its configuration can no longer change; create a new study instead');
    ctx.forgetStudy(info.study.id);
    monitor.resetStudy(info.study.id); // the attached model is checked against the new items on its next load
    return studyView(await ctx.studyInfo(info.study.id), u.is_admin ? 'admin' : ((await store.memberRole(info.study.id, u.id)) ?? null));
  });

  app.get('/studies/:studyId/members', { schema: { response: answers({ 200: z.array(MemberView) }), tags, summary: 'Who has access to the study, with their roles (owner, researcher, viewer)', params: StudyParams } }, async (req) => {
    const u = await ctx.researcher(req);
    const info = await ctx.studyFor(u, req.params.studyId);
    return (await store.members(info.study.id)).map((m) => ({ userId: m.user_id, email: m.email, role: m.role, creator: m.user_id === info.study.created_by, disabled: m.disabled_ms !== null }));
  });

  /** Apply a membership change (store.changeMember's checks), or throw its refusal. */
  const changeMember = async (studyId: string, userId: string, role: Role | null, u: User) => {
    const r = await store.changeMember(studyId, userId, role, { id: u.id, isAdmin: u.is_admin },
      { actor_kind: 'researcher', actor_id: u.id, action: role === null ? 'delete' : 'write', study_id: studyId, participant_id: null, resource: 'membership' });
    if (!r.ok) throw new HttpError(r.status, r.message);
    return r.previous;
  };

  app.post('/studies/:studyId/members', {
    schema: { response: answers({ 200: MemberChanged }), tags, summary: 'Give an account access to the study, or change its role (owners only; the creator\'s role is changed only by itself, the last owner stays)', params: StudyParams, body: AddMemberBody },
  }, async (req) => {
    const u = await ctx.researcher(req);
    const info = await ctx.studyFor(u, req.params.studyId);
    const other = await store.userByEmail(req.body.email);
    if (!other) throw new HttpError(404, `body.email: no account for ${req.body.email}`, 'body.email');
    const previous = await changeMember(info.study.id, other.id, req.body.role, u);
    return { ok: true, userId: other.id, email: other.email, role: req.body.role, previousRole: previous };
  });

  app.delete('/studies/:studyId/members/:userId', {
    schema: { response: answers({ 200: MemberChanged }), tags, summary: 'Take an account\'s access away (owners only; not the creator, unless by itself or an admin; never the last owner)', params: MemberParams },
  }, async (req) => {
    const u = await ctx.researcher(req);
    const info = await ctx.studyFor(u, req.params.studyId);
    const previous = await changeMember(info.study.id, req.params.userId, null, u);
    return { ok: true, userId: req.params.userId, previousRole: previous };
  });

  app.post('/studies/:studyId/leave', {
    schema: { response: answers({ 200: MemberChanged }), tags, summary: 'Leave the study (any member; the last owner cannot leave)', params: StudyParams },
  }, async (req) => {
    const u = await ctx.researcher(req);
    const info = await ctx.studyFor(u, req.params.studyId);
    if (!(await store.memberRole(info.study.id, u.id))) throw new HttpError(409, `you are not a member of study ${info.study.id} (admins see every study without being members)`);
    const previous = await changeMember(info.study.id, u.id, null, u);
    return { ok: true, userId: u.id, previousRole: previous };
  });

  app.post('/studies/:studyId/participants', {
    schema: { response: answers({ 201: Invitation }), tags, summary: 'Invite a participant: returns a one-time enrolment code and link (QR-able)', params: StudyParams, body: CreateParticipantBody },
  }, async (req, reply) => {
    const u = await ctx.researcher(req);
    const info = await ctx.studyFor(u, req.params.studyId);
    const label = req.body.participantId ?? newId('P').replace(/[^A-Za-z0-9]/g, '').slice(0, 10);
    if (await store.participant(info.study.id, label)) throw new HttpError(409, `body.participantId: ${label} already exists in this study`, 'body.participantId');
    const code = newEnrolCode();
    const expires = ctx.now() + info.settings.enrolCodeHours * 3_600_000;
    const seed = Number.parseInt(sha256(code + label).slice(0, 8), 16) >>> 1; // 31 bits: an SQL integer
    await store.createParticipant({
      study_id: info.study.id, label, timezone: req.body.timezone ?? info.config.timezone, covariates: req.body.covariates,
      display_name: req.body.displayName ?? null, enrol_code_hash: sha256(normaliseEnrolCode(code)), enrol_expires_ms: expires, seed,
    }, { actor_kind: 'researcher', actor_id: u.id, action: 'write', study_id: info.study.id, participant_id: null, resource: 'participant', detail: `invited ${label}` });
    const url = enrolUrl(req, publicUrl, code);
    return reply.code(201).send({ participantId: label, enrolCode: code, enrolUrl: url, enrolQrSvg: await enrolQr(url), expiresAt: new Date(expires).toISOString() });
  });

  app.get('/studies/:studyId/participants', { schema: { response: answers({ 200: z.array(ParticipantView) }), tags, params: StudyParams } }, async (req) => {
    const u = await ctx.researcher(req);
    const info = await ctx.studyFor(u, req.params.studyId);
    const ps = await store.participants(info.study.id);
    await store.audit({ actor_kind: 'researcher', actor_id: u.id, action: 'read', study_id: info.study.id, participant_id: null, resource: 'participants', detail: `${ps.length} participants` });
    return ps.map(participantView);
  });

  app.post('/studies/:studyId/participants/:participantId/code', {
    schema: { response: answers({ 200: NewCode }), tags, summary: 'New enrolment code (lost phone); revokes the old device token and removes its push subscriptions', params: ParticipantParams },
  }, async (req) => {
    const u = await ctx.researcher(req);
    const { info, participant } = await ctx.participantFor(u, req.params.studyId, req.params.participantId);
    if (participant.status === 'withdrawn') throw new HttpError(409, `participant ${participant.label} has withdrawn`);
    const code = newEnrolCode();
    const expires = ctx.now() + info.settings.enrolCodeHours * 3_600_000;
    const { pushSubscriptions } = await store.reissueCode(participant.id, sha256(normaliseEnrolCode(code)), expires, { actor_kind: 'researcher', actor_id: u.id, action: 'write', study_id: info.study.id, participant_id: participant.id, resource: 'enrolment', detail: 'new code' });
    ctx.forgetParticipant(participant.id);
    const url = enrolUrl(req, publicUrl, code);
    return { participantId: participant.label, enrolCode: code, enrolUrl: url, enrolQrSvg: await enrolQr(url), expiresAt: new Date(expires).toISOString(), removedPushSubscriptions: pushSubscriptions };
  });

  app.get('/studies/:studyId/participants/:participantId/reports', { schema: { response: answers({ 200: z.array(ReportView) }), tags, params: ParticipantParams } }, async (req) => {
    const u = await ctx.researcher(req);
    const { info, participant } = await ctx.participantFor(u, req.params.studyId, req.params.participantId);
    const reports = await store.reportsOf(participant.id);
    // Free-text answers (sealed at rest) go to researchers and owners, not to viewers (docs/security.md).
    const texts = u.is_admin || roleAtLeast((await store.memberRole(info.study.id, u.id)) ?? '', 'researcher');
    const withTexts = reports.filter((r) => r.texts && Object.keys(r.texts).length).length;
    await store.audit({ actor_kind: 'researcher', actor_id: u.id, action: 'read', study_id: info.study.id, participant_id: participant.id, resource: 'reports', detail: `${reports.length} reports${texts && withTexts ? ` (${withTexts} with text answers)` : ''}` });
    return reports.map((r) => reportView(texts ? r : { ...r, texts: null }));
  });

  app.get('/studies/:studyId/participants/:participantId/schedule', { schema: { response: answers({ 200: ParticipantSchedule }), tags, params: ParticipantParams, querystring: ScheduleQuery } }, async (req) => {
    const u = await ctx.researcher(req);
    const { info, participant } = await ctx.participantFor(u, req.params.studyId, req.params.participantId);
    if (!participant.enrolled_ms) return { participantId: participant.label, prompts: [] };
    // A page of whole days of every instrument, at most about limits.schedulePagePrompts prompts.
    const { prompts, ...page } = studySchedulePage(info.config, clockOf(participant, ctx.now()), limits.schedulePagePrompts, req.query);
    return { participantId: participant.label, timezone: participant.timezone, prompts: prompts.map(promptView), ...page };
  });

  app.put('/studies/:studyId/participants/:participantId/schedule-overrides', {
    schema: { response: answers({ 200: ScheduleOverridesView }), tags, params: ParticipantParams, body: ScheduleOverridesSchema,
      summary: 'Set a participant\'s own wake and bed times (they place the schedule\'s "wake"/"bed" windows); {} clears them' },
  }, async (req) => {
    const u = await ctx.researcher(req);
    const { info, participant } = await ctx.participantFor(u, req.params.studyId, req.params.participantId);
    if (participant.status === 'withdrawn') throw new HttpError(409, `participant ${participant.label} has withdrawn`);
    await store.setScheduleOverrides(participant, Object.keys(req.body).length ? req.body : null, { actor_kind: 'researcher', actor_id: u.id });
    ctx.forgetParticipant(participant.id);
    return { participantId: participant.label, overrides: req.body };
  });

  app.delete('/studies/:studyId/participants/:participantId', {
    schema: { response: answers({ 200: WithdrawalReceipt }), tags, summary: 'Withdraw a participant: delete all their data; says what was deleted', params: ParticipantParams },
  }, async (req) => {
    const u = await ctx.researcher(req);
    const { participant } = await ctx.participantFor(u, req.params.studyId, req.params.participantId);
    return withdrawal.withdraw(participant, { kind: 'researcher', id: u.id });
  });

  app.post('/studies/:studyId/export', {
    schema: { response: answers({ 202: ExportJobView }), tags, summary: 'Start writing the study folder (SPEC §7) under <data-dir>/exports/<studyId>/<jobId> as a background job (the name is only a label); poll GET …/exports/:jobId, download when done', params: StudyParams, body: ExportBody },
  }, async (req, reply) => {
    const u = await ctx.researcher(req);
    const info = await ctx.studyFor(u, req.params.studyId);
    // The name is a label only (file name of the download); the server chooses the folder.
    const name = req.body?.name ?? `${info.study.id}-${new Date(ctx.now()).toISOString().replace(/[:.]/g, '-')}`;
    const job = await exportJobs.start(info, u.id, name);
    return reply.code(202).send(exportJobView(job, exportJobs.dir(job)));
  });

  app.get('/studies/:studyId/exports', { schema: { response: answers({ 200: z.array(ExportJobView) }), tags, summary: 'Export jobs of the study, newest first', params: StudyParams } }, async (req) => {
    const u = await ctx.researcher(req);
    const info = await ctx.studyFor(u, req.params.studyId);
    return (await store.exportJobs(info.study.id)).map((j) => exportJobView(j, exportJobs.dir(j)));
  });

  app.get('/studies/:studyId/exports/:jobId', { schema: { response: answers({ 200: ExportJobView }), tags, summary: 'Status and progress of an export job', params: ExportJobParams } }, async (req) => {
    const u = await ctx.researcher(req);
    const info = await ctx.studyFor(u, req.params.studyId);
    const job = await store.exportJob(info.study.id, req.params.jobId);
    if (!job) throw notFound(`export job ${req.params.jobId}`);
    return exportJobView(job, exportJobs.dir(job));
  });

  app.delete('/studies/:studyId/exports/:jobId', {
    schema: { response: answers({ 200: ExportJobView }), tags, summary: 'Delete a finished export\'s folder (exports hold personal data); the job stays listed as "deleted"', params: ExportJobParams },
  }, async (req) => {
    const u = await ctx.researcher(req);
    const info = await ctx.studyFor(u, req.params.studyId);
    const job = await store.exportJob(info.study.id, req.params.jobId);
    if (!job) throw notFound(`export job ${req.params.jobId}`);
    const gone = await exportJobs.remove(job, { researcher: u.id });
    return exportJobView(gone, exportJobs.dir(gone));
  });

  app.get('/studies/:studyId/exports/:jobId/download', {
    schema: { response: answers({ 200: TarArchive }), tags, summary: 'Download a finished export as a tar archive (the study folder)', params: ExportJobParams },
  }, async (req, reply) => {
    const u = await ctx.researcher(req);
    const info = await ctx.studyFor(u, req.params.studyId);
    const job = await store.exportJob(info.study.id, req.params.jobId);
    if (!job) throw notFound(`export job ${req.params.jobId}`);
    if (job.status !== 'done') throw new HttpError(409, `export job ${job.id} is ${job.status}${job.error ? `: ${job.error}` : ''}; download it when it is done`);
    const dir = exportJobs.dir(job);
    if (!existsSync(join(dir, 'study.json'))) throw notFound(`the export folder of job ${job.id} (no longer on the server)`);
    await store.audit({ actor_kind: 'researcher', actor_id: u.id, action: 'read', study_id: info.study.id, participant_id: null, resource: 'export_download', detail: job.id });
    return reply.header('content-type', 'application/x-tar').header('content-disposition', `attachment; filename="${job.name}.tar"`).send(tarFolder(dir, job.name, ctx.keys));
  });

  app.get('/studies/:studyId/audit', {
    schema: { response: answers({ 200: z.array(StudyAuditRow) }),
      tags, summary: 'The audit log of the study (newest first), optionally filtered', params: StudyParams,
      querystring: z.object({
        limit: z.coerce.number().int().min(1).max(10000).default(500),
        action: z.enum(['read', 'write', 'delete']).optional(),
        resource: z.string().max(100).regex(/^[a-z_]+$/).optional(),
        /** "researcher:<id>", "participant:<id>" or "system:<name>". */
        actor: z.string().max(200).regex(/^(researcher|participant|system):[A-Za-z0-9_:.-]+$/).optional(),
        since: IsoTimeWithOffset.optional(),
        until: IsoTimeWithOffset.optional(),
      }).strict(),
    },
  }, async (req) => {
    const u = await ctx.researcher(req);
    const info = await ctx.studyFor(u, req.params.studyId);
    const q = req.query;
    const [actorKind, ...actorId] = q.actor?.split(':') ?? [];
    const rows = await store.auditLog(info.study.id, q.limit, {
      action: q.action, resource: q.resource, actorKind, actorId: actorId.length ? actorId.join(':') : undefined,
      sinceMs: q.since ? Date.parse(q.since) : undefined, untilMs: q.until ? Date.parse(q.until) : undefined,
    });
    return rows.map((r) => ({ time: new Date(r.time_ms).toISOString(), actor: `${r.actor_kind}:${r.actor_id}`, action: r.action, participant: r.participant_id, resource: r.resource, detail: r.detail }));
  });
  void notFound;
}
