/**
 * Round trip: a small synthetic study (synthesizeStudy) is uploaded through the API as the apps
 * would (invite + enrol each participant, post every report with its item order, upload every
 * recording, post the wristband epochs in runs), exported, and buildDataset gives the same
 * instances from the export as from the original folder; the recordings are byte-identical.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { openFile } from '../../src/server/storage/sealed-files.js';
import { synthesizeStudy } from '../../src/synth/index.js';
import { buildDataset, validateStudy } from '../../src/data/index.js';
import { readCsv } from '../../src/util/csv.js';
import { parseIsoTime } from '../../src/data/rows.js';
import { startHarness, setupStudy, exportAndWait, untar, type Harness } from './helpers.js';

const MAX_RUN = 5000;

describe('synthetic study → API → export', () => {
  const dir = mkdtempSync(join(tmpdir(), 'moodlens-rt-'));
  let h: Harness | undefined;
  afterAll(async () => { await h?.close(); h = undefined; rmSync(dir, { recursive: true, force: true }); });

  for (const speech of ['audio', 'features'] as const) it(`gives identical instances (speech as ${speech})`, async () => {
    const src = join(dir, `synthetic-${speech}`);
    await synthesizeStudy({ out: src, participants: 3, days: 2, seed: 11, speech });
    const config = JSON.parse(readFileSync(join(src, 'study.json'), 'utf8'));
    await h?.close();
    h = await startHarness('sqlite');
    const s = await setupStudy(h, config);
    const tokens = new Map<string, string>();
    for await (const row of readCsv(join(src, 'participants.csv'))) {
      const v = row.values;
      const inv = await h.req('POST', `/studies/${s.studyId}/participants`, { token: s.researcher, body: { participantId: v.participant_id, ...(v.timezone ? { timezone: v.timezone } : {}), covariates: { sex: v.sex, age: v.age } } });
      expect(inv.status).toBe(201);
      tokens.set(v.participant_id, (await h.req('POST', '/enrol', { body: { code: inv.json.enrolCode } })).json.token);
    }
    const items: string[] = config.items?.map((i: any) => i.id) ?? ['vigorous', 'gloomy', 'concerned', 'happy', 'unpleasant', 'anxious', 'cheerful', 'depressed', 'worried'];
    const owner = new Map<string, string>();
    for await (const row of readCsv(join(src, 'reports.csv'))) {
      const v = row.values;
      const answers = Object.fromEntries(items.filter((i) => v[i] !== '').map((i) => [i, Number(v[i])]));
      const r = await h.req('POST', '/me/reports', { token: tokens.get(v.participant_id), body: {
        id: v.report_id, time: v.time, trigger: v.trigger, answers, itemOrder: v.item_order ? v.item_order.split(';') : Object.keys(answers),
      } });
      expect(r.status, r.body).toBe(201);
      owner.set(v.report_id, v.participant_id);
    }
    let speechFiles = 0;
    if (speech === 'features') {
      for await (const row of readCsv(join(src, 'speech_features.csv'))) {
        const { report_id, ...rest } = row.values;
        const features = Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, v === '' ? null : Number(v)]));
        const r = await h.req('PUT', `/me/reports/${report_id}/speech-features`, { token: tokens.get(owner.get(report_id)!), body: { features } });
        expect(r.status, r.body).toBe(201);
        speechFiles++;
      }
    }
    if (speech === 'audio') for await (const row of readCsv(join(src, 'speech.csv'))) {
      const bytes = readFileSync(join(src, row.values.file));
      const r = await h.req('PUT', `/me/reports/${row.values.report_id}/speech`, { token: tokens.get(owner.get(row.values.report_id)!), payload: bytes, headers: { 'content-type': 'audio/wav' } });
      expect(r.status, r.body).toBe(201);
      speechFiles++;
    }
    // Activity: consecutive epochs of one participant go up as one run (gaps start a new run).
    const channels: string[] = config.activity.channels;
    const epochMs = config.activity.epochSeconds * 1000;
    let run: { p: string; start: number; n: number; values: Record<string, (number | null)[]> } | null = null;
    const flush = async () => {
      if (!run) return;
      const r = await h!.req('POST', '/me/activity', { token: tokens.get(run.p), body: { start: new Date(run.start).toISOString(), values: run.values } });
      expect(r.status, r.body).toBe(200);
      run = null;
    };
    for await (const row of readCsv(join(src, 'activity.csv'))) {
      const v = row.values;
      const t = parseIsoTime(v.time);
      if (!run || run.p !== v.participant_id || t !== run.start + run.n * epochMs || run.n >= MAX_RUN) {
        await flush();
        run = { p: v.participant_id, start: t, n: 0, values: Object.fromEntries(channels.map((c) => [c, []])) };
      }
      for (const c of channels) run.values[c].push(v[c] === '' ? null : Number(v[c]));
      run.n++;
    }
    await flush();

    // The export is a background job: started (202), polled for status and progress, then downloaded.
    const { job, start } = await exportAndWait(h, s.researcher, s.studyId, { name: 'roundtrip' });
    expect(start.status).toBe('queued');
    expect(job.status, job.error).toBe('done');
    expect(job.progress).toBe(1);
    expect(job.done).toBe(job.total);
    expect(job.summary.speechFiles).toBe(speechFiles);
    // The download is the folder as a tar archive: on the server the folder is sealed at rest
    // (docs/security.md), the archive holds every file opened, byte for byte.
    const dl = await h.server.app.inject({ method: 'GET', url: job.downloadUrl, headers: { authorization: `Bearer ${s.researcher}` } });
    expect(dl.statusCode).toBe(200);
    expect(dl.headers['content-type']).toBe('application/x-tar');
    const tar = untar(dl.rawPayload);
    const onDisk = (d: string, pre = ''): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => e.isDirectory() ? onDisk(join(d, e.name), `${pre}${e.name}/`) : [`${pre}${e.name}`]);
    const want = onDisk(job.summary.dir).sort();
    expect([...tar.keys()].map((k) => k.replace(/^roundtrip\//, '')).sort()).toEqual(want);
    const got = join(dir, `downloaded-${speech}`);
    for (const f of want) {
      const bytes = tar.get(`roundtrip/${f}`)!;
      expect(bytes.equals(await openFile(h.server.store.keys, join(job.summary.dir, f))), f).toBe(true);
      expect(readFileSync(join(job.summary.dir, f)).equals(bytes), `${f} is sealed on the server`).toBe(false);
      mkdirSync(dirname(join(got, f)), { recursive: true });
      writeFileSync(join(got, f), bytes);
    }
    const exp = { json: { dir: got } };
    expect((await validateStudy(exp.json.dir)).issues).toEqual([]);

    const a = (await buildDataset(src, { policy: 'masked' })).dataset;
    const b = (await buildDataset(exp.json.dir, { policy: 'masked' })).dataset;
    expect(a.n).toBeGreaterThan(10);
    for (const key of ['items', 'channels', 'windowEpochs', 'speechFeatures', 'participantIds', 'n', 'participant', 'reportIds', 'time', 'localHour', 'trigger', 'labels', 'activity', 'speech', 'modalityMask'] as const) {
      expect(b[key], key).toEqual(a[key]);
    }
    if (speech === 'features') {
      expect(b.speechFeatures.length).toBeGreaterThan(5);
      return;
    }
    // Recordings are byte-identical.
    const files = new Map<string, string>();
    for await (const row of readCsv(join(exp.json.dir, 'speech.csv'))) files.set(row.values.report_id, row.values.file);
    for await (const row of readCsv(join(src, 'speech.csv'))) {
      expect(readFileSync(join(exp.json.dir, files.get(row.values.report_id)!)).equals(readFileSync(join(src, row.values.file)))).toBe(true);
    }
  });
});
