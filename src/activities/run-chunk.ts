// runChunk: one chunk on ONE target session, heartbeating a cursor so a retried attempt resumes after the last
// finished item, returning the chunk's outcomes once.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { JobSpec } from '../common/spec';
import { ErrorClass, type ChunkDescriptor, type ChunkResult, type ItemOutcome, type Key } from '../common/types';
import { TokenBucket, sleep, unpaced } from './pacing';
import type { ChunkContext, Item, Registry } from './plugins';
import { SpecError } from './plugins';
import { retryPolicy } from './retry';

export interface RunChunkInput {
  jobId: string;
  spec: JobSpec;
  chunk: ChunkDescriptor;
}

/** What a heartbeat carries: everything needed to resume and still return every outcome of the chunk. */
export interface ChunkProgress {
  /** Items of the chunk finished, in read order. */
  cursor: number;
  okCount: number;
  okStatus?: number | string;
  okNotes: ItemOutcome[];
  failed: ItemOutcome[];
  /** Keys in read order, when the descriptor cannot tell them. Kept in memory only: heartbeats leave them out. */
  keys?: Key[];
}

/** Heartbeat details are snapshots at most this often (the SDK throttles what it sends further). */
const HEARTBEAT_EVERY_MS = 500;

export function record(progress: ChunkProgress, outcome: ItemOutcome): void {
  progress.cursor += 1;
  progress.keys?.push(outcome.key);
  if (!outcome.ok) return void progress.failed.push(outcome);
  progress.okCount += 1;
  progress.okStatus ??= outcome.status;
  if (outcome.attempts !== 1 || outcome.status !== progress.okStatus) progress.okNotes.push(outcome);
}

/** What a heartbeat carries: the cursor and the outcomes that are not plain successes, never the key list. */
const snapshot = ({ keys: _keys, ...p }: ChunkProgress): ChunkProgress => ({ ...p, okNotes: p.okNotes.slice(), failed: p.failed.slice() });

/** The keys of the first `count` items of a chunk, read again from its source (a resumed attempt needs them for its result). */
async function firstKeys(items: AsyncIterable<Item>, count: number): Promise<Key[]> {
  const keys: Key[] = [];
  if (count === 0) return keys;
  for await (const item of items) {
    keys.push(item.key);
    if (keys.length >= count) break;
  }
  return keys;
}

export function makeRunChunk(registry: Registry, env: NodeJS.ProcessEnv = process.env) {
  return async function runChunk({ jobId, spec, chunk }: RunChunkInput): Promise<ChunkResult> {
    const activity = Context.current();
    const source = registry.sources.get(spec.source.type);
    const target = registry.targets.get(spec.target.type);
    if (!source || !target) throw ApplicationFailure.nonRetryable(`unknown source or target type: ${spec.source.type} -> ${spec.target.type}`, 'InvalidJobSpec');

    const checkCtx = { jobId, spec, env };
    const keyList = source.keyList?.(spec.source as never, chunk);
    const resumed = activity.info.heartbeatDetails as ChunkProgress | undefined;
    const progress: ChunkProgress = resumed ?? { cursor: 0, okCount: 0, okNotes: [], failed: [] };
    const resumedAt = progress.cursor;
    const signal = activity.cancellationSignal;
    const pacer = spec.pacing?.requestsPerSecond ? new TokenBucket(spec.pacing.requestsPerSecond, spec.pacing.burst ?? 1) : unpaced;
    const ctx: ChunkContext = { jobId, chunkId: chunk.id, spec, signal, pacer, retry: retryPolicy(spec.retry), sleep: (ms) => sleep(ms, signal), env };

    // The first heartbeat waits HEARTBEAT_EVERY_MS like the others: a chunk that ends sooner sends none (its result
    // is the record), which spares the server one RecordActivityTaskHeartbeat per short chunk.
    let lastBeat = Date.now();
    const beat = (force = false) => {
      const now = Date.now();
      if (!force && now - lastBeat < HEARTBEAT_EVERY_MS) return;
      lastBeat = now;
      activity.heartbeat(snapshot(progress));
    };
    // Keeps heartbeating (and so learning of cancellation) while a call or a Retry-After wait is slow.
    const timer = setInterval(() => beat(true), 1000);
    const batchSize = target.batchSize?.(spec.target as never) ?? 1;
    let session: unknown;
    try {
      // A resumed attempt needs the finished items' keys for its result: heartbeats leave them out.
      if (!keyList) progress.keys = await firstKeys(source.read(spec.source as never, chunk, 0, checkCtx), resumedAt);
      session = await target.open(spec.target as never, ctx);
      let batch: Item[] = [];
      const flush = async () => {
        const items = batch;
        batch = [];
        const valid = items.filter((i) => !('invalid' in i));
        const outcomes = valid.length > 0 ? await target.process(session, valid, ctx) : [];
        if (outcomes.length !== valid.length) throw new Error(`target ${target.type} returned ${outcomes.length} outcomes for ${valid.length} items`);
        let next = 0;
        for (const item of items) {
          const invalid = (item as { invalid?: string }).invalid;
          record(progress, invalid ? { key: item.key, ok: false, attempts: 0, error: invalid, errorClass: ErrorClass.permanent } : (outcomes[next++] as ItemOutcome));
        }
        beat();
      };
      for await (const item of source.read(spec.source as never, chunk, progress.cursor, checkCtx)) {
        batch.push(item);
        if (batch.length >= batchSize) await flush();
      }
      if (batch.length > 0) await flush();
    } catch (err) {
      if (err instanceof SpecError) throw ApplicationFailure.nonRetryable(err.message, 'InvalidJobSpec');
      throw err;
    } finally {
      clearInterval(timer);
      if (session !== undefined) await target.close(session).catch(() => undefined);
    }
    return {
      chunkId: chunk.id,
      keys: keyList ?? { keys: progress.keys ?? [] },
      okCount: progress.okCount,
      okStatus: progress.okStatus,
      okNotes: progress.okNotes,
      failed: progress.failed,
      resumedAt,
      attempt: activity.info.attempt,
    };
  };
}
