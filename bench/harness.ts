// What every benchmark shares: a Temporal dev server of its own, a client, one workflow bundle, workers on fresh
// task queues, running a job while sampling its progress, and printing results as a table and one JSON line.
import { randomUUID } from 'node:crypto';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, Runtime, type Worker } from '@temporalio/worker';
import { connectClient } from '../src/client/connection';
import { type DevServer, ensureDevServer } from '../src/client/dev-server';
import { getProgress, startJob } from '../src/client/jobs';
import type { Progress } from '../src/common/messages';
import type { JobSpec } from '../src/common/spec';
import type { JobSummary } from '../src/workflows/backfill';
import { createWorker, type SluiceWorkerOptions } from '../src/worker';

/** The benchmarks' own dev server, away from the one other work shares (override with SLUICE_BENCH_ADDRESS). */
export const BENCH_ADDRESS = process.env.SLUICE_BENCH_ADDRESS ?? '127.0.0.1:7255';

export interface BenchEnv {
  address: string;
  client: Client;
  /** The workflow bundle, built once. */
  workflowCode: string;
  server: DevServer;
  close(): Promise<void>;
}

const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} };

export async function startBenchEnv(): Promise<BenchEnv> {
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    // Installed already: a second bench environment in the same process (bench/run.ts, then a bench's own main()).
  }
  const server = await ensureDevServer({ address: BENCH_ADDRESS, uiPort: 8255, headless: true, log: (l) => console.log(l) });
  const client = await connectClient({ address: BENCH_ADDRESS });
  const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../src/workflows'), logger: quiet as never });
  return {
    address: BENCH_ADDRESS,
    client,
    workflowCode: code,
    server,
    async close() {
      await client.connection.close();
      await server.stop();
    },
  };
}

export const uniqueId = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

export async function benchWorker(env: BenchEnv, opts: SluiceWorkerOptions = {}): Promise<{ worker: Worker; taskQueue: string }> {
  const taskQueue = opts.taskQueue ?? uniqueId('bench');
  const worker = await createWorker({ address: env.address, ...opts, taskQueue, workflowBundle: { code: env.workflowCode } });
  return { worker, taskQueue };
}

export interface ProgressSample {
  /** ms since the job started */
  t: number;
  done: number;
  inFlight: number;
  run: number;
}

export interface JobRun {
  jobId: string;
  summary: JobSummary;
  seconds: number;
  samples: ProgressSample[];
}

/** Polls `progress` every `everyMs` until stopped; a query during continue-as-new may fail and is skipped. */
export function sampleProgress(client: Client, jobId: string, startedAt: number, everyMs: number, onSample?: (p: Progress) => void) {
  const samples: ProgressSample[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      try {
        const p = await getProgress(client, jobId);
        samples.push({ t: Date.now() - startedAt, done: p.ok + p.failed, inFlight: p.chunks.inFlight, run: p.run });
        onSample?.(p);
      } catch {
        // between runs, or before the first workflow task
      }
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    samples,
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}

/** Starts `spec` on `taskQueue` and waits for its result, sampling progress when `sampleEveryMs` is set. */
export async function runJob(env: BenchEnv, taskQueue: string, spec: JobSpec, opts: { sampleEveryMs?: number; jobId?: string; onStart?: (h: WorkflowHandle) => void } = {}): Promise<JobRun> {
  const startedAt = Date.now();
  const handle = await startJob(env.client, spec, { taskQueue, jobId: opts.jobId ?? uniqueId('bench') });
  opts.onStart?.(handle);
  const sampler = opts.sampleEveryMs ? sampleProgress(env.client, handle.workflowId, startedAt, opts.sampleEveryMs) : undefined;
  try {
    const summary = (await handle.result()) as JobSummary;
    return { jobId: handle.workflowId, summary, seconds: (Date.now() - startedAt) / 1000, samples: sampler?.samples ?? [] };
  } finally {
    await sampler?.stop();
  }
}

/** Runs `body` with a worker on a fresh task queue, shutting the worker down after. */
export async function withWorker<T>(env: BenchEnv, opts: SluiceWorkerOptions, body: (taskQueue: string, worker: Worker) => Promise<T>): Promise<T> {
  const { worker, taskQueue } = await benchWorker(env, opts);
  return worker.runUntil(() => body(taskQueue, worker));
}

export type Row = Record<string, string | number | boolean | undefined>;

/** Prints rows as an aligned table under a title, then `BENCH {json}` on one line. */
export function report(name: string, title: string, rows: Row[], extra: Record<string, unknown> = {}): void {
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (v: Row[string]) => (v === undefined ? '' : typeof v === 'number' ? fmt(v) : String(v));
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (values: string[]) => `| ${values.map((v, i) => v.padEnd(widths[i] as number)).join(' | ')} |`;
  console.log(`\n### ${title}\n`);
  console.log(line(columns));
  console.log(`| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`);
  for (const r of rows) console.log(line(columns.map((c) => cell(r[c]))));
  console.log(`\nBENCH ${JSON.stringify({ bench: name, rows, ...extra })}`);
}

export function fmt(n: number): string {
  if (Number.isInteger(n)) return n.toLocaleString('en-US');
  return Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 10 ? n.toFixed(1) : n.toFixed(3).replace(/0+$/, '').replace(/\.$/, '');
}

export const round = (n: number, digits = 3) => Math.round(n * 10 ** digits) / 10 ** digits;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Peak resident set size of this process, sampled every `everyMs` until stopped. */
export function peakRss(everyMs = 200) {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => void (peak = Math.max(peak, process.memoryUsage.rss())), everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage.rss());
    },
  };
}
