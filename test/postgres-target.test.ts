// Target `postgres` against the real server: a role's connection budget held at cap N, a cap raised above it
// (refused connections retried, never item failures), bad rows isolated by bisection, bad SQL caught before any chunk.
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { WorkflowFailedError } from '@temporalio/client';
import { postgresTargetStats } from '../src/activities/targets/postgres';
import { setMaxParallelism, startJob, type JobSummary } from '../src/client/jobs';
import { listOutcomes } from '../src/client/outcomes';
import type { JobSpec } from '../src/common/spec';
import { admin, count, createLimitedRole, dropRole, freshName, sampleConnections, scheduledActivities, upsertJob, urlFor, ADMIN_URL } from './support/postgres';
import { testClient, testWorker, uniqueId, waitFor } from './support/temporal';

let client: Client;
beforeAll(async () => {
  client = await testClient();
});
afterAll(async () => {
  await client.connection.close();
});

const ROWS = 100_000;

async function createTable(role?: string): Promise<string> {
  const table = freshName('sluice_t');
  await admin(`CREATE TABLE ${table} (id bigint PRIMARY KEY, name text NOT NULL, writes int NOT NULL DEFAULT 1)`);
  if (role) await admin(`GRANT SELECT, INSERT, UPDATE ON ${table} TO ${role}`);
  return table;
}

/** The upsert job over ROWS rows, with chunks of 2,000 and batches of 500. */
const upsertSpec = (table: string, cap: number, extra: Partial<JobSpec> = {}, target: Record<string, unknown> = {}): JobSpec =>
  upsertJob(table, ROWS, { chunkSize: 2000, maxParallelism: cap, ...extra }, { batchSize: 500, ...target });

async function expectExactlyAllRows(table: string): Promise<void> {
  const { rows } = await admin<{ n: string; distinct_ids: string; lo: string; hi: string; writes: string }>(
    `SELECT count(*) AS n, count(DISTINCT id) AS distinct_ids, min(id) AS lo, max(id) AS hi, sum(writes) AS writes FROM ${table}`,
  );
  expect(rows[0]).toMatchObject({ n: String(ROWS), distinct_ids: String(ROWS), lo: '0', hi: String(ROWS - 1) });
}


test('a role limited to N connections and cap N: never more than N connections, 100,000 rows, each once', async () => {
  const N = 4;
  const role = await createLimitedRole(N);
  const table = await createTable(role);
  try {
    const before = { ...postgresTargetStats };
    const { worker, taskQueue } = await testWorker({ env: { ...process.env, DATABASE_URL: urlFor(role) } });
    const sampler = await sampleConnections(role, 50);
    const summary = await worker.runUntil(async () => {
      const handle = await startJob(client, upsertSpec(table, N), { taskQueue, jobId: uniqueId('pg-cap') });
      return (await handle.result()) as JobSummary;
    });
    const { max, samples } = await sampler.stop();
    expect(summary).toMatchObject({ ok: ROWS, failed: 0, total: ROWS });
    await expectExactlyAllRows(table);
    const writes = Number((await admin<{ w: string }>(`SELECT sum(writes) AS w FROM ${table}`)).rows[0]?.w);
    expect(writes).toBe(ROWS);
    expect(postgresTargetStats.refused - before.refused).toBe(0);
    expect(postgresTargetStats.retries - before.retries).toBe(0);
    expect(max).toBeGreaterThan(0);
    expect(max).toBeLessThanOrEqual(N);
    console.log(`connection limit ${N}: max ${max} connections of the role in ${samples} samples; ${ROWS} rows in ${summary.seconds}s; refused 0`);
  } finally {
    await dropRole(role, [table]);
  }
});

test('the cap raised above the connection limit mid-run: refused connections are retried, not item failures', async () => {
  const N = 4;
  const role = await createLimitedRole(N);
  const table = await createTable(role);
  try {
    const before = { ...postgresTargetStats };
    const { worker, taskQueue } = await testWorker({ env: { ...process.env, DATABASE_URL: urlFor(role) } });
    const sampler = await sampleConnections(role, 50);
    // Paced so the job is still running when the cap changes: 20 statements/s of 100 rows per chunk.
    const spec = upsertSpec(table, N, { chunkSize: 1000, pacing: { requestsPerSecond: 20 }, retry: { initialInterval: '200ms', maxInterval: '2s' } }, { batchSize: 100 });
    const jobId = uniqueId('pg-raise');
    const summary = await worker.runUntil(async () => {
      const handle = await startJob(client, spec, { taskQueue, jobId });
      await waitFor('a fifth of the rows', async () => ((await count(table)) >= ROWS / 5 ? true : undefined), 90_000, 200);
      const change = await setMaxParallelism(client, jobId, 2 * N);
      expect(change).toMatchObject({ previous: N, current: 2 * N });
      return (await handle.result()) as JobSummary;
    });
    const { max } = await sampler.stop();
    const refused = postgresTargetStats.refused - before.refused;
    expect(summary).toMatchObject({ ok: ROWS, failed: 0, total: ROWS });
    await expectExactlyAllRows(table);
    expect(refused).toBeGreaterThan(0);
    expect(max).toBeLessThanOrEqual(N);
    const outcomes = await listOutcomes(client, jobId);
    expect(outcomes).toHaveLength(ROWS);
    expect(outcomes.every((o) => o.ok)).toBe(true);
    console.log(`cap ${N} -> ${2 * N} over a limit of ${N}: ${refused} refused connections (53300) retried, 0 item failures, max ${max} connections, ${summary.seconds}s`);
  } finally {
    await dropRole(role, [table]);
  }
});

