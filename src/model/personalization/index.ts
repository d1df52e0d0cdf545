/** Registry of the personalisation methods by name (SPEC §3). */
import type { PERSONALIZATIONS } from '../config.js';
import type { PersonalizationFactory } from './types.js';
import { none } from './none.js';
import { ffnn } from './ffnn.js';
import { transformer } from './transformer.js';
import { adapter } from './adapter.js';
import { macroMicro } from './macro-micro.js';

export const personalizations: Record<(typeof PERSONALIZATIONS)[number], PersonalizationFactory> = {
  none, ffnn, transformer, adapter, 'macro-micro': macroMicro,
};
export type { Personalization, PersonalizationContext, PersonalizationFactory } from './types.js';
