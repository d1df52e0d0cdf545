/**
 * The participant app's routes: enrolment with a one-time code, the next prompt, and ingest of
 * EMA reports, speech recordings and wristband epochs. A device token is bound to one
 * participant; every route acts on that participant only (`/me/…`), so no other participant's
 * id can even be named.
 */
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import type { App, RouteDeps } from '../deps.js';
import { z } from 'zod';
import { answers, ScheduleOverridesView, ActivityStored, ConsentAccepted, Enrolled, MeView, MySchedule, NextPrompt, RawActivityStored, ReportStored, ReportView, SpeechFeaturesStored, SpeechStored, WithdrawalReceipt } from '../responses.js';
import { ActivityBody, ConsentBody, EnrolBody, ParticipantParams, ScheduleQuery, ReportBody, ReportIdParams, SpeechFeaturesBody } from '../schemas.js';
import { newToken, normaliseEnrolCode, sha256 } from '../auth.js';
import { newId } from '../../storage/ids.js';
import { badRequest, HttpError, notFound } from '../errors.js';
import { MAX_OPEN_MS, clockOf, nextStudyPrompt, openPrompts, promptById, promptView, studyPromptsBetween, studySchedule, studySchedulePage } from '../../services/schedule.js';
import { MAIN_INSTRUMENT, ScheduleOverridesSchema } from '../../../data/study.js';
import { secureShuffle } from '../../../util/shuffle.js';
import { receiveAudio, commitAudio } from '../ingest/speech-upload.js';
import { MAX_CLOCK_SKEW_MS, checkReport, reportView, sameReport } from '../../services/reports.js';
import { introView } from '../../services/consent.js';
import type { Report } from '../../storage/store.js';
import { activityRowChunks } from '../ingest/activity-body.js';
import { checkRawUpload, ingestRawActivity, RAW_ACTIVITY_TYPES, RawActivityQuery, rowsPerWrite, storeEpochsInChunks } from '../ingest/raw-activity.js';
import { ActivityParser, collectBody } from '../ingest/activity-parser.js';

const AUDIO_TYPES = ['audio/wav', 'audio/x-wav', 'audio/wave', 'audio/vnd.wave', 'application/octet-stream'];
/** What phones' own recorders write; accepted when the server has ffmpeg to decode them. */
const DECODED_TYPES = ['audio/mp4', 'audio/m4a', 'audio/x-m4a', 'audio/aac', 'audio/3gpp', 'audio/amr', 'audio/ogg', 'audio/opus', 'audio/webm', 'audio/mpeg', 'audio/flac', 'audio/x-flac'];

