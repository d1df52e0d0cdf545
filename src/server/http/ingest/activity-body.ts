/**
 * POST /me/activity bodies: JSON text → checked epoch rows, as one pure function that runs on the
 * event loop for small bodies and on a worker thread (activity-worker.ts) for large ones, so a
 * 32 MB batch (JSON.parse, the zod check and formatting hundreds of thousands of values take
 * seconds) never holds the event loop (docs/security.md, "Limits").
 *
 * The rows come back as one text (each epoch's `vals` JSON, '\n'-separated) and the epoch
 * indices; from the worker the text is UTF-8 bytes, so both cross the thread boundary as moved
 * buffers (no copy, nothing to deserialise) instead of 200,000 objects, and the rows are made a
 * write's worth at a time.
 */
import { ActivityBody } from '../schemas.js';
import { parseIsoTime } from '../../../data/rows.js';

export interface ActivityJob { text: string; channels: string[]; epochSeconds: number }

export type ActivityParsed =
  | { ok: true; received: number; startMs: number; epochMs: number; index: Int32Array; vals: string | Uint8Array }
  | { ok: false; field: string; message: string };

const fail = (field: string, message: string): ActivityParsed => ({ ok: false, field, message: `${field}: ${message}` });

/** Parse and check one batch against the study's channels; never throws. */
export function parseActivity(job: ActivityJob): ActivityParsed {
  let json: unknown;
  try {
    if (job.text.trim() === '') return fail('body', 'empty body, expected a JSON object');
    json = JSON.parse(job.text);
  } catch (e) {
    return fail('body', `not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  const r = ActivityBody.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0];
    const field = ['body', ...i.path.map(String)].join('.');
    return fail(field, i.message);
  }
  const body = r.data;
  const { channels } = job;
  for (const k of Object.keys(body.values)) if (!channels.includes(k)) return fail(`body.values.${k}`, `not a channel of this study (channels: ${channels.join(', ')})`);
  const cols: (number | null)[][] = [];
  for (const c of channels) {
    const v = body.values[c];
    if (!v) return fail(`body.values.${c}`, 'missing channel (send null for missing epochs)');
    cols.push(v);
  }
  const n = cols[0].length;
  if (n === 0) return fail(`body.values.${channels[0]}`, 'no epochs');
  for (let c = 0; c < cols.length; c++) if (cols[c].length !== n) return fail(`body.values.${channels[c]}`, `has ${cols[c].length} epochs, ${channels[0]} has ${n}`);
  const index = new Int32Array(n);
  let stored = 0;
  let vals = '';
  for (let i = 0; i < n; i++) {
    let any = false;
    let row = '[';
    for (let c = 0; c < cols.length; c++) {
      const v = cols[c][i];
      if (v !== null) any = true;
      row += (c ? ',' : '') + (v === null ? 'null' : String(v));
    }
    if (any) { vals += (stored ? '\n' : '') + row + ']'; index[stored++] = i; }
  }
  return { ok: true, received: n, startMs: parseIsoTime(body.start), epochMs: job.epochSeconds * 1000, index: index.slice(0, stored), vals };
}

/** The stored rows of a parsed batch, `size` at a time (rows are built as the writes need them). */
export function* activityRowChunks(p: Extract<ActivityParsed, { ok: true }>, size: number): Generator<{ t_ms: number; vals: string }[]> {
  const bytes = typeof p.vals === 'string' ? null : Buffer.from(p.vals.buffer, p.vals.byteOffset, p.vals.byteLength);
  let pos = 0;
  for (let k = 0; k < p.index.length; k += size) {
    const m = Math.min(p.index.length, k + size) - k;
    let text: string;
    if (bytes) { // the next m lines of the UTF-8 text, decoded at once
      let end = pos;
      for (let j = 0; j < m; j++) { const nl = bytes.indexOf(10, end); end = (nl < 0 ? bytes.length : nl) + 1; }
      text = bytes.toString('utf8', pos, Math.min(end - 1, bytes.length));
      pos = end;
    } else {
      text = p.vals as string;
    }
    const lines = bytes ? text.split('\n') : null;
    const rows: { t_ms: number; vals: string }[] = new Array(m);
    for (let j = 0; j < m; j++) {
      let vals: string;
      if (lines) vals = lines[j];
      else { let end = text.indexOf('\n', pos); if (end < 0) end = text.length; vals = text.slice(pos, end); pos = end + 1; }
      rows[j] = { t_ms: p.startMs + p.index[k + j] * p.epochMs, vals };
    }
    yield rows;
  }
}
