/**
 * Export a study as the study folder (SPEC §7) through the data library's StudyWriter, so what
 * the server collected validates and trains like any other study. Withdrawn participants are
 * left out. Speech files are copied into the folder (speech/<report_id>.wav). Reports and
 * activity are read page by page; nothing is held whole.
 */
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { StudyWriter } from '../../data/writer.js';
import { studyInstruments } from '../../data/instruments.js';
import type { StudyConfig } from '../../data/study.js';
import type { Store } from '../storage/store.js';
import type { StudyInfo } from '../http/context.js';
import type { ExportPhase, ExportSummary } from '../storage/columns.js';

export interface ExportProgress { phase: Exclude<ExportPhase, 'queued'>; done: number; total: number }

/**
 * Write the study folder. `onProgress` is called as rows are written (at most every `every` rows
 * and at each phase change) with the rows written so far and the rows to write in all.
 */
export async function exportStudy(store: Store, info: StudyInfo, dataDir: string, dir: string,
  onProgress?: (p: ExportProgress) => void | Promise<void>, every = 5000): Promise<ExportSummary> {
  const participants = (await store.participants(info.study.id)).filter((p) => p.status !== 'withdrawn');
  const byId = new Map(participants.map((p) => [p.id, p]));
  const covariateCols = [...new Set(participants.flatMap((p) => Object.keys(p.covariates)))].filter((c) => c !== 'timezone');

  // report_id = the app's id when unique in the study (it is, for one app install per participant).
  const clientCount = new Map<string, number>();
  for await (const page of store.studyReports(info.study.id)) for (const r of page) clientCount.set(r.client_id, (clientCount.get(r.client_id) ?? 0) + 1);
  const exportId = (r: { client_id: string; participant_id: string }) =>
    (clientCount.get(r.client_id) ?? 0) > 1 ? `${byId.get(r.participant_id)?.label}-${r.client_id}` : r.client_id;

  const speech = await store.studySpeech(info.study.id);
  const features = info.config.speech.kind === 'features' ? await store.studySpeechFeatures(info.study.id) : [];
  // Feature columns: every name any upload used, in the order first sent (a missing one is an empty cell).
  const featureNames = [...new Set([...features].sort((a, b) => a.created_ms - b.created_ms).flatMap((f) => Object.keys(f.features)))];
  const nReports = [...clientCount.values()].reduce((a, b) => a + b, 0);
  const nActivity = await store.countStudyActivity(info.study.id);
  const total = participants.length + nReports + nActivity + (info.config.speech.kind === 'features' ? features.length : speech.length);
  let done = 0, lastSent = 0, phase: ExportProgress['phase'] = 'participants';
  const tick = async (next: ExportProgress['phase'], n = 1) => {
    done += n;
    if (onProgress && (next !== phase || done - lastSent >= every)) { phase = next; lastSent = done; await onProgress({ phase, done, total }); }
  };
  await onProgress?.({ phase, done, total });
  let kind = info.config.speech.kind;
  if (kind === 'none' && speech.length > 0) kind = 'audio';
  if (kind === 'features' && featureNames.length === 0) kind = 'none'; // nothing uploaded yet
  const config = { ...info.config, speech: { kind } };
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  // instrument and prompt_id always (the server knows them); the severity band of a scored instrument's total as a covariate column.
  const scored = studyInstruments(config as StudyConfig).some((i) => i.scoring);
  const writer = await StudyWriter.open(dir, config, { participantColumns: covariateCols, reportColumns: ['server_time', 'late', 'prompt_time', ...(scored ? ['band'] : [])], speechFeatures: featureNames, designColumns: true });
  const summary: ExportSummary = { dir, participants: 0, reports: 0, activityEpochs: 0, speechFiles: 0 };
  try {
    for (const p of participants) {
      await writer.writeParticipant({ participantId: p.label, timezone: p.timezone, extra: p.covariates });
      summary.participants++;
      await tick('participants');
    }
    const reportIds = new Map<string, string>();
    for await (const page of store.studyReports(info.study.id)) {
      for (const r of [...page].sort((a, b) => a.time_ms - b.time_ms)) {
        const p = byId.get(r.participant_id);
        if (!p) continue;
        const id = exportId(r);
        reportIds.set(r.id, id);
        await writer.writeReport({
          reportId: id, participantId: p.label, time: r.time_ms, trigger: r.trigger,
          items: { ...r.answers, ...(r.scores ?? {}) }, itemOrder: r.item_order, instrument: r.instrument, promptId: r.prompt_id, texts: r.texts,
          extra: { server_time: new Date(r.server_ms).toISOString(), late: r.late ? 1 : 0, prompt_time: r.prompt_time, band: r.band ?? null },
        });
        summary.reports++;
        await tick('reports');
      }
    }
    const C = info.config.activity.channels.length;
    for await (const page of store.studyActivity(info.study.id)) {
      for (const e of page) {
        const p = byId.get(e.participant_id);
        if (!p) continue;
        await writer.writeActivityRow(p.label, e.t_ms, Array.from({ length: C }, (_, c) => e.vals[c] ?? NaN));
        summary.activityEpochs++;
        await tick('activity');
      }
    }
    if (config.speech.kind === 'audio') {
      await mkdir(join(dir, 'speech'), { recursive: true });
      for (const s of speech) {
        const id = reportIds.get(s.report_id);
        if (!id) continue;
        const file = `speech/${id}.wav`;
        await copyFile(join(dataDir, s.file), join(dir, file));
        await writer.writeSpeechFile(id, file);
        summary.speechFiles++;
        await tick('speech');
      }
    }
    if (config.speech.kind === 'features') {
      for (const f of features) {
        const id = reportIds.get(f.report_id);
        if (!id) continue;
        await writer.writeSpeechFeatures(id, featureNames.map((n) => f.features[n] ?? NaN));
        summary.speechFiles++;
        await tick('speech');
      }
    }
  } finally {
    await writer.close();
  }
  await onProgress?.({ phase: 'done', done, total });
  return summary;
}
