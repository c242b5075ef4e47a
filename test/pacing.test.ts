// Pacing, retry timing and templates: pure logic with an injected clock.
import { sleep, TokenBucket } from '../src/activities/pacing';
import { backoffMs, parseRetryAfter, retryPolicy } from '../src/activities/retry';
import { renderJson, renderString, resolveEnv } from '../src/activities/template';
import { classifyStatus } from '../src/activities/targets/http';
import { SpecError } from '../src/activities/plugins';

test('a token bucket never lets more than burst + rate x elapsed calls through', async () => {
  let now = 0;
  const bucket = new TokenBucket(10, 2, () => now);
  const takes: number[] = [];
  const realSetTimeout = setTimeout;
  // Advance the injected clock by however long the bucket asks to sleep.
  jest.spyOn(global, 'setTimeout').mockImplementation(((fn: () => void, ms: number) => {
    now += ms;
    return realSetTimeout(fn, 0);
  }) as never);
  for (let i = 0; i < 50; i++) {
    await bucket.take();
    takes.push(now);
  }
  jest.restoreAllMocks();
  for (let i = 0; i < takes.length; i++) {
    const elapsedMs = takes[i] as number;
    expect(i + 1).toBeLessThanOrEqual(2 + Math.floor((elapsedMs / 1000) * 10 + 1e-9));
  }
  expect(takes[49]).toBeCloseTo(4800, 0); // 50 calls at 10/s after a burst of 2
});

test('the bucket rejects bad options naming them', () => {
  expect(() => new TokenBucket(0)).toThrow('ratePerSecond: expected a number above 0, got 0');
  expect(() => new TokenBucket(5, 0)).toThrow('burst: expected a whole number from 1 and up, got 0');
});

test('sleep rejects at once when its signal aborts', async () => {
  const ac = new AbortController();
  const pending = sleep(10_000, ac.signal);
  ac.abort(new Error('cancelled'));
  await expect(pending).rejects.toThrow('cancelled');
});

test('Retry-After is read as seconds or as an HTTP date', () => {
  expect(parseRetryAfter('3')).toBe(3000);
  expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
  expect(parseRetryAfter('soon')).toBeUndefined();
  expect(parseRetryAfter(undefined)).toBeUndefined();
});

test('backoff grows exponentially, is capped, and jitters between 50% and 100%', () => {
  const policy = retryPolicy({ initialInterval: '100ms', maxInterval: '1s', backoffCoefficient: 2 });
  expect(backoffMs(policy, 1, () => 1)).toBe(100);
  expect(backoffMs(policy, 3, () => 1)).toBe(400);
  expect(backoffMs(policy, 10, () => 1)).toBe(1000);
  expect(backoffMs(policy, 3, () => 0)).toBe(200);
});

test('responses are classified: 2xx ok, 429/503 after Retry-After, 5xx retried, other 4xx permanent', () => {
  expect(classifyStatus(204, undefined, '')).toEqual({ kind: 'ok', status: 204 });
  expect(classifyStatus(429, '2', '')).toMatchObject({ kind: 'retry', afterMs: 2000 });
  expect(classifyStatus(503, undefined, '')).toMatchObject({ kind: 'retry', afterMs: undefined });
  expect(classifyStatus(502, undefined, 'bad gateway')).toMatchObject({ kind: 'retry', error: 'HTTP 502: bad gateway' });
  expect(classifyStatus(404, undefined, 'nope')).toMatchObject({ kind: 'permanent', status: 404 });
});

test('templates render keys and item fields; a whole placeholder keeps its type', () => {
  const item = { key: 7, value: { name: 'a b', tags: [1, 2] } };
  expect(renderString('http://x/items/{{key}}?n={{item.name}}', item, encodeURIComponent)).toBe('http://x/items/7?n=a%20b');
  expect(renderJson({ id: '{{key}}', tags: '{{item.tags}}', label: 'n={{item.name}}' }, item)).toEqual({ id: 7, tags: [1, 2], label: 'n=a b' });
});

test('env references resolve on the worker; a missing one is a spec error naming the field', () => {
  expect(resolveEnv({ h: 'Bearer ${env:T}' }, { T: 'q"x' }, 'target')).toEqual({ h: 'Bearer q"x' });
  expect(() => resolveEnv({ h: '${env:NOPE}' }, {}, 'target')).toThrow(SpecError);
  expect(() => resolveEnv({ h: '${env:NOPE}' }, {}, 'target')).toThrow('target: environment variable NOPE is not set on the worker');
});

test('an item whose data makes no valid URL fails alone, as permanent, and the chunk goes on', async () => {
  const { httpTarget } = await import('../src/activities/targets/http');
  const { retryPolicy } = await import('../src/activities/retry');
  const { unpaced } = await import('../src/activities/pacing');
  const spec = { type: 'http' as const, url: 'http://{{item.host}}:1/items/{{key}}' };
  const signal = new AbortController().signal;
  const ctx = {
    jobId: 'j', chunkId: 0, signal, pacer: unpaced, env: {}, sleep: (ms: number) => sleep(ms, signal),
    spec: { source: { type: 'range', start: 0, end: 2 }, target: spec, maxParallelism: 1 },
    retry: retryPolicy({ maxAttempts: 1 }),
  };
  const session = await httpTarget.open(spec, ctx);
  try {
    const outcomes = await httpTarget.process(session, [{ key: 0, value: { host: 'bad host' } }, { key: 1, value: { host: '127.0.0.1' } }], ctx);
    expect(outcomes[0]).toMatchObject({ key: 0, ok: false, attempts: 0, errorClass: 'permanent', error: expect.stringContaining('cannot build the request: Invalid URL') });
    expect(outcomes[1]).toMatchObject({ key: 1, ok: false, attempts: 1, errorClass: 'retryable', error: expect.stringContaining('ECONNREFUSED') });
  } finally {
    await httpTarget.close(session);
  }
});
