/** Registry of the multitask weightings by name (SPEC §3). */
import type { MULTITASKS } from '../config.js';
import type { WeightingFactory } from './types.js';
import { equal, multiOutput } from './equal.js';
import { fixed } from './fixed.js';
import { uncertainty } from './uncertainty.js';
import { dwa } from './dwa.js';
import { druw } from './druw.js';

/** 'single-task' trains one model per item (see src/train); each of them uses `equal`. */
export const weightings: Record<(typeof MULTITASKS)[number], WeightingFactory> = {
  'single-task': equal, equal, 'multi-output': multiOutput, fixed, uncertainty, dwa, druw,
};
export type { Weighting, WeightingFactory, MultitaskContext } from './types.js';
