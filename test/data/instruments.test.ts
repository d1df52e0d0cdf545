/** Item kinds, questionnaires and their scoring, checked against hand-scored examples. */
import { describe, it, expect } from 'vitest';
import { ScheduleSchema, StudyConfigSchema, type StudyConfig } from '../../src/data/study.js';
import {
  FREQUENCY_LABELS, allItems, reportColumns, scoreAnswers, scoreItems, studyInstruments, studySchedule, targetItems, type ResolvedInstrument,
} from '../../src/data/instruments.js';
import { schemaIssues } from '../../src/util/schema-issues.js';

const study = (extra: Record<string, unknown>): StudyConfig => StudyConfigSchema.parse({ name: 's', ...extra });
const problems = (json: Record<string, unknown>): string[] => {
  const r = StudyConfigSchema.safeParse({ name: 's', ...json });
  return r.success ? [] : schemaIssues(StudyConfigSchema, r.error, 'study.json').map((i) => `${i.field ?? ''}: ${i.message}`);
};
const answersOf = (prefix: string, values: number[]) => Object.fromEntries(values.map((v, k) => [`${prefix}_${k + 1}`, v]));

describe('item kinds in study.json', () => {
  it('reads a study.json from before kinds unchanged: items with id/label/min/max are sliders', () => {
    const items = [{ id: 'happy', label: 'Happy', min: 0, max: 100 }, { id: 'sad', min: 1, max: 7 }];
    const c = study({ items });
    expect(c.items).toEqual(items); // nothing added, so a written study.json stays as it was
    expect(targetItems(c)).toEqual(items);
    expect(reportColumns(c).map((x) => x.id)).toEqual(['happy', 'sad']);
    expect(c.instruments).toBeUndefined();
    // the main schedule's default (held without zod for the app) is the schema's
    expect(studySchedule({})).toEqual(ScheduleSchema.parse({}));
    expect(studyInstruments(c)[0]).toMatchObject({ id: 'ema', items, scoring: null, schedule: ScheduleSchema.parse({}) });
  });

  it('knows every kind, with the numeric ones as targets and multiple choice as one 0/1 column per option', () => {
    const c = study({ items: [
      { id: 'mood', min: 0, max: 100 },
      { id: 'energy', kind: 'likert', labels: ['none', 'some', 'a lot'], min: 1 },
      { id: 'place', kind: 'choice', options: [{ value: 1, label: 'home' }, { value: 2, label: 'work' }, { value: 5, label: 'elsewhere' }] },
      { id: 'company', kind: 'choice', multiple: true, options: [{ value: 0, label: 'alone' }, { value: 1, label: 'partner' }, { value: 2, label: 'friends' }] },
      { id: 'alcohol', kind: 'boolean' },
      { id: 'note', kind: 'text', maxLength: 200 },
    ] });
    expect(targetItems(c)).toEqual([
      { id: 'mood', min: 0, max: 100 }, { id: 'energy', min: 1, max: 3 }, { id: 'place', min: 1, max: 5 }, { id: 'alcohol', min: 0, max: 1 },
    ]);
    expect(reportColumns(c).map((x) => x.id)).toEqual(['mood', 'energy', 'place', 'company_0', 'company_1', 'company_2', 'alcohol']);
  });

  it('refuses unknown keys with a suggestion, unknown kinds, bad options and clashing columns', () => {
    expect(problems({ items: [{ id: 'a', kind: 'choice', optionz: [] }] }).join('\n')).toMatch(/unknown key "optionz".*did you mean "options"/);
    expect(problems({ items: [{ id: 'a', kind: 'slidr', min: 0, max: 1 }] }).join('\n')).toMatch(/kind/);
    expect(problems({ items: [{ id: 'a', kind: 'choice', options: [{ value: 1, label: 'x' }, { value: 1, label: 'y' }] }] }).join('\n')).toMatch(/unique/);
    // a_1 is both an item and the first option column of the multiple-choice item "a"
    expect(problems({ items: [{ id: 'a_1', min: 0, max: 1 }, { id: 'a', kind: 'choice', multiple: true, options: [{ value: 1, label: 'x' }, { value: 2, label: 'y' }] }] }).join('\n'))
      .toMatch(/column "a_1" of option 1 of item "a" is already item "a_1"/);
    expect(problems({ items: [{ id: 'time', min: 0, max: 1 }] }).join('\n')).toMatch(/fixed column of reports.csv/);
    expect(problems({ instruments: [{ id: 'phq9', builtin: 'phq9' }, { id: 'phq9', builtin: 'phq9' }] }).join('\n')).toMatch(/used twice/);
    expect(problems({ instruments: [{ id: 'p', builtin: 'phq9', scoring: {} }] }).join('\n')).toMatch(/published scoring/);
    expect(problems({ instruments: [{ id: 'x', items: [{ id: 'x1', kind: 'text' }], scoring: { reverse: ['x1'] } }] }).join('\n')).toMatch(/cannot be scored/);
    expect(problems({ instruments: [{ id: 'x' }] }).join('\n')).toMatch(/either builtin or items/);
  });
});

