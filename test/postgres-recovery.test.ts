// Postgres jobs survive their failures: a worker SIGKILLed mid-chunk and replaced, and the database restarted
// mid-run. Both end with exactly 100,000 rows, each key once, one manifest line per key; a `writes` column
// counts how often each row was written, so redone work shows and is checked against the heartbeat cursor.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { postgresTargetStats } from '../src/activities/targets/postgres';
import { startJob, type JobSummary } from '../src/client/jobs';
import { chunkResults, jobOutcomes } from '../src/client/outcomes';
import { chunkOutcomes } from '../src/common/manifest';
import type { JobSpec } from '../src/common/spec';
import { admin, ADMIN_URL, count, freshName, upsertJob } from './support/postgres';
import { testClient, testWorker, uniqueId, waitFor } from './support/temporal';

const WORKER = join(__dirname, '..', 'lib', 'src', 'worker', 'main.js');
const ROWS = 100_000;
const CAP = 4;
const CHUNK = 2500;

let client: Client;
const workers: ChildProcess[] = [];
const tables: string[] = [];

beforeAll(async () => {
  client = await testClient();
});
afterAll(async () => {
  for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
  for (const t of tables) await admin(`DROP TABLE IF EXISTS ${t}`).catch(() => undefined);
  await client.connection.close();
});

async function createTable(): Promise<string> {
  const table = freshName('sluice_t');
  tables.push(table);
  await admin(`CREATE TABLE ${table} (id bigint PRIMARY KEY, name text NOT NULL, writes int NOT NULL DEFAULT 1)`);
  return table;
}

/** About 1,250 rows/s per chunk (5 statements of 250 rows), so the job runs for ~20s at cap 4. */
const pacedSpec = (table: string): JobSpec =>
  upsertJob(table, ROWS, { chunkSize: CHUNK, maxParallelism: CAP, pacing: { requestsPerSecond: 5 }, timeouts: { heartbeat: '3s' } }, { batchSize: 250 });

const countOrUndefined = (table: string) => count(table).catch(() => undefined);

/** Rows, distinct keys, and keys written more than once (redone work). */
async function tally(table: string): Promise<{ rows: number; distinct: number; writes: number; twice: Set<number> }> {
  const { rows } = await admin<{ n: string; d: string; w: string }>(`SELECT count(*) AS n, count(DISTINCT id) AS d, sum(writes) AS w FROM ${table}`);
  const twice = await admin<{ id: string }>(`SELECT id FROM ${table} WHERE writes > 1`);
  return { rows: Number(rows[0]?.n), distinct: Number(rows[0]?.d), writes: Number(rows[0]?.w), twice: new Set(twice.rows.map((r) => Number(r.id))) };
}

/**
 * One manifest line per key, all ok; with `afterCursor`, every row written twice lies after its chunk's resumed
 * heartbeat cursor. (Not after a database restart: a statement that committed as its connection died is redone in
 * the same attempt, harmlessly, by the upsert.)
 */
async function expectOneOutcomePerKey(jobId: string, twice: Set<number>, afterCursor: boolean): Promise<void> {
  const keys: number[] = [];
  for await (const o of jobOutcomes(client, jobId)) {
    expect(o.ok).toBe(true);
    keys.push(o.key as number);
  }
  expect(keys).toHaveLength(ROWS);
  expect(new Set(keys).size).toBe(ROWS);
  if (!afterCursor) return;
  let redone = 0;
  for (const r of await chunkResults(client, jobId)) {
    [...chunkOutcomes(r)].forEach((o, index) => {
      if (!twice.has(o.key as number)) return;
      redone += 1;
      expect({ key: o.key, resumedChunk: r.attempt > 1, afterCursor: index >= r.resumedAt }).toEqual({ key: o.key, resumedChunk: true, afterCursor: true });
    });
  }
  expect(redone).toBe(twice.size);
}

