/**
 * The study importer (SPEC §7): reads a study folder, streaming every CSV row by row, and checks
 * every row against the zod row schemas of ./rows.ts. Every problem is collected (file, line,
 * column, field, what was expected) — a study with 10 bad rows reports all 10. Rows with
 * problems are left out of the loaded study; `validateStudy` lists them, `buildDataset` refuses.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { DateTime } from 'luxon';
import type { z } from 'zod';
import { readCsvBatches, type CsvBatch } from '../util/csv.js';
import { progress } from '../util/progress.js';
import type { InputIssue } from '../util/errors.js';
import { schemaIssues } from '../util/schema-issues.js';
import { MAIN_INSTRUMENT as MAIN_INSTRUMENT_ID, REPORT_FIXED_COLUMNS, STUDY_FILES, StudyConfigSchema, type Item, type StudyConfig, type Trigger } from './study.js';
import { allItems, reportColumns, scoreAnswers, scoreItems, studyInstruments, targetItems, textItems, type TargetOptions } from './instruments.js';
import {
  ParticipantRowSchema, REQUIRED_COLUMNS, TextRowSchema, SpeechRowSchema, activityRowSchema, parseIsoTime,
  parseNumberCell, reportRowSchema, speechFeatureRowSchema,
} from './rows.js';
import { IssueList } from './issues.js';
import { ActivitySeriesBuilder, type ActivitySeries } from './activity.js';

export interface ParticipantInfo {
  id: string;
  /** The participant's IANA zone (participants.csv, else study.json's timezone). */
  timezone: string;
  /** Columns of participants.csv other than participant_id and timezone (e.g. sex, age). */
  covariates: Record<string, string>;
}

/** reports.csv, column-wise, in file order (valid rows only). */
export interface ReportTable {
  n: number;
  id: string[];
  /** Index into LoadedStudy.participants. */
  participant: Int32Array;
  /** ms since the Unix epoch (UTC). */
  time: Float64Array;
  /** When the rating was given (the `answered_at` column; `time` where absent or empty), ms UTC. */
  answeredAt: Float64Array;
  /** Local hour (fractional) in the participant's time zone. */
  localHour: Float32Array;
  trigger: Trigger[];
  /** n × K raw answers of the targets (LoadedStudy.items) on each one's own scale; NaN = not answered. */
  items: Float32Array;
  /** The other numeric columns (items of other instruments, multiple-choice options, scores): column → n values; NaN = empty. */
  extra: Record<string, Float32Array>;
  /** The `instrument` column ('' when absent: the main items). */
  instrument: string[];
  /** The `prompt_id` column ('' when absent). */
  promptId: string[];
  /** item_order column as written ('' when absent). */
  itemOrder: string[];
  /** Unknown columns of reports.csv, kept as covariates (raw text per report). */
  covariates: Record<string, string[]>;
  /** 1-based line in reports.csv. */
  line: Int32Array;
}

export interface LoadedStudy {
  dir: string;
  config: StudyConfig;
  /**
   * The model targets, in column order of `reports.items`: the main items with one numeric answer
   * (the default), plus what LoadOptions.targets adds (e.g. the PHQ-9 total).
   */
  items: Item[];
  /** texts.csv: report_id → item → text (answers to text items; never a model input). */
  texts: Map<string, Record<string, string>>;
  participants: ParticipantInfo[];
  participantIndex: Map<string, number>;
  reports: ReportTable;
  reportIndex: Map<string, number>;
  /** Per participant (same index as participants), time-sorted epochs. */
  activity: ActivitySeries[];
  /** Total activity epochs read. */
  activityEpochs: number;
  /** report_id → audio file (absolute path) when speech.kind is audio. */
  speechFiles: Map<string, string> | null;
  /** speech_features.csv when present: feature names and report_id → values (NaN = missing). */
  speechFeatures: { names: string[]; byReport: Map<string, Float32Array> } | null;
  /** Remarks that are not errors (e.g. "speech features not computed yet"). */
  notes: string[];
}

export interface LoadResult {
  /** Null only when study.json itself is unusable. */
  study: LoadedStudy | null;
  /** Issues kept (at most `cap`). */
  issues: InputIssue[];
  /** All issues found, including those beyond the cap. */
  totalIssues: number;
}

