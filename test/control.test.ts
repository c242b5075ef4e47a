// Operating a running job: the cap by signal and update, bad values, pause/resume, the Temporal CLI, cancellation.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type Client, WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { findTemporalCli } from '../src/client/dev-server';
import { getProgress, startJob } from '../src/client/jobs';
import { listOutcomes } from '../src/client/outcomes';
import { pauseSignal, resumeSignal, setMaxParallelismSignal, setMaxParallelismUpdate, WORKFLOW_TYPE } from '../src/common/messages';
import { type JobSpec, specProblems } from '../src/common/spec';
import type { LimitedApi } from '../src/demo/limited-api';
import { testWorker, uniqueId, useClientAndApi, waitFor } from './support/temporal';

const run = promisify(execFile);
let client: Client;
let api: LimitedApi;

useClientAndApi((c, a) => {
  client = c;
  api = a;
});
beforeEach(() => {
  api.configure({ latencyMs: 0, ratePerSecond: undefined, maxConcurrent: undefined, failKeys: [], rejectKeys: [] });
});

const temporal = (...args: string[]) => run(findTemporalCli() as string, [...args, '--address', process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233'], { maxBuffer: 64 << 20 });

/** A job of slow requests: each chunk is live long enough to watch the cap at work. */
const slowJob = (items: number, cap: number): JobSpec => ({
  source: { type: 'range', start: 0, end: items },
  target: { type: 'http', url: `${api.url}/items/{{key}}` },
  chunkSize: 10,
  maxParallelism: cap,
});

test('lowering the cap 8 -> 3 by signal: once in-flight chunks finish the server never sees more than 3; raising it starts chunks at once', async () => {
  api.configure({ latencyMs: 25 });
  const { worker, taskQueue } = await testWorker();
  await worker.runUntil(async () => {
    const handle = await startJob(client, slowJob(3000, 8), { taskQueue, jobId: uniqueId('cap') });
    await waitFor('8 requests in flight', () => (api.stats().inFlight === 8 ? true : undefined));

    await handle.signal(setMaxParallelismSignal, 3);
    await waitFor('in-flight chunks to drop to 3', async () => ((await getProgress(client, handle.workflowId)).chunks.inFlight <= 3 ? true : undefined), 30_000, 20);
    const loweredAt = Date.now();
    await new Promise((r) => setTimeout(r, 2000));
    expect(api.maxInFlightSince(loweredAt)).toBeLessThanOrEqual(3);
    expect(api.maxInFlightSince(loweredAt)).toBe(3); // still working at the new cap

    const raisedAt = Date.now();
    await handle.signal(setMaxParallelismSignal, 8);
    await waitFor('more than 3 requests in flight', () => (api.stats().inFlight > 3 ? true : undefined), 5000, 5);
    const startLatencyMs = Date.now() - raisedAt;
    console.log(`cap raised 3 -> 8: new chunks reached the server after ${startLatencyMs} ms`);
    expect(startLatencyMs).toBeLessThan(1000);
    expect(api.stats().maxInFlight).toBeLessThanOrEqual(8);

    const summary = await handle.result();
    expect(summary).toMatchObject({ ok: 3000, failed: 0 });
  });
});

test('the update rejects 0, -1, 2.5 and "x" with the value named; a bad signal is ignored and the job goes on', async () => {
  api.configure({ latencyMs: 20 });
  const { worker, taskQueue } = await testWorker();
  await worker.runUntil(async () => {
    const handle = await startJob(client, slowJob(400, 2), { taskQueue, jobId: uniqueId('bad-cap') });
    for (const bad of [0, -1, 2.5, 'x'] as unknown[]) {
      const rejected = handle.executeUpdate(setMaxParallelismUpdate, { args: [bad as number] });
      await expect(rejected).rejects.toThrow(WorkflowUpdateFailedError);
      await expect(rejected).rejects.toMatchObject({ cause: { message: `maxParallelism: expected a whole number from 1 to 10000, got ${JSON.stringify(bad)}` } });
      await handle.signal(setMaxParallelismSignal, bad as number);
    }
    expect((await getProgress(client, handle.workflowId)).cap).toBe(2);
    const change = await handle.executeUpdate(setMaxParallelismUpdate, { args: [5] });
    expect(change).toMatchObject({ previous: 2, current: 5 });
    expect(await handle.result()).toMatchObject({ ok: 400, failed: 0 });
    expect(api.stats().maxInFlight).toBeLessThanOrEqual(5);
  });
});

test('pause lets in-flight chunks finish and starts none until resume', async () => {
  api.configure({ latencyMs: 10 });
  const { worker, taskQueue } = await testWorker();
  await worker.runUntil(async () => {
    const handle = await startJob(client, slowJob(600, 3), { taskQueue, jobId: uniqueId('pause') });
    await waitFor('requests flowing', () => (api.stats().accepted > 20 ? true : undefined));
    await handle.signal(pauseSignal);
    await waitFor('paused with nothing in flight', async () => {
      const p = await getProgress(client, handle.workflowId);
      return p.state === 'paused' && p.chunks.inFlight === 0 ? p : undefined;
    });
    const seen = api.stats().accepted;
    await new Promise((r) => setTimeout(r, 1000));
    expect(api.stats().accepted).toBe(seen);
    expect(seen).toBeLessThan(600);
    await handle.signal(resumeSignal);
    expect(await handle.result()).toMatchObject({ ok: 600, failed: 0 });
  });
});

test('from the Temporal CLI: the same spec starts, the signal changes the cap, and a bad spec fails non-retryably with the same message', async () => {
  api.configure({ latencyMs: 20 });
  const { worker, taskQueue } = await testWorker();
  const dir = tmpdir();
  await worker.runUntil(async () => {
    const good = join(dir, `${uniqueId('job')}.json`);
    writeFileSync(good, JSON.stringify(slowJob(300, 1)));
    const jobId = uniqueId('cli');
    await temporal('workflow', 'start', '--type', WORKFLOW_TYPE, '--task-queue', taskQueue, '--workflow-id', jobId, '--input-file', good);
    await temporal('workflow', 'signal', '--workflow-id', jobId, '--name', 'setMaxParallelism', '--input', '4');
    await waitFor('cap 4', async () => ((await getProgress(client, jobId)).cap === 4 ? true : undefined));
    expect(await client.workflow.getHandle(jobId).result()).toMatchObject({ ok: 300 });

    const badSpec = { source: { type: 'range', start: 0, end: 10 }, target: { type: 'http', url: 'nope' }, maxParallelism: 0 };
    const bad = join(dir, `${uniqueId('bad')}.json`);
    writeFileSync(bad, JSON.stringify(badSpec));
    const badId = uniqueId('cli-bad');
    await temporal('workflow', 'start', '--type', WORKFLOW_TYPE, '--task-queue', taskQueue, '--workflow-id', badId, '--input-file', bad);
    const failure = await client.workflow.getHandle(badId).result().then(() => undefined, (e: unknown) => e);
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    const cause = (failure as WorkflowFailedError).cause as ApplicationFailure;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect(cause.nonRetryable).toBe(true);
    expect(cause.type).toBe('InvalidJobSpec');
    expect(cause.message).toBe(`invalid job spec: ${specProblems(badSpec).join('; ')}`);
    expect(cause.message).toContain('target.url: expected an http:// or https:// URL, got "nope"');
    expect(cause.message).toContain('maxParallelism: expected a whole number from 1 to 10000, got 0');
  });
});

test('cancelling the job cancels in-flight requests', async () => {
  api.configure({ latencyMs: 20_000 });
  const { worker, taskQueue } = await testWorker();
  await worker.runUntil(async () => {
    const handle = await startJob(client, { ...slowJob(100, 4), timeouts: { heartbeat: '2s' } }, { taskQueue, jobId: uniqueId('cancel') });
    await waitFor('4 requests in flight', () => (api.stats().inFlight === 4 ? true : undefined));
    await handle.cancel();
    await waitFor('the server to see 4 aborted requests', () => (api.stats().aborted === 4 ? true : undefined), 10_000);
    await expect(handle.result()).rejects.toThrow(WorkflowFailedError);
    expect(await listOutcomes(client, handle.workflowId)).toEqual([]); // nothing finished, nothing recorded
  });
});

test('a job whose target starts rejecting everything pauses itself, says why, sends nothing more, and loses nothing', async () => {
  const items = 2000;
  const chunkSize = 50;
  const cap = 4;
  api.configure({ latencyMs: 2, rejectKeys: Array.from({ length: items - 500 }, (_, i) => String(500 + i)) });
  const { worker, taskQueue } = await testWorker();
  await worker.runUntil(async () => {
    const handle = await startJob(client, {
      source: { type: 'range', start: 0, end: items },
      target: { type: 'http', method: 'POST', url: `${api.url}/items/{{key}}` },
      chunkSize,
      maxParallelism: cap,
      retry: { maxAttempts: 1, toleratedFailurePercent: 10 },
    }, { taskQueue, jobId: uniqueId('tolerated') });
    const paused = await waitFor('the job to pause itself with nothing in flight', async () => {
      const p = await getProgress(client, handle.workflowId);
      return p.pausedReason && p.chunks.inFlight === 0 ? p : undefined;
    });
    expect(paused.state).toBe('paused');
    expect(paused.pausedReason).toMatch(/^\d+ of \d+ items failed \([\d.]+%\), above retry\.toleratedFailurePercent 10; latest: key \d+: HTTP 422: .*\. Fix the cause, then resume$/);
    // Paused at the first chunk result past 10%: two rejected chunks at most, plus what was in flight then.
    expect(paused.failed).toBeLessThanOrEqual(chunkSize * (2 + cap - 1));
    const sent = () => api.stats().accepted + api.stats().failed;
    const sentWhenPaused = sent();
    expect(sentWhenPaused).toBe(paused.ok + paused.failed);
    await new Promise((r) => setTimeout(r, 1000));
    expect(sent()).toBe(sentWhenPaused);

    api.configure({ rejectKeys: [] }); // the cause is fixed
    await handle.signal(resumeSignal);
    expect(await handle.result()).toMatchObject({ total: items, failed: paused.failed, ok: items - paused.failed });
    const outcomes = await listOutcomes(client, handle.workflowId);
    expect(outcomes.map((o) => o.key)).toEqual(Array.from({ length: items }, (_, i) => i));
    expect(outcomes.filter((o) => !o.ok).every((o) => (o.key as number) >= 500 && o.status === 422)).toBe(true);
  });
});
