// Bench 5: what a worker crash costs. A standalone worker process (`node lib/src/worker/main.js --task-queue Q`)
// runs a job against the fast loopback server; it is SIGKILLed mid-run and another one is started. The server counts
// requests per key: every key requested more than once is work redone.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import type { JobSpec } from '../src/common/spec';
import { startJob } from '../src/client/jobs';
import { startFastServer } from './fast-server';
import { type BenchEnv, report, round, type Row, sleep, uniqueId } from './harness';

const WORKER_MAIN = join(__dirname, '..', 'src', 'worker', 'main.js');

/** Starts a standalone worker; its log is kept (the last 4 KB) and shown only if it fails. */
function spawnWorker(env: BenchEnv, taskQueue: string): ChildProcess {
  const child = spawn(process.execPath, [WORKER_MAIN, '--task-queue', taskQueue], {
    env: { ...process.env, TEMPORAL_ADDRESS: env.address },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr?.on('data', (d: Buffer) => void (log = (log + d.toString()).slice(-4096)));
  child.once('exit', (code) => {
    if (code !== null && code !== 0) console.error(`worker exited with ${code}:\n${log}`);
  });
  return child;
}

const exited = (child: ChildProcess) => (child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => child.once('exit', () => r())));

export async function crashBench(env: BenchEnv, opts: { items?: number; chunkSize?: number; cap?: number; killAtFraction?: number; heartbeatTimeout?: string } = {}): Promise<Row[]> {
  const items = opts.items ?? 40_000;
  const chunkSize = opts.chunkSize ?? 1000;
  const cap = opts.cap ?? 8;
  // Chunks of the first rounds run in near lockstep: 0.54 of 40,000 items is 2 rounds of 8 chunks plus 700 items into
  // each chunk of the third, past its first heartbeat (500ms in), not at a chunk boundary where nothing is in flight.
  const killAt = Math.floor(items * (opts.killAtFraction ?? 0.54));
  const heartbeatTimeout = opts.heartbeatTimeout ?? '3s';
  const server = await startFastServer({ latencyMs: 1 });
  const taskQueue = uniqueId('bench-crash');
  const first = spawnWorker(env, taskQueue);
  let second: ChildProcess | undefined;
  try {
    const spec: JobSpec = {
      name: 'bench-crash',
      source: { type: 'range', start: 0, end: items },
      target: { type: 'http', url: `${server.url}/items/{{key}}` },
      chunkSize,
      maxParallelism: cap,
      timeouts: { heartbeat: heartbeatTimeout },
    };
    const startedAt = Date.now();
    const handle = await startJob(env.client, spec, { taskQueue, jobId: uniqueId('bench-crash') });
    while ((await server.stats()).requests < killAt) {
      if (first.exitCode !== null) throw new Error(`worker exited early with ${first.exitCode}`);
      await sleep(5);
    }
    first.kill('SIGKILL');
    await exited(first);
    const killedAt = Date.now();
    const atKill = await server.stats();
    second = spawnWorker(env, taskQueue);
    const summary = (await handle.result()) as { ok: number; failed: number };
    const doneAt = Date.now();
    const stats = await server.stats();
    if (summary.ok !== items || stats.keys !== items) throw new Error(`crash run incomplete: ${JSON.stringify({ summary, stats })}`);
    const rows: Row[] = [
      {
        items,
        chunkSize,
        cap,
        'heartbeat timeout': heartbeatTimeout,
        'requests at kill': atKill.requests,
        'keys redone': stats.repeatedKeys,
        'requests redone': stats.repeatedRequests,
        'redone / items': round(stats.repeatedRequests / items, 4),
        'redone per live chunk': round(stats.repeatedRequests / cap, 0),
        'job s': round((doneAt - startedAt) / 1000, 1),
        'kill -> done s': round((doneAt - killedAt) / 1000, 1),
        'manifest ok': summary.ok,
      },
    ];
    report('crash', 'Crash cost: a worker SIGKILLed mid-run, another started', rows);
    return rows;
  } finally {
    for (const child of [first, second]) {
      if (child && child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited(child);
      }
    }
    await server.close();
  }
}