export interface LoadOptions {
  /** Most issues kept in the list (default 1000); the count goes on. */
  maxIssues?: number;
  /** Show progress bars (default true; quiet when stderr is not a terminal). */
  progress?: boolean;
  /** Targets beyond the main numeric items: scores (true: all; or score columns such as "phq9_total") and the other instruments' items. */
  targets?: TargetOptions;
}

function checkColumns(issues: IssueList, file: string, header: readonly string[], required: readonly string[]): boolean {
  let ok = true;
  for (const col of required) {
    if (!header.includes(col)) {
      issues.add({ file, line: 1, field: col, message: `missing required column "${col}" (header has: ${header.filter(Boolean).join(', ')})` });
      ok = false;
    }
  }
  const seen = new Set<string>();
  header.forEach((h, i) => {
    if (h !== '' && seen.has(h)) issues.add({ file, line: 1, column: i + 1, field: h, message: `duplicate column "${h}"` });
    seen.add(h);
  });
  return ok;
}

/**
 * Batches of a CSV's records after its header has been checked; nothing when a required column
 * is missing or the file is empty (both reported).
 */
async function* batchesOf(path: string, file: string, issues: IssueList, required: readonly string[]): AsyncGenerator<CsvBatch> {
  let seen = false;
  for await (const b of readCsvBatches(path)) {
    if (!seen) {
      seen = true;
      if (!checkColumns(issues, file, b.header, required)) return;
    }
    if (b.records.length) yield b;
  }
  if (!seen) issues.add({ file, message: 'empty file: expected a header line' });
}

interface Row { values: Record<string, string>; cells: string[]; line: number; header: string[] }

/** Rows (with a column → cell object for the zod row schema) of the smaller study files. */
async function* rowsOf(path: string, file: string, issues: IssueList, required: readonly string[]): AsyncGenerator<Row> {
  for await (const b of batchesOf(path, file, issues, required)) {
    const header = b.header;
    for (let k = 0; k < b.records.length; k++) {
      const cells = b.records[k];
      const values: Record<string, string> = {};
      for (let i = 0; i < header.length; i++) values[header[i]] = cells[i] ?? '';
      yield { values, cells, line: b.lines[k], header };
    }
  }
}

function readConfig(dir: string, issues: IssueList): StudyConfig | null {
  const file = STUDY_FILES.config;
  const path = join(dir, file);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    issues.add({ file: dir, message: 'not a folder: expected a study folder with study.json and CSV files (docs/data.md)' });
    return null;
  }
  if (!existsSync(path)) { issues.add({ file, message: 'missing study.json' }); return null; }
  let json: unknown;
  try { json = JSON.parse(readFileSync(path, 'utf8')); } catch (e) {
    issues.add({ file, message: `not valid JSON: ${(e as Error).message}` });
    return null;
  }
  const parsed = StudyConfigSchema.safeParse(json);
  if (!parsed.success) {
    for (const i of schemaIssues(StudyConfigSchema, parsed.error, file)) issues.add(i);
    return null;
  }
  return parsed.data;
}

/**
 * ISO 8601 epoch start times, parsed fast: consecutive epochs share the "YYYY-MM-DDTHH:" prefix
 * and the offset (or, without offset, the zone), so only the minutes and seconds are read while
 * those repeat. Anything else goes through parseIsoTime (exact calendar checks; a time without
 * offset is read in the participant's zone — one luxon call per local hour, not per epoch).
 */
export class EpochTimeParser {
  private prefix = '';
  private suffix = '';
  private zone = '';
  private len = -1;
  private base = NaN;

