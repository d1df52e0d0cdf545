/**
 * `moodlens actigraphy --in FILE --participant ID --out activity.csv`: raw tri-axial
 * accelerometer recording (generic CSV, ActiGraph CSV, GENEActiv CSV, Axivity .cwa, ActiGraph
 * .gt3x, GENEActiv .bin) → one row per
 * epoch (participant_id, time, channels…) appended to a study's activity.csv (SPEC §7). The file
 * is streamed (progress by bytes read); missing epochs (gaps, non-wear) get empty cells.
 * Defaults come from the study folder around --out: study.json's activity channels, epoch length
 * and time zone, and the participant's time zone in participants.csv.
 */
import type { Command } from 'commander';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { CsvWriter, readCsv, readCsvHeader } from '../../util/csv.js';
import { UsageError } from '../../util/errors.js';
import { optionsFrom, parseFlags } from '../../util/flags.js';
import { progress } from '../../util/progress.js';
import { localIso } from '../../util/localtime.js';
import { STUDY_FILES, StudyConfigSchema, TimeZoneSchema } from '../../data/study.js';
import { parseIsoTime } from '../../data/rows.js';
import { ACCEL_FORMATS, ActigraphyOptionsSchema, CHANNELS, GT3X_FILLS, type Channel, type EpochRow } from '../../signal/actigraphy/index.js';
import { actigraphyFromFile } from '../../io/actigraphy-node.js';

export const ActigraphyFlags = z.object({
  in: z.string().min(1, 'give the raw recording (--in FILE)'),
  participant: z.string().trim().min(1, 'give the participant id').refine((s) => !/[\r\n]/.test(s), 'no line breaks'),
  out: z.string().min(1),
  format: z.enum(['auto', ...ACCEL_FORMATS]).default('auto'),
  fill: z.enum(GT3X_FILLS).default('last'),
  epoch: z.coerce.number().positive('epoch length in seconds').optional(),
  channels: z.string().optional(),
  timezone: TimeZoneSchema.optional(),
  signal: z.enum(['vm', 'x', 'y', 'z']).default('vm'),
  band: z.string().default('0.25,3').transform((s, ctx) => {
    const v = s.split(',').map(Number);
    if (v.length !== 2 || !v.every((x) => x > 0) || !(v[0] < v[1])) {
      ctx.addIssue({ code: 'custom', message: `expected "low,high" in Hz with 0 < low < high, got "${s}"` });
      return z.NEVER;
    }
    return v as [number, number];
  }),
  order: z.coerce.number().int().min(1).max(8).default(4),
  threshold: z.coerce.number().nonnegative().default(0.01),
  minCoverage: z.coerce.number().min(0).max(1).default(0.9),
  nonwear: z.boolean().default(true),
  sleep: z.enum(['cole-kripke', 'sadeh']).default('cole-kripke'),
  rate: z.coerce.number().positive().optional(),
  start: z.string().optional(),
  force: z.boolean().default(false),
  quiet: z.boolean().default(false),
});
type Flags = z.infer<typeof ActigraphyFlags>;

function parseChannels(text: string, where: string): Channel[] {
  const list = text.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = list.filter((c) => !(CHANNELS as readonly string[]).includes(c));
  if (bad.length || list.length === 0) throw new UsageError(`${where}: unknown channel(s) ${bad.join(', ') || '(none)'}; known: ${CHANNELS.join(', ')}`);
  if (new Set(list).size !== list.length) throw new UsageError(`${where}: a channel is listed twice`);
  return list as Channel[];
}

