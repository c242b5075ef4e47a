// `npm run bench`: every benchmark in one process, on a Temporal dev server of its own (127.0.0.1:7255, started
// and stopped here unless one listens there already). Prints tables and one `BENCH {json}` line per benchmark.
// `node lib/bench/run.js overhead scale` runs only the named ones.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { capChangeBench } from './cap-change';
import { crashBench } from './crash';
import { fidelityBench } from './fidelity';
import { startBenchEnv } from './harness';
import { overheadBench } from './overhead';
import { scaleBench } from './scale';

const num = (name: string, fallback: number) => (process.env[name] ? Number(process.env[name]) : fallback);

async function postgresBench(): Promise<void> {
  const path = join(__dirname, 'postgres-copy.js');
  if (!existsSync(path)) return console.log('\n(bench/postgres-copy.ts is absent: Postgres benchmark skipped)');
  const mod = (await import(path)) as { main?: () => Promise<void> };
  if (typeof mod.main !== 'function') return console.log('\n(bench/postgres-copy.ts exports no main(): skipped)');
  await mod.main();
}

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const want = (name: string) => only.length === 0 || only.includes(name);
  const started = Date.now();
  const env = await startBenchEnv();
  try {
    if (want('overhead')) await overheadBench(env, { items: num('BENCH_ITEMS', 200_000), sweepItems: num('BENCH_SWEEP_ITEMS', 50_000) });
    if (want('fidelity')) await fidelityBench(env);
    if (want('scale')) await scaleBench(env, { items: num('BENCH_SCALE_ITEMS', 1_000_000) });
    if (want('cap')) await capChangeBench(env);
    if (want('crash')) await crashBench(env);
  } finally {
    await env.close();
  }
  if (want('postgres')) await postgresBench();
  console.log(`\nbench finished in ${((Date.now() - started) / 1000).toFixed(0)}s`);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