describe('built-in PHQ-9 and GAD-7', () => {
  const c = study({ instruments: [{ id: 'phq9', builtin: 'phq9' }, { id: 'gad7', builtin: 'gad7' }] });
  const [, phq9, gad7] = studyInstruments(c);

  it('have the standard items, response labels and score ranges', () => {
    expect(phq9.items).toHaveLength(9);
    expect(gad7.items).toHaveLength(7);
    expect(phq9.items[0]).toMatchObject({ id: 'phq9_1', kind: 'likert', label: 'Little interest or pleasure in doing things', min: 0 });
    expect(phq9.items[8].label).toBe('Thoughts that you would be better off dead or of hurting yourself in some way');
    expect(gad7.items[1].label).toBe('Not being able to stop or control worrying');
    expect([...FREQUENCY_LABELS]).toEqual(['Not at all', 'Several days', 'More than half the days', 'Nearly every day']);
    for (const it of [...phq9.items, ...gad7.items]) expect(it).toMatchObject({ labels: [...FREQUENCY_LABELS] });
    expect(phq9.instructions).toMatch(/^Over the last 2 weeks/);
    expect(scoreItems(phq9)).toEqual([{ id: 'phq9_total', label: 'PHQ-9 total', min: 0, max: 27 }]);
    expect(scoreItems(gad7)).toEqual([{ id: 'gad7_total', label: 'GAD-7 total', min: 0, max: 21 }]);
  });

  it('score hand-scored PHQ-9 examples into the published bands', () => {
    // [answers, total by hand, band]
    const cases: [number[], number, string][] = [
      [[0, 0, 0, 0, 0, 0, 0, 0, 0], 0, 'minimal'],
      [[1, 1, 1, 1, 0, 0, 0, 0, 0], 4, 'minimal'],
      [[1, 1, 1, 1, 1, 0, 0, 0, 0], 5, 'mild'],
      [[3, 3, 3, 0, 0, 0, 0, 0, 0], 9, 'mild'],
      [[0, 1, 2, 3, 0, 1, 2, 3, 1], 13, 'moderate'], // 0+1+2+3+0+1+2+3+1
      [[2, 2, 2, 2, 2, 2, 2, 0, 0], 14, 'moderate'],
      [[2, 2, 2, 2, 2, 2, 2, 1, 0], 15, 'moderately severe'],
      [[3, 3, 3, 3, 3, 2, 2, 0, 0], 19, 'moderately severe'],
      [[3, 3, 3, 3, 3, 3, 2, 0, 0], 20, 'severe'],
      [[3, 3, 3, 3, 3, 3, 3, 3, 3], 27, 'severe'],
    ];
    for (const [values, total, band] of cases) {
      expect(scoreAnswers(phq9, answersOf('phq9', values)), values.join(',')).toEqual({ instrument: 'phq9', scores: { phq9_total: total }, band, answered: 9, missing: 0 });
    }
  });

  it('score hand-scored GAD-7 examples into the published bands', () => {
    const cases: [number[], number, string][] = [
      [[0, 0, 0, 0, 1, 1, 2], 4, 'minimal'],
      [[1, 1, 1, 1, 1, 0, 0], 5, 'mild'],
      [[2, 2, 2, 2, 1, 0, 0], 9, 'mild'],
      [[2, 2, 2, 2, 2, 0, 0], 10, 'moderate'],
      [[2, 2, 2, 2, 2, 2, 2], 14, 'moderate'],
      [[3, 3, 3, 3, 3, 0, 0], 15, 'severe'],
      [[3, 3, 3, 3, 3, 3, 3], 21, 'severe'],
    ];
    for (const [values, total, band] of cases) expect(scoreAnswers(gad7, answersOf('gad7', values))).toMatchObject({ scores: { gad7_total: total }, band });
  });

  it('give no total when an item is unanswered (published scoring: all items)', () => {
    const a = answersOf('phq9', [1, 1, 1, 1, 1, 1, 1, 1, 1]);
    delete a.phq9_9;
    expect(scoreAnswers(phq9, a)).toEqual({ instrument: 'phq9', scores: {}, band: null, answered: 8, missing: 1 });
  });

  it('are items and score columns of the study folder; the PHQ-9 total is a target only when asked', () => {
    const cols = reportColumns(c).map((x) => x.id);
    expect(cols).toContain('phq9_1'); expect(cols).toContain('phq9_total'); expect(cols).toContain('gad7_total');
    expect(allItems(c)).toHaveLength(9 + 9 + 7); // the 9 DAMS sliders by default, then the instruments
    expect(targetItems(c).map((t) => t.id)).toHaveLength(9);
    expect(targetItems(c, { scores: ['phq9_total'] }).at(-1)).toEqual({ id: 'phq9_total', label: 'PHQ-9 total', min: 0, max: 27 });
    expect(() => targetItems(c, { scores: ['phq9_sum'] })).toThrow(/"phq9_sum" is not a score of this study \(scores: phq9_total, gad7_total\)/);
  });
});

