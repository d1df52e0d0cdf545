/** Child process of engine.test.ts: takes one job of kind "hang" and never finishes it (then gets kill -9). */
import { z } from 'zod';
import { PgBossEngine } from '../../src/queue/pgboss.js';
import { defineJob } from '../../src/queue/engine.js';

const [url, schema] = process.argv.slice(2);
const hang = defineJob({ name: 'hang', payload: z.object({ n: z.number() }), expireInSeconds: 600, retryLimit: 2, retryDelaySeconds: 0 });
const engine = new PgBossEngine({ connectionString: url, schema, pollingIntervalSeconds: 0.5, beatMs: 500, stallMs: 2000 });
await engine.work(hang, async (p) => {
  process.stdout.write(`took ${p.n}\n`);
  await new Promise(() => {}); // holds the job until killed
});
