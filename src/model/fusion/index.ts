/** Registry of the fusion methods by name (SPEC §3): each with its tfjs part and its plain twin. */
import type { FusionMethod } from './types.js';
import type { FUSIONS } from '../config.js';
import { concat } from './concat.js';
import { max } from './max.js';
import { gated } from './gated.js';
import { attention } from './attention.js';
import { soloAttention } from './solo-attention.js';
import { postConcatAttention } from './post-concat-attention.js';
import { crossModalAttention } from './cross-modal-attention.js';
import { pureWeighted } from './pure-weighted.js';
import { separateTransformer } from './separate-transformer.js';
import { druw } from './druw.js';

export const fusions: Record<(typeof FUSIONS)[number], FusionMethod> = {
  concat, max, gated, attention,
  'solo-attention': soloAttention,
  'post-concat-attention': postConcatAttention,
  'cross-modal-attention': crossModalAttention,
  'pure-weighted': pureWeighted,
  'separate-transformer': separateTransformer,
  druw,
};
export type { Fusion, FusionContext, FusionFactory, FusionMethod, PlainFusion, PlainFusionFactory } from './types.js';
