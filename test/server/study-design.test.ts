/**
 * Study design through the server (docs/study-design.md): every item kind answered and checked,
 * prompts with ids opened and closed by the server's (injected) clock, the PHQ-9 scored and
 * banded as stored, text answers sealed at rest, wake/bed overrides, and the export: a study
 * folder that validates, keeps every kind (multiple choice as 0/1 columns, texts in texts.csv,
 * scores as columns) and trains with the PHQ-9 total as an extra target.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { buildDataset, describeStudy, loadStudy, validateStudy } from '../../src/data/index.js';
import { run } from '../../src/cli/main.js';
import { BACKENDS, downloadExport, exportAndWait, setupStudy, startHarness, type Harness } from './helpers.js';
import { EVERY_KIND_ITEMS } from '../support/item-kinds.js';

const ZONE = 'Europe/Berlin';
const at = (iso: string) => DateTime.fromISO(iso, { zone: ZONE }).toMillis();
const iso = (ms: number) => DateTime.fromMillis(ms, { zone: ZONE }).toISO({ suppressMilliseconds: true })!;
const SECRET = 'walked by the river with my sister';

const CONFIG = {
  name: 'design study', timezone: ZONE, speech: { kind: 'none' }, window: { epochs: 10 },
  items: EVERY_KIND_ITEMS,
  schedule: { times: ['11:00', '15:00', '19:00'], jitterMinutes: 0, expiryMinutes: 60, days: 7 },
  instruments: [{ id: 'phq9', builtin: 'phq9', schedule: { times: ['20:00'], jitterMinutes: 0, expiryMinutes: 180, days: 7 } }],
};
const ORDER = ['mood', 'energy', 'place', 'company', 'coffee', 'note'];
const phq = (values: number[]) => Object.fromEntries(values.map((v, k) => [`phq9_${k + 1}`, v]));

for (const backend of BACKENDS) describe.skipIf(backend.skip)(`study design on ${backend.name}`, () => {
  let h: Harness | undefined;
  let clock = at('2026-03-23T08:00');
  afterAll(async () => { await h?.close(); });

  it('opens prompts by the clock, checks answers by kind, scores the PHQ-9, seals texts, exports a study folder that validates and trains', async () => {
    h = await startHarness(backend.name, { now: () => clock });
    const s = await setupStudy(h, CONFIG);
    const tokens = [await s.enrol('p1'), await s.enrol('p2'), await s.enrol('p3')];
    const me = (t: string) => h!.req('GET', '/me/next', { token: t });
    const post = (t: string, body: Record<string, unknown>) => h!.req('POST', '/me/reports', { token: t, body: { trigger: 'scheduled', time: iso(clock), itemOrder: [], ...body } });

    // 08:00: nothing open; the next prompt is 11:00's, with its id and expiry
    let next = (await me(tokens[0])).json;
    expect(next.open).toEqual([]);
    expect(next.prompt).toMatchObject({ id: 'ema:0:0', instrument: 'ema', time: '2026-03-23T11:00:00+01:00', expires: '2026-03-23T12:00:00+01:00' });
    expect(next.clock).toMatchObject({ zone: ZONE, enrolledMs: at('2026-03-23T08:00') });
    expect(next.design.instruments[0]).toMatchObject({ id: 'phq9', builtin: 'phq9' });
    expect(Date.parse(next.now)).toBe(clock);

    // the schedule lists every instrument's prompts with ids and expiry: 3 check-ins and a PHQ-9 a day
    const sched = (await h.req('GET', '/me/schedule', { token: tokens[0] })).json;
    expect(sched.prompts).toHaveLength(7 * 4);
    expect(sched.prompts.slice(0, 4)).toEqual([
      { id: 'ema:0:0', instrument: 'ema', time: '2026-03-23T11:00:00+01:00', day: 0, slot: 0, expires: '2026-03-23T12:00:00+01:00' },
      { id: 'ema:0:1', instrument: 'ema', time: '2026-03-23T15:00:00+01:00', day: 0, slot: 1, expires: '2026-03-23T16:00:00+01:00' },
      { id: 'ema:0:2', instrument: 'ema', time: '2026-03-23T19:00:00+01:00', day: 0, slot: 2, expires: '2026-03-23T20:00:00+01:00' },
      { id: 'phq9:0:0', instrument: 'phq9', time: '2026-03-23T20:00:00+01:00', day: 0, slot: 0, expires: '2026-03-23T23:00:00+01:00' },
    ]);
    // the spring-forward day (day 6, 2026-03-29): 11:00 CEST
    expect(sched.prompts.find((p: { id: string }) => p.id === 'ema:6:0').time).toBe('2026-03-29T11:00:00+02:00');

    clock = at('2026-03-23T11:05');
    next = (await me(tokens[0])).json;
    expect(next.open.map((p: { id: string }) => p.id)).toEqual(['ema:0:0']);

    // wrong answers, each named
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ energy: 4 }, /body\.answers\.energy: expected an integer in \[0, 3\], got 4/],
      [{ place: 4 }, /body\.answers\.place: 4 is not an option of this item \(options: 1, 2, 3\)/],
      [{ company: 1 }, /body\.answers\.company: expected the chosen option values as an array/],
      [{ company: [1, 7] }, /body\.answers\.company: 7 is not an option/],
      [{ coffee: 2 }, /body\.answers\.coffee: expected an integer in \[0, 1\]/],
      [{ note: 5 }, /body\.answers\.note: expected the text answered/],
      [{ note: 'x'.repeat(201) }, /body\.answers\.note: 201 characters, more than the item's maxLength of 200/],
      [{ mood: 'fine' }, /body\.answers\.mood: expected a number \(a slider item\)/],
      [{ phq9_1: 1 }, /body\.answers\.phq9_1: not an item of this study/],
    ];
    for (const [k, [answers, message]] of bad.entries()) {
      const r = await post(tokens[0], { id: `bad-${k}`, answers, itemOrder: Object.keys(answers) });
      expect(r.status, JSON.stringify(answers)).toBe(400);
      expect(r.json.message).toMatch(message);
    }
    const wrongPrompt = await post(tokens[0], { id: 'bad-prompt', answers: { mood: 1 }, itemOrder: ['mood'], promptId: 'phq9:0:0' });
    expect(wrongPrompt.json.message).toMatch(/body\.promptId: phq9:0:0 asks instrument "phq9", not "ema"/);

    // a full EMA report answering the open prompt
    const ok = await post(tokens[0], { id: 'r1', promptId: 'ema:0:0', itemOrder: ORDER,
      answers: { mood: 62, energy: 2, place: 3, company: [1, 2], coffee: 1, note: SECRET } });
    expect(ok.status).toBe(201);
    expect(ok.json).toMatchObject({
      instrument: 'ema', promptId: 'ema:0:0', promptTime: '2026-03-23T11:00:00+01:00', late: false,
      answers: { mood: 62, energy: 2, place: 3, company_0: 0, company_1: 1, company_2: 1, coffee: 1 }, texts: { note: SECRET }, scores: {},
    });
    expect((await me(tokens[0])).json.open).toEqual([]); // answering closed it
    expect((await post(tokens[0], { id: 'r1', promptId: 'ema:0:0', itemOrder: ORDER, answers: { mood: 62, energy: 2, place: 3, company: [1, 2], coffee: 1, note: SECRET } })).status).toBe(200); // a retry

    // 20:30: the PHQ-9 prompt is open; a hand-scored PHQ-9: 0+1+2+3+0+1+2+3+1 = 13, moderate
    clock = at('2026-03-23T20:30');
    expect((await me(tokens[0])).json.open.map((p: { id: string }) => p.id)).toEqual(['phq9:0:0']);
    const scored = await post(tokens[0], { id: 'q1', instrument: 'phq9', promptId: 'phq9:0:0', answers: phq([0, 1, 2, 3, 0, 1, 2, 3, 1]), itemOrder: Object.keys(phq([0, 0, 0, 0, 0, 0, 0, 0, 0])) });
    expect(scored.status).toBe(201);
    expect(scored.json).toMatchObject({ instrument: 'phq9', scores: { phq9_total: 13 }, band: 'moderate' });

    // the participant's own wake and bed times, audited
    const ov = await h.req('PUT', `/studies/${s.studyId}/participants/p2/schedule-overrides`, { token: s.researcher, body: { wake: '06:30' } });
    expect(ov.status).toBe(200);
    expect((await me(tokens[1])).json.clock.overrides).toEqual({ wake: '06:30' });
    expect((await h.req('PUT', '/me/schedule-overrides', { token: tokens[1], body: { wake: '6:30' } })).status).toBe(400);
    const audit = await h.req('GET', `/studies/${s.studyId}/audit`, { token: s.researcher });
    if (audit.status === 200) expect(JSON.stringify(audit.json)).toContain('schedule-overrides');

    const totals = [13];
    // four more days of answers for three participants (prompts answered while open; the PHQ-9 nightly)
    for (let d = 1; d <= 4; d++) {
      for (const [slot, hhmm] of ['11:00', '15:00', '19:00'].entries()) {
        clock = at(`2026-03-${23 + d}T${hhmm}`) + 10 * 60_000; // the clock only moves forward (the ingest rate limit counts by it)
        for (const [k, t] of tokens.entries()) {
          const id = `ema:${d}:${slot}`;
          const v = 20 + 10 * k + 5 * d + slot;
          const r = await post(t, { id: `${k}-${id}`, promptId: id, itemOrder: ORDER, answers: { mood: v, energy: (d + slot) % 4, place: 1 + (k % 3), company: k ? [0] : [], coffee: slot % 2 } });
          expect(r.status, r.body).toBe(201);
        }
      }
      clock = at(`2026-03-${23 + d}T20:31`);
      for (const [k, t] of tokens.entries()) {
        const values = Array.from({ length: 9 }, (_, j) => (j + d + k) % 4);
        totals.push(values.reduce((x, y) => x + y, 0));
        const r = await post(t, { id: `${k}-phq-${d}`, instrument: 'phq9', promptId: `phq9:${d}:0`, answers: phq(values), itemOrder: Object.keys(phq(values)) });
        expect(r.json.scores.phq9_total).toBe(values.reduce((x, y) => x + y, 0));
      }
    }

    // a wristband run over days 1–4 for each participant (minute epochs)
    for (const [k, t] of tokens.entries()) {
      const n = 4 * 1440;
      const zcm = Array.from({ length: n }, (_, i) => (i * 7 + k * 13) % 300), pim = zcm.map((x) => 2 * x + 1);
      const r = await h.req('POST', '/me/activity', { token: t, body: { start: iso(at('2026-03-24T00:00')), values: { zcm, pim } } });
      expect(r.status, r.body).toBe(200);
    }

    // sealed at rest: the text is nowhere in the data folder in plaintext
    const walk = (dir: string): string[] => readdirSync(dir).flatMap((n) => { const p = join(dir, n); return statSync(p).isDirectory() ? walk(p) : [p]; });
    for (const f of walk(h.backend.dataDir)) expect(readFileSync(f).includes(SECRET), f).toBe(false);

    // free text goes to researchers, not to viewers (both audited reads)
    expect((await h.req('POST', '/admin/researchers', { token: s.admin, body: { email: 'viewer@example.org', password: 'viewer-pass-1234' } })).status).toBe(201);
    expect((await h.req('POST', `/studies/${s.studyId}/members`, { token: s.researcher, body: { email: 'viewer@example.org', role: 'viewer' } })).status).toBeLessThan(300);
    const viewer = await h.login('viewer@example.org', 'viewer-pass-1234');
    const seen = async (token: string) => (await h!.req('GET', `/studies/${s.studyId}/participants/p1/reports`, { token })).json.find((r: { id: string }) => r.id === 'r1').texts;
    expect(await seen(s.researcher)).toEqual({ note: SECRET });
    expect(await seen(viewer)).toEqual({});

    // the export: a study folder that validates and keeps every kind
    const { job } = await exportAndWait(h, s.researcher, s.studyId);
    expect(job.status, JSON.stringify(job)).toBe('done');
    const dir = await downloadExport(h, s.researcher, job);
    const v = await validateStudy(dir, { progress: false });
    expect(v.issues).toEqual([]);
    const header = readFileSync(join(dir, 'reports.csv'), 'utf8').split('\n')[0].split(',');
    expect(header).toEqual(expect.arrayContaining(['mood', 'energy', 'place', 'company_0', 'company_1', 'company_2', 'coffee', 'phq9_1', 'phq9_9', 'phq9_total', 'instrument', 'prompt_id', 'band']));
    expect(header).not.toContain('note');
    expect(readFileSync(join(dir, 'texts.csv'), 'utf8')).toBe(`report_id,item,text\nr1,note,${SECRET}\n`);
    const ds = (await buildDataset(dir, { policy: 'masked', progress: false, targets: { scores: ['phq9_total'] } })).dataset;
    expect(ds.items.map((i) => i.id)).toEqual(['mood', 'energy', 'place', 'coffee', 'phq9_total']);
    const q1 = ds.reportIds.indexOf('q1');
    expect(ds.labels[q1 * 5 + 4]).toBeCloseTo(13 / 27, 6);
    expect(Number.isNaN(ds.labels[q1 * 5])).toBe(true); // a PHQ-9 report has no mood answer
    expect(ds.n).toBe(2 + 3 * 4 * 4); // every report has a target

    // describe summarises the questionnaire: its reports, the total's mean and its severity bands
    const loaded = (await loadStudy(dir, { progress: false })).study!;
    const [phqSummary] = describeStudy(loaded).instruments!;
    const mean = totals.reduce((a, b) => a + b, 0) / totals.length;
    expect(phqSummary).toMatchObject({ id: 'phq9', label: 'PHQ-9', reports: 13, scores: [{ id: 'phq9_total', min: 0, max: 27, answered: 13 }] });
    expect(phqSummary.scores[0].mean).toBeCloseTo(mean, 5);
    expect(Object.values(phqSummary.scores[0].bands!).reduce((a, b) => a + b, 0)).toBe(13);
    expect(phqSummary.scores[0].bands!.moderate).toBe(totals.filter((x) => x >= 10 && x <= 14).length);

    // and trains, with the PHQ-9 total as an extra target
    const model = join(h.backend.dataDir, 'model');
    process.env.MOODLENS_QUIET = '1';
    const code = await run(['train', '--study', dir, '--preset', 'baseline', '--epochs', '1', '--targets', 'phq9_total', '--allow-missing-modality', '--out', model]);
    expect(code).toBe(0);
    expect(JSON.parse(readFileSync(join(model, 'config.json'), 'utf8')).items.map((i: { id: string }) => i.id)).toContain('phq9_total');
    expect(await run(['train', '--study', dir, '--preset', 'baseline', '--epochs', '1', '--targets', 'phq9_sum', '--allow-missing-modality', '--out', join(h.backend.dataDir, 'm2')])).not.toBe(0);
  }, 120_000);
});
