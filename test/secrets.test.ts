// Secrets are referenced as ${env:NAME}, resolved on the worker, and never reach workflow history.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { type Client, WorkflowFailedError } from '@temporalio/client';
import { findTemporalCli } from '../src/client/dev-server';
import { startJob } from '../src/client/jobs';
import { listOutcomes } from '../src/client/outcomes';
import type { LimitedApi } from '../src/demo/limited-api';
import { testWorker, uniqueId, useClientAndApi } from './support/temporal';

const run = promisify(execFile);
let client: Client;
let api: LimitedApi;
const token = `sk-${uniqueId('secret')}`;

useClientAndApi((c, a) => {
  client = c;
  api = a;
}, { requireBearer: token });

/** `temporal workflow show --output json`: the history as an operator sees it. */
const showHistory = (jobId: string) =>
  run(findTemporalCli() as string, ['workflow', 'show', '--workflow-id', jobId, '--output', 'json', '--address', process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233'], { maxBuffer: 64 << 20 });

const spec = (envName: string) => ({
  source: { type: 'range', start: 0, end: 50 },
  target: { type: 'http', method: 'POST', url: `${api.url}/items/{{key}}`, headers: { Authorization: `Bearer \${env:${envName}}` } },
  chunkSize: 10,
  maxParallelism: 2,
});

test('a token passed by env reference is sent by the worker and appears nowhere in the history', async () => {
  const { worker, taskQueue } = await testWorker({ env: { ...process.env, SLUICE_TEST_API_TOKEN: token } });
  const jobId = uniqueId('secret');
  await worker.runUntil(async () => {
    const handle = await startJob(client, spec('SLUICE_TEST_API_TOKEN'), { taskQueue, jobId });
    expect(await handle.result()).toMatchObject({ ok: 50, failed: 0 });
  });
  expect(api.stats().accepted).toBe(50); // the server only accepts the right token
  const { stdout } = await showHistory(jobId);
  const decoded = decodePayloads(JSON.parse(stdout));
  expect(decoded).toContain('SLUICE_TEST_API_TOKEN'); // the reference is there, so the decoding works
  expect(decoded).toContain('"ok":50');
  expect(`${stdout}\n${decoded}`).not.toContain(token);
});

/** The history as text with every payload's base64 `data` decoded, so a secret cannot hide in the encoding. */
function decodePayloads(node: unknown): string {
  if (Array.isArray(node)) return node.map(decodePayloads).join('\n');
  if (node && typeof node === 'object') {
    return Object.entries(node)
      .map(([k, v]) => (k === 'data' && typeof v === 'string' ? Buffer.from(v, 'base64').toString('utf8') : decodePayloads(v)))
      .join('\n');
  }
  return String(node);
}

test('a server that echoes a wrong token back: the failure is recorded with the token redacted', async () => {
  const wrong = `sk-${uniqueId('wrong')}`;
  const { worker, taskQueue } = await testWorker({ env: { ...process.env, SLUICE_TEST_API_TOKEN: wrong } });
  const jobId = uniqueId('echo');
  api.reset();
  await worker.runUntil(async () => {
    const handle = await startJob(client, spec('SLUICE_TEST_API_TOKEN'), { taskQueue, jobId });
    expect(await handle.result()).toMatchObject({ ok: 0, failed: 50 });
  });
  const outcomes = await listOutcomes(client, jobId);
  expect(outcomes).toHaveLength(50);
  for (const o of outcomes) expect(o).toMatchObject({ ok: false, status: 401, errorClass: 'permanent', error: 'HTTP 401: {"error":"wrong bearer token: Bearer ***"}' });
  const decoded = decodePayloads(JSON.parse((await showHistory(jobId)).stdout));
  expect(decoded).toContain('wrong bearer token: Bearer ***');
  expect(decoded).not.toContain(wrong);
});

test('a missing variable fails the job before any chunk runs, naming it', async () => {
  const { worker, taskQueue } = await testWorker({ env: {} });
  api.reset();
  await worker.runUntil(async () => {
    const handle = await startJob(client, spec('SLUICE_TEST_UNSET_TOKEN'), { taskQueue, jobId: uniqueId('no-secret') });
    const failure = await handle.result().then(() => undefined, (e: unknown) => e);
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect((failure as WorkflowFailedError).cause?.message).toBe('environment variable SLUICE_TEST_UNSET_TOKEN is referenced by the spec but not set on the worker');
  });
  expect(api.stats().accepted + api.stats().failed).toBe(0);
});
