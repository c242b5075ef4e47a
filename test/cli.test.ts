// The built `sluice` CLI as users run it: bad input exits 2 naming the field or value and starts nothing;
// a small job runs end to end through start --wait, results, retry and watch against a real rate-limited API.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { startLimitedApi, type LimitedApi } from '../src/demo/limited-api';
import { testClient, testWorker, uniqueId } from './support/temporal';

const CLI = resolve(__dirname, '../lib/src/client/cli.js');
/** Nothing listens here: a command that tried to reach Temporal would exit 1, not 2. */
const DEAD_ADDRESS = '127.0.0.1:1';

interface Run { code: number | null; stdout: string; stderr: string }

function sluice(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => void (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => void (stderr += d.toString()));
    child.once('error', fail);
    child.once('close', (code) => done({ code, stdout, stderr }));
  });
}

let client: Client;
let api: LimitedApi;
let dir: string;

beforeAll(async () => {
  client = await testClient();
  api = await startLimitedApi();
  dir = mkdtempSync(join(tmpdir(), 'sluice-cli-'));
});
afterAll(async () => {
  await api.close();
  await client.connection.close();
  rmSync(dir, { recursive: true, force: true });
});

function jobFile(name: string, spec: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(spec, null, 2));
  return path;
}

async function exists(jobId: string): Promise<boolean> {
  try {
    await client.workflow.getHandle(jobId).describe();
    return true;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}

const rangeJob = (end: number, extra: Record<string, unknown> = {}) => ({
  source: { type: 'range', start: 0, end },
  target: { type: 'http', method: 'PUT', url: `${api.url}/items/{{key}}` },
  chunkSize: 10,
  maxParallelism: 2,
  ...extra,
});

test('start with a missing or an invalid field exits 2 naming the field, and starts nothing', async () => {
  const missing = jobFile('missing.json', { source: { type: 'range', start: 0, end: 10 }, target: { type: 'http', url: 'http://127.0.0.1:9/x/{{key}}' } });
  const invalid = jobFile('invalid.json', { ...rangeJob(10), target: { type: 'http', url: 'ftp://example/{{key}}' }, chunkSize: 0 });
  for (const [file, fields] of [[missing, ['maxParallelism']], [invalid, ['target.url', 'chunkSize']]] as const) {
    const id = uniqueId('cli-bad');
    const run = await sluice(['start', file, '--id', id]);
    expect(run.code).toBe(2);
    for (const field of fields) expect(run.stderr).toContain(field);
    expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(await exists(id)).toBe(false);
    // Validation happens before Temporal is contacted: with nothing listening, still exit 2 (not 1).
    expect((await sluice(['start', file], { TEMPORAL_ADDRESS: DEAD_ADDRESS })).code).toBe(2);
  }
  const notJson = join(dir, 'broken.json');
  writeFileSync(notJson, '{ "source": ');
  const broken = await sluice(['start', notJson]);
  expect(broken.code).toBe(2);
  expect(broken.stderr).toContain('not valid JSON');
});

test('set-parallelism rejects 0, -1, 2.5 and x with exit 2, naming the value, before sending anything', async () => {
  for (const [value, shown] of [['0', '0'], ['-1', '-1'], ['2.5', '2.5'], ['x', '"x"']] as const) {
    const run = await sluice(['set-parallelism', 'any-job', value], { TEMPORAL_ADDRESS: DEAD_ADDRESS });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`got ${shown}`);
    expect(run.stderr).toContain('maxParallelism');
  }
  const json = await sluice(['set-parallelism', 'any-job', '0', '--json'], { TEMPORAL_ADDRESS: DEAD_ADDRESS });
  expect(JSON.parse(json.stdout)).toMatchObject({ exitCode: 2, error: expect.stringContaining('got 0') });
});

