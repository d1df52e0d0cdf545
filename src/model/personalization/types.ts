/**
 * The personalisation axis (SPEC §3): everything between the fused vector and the heads.
 * Per-user parameters live in UserTables (see user-table.ts). `known` [B,1] is 1 where the
 * sample's user-specific path is used; 0 for a participant not seen in training (and for
 * micro-dropout in training), who then gets the macro path alone when the method has one,
 * otherwise the mean of the users' layers.
 */
import type { ParamStore, PlainParams, T2, T3 } from '../nn.js';
import type { PersonalizationConfig } from '../config.js';
import type { UserBatch, UserTable } from '../user-table.js';
import type { Rng } from '../../util/random.js';

export interface PersonalizationContext {
  ps: ParamStore; rng: Rng; users: number; M: number; d: number; fusedDim: number; heads: number;
  opts: PersonalizationConfig;
}

export interface Personalization {
  /** Per-user tables (trained sparsely; refit by `personalize` for a new participant). */
  readonly tables: UserTable[];
  /** True when an unknown user can take a macro-only path (adapter, macro-micro). */
  readonly macroPath: boolean;
  apply(fused: T2, h: T3, mask: T2, ub: UserBatch, known: T2): T2;
  report?(): Record<string, number[]>;
}

export type PersonalizationFactory = (ctx: PersonalizationContext) => Personalization;

/**
 * The same on one instance's plain arrays: fused [fusedDim], h[m] [d], mask [M] → P [d]. `user`
 * gives the participant's row of a user table (their own, or the users' mean for one not seen in
 * training); `known` as above.
 */
export type PlainPersonalization = (fused: Float32Array, h: Float32Array[], mask: Float32Array, user: UserRows, known: boolean) => Float32Array;
export type UserRows = (table: string) => Float32Array;
export type PlainPersonalizationFactory = (ctx: Omit<PersonalizationContext, 'ps' | 'rng' | 'users'> & { w: PlainParams }) => PlainPersonalization;

/** A personalisation method: its tfjs part and its plain twin. */
export interface PersonalizationMethod { tfjs: PersonalizationFactory; plain: PlainPersonalizationFactory }
