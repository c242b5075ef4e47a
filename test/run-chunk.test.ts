// runChunk through the real activity context: a resumed attempt skips finished items, re-reads only their keys,
// and still returns every outcome of the chunk once; heartbeats carry the cursor but never the key list.
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createRegistry } from '../src/activities';
import type { Item, Target } from '../src/activities/plugins';
import { makeRunChunk, type ChunkProgress } from '../src/activities/run-chunk';
import { chunkOutcomes } from '../src/common/manifest';
import type { JobSpec } from '../src/common/spec';
import type { ChunkDescriptor, ChunkResult } from '../src/common/types';

const path = join(tmpdir(), `sluice-run-chunk-${process.pid}.jsonl`);
writeFileSync(path, Array.from({ length: 10 }, (_, i) => JSON.stringify({ id: `k${i}` })).join('\n'));

function recordingTarget(seen: Item[], delayMs = 0): Target {
  return {
    type: 'recording',
    batchSize: () => 4,
    open: async () => 'session',
    process: async (_s, items) => {
      seen.push(...items);
      await new Promise((r) => setTimeout(r, delayMs));
      return items.map((i) => (i.key === 'k8' ? { key: i.key, ok: false, attempts: 1, error: 'no', errorClass: 'permanent' } : { key: i.key, ok: true, attempts: 1, status: 200 }));
    },
    close: async () => undefined,
  };
}

const spec: JobSpec = { source: { type: 'jsonl', path }, target: { type: 'recording' }, maxParallelism: 1 };
const chunk: ChunkDescriptor = { id: 0, size: 10, slice: { path, start: 0, end: 1_000, line: 1 } };

test('a fresh attempt processes every item and heartbeats without keys', async () => {
  const seen: Item[] = [];
  const env = new MockActivityEnvironment();
  const beats: ChunkProgress[] = [];
  env.on('heartbeat', (d: ChunkProgress) => beats.push(d));
  const runChunk = makeRunChunk(createRegistry({ targets: [recordingTarget(seen, 250)] })); // 3 batches: 750 ms
  const result: ChunkResult = await env.run(runChunk, { jobId: 'j', spec, chunk });
  expect(beats.length).toBeGreaterThan(0);
  expect(beats[0]).toMatchObject({ cursor: expect.any(Number), okCount: expect.any(Number) });
  expect(seen.map((i) => i.key)).toEqual(['k0', 'k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7', 'k8', 'k9']);
  expect(result).toMatchObject({ okCount: 9, resumedAt: 0, keys: { keys: seen.map((i) => i.key) } });
  for (const beat of beats) expect(beat.keys).toBeUndefined();
});

test('a resumed attempt skips the finished items and returns every outcome once', async () => {
  const seen: Item[] = [];
  const resumedFrom: ChunkProgress = { cursor: 4, okCount: 3, okStatus: 200, okNotes: [], failed: [{ key: 'k1', ok: false, attempts: 3, error: 'HTTP 500', errorClass: 'retryable' }] };
  const env = new MockActivityEnvironment({ attempt: 2, heartbeatDetails: resumedFrom });
  const runChunk = makeRunChunk(createRegistry({ targets: [recordingTarget(seen)] }));
  const result: ChunkResult = await env.run(runChunk, { jobId: 'j', spec, chunk });
  expect(seen.map((i) => i.key)).toEqual(['k4', 'k5', 'k6', 'k7', 'k8', 'k9']);
  expect(result).toMatchObject({ resumedAt: 4, attempt: 2, okCount: 8 });
  const outcomes = [...chunkOutcomes(result)];
  expect(outcomes.map((o) => [o.key, o.ok])).toEqual([
    ['k0', true], ['k1', false], ['k2', true], ['k3', true], ['k4', true], ['k5', true], ['k6', true], ['k7', true], ['k8', false], ['k9', true],
  ]);
});
