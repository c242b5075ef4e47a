// The manifest: one JSON object per item and line, built from chunk results in plan order.
import type { ChunkResult, ItemOutcome, Key } from './types';

function* keysOf(result: ChunkResult): Iterable<Key> {
  if ('range' in result.keys) {
    const [start, end, step] = result.keys.range;
    for (let n = start; n < end; n += step) yield n;
  } else yield* result.keys.keys;
}

/** The chunk's outcomes, one per item, in the chunk's order. */
export function* chunkOutcomes(result: ChunkResult): Iterable<ItemOutcome> {
  const byKey = new Map<string, ItemOutcome>();
  for (const o of result.okNotes) byKey.set(String(o.key), o);
  for (const o of result.failed) byKey.set(String(o.key), o);
  for (const key of keysOf(result)) {
    const special = byKey.get(String(key));
    if (special) yield { ...special, key };
    else yield result.okStatus === undefined ? { key, ok: true, attempts: 1 } : { key, ok: true, status: result.okStatus, attempts: 1 };
  }
}

/** A manifest line: key, ok, status, attempts, then error and errorClass for failures. */
export function manifestLine(o: ItemOutcome): string {
  const line: Record<string, unknown> = { key: o.key, ok: o.ok };
  if (o.status !== undefined) line.status = o.status;
  line.attempts = o.attempts;
  if (!o.ok) {
    line.error = o.error;
    line.errorClass = o.errorClass;
  }
  return JSON.stringify(line);
}
