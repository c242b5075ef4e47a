// What an operator sees in the Temporal Web UI: the job's summary line, live "current details", and each chunk's
// activity labelled with where it lies in the source.
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { jobSummaryLine, startJob } from '../src/client/jobs';
import type { JobSpec } from '../src/common/spec';
import type { LimitedApi } from '../src/demo/limited-api';
import { testWorker, uniqueId, useClientAndApi, waitFor } from './support/temporal';

let client: Client;
let api: LimitedApi;

useClientAndApi((c, a) => {
  client = c;
  api = a;
}, { latencyMs: 20 });

test('the job has a summary, live current details, and one labelled activity per chunk', async () => {
  const spec: JobSpec = { name: 'ui demo', source: { type: 'range', start: 0, end: 60 }, target: { type: 'http', url: `${api.url}/items/{{key}}` }, chunkSize: 20, maxParallelism: 2, pacing: { requestsPerSecond: 50 } };
  const { worker, taskQueue } = await testWorker();
  await worker.runUntil(async () => {
    const handle = await startJob(client, spec, { taskQueue, jobId: uniqueId('ui') });
    const description = await handle.describe();
    expect(await description.staticSummary()).toBe('ui demo: range -> http, cap 2 x 50/s per chunk');
    expect(jobSummaryLine(spec)).toBe('ui demo: range -> http, cap 2 x 50/s per chunk');

    const details = await waitFor('current details while running', async () => {
      const meta = await handle.query<temporal.api.sdk.v1.IWorkflowMetadata>('__temporal_workflow_metadata');
      return meta.currentDetails?.startsWith('**running**') ? meta.currentDetails : undefined;
    });
    expect(details).toMatch(/^\*\*running\*\* · \d+ \/ 60 items · 0 failed · cap 2 · [0-2] chunks in flight · [\d.]+ items\/s · run 1$/);
    await handle.result();
    const final = await handle.query<temporal.api.sdk.v1.IWorkflowMetadata>('__temporal_workflow_metadata');
    expect(final.currentDetails).toMatch(/^\*\*done\*\* · 60 \/ 60 items · 0 failed · cap 2 · 0 chunks in flight · /);

    const events = (await handle.fetchHistory()).events ?? [];
    const summaries = events
      .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'runChunk')
      .map((e) => defaultPayloadConverter.fromPayload<string>(e.userMetadata?.summary as never));
    expect(summaries).toEqual(['chunk 0 · items 0..19 · 20 items', 'chunk 1 · items 20..39 · 20 items', 'chunk 2 · items 40..59 · 20 items']);
  });
});
