// Source `postgres` against the real server: key-range planning paged through its cursor, chunks read on their own
// connection, a table-to-table copy with a transform, and `retry` of the failed rows through readKeys.
import type { Client } from '@temporalio/client';
import { postgresSource } from '../src/activities/sources/postgres';
import type { CheckContext, Item } from '../src/activities/plugins';
import { retryFailed, startJob, type JobSummary } from '../src/client/jobs';
import { jobOutcomes } from '../src/client/outcomes';
import type { JobSpec } from '../src/common/spec';
import type { PostgresSourceSpec } from '../src/common/spec-postgres';
import type { ChunkDescriptor } from '../src/common/types';
import { admin, ADMIN_URL, count, freshName } from './support/postgres';
import { testClient, testWorker, uniqueId } from './support/temporal';

let client: Client;
const tables: string[] = [];
const env = { ...process.env, DATABASE_URL: ADMIN_URL };

beforeAll(async () => {
  client = await testClient();
});
afterAll(async () => {
  for (const t of tables) await admin(`DROP TABLE IF EXISTS ${t}`).catch(() => undefined);
  await client.connection.close();
});

const table = (prefix: string) => {
  const name = freshName(prefix);
  tables.push(name);
  return name;
};

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const x of iterable) all.push(x);
  return all;
}

test('planning pages through boundary keys; the chunks cover every row once, in key order, and resume from skip', async () => {
  const t = table('sluice_src');
  // Text keys with gaps, and rows the where clause leaves out.
  await admin(`CREATE TABLE ${t} (code text PRIMARY KEY, n int NOT NULL, at timestamptz NOT NULL)`);
  await admin(`INSERT INTO ${t} SELECT 'k' || lpad((i * 3)::text, 6, '0'), i, '2024-01-01 00:00:00.123456+00'::timestamptz + i * interval '1 second' FROM generate_series(1, 1003) i`);
  const spec: PostgresSourceSpec = { type: 'postgres', connection: '${env:DATABASE_URL}', table: t, key: 'code', columns: ['n', 'at'], where: 'n % 10 <> 0' };
  const ctx: CheckContext = { jobId: 'plan-test', spec: { source: { ...spec }, target: { type: 'none' }, maxParallelism: 1 }, env };
  await postgresSource.check?.(spec, ctx);

  const chunks: ChunkDescriptor[] = [];
  let cursor: unknown;
  let pages = 0;
  let total: number | undefined;
  do {
    const page = await postgresSource.plan(spec, 40, cursor, 5, ctx);
    if (pages === 0) total = page.total;
    pages += 1;
    chunks.push(...page.chunks);
    cursor = page.next;
  } while (cursor !== null);
  const expected = 1003 - 100;
  expect(total).toBe(expected);
  expect(chunks.map((c) => c.id)).toEqual(chunks.map((_c, i) => i));
  expect(chunks).toHaveLength(Math.ceil(expected / 40));
  expect(pages).toBeGreaterThanOrEqual(Math.ceil(chunks.length / 5));
  expect(chunks.reduce((sum, c) => sum + (c.size ?? 0), 0)).toBe(expected);

  const items: Item[] = [];
  for (const chunk of chunks) {
    const rows = await collect(postgresSource.read(spec, chunk, 0, ctx));
    expect(rows).toHaveLength(chunk.size as number);
    items.push(...rows);
  }
  const keys = items.map((i) => i.key);
  expect(new Set(keys).size).toBe(expected);
  expect([...keys].sort()).toEqual(keys);
  const first = items[0]?.value as Record<string, unknown>;
  // Timestamps come as Postgres prints them (microseconds and offset kept), so they survive JSON exactly.
  const at = (await admin<{ at: string }>(`SELECT at::text AS at FROM ${t} WHERE code = 'k000003'`)).rows[0]?.at;
  expect(at).toMatch(/\.123456/);
  expect(first).toEqual({ code: 'k000003', n: 1, at });

  const resumed = await collect(postgresSource.read(spec, chunks[1] as ChunkDescriptor, 15, ctx));
  expect(resumed.map((i) => i.key)).toEqual(keys.slice(40 + 15, 80));

  const wanted = ['k000006', 'k000030', 'nope', 'k000009'];
  const readKeys = postgresSource.readKeys?.bind(postgresSource);
  if (!readKeys) throw new Error('the postgres source has no readKeys');
  const found = await collect(readKeys(spec, wanted, ctx));
  expect(found.map((i) => [i.key, i.missing ?? false])).toEqual([['k000006', false], ['k000030', true], ['nope', true], ['k000009', false]]);
});

