// Bench 3: scale. A 1,000,000-item range job against a trivial target registered in the bench worker (process()
// only counts), so the figures are the orchestration's own: events per run, carried state, memory, and whether
// the time per 100k items stays flat from the first 100k to the last (no cost growing with the ledger).
import type { Client } from '@temporalio/client';
import type { Target } from '../src/activities/plugins';
import type { JobSpec } from '../src/common/spec';
import { type BenchEnv, peakRss, report, round, type Row, runJob, withWorker } from './harness';

let counted = 0;

/** A target that does nothing to an item but count it. */
export const countTarget: Target = {
  type: 'count',
  batchSize: () => 1000,
  open: async () => undefined,
  process: async (_session, items) => {
    counted += items.length;
    return items.map((item) => ({ key: item.key, ok: true, attempts: 1 }));
  },
  close: async () => undefined,
};

interface RunStats { runId: string; events: number; carriedBytes?: number }

/** Every run of a job, first to last, with its history length and the size of the input it handed on. */
async function runsOf(client: Client, jobId: string): Promise<RunStats[]> {
  const runs: RunStats[] = [];
  let runId: string | undefined;
  for (;;) {
    const history = await client.workflow.getHandle(jobId, runId).fetchHistory();
    const events = history.events ?? [];
    const last = events[events.length - 1];
    const payloads = last?.workflowExecutionContinuedAsNewEventAttributes?.input?.payloads ?? [];
    const carriedBytes = payloads.length > 1 ? (payloads[1]?.data?.length ?? 0) : undefined;
    runs.unshift({ runId: runId ?? 'latest', events: events.length, carriedBytes });
    const previous = events[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId;
    if (!previous) return runs;
    runId = previous;
  }
}

/** Time at which `done` first reached `mark`, interpolated between progress samples. */
function timeAt(samples: Array<{ t: number; done: number }>, mark: number): number | undefined {
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1] as { t: number; done: number };
    const b = samples[i] as { t: number; done: number };
    if (b.done >= mark && a.done < mark) return a.t + ((mark - a.done) / (b.done - a.done)) * (b.t - a.t);
  }
  return undefined;
}

export async function scaleBench(env: BenchEnv, opts: { items?: number; chunkSize?: number; cap?: number } = {}): Promise<Row[]> {
  const items = opts.items ?? 1_000_000;
  const chunkSize = opts.chunkSize ?? 100;
  const cap = opts.cap ?? 64;
  const spec: JobSpec = { name: 'bench-scale', source: { type: 'range', start: 0, end: items }, target: { type: 'count' }, chunkSize, maxParallelism: cap };
  counted = 0;
  const rss = peakRss();
  const baseRss = process.memoryUsage.rss();
  const run = await withWorker(env, { targets: [countTarget] }, (taskQueue) => runJob(env, taskQueue, spec, { sampleEveryMs: 250 }));
  const peak = rss.stop();
  if (run.summary.ok !== items || counted < items) throw new Error(`scale run incomplete: ${JSON.stringify(run.summary)} counted ${counted}`);
  const runs = await runsOf(env.client, run.jobId);
  const samples = [{ t: 0, done: 0 }, ...run.samples, { t: run.seconds * 1000, done: items }];
  const step = items / 10;
  const per100k: number[] = [];
  let prev = 0;
  for (let k = 1; k <= 10; k++) {
    const t = timeAt(samples, k * step) ?? (k === 10 ? run.seconds * 1000 : NaN);
    per100k.push(round((t - prev) / 1000, 2));
    prev = t;
  }
  const middle = per100k.slice(1, -1).sort((a, b) => a - b);
  const median = middle[Math.floor(middle.length / 2)] as number;
  const maxEvents = Math.max(...runs.map((r) => r.events));
  const carried = runs.map((r) => r.carriedBytes).filter((b): b is number => b !== undefined);
  const rows: Row[] = [
    {
      items,
      target: 'count (in-worker, no I/O)',
      chunkSize,
      cap,
      chunks: run.summary.chunks,
      'job s': round(run.seconds, 1),
      'items/s': round(items / run.seconds, 0),
      'chunks/s': round(run.summary.chunks / run.seconds, 0),
      runs: runs.length,
      'max events/run': maxEvents,
      'max carried state B': carried.length > 0 ? Math.max(...carried) : 0,
      'peak RSS MB': round(peak / 2 ** 20, 0),
      'RSS before MB': round(baseRss / 2 ** 20, 0),
      'first 100k s': per100k[0],
      'median 100k s': median,
      'last 100k s': per100k[per100k.length - 1],
      'last/first 100k': round((per100k[per100k.length - 1] as number) / (per100k[0] as number), 2),
    },
  ];
  report('scale', `Scale: ${items.toLocaleString('en-US')} items, one job`, rows, { per100kSeconds: per100k, eventsPerRun: runs.map((r) => r.events), carriedBytesPerRun: carried });
  return rows;
}