  parse(s: string, zone: string): number {
    if (s.length === this.len && s.startsWith(this.prefix) && s.endsWith(this.suffix) && (this.suffix !== '' || zone === this.zone)) {
      const m1 = s.charCodeAt(14) - 48, m2 = s.charCodeAt(15) - 48, s1 = s.charCodeAt(17) - 48, s2 = s.charCodeAt(18) - 48;
      if (m1 >= 0 && m1 <= 5 && m2 >= 0 && m2 <= 9 && s.charCodeAt(16) === 58 && s1 >= 0 && s1 <= 5 && s2 >= 0 && s2 <= 9) {
        return this.base + (m1 * 10 + m2) * 60_000 + (s1 * 10 + s2) * 1000;
      }
    }
    const t = parseIsoTime(s, zone);
    // Cache only "YYYY-MM-DDTHH:MM:SS" alone (local time in the zone) or followed by Z / ±HH:MM.
    if (!Number.isNaN(t) && s.length >= 19 && s.charCodeAt(10) === 84 /* T */ &&
      (s.length === 19 || s[19] === 'Z' || s[19] === '+' || s[19] === '-')) {
      this.prefix = s.slice(0, 14);
      this.suffix = s.slice(19);
      this.zone = zone;
      this.len = s.length;
      this.base = parseIsoTime(this.prefix + '00:00' + this.suffix, zone);
    }
    return t;
  }
}

export function localHourOf(t: number, zone: string): number {
  const d = DateTime.fromMillis(t, { zone });
  return d.hour + d.minute / 60 + d.second / 3600;
}

/** What the readers of one study folder share: its path, study.json and the issue list. */
interface Reading { dir: string; config: StudyConfig; items: Item[]; issues: IssueList; opts: LoadOptions }

/** The path of a study file when it exists; a "missing file" issue when `why` says it is needed. */
function studyFile(r: Reading, key: keyof typeof STUDY_FILES, why?: string): string | null {
  const f = STUDY_FILES[key];
  if (existsSync(join(r.dir, f))) return join(r.dir, f);
  if (why) r.issues.add({ file: f, message: `missing file (${why})` });
  return null;
}

/** participants.csv: one row per participant (id, time zone, covariates). */
async function readParticipants(r: Reading): Promise<{ participants: ParticipantInfo[]; participantIndex: Map<string, number> }> {
  const { config, issues } = r;
  const participants: ParticipantInfo[] = [];
  const participantIndex = new Map<string, number>();
  const path = studyFile(r, 'participants', 'one row per participant: participant_id[, timezone, …]');
  if (!path) return { participants, participantIndex };
  const file = STUDY_FILES.participants;
  for await (const row of rowsOf(path, file, issues, REQUIRED_COLUMNS.participants)) {
    const p = ParticipantRowSchema.safeParse(row.values);
    if (!p.success) { issues.addZod(file, row.line, row.header, p.error); continue; }
    const id = p.data.participant_id;
    if (participantIndex.has(id)) {
      issues.add({ file, line: row.line, column: row.header.indexOf('participant_id') + 1, field: 'participant_id', message: `duplicate participant "${id}"` });
      continue;
    }
    const covariates: Record<string, string> = {};
    for (const h of row.header) if (h !== 'participant_id' && h !== 'timezone' && h !== '') covariates[h] = row.values[h];
    participantIndex.set(id, participants.length);
    participants.push({ id, timezone: p.data.timezone || config.timezone, covariates });
  }
  return { participants, participantIndex };
}

type Participants = Awaited<ReturnType<typeof readParticipants>>;

/**
 * reports.csv: one row per EMA report. `seenReportIds` holds every report id of the file, valid
 * row or not (so speech rows of a bad report are not called "unknown").
 */
