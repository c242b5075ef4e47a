// HTTP backfills end to end: a real dev server, a real worker, a real rate-limited API on loopback.
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import type { LimitedApi } from '../src/demo/limited-api';
import { retryFailed, startJob, type JobSummary } from '../src/client/jobs';
import { listOutcomes } from '../src/client/outcomes';
import type { JobSpec } from '../src/common/spec';
import type { ItemOutcome } from '../src/common/types';
import { testWorker, uniqueId, useClientAndApi, waitFor } from './support/temporal';

let client: Client;
let api: LimitedApi;

useClientAndApi((c, a) => {
  client = c;
  api = a;
});


function expectOneLinePerKey(outcomes: ItemOutcome[], keys: number[]): void {
  expect(outcomes.map((o) => o.key).sort((a, b) => Number(a) - Number(b))).toEqual(keys);
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

async function runJob(worker: Worker, taskQueue: string, spec: JobSpec): Promise<{ jobId: string; summary: JobSummary }> {
  return worker.runUntil(async () => {
    const handle = await startJob(client, spec, { taskQueue, jobId: uniqueId('http') });
    return { jobId: handle.workflowId, summary: (await handle.result()) as JobSummary };
  });
}

test('2,000 items at cap 8 stay inside the rate and the concurrency, with every item ok', async () => {
  const allowed = 400;
  api.configure({ ratePerSecond: allowed, burst: 16, maxConcurrent: 8, latencyMs: 2 });
  const { worker, taskQueue } = await testWorker();
  const { jobId, summary } = await runJob(worker, taskQueue, {
    source: { type: 'range', start: 0, end: 2000 },
    target: { type: 'http', method: 'PUT', url: `${api.url}/items/{{key}}`, body: { id: '{{key}}' } },
    chunkSize: 125, // 16 chunks: two full rounds of 8, so no round runs half empty
    maxParallelism: 8,
    pacing: { requestsPerSecond: allowed / 8 },
  });
  const stats = api.stats();
  expect(summary).toMatchObject({ ok: 2000, failed: 0, total: 2000 });
  expect(stats.maxInFlight).toBeLessThanOrEqual(8);
  expect(stats.throttled).toBe(0);
  expect(stats.accepted).toBe(2000);
  expect(Object.keys(stats.perKey)).toHaveLength(2000);
  expect(stats.acceptedPerSecond).toBeGreaterThanOrEqual(0.9 * allowed);
  const outcomes = await listOutcomes(client, jobId);
  expectOneLinePerKey(outcomes, range(2000));
  expect(outcomes.every((o) => o.ok && o.status === 200 && o.attempts === 1)).toBe(true);
  console.log(`achieved ${stats.acceptedPerSecond.toFixed(1)} req/s of ${allowed} allowed (${((100 * stats.acceptedPerSecond) / allowed).toFixed(1)}%), max in flight ${stats.maxInFlight}`);
});

test('keys that always fail end failed with status and attempts; retry sends only those keys', async () => {
  const failing = ['7', '42', '199'];
  api.configure({ ratePerSecond: undefined, maxConcurrent: undefined, latencyMs: 0, failKeys: failing, rejectKeys: ['100'] });
  const { worker, taskQueue } = await testWorker();
  const spec: JobSpec = {
    source: { type: 'range', start: 0, end: 300 },
    target: { type: 'http', method: 'POST', url: `${api.url}/items/{{key}}` },
    chunkSize: 25,
    maxParallelism: 4,
    retry: { maxAttempts: 3, initialInterval: '10ms', maxInterval: '50ms' },
  };
  const { jobId, summary } = await runJob(worker, taskQueue, spec);
  expect(summary).toMatchObject({ ok: 296, failed: 4 });
  const outcomes = await listOutcomes(client, jobId);
  expectOneLinePerKey(outcomes, range(300));
  const failed = outcomes.filter((o) => !o.ok);
  expect(failed.map((o) => String(o.key)).sort()).toEqual(['100', '199', '42', '7']);
  for (const f of failed.filter((o) => failing.includes(String(o.key)))) expect(f).toMatchObject({ status: 500, attempts: 3, errorClass: 'retryable' });
  expect(failed.find((o) => o.key === 100)).toMatchObject({ status: 422, attempts: 1, errorClass: 'permanent' });
  expect(api.stats().perKey['42']).toBe(3);

  api.reset();
  api.configure({ failKeys: [], rejectKeys: [] });
  const second = await testWorker();
  const retried = await second.worker.runUntil(async () => {
    const handle = await retryFailed(client, jobId, { taskQueue: second.taskQueue, jobId: uniqueId('retry') });
    if (!handle) throw new Error('expected a retry job');
    return (await handle.result()) as JobSummary;
  });
  expect(retried).toMatchObject({ ok: 4, failed: 0 });
  expect(Object.keys(api.stats().perKey).sort()).toEqual(['100', '199', '42', '7']);
  expect(api.stats().accepted).toBe(4);
});

test('an unpaced job against a rate-limited API backs off on 429 as Retry-After says, and every item lands', async () => {
  api.configure({ ratePerSecond: 40, burst: 4, maxConcurrent: undefined, latencyMs: 0, failKeys: [], rejectKeys: [] });
  const { worker, taskQueue } = await testWorker();
  const started = Date.now();
  const { jobId, summary } = await runJob(worker, taskQueue, {
    source: { type: 'range', start: 0, end: 40 },
    target: { type: 'http', method: 'POST', url: `${api.url}/items/{{key}}` },
    chunkSize: 20,
    maxParallelism: 2,
    retry: { maxAttempts: 5, initialInterval: '1ms' },
  });
  expect(summary).toMatchObject({ ok: 40, failed: 0 });
  const stats = api.stats();
  expect(stats.throttled).toBeGreaterThan(0);
  expect(stats.accepted).toBe(40);
  const retried = (await listOutcomes(client, jobId)).filter((o) => o.attempts > 1);
  expect(retried.length).toBeGreaterThan(0);
  expect(retried.every((o) => o.ok && o.status === 200)).toBe(true);
  // Each 429 said "Retry-After: 1": a chunk that retried waited at least a second, not the 1ms backoff.
  expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
});

test('a request that outlives target.timeout is abandoned, retried with backoff, then failed as retryable', async () => {
  api.configure({ ratePerSecond: undefined, maxConcurrent: undefined, latencyMs: 1000, failKeys: [], rejectKeys: [] });
  const { worker, taskQueue } = await testWorker();
  const { jobId, summary } = await runJob(worker, taskQueue, {
    source: { type: 'range', start: 0, end: 4 },
    target: { type: 'http', url: `${api.url}/items/{{key}}`, timeout: '100ms' },
    chunkSize: 2,
    maxParallelism: 2,
    retry: { maxAttempts: 2, initialInterval: '10ms' },
  });
  expect(summary).toMatchObject({ ok: 0, failed: 4 });
  for (const o of await listOutcomes(client, jobId)) {
    expect(o).toMatchObject({ ok: false, attempts: 2, errorClass: 'retryable', error: expect.stringContaining('UND_ERR_HEADERS_TIMEOUT') });
  }
  // 4 items x 2 attempts, each abandoned by the client: the server sees every one of them closed early.
  await waitFor('the server to see 8 aborted requests', () => (api.stats().aborted >= 8 ? true : undefined), 10_000);
  expect(api.stats().aborted).toBe(8);
});

test('an output path the worker cannot write leaves the job completed, saying how to get the manifest', async () => {
  api.configure({ ratePerSecond: undefined, maxConcurrent: undefined, latencyMs: 0, failKeys: [], rejectKeys: [] });
  const aFile = join(tmpdir(), `${uniqueId('a-file')}`);
  writeFileSync(aFile, '');
  const { worker, taskQueue } = await testWorker();
  const { jobId, summary } = await runJob(worker, taskQueue, {
    source: { type: 'range', start: 0, end: 20 },
    target: { type: 'http', url: `${api.url}/items/{{key}}` },
    maxParallelism: 2,
    output: join(aFile, 'manifest.jsonl'),
  });
  expect(summary).toMatchObject({ ok: 20, failed: 0 });
  expect(summary.output).toEqual({
    path: join(aFile, 'manifest.jsonl'),
    lines: 0,
    error: expect.stringMatching(new RegExp(`^output: cannot write .* on the worker: EEXIST.*; write it with \`sluice results ${jobId} --out FILE\`$`)),
  });
  expect(await listOutcomes(client, jobId)).toHaveLength(20);
});
