// A local HTTP API that enforces a contract the way real ones do: a request rate with a small burst and a
// concurrency limit, answering 429 with Retry-After past them. It counts what it sees, so the demo can show
// and the tests can assert that a job stayed inside the contract. Listens on loopback only.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LimitedApiOptions {
  /** Requests per second allowed (token bucket). Unset: no rate limit. */
  ratePerSecond?: number;
  /** Requests allowed at once above the rate after idling. @default max(1, ratePerSecond / 10) */
  burst?: number;
  /** Requests in progress allowed at once. Unset: no limit. */
  maxConcurrent?: number;
  /** Time each request takes, in ms. @default 0 */
  latencyMs?: number;
  /** Keys that always answer 500. */
  failKeys?: Iterable<string>;
  /** Keys that answer 422 (a permanent error). */
  rejectKeys?: Iterable<string>;
  /** When set, requests without `Authorization: Bearer <this>` answer 401. */
  requireBearer?: string;
  /** @default 0 (a free port) */
  port?: number;
}

export interface LimitedApiStats {
  /** Requests answered 2xx. */
  accepted: number;
  /** Requests refused with 429. */
  throttled: number;
  /** Requests answered 5xx or 422 on purpose. */
  failed: number;
  maxInFlight: number;
  inFlight: number;
  /** Accepted requests per key (the key is the last path segment). */
  perKey: Record<string, number>;
  /** Requests the client gave up on before the answer (aborted or timed out). */
  aborted: number;
  /** Idempotency keys seen more than once. */
  repeatedIdempotencyKeys: number;
  firstAcceptedAt?: number;
  lastAcceptedAt?: number;
  /** accepted / (last - first) seconds. */
  acceptedPerSecond: number;
}

export interface LimitedApi {
  url: string;
  stats(): LimitedApiStats;
  /** Largest number of requests in progress during each time window since `since` (ms epoch). */
  maxInFlightSince(since: number): number;
  reset(): void;
  configure(opts: Partial<LimitedApiOptions>): void;
  close(): Promise<void>;
}

export async function startLimitedApi(initial: LimitedApiOptions = {}): Promise<LimitedApi> {
  let opts: LimitedApiOptions = { ...initial };
  let failKeys = new Set(opts.failKeys ?? []);
  let rejectKeys = new Set(opts.rejectKeys ?? []);
  let tokens = 0;
  let lastRefill = performance.now();
  let stats: LimitedApiStats;
  let idempotency = new Set<string>();
  /** [time, inFlight] after each change, to answer "max in flight since t". */
  let timeline: Array<[number, number]> = [];
  const burst = () => opts.burst ?? Math.max(1, Math.floor((opts.ratePerSecond ?? 10) / 10));

  const reset = () => {
    stats = { accepted: 0, throttled: 0, failed: 0, maxInFlight: 0, inFlight: 0, perKey: {}, aborted: 0, repeatedIdempotencyKeys: 0, acceptedPerSecond: 0 };
    idempotency = new Set();
    timeline = [];
    tokens = burst();
    lastRefill = performance.now();
  };
  reset();

  /** Takes a token; returns the seconds to wait when there is none. */
  const takeToken = (): number | undefined => {
    if (!opts.ratePerSecond) return undefined;
    const now = performance.now();
    tokens = Math.min(burst(), tokens + ((now - lastRefill) / 1000) * opts.ratePerSecond);
    lastRefill = now;
    if (tokens >= 1) {
      tokens -= 1;
      return undefined;
    }
    return Math.max(1, Math.ceil((1 - tokens) / opts.ratePerSecond));
  };

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/stats') return send(res, 200, stats);
    res.once('close', () => {
      if (!res.writableFinished) stats.aborted += 1;
    });
    req.resume(); // the body is not needed
    await new Promise((r) => req.once('end', r));
    stats.inFlight += 1;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    timeline.push([Date.now(), stats.inFlight]);
    try {
      const key = decodeURIComponent(url.pathname.split('/').pop() ?? '');
      if (opts.maxConcurrent !== undefined && stats.inFlight > opts.maxConcurrent) {
        stats.throttled += 1;
        return send(res, 429, { error: 'too many concurrent requests' }, { 'retry-after': '1' });
      }
      if (opts.requireBearer !== undefined && req.headers.authorization !== `Bearer ${opts.requireBearer}`) {
        stats.failed += 1;
        // Like many real APIs, the error repeats what it was sent: a client must not log it verbatim.
        return send(res, 401, { error: `wrong bearer token: ${req.headers.authorization ?? '(none)'}` });
      }
      const wait = takeToken();
      if (wait !== undefined) {
        stats.throttled += 1;
        return send(res, 429, { error: 'rate limit exceeded' }, { 'retry-after': String(wait) });
      }
      if (opts.latencyMs) await new Promise((r) => setTimeout(r, opts.latencyMs).unref());
      if (failKeys.has(key)) {
        stats.failed += 1;
        stats.perKey[key] = (stats.perKey[key] ?? 0) + 1;
        return send(res, 500, { error: `key ${key} always fails` });
      }
      if (rejectKeys.has(key)) {
        stats.failed += 1;
        stats.perKey[key] = (stats.perKey[key] ?? 0) + 1;
        return send(res, 422, { error: `key ${key} is not valid` });
      }
      const idem = req.headers['idempotency-key'];
      if (typeof idem === 'string') {
        if (idempotency.has(idem)) stats.repeatedIdempotencyKeys += 1;
        idempotency.add(idem);
      }
      stats.accepted += 1;
      stats.perKey[key] = (stats.perKey[key] ?? 0) + 1;
      const now = Date.now();
      stats.firstAcceptedAt ??= now;
      stats.lastAcceptedAt = now;
      const seconds = (now - stats.firstAcceptedAt) / 1000;
      stats.acceptedPerSecond = seconds > 0 ? (stats.accepted - 1) / seconds : 0;
      return send(res, 200, { key, ok: true });
    } finally {
      stats.inFlight -= 1;
      timeline.push([Date.now(), stats.inFlight]);
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => send(res, 500, { error: String(err) }));
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    stats: () => structuredClone(stats),
    maxInFlightSince: (since) => timeline.filter(([t]) => t >= since).reduce((m, [, n]) => Math.max(m, n), 0),
    reset,
    configure(next) {
      opts = { ...opts, ...next };
      failKeys = new Set(opts.failKeys ?? []);
      rejectKeys = new Set(opts.rejectKeys ?? []);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
