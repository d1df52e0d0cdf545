/**
 * The week-long study of the study-design issue, shared by its server test
 * (test/server/study-week.test.ts) and its Chromium test (test/web/study-week-e2e.test.ts): two
 * slider items at random times in two daily windows with a 90-minute expiry, a weekly PHQ-9 and
 * GAD-7 at 18:00 (12 hours to answer), Europe/Berlin across the end of summer time (Sunday
 * 2026-10-25), a rule that tells the team when PHQ-9 item 9 is 1 or more — and the answers, with
 * their scores worked out by hand.
 */
export const WEEK_START = '2026-10-22T08:00:00+02:00'; // Thursday; day 3 is Sunday 25 October, 03:00 CEST → 02:00 CET

export const WEEK_CONFIG = {
  name: 'Week study',
  timezone: 'Europe/Berlin',
  speech: { kind: 'none' },
  items: [
    { id: 'mood', label: 'Mood', min: 0, max: 100 },
    { id: 'energy', label: 'Energy', min: 0, max: 100 },
  ],
  schedule: { windows: [{ start: '09:00', end: '12:00', count: 1 }, { start: '16:00', end: '20:00', count: 1 }], expiryMinutes: 90, wakeAndBed: false, days: 8 },
  instruments: [
    { id: 'phq9', builtin: 'phq9', schedule: { times: ['18:00'], jitterMinutes: 0, everyDays: 7, expiryMinutes: 720, wakeAndBed: false, days: 8 } },
    { id: 'gad7', builtin: 'gad7', schedule: { times: ['18:00'], jitterMinutes: 0, everyDays: 7, expiryMinutes: 720, wakeAndBed: false, days: 8 } },
  ],
  notifications: [{ id: 'phq9-item9', when: { item: 'phq9_9', atLeast: 1 } }],
};

/** The local windows of the slider block ([start, end) in minutes after midnight). */
export const WINDOWS = [[9 * 60, 12 * 60], [16 * 60, 20 * 60]] as const;

/** Day 0's PHQ-9: item 9 = 2 (the rule is met); total 1+2+0+3+1+0+2+1+2 = 12, "moderate" (10–14). */
export const PHQ9_DAY0 = [1, 2, 0, 3, 1, 0, 2, 1, 2];
export const PHQ9_DAY0_TOTAL = 12;
export const PHQ9_DAY0_BAND = 'moderate';
/** Day 7's PHQ-9: item 9 = 0 (nothing to tell); total 0+1+1+1+0+0+1+0+0 = 4, "minimal" (0–4). */
export const PHQ9_DAY7 = [0, 1, 1, 1, 0, 0, 1, 0, 0];
export const PHQ9_DAY7_TOTAL = 4;
/** Day 0's GAD-7: 0+1+1+2+0+1+3 = 8, "mild" (5–9). Day 7's is left to expire. */
export const GAD7_DAY0 = [0, 1, 1, 2, 0, 1, 3];
export const GAD7_DAY0_TOTAL = 8;
export const GAD7_DAY0_BAND = 'mild';

/**
 * What happens to the k-th slider prompt (in time order): answered 10 minutes after it appears,
 * left to expire, or answered 5 minutes after it expired (too late: it stays expired).
 */
export function sliderPlan(k: number): 'answer' | 'ignore' | 'late' {
  return k % 4 === 2 ? 'ignore' : k % 4 === 3 ? 'late' : 'answer';
}