export async function participantRoutes(app: App, { ctx, store, jobs, withdrawal, authRateLimit, limits, ingest }: RouteDeps): Promise<void> {
  const tags = ['participant app'];
  // Audio bodies are passed on as streams: the handler writes them to disk with its own cap.
  app.addContentTypeParser([...new Set([...AUDIO_TYPES, ...DECODED_TYPES, ...RAW_ACTIVITY_TYPES])], (_req, payload, done) => done(null, payload));
  const ffmpeg = ctx.opts.ffmpeg;

  app.post('/enrol', {
    config: { rateLimit: { max: authRateLimit, timeWindow: '1 minute' } },
    schema: { response: answers({ 200: Enrolled }), tags, summary: 'Exchange a one-time enrolment code for a device token', security: [], body: EnrolBody },
  }, async (req) => {
    const token = newToken('participant');
    const p = await store.enrol(sha256(normaliseEnrolCode(req.body.code)), sha256(token), ctx.now());
    if (!p) throw new HttpError(400, 'body.code: unknown, used or expired enrolment code', 'body.code');
    const info = await ctx.studyInfo(p.study_id);
    return { token, participantId: p.label, study: { id: info.study.id, name: info.study.name }, timezone: p.timezone, ...introView(p, info) };
  });

  app.get('/me', { schema: { response: answers({ 200: MeView }), tags, summary: 'This participant and their study\'s items' } }, async (req) => {
    const p = await ctx.participant(req);
    const info = await ctx.studyInfo(p.study_id);
    return { participantId: p.label, timezone: p.timezone, study: { id: info.study.id, name: info.study.name }, items: info.config.items, speech: info.config.speech.kind, ...introView(p, info) };
  });

  app.post('/me/consent', {
    schema: { response: answers({ 200: ConsentAccepted }), tags, summary: 'Accept the study information and consent text shown (once, before the first report; its time is recorded and audited)', body: ConsentBody },
  }, async (req) => {
    const p = await ctx.participant(req);
    const info = await ctx.studyInfo(p.study_id);
    const intro = introView(p, info);
    if (req.body.textSha256 !== intro.textSha256) throw new HttpError(409, 'body.textSha256: the study\'s information or consent text has changed since it was shown; show it again (GET /me)', 'body.textSha256');
    const ms = await store.recordConsent(p, intro.textSha256, ctx.now());
    ctx.forgetParticipant(p.id); // the cached row still says "not consented"
    return { consentedAt: new Date(ms).toISOString(), textSha256: intro.textSha256 };
  });

  app.get('/me/next', { schema: { response: answers({ 200: NextPrompt }), tags, summary: 'The prompts open now (not answered), the next prompt, what each instrument asks (main items in a fresh random order), and what the app needs to compute the same offline' } }, async (req) => {
    const p = await ctx.participant(req);
    const info = await ctx.studyInfo(p.study_id);
    const schedule = studySchedule(info.config);
    const now = ctx.now();
    const clock = clockOf(p, now);
    const next = nextStudyPrompt(info.config, clock, now);
    // Prompts of the last day (the longest a prompt without expiry stays open): which are answered, which still open.
    const recent = studyPromptsBetween(info.config, clock, now - MAX_OPEN_MS - 7 * 24 * 3_600_000, now);
    const answered = await store.answeredPromptIds(p.id, recent.map((x) => x.id));
    const open = openPrompts(info.config, clock, now, answered);
    return {
      prompt: next ? { ...promptView(next), trigger: next.trigger } : null,
      studyOver: next === null,
      wakeAndBed: schedule.wakeAndBed,
      timezone: p.timezone,
      items: secureShuffle(info.config.items),
      speech: info.config.speech.kind,
      now: new Date(now).toISOString(),
      open: open.map(promptView),
      design: { items: info.config.items, schedule: info.config.schedule ?? null, instruments: info.config.instruments ?? [] },
      clock: { zone: clock.zone, seed: clock.seed, enrolledMs: clock.enrolledMs, ...(clock.overrides ? { overrides: clock.overrides } : {}) },
      answered: [...answered],
      ...introView(p, info),
    };
  });

  app.put('/me/schedule-overrides', {
    schema: { response: answers({ 200: ScheduleOverridesView }), tags, summary: 'Set my own wake and bed times (they place the schedule\'s "wake"/"bed" windows); {} clears them', body: ScheduleOverridesSchema },
  }, async (req) => {
    const p = await ctx.participant(req);
    await store.setScheduleOverrides(p, Object.keys(req.body).length ? req.body : null, { actor_kind: 'participant', actor_id: p.id });
    ctx.forgetParticipant(p.id); // the cached row still has the old times
    return { participantId: p.label, overrides: req.body };
  });

  app.get('/me/schedule', {
    schema: { response: answers({ 200: MySchedule }), tags, summary: `The scheduled prompts of this participant: every one, or a page of whole study days (at most ${limits.schedulePagePrompts} prompts; nextFromDay asks for the rest)`, querystring: ScheduleQuery },
  }, async (req) => {
    const p = await ctx.participant(req);
    const info = await ctx.studyInfo(p.study_id);
    const { prompts, ...page } = studySchedulePage(info.config, clockOf(p, ctx.now()), limits.schedulePagePrompts, req.query);
    return { timezone: p.timezone, prompts: prompts.map(promptView), ...page };
  });

  app.post('/me/reports', {
    bodyLimit: limits.reportBodyBytes,
    schema: { response: answers({ 200: ReportStored, 201: ReportStored }), tags, summary: 'Submit an EMA report (idempotent by its id: a retry returns the stored report)', body: ReportBody },
  }, async (req, reply) => {
    const p = await ctx.participant(req);
    ingest.take(p.id);
    const info = await ctx.studyInfo(p.study_id);
    if (info.config.consent && !introView(p, info).consentedAt) throw new HttpError(409, 'this study needs the participant\'s consent before the first report (POST /me/consent)');
    const serverMs = ctx.now();
    const checked = checkReport(req.body, info, serverMs);
    let { late } = checked;
    let promptTime = req.body.promptTime ?? null;
    if (req.body.promptId !== undefined) {
      // The prompt must be one of this participant's, of the instrument answered; answered after its expiry it counts as late.
      const prompt = promptById(info.config, clockOf(p, serverMs), req.body.promptId);
      if (!prompt) throw badRequest('body.promptId', `${req.body.promptId} is not a scheduled prompt of this participant`);
      if (prompt.instrument !== checked.instrument) throw badRequest('body.promptId', `${req.body.promptId} asks instrument "${prompt.instrument}", not "${checked.instrument}"`);
      if (req.body.trigger !== 'scheduled') throw badRequest('body.trigger', `a report answering prompt ${req.body.promptId} is "scheduled"`);
      promptTime ??= prompt.time;
      if (checked.timeMs > prompt.expiresMs) late = true;
    }
    const row: Report = {
      id: newId('r_'), study_id: p.study_id, participant_id: p.id, client_id: req.body.id, time: req.body.time, time_ms: checked.timeMs,
      server_ms: serverMs, trigger: req.body.trigger, answers: checked.answers, item_order: req.body.itemOrder,
      prompt_time: promptTime, late, instrument: checked.instrument === MAIN_INSTRUMENT ? null : checked.instrument, prompt_id: req.body.promptId ?? null,
      scores: checked.scores, band: checked.band, texts: checked.texts,
    };
    // Its follow-up job (prediction, alerts) is enqueued in the report's own transaction (jobs/queue.ts).
    const batch = jobs.batch();
    // The follow-up and the notification rules' check (jobs/notify.ts), queued with the report.
    const { report, created } = await store.insertReport(row, async (trx) => { await batch.add(trx, 'report-follow-up', { reportId: row.id }); await batch.add(trx, 'notify-report', { reportId: row.id }); });
    if (!created && !sameReport(report, row)) {
      throw new HttpError(409, `body.id: report ${req.body.id} was already stored with different content`, 'body.id');
    }
    if (created) batch.committed();
    return reply.code(created ? 201 : 200).send({ ...reportView(report), duplicate: !created });
  });

  app.get('/me/reports', { schema: { response: answers({ 200: z.array(ReportView) }), tags, summary: 'This participant\'s own reports' } }, async (req) => {
    const p = await ctx.participant(req);
    const reports = await store.reportsOf(p.id);
    await store.audit({ actor_kind: 'participant', actor_id: p.id, action: 'read', study_id: p.study_id, participant_id: p.id, resource: 'reports', detail: `${reports.length} reports` });
    return reports.map(reportView);
  });

  /** Move a received recording to its stored place, unless a file is already there (then drop it). */
  const placeOrDrop = async (tmpPath: string, file: string) => {
    const dest = join(ctx.dataDir, file);
    if (existsSync(dest)) await unlink(tmpPath).catch(() => {});
    else await commitAudio(tmpPath, dest);
  };

  app.put('/me/reports/:reportId/speech', {
    schema: { response: answers({ 200: SpeechStored, 201: SpeechStored }), tags, summary: 'Upload the recording of a report (body: WAV file, Content-Type audio/wav; with the server\'s --ffmpeg also m4a, 3gpp, ogg, webm, mp3, flac, stored as 16 kHz mono WAV)', params: ReportIdParams },
  }, async (req, reply) => {
    const p = await ctx.participant(req);
    ingest.take(p.id);
    const info = await ctx.studyInfo(p.study_id);
    const ctype = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (DECODED_TYPES.includes(ctype) && !ffmpeg) throw new HttpError(415, `content-type: ${ctype} is accepted only when the server is started with --ffmpeg PATH; send audio/wav`, 'content-type');
    if (!AUDIO_TYPES.includes(ctype) && !DECODED_TYPES.includes(ctype)) throw new HttpError(415, `content-type: expected audio/wav${ffmpeg ? ` or one of ${DECODED_TYPES.join(', ')}` : ''}, got "${ctype || 'none'}"`, 'content-type');
    const report = await store.reportByClientId(p.id, req.params.reportId);
    if (!report) throw notFound(`report ${req.params.reportId} of this participant`);
    const max = info.settings.speechMaxBytes;
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > max) throw new HttpError(413, `body: audio of ${declared} bytes exceeds the study's limit of ${max} bytes`, 'body');
    const audio = await receiveAudio(req.body as Readable, ctx.tmpDir, max, { ffmpeg, keys: ctx.keys });
    const samples = Math.round(audio.durationS * audio.sampleRate) * audio.channels;
    const tooLong = audio.durationS > limits.speechMaxSeconds
      ? `body: recording of ${audio.durationS.toFixed(0)} s is longer than this server's limit of ${limits.speechMaxSeconds} s`
      : samples > limits.speechMaxSamples ? `body: recording of ${samples} samples has more than this server's limit of ${limits.speechMaxSamples}` : null;
    if (tooLong) {
      await unlink(audio.tmpPath).catch(() => {});
      throw new HttpError(413, tooLong, 'body');
    }
    const existing = await store.speechOf(report.id);
    if (existing) {
      if (existing.sha256 !== audio.sha256) {
        await unlink(audio.tmpPath).catch(() => {});
        throw new HttpError(409, `report ${req.params.reportId} already has a different recording (sha256 ${existing.sha256})`);
      }
      // The same bytes again (a retry): the stored file stays; were it lost, this copy restores it.
      await placeOrDrop(audio.tmpPath, existing.file);
      return reply.code(200).send({ reportId: req.params.reportId, sha256: existing.sha256, bytes: existing.bytes, durationS: existing.duration_s, duplicate: true });
    }
    const file = join('speech', p.study_id, p.id, `${report.id}.wav`);
    const dest = join(ctx.dataDir, file);
    // The row and the file together: the file is renamed into place inside the transaction that
    // inserts the row (which also checks the participant is still there: a withdrawal during the
    // upload answers 410 and leaves no file). A crash before the commit leaves a file without a
    // row, removed at start; a committed row always has its file.
    const place = async () => {
      if (existsSync(audio.tmpPath)) await commitAudio(audio.tmpPath, dest);
      else if (!existsSync(dest)) throw new Error(`speech upload: ${audio.tmpPath} vanished before it was placed`);
    };
    // Its feature extraction job is enqueued in the row's transaction (jobs/queue.ts; computed on a worker thread: speech-extractor.ts).
    const batch = jobs.batch();
    const extract = info.config.speech.kind === 'audio' ? (trx: Parameters<typeof batch.add>[0]) => batch.add(trx, 'speech-features', { reportId: report.id }) : undefined;
    let stored: Awaited<ReturnType<typeof store.insertSpeech>>;
    try {
      stored = await store.insertSpeech({
        report_id: report.id, study_id: p.study_id, participant_id: p.id, file, bytes: audio.bytes, sha256: audio.sha256,
        sample_rate: audio.sampleRate, channels: audio.channels, duration_s: audio.durationS, created_ms: ctx.now(),
      }, place, extract);
    } catch (e) {
      await unlink(audio.tmpPath).catch(() => {});
      // Placed, but the transaction did not commit: no row may point at it, so it goes.
      if (!(await store.speechOf(report.id))) await unlink(dest).catch(() => {});
      throw e;
    }
    const { speech, created } = stored;
    if (!created) { // a concurrent upload of this report won
      await unlink(audio.tmpPath).catch(() => {});
      if (speech.sha256 !== audio.sha256) throw new HttpError(409, `report ${req.params.reportId} already has a different recording (sha256 ${speech.sha256})`);
    }
    if (created) batch.committed();
    return reply.code(created ? 201 : 200).send({ reportId: req.params.reportId, sha256: speech.sha256, bytes: speech.bytes, durationS: speech.duration_s, duplicate: !created });
  });

  app.put('/me/reports/:reportId/speech-features', {
    schema: { response: answers({ 200: SpeechFeaturesStored, 201: SpeechFeaturesStored }), tags, summary: 'Upload the speech features of a report computed on the phone (studies with speech.kind = "features")', params: ReportIdParams, body: SpeechFeaturesBody },
  }, async (req, reply) => {
    const p = await ctx.participant(req);
    ingest.take(p.id);
    const info = await ctx.studyInfo(p.study_id);
    if (info.config.speech.kind !== 'features') throw new HttpError(409, `this study collects speech as "${info.config.speech.kind}", not features`);
    const report = await store.reportByClientId(p.id, req.params.reportId);
    if (!report) throw notFound(`report ${req.params.reportId} of this participant`);
    const features = req.body.features; // key order as sent: it becomes the column order of the export
    const batch = jobs.batch();
    const { stored, created } = await store.insertSpeechFeatures({ report_id: report.id, study_id: p.study_id, participant_id: p.id, features, created_ms: ctx.now(), source: 'app' },
      (trx) => batch.add(trx, 'speech-follow-up', { reportId: report.id }));
    if (!created && JSON.stringify(stored.features) !== JSON.stringify(features)) throw new HttpError(409, `report ${req.params.reportId} already has different speech features`);
    if (created) batch.committed();
    return reply.code(created ? 201 : 200).send({ reportId: req.params.reportId, features: Object.keys(req.body.features).length, duplicate: !created });
  });

  // Activity batches arrive as bytes (this route's own JSON parser) and are parsed after the token
  // and the rate limit were checked: small ones here, large ones on a worker thread (activity-parser.ts).
  const activity = new ActivityParser(limits.activityWorkerBytes);
  app.addHook('onClose', async () => { await activity.close(); });
  await app.register(async (sub) => {
    sub.removeContentTypeParser('application/json');
    sub.addContentTypeParser('application/json', (req: FastifyRequest, payload: IncomingMessage) => collectBody(req.raw, payload, limits.activityBodyBytes));
    sub.withTypeProvider<ZodTypeProvider>().post('/me/activity', {
      bodyLimit: limits.activityBodyBytes,
      // The body schema documents the route (OpenAPI); parseActivity checks it with the same zod schema.
      validatorCompiler: () => (data: unknown) => ({ value: data }),
      schema: { response: answers({ 200: ActivityStored }), tags, summary: 'Upload a run of wristband epochs (idempotent by epoch start; overlapping runs are fine)', body: ActivityBody },
    }, async (req) => {
      const p = await ctx.participant(req);
      ingest.take(p.id);
      const info = await ctx.studyInfo(p.study_id);
      const { channels, epochSeconds } = info.config.activity;
      if (!Buffer.isBuffer(req.body)) throw badRequest('body', 'expected a JSON object');
      const parsed = await activity.parse(req.body, channels, epochSeconds);
      if (!parsed.ok) throw new HttpError(400, parsed.message, parsed.field);
      if (parsed.startMs > ctx.now() + MAX_CLOCK_SKEW_MS) throw badRequest('body.start', 'is in the future');
      const stored = parsed.index.length;
      const inserted = await storeEpochsInChunks(store, p.study_id, p.id, activityRowChunks(parsed, rowsPerWrite(limits, channels.length)));
      return { received: parsed.received, stored, inserted, duplicates: stored - inserted };
    });
  });

  app.put('/me/activity/raw', {
    schema: { response: answers({ 200: RawActivityStored }),
      tags, querystring: RawActivityQuery,
      summary: 'Upload a raw wrist accelerometer file (generic CSV, ActiLife CSV, GENEActiv CSV or .bin, Axivity .cwa, ActiGraph .gt3x); the signal code turns it into the study\'s epochs (zcm, pim, tat, counts, sleep)',
    },
  }, async (req) => {
    const p = await ctx.participant(req);
    ingest.take(p.id);
    const info = await ctx.studyInfo(p.study_id);
    checkRawUpload(info, req.headers['content-type'], req.headers['content-length'], limits);
    return ingestRawActivity(store, info, p, req.body as AsyncIterable<Buffer>, req.query, limits);
  });

  // The same, by a researcher from the dashboard: a participant's wristband export (the device's
  // own software, or the file copied off it) uploaded for them.
  app.put('/studies/:studyId/participants/:participantId/activity/raw', {
    schema: { response: answers({ 200: RawActivityStored }),
      tags: ['studies'], params: ParticipantParams, querystring: RawActivityQuery,
      summary: 'Upload a participant\'s wristband export (generic CSV, ActiLife CSV, GENEActiv CSV or .bin, Axivity .cwa, ActiGraph .gt3x) into the study\'s epochs',
    },
  }, async (req) => {
    const u = await ctx.researcher(req);
    const { info, participant } = await ctx.participantFor(u, req.params.studyId, req.params.participantId);
    if (participant.status === 'withdrawn') throw new HttpError(409, `participant ${participant.label} has withdrawn`);
    checkRawUpload(info, req.headers['content-type'], req.headers['content-length'], limits);
    const r = await ingestRawActivity(store, info, participant, req.body as AsyncIterable<Buffer>, req.query, limits);
    await store.audit({ actor_kind: 'researcher', actor_id: u.id, action: 'write', study_id: info.study.id, participant_id: participant.id, resource: 'activity', detail: `wristband file (${r.format}, ${r.bytes} bytes): ${r.epochs} epochs, ${r.inserted} new` });
    return r;
  });

  app.delete('/me', { schema: { response: answers({ 200: WithdrawalReceipt }), tags, summary: 'Withdraw from the study: delete all my data; says what was deleted' } }, async (req) => {
    const p = await ctx.participant(req);
    return withdrawal.withdraw(p, { kind: 'participant', id: p.id });
  });
}