test('a chunk larger than a read page is read in key-ordered pages, each on a brief connection', async () => {
  const t = table('sluice_big');
  await admin(`CREATE TABLE ${t} (id int PRIMARY KEY, v text)`);
  await admin(`INSERT INTO ${t} SELECT i * 2, 'v' || i FROM generate_series(1, 12345) i`);
  const spec: PostgresSourceSpec = { type: 'postgres', connection: '${env:DATABASE_URL}', table: t, key: 'id' };
  const ctx: CheckContext = { jobId: 'read-test', spec: { source: { ...spec }, target: { type: 'none' }, maxParallelism: 1 }, env };
  const items = await collect(postgresSource.read(spec, { id: 0, slice: { after: 4, upTo: 24000 } }, 10, ctx));
  expect(items.map((i) => i.key)).toEqual(Array.from({ length: 12000 - 2 - 10 }, (_, i) => 2 * (i + 3 + 10)));
  expect(items[0]?.value).toEqual({ id: 26, v: 'v13' });
});

test('a table-to-table copy with a transform; rows a constraint rejects are retried through readKeys', async () => {
  const src = table('sluice_users');
  const dst = table('sluice_users_copy');
  const rows = 20_000;
  await admin(`CREATE TABLE ${src} (id bigint PRIMARY KEY, first_name text, last_name text, email text, signed_up timestamptz, deleted boolean NOT NULL DEFAULT false)`);
  await admin(`INSERT INTO ${src} SELECT i, 'First' || i, 'Last' || i, CASE WHEN i % 5000 = 7 THEN 'broken' ELSE 'User' || i || '@Example.COM' END,
    '2024-01-01'::timestamptz + i * interval '1 minute', i % 100 = 0 FROM generate_series(1, ${rows}) i`);
  await admin(`CREATE TABLE ${dst} (id bigint PRIMARY KEY, full_name text NOT NULL, email text NOT NULL CHECK (email LIKE '%@%'), signed_up timestamptz NOT NULL)`);
  const bad = [7, 5007, 10007, 15007];
  const live = rows - rows / 100;

  const spec: JobSpec = {
    name: 'table copy',
    source: { type: 'postgres', connection: '${env:DATABASE_URL}', table: src, key: 'id', columns: ['first_name', 'last_name', 'email', 'signed_up'], where: 'NOT deleted' },
    target: {
      type: 'postgres',
      connection: '${env:DATABASE_URL}',
      sql: `INSERT INTO ${dst} (id, full_name, email, signed_up) SELECT id, full_name, lower(email), signed_up FROM unnest($1::bigint[], $2::text[], $3::text[], $4::timestamptz[]) AS u(id, full_name, email, signed_up) ON CONFLICT (id) DO UPDATE SET full_name = EXCLUDED.full_name, email = EXCLUDED.email, signed_up = EXCLUDED.signed_up`,
      params: ['{{key}}', '{{item.first_name}} {{item.last_name}}', '{{item.email}}', '{{item.signed_up}}'],
      batchSize: 250,
    },
    chunkSize: 50, // 396 chunks: more than one plan page
    maxParallelism: 8,
  };
  const { worker, taskQueue } = await testWorker({ env });
  const jobId = uniqueId('pg-copy');
  const summary = await worker.runUntil(async () => (await (await startJob(client, spec, { taskQueue, jobId })).result()) as JobSummary);
  expect(summary).toMatchObject({ ok: live - bad.length, failed: bad.length, total: live });
  expect(await count(dst)).toBe(live - bad.length);
  const failed = (await collect(jobOutcomes(client, jobId))).filter((o) => !o.ok);
  expect(failed.map((o) => o.key)).toEqual(bad);
  expect(failed.every((o) => o.status === '23514')).toBe(true);

  // Fix the data at the source, then run only the failures again: the keys source reads them through readKeys.
  await admin(`UPDATE ${src} SET email = 'fixed' || id || '@example.com' WHERE email = 'broken'`);
  const second = await testWorker({ env });
  const retried = await second.worker.runUntil(async () => {
    const handle = await retryFailed(client, jobId, { taskQueue: second.taskQueue, jobId: uniqueId('pg-copy-retry') });
    return (await handle?.result()) as JobSummary;
  });
  expect(retried).toMatchObject({ ok: bad.length, failed: 0 });

  const diff = await admin<{ n: string }>(`SELECT count(*) AS n FROM (
    (SELECT id, first_name || ' ' || last_name, lower(email), signed_up FROM ${src} WHERE NOT deleted
     EXCEPT SELECT id, full_name, email, signed_up FROM ${dst})
    UNION ALL
    (SELECT id, full_name, email, signed_up FROM ${dst}
     EXCEPT SELECT id, first_name || ' ' || last_name, lower(email), signed_up FROM ${src} WHERE NOT deleted)) d`);
  expect(diff.rows[0]?.n).toBe('0');
  expect(await count(dst)).toBe(live);
});
