// Target `postgres`: ONE pg.Client per chunk, one parameterized statement per batch (parameter i = the array of
// params[i] over the batch). Rows rejected by the data (classes 21, 22, 23) are isolated by bisecting the batch, so
// good rows land and only bad keys fail; a busy, restarting or unreachable server is retried, never an item failure.
import { ApplicationFailure } from '@temporalio/common';
import type pg from 'pg';
import { POSTGRES_DEFAULTS, type PostgresTargetSpec } from '../../common/spec-postgres';
import { ErrorClass, type ItemOutcome } from '../../common/types';
import { bisect, classifyPgError, clientConfig, connectClient, describePgError, endClient, type PgErrorInfo } from '../pg';
import type { ChunkContext, CheckContext, Item, Target } from '../plugins';
import { SpecError } from '../plugins';
import { backoffMs } from '../retry';
import { renderJson } from '../template';

interface PgSession {
  spec: PostgresTargetSpec;
  config: pg.ClientConfig;
  /** Undefined after the connection broke, until the next statement reconnects. */
  client?: pg.Client;
  broken: boolean;
}

/** Counters of this worker process, for tests and metrics. */
export const postgresTargetStats = {
  connections: 0,
  /** Connections refused because the role or the server had too many (53300). */
  refused: 0,
  /** Statements or connection attempts retried after a transient error. */
  retries: 0,
  /** Connections replaced after they broke (server restart, network). */
  reconnects: 0,
  statements: 0,
};

/** Attempts in the chunk before it is handed to Temporal's activity retry (which resumes from the heartbeat). */
const MIN_TRANSIENT_ATTEMPTS = 5;
const STATEMENT = 'sluice_write';

/** The value of one parameter for one item: objects and arrays as JSON text, missing values as NULL. */
export function paramValue(template: unknown, item: Item): unknown {
  const v = renderJson(template, item);
  if (v === undefined) return null;
  return typeof v === 'object' && v !== null ? JSON.stringify(v) : v;
}

/** The statement's parameters for a batch: parameter i is the array of params[i] over the batch's items. */
export function batchParams(params: unknown[], rows: unknown[][]): unknown[][] {
  return params.map((_t, i) => rows.map((row) => row[i]));
}

const fatal = (info: PgErrorInfo, what: string) => new SpecError(`target.${what}: ${info.message}${info.code ? ` (SQLSTATE ${info.code})` : ''}`);

function unavailable(info: PgErrorInfo, attempts: number): ApplicationFailure {
  return ApplicationFailure.retryable(`Postgres unavailable after ${attempts} attempts in this chunk: ${describePgError(info)}`, 'PostgresUnavailable');
}

async function connect(session: PgSession): Promise<pg.Client> {
  session.broken = false;
  const client = await connectClient(session.config, () => void (session.broken = true));
  postgresTargetStats.connections += 1;
  session.client = client;
  return client;
}

/**
 * Runs `work` on the session's connection, reconnecting and retrying with backoff on transient errors
 * (pacing tokens are spent on every attempt). Returns the data error, if any, and the attempts it took.
 */
async function withRetries(session: PgSession, ctx: ChunkContext, work: (client: pg.Client) => Promise<unknown>): Promise<{ error?: PgErrorInfo; attempts: number }> {
  const maxAttempts = Math.max(ctx.retry.maxAttempts, MIN_TRANSIENT_ATTEMPTS);
  for (let attempts = 1; ; attempts++) {
    await ctx.pacer.take(ctx.signal);
    try {
      if (session.broken || !session.client) {
        if (session.client) postgresTargetStats.reconnects += 1;
        await endClient(session.client);
        session.client = undefined;
      }
      await work(session.client ?? (await connect(session)));
      return { attempts };
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      const info = classifyPgError(err);
      if (info.kind === 'data') return { error: info, attempts };
      if (info.kind === 'fatal') throw fatal(info, info.code?.startsWith('28') || info.code?.startsWith('3D') ? 'connection' : 'sql');
      if (info.reconnect) session.broken = true;
      if (info.kind === 'unknown') throw err;
      if (info.code === '53300') postgresTargetStats.refused += 1;
      if (attempts >= maxAttempts) throw unavailable(info, attempts);
      postgresTargetStats.retries += 1;
      await ctx.sleep(backoffMs(ctx.retry, attempts));
    }
  }
}

export const postgresTarget: Target<PostgresTargetSpec, PgSession> = {
  type: 'postgres',

  /** Plans the statement with NULL parameters (EXPLAIN, never executed): syntax, tables, columns, types, privileges. */
  async check(spec: PostgresTargetSpec, ctx: CheckContext) {
    const config = clientConfig(spec.connection, ctx.env, 'target.connection', `sluice check ${ctx.jobId}`);
    let client: pg.Client | undefined;
    try {
      client = await connectClient(config);
      // A named statement goes through the extended protocol: one statement only, nothing else can run.
      await client.query({ name: 'sluice_check', text: `EXPLAIN ${spec.sql}`, values: spec.params.map(() => null) });
    } catch (err) {
      const info = classifyPgError(err);
      if (info.kind === 'transient' && !info.code?.startsWith('08P')) throw err;
      throw fatal(info, info.code?.startsWith('28') || info.code?.startsWith('3D') ? 'connection' : 'sql');
    } finally {
      await endClient(client);
    }
  },

  batchSize(spec) {
    return spec.batchSize ?? POSTGRES_DEFAULTS.batchSize;
  },

  async open(spec, ctx) {
    const session: PgSession = {
      spec,
      config: clientConfig(spec.connection, ctx.env, 'target.connection', `sluice ${ctx.jobId} #${ctx.chunkId}`),
      broken: false,
    };
    try {
      await withRetries(session, ctx, async () => undefined);
    } catch (err) {
      await endClient(session.client);
      throw err;
    }
    return session;
  },

  async process(session, items, ctx) {
    const rows = items.map((item) => ({ item, values: session.spec.params.map((t) => paramValue(t, item)), retries: 0 }));
    const errors = await bisect(rows, async (batch) => {
      const values = batchParams(session.spec.params, batch.map((r) => r.values));
      const { error, attempts } = await withRetries(session, ctx, (client) => {
        postgresTargetStats.statements += 1;
        return client.query({ name: STATEMENT, text: session.spec.sql, values });
      });
      for (const r of batch) r.retries += attempts - 1;
      return error;
    });
    return rows.map(({ item, retries }, i): ItemOutcome => {
      const error = errors[i];
      const attempts = 1 + retries;
      if (!error) return { key: item.key, ok: true, attempts };
      return { key: item.key, ok: false, attempts, status: error.code, error: error.message.slice(0, 500), errorClass: ErrorClass.permanent };
    });
  },

  async close(session) {
    await endClient(session.client);
  },
};
