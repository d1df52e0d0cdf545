import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StudyWriter } from '../../src/data/writer.js';
import { readCsv } from '../../src/util/csv.js';
import { StudyConfigSchema } from '../../src/data/study.js';
import { InputError } from '../../src/util/errors.js';
import { zonedTimeToUtc } from '../../src/util/localtime.js';

async function rows(path: string) { const out = []; for await (const r of readCsv(path)) out.push(r); return out; }

describe('StudyWriter', () => {
  it('writes a general study (any items, channels) with local offsets and empty missing cells', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ml-writer-'));
    const w = await StudyWriter.open(dir, {
      name: 'tiny', items: [{ id: 'mood', min: 1, max: 5 }, { id: 'energy', min: 1, max: 5 }],
      activity: { epochSeconds: 60, channels: ['counts'] }, speech: { kind: 'features' }, timezone: 'Europe/Berlin',
    }, { speechFeatures: ['f0', 'loud'], participantColumns: ['sex'] });
    await w.writeParticipant({ participantId: 'A', extra: { sex: 'f' } });
    await w.writeParticipant({ participantId: 'B', timezone: 'Asia/Tokyo' });
    // 30 Oct 2022: Berlin leaves summer time at 03:00 local → 02:00; run across it.
    const start = Date.UTC(2022, 9, 30, 0, 0);
    const counts = Float64Array.from({ length: 120 }, (_, i) => (i === 5 ? NaN : i));
    await w.writeActivityRun('A', start, [counts]);
    await w.writeActivityRun('B', zonedTimeToUtc(2022, 10, 30, 7, 0, 0, 'Asia/Tokyo'), [[3, 4]]);
    await w.writeReport({ reportId: 'r1', participantId: 'A', time: zonedTimeToUtc(2022, 10, 30, 11, 0, 30, 'Europe/Berlin'),
      trigger: 'scheduled', items: { mood: 3 }, itemOrder: ['energy', 'mood'] });
    await w.writeReport({ reportId: 'r2', participantId: 'B', time: zonedTimeToUtc(2022, 10, 30, 7, 0, 0, 'Asia/Tokyo'),
      trigger: 'wake', items: [2, NaN] });
    await w.writeSpeechFeatures('r1', [120.5, NaN]);
    await expect(w.writeReport({ reportId: 'r1', participantId: 'A', time: 0, trigger: 'bed', items: [] })).rejects.toThrow(/duplicate/);
    await w.close();

    const cfg = StudyConfigSchema.parse(JSON.parse(readFileSync(join(dir, 'study.json'), 'utf8')));
    expect(cfg.items.map((i) => i.id)).toEqual(['mood', 'energy']);
    const p = await rows(join(dir, 'participants.csv'));
    expect(p[0].header).toEqual(['participant_id', 'timezone', 'sex']);
    expect(p.map((r) => r.cells)).toEqual([['A', '', 'f'], ['B', 'Asia/Tokyo', '']]);
    const rep = await rows(join(dir, 'reports.csv'));
    expect(rep[0].header).toEqual(['report_id', 'participant_id', 'time', 'trigger', 'mood', 'energy', 'item_order']);
    expect(rep[0].cells).toEqual(['r1', 'A', '2022-10-30T11:00:30+01:00', 'scheduled', '3', '', 'energy;mood']);
    expect(rep[1].cells).toEqual(['r2', 'B', '2022-10-30T07:00:00+09:00', 'wake', '2', '', '']);
    const act = await rows(join(dir, 'activity.csv'));
    expect(act.length).toBe(122);
    expect(act[0].cells).toEqual(['A', '2022-10-30T02:00:00+02:00', '0']);
    expect(act[5].cells).toEqual(['A', '2022-10-30T02:05:00+02:00', '']);
    expect(act[60].cells).toEqual(['A', '2022-10-30T02:00:00+01:00', '60']); // the repeated hour, new offset
    expect(act[121].cells).toEqual(['B', '2022-10-30T07:01:00+09:00', '4']);
    const sf = await rows(join(dir, 'speech_features.csv'));
    expect(sf[0].header).toEqual(['report_id', 'f0', 'loud']);
    expect(sf[0].cells).toEqual(['r1', '120.5', '']);
    expect(existsSync(join(dir, 'speech.csv'))).toBe(false);
  });

  it('rejects an invalid study.json with the field named', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ml-writer-'));
    await expect(StudyWriter.open(dir, { name: 'x', timezone: 'Mars/Olympus' })).rejects.toThrow(InputError);
    await expect(StudyWriter.open(dir, { name: 'x', timezone: 'Mars/Olympus' })).rejects.toThrow(/timezone/);
  });
});
