// A worker SIGKILLed mid-run: the job completes, the manifest has exactly one line per item, and only items
// finished after a chunk's last recorded heartbeat are sent twice.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { startJob } from '../src/client/jobs';
import { chunkResults, listOutcomes } from '../src/client/outcomes';
import { chunkOutcomes } from '../src/common/manifest';
import { startLimitedApi, type LimitedApi } from '../src/demo/limited-api';
import { testClient, uniqueId, waitFor } from './support/temporal';

const WORKER = join(__dirname, '..', 'lib', 'src', 'worker', 'main.js');
let client: Client;
let api: LimitedApi;
const workers: ChildProcess[] = [];

function spawnWorker(taskQueue: string): ChildProcess {
  const child = spawn(process.execPath, [WORKER, '--task-queue', taskQueue], { stdio: ['ignore', 'ignore', 'inherit'], env: process.env });
  workers.push(child);
  return child;
}

beforeAll(async () => {
  client = await testClient();
  api = await startLimitedApi({ latencyMs: 2 });
});
afterAll(async () => {
  for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
  await api.close();
  await client.connection.close();
});

test('a worker killed mid-run is replaced; the job completes with one outcome per item and little redone work', async () => {
  const items = 4000;
  const cap = 4;
  const perChunkRate = 100;
  const taskQueue = uniqueId('crash');
  const first = spawnWorker(taskQueue);
  const handle = await startJob(client, {
    source: { type: 'range', start: 0, end: items },
    target: { type: 'http', method: 'POST', url: `${api.url}/items/{{key}}` },
    chunkSize: 250,
    maxParallelism: cap,
    pacing: { requestsPerSecond: perChunkRate },
    timeouts: { heartbeat: '2s' },
  }, { taskQueue, jobId: uniqueId('crash') });

  await waitFor('a third of the items sent', () => (api.stats().accepted >= items / 3 ? true : undefined), 60_000, 20);
  first.kill('SIGKILL');
  await new Promise((r) => first.once('exit', r));
  const sentBeforeCrash = api.stats().accepted;
  spawnWorker(taskQueue);

  const summary = await handle.result();
  expect(summary).toMatchObject({ ok: items, failed: 0, total: items });

  // Exactly one outcome per item.
  const keys = (await listOutcomes(client, handle.workflowId)).map((o) => o.key as number);
  expect(keys.sort((a, b) => a - b)).toEqual(Array.from({ length: items }, (_, i) => i));

  // Every item reached the server; the ones sent twice all come after the resumed chunk's last heartbeat.
  const perKey = api.stats().perKey;
  expect(Object.keys(perKey)).toHaveLength(items);
  const twice = new Set(Object.entries(perKey).filter(([, n]) => n > 1).map(([k]) => Number(k)));
  const results = await chunkResults(client, handle.workflowId);
  const resumed = results.filter((r) => r.attempt > 1);
  expect(resumed.length).toBeGreaterThan(0);
  let redoneAfterHeartbeat = 0;
  for (const r of results) {
    const chunkKeys = [...chunkOutcomes(r)].map((o) => o.key as number);
    chunkKeys.forEach((key, index) => {
      if (!twice.has(key)) return;
      expect({ key, attempt: r.attempt, afterHeartbeat: index >= r.resumedAt }).toEqual({ key, attempt: expect.any(Number), afterHeartbeat: true });
      expect(r.attempt).toBeGreaterThan(1);
      redoneAfterHeartbeat += 1;
    });
  }
  expect(redoneAfterHeartbeat).toBe(twice.size);
  // A redone request carries the same Idempotency-Key as the first, so the server can drop the duplicate.
  expect(api.stats().repeatedIdempotencyKeys).toBe(twice.size);
  const resumedFrom = resumed.map((r) => `chunk ${r.chunkId} from item ${r.resumedAt}`).join(', ');
  console.log(`sent before the kill: ${sentBeforeCrash}; sent twice: ${twice.size} items (${(twice.size / (cap * perChunkRate)).toFixed(2)} s of job-wide work); resumed: ${resumedFrom}`);
  // "A few seconds of work" at most: cap x rate x 2 s.
  expect(twice.size).toBeLessThanOrEqual(cap * perChunkRate * 2);
});
