/**
 * docs/getting-started.md is correct by test: its study.json and CSV examples (the code blocks
 * whose info string names a file, e.g. ```csv reports.csv) are written into a study folder and
 * `moodlens validate` must accept them. The page's activity example shows three epochs; a real
 * file has the whole window before each report, so the second check adds the missing epochs and
 * validates strictly (every declared modality present).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { run } from '../../src/cli/main.js';
import { parseIsoTime, REQUIRED_COLUMNS } from '../../src/data/rows.js';
import { ScheduleSchema, StudyConfigSchema } from '../../src/data/study.js';

const page = readFileSync(new URL('../../docs/getting-started.md', import.meta.url), 'utf8');

/** The examples of the page: file name → contents, from ```lang FILE blocks. */
function examples(): Map<string, string> {
  const files = new Map<string, string>();
  for (const m of page.matchAll(/^```(?:json|csv) ([\w.]+)\n([\s\S]*?)^```$/gm)) {
    expect(files.has(m[1]), `${m[1]} appears twice`).toBe(false);
    files.set(m[1], m[2]);
  }
  return files;
}

async function cli(args: string[]) {
  const out: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a) => { out.push(a.join(' ')); });
  const error = vi.spyOn(console, 'error').mockImplementation((...a) => { out.push(a.join(' ')); });
  const saved = process.exitCode;
  try {
    const code = await run(args);
    return { code, out: out.join('\n') };
  } finally { log.mockRestore(); error.mockRestore(); process.exitCode = saved; }
}

/** Writes the page's examples (and an empty file for each recording speech.csv names) into a fresh folder. */
const folders: string[] = [];
function writeStudy(files: Map<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'moodlens-getting-started-'));
  folders.push(dir);
  for (const [name, text] of files) writeFileSync(join(dir, name), text);
  for (const line of (files.get('speech.csv') ?? '').trim().split('\n').slice(1)) {
    const rel = line.split(',')[1];
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), '');
  }
  return dir;
}

afterEach(() => { vi.restoreAllMocks(); });
afterAll(() => { for (const d of folders) rmSync(d, { recursive: true, force: true }); });

describe('docs/getting-started.md', () => {
  const files = examples();

  it('shows study.json and every CSV file of a study folder', () => {
    expect([...files.keys()].sort()).toEqual(
      ['activity.csv', 'participants.csv', 'reports.csv', 'speech.csv', 'speech_features.csv', 'study.json']);
    // every field of study.json's schema appears in the example
    // every field of study.json's schema (read from the schema, so a new field fails here until
    // the page shows it) appears in the example and in the page's table of fields
    const study = JSON.parse(files.get('study.json')!);
    const fields = (prefix: string, keys: string[], obj: Record<string, unknown>) => {
      for (const key of keys) {
        expect(obj, `${prefix}${key} in the study.json example`).toHaveProperty(key);
        if (!['activity', 'schedule', 'window', 'speech'].includes(key) || prefix) {
          expect(page, `${prefix}${key} in the table of fields`).toContain(`| \`${prefix}${key}\` |`);
        }
      }
    };
    fields('', Object.keys(StudyConfigSchema.shape), study);
    fields('activity.', ['epochSeconds', 'channels', 'ranges'], study.activity);
    fields('schedule.', Object.keys(ScheduleSchema.shape), study.schedule);
    fields('window.', ['epochs'], study.window);
    fields('speech.', ['kind'], study.speech);
    // each CSV example has its file's required columns
    for (const [file, name] of [['participants', 'participants.csv'], ['reports', 'reports.csv'], ['activity', 'activity.csv'],
      ['speech', 'speech.csv'], ['speechFeatures', 'speech_features.csv']] as const) {
      const header = files.get(name)!.split('\n')[0].split(',');
      for (const col of REQUIRED_COLUMNS[file]) expect(header, `${name}: ${col}`).toContain(col);
    }
  });

  it('every picture, linked page and section anchor exists', () => {
    const docs = new URL('../../docs/', import.meta.url);
    // GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens
    const anchors = (md: string) => new Set([...md.matchAll(/^#+ (.+)$/gm)].map((m) =>
      m[1].toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-')));
    const links = [...page.matchAll(/\]\(([^)\s]*)\)/g)].map((m) => m[1]).filter((t) => !/^[a-z]+:/.test(t));
    expect(links.filter((t) => t.startsWith('images/')).length).toBeGreaterThanOrEqual(5);
    for (const link of links) {
      const [file, anchor] = link.split('#');
      const target = file === '' ? page : (expect(existsSync(new URL(file, docs)), link).toBe(true), file.endsWith('.md') ? readFileSync(new URL(file, docs), 'utf8') : '');
      if (anchor !== undefined) expect([...anchors(target)], link).toContain(anchor);
    }
  });

  it('its examples pass `moodlens validate` (activity window not yet whole: with --allow-missing-modality)', async () => {
    const dir = writeStudy(files);
    const r = await cli(['validate', dir, '--allow-missing-modality']);
    expect(r.out).toMatch(/^OK/m);
    expect(r.code).toBe(0);
  });

  it('with each report\'s whole activity window added, they pass `moodlens validate` strictly', async () => {
    const study = JSON.parse(files.get('study.json')!);
    const epochMs = study.activity.epochSeconds * 1000;
    const W: number = study.window.epochs;
    const channels: string[] = study.activity.channels;
    const activity = files.get('activity.csv')!.trim().split('\n');
    const header = activity[0].split(',');
    const taken = new Set(activity.slice(1).map((l) => { const c = l.split(','); return `${c[0]} ${parseIsoTime(c[1])}`; }));
    const reports = files.get('reports.csv')!.trim().split('\n');
    const rh = reports[0].split(',');
    const extra: string[] = [];
    for (const line of reports.slice(1)) {
      const c = line.split(',');
      const pid = c[rh.indexOf('participant_id')];
      const t = parseIsoTime(c[rh.indexOf('time')]);
      // the epochs of the minute grid that have ended by the report (docs/data.md, "The window")
      const last = Math.floor(t / epochMs) * epochMs - epochMs;
      for (let k = 0; k < W; k++) {
        const start = last - k * epochMs;
        if (taken.has(`${pid} ${start}`)) continue;
        taken.add(`${pid} ${start}`);
        extra.push(header.map((h) => h === 'participant_id' ? pid : h === 'time' ? new Date(start).toISOString() : channels.includes(h) ? '5' : '').join(','));
      }
    }
    const dir = writeStudy(new Map([...files, ['activity.csv', [...activity, ...extra].join('\n') + '\n']]));
    expect(existsSync(join(dir, 'speech.csv'))).toBe(true);
    const r = await cli(['validate', dir]);
    expect(r.out).toMatch(/^OK/m);
    expect(r.code).toBe(0);
  });
});