/** study.json beside activity.csv, if any (parsed with its defaults). */
function studyAround(out: string) {
  const p = join(dirname(out), STUDY_FILES.config);
  if (!existsSync(p)) return null;
  let json: unknown;
  try { json = JSON.parse(readFileSync(p, 'utf8')); } catch (e) { throw new UsageError(`${p}: not valid JSON (${(e as Error).message})`); }
  const r = StudyConfigSchema.safeParse(json);
  if (!r.success) throw new UsageError(`${p}: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return r.data;
}

async function participantZone(out: string, id: string): Promise<string | undefined> {
  const p = join(dirname(out), STUDY_FILES.participants);
  if (!existsSync(p)) return undefined;
  for await (const row of readCsv(p)) {
    if (row.values.participant_id?.trim() === id) {
      const tz = row.values.timezone?.trim();
      return tz && TimeZoneSchema.safeParse(tz).success ? tz : undefined;
    }
  }
  return undefined;
}

/** Epoch-start range (ms) of the rows activity.csv already has for this participant. */
async function existingRange(out: string, id: string): Promise<{ min: number; max: number; n: number }> {
  const r = { min: Infinity, max: -Infinity, n: 0 };
  for await (const row of readCsv(out)) {
    if (row.values.participant_id !== id) continue;
    const t = parseIsoTime(row.values.time ?? '', 'UTC');
    if (Number.isNaN(t)) continue;
    r.n++; if (t < r.min) r.min = t; if (t > r.max) r.max = t;
  }
  return r;
}

const fmt = (v: number, digits: number) => (Number.isNaN(v) ? '' : String(Number(v.toFixed(digits))));
function cell(c: Channel, v: number): string {
  switch (c) {
    case 'zcm': case 'sleep': return fmt(v, 0);
    case 'pim': return fmt(v, 5);
    case 'tat': return fmt(v, 2);
    case 'counts': return fmt(v, 2);
  }
}

export async function runActigraphy(f: Flags): Promise<{ rows: number; summary: string }> {
  if (!existsSync(f.in) || !statSync(f.in).isFile()) throw new UsageError(`--in ${f.in}: no such file`);
  const study = studyAround(f.out);
  const outExists = existsSync(f.out) && statSync(f.out).size > 0;
  const header = outExists ? await readCsvHeader(f.out) : [];
  if (outExists && (header[0] !== 'participant_id' || header[1] !== 'time')) {
    throw new UsageError(`${f.out}: header must start with participant_id,time (an activity.csv, docs/data.md); found "${header.join(',')}"`);
  }
  const fileChannels = outExists ? parseChannels(header.slice(2).join(','), `${f.out} header`) : null;
  let channels: Channel[];
  if (f.channels) channels = parseChannels(f.channels, '--channels');
  else if (fileChannels) channels = fileChannels;
  else if (study && study.activity.channels.every((c) => (CHANNELS as readonly string[]).includes(c))) channels = study.activity.channels as Channel[];
  else channels = ['zcm', 'pim'];
  if (fileChannels) {
    const same = fileChannels.length === channels.length && channels.every((c) => fileChannels.includes(c));
    if (!same) throw new UsageError(`${f.out} has the channels ${fileChannels.join(',')}, but ${channels.join(',')} were asked for: use the file's channels or another --out`);
    channels = fileChannels; // keep the file's column order
  }
  const epochSeconds = f.epoch ?? study?.activity.epochSeconds ?? 60;
  if (study && study.activity.epochSeconds !== epochSeconds) {
    process.stderr.write(`warning: study.json says epochSeconds ${study.activity.epochSeconds}, writing ${epochSeconds}-s epochs\n`);
  }
  const zone = f.timezone ?? (await participantZone(f.out, f.participant)) ?? study?.timezone ?? 'UTC';
  const existing = outExists && !f.force ? await existingRange(f.out, f.participant) : null;

  const pipeline = {
    epochSeconds, channels, signal: f.signal, band: f.band, order: f.order, threshold: f.threshold,
    minCoverage: f.minCoverage, nonWear: f.nonwear ? undefined : (false as const), sleep: { algorithm: f.sleep },
  };
  const checked = ActigraphyOptionsSchema.safeParse(pipeline);
  if (!checked.success) throw new UsageError(`actigraphy: ${checked.error.issues.map((i) => i.message).join('; ')}`);
  const total = statSync(f.in).size;
  const bar = f.quiet ? null : progress('actigraphy', total, ' bytes');
  const lines: string[][] = [];
  let clash: EpochRow | null = null;
  const summary = await actigraphyFromFile(f.in, {
    format: f.format,
    reader: { timezone: f.timezone, defaultTimezone: zone, rate: f.rate, start: f.start, fill: f.fill },
    pipeline,
    onProgress: (b) => bar?.update(b),
    onRows: (rows) => {
      for (const r of rows) {
        if (existing && existing.n > 0 && r.start * 1000 >= existing.min && r.start * 1000 <= existing.max && !clash) clash = r;
        lines.push([f.participant, localIso(r.start * 1000, zone), ...channels.map((c) => cell(c, r.values[c]))]);
      }
    },
  }).catch((e: unknown) => {
    if (e instanceof RangeError) throw new UsageError(e.message);
    throw e;
  });
  bar?.stop();
  if (clash) {
    throw new UsageError(`${f.out} already has ${existing!.n} epochs of participant ${f.participant} between ` +
      `${localIso(existing!.min, zone)} and ${localIso(existing!.max, zone)}, overlapping this recording ` +
      `(e.g. ${localIso((clash as EpochRow).start * 1000, zone)}); nothing written. Use --force to append anyway.`);
  }
  const w = new CsvWriter(f.out, ['participant_id', 'time', ...channels], { append: outExists });
  for (const l of lines) await w.write(l);
  await w.close();
  const i = summary.info;
  const text = `${f.out}: ${lines.length} epochs of ${epochSeconds} s for ${f.participant}` +
    (lines.length ? ` (${localIso(summary.first * 1000, zone)} – ${localIso(summary.last * 1000, zone)})` : '') +
    `; ${i.format} at ${i.rate} Hz, ${summary.samples} samples; ${summary.missing} epochs missing` +
    ` (${summary.nonWear} non-wear)` +
    (i.skipped ? `; ${i.skipped} ${i.format === 'cwa' ? 'unreadable blocks' : i.format === 'gt3x' ? 'records with a bad checksum or cut off' : 'cut-off last line'} skipped` : '') +
    (i.header.filledSeconds ? `; ${i.header.filledSeconds} s of idle sleep / docked filled (${i.header.fill})` : '') +
    (i.header.truncated && i.format !== 'csv' && i.format !== 'actigraph' && i.format !== 'geneactiv' ? `; file cut off: ${i.header.truncated}` : '') +
    (summary.dropped ? `; ${summary.dropped} samples out of time order dropped` : '');
  return { rows: lines.length, summary: text };
}

