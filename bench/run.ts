// `npm run bench`: every benchmark in one process, on a Temporal dev server of its own (127.0.0.1:7255, started
// and stopped here unless one listens there already). Prints tables and one `BENCH {json}` line per benchmark.
// `node lib/bench/run.js overhead scale` runs only the named ones.
import { capChangeBench } from './cap-change';
import { crashBench } from './crash';
import { fidelityBench } from './fidelity';
import { startBenchEnv } from './harness';
import { overheadBench } from './overhead';
import { postgresCopyBench } from './postgres-copy';
import { scaleBench } from './scale';

function num(name: string): number | undefined;
function num(name: string, fallback: number): number;
function num(name: string, fallback?: number): number | undefined {
  return process.env[name] ? Number(process.env[name]) : fallback;
}

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const want = (name: string) => only.length === 0 || only.includes(name);
  const started = Date.now();
  const env = await startBenchEnv();
  try {
    if (want('overhead')) await overheadBench(env, { items: num('BENCH_ITEMS', 200_000), sweepItems: num('BENCH_SWEEP_ITEMS', 200_000) });
    if (want('fidelity')) await fidelityBench(env);
    if (want('scale')) await scaleBench(env, { items: num('BENCH_SCALE_ITEMS', 1_000_000) });
    if (want('cap')) await capChangeBench(env);
    if (want('crash')) await crashBench(env);
    if (want('postgres')) await postgresCopyBench(env, { rows: num('BENCH_PG_ROWS'), chunkSize: num('BENCH_PG_CHUNK'), batchSize: num('BENCH_PG_BATCH') });
  } finally {
    await env.close();
  }
  console.log(`\nbench finished in ${((Date.now() - started) / 1000).toFixed(0)}s`);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
