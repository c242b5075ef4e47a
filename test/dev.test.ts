// `sluice dev`: a real dev server with its Web UI and a persistent SQLite file, plus a worker; or reuse of a server
// that already listens. Ctrl-C stops what it started.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectClient } from '../src/client/connection';
import { isListening } from '../src/client/dev-server';
import { startJob } from '../src/client/jobs';
import { startLimitedApi } from '../src/demo/limited-api';
import { uniqueId, waitFor } from './support/temporal';

const CLI = join(__dirname, '..', 'lib', 'src', 'client', 'cli.js');

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

/** Runs `sluice dev` until its worker is up; returns the process and what it printed. */
async function startDev(env: NodeJS.ProcessEnv, args: string[]): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, [CLI, 'dev', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => void (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => void (output += d.toString()));
  await waitFor('sluice dev to start its worker', () => (output.includes('worker: task queue') ? true : child.exitCode !== null ? Promise.reject(new Error(output)) : undefined), 60_000);
  return { child, output: () => output };
}

async function stop(child: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  child.kill('SIGINT');
  return exited;
}

test('sluice dev starts a server with its Web UI and a SQLite file, runs jobs, stops on Ctrl-C, and keeps history across restarts', async () => {
  const address = `127.0.0.1:${await freePort()}`;
  const uiPort = await freePort();
  const db = join(mkdtempSync(join(tmpdir(), 'sluice-dev-')), 'temporal.db');
  const taskQueue = uniqueId('dev');
  const api = await startLimitedApi();
  try {
    const first = await startDev({ TEMPORAL_ADDRESS: address }, ['--db', db, '--ui-port', String(uiPort), '--task-queue', taskQueue]);
    expect(first.output()).toContain(`Temporal: dev server at ${address}, history in ${db}`);
    expect(first.output()).toContain(`Web UI: http://localhost:${uiPort}`);
    expect((await fetch(`http://127.0.0.1:${uiPort}/`)).status).toBe(200);

    const client = await connectClient({ address });
    const jobId = uniqueId('dev-job');
    const handle = await startJob(client, { source: { type: 'range', start: 0, end: 30 }, target: { type: 'http', url: `${api.url}/items/{{key}}` }, maxParallelism: 2 }, { taskQueue, jobId });
    expect(await handle.result()).toMatchObject({ ok: 30 });
    await client.connection.close();

    expect(await stop(first.child)).toBe(0);
    expect(await isListening(address)).toBe(false);
    expect(existsSync(db) && statSync(db).size).toBeGreaterThan(0);

    // The same file again: the finished job is still there.
    const second = await startDev({ TEMPORAL_ADDRESS: address }, ['--db', db, '--ui-port', String(uiPort), '--task-queue', taskQueue]);
    const again = await connectClient({ address });
    expect((await again.workflow.getHandle(jobId).describe()).status.name).toBe('COMPLETED');
    await again.connection.close();
    expect(await stop(second.child)).toBe(0);
  } finally {
    await api.close();
  }
});

test('sluice dev reuses a server that already listens, and leaves it running', async () => {
  const address = process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';
  const dev = await startDev({ TEMPORAL_ADDRESS: address }, ['--task-queue', uniqueId('dev-reuse')]);
  expect(dev.output()).toContain(`Temporal: reusing the server at ${address}`);
  expect(await stop(dev.child)).toBe(0);
  expect(await isListening(address)).toBe(true);
});