export function register(program: Command): void {
  const opt = optionsFrom(ActigraphyFlags);
  program.command('actigraphy')
    .description('raw accelerometer file (CSV, ActiGraph CSV or .gt3x, GENEActiv CSV or .bin, Axivity .cwa) → per-epoch ZCM/PIM/TAT/counts/sleep rows appended to activity.csv')
    .requiredOption('--in <file>', 'raw recording')
    .requiredOption('--participant <id>', 'participant id written in every row')
    .requiredOption('--out <activity.csv>', "the study's activity.csv (created with a header if new)")
    .option(...opt('--format <f>', 'auto | csv | actigraph | geneactiv | cwa | gt3x | geneactiv-bin'))
    .option(...opt('--fill <how>', '.gt3x idle-sleep gaps: last (ActiLife: last sample, zeros once docked) | zero (read.gt3x) | none (missing epochs)'))
    .option('--epoch <seconds>', 'epoch length (default: study.json activity.epochSeconds, else 60)')
    .option('--channels <list>', `comma-separated, of ${CHANNELS.join(',')} (default: the file's / study's, else zcm,pim)`)
    .option('--timezone <zone>', 'IANA zone of the wall-clock times in the file and of the output times (default: participants.csv, study.json, UTC)')
    .option(...opt('--signal <s>', 'vm (vector magnitude) | x | y | z'))
    .option(...opt('--band <lo,hi>', 'band-pass edges in Hz for ZCM/PIM/TAT'))
    .option(...opt('--order <n>', 'Butterworth order of each band edge'))
    .option(...opt('--threshold <g>', 'ZCM dead band and TAT threshold, in g'))
    .option(...opt('--min-coverage <share>', 'share of an epoch that must have samples'))
    .option('--no-nonwear', 'keep epochs that look like non-wear')
    .option(...opt('--sleep <algorithm>', 'cole-kripke | sadeh (for the sleep channel)'))
    .option('--rate <hz>', 'generic CSV: sample rate (default: estimated from the times)')
    .option('--start <iso>', 'generic CSV: start time when times are seconds from the start or absent')
    .option('--force', 'append even if activity.csv already has epochs of this participant in the same time range')
    .option('--quiet', 'no progress bar')
    .action(async (raw: unknown) => {
      const flags = parseFlags(ActigraphyFlags, raw, 'actigraphy');
      const r = await runActigraphy(flags);
      console.log(r.summary);
    });
}