describe('custom scoring rules', () => {
  const five = ['1', '2', '3', '4', '5'];
  const c = study({ instruments: [{
    id: 'wb', items: ['a', 'b', 'c', 'd'].map((id) => ({ id, kind: 'likert', labels: five, min: 1 })),
    scoring: { reverse: ['b'], subscales: [{ id: 'pos', items: ['a', 'b'] }], bands: [{ min: 4, max: 10, label: 'low' }, { min: 11, max: 20, label: 'high' }], maxMissing: 1 },
  }] });
  const wb = studyInstruments(c)[1] as ResolvedInstrument;

  it('reverse-score, sum subscales and band the total (by hand)', () => {
    // a=5, b=2 → 1+5−2 = 4, c=3, d=1: total 5+4+3+1 = 13 (high); pos = 5+4 = 9
    expect(scoreAnswers(wb, { a: 5, b: 2, c: 3, d: 1 })).toEqual({ instrument: 'wb', scores: { wb_total: 13, wb_pos: 9 }, band: 'high', answered: 4, missing: 0 });
    expect(scoreItems(wb)).toEqual([{ id: 'wb_total', label: 'wb total', min: 4, max: 20 }, { id: 'wb_pos', label: 'wb pos', min: 2, max: 10 }]);
  });

  it('prorate a sum with at most maxMissing items unanswered, and give no score with more', () => {
    // a=5, b=2 → 4, c=3, d missing: 12 × 4 / 3 = 16
    expect(scoreAnswers(wb, { a: 5, b: 2, c: 3 })).toMatchObject({ scores: { wb_total: 16, wb_pos: 9 }, band: 'high', missing: 1 });
    // pos has a and b: b missing → 5 × 2 / 1 = 10; total: two missing > 1 → none
    expect(scoreAnswers(wb, { a: 5, c: 3 })).toEqual({ instrument: 'wb', scores: { wb_pos: 10 }, band: null, answered: 2, missing: 2 });
  });

  it('average with method "mean" (no prorating needed)', () => {
    const m = study({ instruments: [{ id: 'm', items: [{ id: 'x', min: 0, max: 10 }, { id: 'y', min: 0, max: 10 }, { id: 'z', min: 0, max: 10 }], scoring: { method: 'mean', reverse: ['z'], maxMissing: 1 } }] });
    const ins = studyInstruments(m)[1];
    // x=2, y=4, z=7 → 10−7 = 3: (2+4+3)/3 = 3
    expect(scoreAnswers(ins, { x: 2, y: 4, z: 7 })!.scores).toEqual({ m_total: 3 });
    expect(scoreAnswers(ins, { x: 2, y: 5 })!.scores).toEqual({ m_total: 3.5 });
    expect(scoreItems(ins)[0]).toMatchObject({ min: 0, max: 10 });
  });
});

