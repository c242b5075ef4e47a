// Postgres helpers for integration tests: a superuser connection, fresh table and role names, a pg_stat_activity
// sampler, and a check that the history of a job never scheduled a chunk.
import { randomUUID } from 'node:crypto';
import type { Client as TemporalClient } from '@temporalio/client';
import pg from 'pg';
import type { JobSpec } from '../../src/common/spec';

/** The shared test database (trust auth). Override with SLUICE_TEST_PG_URL. */
export const ADMIN_URL = process.env.SLUICE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A URL for `role` on the same server and database as ADMIN_URL. */
export function urlFor(role: string): string {
  const url = new URL(ADMIN_URL);
  url.username = role;
  url.password = '';
  return url.toString();
}

/** A lower-case name no other test uses: a table or a role. */
export const freshName = (prefix: string) => `${prefix}_${randomUUID().replace(/-/g, '').slice(0, 10)}`;

export async function adminClient(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: ADMIN_URL, application_name: 'sluice test admin' });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** Runs one statement on a fresh superuser connection (survives a server restart between calls). */
export async function admin<R extends pg.QueryResultRow = Record<string, unknown>>(text: string, values: unknown[] = []): Promise<pg.QueryResult<R>> {
  const client = await adminClient();
  try {
    return await client.query<R>(text, values);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function count(table: string): Promise<number> {
  return Number((await admin<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0]?.n);
}

/** A LOGIN role allowed `limit` connections at once. */
export async function createLimitedRole(limit: number): Promise<string> {
  const role = freshName('sluice_role');
  await admin(`CREATE ROLE ${role} LOGIN CONNECTION LIMIT ${limit}`);
  return role;
}

export async function dropRole(role: string, tables: string[] = []): Promise<void> {
  for (const t of tables) await admin(`DROP TABLE IF EXISTS ${t}`).catch(() => undefined);
  await admin(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1`, [role]).catch(() => undefined);
  await admin(`DROP OWNED BY ${role}`).catch(() => undefined);
  await admin(`DROP ROLE IF EXISTS ${role}`).catch(() => undefined);
}

export interface Sampler {
  /** Stops sampling; resolves with the largest count seen and the number of samples. */
  stop(): Promise<{ max: number; samples: number }>;
}

/** Counts the connections of `role` in pg_stat_activity every `everyMs`, from its own superuser connection. */
export async function sampleConnections(role: string, everyMs = 50): Promise<Sampler> {
  const client = await adminClient();
  let max = 0;
  let samples = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1', [role]);
      max = Math.max(max, rows[0]?.n ?? 0);
      samples += 1;
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      await client.end();
      return { max, samples };
    },
  };
}

/** Activity types scheduled in a job's (first run's) history. */
export async function scheduledActivities(client: TemporalClient, jobId: string): Promise<string[]> {
  const history = await client.workflow.getHandle(jobId).fetchHistory();
  return (history.events ?? []).flatMap((e) => {
    const name = e.activityTaskScheduledEventAttributes?.activityType?.name;
    return name ? [name] : [];
  });
}

/**
 * A job writing rows 0..rows-1 into `table` (id bigint primary key, name text, writes int default 1) as an upsert
 * that counts how often each row was written, so that redone work shows.
 */
export function upsertJob(table: string, rows: number, job: Partial<JobSpec> & { maxParallelism: number }, target: Record<string, unknown> = {}): JobSpec {
  return {
    source: { type: 'range', start: 0, end: rows },
    target: {
      type: 'postgres',
      connection: '${env:DATABASE_URL}',
      sql: `INSERT INTO ${table} (id, name) SELECT * FROM unnest($1::bigint[], $2::text[]) ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, writes = ${table}.writes + 1`,
      params: ['{{key}}', 'row {{key}}'],
      ...target,
    },
    ...job,
  };
}
