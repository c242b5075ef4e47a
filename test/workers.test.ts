// Several workers, one job: the cap is the job's, not a worker's, and each worker's own registered target is used.
import type { Client } from '@temporalio/client';
import type { Target } from '../src/activities';
import { getProgress, startJob } from '../src/client/jobs';
import { listOutcomes } from '../src/client/outcomes';
import { setMaxParallelismSignal } from '../src/common/messages';
import { testClient, testWorker, uniqueId, waitFor } from './support/temporal';

let client: Client;
beforeAll(async () => {
  client = await testClient();
});
afterAll(async () => {
  await client.connection.close();
});

/** Sessions open right now across both workers, and the most ever open at once. */
const sessions = { open: 0, max: 0 };

interface TallySpec { type: 'tally'; delayMs: number }

/** A user's own target: one session per chunk, counted; each worker counts the chunks it ran. */
function tallyTarget(chunksRun: { n: number }): Target<TallySpec, { items: number }> {
  return {
    type: 'tally',
    async open() {
      sessions.open += 1;
      sessions.max = Math.max(sessions.max, sessions.open);
      chunksRun.n += 1;
      return { items: 0 };
    },
    async process(session, items, ctx) {
      await ctx.sleep(items.length * (ctx.spec.target as unknown as TallySpec).delayMs);
      session.items += items.length;
      return items.map((i) => ({ key: i.key, ok: true, attempts: 1 }));
    },
    async close() {
      sessions.open -= 1;
    },
  };
}

test('two workers share one job: in-flight chunks never exceed the job-wide cap, also after it changes', async () => {
  const taskQueue = uniqueId('two-workers');
  const a = { n: 0 };
  const b = { n: 0 };
  const first = await testWorker({ taskQueue, targets: [tallyTarget(a)], maxConcurrentChunks: 10 });
  const second = await testWorker({ taskQueue, targets: [tallyTarget(b)], maxConcurrentChunks: 10 });
  const jobId = uniqueId('two-workers');
  await first.worker.runUntil(() =>
    second.worker.runUntil(async () => {
      const handle = await startJob(client, { source: { type: 'range', start: 0, end: 1200 }, target: { type: 'tally', delayMs: 5 }, chunkSize: 20, maxParallelism: 6 }, { taskQueue, jobId });
      await waitFor('6 sessions open', () => (sessions.open === 6 ? true : undefined));
      expect(sessions.max).toBe(6); // each worker could run 10 at once: the job-wide cap holds the two to 6 together
      await handle.signal(setMaxParallelismSignal, 2);
      await waitFor('in-flight chunks down to 2', async () => ((await getProgress(client, jobId)).chunks.inFlight <= 2 ? true : undefined));
      sessions.max = sessions.open;
      expect(await handle.result()).toMatchObject({ ok: 1200, failed: 0 });
      expect(sessions.max).toBeLessThanOrEqual(2);
    }),
  );
  expect(a.n).toBeGreaterThan(0);
  expect(b.n).toBeGreaterThan(0);
  expect(a.n + b.n).toBe(60);
  expect((await listOutcomes(client, jobId)).map((o) => o.key)).toEqual(Array.from({ length: 1200 }, (_, i) => i));
});
