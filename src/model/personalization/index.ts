/** Registry of the personalisation methods by name (SPEC §3): each with its tfjs part and its plain twin. */
import type { PERSONALIZATIONS } from '../config.js';
import type { PersonalizationMethod } from './types.js';
import { none } from './none.js';
import { ffnn } from './ffnn.js';
import { transformer } from './transformer.js';
import { adapter } from './adapter.js';
import { macroMicro } from './macro-micro.js';

export const personalizations: Record<(typeof PERSONALIZATIONS)[number], PersonalizationMethod> = {
  none, ffnn, transformer, adapter, 'macro-micro': macroMicro,
};
export type { Personalization, PersonalizationContext, PersonalizationFactory, PersonalizationMethod, PlainPersonalization, UserRows } from './types.js';
