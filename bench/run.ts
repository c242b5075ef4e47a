// `npm run bench`: every benchmark in one process, on a Temporal dev server of its own. Prints tables and `BENCH {json}` lines.
import { startBenchEnv } from './harness';
import { overheadBench } from './overhead';

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const want = (name: string) => only.length === 0 || only.includes(name);
  const env = await startBenchEnv();
  try {
    if (want('overhead')) await overheadBench(env, { items: Number(process.env.BENCH_ITEMS ?? 200_000) });
  } finally {
    await env.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
