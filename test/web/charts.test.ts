/**
 * The shared chart specs compile with vega-lite and render to SVG with vega in Node (what the
 * CLI's reports do), and draw what they are given; the compliance count is checked by hand.
 */
import { describe, it, expect } from 'vitest';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { SMALL_N_CAUTION, cccSpec, compliance, complianceSpec, dayHourHeatmapSpec, localDayHour, trajectorySpec, wearSpec, type TrajectoryPoint } from '../../src/web/charts.js';

async function svg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  return view.toSVG();
}

describe('chart specs', () => {
  it('compliance counts due scheduled prompts and scheduled answers per local day', () => {
    const prompts = [
      { time: '2026-03-01T11:02:00+01:00' }, { time: '2026-03-01T15:05:00+01:00' }, { time: '2026-03-01T23:30:00-05:00' }, // local day 03-01 (×3)
      { time: '2026-03-02T11:00:00+01:00' }, // not yet due
    ];
    const reports = [
      { time: '2026-03-01T11:10:00+01:00', trigger: 'scheduled' }, { time: '2026-03-01T07:00:00+01:00', trigger: 'wake' },
      { time: '2026-03-02T00:10:00+01:00', trigger: 'scheduled' },
    ];
    const now = Date.parse('2026-03-02T08:00:00Z');
    expect(compliance('P1', prompts, reports, now)).toEqual([
      { participant: 'P1', day: '2026-03-01', scheduled: 3, answered: 1 },
      { participant: 'P1', day: '2026-03-02', scheduled: 0, answered: 1 },
    ]);
    expect(localDayHour('2026-03-01T23:30:00-05:00')).toEqual({ day: '2026-03-01', hour: 23 });
  });

  it('every spec renders to SVG in Node with one mark per datum', async () => {
    const pts: TrajectoryPoint[] = [];
    for (let d = 1; d <= 4; d++) for (const item of ['happy', 'gloomy']) {
      pts.push({ time: `2026-03-0${d}T11:00:00Z`, item, value: 10 * d, source: 'reported' });
      pts.push({ time: `2026-03-0${d}T11:01:00Z`, item, value: 10 * d + 3, lo: 10 * d - 7, hi: 10 * d + 13, source: 'predicted' });
    }
    const traj = await svg(trajectorySpec(pts));
    expect(traj).toMatch(/^<svg/);
    expect(traj).toContain('happy');
    expect(traj).toContain('gloomy');
    // 4 predictions per item drawn as diamonds (vega's symbol paths) in 2 panels.
    const view = new vega.View(vega.parse(compile(trajectorySpec(pts)).spec), { renderer: 'none' });
    await view.runAsync();
    const sg = (view.scenegraph() as any).toJSON() as string;
    expect((sg.match(/"shape":"diamond"/g) ?? []).length).toBe(8);

    const comp = await svg(complianceSpec([{ participant: 'P1', day: '2026-03-01', scheduled: 3, answered: 2 }]));
    expect(comp).toContain('2026-03-01');
    const heat = await svg(dayHourHeatmapSpec([{ day: '2026-03-01', hour: 9, value: 2 }, { day: '2026-03-02', hour: 21, value: 1 }], { title: 'reports' }));
    expect((heat.match(/<path[^>]*aria-roledescription="rect"/g) ?? []).length + (heat.match(/role="graphics-symbol"/g) ?? []).length).toBeGreaterThan(0);
    const ccc = await svg(cccSpec([{ item: 'happy', ccc: 0.61, model: 'MTL', n: 120 }, { item: 'gloomy', ccc: 0.42, model: 'MTL', n: 12 }]));
    expect(ccc).toContain('CCC');
    expect(ccc).toMatch(/reports: 12"[^>]*opacity="0.4"/); // the CCC from 12 reports (< SMALL_N) is faded
    // A CCC below the default axis start widens the axis instead of drawing off the chart.
    expect(await svg(cccSpec([{ item: 'happy', ccc: -0.43, model: 'MTL' }]))).toContain('−0.5');
    // With intervals (the CLI's ccc.svg; the dashboard's stored evaluation): a line per interval, the axis widened to its end, the caution as subtitle.
    const ci = await svg(cccSpec([{ item: 'happy', ccc: 0.2, lo: -0.62, hi: 0.5, n: 12 }, { item: 'gloomy', ccc: 0.4, n: 40 }], { title: 'per item' }));
    expect(ci.match(/<g class="mark-rule role-mark[^>]*>.*?<\/g>/s)?.[0].split('<line').length).toBe(2);
    expect(ci).toContain('−0.6'); // the axis reaches the interval's end (it starts at −0.2 otherwise)
    expect(ci).toContain(SMALL_N_CAUTION);
    // Activity heat map with the minutes recorded in the tooltip; wear time per day.
    const act = await svg(dayHourHeatmapSpec([{ day: '2026-03-01', hour: 9, value: 12.5, minutes: 48 }], { title: 'mean zcm', tooltip: ['minutes'] }));
    expect(act).toContain('mean zcm');
    const wear = await svg(wearSpec([
      { participantId: 'P1', day: '2026-03-01', minutesInDay: 1440, wearMinutes: 720, wearFraction: 0.5, reports: 3, late: 0, recordings: 3, failedRecordings: 0, skippedRecordings: 0, missingRecordings: 0 },
      { participantId: 'P2', day: '2026-03-01', minutesInDay: 1440, wearMinutes: 1440, wearFraction: 1, reports: 2, late: 1, recordings: 1, failedRecordings: 1, skippedRecordings: 0, missingRecordings: 0 },
    ]));
    expect(wear).toContain('wear time');
    expect(wear).toContain('100%');
  });
});
