// Source `postgres`: a table's rows in key order. Planning reads only chunk-boundary keys (a window query over one
// page of keys), so the plan is a list of key ranges (after, upTo]; each chunk reads its rows on its own connection.
import type pg from 'pg';
import { quoteIdent, quoteQualified, type PostgresSourceSpec } from '../../common/spec-postgres';
import type { ChunkDescriptor, Key, PlanPage } from '../../common/types';
import { sleep } from '../pacing';
import { classifyPgError, clientConfig, connectClient, endClient } from '../pg';
import { type CheckContext, type Item, type Source, SpecError } from '../plugins';
import { backoffMs, retryPolicy } from '../retry';

/** Rows of a chunk: key > after (no lower bound when null) and key <= upTo. */
export interface KeyRangeSlice {
  after: Key | null;
  upTo: Key;
}

interface PlanCursor {
  after: Key | null;
  id: number;
}

const MIN_TRANSIENT_ATTEMPTS = 5;
/** Rows read per query by read(). */
const READ_PAGE = 5_000;
/** Keys looked up per statement by readKeys. */
const LOOKUP_BATCH = 5_000;

/** The SQL this source runs, built from validated, quoted identifiers; every value is a parameter. */
export function sourceSql(spec: PostgresSourceSpec) {
  const table = quoteQualified(spec.table);
  const key = quoteIdent(spec.key);
  const columns = spec.columns ? [...new Set([...spec.columns, spec.key])].map(quoteIdent).join(', ') : '*';
  // The condition sits in its own parentheses and lines, so nothing in it can reach the key bounds.
  const filter = (lower: string) => `WHERE ${spec.where ? `(\n${spec.where}\n) AND ` : ''}${key} IS NOT NULL${lower}`;
  return {
    check: `SELECT ${columns} FROM ${table} ${filter('')} ORDER BY ${key} LIMIT 0`,
    count: `SELECT count(*) AS n FROM ${table} ${filter('')}`,
    /** Boundary keys of the next `$1` rows (every `$2`-th key and the last one), after `$3` when given. */
    boundaries: (hasLower: boolean) =>
      `SELECT k, rn, n FROM (SELECT k, row_number() OVER (ORDER BY k) AS rn, count(*) OVER () AS n FROM ` +
      `(SELECT ${key} AS k FROM ${table} ${filter(hasLower ? ` AND ${key} > $3` : '')} ORDER BY ${key} LIMIT $1) page) s ` +
      `WHERE rn % $2 = 0 OR rn = n ORDER BY rn`,
    /** At most `$3` rows with key <= `$1` (and > `$4` when given), skipping the first `$2`. */
    range: (hasLower: boolean) => `SELECT ${columns} FROM ${table} ${filter(hasLower ? ` AND ${key} > $4` : '')} AND ${key} <= $1 ORDER BY ${key} OFFSET $2 LIMIT $3`,
    lookup: `SELECT ${columns} FROM ${table} ${filter('')} AND ${key} = ANY($1)`,
  };
}

/** Connects, runs one query and disconnects, retrying transient errors (server busy, restarting, unreachable). */
async function query(spec: PostgresSourceSpec, ctx: CheckContext, text: string, values: unknown[]): Promise<pg.QueryResult> {
  const config = clientConfig(spec.connection, ctx.env, 'source.connection', `sluice source ${ctx.jobId}`);
  const policy = retryPolicy(ctx.spec.retry);
  for (let attempts = 1; ; attempts++) {
    let client: pg.Client | undefined;
    try {
      client = await connectClient(config);
      return await client.query({ text, values });
    } catch (err) {
      const info = classifyPgError(err);
      if (info.kind === 'fatal' || info.kind === 'data') throw new SpecError(`source: ${info.message}${info.code ? ` (SQLSTATE ${info.code})` : ''}`);
      if (info.kind === 'unknown' || attempts >= Math.max(policy.maxAttempts, MIN_TRANSIENT_ATTEMPTS)) throw err;
      await sleep(backoffMs(policy, attempts));
    } finally {
      await endClient(client);
    }
  }
}

const keyOf = (row: Record<string, unknown>, key: string): Key => {
  const v = row[key];
  return typeof v === 'number' || typeof v === 'string' ? v : String(v);
};

export const postgresSource: Source<PostgresSourceSpec> = {
  type: 'postgres',

  /** The table, the columns, the key's ordering and the where clause, checked by Postgres itself. */
  async check(spec, ctx) {
    await query(spec, ctx, sourceSql(spec).check, []);
  },

  async plan(spec, chunkSize, cursor, pageSize, ctx): Promise<PlanPage> {
    const sql = sourceSql(spec);
    const c = (cursor ?? { after: null, id: 0 }) as PlanCursor;
    const limit = chunkSize * pageSize;
    const values: unknown[] = c.after === null ? [limit, chunkSize] : [limit, chunkSize, c.after];
    const { rows } = await query(spec, ctx, sql.boundaries(c.after !== null), values);
    const chunks: ChunkDescriptor[] = [];
    let after = c.after;
    let previousRn = 0;
    let seen = 0;
    for (const row of rows as Array<{ k: unknown; rn: number; n: number }>) {
      const upTo = keyOf(row, 'k');
      const slice: KeyRangeSlice = { after, upTo };
      chunks.push({ id: c.id + chunks.length, size: Number(row.rn) - previousRn, slice: slice as unknown as Record<string, unknown> });
      previousRn = Number(row.rn);
      seen = Number(row.n);
      after = upTo;
    }
    const next: PlanCursor | null = seen < limit ? null : { after, id: c.id + chunks.length };
    let total: number | undefined;
    if (cursor === undefined) total = next === null ? seen : Number((await query(spec, ctx, sql.count, [])).rows[0]?.n ?? 0);
    return { chunks, next, total };
  },

  async *read(spec, chunk, skip, ctx) {
    const { after, upTo } = chunk.slice as unknown as KeyRangeSlice;
    const sql = sourceSql(spec);
    // Pages of rows, each read on a connection held only for its query: memory stays bounded and the source
    // does not hold a connection while the target works.
    let lower = after;
    let offset = skip;
    for (;;) {
      const values: unknown[] = lower === null ? [upTo, offset, READ_PAGE] : [upTo, offset, READ_PAGE, lower];
      const rows = (await query(spec, ctx, sql.range(lower !== null), values)).rows as Array<Record<string, unknown>>;
      for (const row of rows) yield { key: keyOf(row, spec.key), value: row } satisfies Item;
      const last = rows[rows.length - 1];
      if (rows.length < READ_PAGE || !last) return;
      lower = keyOf(last, spec.key);
      offset = 0;
    }
  },

  async *readKeys(spec, keys, ctx) {
    const sql = sourceSql(spec).lookup;
    for (let i = 0; i < keys.length; i += LOOKUP_BATCH) {
      const batch = keys.slice(i, i + LOOKUP_BATCH);
      const { rows } = await query(spec, ctx, sql, [batch]);
      const byKey = new Map((rows as Array<Record<string, unknown>>).map((row) => [String(keyOf(row, spec.key)), row]));
      for (const key of batch) {
        const row = byKey.get(String(key));
        yield row ? { key: keyOf(row, spec.key), value: row } : { key, value: undefined, missing: true };
      }
    }
  },
};
