// What the Postgres source and target share: error classes, connecting on the worker, type parsing, bisection.
import pg from 'pg';
import { maskConnection } from '../common/spec-postgres';
import { SpecError } from './plugins';
import { resolveEnv } from './template';

/**
 * What to do about an error from Postgres or from the connection to it:
 * - `data`: the rows were rejected (classes 21, 22, 23); isolate the bad rows, fail only them.
 * - `transient`: the server is busy, restarting or unreachable, or the transaction lost a race; retry, never fail items.
 * - `fatal`: the statement or the setup is wrong (syntax, missing table, no privilege, bad login); fail the job.
 * - `unknown`: anything else; the chunk is retried by Temporal.
 */
export type PgErrorKind = 'data' | 'transient' | 'fatal' | 'unknown';

export interface PgErrorInfo {
  kind: PgErrorKind;
  /** SQLSTATE, or the Node error code (ECONNREFUSED) for a network error. */
  code?: string;
  message: string;
  /** The connection cannot be used any more: reconnect before the next statement. */
  reconnect: boolean;
}

const SQLSTATE = /^[0-9A-Z]{5}$/;
const TRANSIENT_CODES = new Set(['57P01', '57P02', '57P03', '40001', '40P01', '57014', '55P03', '55006']);
/** Transient errors after which the same connection can run the next statement. */
const SAME_CONNECTION = new Set(['40001', '40P01', '57014', '55P03', '55006']);
const CONNECTION_MESSAGES = /Connection terminated|connection error|not queryable|Client was closed|timeout expired|Connection ended|ECONN|EPIPE|socket/i;

export function classifyPgError(err: unknown): PgErrorInfo {
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e?.code === 'string' ? e.code : undefined;
  const message = maskConnection(typeof e?.message === 'string' ? e.message : String(err));
  if (code && SQLSTATE.test(code)) {
    const cls = code.slice(0, 2);
    if (cls === '21' || cls === '22' || cls === '23') return { kind: 'data', code, message, reconnect: false };
    if (cls === '08' || cls === '53' || cls === '58' || TRANSIENT_CODES.has(code)) return { kind: 'transient', code, message, reconnect: !SAME_CONNECTION.has(code) };
    if (['42', '0A', '28', '3D', '3F', '2B', '44'].includes(cls)) return { kind: 'fatal', code, message, reconnect: false };
    return { kind: 'unknown', code, message, reconnect: true };
  }
  // No SQLSTATE: the socket failed (ECONNREFUSED, ECONNRESET, ...) or pg gave up on the connection.
  if ((code && /^E[A-Z]+$/.test(code)) || CONNECTION_MESSAGES.test(message)) return { kind: 'transient', code, message, reconnect: true };
  return { kind: 'unknown', code, message, reconnect: true };
}

/** Which error class an isolated bad row fails with, as it goes into the manifest. */
export const describePgError = (info: PgErrorInfo) => (info.code ? `${info.code}: ${info.message}` : info.message).slice(0, 500);

// int8 as a number when it fits (ids stay numbers in keys and templates); dates and times as Postgres prints
// them, so a key or a value survives JSON (workflow history) without losing precision or its time zone.
const INT8 = 20;
const RAW_TEXT = new Set([1082, 1083, 1114, 1184, 1266]);
const parseInt8 = (text: string): number | string => {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : text;
};
export const jsonSafeTypes: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: string) => {
    if (oid === INT8) return parseInt8;
    if (RAW_TEXT.has(oid)) return (text: string) => text;
    return pg.types.getTypeParser(oid, format as 'text');
  }) as pg.CustomTypesConfig['getTypeParser'],
};

/** Client settings for a spec's `connection` (`${env:NAME}`), resolved from the worker's environment. */
export function clientConfig(connection: string, env: NodeJS.ProcessEnv, field: string, applicationName: string): pg.ClientConfig {
  const connectionString = resolveEnv(connection, env, field);
  if (connectionString.trim() === '') throw new SpecError(`${field}: the environment variable it names is empty`);
  return {
    connectionString,
    application_name: applicationName.slice(0, 63),
    connectionTimeoutMillis: 10_000,
    keepAlive: true,
    types: jsonSafeTypes,
  };
}

/**
 * A connected client. A broken connection (server restart, network) is reported through `onError` instead of
 * crashing the worker with an unhandled 'error' event.
 */
export async function connectClient(config: pg.ClientConfig, onError: (err: Error) => void = () => undefined): Promise<pg.Client> {
  const client = new pg.Client(config);
  client.on('error', onError);
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    throw err;
  }
  return client;
}

/** Ends a client, ignoring errors (it may already be broken). */
export async function endClient(client: pg.Client | undefined): Promise<void> {
  await client?.end().catch(() => undefined);
}

/**
 * Runs `attempt` on the whole batch; when it reports an error, splits the batch in halves and recurses, so good
 * items land and each bad item ends up alone with its own error. Errors of single items are returned in order.
 * Cost: about 2 x log2(batch) extra statements per bad item.
 */
export async function bisect<T, E>(items: T[], attempt: (batch: T[]) => Promise<E | undefined>): Promise<Array<E | undefined>> {
  if (items.length === 0) return [];
  const error = await attempt(items);
  if (error === undefined) return items.map(() => undefined);
  if (items.length === 1) return [error];
  const mid = Math.ceil(items.length / 2);
  const left = await bisect(items.slice(0, mid), attempt);
  const right = await bisect(items.slice(mid), attempt);
  return [...left, ...right];
}