async function readReports(r: Reading, { participants, participantIndex }: Participants): Promise<{ reports: ReportTable; reportIndex: Map<string, number>; seenReportIds: Set<string> }> {
  const { config, issues } = r;
  const rep = { id: [] as string[], participant: [] as number[], time: [] as number[], answeredAt: [] as number[], localHour: [] as number[],
    trigger: [] as Trigger[], items: [] as number[], itemOrder: [] as string[], line: [] as number[], instrument: [] as string[], promptId: [] as string[] };
  const columns = reportColumns(config);
  const targetIds = new Set(r.items.map((i) => i.id));
  const extraCols = columns.filter((c) => !targetIds.has(c.id)).map((c) => c.id);
  const extra: Record<string, number[]> = Object.fromEntries(extraCols.map((c) => [c, []]));
  const scored = studyInstruments(config).filter((i) => i.scoring).map((i) => ({ instrument: i, itemIds: i.items.map((it) => it.id), scoreIds: scoreItems(i).map((s) => s.id) }));
  const instruments = new Set([MAIN_INSTRUMENT_ID, ...(config.instruments ?? []).map((i) => i.id)]);
  // Every item id of the study (text and multiple choice included) may appear in item_order.
  const orderIds = allItems(config).map((it) => ({ id: it.id, min: 0, max: 1 }));
  const covariates: Record<string, string[]> = {};
  const reportIndex = new Map<string, number>();
  const seenReportIds = new Set<string>();
  const path = studyFile(r, 'reports', 'one row per EMA report');
  if (path) {
    const file = STUDY_FILES.reports;
    const schema = reportRowSchema(columns, orderIds, instruments);
    const known = new Set<string>([...REPORT_FIXED_COLUMNS, ...columns.map((c) => c.id)]);
    // The main items' columns are required (as before instruments); other instruments' columns may be absent (empty).
    const required = [...REQUIRED_COLUMNS.reports, ...columns.filter((c) => c.instrument === MAIN_INSTRUMENT_ID && c.kind !== 'score').map((c) => c.id)];
    let covCols: string[] | null = null;
    let absentCols: string[] = [];
    for await (const row of rowsOf(path, file, issues, required)) {
      if (covCols === null) {
        covCols = row.header.filter((h) => h !== '' && !known.has(h));
        for (const c of covCols) covariates[c] = [];
        absentCols = columns.map((c) => c.id).filter((c) => !row.header.includes(c));
      }
      for (const c of absentCols) row.values[c] = ''; // another instrument's columns may be left out: empty
      const parsed = schema.safeParse(row.values);
      let bad = false;
      if (!parsed.success) { issues.addZod(file, row.line, row.header, parsed.error); bad = true; }
      const id = row.values.report_id.trim();
      const pid = row.values.participant_id.trim();
      const dup = seenReportIds.has(id);
      seenReportIds.add(id);
      if (id && dup) {
        issues.add({ file, line: row.line, column: row.header.indexOf('report_id') + 1, field: 'report_id',
          message: `duplicate report id "${id}"${reportIndex.has(id) ? ` (first on line ${rep.line[reportIndex.get(id)!]})` : ''}` });
        bad = true;
      }
      const p = participantIndex.get(pid);
      if (pid && p === undefined) {
        issues.add({ file, line: row.line, column: row.header.indexOf('participant_id') + 1, field: 'participant_id',
          message: `unknown participant "${pid}": not in participants.csv` });
        bad = true;
      }
      if (parsed.success && typeof parsed.data.answered_at === 'number' && parsed.data.answered_at < (parsed.data.time as number)) {
        issues.add({ file, line: row.line, column: row.header.indexOf('answered_at') + 1, field: 'answered_at',
          message: `answered before the moment it rates (time ${row.values.time.trim()}): answered_at must not be earlier than time` });
        bad = true;
      }
      if (parsed.success) {
        // A score cell must be what the instrument's rule gives for the row's answers (a hand-made or edited folder may disagree).
        const cells = parsed.data as Record<string, unknown>;
        for (const ins of scored) {
          const answers: Record<string, number> = {};
          for (const id of ins.itemIds) if (typeof cells[id] === 'number') answers[id] = cells[id] as number;
          const expected = scoreAnswers(ins.instrument, answers)?.scores ?? {};
          for (const col of ins.scoreIds) {
            const got = cells[col];
            if (typeof got !== 'number' || Number.isNaN(got)) continue; // empty cell: no score given
            const want = expected[col];
            if (want === undefined || Math.abs(want - got) > 1e-6 * Math.max(1, Math.abs(want))) {
              issues.add({ file, line: row.line, column: row.header.indexOf(col) + 1, field: col,
                message: want === undefined ? `${got} given, but the answers of "${ins.instrument.id}" give no score (too many items unanswered)` : `${got} given, but the answers of "${ins.instrument.id}" score ${want}` });
              bad = true;
            }
          }
        }
      }
      if (bad || !parsed.success || p === undefined) continue;
      const d = parsed.data as Record<string, unknown>;
      reportIndex.set(id, rep.id.length);
      rep.id.push(id);
      rep.participant.push(p);
      rep.time.push(d.time as number);
      rep.answeredAt.push((d.answered_at as number | undefined) ?? (d.time as number));
      rep.localHour.push(localHourOf(d.time as number, participants[p].timezone));
      rep.trigger.push(d.trigger as Trigger);
      for (const it of r.items) rep.items.push((d[it.id] as number | undefined) ?? NaN);
      for (const c of extraCols) extra[c].push((d[c] as number | undefined) ?? NaN);
      rep.instrument.push((d.instrument as string | undefined) ?? '');
      rep.promptId.push((row.values.prompt_id ?? '').trim());
      rep.itemOrder.push(row.values.item_order ?? '');
      rep.line.push(row.line);
      for (const c of covCols) covariates[c].push(row.values[c] ?? '');
    }
  }
  const reports: ReportTable = {
    n: rep.id.length, id: rep.id, participant: Int32Array.from(rep.participant), time: Float64Array.from(rep.time),
    answeredAt: Float64Array.from(rep.answeredAt),
    localHour: Float32Array.from(rep.localHour), trigger: rep.trigger, items: Float32Array.from(rep.items),
    itemOrder: rep.itemOrder, covariates, line: Int32Array.from(rep.line),
    extra: Object.fromEntries(extraCols.map((c) => [c, Float32Array.from(extra[c])])), instrument: rep.instrument, promptId: rep.promptId,
  };
  return { reports, reportIndex, seenReportIds };
}

