/**
 * StudyWriter — the one streaming writer of a study folder (SPEC §7). The synthetic generator,
 * the server's export and the real-data converters all write through it, so every study folder
 * the project produces has the same shape:
 *
 *   study.json            the config, validated by StudyConfigSchema (defaults filled in)
 *   participants.csv      participant_id, timezone[, extra columns]
 *   reports.csv           report_id, participant_id, time (ISO 8601 with the participant's local
 *                         offset), trigger, one column per numeric item, option (multiple choice:
 *                         `<item>_<value>`, 0/1) and score, item_order[, instrument, prompt_id]
 *                         [, extra columns]
 *   texts.csv             report_id, item, text                (studies with text items)
 *   activity.csv          participant_id, time (epoch start, local ISO 8601), one column per channel
 *   speech.csv            report_id, file                    (speech.kind = "audio")
 *   speech_features.csv   report_id, one column per feature  (speech.kind = "features")
 *
 * Missing values are written as empty cells, never zeros (NaN, null and undefined all become
 * empty). Rows are streamed through CsvWriter; nothing is held whole. `item_order` lists the item
 * ids in the order shown, joined by ";" (e.g. "happy;gloomy;…").
 * Node only (file I/O).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, dirname } from 'node:path';
import { z } from 'zod';
import { CsvWriter, csvCell } from '../util/csv.js';
import { InputError } from '../util/errors.js';
import { localIso, zoneOffsetMinutes, formatOffset } from '../util/localtime.js';
import { MAIN_INSTRUMENT, StudyConfigSchema, STUDY_FILES, isValidTimeZone, type StudyConfig, type Trigger } from './study.js';
import { reportColumns, textItems } from './instruments.js';

/** Separator of item ids in the `item_order` column. */
export const ITEM_ORDER_SEPARATOR = ';';

export interface StudyWriterOptions {
  /** Extra participants.csv columns after participant_id and timezone (e.g. ["sex", "age"]). */
  participantColumns?: string[];
  /** Extra reports.csv columns after item_order (kept as covariates by the importer). */
  reportColumns?: string[];
  /** speech_features.csv column names (required when config.speech.kind = "features"). */
  speechFeatures?: string[];
  /** Write the item_order column (default true). */
  itemOrder?: boolean;
  /** Write the instrument and prompt_id columns (default: when the study has instruments). */
  designColumns?: boolean;
}

export interface ParticipantRecord {
  participantId: string;
  /** IANA zone; defaults to the study's timezone. Report and activity times use its local offset. */
  timezone?: string;
  extra?: Record<string, string | number | null | undefined>;
}

export interface ReportRecord {
  reportId: string;
  participantId: string;
  /** Report time, ms since the Unix epoch (UTC). */
  time: number;
  trigger: Trigger;
  /** Item values by item id (missing / NaN / null = unanswered), or an array in config.items order. */
  items: Record<string, number | null | undefined> | ArrayLike<number>;
  /** Item ids in the order shown. */
  itemOrder?: readonly string[];
  /** The instrument answered (empty / absent: the main items). */
  instrument?: string | null;
  /** The scheduled prompt answered, `<instrument>:<day>:<slot>`. */
  promptId?: string | null;
  /** Text answers: text item → text (written to texts.csv). */
  texts?: Record<string, string> | null;
  extra?: Record<string, string | number | null | undefined>;
}

const cell = (v: number | null | undefined): string => (v === null || v === undefined || !Number.isFinite(v) ? '' : String(v));

export class StudyWriter {
  readonly config: StudyConfig;
  private participants: CsvWriter;
  private reports: CsvWriter;
  private activity: CsvWriter;
  private speech: CsvWriter | null = null;
  private texts: CsvWriter | null = null;
  private textIds: Set<string>;
  private zones = new Map<string, string>();
  private reportIds = new Set<string>();
  private itemIds: string[];
  private epochMs: number;
  private speechDirs = new Set<string>();