test('rows that violate a CHECK constraint fail alone with their SQLSTATE; every other row is written', async () => {
  const table = freshName('sluice_t');
  await admin(`CREATE TABLE ${table} (id bigint PRIMARY KEY, v int NOT NULL CHECK (v >= 0))`);
  const dir = mkdtempSync(join(tmpdir(), 'sluice-pg-'));
  try {
    const bad = [17, 433, 434];
    const lines = Array.from({ length: 1000 }, (_, id) => JSON.stringify({ id, v: bad.includes(id) ? -1 : id }));
    const path = join(dir, 'rows.jsonl');
    writeFileSync(path, `${lines.join('\n')}\n`);
    const { worker, taskQueue } = await testWorker({ env: { ...process.env, DATABASE_URL: ADMIN_URL } });
    const jobId = uniqueId('pg-check');
    const summary = await worker.runUntil(async () => {
      const handle = await startJob(client, {
        source: { type: 'jsonl', path },
        target: {
          type: 'postgres',
          connection: '${env:DATABASE_URL}',
          sql: `INSERT INTO ${table} (id, v) SELECT * FROM unnest($1::bigint[], $2::int[]) ON CONFLICT (id) DO UPDATE SET v = EXCLUDED.v`,
          params: ['{{item.id}}', '{{item.v}}'],
          batchSize: 200,
        },
        chunkSize: 500,
        maxParallelism: 2,
      }, { taskQueue, jobId });
      return (await handle.result()) as JobSummary;
    });
    expect(summary).toMatchObject({ ok: 997, failed: 3 });
    expect(await count(table)).toBe(997);
    const present = await admin<{ id: string }>(`SELECT id FROM ${table} WHERE id = ANY($1)`, [bad]);
    expect(present.rows).toHaveLength(0);
    const failed = (await listOutcomes(client, jobId)).filter((o) => !o.ok);
    expect(failed.map((o) => o.key)).toEqual(bad);
    for (const f of failed) {
      expect(f).toMatchObject({ status: '23514', errorClass: 'permanent', attempts: 1 });
      expect(f.error).toContain(`violates check constraint "${table}_v_check"`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await admin(`DROP TABLE IF EXISTS ${table}`);
  }
});

describe('a spec the database rejects fails before any chunk runs, with the database message', () => {
  let table: string;
  beforeAll(async () => {
    table = await createTable();
  });
  afterAll(async () => {
    await admin(`DROP TABLE IF EXISTS ${table}`);
  });

  async function failure(spec: JobSpec): Promise<{ message: string; activities: string[] }> {
    const { worker, taskQueue } = await testWorker({ env: { ...process.env, DATABASE_URL: ADMIN_URL } });
    const jobId = uniqueId('pg-bad');
    const err = await worker.runUntil(async () => {
      const handle = await startJob(client, spec, { taskQueue, jobId });
      return handle.result().then(() => undefined, (e: unknown) => e);
    });
    expect(err).toBeInstanceOf(WorkflowFailedError);
    return { message: (err as WorkflowFailedError).cause?.message ?? '', activities: await scheduledActivities(client, jobId) };
  }

  const withSql = (sql: string): JobSpec => upsertSpec(table, 2, { source: { type: 'range', start: 0, end: 10 } }, { sql });

  test('a syntax error', async () => {
    const { message, activities } = await failure(withSql(`INSERT INTO ${table} (id, name) SELEC * FROM unnest($1::bigint[], $2::text[])`));
    expect(message).toContain('syntax error at or near "SELEC"');
    expect(message).toContain('target.sql');
    expect(activities).toEqual(['planChunks']);
    expect(await count(table)).toBe(0);
  });

  test('a missing table', async () => {
    const { message, activities } = await failure(withSql('INSERT INTO sluice_no_such_table (id, name) SELECT * FROM unnest($1::bigint[], $2::text[])'));
    expect(message).toContain('relation "sluice_no_such_table" does not exist');
    expect(activities).toEqual(['planChunks']);
  });

  test('an ON CONFLICT without a matching unique index', async () => {
    const { message, activities } = await failure(withSql(`INSERT INTO ${table} (id, name) SELECT * FROM unnest($1::bigint[], $2::text[]) ON CONFLICT (name) DO NOTHING`));
    expect(message).toContain('no unique or exclusion constraint matching the ON CONFLICT specification');
    expect(activities).toEqual(['planChunks']);
  });

  test('a missing source table', async () => {
    const spec = upsertSpec(table, 2);
    spec.source = { type: 'postgres', connection: '${env:DATABASE_URL}', table: 'sluice_no_such_source', key: 'id' };
    const { message, activities } = await failure(spec);
    expect(message).toContain('relation "sluice_no_such_source" does not exist');
    expect(activities).toEqual(['planChunks']);
  });
});