type Reports = Awaited<ReturnType<typeof readReports>>;

/** activity.csv — the big one (millions of rows): a fast path per cell, zod only for bad rows. */
async function readActivity(r: Reading, { participants, participantIndex }: Participants): Promise<{ activity: ActivitySeries[]; activityEpochs: number }> {
  const { config, issues, opts } = r;
  const C = config.activity.channels.length;
  const builders = participants.map(() => new ActivitySeriesBuilder(C));
  let activityEpochs = 0;
  const path = studyFile(r, 'activity', `one row per ${config.activity.epochSeconds}-s epoch: participant_id, time, ${config.activity.channels.join(', ')}`);
  if (path) {
    const file = STUDY_FILES.activity;
    const size = statSync(path).size;
    const bar = opts.progress === false ? null : progress('activity.csv bytes', size);
    let bytes = 0, sinceTick = 0;
    const ranges = config.activity.ranges ?? {};
    let pCol = -1, tCol = -1;
    let chCols: number[] = [];
    const lo = new Float64Array(C).fill(-Infinity), hi = new Float64Array(C).fill(Infinity);
    config.activity.channels.forEach((ch, c) => { lo[c] = ranges[ch]?.min ?? -Infinity; hi[c] = ranges[ch]?.max ?? Infinity; });
    const schemas = new Map<string, z.ZodType>();
    const slow = (tz: string) => {
      let s = schemas.get(tz);
      if (!s) { s = activityRowSchema(config.activity.channels, tz, ranges); schemas.set(tz, s); }
      return s;
    };
    const vals = new Float64Array(C);
    const time = new EpochTimeParser();
    for await (const batch of batchesOf(path, file, issues, [...REQUIRED_COLUMNS.activity, ...config.activity.channels])) {
      const header = batch.header;
      if (pCol < 0) {
        pCol = header.indexOf('participant_id'); tCol = header.indexOf('time');
        chCols = config.activity.channels.map((ch) => header.indexOf(ch));
      }
      let lastPid = '', p: number | undefined;
      for (let k = 0; k < batch.records.length; k++) {
        const cells = batch.records[k], line = batch.lines[k];
        sinceTick += cells[tCol]?.length ?? 0;
        const pid = cells[pCol] ?? '';
        if (pid !== lastPid || p === undefined) { p = participantIndex.get(pid) ?? participantIndex.get(pid.trim()); lastPid = pid; }
        if (p === undefined) {
          const id = pid.trim();
          issues.add({ file, line, column: pCol + 1, field: 'participant_id',
            message: id ? `unknown participant "${id}": not in participants.csv` : 'expected a non-empty id' });
          continue;
        }
        const tz = participants[p].timezone;
        const t = time.parse(cells[tCol] ?? '', tz);
        let ok = !Number.isNaN(t);
        for (let c = 0; c < C && ok; c++) {
          const v = parseNumberCell(cells[chCols[c]] ?? '');
          if (v === undefined || v < lo[c] || v > hi[c]) ok = false; else vals[c] = v;
        }
        if (!ok) {
          // The zod row schema decides and words the message (the fast path above only accepts).
          const values: Record<string, string> = {};
          header.forEach((h, i) => { values[h] = cells[i] ?? ''; });
          const checked = slow(tz).safeParse(values);
          if (!checked.success) { issues.addZod(file, line, header, checked.error); continue; }
          throw new Error(`activity.csv:${line}: fast and schema checks disagree`);
        }
        builders[p].push(t, vals, line);
        activityEpochs++;
      }
      // Progress in bytes, estimated from the time cells (the longest part of a row).
      bytes += sinceTick * 1.3; sinceTick = 0;
      bar?.update(Math.min(bytes, size));
    }
    bar?.update(size);
    bar?.stop();
  }
  const activity = builders.map((b, p) => b.finish((line, first) => issues.add({
    file: STUDY_FILES.activity, line, field: 'time',
    message: `duplicate epoch: participant "${participants[p].id}" already has an epoch at this time (line ${first})`,
  })));
  return { activity, activityEpochs };
}