  private constructor(readonly dir: string, config: StudyConfig, private opts: Required<StudyWriterOptions>) {
    this.config = config;
    this.itemIds = reportColumns(config).map((c) => c.id);
    this.textIds = new Set(textItems(config).map((t) => t.id));
    if (this.textIds.size) this.texts = new CsvWriter(join(dir, STUDY_FILES.texts), ['report_id', 'item', 'text']);
    this.epochMs = config.activity.epochSeconds * 1000;
    this.participants = new CsvWriter(join(dir, STUDY_FILES.participants), ['participant_id', 'timezone', ...opts.participantColumns]);
    this.reports = new CsvWriter(join(dir, STUDY_FILES.reports), [
      'report_id', 'participant_id', 'time', 'trigger', ...this.itemIds,
      ...(opts.itemOrder ? ['item_order'] : []), ...(opts.designColumns ? ['instrument', 'prompt_id'] : []), ...opts.reportColumns,
    ]);
    this.activity = new CsvWriter(join(dir, STUDY_FILES.activity), ['participant_id', 'time', ...config.activity.channels]);
    if (config.speech.kind === 'audio') this.speech = new CsvWriter(join(dir, STUDY_FILES.speech), ['report_id', 'file']);
    if (config.speech.kind === 'features') {
      this.speech = new CsvWriter(join(dir, STUDY_FILES.speechFeatures), ['report_id', ...opts.speechFeatures]);
    }
  }

