/**
 * Transformer without the emotion FFNN: the fused vector is projected to d and joins the
 * modality tokens in the shared transformer layer; each user's FFNN follows:
 * P_u = FFNN_u(Transformer(tokens)). Unseen user: mean of the users' layers.
 */
import { userFfnnOnMacro } from './micro.js';

export const transformer = userFfnnOnMacro({ emotionFfnn: false, transformer: true });