/** speech.csv (speech.kind "audio"): report_id → audio file, inside the study folder. */
async function readSpeechFiles(r: Reading, { reportIndex, seenReportIds }: Reports): Promise<Map<string, string> | null> {
  const { dir, issues } = r;
  const path = r.config.speech.kind === 'audio' ? studyFile(r, 'speech', 'speech.kind is "audio": report_id, file') : null;
  if (!path) return null;
  const speechFiles = new Map<string, string>();
  const file = STUDY_FILES.speech;
  const root = dir + sep;
  for await (const row of rowsOf(path, file, issues, REQUIRED_COLUMNS.speech)) {
    const p = SpeechRowSchema.safeParse(row.values);
    if (!p.success) { issues.addZod(file, row.line, row.header, p.error); continue; }
    const { report_id: id, file: rel } = p.data;
    const col = (f: string) => row.header.indexOf(f) + 1;
    if (!reportIndex.has(id)) {
      if (!seenReportIds.has(id)) issues.add({ file, line: row.line, column: col('report_id'), field: 'report_id', message: `unknown report "${id}": not in reports.csv` });
      continue;
    }
    if (speechFiles.has(id)) { issues.add({ file, line: row.line, column: col('report_id'), field: 'report_id', message: `duplicate report id "${id}"` }); continue; }
    const abs = resolve(dir, rel);
    if (!abs.startsWith(root)) { issues.add({ file, line: row.line, column: col('file'), field: 'file', message: `path "${rel}" leaves the study folder` }); continue; }
    if (!existsSync(abs)) { issues.add({ file, line: row.line, column: col('file'), field: 'file', message: `speech file missing: ${rel}` }); continue; }
    speechFiles.set(id, abs);
  }
  return speechFiles;
}

/** speech_features.csv: feature names and report_id → values (NaN = missing); a note when absent. */
async function readSpeechFeatures(r: Reading, { reportIndex, seenReportIds }: Reports, notes: string[]): Promise<LoadedStudy['speechFeatures']> {
  const { issues } = r;
  const kind = r.config.speech.kind;
  if (kind === 'none') { notes.push('speech.kind is "none": instances have no speech modality.'); return null; }
  const path = studyFile(r, 'speechFeatures', kind === 'features' ? 'speech.kind is "features": report_id, then one column per feature' : undefined);
  if (!path) {
    if (kind === 'audio') notes.push('speech.kind is "audio" but there is no speech_features.csv: the speech modality is missing for every report until features are computed (run `moodlens features DIR`).');
    return null;
  }
  const file = STUDY_FILES.speechFeatures;
  let names: string[] | null = null;
  let schema: z.ZodType | null = null;
  const byReport = new Map<string, Float32Array>();
  for await (const row of rowsOf(path, file, issues, REQUIRED_COLUMNS.speechFeatures)) {
    if (names === null) { names = row.header.filter((h) => h !== 'report_id' && h !== ''); schema = speechFeatureRowSchema(names); }
    const p = schema!.safeParse(row.values);
    if (!p.success) { issues.addZod(file, row.line, row.header, p.error); continue; }
    const d = p.data as Record<string, number | string>;
    const id = d.report_id as string;
    const col = row.header.indexOf('report_id') + 1;
    if (!reportIndex.has(id)) {
      if (!seenReportIds.has(id)) issues.add({ file, line: row.line, column: col, field: 'report_id', message: `unknown report "${id}": not in reports.csv` });
      continue;
    }
    if (byReport.has(id)) { issues.add({ file, line: row.line, column: col, field: 'report_id', message: `duplicate report id "${id}"` }); continue; }
    byReport.set(id, Float32Array.from(names, (f) => d[f] as number));
  }
  return { names: names ?? [], byReport };
}

