// Continue-as-new keeps each run's history small while the ledger, the cap and the plan carry over;
// the JSONL source is planned by byte offsets; `output` writes the manifest from history.
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { retryFailed, startJob, type JobSummary } from '../src/client/jobs';
import { listOutcomes } from '../src/client/outcomes';
import { setMaxParallelismSignal, WORKFLOW_TYPE } from '../src/common/messages';
import type { JobSpec } from '../src/common/spec';
import type { LimitedApi } from '../src/demo/limited-api';
import { testWorker, uniqueId, useClientAndApi, waitFor } from './support/temporal';

let client: Client;
let api: LimitedApi;

useClientAndApi((c, a) => {
  client = c;
  api = a;
});


test('a job continues-as-new every few hundred events and still records every item once', async () => {
  const maxEventsPerRun = 150;
  const output = join(tmpdir(), `${uniqueId('manifest')}.jsonl`);
  api.configure({ failKeys: ['1234'], latencyMs: 1 });
  const spec: JobSpec = {
    source: { type: 'range', start: 0, end: 2000 },
    target: { type: 'http', url: `${api.url}/items/{{key}}` },
    chunkSize: 20,
    maxParallelism: 4,
    retry: { maxAttempts: 2, initialInterval: '1ms' },
    output,
  };
  const { worker, taskQueue } = await testWorker();
  const jobId = uniqueId('can');
  const summary = await worker.runUntil(async () => {
    const handle = await client.workflow.start(WORKFLOW_TYPE, { args: [spec, { maxEventsPerRun }], taskQueue, workflowId: jobId });
    await waitFor('a second run', async () => ((await handle.describe()).runId !== handle.firstExecutionRunId ? true : undefined), 60_000);
    await handle.signal(setMaxParallelismSignal, 6); // a change made in a later run is carried too
    return (await handle.result()) as JobSummary;
  });
  expect(summary).toMatchObject({ ok: 1999, failed: 1, total: 2000, chunks: 100 });
  expect(summary.runs).toBeGreaterThan(2);

  // Every run's history stayed near the threshold (it drains in-flight chunks before continuing).
  let runId: string | undefined;
  const lengths: number[] = [];
  for (;;) {
    const events = (await client.workflow.getHandle(jobId, runId).fetchHistory()).events ?? [];
    lengths.push(events.length);
    runId = events[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId ?? undefined;
    if (!runId) break;
  }
  expect(lengths).toHaveLength(summary.runs);
  for (const n of lengths) expect(n).toBeLessThan(maxEventsPerRun + 6 * 8);

  const all = await listOutcomes(client, jobId);
  expect(all.map((o) => o.key)).toEqual(Array.from({ length: 2000 }, (_, i) => i));
  expect(all.filter((o) => !o.ok)).toEqual([expect.objectContaining({ key: 1234, ok: false, status: 500, attempts: 2 })]);
  const lines = readFileSync(output, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  expect(lines).toHaveLength(2000);
  expect(new Set(lines.map((l) => l.key)).size).toBe(2000);
  expect(lines[1234]).toMatchObject({ key: 1234, ok: false, status: 500, attempts: 2, errorClass: 'retryable' });
  expect(summary.output).toEqual({ path: output, lines: 2000 });
  expect(api.stats().accepted).toBe(1999);
});

test('a JSONL source is read by byte ranges; bad lines fail alone; a retry reads the failed items back from the file', async () => {
  const path = join(tmpdir(), `${uniqueId('items')}.jsonl`);
  const rows = Array.from({ length: 500 }, (_, i) => JSON.stringify({ id: `u${i}`, name: `user ${i}` }));
  rows.splice(100, 0, '', '{not json');
  rows.splice(300, 0, JSON.stringify({ name: 'no id' }));
  writeFileSync(path, `${rows.join('\n')}\n`);
  api.configure({ failKeys: ['u7', 'u450'] });
  const spec: JobSpec = {
    source: { type: 'jsonl', path, keyField: 'id' },
    target: { type: 'http', method: 'PUT', url: `${api.url}/users/{{key}}`, body: { name: '{{item.name}}' } },
    chunkSize: 64,
    maxParallelism: 3,
    retry: { maxAttempts: 1 },
  };
  const first = await testWorker();
  const jobId = uniqueId('jsonl');
  const summary = await first.worker.runUntil(async () => (await startJob(client, spec, { taskQueue: first.taskQueue, jobId })).result());
  expect(summary).toMatchObject({ ok: 498, failed: 4, total: 502 });
  const all = await listOutcomes(client, jobId);
  expect(all).toHaveLength(502);
  expect(all.filter((o) => o.ok).map((o) => o.key)).toEqual(Array.from({ length: 500 }, (_, i) => `u${i}`).filter((k) => k !== 'u7' && k !== 'u450'));
  const failed = all.filter((o) => !o.ok);
  expect(failed.map((o) => o.key)).toEqual(['u7', 'line 102', 'line 301', 'u450']);
  expect(failed[1]).toMatchObject({ errorClass: 'permanent', attempts: 0, error: expect.stringContaining('line 102: not JSON') });
  expect(failed[2]).toMatchObject({ error: 'line 301: field "id" is missing or not a string or number' });

  api.reset();
  api.configure({ failKeys: [] });
  const second = await testWorker();
  const retried = await second.worker.runUntil(async () => {
    const handle = await retryFailed(client, jobId, { taskQueue: second.taskQueue, jobId: uniqueId('jsonl-retry') });
    return [handle?.workflowId, await handle?.result()] as const;
  });
  // The two server failures are sent again and pass; the two unusable lines cannot be found by key and fail again.
  expect(retried[1]).toMatchObject({ ok: 2, failed: 2 });
  expect(api.stats().perKey).toEqual({ u7: 1, u450: 1 });
  const retryOutcomes = await listOutcomes(client, retried[0] as string);
  expect(retryOutcomes.map((o) => [o.key, o.ok])).toEqual([['u7', true], ['line 102', false], ['line 301', false], ['u450', true]]);
});
