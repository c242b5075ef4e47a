// Reads a job's outcomes back from Temporal: every chunk result is an activity result in some run's history.
// Nothing here depends on a worker's disk: any machine with access to the namespace can write the manifest.
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { finished } from 'node:stream/promises';
import { once } from 'node:events';
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { chunkOutcomes, manifestLine } from '../common/manifest';
import type { ChunkResult, ItemOutcome } from '../common/types';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

const RUN_CHUNK = 'runChunk';

/** Chunk results recorded in one run's history. */
function resultsOfRun(events: HistoryEvent[]): ChunkResult[] {
  const chunkActivities = new Set<string>();
  const results: ChunkResult[] = [];
  for (const e of events) {
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled?.activityType?.name === RUN_CHUNK) chunkActivities.add(String(e.eventId));
    const completed = e.activityTaskCompletedEventAttributes;
    const payload = completed?.result?.payloads?.[0];
    if (completed && payload && chunkActivities.has(String(completed.scheduledEventId))) {
      results.push(defaultPayloadConverter.fromPayload<ChunkResult>(payload));
    }
  }
  return results;
}

/** Every chunk result of a job, across continue-as-new runs, in plan order (one per chunk). */
export async function chunkResults(client: Client, jobId: string): Promise<ChunkResult[]> {
  const byChunk = new Map<number, ChunkResult>();
  let runId: string | undefined;
  // Walk from the latest run back to the first through each run's `continuedExecutionRunId`.
  for (let hops = 0; hops < 100_000; hops++) {
    const history = await client.workflow.getHandle(jobId, runId).fetchHistory();
    const events = history.events ?? [];
    for (const r of resultsOfRun(events)) if (!byChunk.has(r.chunkId)) byChunk.set(r.chunkId, r);
    const previous = events[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId;
    if (!previous) break;
    runId = previous;
  }
  return [...byChunk.values()].sort((a, b) => a.chunkId - b.chunkId);
}

/** Every item's outcome in plan order. */
export async function* jobOutcomes(client: Client, jobId: string): AsyncIterable<ItemOutcome> {
  for (const result of await chunkResults(client, jobId)) yield* chunkOutcomes(result);
}

/** Every item's outcome in plan order, as an array: for jobs whose outcomes fit in memory. */
export async function listOutcomes(client: Client, jobId: string): Promise<ItemOutcome[]> {
  const all: ItemOutcome[] = [];
  for await (const o of jobOutcomes(client, jobId)) all.push(o);
  return all;
}

export interface ManifestSummary { path: string; lines: number; ok: number; failed: number }

/** Writes the manifest (all items, or only failures) to `path`. */
export async function writeManifestFile(client: Client, jobId: string, path: string, opts: { failedOnly?: boolean } = {}): Promise<ManifestSummary> {
  await mkdir(dirname(path), { recursive: true });
  const out = createWriteStream(path);
  // An unopenable path must fail this call (and the activity), not crash the process with an unhandled 'error'.
  let failure: Error | undefined;
  out.on('error', (err) => void (failure = err));
  await once(out, 'open');
  const summary: ManifestSummary = { path, lines: 0, ok: 0, failed: 0 };
  try {
    for await (const o of jobOutcomes(client, jobId)) {
      if (o.ok) summary.ok += 1;
      else summary.failed += 1;
      if (opts.failedOnly && o.ok) continue;
      summary.lines += 1;
      if (failure) throw failure;
      if (!out.write(`${manifestLine(o)}\n`)) await once(out, 'drain');
    }
  } catch (err) {
    out.destroy();
    throw err;
  }
  out.end();
  await finished(out);
  return summary;
}
