// The plug-in contracts: a source plans and reads chunks, a target opens one session per chunk and processes items.
import type { ChunkDescriptor, ItemOutcome, Key, KeyList, PlanPage } from '../common/types';
import type { JobSpec } from '../common/spec';
import type { Pacer } from './pacing';
import type { RetryPolicy } from './retry';

/** One unit of external work. */
export interface Item {
  key: Key;
  /** What the target templates from: the number for a range, the parsed line for JSONL, the row for Postgres. */
  value: unknown;
}

/** What a target gets while it runs a chunk. */
export interface ChunkContext {
  /** Stable across continue-as-new and retries: the workflow id. */
  jobId: string;
  chunkId: number;
  spec: JobSpec;
  /** Aborted when the chunk is cancelled (workflow cancelled, or the worker shutting down). */
  signal: AbortSignal;
  /** Take a token before every call to the external system, retries included. */
  pacer: Pacer;
  retry: RetryPolicy;
  /** Sleeps, or rejects as soon as the chunk is cancelled. */
  sleep(ms: number): Promise<void>;
  /** The worker's environment: the only place secrets come from. */
  env: NodeJS.ProcessEnv;
}

export interface CheckContext {
  jobId: string;
  spec: JobSpec;
  env: NodeJS.ProcessEnv;
}

export interface Source<S = Record<string, unknown>> {
  readonly type: string;
  /** Throws a SpecError before any chunk runs when the source cannot be read (missing file, table). */
  check?(spec: S, ctx: CheckContext): Promise<void>;
  /** One page of chunk descriptors, from `cursor` (undefined for the first page). */
  plan(spec: S, chunkSize: number, cursor: unknown, pageSize: number, ctx: CheckContext): Promise<PlanPage>;
  /** The chunk's items in order, after skipping the first `skip` (finished by an earlier attempt). */
  read(spec: S, chunk: ChunkDescriptor, skip: number, ctx: CheckContext): AsyncIterable<Item>;
  /** The chunk's keys when the descriptor alone tells them (so results need not list them). */
  keyList?(spec: S, chunk: ChunkDescriptor): KeyList | undefined;
  /** The items with these keys, in this order; a key not in the source yields `{ key, value: undefined, missing: true }`. */
  readKeys?(spec: S, keys: Key[], ctx: CheckContext): AsyncIterable<Item & { missing?: boolean }>;
}

export interface Target<T = Record<string, unknown>, Session = unknown> {
  readonly type: string;
  /** Throws a SpecError before any chunk runs when the target cannot work (bad SQL, missing env var). */
  check?(spec: T, ctx: CheckContext): Promise<void>;
  /** Items handed to `process` at once. @default 1 */
  batchSize?(spec: T): number;
  /** Opens the ONE client or connection the chunk reuses. */
  open(spec: T, ctx: ChunkContext): Promise<Session>;
  /** One outcome per item, in order. Per-item failures are outcomes; throw only when the chunk cannot go on. */
  process(session: Session, items: Item[], ctx: ChunkContext): Promise<ItemOutcome[]>;
  close(session: Session): Promise<void>;
}

/** A problem with the job spec found on the worker: fails the job at once, naming the field. */
export class SpecError extends Error {
  override readonly name = 'SpecError';
}

/** A source or target of any spec type: what a registry holds and what a worker accepts. */
export type AnySource = Source<never>;
export type AnyTarget = Target<never>;

export interface Registry {
  sources: Map<string, AnySource>;
  targets: Map<string, AnyTarget>;
}
