// Bench 1: sluice against a plain undici + p-limit script on the same fast loopback server, same items, same
// concurrency; then the chunk-size sweep that shows what each chunk costs to orchestrate.
import type { JobSpec } from '../src/common/spec';
import { forkFastServer } from './fast-server';
import { type BenchEnv, report, round, type Row, runJob, withWorker } from './harness';
import { rawBackfill } from './raw';

export interface OverheadOptions {
  /** Items of the headline rows. @default 200_000 */
  items?: number;
  /** Items of the chunk-size sweep rows. */
  sweepItems?: number;
  concurrencies?: number[];
  chunkSizes?: number[];
  latencyMs?: number;
}

function httpSpec(url: string, items: number, cap: number, chunkSize: number): JobSpec {
  return {
    name: 'bench-overhead',
    source: { type: 'range', start: 0, end: items },
    target: { type: 'http', method: 'GET', url: `${url}/items/{{key}}` },
    chunkSize,
    maxParallelism: cap,
  };
}

export async function overheadBench(env: BenchEnv, opts: OverheadOptions = {}): Promise<Row[]> {
  const items = opts.items ?? 200_000;
  const sweepItems = opts.sweepItems ?? items;
  const latencyMs = opts.latencyMs ?? 1;
  const server = await forkFastServer({ latencyMs });
  const rows: Row[] = [];
  try {
    const sluice = async (n: number, cap: number, chunkSize: number) => {
      await server.reset();
      const run = await withWorker(env, {}, (taskQueue) => runJob(env, taskQueue, httpSpec(server.url, n, cap, chunkSize)));
      const stats = await server.stats();
      if (run.summary.ok !== n || stats.keys !== n) throw new Error(`sluice run incomplete: ${JSON.stringify({ summary: run.summary, stats })}`);
      return { rate: n / run.seconds, seconds: run.seconds, runs: run.summary.runs, chunks: run.summary.chunks };
    };
    const raw = async (n: number, concurrency: number) => {
      await server.reset();
      const r = await rawBackfill(server.url, n, concurrency);
      if (r.ok !== n) throw new Error(`raw run incomplete: ${JSON.stringify(r)}`);
      return { rate: n / r.seconds, seconds: r.seconds };
    };

    // Warm-up (JIT, first worker, first connections): not reported.
    await raw(5_000, 16);
    await sluice(5_000, 16, 100);
    const rawRates = new Map<number, number>();
    for (const c of opts.concurrencies ?? [16, 64]) {
      const r = await raw(items, c);
      rawRates.set(c, r.rate);
      const s = await sluice(items, c, 100);
      rows.push({ items, concurrency: c, chunkSize: 100, 'raw items/s': round(r.rate, 0), 'sluice items/s': round(s.rate, 0), 'sluice/raw': round(s.rate / r.rate), 'raw s': round(r.seconds, 1), 'sluice s': round(s.seconds, 1), runs: s.runs });
    }
    const sweepCap = 64;
    const rawRate = sweepItems === items && rawRates.has(sweepCap) ? (rawRates.get(sweepCap) as number) : (await raw(sweepItems, sweepCap)).rate;
    for (const chunkSize of opts.chunkSizes ?? [10, 100, 1000]) {
      const n = sweepItems;
      const s = await sluice(n, sweepCap, chunkSize);
      rows.push({ items: n, concurrency: sweepCap, chunkSize, 'raw items/s': round(rawRate, 0), 'sluice items/s': round(s.rate, 0), 'sluice/raw': round(s.rate / rawRate), 'sluice s': round(s.seconds, 1), chunks: s.chunks, 'ms/chunk (wall)': round((s.seconds * 1000 * sweepCap) / s.chunks, 1), runs: s.runs });
    }
  } finally {
    await server.close();
  }
  const note = sweepItems === items ? '' : ` (chunk-size sweep rows: ${sweepItems.toLocaleString('en-US')} items to fit the time budget; their raw figure is a run of that size)`;
  report('overhead', `Overhead: sluice vs undici + p-limit, ${latencyMs}ms server latency${note}`, rows, { latencyMs, sweepItems });
  return rows;
}
