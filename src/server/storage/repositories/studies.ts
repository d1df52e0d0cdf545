/** Studies, their members and roles, and the model attached to each. */
import type { Database, AuditEntry } from '../database.js';
import { decodeMember, decodeRole, decodeStudy, encodeStudy, type Member, type Study, type User } from '../rows.js';
import type { Role, ServerSettings } from '../columns.js';
import type { StudyConfig } from '../../../data/study.js';
import { newId } from '../ids.js';

/** The outcome of a membership change: done (with the role before), or why not (an HTTP status and a message). */
export type MemberChange = { ok: true; previous: Role | null } | { ok: false; status: 403 | 404 | 409; message: string };

export class StudiesRepository {
  constructor(private d: Database) {}

  async createStudy(s: { config: StudyConfig; settings: ServerSettings; ownerId: string }): Promise<Study> {
    const row: Study = { id: newId('s_'), name: s.config.name, config: s.config, settings: s.settings, model_dir: null, created_ms: Date.now(), created_by: s.ownerId };
    await this.d.write(async (trx) => {
      await trx.insertInto('studies').values(encodeStudy(row)).execute();
      await trx.insertInto('study_members').values({ study_id: row.id, user_id: s.ownerId, role: 'owner' }).execute();
      await trx.insertInto('audit').values(this.d.auditRow({ actor_kind: 'researcher', actor_id: s.ownerId, action: 'write', study_id: row.id, participant_id: null, resource: 'study', detail: `created "${row.name}"` })).execute();
    });
    return row;
  }

  /**
   * Replace a study's configuration (name, study.json, settings) while it holds no data: no
   * report and no wristband epoch. Checked in the transaction that writes it; false when it has data.
   */
  async updateStudy(studyId: string, s: { config: StudyConfig; settings: ServerSettings }, actor: AuditEntry): Promise<boolean> {
    const { name, config, settings } = encodeStudy({ id: studyId, name: s.config.name, config: s.config, settings: s.settings, model_dir: null, created_ms: 0, created_by: null });
    return this.d.write(async (trx) => {
      const report = await trx.selectFrom('reports').select('id').where('study_id', '=', studyId).limit(1).executeTakeFirst();
      const epoch = report ? undefined : await trx.selectFrom('activity').innerJoin('participants', 'participants.id', 'activity.participant_id')
        .select('activity.t_ms').where('participants.study_id', '=', studyId).limit(1).executeTakeFirst();
      if (report || epoch) return false;
      await trx.updateTable('studies').set({ name, config, settings }).where('id', '=', studyId).execute();
      await trx.insertInto('audit').values(this.d.auditRow(actor)).execute();
      return true;
    });
  }

  async study(id: string): Promise<Study | undefined> {
    const r = await this.d.db.selectFrom('studies').selectAll().where('id', '=', id).executeTakeFirst();
    return r && decodeStudy(r);
  }

  /** Does a study with this id exist? */
  async studyExists(id: string): Promise<boolean> {
    return !!(await this.d.db.selectFrom('studies').select('id').where('id', '=', id).executeTakeFirst());
  }

  /** The studies a researcher may see (every study for an admin), oldest first: id and name. */
  async studiesOf(user: User): Promise<{ id: string; name: string }[]> {
    if (user.is_admin) return this.d.db.selectFrom('studies').select(['id', 'name']).orderBy('created_ms').execute();
    return this.d.db.selectFrom('studies').innerJoin('study_members', 'study_members.study_id', 'studies.id')
      .select(['studies.id', 'studies.name']).where('study_members.user_id', '=', user.id).orderBy('studies.created_ms').execute();
  }

  async memberRole(studyId: string, userId: string): Promise<Role | undefined> {
    const r = await this.d.db.selectFrom('study_members').select('role').where('study_id', '=', studyId).where('user_id', '=', userId).executeTakeFirst();
    return r && decodeRole(r.role);
  }

  /** The members of a study with their accounts, owners first. */
  async members(studyId: string): Promise<Member[]> {
    const rows = await this.d.db.selectFrom('study_members').innerJoin('users', 'users.id', 'study_members.user_id')
      .select(['study_members.user_id', 'users.email', 'study_members.role', 'users.disabled_ms'])
      .where('study_members.study_id', '=', studyId).orderBy('users.email').execute();
    const rank = (r: string) => ['owner', 'researcher', 'viewer'].indexOf(r);
    return rows.map(decodeMember).sort((a, b) => rank(a.role) - rank(b.role));
  }

  /**
   * Add a member, change a member's role, or (role null) remove one — checked and done in one
   * transaction: the study's creator is changed or removed only by itself or an admin, and the
   * last owner is never demoted or removed. The audit row (resource "membership") commits with it.
   */
  changeMember(studyId: string, userId: string, role: Role | null, by: { id: string; isAdmin: boolean }, actor: AuditEntry): Promise<MemberChange> {
    return this.d.write(async (trx): Promise<MemberChange> => {
      const study = await trx.selectFrom('studies').select(['created_by']).where('id', '=', studyId).executeTakeFirst();
      if (!study) return { ok: false, status: 404, message: `study ${studyId} not found` };
      const cur = await trx.selectFrom('study_members').select('role').where('study_id', '=', studyId).where('user_id', '=', userId).executeTakeFirst();
      const previous = cur ? decodeRole(cur.role) : null;
      if (role === null && previous === null) return { ok: false, status: 404, message: `member ${userId} not found in this study` };
      if (role === previous) return { ok: true, previous };
      if (study.created_by === userId && by.id !== userId && !by.isAdmin && role !== 'owner') {
        return { ok: false, status: 403, message: 'the study\'s creator cannot be demoted or removed by a co-owner' };
      }
      if (previous === 'owner') {
        const owners = await trx.selectFrom('study_members').select((eb) => eb.fn.countAll<number>().as('n')).where('study_id', '=', studyId).where('role', '=', 'owner').executeTakeFirstOrThrow();
        if (Number(owners.n) <= 1) return { ok: false, status: 409, message: 'the study\'s last owner cannot leave or be demoted: make another member an owner first' };
      }
      if (role === null) await trx.deleteFrom('study_members').where('study_id', '=', studyId).where('user_id', '=', userId).execute();
      else if (previous === null) await trx.insertInto('study_members').values({ study_id: studyId, user_id: userId, role }).execute();
      else await trx.updateTable('study_members').set({ role }).where('study_id', '=', studyId).where('user_id', '=', userId).execute();
      const what = role === null ? `removed ${userId} (was ${previous})` : previous === null ? `added ${userId} as ${role}` : `changed ${userId} from ${previous} to ${role}`;
      await trx.insertInto('audit').values(this.d.auditRow({ ...actor, detail: actor.detail ? `${what}; ${actor.detail}` : what })).execute();
      return { ok: true, previous };
    });
  }

  /** Every study that has a model attached: its id and stored model_dir. */
  studyModels(): Promise<{ id: string; model_dir: string }[]> {
    return this.d.db.selectFrom('studies').select(['id', 'model_dir']).where('model_dir', 'is not', null).execute() as Promise<{ id: string; model_dir: string }[]>;
  }

  async setModel(studyId: string, modelDir: string | null): Promise<void> {
    await this.d.db.updateTable('studies').set({ model_dir: modelDir }).where('id', '=', studyId).execute();
  }
}