  /**
   * Create `dir` (if needed), validate and write study.json, and open the CSV files.
   * `config` is the study.json content before defaults (z.input of StudyConfigSchema).
   */
  static async open(dir: string, config: z.input<typeof StudyConfigSchema>, options: StudyWriterOptions = {}): Promise<StudyWriter> {
    const parsed = StudyConfigSchema.safeParse(config);
    if (!parsed.success) {
      throw new InputError(parsed.error.issues.map((i) => ({
        file: join(dir, STUDY_FILES.config), field: i.path.join('.') || undefined, message: i.message,
      })));
    }
    const opts: Required<StudyWriterOptions> = {
      participantColumns: options.participantColumns ?? [],
      reportColumns: options.reportColumns ?? [],
      speechFeatures: options.speechFeatures ?? [],
      itemOrder: options.itemOrder ?? true,
      designColumns: options.designColumns ?? (parsed.data.instruments?.length ?? 0) > 0,
    };
    if (parsed.data.speech.kind === 'features' && opts.speechFeatures.length === 0) {
      throw new Error('StudyWriter: speech.kind = "features" needs options.speechFeatures (the column names)');
    }
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, STUDY_FILES.config), JSON.stringify(parsed.data, null, 2) + '\n');
    return new StudyWriter(dir, parsed.data, opts);
  }

  private zoneOf(participantId: string): string {
    const z = this.zones.get(participantId);
    if (z === undefined) throw new Error(`StudyWriter: participant ${participantId} was not written to participants.csv first`);
    return z;
  }

  async writeParticipant(p: ParticipantRecord): Promise<void> {
    if (this.zones.has(p.participantId)) throw new Error(`StudyWriter: duplicate participant ${p.participantId}`);
    const tz = p.timezone ?? this.config.timezone;
    if (!isValidTimeZone(tz)) throw new Error(`StudyWriter: participant ${p.participantId}: ${tz} is not an IANA time zone`);
    this.zones.set(p.participantId, tz);
    await this.participants.write([p.participantId, p.timezone ?? '', ...this.opts.participantColumns.map((c) => p.extra?.[c])]);
  }

  async writeReport(r: ReportRecord): Promise<void> {
    const zone = this.zoneOf(r.participantId);
    if (this.reportIds.has(r.reportId)) throw new Error(`StudyWriter: duplicate report id ${r.reportId}`);
    this.reportIds.add(r.reportId);
    const values = isArrayLike(r.items)
      ? this.itemIds.map((_, k) => cell((r.items as ArrayLike<number>)[k]))
      : this.itemIds.map((id) => cell((r.items as Record<string, number | null | undefined>)[id]));
    const row: unknown[] = [r.reportId, r.participantId, localIso(r.time, zone), r.trigger, ...values];
    if (this.opts.itemOrder) row.push(r.itemOrder ? r.itemOrder.join(ITEM_ORDER_SEPARATOR) : '');
    if (this.opts.designColumns) row.push(r.instrument && r.instrument !== MAIN_INSTRUMENT ? r.instrument : '', r.promptId ?? '');
    for (const c of this.opts.reportColumns) row.push(r.extra?.[c]);
    await this.reports.write(row);
    for (const [item, text] of Object.entries(r.texts ?? {})) {
      if (!this.texts || !this.textIds.has(item)) throw new Error(`StudyWriter: report ${r.reportId}: "${item}" is not a text item of this study`);
      await this.texts.write([r.reportId, item, text]);
    }
  }

  /**
   * Write a run of consecutive activity epochs of one participant: epoch i starts at
   * `start + i·epochSeconds`; epochs [from, to) are written. `channels[c][i]` is channel c
   * (config order); NaN = missing cell. Gaps where the device did not record are simply not
   * written (call once per run).
   */
  async writeActivityRun(participantId: string, start: number, channels: readonly ArrayLike<number>[], from = 0, to?: number): Promise<void> {
    const zone = this.zoneOf(participantId);
    const nCh = this.config.activity.channels.length;
    if (channels.length !== nCh) throw new Error(`StudyWriter: ${nCh} activity channels expected, got ${channels.length}`);
    const end = to ?? channels[0].length;
    const pid = csvCell(participantId) + ',';
    const secondsAligned = this.epochMs % 60_000 === 0 && start % 60_000 === 0;
    let chunk = '';
    // The local "YYYY-MM-DDTHH:" prefix and offset are reused while the hour and offset stay the same.
    let cachedHourKey = NaN, prefix = '', suffix = '';
    for (let i = from; i < end; i++) {
      const t = start + i * this.epochMs;
      let time: string;
      if (secondsAligned) {
        const off = zoneOffsetMinutes(t, zone);
        const local = t + off * 60_000;
        const hourKey = Math.floor(local / 3_600_000) * 10_000 + off;
        if (hourKey !== cachedHourKey) {
          cachedHourKey = hourKey;
          const iso = localIso(t, zone);
          prefix = iso.slice(0, 14); // "YYYY-MM-DDTHH:"
          suffix = ':00' + formatOffset(off);
        }
        const minute = Math.floor((local % 3_600_000 + 3_600_000) % 3_600_000 / 60_000);
        time = prefix + (minute < 10 ? '0' + minute : minute) + suffix;
      } else {
        time = localIso(t, zone);
      }
      let line = pid + time;
      for (let c = 0; c < nCh; c++) { const v = channels[c][i]; line += ',' + (Number.isFinite(v) ? v : ''); }
      chunk += line + '\n';
      if (chunk.length > 1 << 16) { await this.activity.writeRaw(chunk); chunk = ''; }
    }
    if (chunk) await this.activity.writeRaw(chunk);
  }

  /** Write one activity epoch row (for exports that hold rows, not runs). */
  async writeActivityRow(participantId: string, time: number, values: ArrayLike<number>): Promise<void> {
    const zone = this.zoneOf(participantId);
    await this.activity.write([participantId, localIso(time, zone), ...Array.from(values, (v) => cell(v))]);
  }

  /** Write an audio file under the study folder (default speech/<report_id>.wav) and its speech.csv row. */
  async writeSpeechAudio(reportId: string, bytes: Uint8Array, file = `speech/${reportId}.wav`): Promise<void> {
    if (!this.speech || this.config.speech.kind !== 'audio') throw new Error('StudyWriter: study speech.kind is not "audio"');
    const d = dirname(join(this.dir, file));
    if (!this.speechDirs.has(d)) { await mkdir(d, { recursive: true }); this.speechDirs.add(d); }
    await writeFile(join(this.dir, file), bytes);
    await this.speech.write([reportId, file]);
  }

  /** Write a speech.csv row for a file already in place (path relative to the study folder). */
  async writeSpeechFile(reportId: string, file: string): Promise<void> {
    if (!this.speech || this.config.speech.kind !== 'audio') throw new Error('StudyWriter: study speech.kind is not "audio"');
    await this.speech.write([reportId, file]);
  }

  /** Write one speech_features.csv row; values in options.speechFeatures order (NaN = missing). */
  async writeSpeechFeatures(reportId: string, values: ArrayLike<number>): Promise<void> {
    if (!this.speech || this.config.speech.kind !== 'features') throw new Error('StudyWriter: study speech.kind is not "features"');
    if (values.length !== this.opts.speechFeatures.length) {
      throw new Error(`StudyWriter: ${this.opts.speechFeatures.length} speech features expected, got ${values.length}`);
    }
    await this.speech.write([reportId, ...Array.from(values, (v) => cell(v))]);
  }

  /** Flush and close every file. */
  async close(): Promise<void> {
    await Promise.all([this.participants.close(), this.reports.close(), this.activity.close(), this.speech?.close(), this.texts?.close()]);
  }
}

function isArrayLike(x: unknown): x is ArrayLike<number> {
  return Array.isArray(x) || ArrayBuffer.isView(x);
}