/** texts.csv (when the study has text items): report_id, item, text. */
async function readTexts(r: Reading, { reportIndex, seenReportIds }: Reports): Promise<Map<string, Record<string, string>>> {
  const out = new Map<string, Record<string, string>>();
  const items = new Map(textItems(r.config).map((t) => [t.id, t]));
  const path = studyFile(r, 'texts');
  if (!path) return out;
  const file = STUDY_FILES.texts;
  for await (const row of rowsOf(path, file, r.issues, REQUIRED_COLUMNS.texts)) {
    const p = TextRowSchema.safeParse(row.values);
    if (!p.success) { r.issues.addZod(file, row.line, row.header, p.error); continue; }
    const { report_id: id, item, text } = p.data;
    const col = (f: string) => row.header.indexOf(f) + 1;
    const it = items.get(item);
    if (!it || it.kind !== 'text') { r.issues.add({ file, line: row.line, column: col('item'), field: 'item', message: `"${item}" is not a text item of this study${items.size ? ` (text items: ${[...items.keys()].join(', ')})` : ''}` }); continue; }
    if (text.length > it.maxLength) { r.issues.add({ file, line: row.line, column: col('text'), field: 'text', message: `${text.length} characters, more than the item's maxLength of ${it.maxLength}` }); continue; }
    if (!reportIndex.has(id)) {
      if (!seenReportIds.has(id)) r.issues.add({ file, line: row.line, column: col('report_id'), field: 'report_id', message: `unknown report "${id}": not in reports.csv` });
      continue;
    }
    const texts = out.get(id) ?? {};
    if (item in texts) { r.issues.add({ file, line: row.line, column: col('item'), field: 'item', message: `report "${id}" has two texts for "${item}"` }); continue; }
    texts[item] = text;
    out.set(id, texts);
  }
  return out;
}

/** Read and check a whole study folder. Never throws for bad input: the issues say what is wrong. */
export async function loadStudy(dirIn: string, opts: LoadOptions = {}): Promise<LoadResult> {
  const dir = resolve(dirIn);
  const issues = new IssueList(opts.maxIssues);
  const config = readConfig(dir, issues);
  if (!config) return { study: null, issues: issues.issues, totalIssues: issues.total };
  let items: Item[];
  try { items = targetItems(config, opts.targets ?? {}); } catch (e) {
    issues.add({ file: STUDY_FILES.config, message: (e as Error).message });
    return { study: null, issues: issues.issues, totalIssues: issues.total };
  }
  const r: Reading = { dir, config, items, issues, opts };
  const notes: string[] = [];
  const people = await readParticipants(r);
  const reports = await readReports(r, people);
  const { activity, activityEpochs } = await readActivity(r, people);
  const speechFiles = await readSpeechFiles(r, reports);
  const speechFeatures = await readSpeechFeatures(r, reports, notes);
  const texts = await readTexts(r, reports);
  const study: LoadedStudy = {
    dir, config, items, texts, participants: people.participants, participantIndex: people.participantIndex,
    reports: reports.reports, reportIndex: reports.reportIndex, activity, activityEpochs, speechFiles, speechFeatures, notes,
  };
  return { study, issues: issues.issues, totalIssues: issues.total };
}
