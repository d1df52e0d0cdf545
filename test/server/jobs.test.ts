/**
 * The server's background jobs are enqueued with the write that causes them (jobs/queue.ts): on
 * PostgreSQL the pg-boss job row is inserted in the report's own (group-committed) transaction,
 * so a report whose transaction rolls back leaves no job behind, and its neighbours in the same
 * commit group keep theirs; in process (SQLite) a job is queued only after its write committed.
 * A job delivered twice has one effect (one prediction per report). An export whose job pg-boss
 * no longer has is marked failed at start, not left "running".
 */
import { describe, it, expect } from 'vitest';
import { BACKENDS, reportBody, setupStudy, startHarness, type Harness } from './helpers.js';
import { keyId } from '../../src/queue/engine.js';
import { newId } from '../../src/server/storage/ids.js';
import type { Report } from '../../src/server/storage/store.js';

for (const b of BACKENDS) {
  describe.skipIf(b.skip)(`server jobs on ${b.name}`, () => {
    it('a report whose transaction rolls back leaves no job; its commit-group neighbours keep theirs; a repeated job predicts once', async () => {
      const h: Harness = await startHarness(b.name);
      try {
        const s = await setupStudy(h, { name: 'jobs', timezone: 'UTC' });
        expect((await h.req('PUT', `/studies/${s.studyId}/model`, { token: s.researcher, body: { model: 'builtin:baseline' } })).status).toBe(200);
        const tok = await s.enrol('J1');
        // One report through the API, so the participant row is there with its id.
        expect((await h.req('POST', '/me/reports', { token: tok, body: reportBody('first', new Date(Date.now() - 3600_000).toISOString()) })).status).toBe(201);
        await h.server.monitor.idle();
        const db = h.server.store.db;
        const participant = await db.selectFrom('participants').select(['id', 'study_id']).where('label', '=', 'J1').executeTakeFirstOrThrow();
        const row = (i: number): Report => ({
          id: newId('r_'), study_id: participant.study_id, participant_id: participant.id, client_id: `c${i}`, time: new Date(Date.now() - i * 60_000).toISOString(),
          time_ms: Date.now() - i * 60_000, server_ms: Date.now(), trigger: 'scheduled', answers: { happy: 40 + i }, item_order: ['happy'], prompt_time: null, late: false,
        });
        const jobs = h.server.jobs;
        const completedBefore = (await jobs.engine.stats()).find((k) => k.kind === 'report-follow-up')?.completed ?? 0;

        // Five writes in one commit group: the third enqueues its job, then fails. The group rolls
        // back and each write is retried alone (storage/group-commit.ts): four commit with their job,
        // the failing one leaves neither a report nor a job.
        const rows = [0, 1, 2, 3, 4].map((i) => row(i + 1));
        const results = await Promise.allSettled(rows.map((r, i) => {
          const batch = jobs.batch();
          return h.server.store.insertReport(r, async (trx) => {
            await batch.add(trx, 'report-follow-up', { reportId: r.id });
            if (i === 2) throw new Error('rolled back after its job was enqueued');
          }).then((x) => { batch.committed(); return x; });
        }));
        expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
        expect(await db.selectFrom('reports').select('id').where('id', '=', rows[2].id).executeTakeFirst()).toBeUndefined();
        await h.server.monitor.idle();

        if (b.name === 'postgres') {
          // The job rows themselves: one per committed report (its id is keyed by the report), none for the rolled-back one.
          const ids = (r: Report) => keyId('report-follow-up', r.id);
          const { sql } = await import('kysely');
          const found = (await sql<{ id: string }>`select id from pgboss.job where name = 'report-follow-up' and id = any(${rows.map(ids)}::uuid[])`.execute(db)).rows.map((r) => r.id);
          expect(found.sort()).toEqual([0, 1, 3, 4].map((i) => ids(rows[i])).sort());
        }
        // Each committed report's job ran: predicted once; the rolled-back one ran nothing.
        const completed = (await jobs.engine.stats()).find((k) => k.kind === 'report-follow-up')!.completed;
        expect(completed - completedBefore).toBe(4);
        const preds = await db.selectFrom('predictions').select('report_id').where('participant_id', '=', participant.id).execute();
        for (const i of [0, 1, 3, 4]) expect(preds.filter((p) => p.report_id === rows[i].id)).toHaveLength(1);

        // At-least-once delivery: the same follow-up run again by hand stores no second prediction.
        await h.server.monitor.followUp(rows[0].id, false);
        expect((await db.selectFrom('predictions').select('id').where('report_id', '=', rows[0].id).execute())).toHaveLength(1);

        if (b.name === 'postgres') {
          // An export left "running" whose job pg-boss no longer has (failed for good, or from before the queue) is
          // marked failed at start, so it can be deleted and started again; one with its job is left to finish.
          const info = await h.server.ctx.studyInfo(participant.study_id);
          const orphan = { ...(await h.server.exportJobs.start(info, 'u_test', 'orphan')), id: newId('x_'), status: 'running' as const };
          await h.server.store.createExportJob(orphan);
          await h.server.exportJobs.startUp();
          const row = await h.server.store.exportJobById(orphan.id);
          expect(row?.status).toBe('failed');
          expect(row?.error).toMatch(/failed in every run/);
          await h.server.exportJobs.idle();
          expect((await db.selectFrom('export_jobs').select('status').where('name', '=', 'orphan').where('id', '!=', orphan.id).executeTakeFirstOrThrow()).status).toBe('done');
        }
      } finally {
        await h.close();
      }
    }, 60_000);
  });
}
