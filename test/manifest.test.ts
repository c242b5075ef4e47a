// Chunk results expand to exactly one manifest line per item, in order.
import { chunkOutcomes, manifestLine } from '../src/common/manifest';
import { record, type ChunkProgress } from '../src/activities/run-chunk';
import type { ChunkResult } from '../src/common/types';

test('a range chunk lists every key once, with failures and notable successes in place', () => {
  const result: ChunkResult = {
    chunkId: 0, keys: { range: [10, 20, 2] }, okCount: 3, okStatus: 200, resumedAt: 0, attempt: 1,
    okNotes: [{ key: 14, ok: true, status: 200, attempts: 2 }],
    failed: [{ key: 16, ok: false, status: 500, attempts: 3, error: 'HTTP 500', errorClass: 'retryable' }],
  };
  const lines = [...chunkOutcomes(result)].map(manifestLine).map((l) => JSON.parse(l));
  expect(lines).toEqual([
    { key: 10, ok: true, status: 200, attempts: 1 },
    { key: 12, ok: true, status: 200, attempts: 1 },
    { key: 14, ok: true, status: 200, attempts: 2 },
    { key: 16, ok: false, status: 500, attempts: 3, error: 'HTTP 500', errorClass: 'retryable' },
    { key: 18, ok: true, status: 200, attempts: 1 },
  ]);
});

test('recording outcomes keeps plain successes as a count and keys in read order', () => {
  const progress: ChunkProgress = { cursor: 0, okCount: 0, okNotes: [], failed: [], keys: [] };
  record(progress, { key: 'a', ok: true, status: 200, attempts: 1 });
  record(progress, { key: 'b', ok: true, status: 201, attempts: 1 });
  record(progress, { key: 'c', ok: false, status: 404, attempts: 1, error: 'HTTP 404', errorClass: 'permanent' });
  expect(progress).toEqual({
    cursor: 3, okCount: 2, okStatus: 200, keys: ['a', 'b', 'c'],
    okNotes: [{ key: 'b', ok: true, status: 201, attempts: 1 }],
    failed: [{ key: 'c', ok: false, status: 404, attempts: 1, error: 'HTTP 404', errorClass: 'permanent' }],
  });
});
