/**
 * Basic per-user FFNN (MM's benchmark personalisation): a shared emotion FFNN, then each user's
 * own 2-layer FFNN: P_u = FFNN_u(FFNN_emotion(fused)). No macro-only path: an unseen user gets
 * the mean of the users' layers.
 */
import { userFfnnOnMacro } from './micro.js';

export const ffnn = userFfnnOnMacro({ emotionFfnn: true, transformer: false });
