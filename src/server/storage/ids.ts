/** Row ids: a kind prefix ("u_", "s_", "p_", "r_", …) and 122 random bits (randomUUID draws from a cached entropy pool: cheap per call). */
import { randomUUID } from 'node:crypto';

export function newId(prefix: string): string {
  return prefix + Buffer.from(randomUUID().replace(/-/g, ''), 'hex').toString('base64url');
}
