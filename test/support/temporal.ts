// Per-test helpers: a client, a worker on a fresh task queue, and polling until a condition holds.
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { DefaultLogger, Runtime, type Worker } from '@temporalio/worker';
import { connectClient } from '../../src/client/connection';
import { startLimitedApi, type LimitedApi, type LimitedApiOptions } from '../../src/demo/limited-api';
import { createWorker, type SluiceWorkerOptions } from '../../src/worker';

let runtimeInstalled = false;
/** Keeps worker logs to warnings so test output stays readable. */
export function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({ logger: new DefaultLogger('WARN') });
}

export function uniqueId(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

export async function testClient(): Promise<Client> {
  return connectClient();
}

export async function testWorker(opts: SluiceWorkerOptions = {}): Promise<{ worker: Worker; taskQueue: string }> {
  quietRuntime();
  const taskQueue = opts.taskQueue ?? uniqueId('test');
  const bundle = process.env.SLUICE_TEST_BUNDLE;
  const worker = await createWorker({ ...opts, taskQueue, workflowBundle: bundle ? { codePath: bundle } : undefined });
  return { worker, taskQueue };
}

/** Polls `probe` every `everyMs` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * For a test file: a Temporal client and a local limited API, handed to `use` once both are up, the API's counters
 * reset before each test, both closed after the file.
 */
export function useClientAndApi(use: (client: Client, api: LimitedApi) => void, options: LimitedApiOptions = {}): void {
  let client: Client | undefined;
  let api: LimitedApi | undefined;
  beforeAll(async () => {
    client = await testClient();
    api = await startLimitedApi(options);
    use(client, api);
  });
  beforeEach(() => api?.reset());
  afterAll(async () => {
    await api?.close();
    await client?.connection.close();
  });
}