test('plan shows the chunk plan without starting a job, as text and as JSON', async () => {
  const file = jobFile('plan.json', rangeJob(1000, { chunkSize: 100, maxParallelism: 4, pacing: { requestsPerSecond: 25 } }));
  const text = await sluice(['plan', file], { TEMPORAL_ADDRESS: DEAD_ADDRESS });
  expect(text.code).toBe(0);
  expect(text.stdout).toContain('1,000 items in 10 chunks');
  expect(text.stdout).toContain('100 calls/s job-wide');
  const json = await sluice(['plan', file, '--json'], { TEMPORAL_ADDRESS: DEAD_ADDRESS });
  expect(JSON.parse(json.stdout)).toMatchObject({ chunks: 10, items: 1000, chunkSize: 100, maxParallelism: 4, jobWideRequestsPerSecond: 100 });
  expect(JSON.parse(json.stdout).first).toHaveLength(5);
});

test('start --wait, results --failed, retry and watch run a small job end to end', async () => {
  api.reset();
  api.configure({ ratePerSecond: 500, burst: 20, maxConcurrent: 4, failKeys: ['3', '17'] });
  const { worker, taskQueue } = await testWorker();
  await worker.runUntil(async () => {
    // `output` is relative to the job file's directory.
    const file = jobFile('small.json', rangeJob(50, { output: 'out/manifest.jsonl', retry: { maxAttempts: 2, initialInterval: '10ms' }, name: 'cli test' }));
    const started = await sluice(['start', file, '--wait', '--json', '--task-queue', taskQueue]);
    expect(started.code).toBe(0);
    const { jobId, summary } = JSON.parse(started.stdout) as { jobId: string; summary: { ok: number; failed: number; output: { path: string } } };
    expect(summary).toMatchObject({ ok: 48, failed: 2, total: 50, output: { path: join(dir, 'out', 'manifest.jsonl'), lines: 50 } });
    expect(readFileSync(join(dir, 'out', 'manifest.jsonl'), 'utf8').trim().split('\n')).toHaveLength(50);

    const status = await sluice(['status', jobId, '--json']);
    expect(JSON.parse(status.stdout)).toMatchObject({ jobId, status: 'COMPLETED', summary: { ok: 48, failed: 2 } });

    const failed = await sluice(['results', jobId, '--failed']);
    expect(failed.code).toBe(0);
    const lines = failed.stdout.trim().split('\n').map((l) => JSON.parse(l) as { key: number; ok: boolean; status: number; attempts: number });
    expect(lines.map((l) => l.key)).toEqual([3, 17]);
    expect(lines.every((l) => !l.ok && l.status === 500 && l.attempts === 2)).toBe(true);

    // The retry goes to the original job's task queue and sends only the failed keys.
    api.reset();
    api.configure({ failKeys: [] });
    const retry = await sluice(['retry', jobId, '--json']);
    expect(retry.code).toBe(0);
    const retried = JSON.parse(retry.stdout) as { jobId: string; failed: number; taskQueue: string };
    expect(retried).toMatchObject({ retryOf: jobId, failed: 2, taskQueue });
    const watched = await sluice(['watch', retried.jobId]);
    expect(watched.code).toBe(0);
    expect(watched.stdout).toContain('done: 2 items, 2 ok, 0 failed');
    expect(Object.keys(api.stats().perKey).sort()).toEqual(['17', '3']);

    const nothing = await sluice(['retry', retried.jobId, '--json']);
    expect(JSON.parse(nothing.stdout)).toMatchObject({ jobId: null, failed: 0 });

    // The manifest the worker wrote can seed a new job over its failed keys.
    const fromManifest = await sluice(['start', file, '--from-manifest', join(dir, 'out', 'manifest.jsonl'), '--failed', '--wait', '--json', '--task-queue', taskQueue]);
    expect(fromManifest.code).toBe(0);
    expect(JSON.parse(fromManifest.stdout).summary).toMatchObject({ ok: 2, failed: 0, total: 2 });
  });
});
