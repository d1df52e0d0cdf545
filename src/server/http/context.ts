/**
 * What every route needs: the store, the data directory, the clock, authentication of bearer
 * tokens (with a short in-process cache, invalidated on withdrawal and logout), the parsed
 * configuration of each study, and the background work that follows a report (predictions,
 * alerts).
 */
import type { FastifyRequest } from 'fastify';
import { join, resolve } from 'node:path';
import type { StudyConfig } from '../../data/study.js';
import type { ServerSettings } from '../storage/columns.js';
import { sha256, tokenKind } from './auth.js';
import { forbidden, notFound, unauthorized } from './errors.js';
import type { Participant, Store, Study, User } from '../storage/store.js';
import type { Predictor } from '../monitoring/predictor.js';
import { resolveModelFolder } from '../monitoring/model-path.js';
import type { Keyring } from '../storage/crypto.js';
import type { CacheMessage } from '../services/cache-bus.js';
import { roleAtLeast, type Role } from '../storage/columns.js';

export interface StudyInfo { study: Study; config: StudyConfig; settings: ServerSettings }

const TOKEN_CACHE_MS = 30_000;

export interface ContextOptions {
  dataDir: string;
  /** The only folder model folders are read from, named relative to it (default <dataDir>/models). */
  modelsDir?: string;
  /** The data keys: speech files and exports are sealed with them (encryption at rest). */
  keys: Keyring;
  now?: () => number;
  /** Wait at least this long between two alert evaluations of one participant (default 30 s). */
  alertDebounceMs?: number;
  /** Load a predictor for a study's attached model folder (`dir`: its real path, inside modelsDir). */
  loadPredictor?: (study: StudyInfo, dir: string) => Promise<Predictor | null>;
  /** ffmpeg binary that decodes speech uploads other than WAV (none: WAV only). */
  ffmpeg?: string;
  /** Options of trained-model predictors (tests: fit epochs, when to personalise). */
  predictorOptions?: import('../monitoring/predictor-model.js').ModelPredictorOptions;
}

export class ServerContext {
  readonly dataDir: string;
  /** Where model folders live (`--models-dir`); a study's model is a name relative to it. */
  readonly modelsDir: string;
  readonly keys: Keyring;
  readonly now: () => number;
  private participantTokens = new Map<string, { p: Participant; at: number }>();
  private researcherTokens = new Map<string, { u: User; at: number; expires: number }>();
  private studies = new Map<string, StudyInfo>();

  constructor(readonly store: Store, readonly opts: ContextOptions) {
    this.dataDir = opts.dataDir;
    this.modelsDir = resolve(opts.modelsDir ?? join(opts.dataDir, 'models'));
    this.keys = opts.keys;
    this.now = opts.now ?? Date.now;
  }

  get speechDir(): string { return join(this.dataDir, 'speech'); }
  get tmpDir(): string { return join(this.dataDir, 'tmp'); }
  get exportDir(): string { return join(this.dataDir, 'exports'); }

  /** The real path of the model folder a study names (relative to modelsDir), or null: missing or outside (model-path.ts). */
  modelFolder(name: string): string | null { return resolveModelFolder(this.modelsDir, name); }

  private bearer(req: FastifyRequest): string {
    const h = req.headers.authorization;
    if (!h || !h.startsWith('Bearer ')) throw unauthorized('authorization: expected "Bearer <token>"');
    return h.slice(7).trim();
  }

  /** The enrolled participant whose device token authorises this request. */
  async participant(req: FastifyRequest): Promise<Participant> {
    const token = this.bearer(req);
    if (tokenKind(token) !== 'participant') throw unauthorized('authorization: not a participant device token');
    const h = sha256(token);
    const hit = this.participantTokens.get(h);
    if (hit && this.now() - hit.at < TOKEN_CACHE_MS) return hit.p;
    const p = await this.store.participantByToken(h);
    if (!p) throw unauthorized('authorization: unknown, revoked or withdrawn device token');
    this.participantTokens.set(h, { p, at: this.now() });
    return p;
  }

  /** The researcher (or admin) whose session token authorises this request. */
  async researcher(req: FastifyRequest): Promise<User> {
    const token = this.bearer(req);
    if (tokenKind(token) !== 'researcher') throw unauthorized('authorization: not a researcher session token');
    const h = sha256(token);
    const hit = this.researcherTokens.get(h);
    const now = this.now();
    if (hit && now - hit.at < TOKEN_CACHE_MS && hit.expires > Date.now()) return hit.u;
    const u = await this.store.sessionUser(h);
    if (!u) throw unauthorized('authorization: unknown or expired session; log in again');
    this.researcherTokens.set(h, { u, at: now, expires: u.expires_ms });
    return u;
  }

