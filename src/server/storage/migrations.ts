/**
 * Schema migrations (Kysely's Migrator), the same for SQLite and PostgreSQL. Add a new entry to
 * `migrations` for every change; never edit an applied one.
 */
import { Migrator, sql, type Kysely, type Migration } from 'kysely';
import type { DbKind } from './schema.js';

function migrations(kind: DbKind): Record<string, Migration> {
  const big = 'bigint' as const;
  return {
    '0001_init': {
      async up(db: Kysely<any>) {
        await db.schema.createTable('users')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('email', 'text', (c) => c.notNull().unique())
          .addColumn('password_hash', 'text', (c) => c.notNull())
          .addColumn('is_admin', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('created_ms', big, (c) => c.notNull())
          .execute();
        await db.schema.createTable('sessions')
          .addColumn('token_hash', 'text', (c) => c.primaryKey())
          .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
          .addColumn('created_ms', big, (c) => c.notNull())
          .addColumn('expires_ms', big, (c) => c.notNull())
          .execute();
        await db.schema.createTable('studies')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('config', 'text', (c) => c.notNull())
          .addColumn('settings', 'text', (c) => c.notNull())
          .addColumn('model_dir', 'text')
          .addColumn('created_ms', big, (c) => c.notNull())
          .execute();
        await db.schema.createTable('study_members')
          .addColumn('study_id', 'text', (c) => c.notNull().references('studies.id').onDelete('cascade'))
          .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
          .addColumn('role', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('study_members_pk', ['study_id', 'user_id'])
          .execute();
        await db.schema.createTable('participants')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('study_id', 'text', (c) => c.notNull().references('studies.id').onDelete('cascade'))
          .addColumn('label', 'text', (c) => c.notNull())
          .addColumn('timezone', 'text', (c) => c.notNull())
          .addColumn('covariates', 'text', (c) => c.notNull())
          .addColumn('enrol_code_hash', 'text', (c) => c.unique())
          .addColumn('enrol_expires_ms', big)
          .addColumn('token_hash', 'text', (c) => c.unique())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('seed', 'integer', (c) => c.notNull())
          .addColumn('created_ms', big, (c) => c.notNull())
          .addColumn('enrolled_ms', big)
          .addUniqueConstraint('participants_study_label', ['study_id', 'label'])
          .execute();
        await db.schema.createTable('reports')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('study_id', 'text', (c) => c.notNull())
          .addColumn('participant_id', 'text', (c) => c.notNull().references('participants.id'))
          .addColumn('client_id', 'text', (c) => c.notNull())
          .addColumn('time', 'text', (c) => c.notNull())
          .addColumn('time_ms', big, (c) => c.notNull())
          .addColumn('server_ms', big, (c) => c.notNull())
          .addColumn('trigger', 'text', (c) => c.notNull())
          .addColumn('answers', 'text', (c) => c.notNull())
          .addColumn('item_order', 'text', (c) => c.notNull())
          .addColumn('prompt_time', 'text')
          .addColumn('late', 'integer', (c) => c.notNull())
          .addUniqueConstraint('reports_participant_client', ['participant_id', 'client_id'])
          .execute();
        await db.schema.createIndex('reports_study_time').on('reports').columns(['study_id', 'time_ms']).execute();
        await db.schema.createIndex('reports_participant_time').on('reports').columns(['participant_id', 'time_ms']).execute();
        await db.schema.createTable('speech')
          .addColumn('report_id', 'text', (c) => c.primaryKey().references('reports.id'))
          .addColumn('study_id', 'text', (c) => c.notNull())
          .addColumn('participant_id', 'text', (c) => c.notNull())
          .addColumn('file', 'text', (c) => c.notNull())
          .addColumn('bytes', big, (c) => c.notNull())
          .addColumn('sha256', 'text', (c) => c.notNull())
          .addColumn('sample_rate', 'integer', (c) => c.notNull())
          .addColumn('channels', 'integer', (c) => c.notNull())
          .addColumn('duration_s', 'real', (c) => c.notNull())
          .addColumn('created_ms', big, (c) => c.notNull())
          .execute();
        await db.schema.createIndex('speech_participant').on('speech').column('participant_id').execute();
        // The biggest table (one row per participant-minute): keyed by (participant, epoch start)
        // only; on SQLite WITHOUT ROWID so that key is the table's one B-tree.
        let activity = db.schema.createTable('activity')
          .addColumn('participant_id', 'text', (c) => c.notNull())
          .addColumn('t_ms', big, (c) => c.notNull())
          .addColumn('vals', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('activity_pk', ['participant_id', 't_ms']);
        if (kind === 'sqlite') activity = activity.modifyEnd(sql`without rowid`);
        await activity.execute();
        await db.schema.createTable('predictions')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('study_id', 'text', (c) => c.notNull())
          .addColumn('participant_id', 'text', (c) => c.notNull())
          .addColumn('report_id', 'text')
          .addColumn('created_ms', big, (c) => c.notNull())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('items', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('predictions_participant').on('predictions').columns(['participant_id', 'created_ms']).execute();
        await db.schema.createTable('alerts')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('study_id', 'text', (c) => c.notNull())
          .addColumn('participant_id', 'text', (c) => c.notNull())
          .addColumn('item', 'text', (c) => c.notNull())
          .addColumn('source', 'text', (c) => c.notNull())
          .addColumn('direction', 'text', (c) => c.notNull())
          .addColumn('started_ms', big, (c) => c.notNull())
          .addColumn('last_ms', big, (c) => c.notNull())
          .addColumn('detected_ms', big, (c) => c.notNull())
          .addColumn('n_reports', 'integer', (c) => c.notNull())
          .addColumn('baseline_mean', 'real', (c) => c.notNull())
          .addColumn('baseline_sd', 'real', (c) => c.notNull())
          .addColumn('acknowledged_by', 'text')
          .addColumn('acknowledged_ms', big)
          .addUniqueConstraint('alerts_episode', ['participant_id', 'item', 'source', 'started_ms'])
          .execute();
        await db.schema.createIndex('alerts_study').on('alerts').columns(['study_id', 'detected_ms']).execute();
        let audit = db.schema.createTable('audit');
        audit = kind === 'postgres'
          ? audit.addColumn('id', 'bigserial', (c) => c.primaryKey())
          : audit.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());
        await audit
          .addColumn('time_ms', big, (c) => c.notNull())
          .addColumn('actor_kind', 'text', (c) => c.notNull())
          .addColumn('actor_id', 'text', (c) => c.notNull())
          .addColumn('action', 'text', (c) => c.notNull())
          .addColumn('study_id', 'text')
          .addColumn('participant_id', 'text')
          .addColumn('resource', 'text', (c) => c.notNull())
          .addColumn('detail', 'text')
          .execute();
        await db.schema.createIndex('audit_study_time').on('audit').columns(['study_id', 'time_ms']).execute();
        await sql`select 1`.execute(db);
      },
    },
    '0002_speech_features': {
      // Studies with speech.kind = "features" (SPEC §6, privacy): the app computes the acoustic
      // features on the phone and uploads them instead of the recording.
      async up(db: Kysely<any>) {
        await db.schema.createTable('speech_features')
          .addColumn('report_id', 'text', (c) => c.primaryKey().references('reports.id'))
          .addColumn('study_id', 'text', (c) => c.notNull())
          .addColumn('participant_id', 'text', (c) => c.notNull())
          .addColumn('features', 'text', (c) => c.notNull())
          .addColumn('created_ms', big, (c) => c.notNull())
          .execute();
        await db.schema.createIndex('speech_features_participant').on('speech_features').column('participant_id').execute();
      },
    },
    '0010_web_push': {
      // Web front end (docs/web.md): Web Push reminders — the server's VAPID key pair, the
      // participants' push subscriptions, one row per (participant, prompt) reminder claimed (so
      // a reminder goes out once, across restarts) — and speech the app could not deliver.
      async up(db: Kysely<any>) {
        await db.schema.createTable('web_push_keys')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('public_key', 'text', (c) => c.notNull())
          .addColumn('private_key', 'text', (c) => c.notNull())
          .addColumn('subject', 'text', (c) => c.notNull())
          .addColumn('created_ms', big, (c) => c.notNull())
          .execute();
        await db.schema.createTable('web_push_subscriptions')
          .addColumn('endpoint', 'text', (c) => c.primaryKey())
          .addColumn('participant_id', 'text', (c) => c.notNull())
          .addColumn('study_id', 'text', (c) => c.notNull())
          .addColumn('p256dh', 'text', (c) => c.notNull())
          .addColumn('auth', 'text', (c) => c.notNull())
          .addColumn('created_ms', big, (c) => c.notNull())
          .addColumn('last_ok_ms', big)
          .addColumn('failures', 'integer', (c) => c.notNull().defaultTo(0))
          .execute();
        await db.schema.createIndex('web_push_subscriptions_participant').on('web_push_subscriptions').column('participant_id').execute();
        await db.schema.createTable('web_push_sent')
          .addColumn('participant_id', 'text', (c) => c.notNull())
          .addColumn('prompt_ms', big, (c) => c.notNull())
          .addColumn('claimed_ms', big, (c) => c.notNull())
          .addColumn('delivered', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('detail', 'text')
          .addPrimaryKeyConstraint('web_push_sent_pk', ['participant_id', 'prompt_ms'])
          .execute();
        await db.schema.createTable('web_speech_failures')
          .addColumn('report_id', 'text', (c) => c.primaryKey())
          .addColumn('study_id', 'text', (c) => c.notNull())
          .addColumn('participant_id', 'text', (c) => c.notNull())
          .addColumn('reason', 'text', (c) => c.notNull())
          .addColumn('detail', 'text')
          .addColumn('created_ms', big, (c) => c.notNull())
          .execute();
        await db.schema.createIndex('web_speech_failures_participant').on('web_speech_failures').column('participant_id').execute();
      },
    },
    '0003_server_password_resets': {
      // Admin-issued password resets: one-time tokens (only their sha256 is stored), expiring.
      async up(db: Kysely<any>) {
        await db.schema.createTable('password_resets')
          .addColumn('token_hash', 'text', (c) => c.primaryKey())
          .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
          .addColumn('created_by', 'text', (c) => c.notNull())
          .addColumn('created_ms', big, (c) => c.notNull())
          .addColumn('expires_ms', big, (c) => c.notNull())
          .addColumn('used_ms', big)
          .execute();
        await db.schema.createIndex('password_resets_user').on('password_resets').column('user_id').execute();
      },
    },
    '0004_server_export_jobs': {
      // Exports run as background jobs with progress; predictions record which inputs they used.
      async up(db: Kysely<any>) {
        await db.schema.createTable('export_jobs')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('study_id', 'text', (c) => c.notNull().references('studies.id').onDelete('cascade'))
          .addColumn('user_id', 'text', (c) => c.notNull())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('phase', 'text', (c) => c.notNull())
          .addColumn('done', big, (c) => c.notNull())
          .addColumn('total', big, (c) => c.notNull())
          .addColumn('summary', 'text')
          .addColumn('error', 'text')
          .addColumn('created_ms', big, (c) => c.notNull())
          .addColumn('started_ms', big)
          .addColumn('finished_ms', big)
          .execute();
        await db.schema.createIndex('export_jobs_study').on('export_jobs').columns(['study_id', 'created_ms']).execute();
        await db.schema.alterTable('predictions').addColumn('inputs', 'text').execute();
      },
    },
    '0005_server_speech_source': {
      // Speech features computed on the server from uploaded audio are marked as such.
      async up(db: Kysely<any>) {
        await db.schema.alterTable('speech_features').addColumn('source', 'text', (c) => c.notNull().defaultTo('app')).execute();
      },
    },
    '0006_server_export_retention': {
      // Exports hold personal data: a researcher deletes one, or the server removes them after a
      // retention period; the job row stays (status "deleted") as the record of what existed.
      async up(db: Kysely<any>) {
        await db.schema.alterTable('export_jobs').addColumn('deleted_ms', big).execute();
        await db.schema.alterTable('export_jobs').addColumn('deleted_by', 'text').execute();
      },
    },
    '0007_server_audit_chain': {
      // Tamper-evident audit log: each row carries sha256(previous row's hash, this row), set in
      // the transaction that wrote it (audit-chain.ts); rows from before are sealed at start.
      async up(db: Kysely<any>) {
        await db.schema.alterTable('audit').addColumn('hash', 'text').execute();
      },
    },
    '0030_crypt_meta': {
      // Encryption at rest (data-key.ts): the data key's canary, a key rotation in progress, and
      // whether what an older version stored in plaintext has been sealed.
      async up(db: Kysely<any>) {
        await db.schema.createTable('crypto_meta')
          .addColumn('name', 'text', (c) => c.primaryKey())
          .addColumn('value', 'text', (c) => c.notNull())
          .addColumn('updated_ms', big, (c) => c.notNull())
          .execute();
      },
    },
    '0040_roles_accounts': {
      // Roles and sign-in (docs/security.md "Roles and sign-in"): accounts can be disabled, the
      // study remembers its creator (a co-owner cannot demote or remove it), and failed sign-ins
      // are counted per account name for the lockout.
      async up(db: Kysely<any>) {
        await db.schema.alterTable('users').addColumn('disabled_ms', big).execute();
        await db.schema.alterTable('studies').addColumn('created_by', 'text').execute();
        // Before 0040 the creator was not recorded: a study with exactly one owner was created by it.
        await sql`update studies set created_by = (select m.user_id from study_members m where m.study_id = studies.id and m.role = 'owner')
          where (select count(*) from study_members m where m.study_id = studies.id and m.role = 'owner') = 1`.execute(db);
        await db.schema.createTable('login_failures')
          .addColumn('email_hash', 'text', (c) => c.primaryKey())
          .addColumn('failures', 'integer', (c) => c.notNull())
          .addColumn('last_ms', big, (c) => c.notNull())
          .addColumn('locked_until_ms', big, (c) => c.notNull())
          .execute();
      },
    },
    '0050_first_hour_consent': {
      // The participant app's consent screen and greeting (docs/web.md): when the participant
      // accepted the study's consent text (and its sha256, so an edited text is told apart), and
      // the name the app greets them with (sealed at rest like the covariates).
      async up(db: Kysely<any>) {
        await db.schema.alterTable('participants').addColumn('consented_ms', big).execute();
        await db.schema.alterTable('participants').addColumn('consent_sha256', 'text').execute();
        await db.schema.alterTable('participants').addColumn('display_name', 'text').execute();
      },
    },
    '0060_scale_predictions_report': {
      // Follow-up jobs are idempotent per report (jobs/queue.ts): each asks whether its report is
      // already predicted before it predicts, so predictions are found by report.
      async up(db: Kysely<any>) {
        await db.schema.createIndex('predictions_report').on('predictions').column('report_id').execute();
      },
    },
    '0060_scale_rate_limits': {
      // Rate limits shared by every instance on one PostgreSQL database (http/rate-limit-store.ts);
      // SQLite is one process and counts in memory, but has the (empty) table too.
      async up(db: Kysely<any>) {
        await db.schema.createTable('rate_limits')
          .addColumn('key', 'text', (c) => c.primaryKey())
          .addColumn('count', 'integer', (c) => c.notNull())
          .addColumn('reset_ms', big, (c) => c.notNull())
          .execute();
      },
    },
    '0070_design_instruments': {
      // Study design (docs/study-design.md): which instrument and scheduled prompt a report
      // answers, its scores and severity band, its text answers (sealed at rest like notes), and
      // each participant's own wake and bed times for the schedule.
      async up(db: Kysely<any>) {
        await db.schema.alterTable('reports').addColumn('instrument', 'text').execute();
        await db.schema.alterTable('reports').addColumn('prompt_id', 'text').execute();
        await db.schema.alterTable('reports').addColumn('scores', 'text').execute();
        await db.schema.alterTable('reports').addColumn('band', 'text').execute();
        await db.schema.alterTable('reports').addColumn('texts', 'text').execute();
        await db.schema.createIndex('reports_participant_prompt').on('reports').columns(['participant_id', 'prompt_id']).execute();
        await db.schema.alterTable('participants').addColumn('schedule_overrides', 'text').execute();
      },
    },
    '0080_notify_prompt_log': {
      // Study design (docs/study-design.md): the prompt log's events beyond the schedule (push
      // sent, app opened), each study's notification channels, and
      // the threshold notifications with one delivery row per channel (claimed before sending,
      // retried with backoff).
      async up(db: Kysely<any>) {
        await db.schema.createTable('prompt_log')
          .addColumn('participant_id', 'text', (c) => c.notNull())
          .addColumn('prompt_id', 'text', (c) => c.notNull())
          .addColumn('study_id', 'text', (c) => c.notNull())
          .addColumn('prompt_ms', big, (c) => c.notNull())
          .addColumn('prompt_time', 'text', (c) => c.notNull())
          .addColumn('sent_ms', big)
          .addColumn('opened_ms', big)
          .addPrimaryKeyConstraint('prompt_log_pk', ['participant_id', 'prompt_id'])
          .execute();
        await db.schema.createIndex('prompt_log_study').on('prompt_log').columns(['study_id', 'prompt_ms']).execute();
        await db.schema.createTable('notify_settings')
          .addColumn('study_id', 'text', (c) => c.primaryKey().references('studies.id').onDelete('cascade'))
          .addColumn('webhook_url', 'text')
          .addColumn('webhook_secret', 'text')
          .addColumn('email', 'integer', (c) => c.notNull().defaultTo(1))
          .addColumn('updated_ms', big, (c) => c.notNull())
          .addColumn('updated_by', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createTable('notifications')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('study_id', 'text', (c) => c.notNull())
          .addColumn('participant_id', 'text', (c) => c.notNull())
          .addColumn('rule_id', 'text', (c) => c.notNull())
          .addColumn('source_key', 'text', (c) => c.notNull())
          .addColumn('created_ms', big, (c) => c.notNull())
          .addColumn('acknowledged_ms', big)
          .addColumn('acknowledged_by', 'text')
          .addUniqueConstraint('notifications_key', ['study_id', 'rule_id', 'source_key'])
          .execute();
        await db.schema.createIndex('notifications_study').on('notifications').columns(['study_id', 'created_ms']).execute();
        await db.schema.createTable('notification_deliveries')
          .addColumn('notification_id', 'text', (c) => c.notNull().references('notifications.id').onDelete('cascade'))
          .addColumn('channel', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('next_ms', big, (c) => c.notNull())
          .addColumn('sent_ms', big)
          .addColumn('last_error', 'text')
          .addPrimaryKeyConstraint('notification_deliveries_pk', ['notification_id', 'channel'])
          .execute();
        await db.schema.createIndex('notification_deliveries_due').on('notification_deliveries').columns(['status', 'next_ms']).execute();
      },
    },
    '0090_polish_notify_cooldown': {
      // A rule's cooldown (study.json notifications[].cooldownHours): a match within it is a
      // notification row pointing at the open one it is folded into, with no deliveries.
      async up(db) {
        await db.schema.alterTable('notifications').addColumn('cooldown_of', 'text').execute();
        await db.schema.createIndex('notifications_open_rule').on('notifications').columns(['study_id', 'participant_id', 'rule_id', 'created_ms']).execute();
      },
    },
  };
}

/** Bring the database to the newest schema; throws with the failing migration's name. */
export async function migrateToLatest(db: Kysely<any>, kind: DbKind): Promise<void> {
  // 0010_web_push was added before 0003…0007, so a database may have applied a higher number
  // before a lower one: allow that order.
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations(kind) }, allowUnorderedMigrations: true });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}
