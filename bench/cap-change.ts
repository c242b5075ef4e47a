// Bench 4: cap-change latency, as the external system sees it. sluice opens one connection per live chunk, so the
// server's count of open connections is the number of live chunks. Raising the cap: time from the signal (or update)
// to the first new chunk's connection. Lowering it: time until live chunks are at or below the new cap (in-flight
// chunks finish; none is cut short, so this is bounded by the time a chunk takes).
import type { WorkflowHandle } from '@temporalio/client';
import { setMaxParallelismSignal, setMaxParallelismUpdate } from '../src/common/messages';
import type { JobSpec } from '../src/common/spec';
import { type ConnectionTimeline, startFastServer } from './fast-server';
import { benchWorker, type BenchEnv, report, round, type Row, sleep, uniqueId } from './harness';
import { startJob } from '../src/client/jobs';

type Via = 'signal' | 'update';

async function setCap(handle: WorkflowHandle, via: Via, n: number): Promise<void> {
  if (via === 'signal') await handle.signal(setMaxParallelismSignal, n);
  else await handle.executeUpdate(setMaxParallelismUpdate, { args: [n] });
}

/** First time at or after `since` when the open-connection count satisfies `ok`. */
function firstWhen(timeline: ConnectionTimeline, since: number, ok: (open: number) => boolean): number | undefined {
  return timeline.find(([t, open]) => t >= since && ok(open))?.[0];
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : (s[Math.floor((s.length - 1) / 2)] as number);
};

export async function capChangeBench(env: BenchEnv, opts: { low?: number; high?: number; cycles?: number; chunkSize?: number; latencyMs?: number } = {}): Promise<Row[]> {
  const low = opts.low ?? 2;
  const high = opts.high ?? 8;
  const cycles = opts.cycles ?? 4;
  const latencyMs = opts.latencyMs ?? 2;
  const chunkSize = opts.chunkSize ?? 400;
  const server = await startFastServer({ latencyMs });
  const { worker, taskQueue } = await benchWorker(env);
  const raise: Record<Via, number[]> = { signal: [], update: [] };
  const lower: Record<Via, number[]> = { signal: [], update: [] };
  const allRaised: number[] = [];
  let chunkMs = NaN;
  try {
    await worker.runUntil(async () => {
      const spec: JobSpec = { name: 'bench-cap', source: { type: 'range', start: 0, end: 10_000_000 }, target: { type: 'http', url: `${server.url}/items/{{key}}` }, chunkSize, maxParallelism: low };
      const handle = await startJob(env.client, spec, { taskQueue, jobId: uniqueId('bench-cap') });
      try {
        await sleep(2500);
        for (let i = 0; i < cycles; i++) {
          const via: Via = i % 2 === 0 ? 'signal' : 'update';
          const t0 = Date.now();
          await setCap(handle, via, high);
          await sleep(1500);
          let timeline = await server.connectionTimeline(t0);
          const first = firstWhen(timeline, t0, (open) => open > low);
          const all = firstWhen(timeline, t0, (open) => open >= high);
          if (first !== undefined) raise[via].push(first - t0);
          if (all !== undefined) allRaised.push(all - t0);
          const t1 = Date.now();
          await setCap(handle, via, low);
          let down: number | undefined;
          for (let waited = 0; down === undefined && waited < 30_000; waited += 100) {
            await sleep(100);
            timeline = await server.connectionTimeline(t1);
            down = firstWhen(timeline, t1, (open) => open <= low);
          }
          if (down !== undefined) lower[via].push(down - t1);
          await sleep(1000);
        }
        const stats = await server.stats();
        chunkMs = stats.meanConnectionMs;
      } finally {
        await handle.terminate('benchmark done');
      }
    });
  } finally {
    await server.close();
  }
  const rows: Row[] = (['signal', 'update'] as Via[]).map((via) => ({
    via,
    'cap change': `${low} -> ${high} -> ${low}`,
    samples: raise[via].length,
    'raise: first new chunk ms (median)': round(median(raise[via]), 0),
    'raise: max ms': round(Math.max(...raise[via]), 0),
    'lower: in-flight <= cap ms (median)': round(median(lower[via]), 0),
    'lower: max ms': round(Math.max(...lower[via]), 0),
  }));
  report('cap-change', `Cap-change latency (server-side view; chunks of ${chunkSize} items x ${latencyMs}ms latency, mean chunk ${round(chunkMs, 0)}ms)`, rows, {
    raiseMs: raise,
    lowerMs: lower,
    allNewChunksStartedMs: allRaised,
    meanChunkMs: round(chunkMs, 0),
  });
  return rows;
}