  async admin(req: FastifyRequest): Promise<User> {
    const u = await this.researcher(req);
    if (!u.is_admin) throw forbidden('admin role required');
    return u;
  }

  /** Where the forget* calls are told to the other instances on the same database (services/cache-bus.ts; none on SQLite). */
  private bus: { publish(m: CacheMessage): void } | null = null;
  attachCacheBus(bus: { publish(m: CacheMessage): void }): void { this.bus = bus; }

  /** Another instance changed what a cache holds: drop this instance's copy (nothing is told back). */
  applyCacheMessage(m: CacheMessage): void {
    if (m.k === 'session') this.researcherTokens.delete(m.tokenHash);
    else if (m.k === 'user') this.dropUser(m.userId, m.keepTokenHash);
    else if (m.k === 'participant') this.dropParticipant(m.participantId);
    else this.studies.delete(m.studyId);
  }

  forgetSession(token: string): void {
    const h = sha256(token);
    this.researcherTokens.delete(h);
    this.bus?.publish({ k: 'session', tokenHash: h });
  }

  /** Drop every cached session of a user (password changed or reset, account disabled), except `keepToken`'s. */
  forgetUser(userId: string, keepToken?: string): void {
    const keep = keepToken ? sha256(keepToken) : null;
    this.dropUser(userId, keep);
    this.bus?.publish({ k: 'user', userId, keepTokenHash: keep });
  }

  private dropUser(userId: string, keepHash: string | null): void {
    for (const [k, v] of this.researcherTokens) if (v.u.id === userId && k !== keepHash) this.researcherTokens.delete(k);
  }

  /** Drop every cached token of a participant (withdrawal, new code). */
  forgetParticipant(participantId: string): void {
    this.dropParticipant(participantId);
    this.bus?.publish({ k: 'participant', participantId });
  }

  private dropParticipant(participantId: string): void {
    for (const [k, v] of this.participantTokens) if (v.p.id === participantId) this.participantTokens.delete(k);
  }

  async studyInfo(studyId: string): Promise<StudyInfo> {
    const hit = this.studies.get(studyId);
    if (hit) return hit;
    const study = await this.store.study(studyId);
    if (!study) throw notFound(`study ${studyId}`);
    const info: StudyInfo = { study, config: study.config, settings: study.settings };
    this.studies.set(studyId, info);
    return info;
  }

  /** The study's configuration or model changed: drop its cached copy here and on the other instances (which also reload its predictor). */
  forgetStudy(studyId: string): void {
    this.studies.delete(studyId);
    this.bus?.publish({ k: 'study', studyId });
  }

  /**
   * The access check of study routes (roles.ts): an admin, or a member with at least `min`. A
   * study the researcher is not a member of answers 404, so its existence is not revealed; a
   * member whose role is too low gets 403 naming the role needed. Returns the role ("admin" for admins).
   */
  async requireRole(user: User, studyId: string, min: Role): Promise<Role | 'admin'> {
    if (user.is_admin) return 'admin';
    const role = await this.store.memberRole(studyId, user.id);
    if (!role) throw notFound(`study ${studyId}`);
    if (!roleAtLeast(role, min)) throw forbidden(`this needs the ${min} role in study ${studyId}; you are a ${role}`);
    return role;
  }

  /**
   * The study, if this researcher may see it (admin, or a member; 404 otherwise). Which role a
   * route needs is checked before the handler runs, from the rules table (roles.ts).
   */
  async studyFor(user: User, studyId: string): Promise<StudyInfo> {
    if (!user.is_admin) {
      const role = await this.store.memberRole(studyId, user.id);
      if (!role) throw notFound(`study ${studyId}`);
    }
    return this.studyInfo(studyId);
  }

  /** A participant of a study the researcher may see. */
  async participantFor(user: User, studyId: string, label: string): Promise<{ info: StudyInfo; participant: Participant }> {
    const info = await this.studyFor(user, studyId);
    const participant = await this.store.participant(studyId, label);
    if (!participant) throw notFound(`participant ${label}`);
    return { info, participant };
  }
}