test('a worker SIGKILLed mid-chunk and replaced: exactly 100,000 rows, no duplicates, one manifest line per key', async () => {
  const table = await createTable();
  const taskQueue = uniqueId('pg-kill');
  const spawnWorker = () => {
    const child = spawn(process.execPath, [WORKER, '--task-queue', taskQueue], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, DATABASE_URL: ADMIN_URL },
    });
    workers.push(child);
    return child;
  };
  const first = spawnWorker();
  const handle = await startJob(client, pacedSpec(table), { taskQueue, jobId: uniqueId('pg-kill') });
  // Chunks run in step (same pacing), so aim between chunk boundaries: 12 chunks done and the next 4 70% through.
  const killAt = 0.3 * ROWS + 0.7 * CAP * CHUNK;
  await waitFor('37% of the rows', async () => ((await count(table)) >= killAt ? true : undefined), 90_000, 50);
  first.kill('SIGKILL');
  await new Promise((r) => first.once('exit', r));
  const atKill = await count(table);
  const second = spawnWorker();
  const summary = (await handle.result()) as JobSummary;
  second.kill('SIGTERM');

  expect(summary).toMatchObject({ ok: ROWS, failed: 0, total: ROWS });
  const t = await tally(table);
  expect(t).toMatchObject({ rows: ROWS, distinct: ROWS });
  await expectOneOutcomePerKey(handle.workflowId, t.twice, true);
  // At most the rows since each live chunk's last heartbeat are redone: well under a chunk per live chunk.
  expect(t.writes - ROWS).toBeLessThanOrEqual(CAP * CHUNK);
  const resumed = (await chunkResults(client, handle.workflowId)).filter((r) => r.attempt > 1);
  expect(resumed.length).toBeGreaterThan(0);
  const resumedAt = resumed.map((r) => `#${r.chunkId}@${r.resumedAt}`).join(', ');
  console.log(`SIGKILL at ${atKill} rows: ${ROWS} rows, ${t.distinct} distinct, ${t.twice.size} rows written twice (redone), ${t.writes - ROWS} extra writes; chunks resumed (id@cursor): ${resumedAt}; ${summary.seconds}s`);
});

const cluster = () => readdirSync('/etc/postgresql')[0] as string;
const pgctl = (action: string) => execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', cluster(), 'main', action], { stdio: 'pipe', timeout: 60_000 });
/** Without blocking this process, so the in-process worker keeps running (and failing) during the restart. */
const pgctlAsync = (action: string) => promisify(execFile)('pg_ctlcluster', ['--skip-systemctl-redirect', cluster(), 'main', action], { timeout: 60_000 });

/** Starts Postgres if it is down and waits until it accepts connections: other test files share it. */
async function ensurePostgresUp(): Promise<void> {
  try {
    pgctl('status');
  } catch {
    try {
      pgctl('start');
    } catch (err) {
      console.error(`pg_ctlcluster start failed: ${String(err)}`);
    }
  }
  await waitFor('Postgres accepting connections', () => admin('SELECT 1').then(() => true, () => undefined), 60_000, 200);
}

test('Postgres restarted mid-run: the job completes and nothing is lost', async () => {
  const table = await createTable();
  const before = { ...postgresTargetStats };
  const { worker, taskQueue } = await testWorker({ env: { ...process.env, DATABASE_URL: ADMIN_URL } });
  const jobId = uniqueId('pg-restart');
  let atRestart = 0;
  try {
    const summary = await worker.runUntil(async () => {
      const handle = await startJob(client, { ...pacedSpec(table), retry: { initialInterval: '200ms', maxInterval: '2s' } }, { taskQueue, jobId });
      atRestart = await waitFor('35% of the rows', async () => {
        const n = await countOrUndefined(table);
        return n !== undefined && n >= 0.3 * ROWS + 0.5 * CAP * CHUNK ? n : undefined;
      }, 90_000, 50);
      await pgctlAsync('restart');
      return (await handle.result()) as JobSummary;
    });
    expect(summary).toMatchObject({ ok: ROWS, failed: 0, total: ROWS });
    const t = await tally(table);
    expect(t).toMatchObject({ rows: ROWS, distinct: ROWS });
    await expectOneOutcomePerKey(jobId, t.twice, false);
    const retries = postgresTargetStats.retries - before.retries;
    const reconnects = postgresTargetStats.reconnects - before.reconnects;
    expect(retries + reconnects).toBeGreaterThan(0);
    console.log(`Postgres restarted at ${atRestart} rows: ${ROWS} rows, ${t.twice.size} rows written twice, ${retries} statements/connections retried and ${reconnects} broken connections replaced in chunks, ${summary.seconds}s`);
  } finally {
    await ensurePostgresUp();
  }
});