describe('the study folder with questionnaires', () => {
  it('round-trips every kind through StudyWriter and loadStudy, and flags a score that disagrees with its answers', async () => {
    const { mkdtempSync, readFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { StudyWriter } = await import('../../src/data/writer.js');
    const { loadStudy } = await import('../../src/data/load.js');
    const dir = mkdtempSync(join(tmpdir(), 'moodlens-kinds-'));
    try {
      const w = await StudyWriter.open(dir, { name: 'k', timezone: 'UTC', speech: { kind: 'none' },
        items: [{ id: 'mood', min: 0, max: 100 }, { id: 'who', kind: 'choice', multiple: true, options: [{ value: 1, label: 'a' }, { value: 2, label: 'b' }] }, { id: 'note', kind: 'text', maxLength: 20 }],
        instruments: [{ id: 'gad7', builtin: 'gad7' }] });
      await w.writeParticipant({ participantId: 'p1' });
      const t = Date.parse('2026-03-23T10:00:00Z');
      const gad = (v: number) => Object.fromEntries(Array.from({ length: 7 }, (_, k) => [`gad7_${k + 1}`, v]));
      await w.writeReport({ reportId: 'r0', participantId: 'p1', time: t, trigger: 'scheduled', items: { mood: 40, who_1: 1, who_2: 0 }, itemOrder: ['mood', 'who', 'note'], texts: { note: 'tired, "but" ok' } });
      await w.writeReport({ reportId: 'q0', participantId: 'p1', time: t + 3600e3, trigger: 'scheduled', instrument: 'gad7', promptId: 'gad7:0:0', items: { ...gad(2), gad7_total: 14 } });
      await w.writeReport({ reportId: 'q1', participantId: 'p1', time: t + 7200e3, trigger: 'scheduled', instrument: 'gad7', items: { ...gad(2), gad7_total: 15 } });
      await w.close();
      expect(readFileSync(join(dir, 'reports.csv'), 'utf8').split('\n')[0]).toBe(
        'report_id,participant_id,time,trigger,mood,who_1,who_2,gad7_1,gad7_2,gad7_3,gad7_4,gad7_5,gad7_6,gad7_7,gad7_total,item_order,instrument,prompt_id');
      const res = await loadStudy(dir, { progress: false, targets: { scores: ['gad7_total'] } });
      // 2 × 7 = 14, not 15: the edited row is named and left out
      expect(res.issues.map((i) => `${i.file}:${i.line}: ${i.field}: ${i.message}`)).toEqual(['reports.csv:4: gad7_total: 15 given, but the answers of "gad7" score 14']);
      const s = res.study!;
      expect(s.items.map((i) => i.id)).toEqual(['mood', 'gad7_total']);
      expect(Array.from(s.reports.items)).toEqual([40, NaN, NaN, 14]);
      expect(Array.from(s.reports.extra.who_1)).toEqual([1, NaN]);
      expect(s.reports.instrument).toEqual(['', 'gad7']);
      expect(s.reports.promptId).toEqual(['', 'gad7:0:0']);
      expect(s.texts.get('r0')).toEqual({ note: 'tired, "but" ok' });
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });
});
