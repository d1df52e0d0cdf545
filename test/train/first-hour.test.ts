/**
 * A researcher's first hour (issue 20): inputs that cannot work give one line that says what to
 * do and a non-zero exit — a typo in study.json, a model from another study, an occupied or
 * unwritable --out, a declared modality no report has — and training stops by itself.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { synthesizeStudy } from '../../src/synth/index.js';
import { run } from '../../src/cli/main.js';
import { convertLifeSnaps } from '../../src/data/lifesnaps.js';
import { writeStudy, validStudy } from '../data/fixture.js';

process.env.MOODLENS_QUIET = '1';

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [], err: string[] = [];
  const spies = [
    vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => { out.push(a.join(' ')); }),
    vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => { err.push(a.join(' ')); }),
  ];
  try { return { code: await run(argv), out: out.join('\n'), err: err.join('\n') }; } finally { spies.forEach((s) => s.mockRestore()); process.exitCode = undefined; }
}

/** One line, no stack trace. */
const oneLine = (s: string) => { expect(s.split('\n')).toHaveLength(1); expect(s).not.toMatch(/\n\s+at /); };

let dir = '', study = '', model = '';
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'first-hour-'));
  study = join(dir, 'study'); model = join(dir, 'model');
  await synthesizeStudy({ out: study, participants: 4, days: 3, seed: 3 });
  const t = await cli(['train', '--study', study, '--preset', 'baseline', '--epochs', '1', '--out', model]);
  expect(t.code).toBe(0);
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('one line and a non-zero exit', () => {
  it('a typo in study.json names the file, the place and the key meant', async () => {
    const typo = join(dir, 'typo');
    cpSync(study, typo, { recursive: true });
    const cfg = JSON.parse(readFileSync(join(typo, 'study.json'), 'utf8'));
    cfg.activity.epochSecond = cfg.activity.epochSeconds; delete cfg.activity.epochSeconds;
    writeFileSync(join(typo, 'study.json'), JSON.stringify(cfg));
    const line = 'study.json: unknown key "epochSecond" at activity — did you mean "epochSeconds"?';
    const v = await cli(['validate', typo]);
    expect(v.code).toBe(1);
    expect(v.out.split('\n')[0]).toBe(line);
    const t = await cli(['train', '--study', typo, '--preset', 'baseline', '--out', join(dir, 'never')]);
    expect(t.code).toBe(1);
    oneLine(t.err);
    expect(t.err).toBe(line);
    expect(existsSync(join(dir, 'never'))).toBe(false);
  });

  it('a declared epoch length the data do not have: no window fills, validate and train refuse (unless allowed)', async () => {
    const wrong = join(dir, 'wrong-epoch');
    cpSync(study, wrong, { recursive: true });
    const cfg = JSON.parse(readFileSync(join(wrong, 'study.json'), 'utf8'));
    cfg.activity.epochSeconds = 1;
    writeFileSync(join(wrong, 'study.json'), JSON.stringify(cfg));
    const v = await cli(['validate', wrong]);
    expect(v.code).toBe(1);
    expect(v.out).toMatch(/^study\.json: activity: no report has a complete window of 60 epochs of 1 s for zcm, pim: the epochs in activity\.csv are 60 s apart, not 1 s/);
    expect((await cli(['validate', wrong, '--allow-missing-modality'])).code).toBe(0);
    const t = await cli(['train', '--study', wrong, '--preset', 'baseline', '--out', join(dir, 'never')]);
    expect(t.code).toBe(1);
    oneLine(t.err);
    expect(t.err).toMatch(/--allow-missing-modality/);
  });

  it('a model from another study: evaluate, predict and personalize say it does not fit', async () => {
    const other = writeStudy(mkdtempSync(join(tmpdir(), 'other-')), validStudy());
    for (const argv of [
      ['evaluate', '--model', model, '--study', other],
      ['predict', '--model', model, '--study', other, '--out', join(dir, 'p.csv')],
      ['personalize', '--model', model, '--study', other, '--participant', 'p1'],
    ]) {
      const r = await cli(argv);
      expect(r.code).toBe(1);
      oneLine(r.err);
      expect(r.err).toMatch(new RegExp(`^moodlens: the model in .* does not fit ${other}: it predicts vigorous 0–100, .*; the study's items are a 0–100, b 0–100, c 1–5 \\(a model trained on another study\\?`));
    }
    expect(existsSync(join(dir, 'p.csv'))).toBe(false);
  });

  it('train --out refuses another run\'s model (--force replaces it), a folder without a model, and an unwritable place', async () => {
    const r = await cli(['train', '--study', study, '--preset', 'baseline', '--epochs', '2', '--out', model]);
    expect(r.code).toBe(1);
    oneLine(r.err);
    expect(r.err).toBe(`moodlens: --out ${model} holds another model (other config or data); choose a new folder, or add --force to replace it`);
    const notModel = join(dir, 'notes');
    writeFileSync(join(dir, 'x'), ''); cpSync(join(dir, 'x'), join(notModel, 'x'));
    const n = await cli(['train', '--study', study, '--preset', 'baseline', '--out', notModel, '--force']);
    expect(n.code).toBe(1);
    expect(n.err).toMatch(/holds no model; choose a new or empty folder/);
    const u = await cli(['train', '--study', study, '--preset', 'baseline', '--out', join(dir, 'x', 'model')]);
    expect(u.code).toBe(1);
    oneLine(u.err);
    expect(u.err).toMatch(/cannot write there \(a file is in the way\); choose a folder you can write to/);
    const f = await cli(['train', '--study', study, '--preset', 'baseline', '--epochs', '2', '--out', model, '--force']);
    expect(f.code).toBe(0);
    expect(f.out).toMatch(/best development epoch \d of 2 run/);
    expect(f.out).toMatch(/learned task weights: vigorous \d\.\d{3}, gloomy/);
  }, 120_000);
});

const LIFESNAPS = resolve(process.cwd(), '../shared/data/lifesnaps/daily.csv');
describe.skipIf(!existsSync(LIFESNAPS))('training stops by itself on LifeSnaps (needs ../shared/data/lifesnaps/daily.csv; skipped where the real data is absent)', () => {
  it('early stopping ends the run well before 100 epochs; 0/1 items get balanced accuracy and AUC', async () => {
    const ls = join(dir, 'ls');
    await convertLifeSnaps({ input: LIFESNAPS, out: ls });
    const out = join(dir, 'ls-model');
    const t = await cli(['train', '--study', ls, '--preset', 'baseline', '--out', out]);
    expect(t.code).toBe(0);
    // A fixed 100 epochs ran 100 (best epoch 24); early stopping ends the run after ~20 (measured: docs/model.md).
    const history = JSON.parse(readFileSync(join(out, 'history.json'), 'utf8')) as unknown[];
    expect(history.length).toBeLessThan(34);
    expect(t.out).toMatch(new RegExp(`of ${history.length} run`));
    const e = JSON.parse(readFileSync(join(out, 'evaluation.json'), 'utf8'));
    expect(e.items.happy.binary.auc).toBeGreaterThan(0.5);
    expect(e.items.happy.binary.balancedAccuracy).toBeGreaterThan(0);
  }, 300_000);
});
