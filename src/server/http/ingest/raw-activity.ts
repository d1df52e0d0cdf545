/**
 * A raw wrist accelerometer file (generic CSV, ActiLife CSV, GENEActiv CSV or .bin, Axivity
 * .cwa, ActiGraph .gt3x) turned into the study's epochs by the project's actigraphy readers and
 * stored: uploaded by the participant's phone (PUT /me/activity/raw) or by a researcher from the
 * dashboard (a participant's wristband export). Streamed front to back, except a .gt3x: a ZIP read
 * through its directory at the end, so it is held whole (up to the server's upload limit).
 */
import { z } from 'zod';
import { ACCEL_FORMATS, ActigraphyPipeline, bytesSource, CHANNELS, createReader, detectFormat, openAccel, type AccelChunk, type AccelFormat, type Channel } from '../../../signal/actigraphy/index.js';
import { IsoTimeWithOffset } from '../schemas.js';
import { badRequest, HttpError } from '../errors.js';
import type { ServerLimits } from '../limits.js';
import type { Participant, Store, StoredEpoch } from '../../storage/store.js';
import { encodeEpochValues } from '../../storage/rows.js';
import type { StudyInfo } from '../context.js';

export const RawActivityQuery = z.object({
  format: z.enum(['auto', ...ACCEL_FORMATS]).default('auto'),
  /** The file's name (its extension helps tell .gt3x, .cwa and GENEActiv .bin apart with format=auto). */
  name: z.string().max(200).optional(),
  /** Generic CSV: sample rate in Hz when it should not be estimated from the times. */
  rate: z.coerce.number().positive().max(10_000).optional(),
  /** Generic CSV: ISO start time when the time column holds seconds from the start (or is absent). */
  start: IsoTimeWithOffset.optional(),
}).strict();
export type RawActivityOptions = z.infer<typeof RawActivityQuery>;

export const RAW_ACTIVITY_TYPES = ['application/octet-stream', 'text/csv'];

/** The first bytes a format is told by. */
const HEAD_BYTES = 4096;

/** Refuse an upload the server cannot take before reading it: wrong content type, a channel raw data cannot give, too large. */
export function checkRawUpload(info: StudyInfo, contentType: string | undefined, contentLength: string | undefined, limits: ServerLimits): void {
  const ctype = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (!RAW_ACTIVITY_TYPES.includes(ctype)) throw new HttpError(415, `content-type: expected application/octet-stream or text/csv, got "${ctype || 'none'}"`, 'content-type');
  const bad = info.config.activity.channels.find((c) => !(CHANNELS as readonly string[]).includes(c));
  if (bad) throw new HttpError(409, `this study's activity channel "${bad}" cannot be computed from raw data (computable: ${CHANNELS.join(', ')})`);
  const declared = Number(contentLength ?? NaN);
  if (declared > limits.rawActivityBytes) throw new HttpError(413, `body: upload of ${declared} bytes exceeds this server's limit of ${limits.rawActivityBytes} bytes`, 'body');
}

/** Read an uploaded recording into the study's epoch rows (a row per epoch with any value; gaps and non-wear: none). */
export async function rawActivityRows(body: AsyncIterable<Buffer>, info: StudyInfo, participant: Participant, q: RawActivityOptions, limits: ServerLimits) {
  const channels = info.config.activity.channels as Channel[];
  const ropts = { name: q.name ?? 'upload', defaultTimezone: participant.timezone, rate: q.rate, start: q.start };
  const pipe = new ActigraphyPipeline({ epochSeconds: info.config.activity.epochSeconds, channels });
  const rows: StoredEpoch[] = [];
  const take = (out: ReturnType<typeof pipe.push>) => {
    for (const r of out) {
      const v = channels.map((c) => r.values[c]);
      if (v.every((x) => !Number.isFinite(x))) continue;
      rows.push({ t_ms: Math.round(r.start * 1000), vals: encodeEpochValues(v.map((x) => (Number.isFinite(x) ? x : null))) });
    }
  };
  const push = (c: AccelChunk | null) => { if (c) take(pipe.push(c)); };
  let bytes = 0, format: AccelFormat | null = q.format === 'auto' ? null : q.format;
  const held: Uint8Array[] = [];
  let reader: ReturnType<typeof createReader> | null = null;
  try {
    for await (const buf of body) {
      bytes += buf.length;
      if (bytes > limits.rawActivityBytes) throw new HttpError(413, `body: larger than this server's limit of ${limits.rawActivityBytes} bytes`, 'body');
      const part = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
      if (reader) { push(reader.push(part)); continue; }
      held.push(part.slice());
      if (!format && bytes >= HEAD_BYTES) format = detectFormat(Buffer.concat(held), ropts.name);
      if (format && format !== 'gt3x') { reader = createReader(format, ropts); for (const h of held.splice(0)) push(reader.push(h)); }
    }
    if (bytes === 0) throw badRequest('body', 'empty upload');
    format ??= detectFormat(Buffer.concat(held), ropts.name);
    if (format === 'gt3x') {
      const src = await openAccel(bytesSource(Buffer.concat(held)), { ...ropts, format });
      for await (const c of src.chunks()) push(c);
    } else {
      reader ??= createReader(format, ropts);
      for (const h of held.splice(0)) push(reader.push(h));
      push(reader.end());
    }
    take(pipe.end());
  } catch (e) {
    if (e instanceof HttpError) throw e;
    throw new HttpError(400, `body: not a readable accelerometer recording: ${e instanceof Error ? e.message : String(e)}`, 'body');
  }
  if (rows.length === 0) throw badRequest('body', 'the recording gave no epoch with a value (too short, or all non-wear)');
  return { bytes, format, rows };
}

/** Store epoch rows a chunk at a time: each chunk is one write, and the event loop gets a turn between them. */
export async function storeEpochsInChunks(store: Store, studyId: string, participantId: string, chunks: Iterable<StoredEpoch[]>): Promise<number> {
  let inserted = 0;
  for (const rows of chunks) if (rows.length) inserted += await store.insertEpochs(studyId, participantId, rows);
  return inserted;
}

export const rowsPerWrite = (limits: ServerLimits, channels: number) => Math.max(1, Math.floor(limits.activityValuesPerWrite / Math.max(1, channels)));

/** Check, read and store an uploaded recording; what the route answers. */
export async function ingestRawActivity(store: Store, info: StudyInfo, participant: Participant, body: AsyncIterable<Buffer>, q: RawActivityOptions, limits: ServerLimits) {
  const { bytes, format, rows } = await rawActivityRows(body, info, participant, q, limits);
  const per = rowsPerWrite(limits, info.config.activity.channels.length);
  const chunks = function* () { for (let i = 0; i < rows.length; i += per) yield rows.slice(i, i + per); };
  const inserted = await storeEpochsInChunks(store, participant.study_id, participant.id, chunks());
  return { bytes, format, epochs: rows.length, inserted, duplicates: rows.length - inserted, first: new Date(rows[0].t_ms).toISOString(), last: new Date(rows[rows.length - 1].t_ms).toISOString() };
}
