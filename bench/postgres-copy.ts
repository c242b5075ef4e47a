// Bench: a table-to-table copy through sluice (Postgres source -> Postgres target, upserts in batches) at caps
// 1, 4 and 16, against the same copy done as one INSERT ... SELECT inside Postgres: the physical limit here.
// `node lib/bench/postgres-copy.js` after `npm run build` (bench/run.ts calls postgresCopyBench). Env: SLUICE_BENCH_PG_URL or
// DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test), BENCH_PG_ROWS (default 200,000), BENCH_PG_CHUNK and
// BENCH_PG_BATCH (rows per chunk and per statement, default 5,000 and 1,000),
// SLUICE_BENCH_ADDRESS (default 127.0.0.1:7255, a dev server of its own, started and stopped here).
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { JobSpec } from '../src/common/spec';
import { type BenchEnv, report, round, type Row, runJob, startBenchEnv, withWorker } from './harness';

export interface PostgresCopyOptions {
  /** Rows in the source table. @default 200_000 */
  rows?: number;
  caps?: number[];
  /** @default 5,000 rows per chunk */
  chunkSize?: number;
  /** @default 1,000 rows per statement */
  batchSize?: number;
  /** @default SLUICE_BENCH_PG_URL, DATABASE_URL, or the local test database */
  url?: string;
}

const COLUMNS = 'id bigint PRIMARY KEY, name text NOT NULL, email text NOT NULL, amount numeric(12,2) NOT NULL, created_at timestamptz NOT NULL';
/** The transform both copies apply, and the upsert both do, so they do the same work. */
const UPSERT = 'ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, email = EXCLUDED.email, amount = EXCLUDED.amount, created_at = EXCLUDED.created_at';

function copySpec(src: string, dst: string, cap: number, chunkSize: number, batchSize: number): JobSpec {
  return {
    name: 'bench-postgres-copy',
    source: { type: 'postgres', connection: '${env:DATABASE_URL}', table: src, key: 'id', columns: ['name', 'email', 'amount', 'created_at'] },
    target: {
      type: 'postgres',
      connection: '${env:DATABASE_URL}',
      sql: `INSERT INTO ${dst} (id, name, email, amount, created_at) SELECT id, name, lower(email), amount, created_at FROM unnest($1::bigint[], $2::text[], $3::text[], $4::numeric[], $5::timestamptz[]) AS r(id, name, email, amount, created_at) ${UPSERT}`,
      params: ['{{key}}', '{{item.name}}', '{{item.email}}', '{{item.amount}}', '{{item.created_at}}'],
      batchSize,
    },
    chunkSize,
    maxParallelism: cap,
  };
}

/** Largest number of connections whose application_name mentions `tag`, sampled every 50ms until stopped. */
function sampleConnections(db: pg.Client, tag: () => string | undefined) {
  let max = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const t = tag();
      if (t) {
        const { rows } = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name LIKE '%' || $1 || '%'", [t]);
        max = Math.max(max, rows[0]?.n ?? 0);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return { stop: async () => ((stopped = true), await loop, max) };
}

export async function postgresCopyBench(env: BenchEnv, opts: PostgresCopyOptions = {}): Promise<Row[]> {
  const rows = opts.rows ?? 200_000;
  const chunkSize = opts.chunkSize ?? 5_000;
  const batchSize = opts.batchSize ?? 1_000;
  const url = opts.url ?? process.env.SLUICE_BENCH_PG_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const suffix = randomUUID().replace(/-/g, '').slice(0, 8);
  const src = `bench_copy_src_${suffix}`;
  const dst = `bench_copy_dst_${suffix}`;
  const db = new pg.Client({ connectionString: url, application_name: 'sluice bench admin' });
  await db.connect();
  const results: Row[] = [];
  try {
    await db.query(`CREATE TABLE ${src} (${COLUMNS})`);
    await db.query(`CREATE TABLE ${dst} (${COLUMNS})`);
    await db.query(`INSERT INTO ${src} SELECT i, 'name ' || i, 'User' || i || '@Example.COM', (i % 100000) / 100.0, timestamptz '2020-01-01 00:00:00+00' + i * interval '1 second' FROM generate_series(1, $1::int) i`, [rows]);
    await db.query(`VACUUM ANALYZE ${src}`);
    const expected = (await db.query<{ s: string }>(`SELECT sum(amount)::text AS s FROM ${src}`)).rows[0]?.s;
    const verify = async (what: string) => {
      const { rows: [r] } = await db.query<{ n: string; s: string }>(`SELECT count(*) AS n, sum(amount)::text AS s FROM ${dst}`);
      if (Number(r?.n) !== rows || r?.s !== expected) throw new Error(`${what}: expected ${rows} rows summing to ${expected}, got ${JSON.stringify(r)}`);
    };

    // The physical limit: the same transform and upsert, done by Postgres alone (best of two, into an empty table).
    let baseline = Infinity;
    for (let i = 0; i < 2; i++) {
      await db.query(`TRUNCATE ${dst}`);
      const t0 = performance.now();
      await db.query(`INSERT INTO ${dst} (id, name, email, amount, created_at) SELECT id, name, lower(email), amount, created_at FROM ${src} ${UPSERT}`);
      baseline = Math.min(baseline, (performance.now() - t0) / 1000);
    }
    await verify('INSERT ... SELECT');
    const limit = rows / baseline;
    results.push({ method: 'INSERT ... SELECT', cap: undefined, 'rows/s': round(limit, 0), seconds: round(baseline, 2), 'of limit': 1, 'max conns': 1 });

    for (const cap of opts.caps ?? [1, 4, 16]) {
      await db.query(`TRUNCATE ${dst}`);
      await db.query(`VACUUM ${dst}`);
      let jobId: string | undefined;
      const sampler = sampleConnections(db, () => jobId);
      const run = await withWorker(env, { env: { ...process.env, DATABASE_URL: url } }, (taskQueue) =>
        runJob(env, taskQueue, copySpec(src, dst, cap, chunkSize, batchSize), { jobId: `bench-pg-${cap}-${suffix}`, onStart: (h) => void (jobId = h.workflowId) }),
      );
      const maxConns = await sampler.stop();
      if (run.summary.ok !== rows || run.summary.failed !== 0) throw new Error(`sluice copy at cap ${cap} incomplete: ${JSON.stringify(run.summary)}`);
      await verify(`sluice copy at cap ${cap}`);
      const rate = rows / run.seconds;
      results.push({ method: 'sluice', cap, 'rows/s': round(rate, 0), seconds: round(run.seconds, 2), 'of limit': round(rate / limit), 'max conns': maxConns, chunks: run.summary.chunks });
    }
  } finally {
    await db.query(`DROP TABLE IF EXISTS ${src}, ${dst}`).catch(() => undefined);
    await db.end();
  }
  report('postgres-copy', `Postgres table-to-table copy, ${rows.toLocaleString('en-US')} rows (chunks of ${chunkSize}, ${batchSize} rows per statement) vs one INSERT ... SELECT`, results, { sourceRows: rows, chunkSize, batchSize });
  return results;
}

/** `node lib/bench/postgres-copy.js`: this benchmark alone, on a dev server of its own (bench/run.ts calls postgresCopyBench). */
export async function main(): Promise<void> {
  const env = await startBenchEnv();
  try {
    const num = (name: string) => (process.env[name] ? Number(process.env[name]) : undefined);
    await postgresCopyBench(env, { rows: num('BENCH_PG_ROWS'), chunkSize: num('BENCH_PG_CHUNK'), batchSize: num('BENCH_PG_BATCH') });
  } finally {
    await env.close();
  }
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
