// A plain, fast loopback HTTP server for benchmarks: a fixed latency per request, no limits, and counters the
// benchmarks read (requests per key, requests in flight, open connections over time). Runs in the benchmark's
// process (startFastServer) or in a child process of its own (forkFastServer), so that serving does not share an
// event loop with the client under test.
import { fork, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FastServerOptions {
  /** Time each request takes before it is answered, in ms. @default 1 */
  latencyMs?: number;
}

export interface FastServerStats {
  requests: number;
  /** Distinct keys seen (the key is the last path segment). */
  keys: number;
  /** Keys requested more than once, and the requests beyond the first for them. */
  repeatedKeys: number;
  repeatedRequests: number;
  maxInFlight: number;
  /** TCP connections accepted: sluice opens one per chunk. */
  connections: number;
  /** Mean lifetime of the connections closed so far: for sluice, how long a chunk held its connection. */
  meanConnectionMs: number;
  firstAt?: number;
  lastAt?: number;
}

/** What the server saw about open connections: [time ms, open connections] after each change. */
export type ConnectionTimeline = Array<[number, number]>;

export interface FastServer {
  url: string;
  stats(): Promise<FastServerStats>;
  /** Connection changes since `since` (ms epoch). */
  connectionTimeline(since: number): Promise<ConnectionTimeline>;
  reset(): Promise<void>;
  close(): Promise<void>;
}

interface Counters {
  perKey: Map<string, number>;
  requests: number;
  inFlight: number;
  maxInFlight: number;
  connections: number;
  closed: number;
  lifetimeMs: number;
  timeline: ConnectionTimeline;
  firstAt?: number;
  lastAt?: number;
}

const fresh = (): Counters => ({ perKey: new Map(), requests: 0, inFlight: 0, maxInFlight: 0, connections: 0, closed: 0, lifetimeMs: 0, timeline: [] });

function statsOf(c: Counters): FastServerStats {
  let repeatedKeys = 0;
  let repeatedRequests = 0;
  for (const n of c.perKey.values()) {
    if (n > 1) {
      repeatedKeys += 1;
      repeatedRequests += n - 1;
    }
  }
  return { requests: c.requests, keys: c.perKey.size, repeatedKeys, repeatedRequests, maxInFlight: c.maxInFlight, connections: c.connections, meanConnectionMs: c.closed > 0 ? c.lifetimeMs / c.closed : 0, firstAt: c.firstAt, lastAt: c.lastAt };
}

/** Starts the server in this process. */
export async function startFastServer(opts: FastServerOptions = {}): Promise<FastServer> {
  const latencyMs = opts.latencyMs ?? 1;
  let c = fresh();
  /** Connections open now (not reset with the counters). */
  let open = 0;
  const answer = (res: ServerResponse) => {
    c.inFlight -= 1;
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '11' });
    res.end('{"ok":true}');
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? '/';
    const key = url.slice(url.lastIndexOf('/') + 1);
    c.perKey.set(key, (c.perKey.get(key) ?? 0) + 1);
    c.requests += 1;
    c.inFlight += 1;
    if (c.inFlight > c.maxInFlight) c.maxInFlight = c.inFlight;
    const now = Date.now();
    c.firstAt ??= now;
    c.lastAt = now;
    req.resume();
    if (latencyMs > 0) setTimeout(answer, latencyMs, res);
    else answer(res);
  });
  server.on('connection', (socket) => {
    c.connections += 1;
    open += 1;
    const openedAt = Date.now();
    c.timeline.push([openedAt, open]);
    socket.once('close', () => {
      open -= 1;
      const now = Date.now();
      c.timeline.push([now, open]);
      c.closed += 1;
      c.lifetimeMs += now - openedAt;
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stats: async () => statsOf(c),
    connectionTimeline: async (since) => c.timeline.filter(([t]) => t >= since),
    reset: async () => void (c = fresh()),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

type Request = { id: number; cmd: 'stats' | 'timeline' | 'reset' | 'close'; since?: number };

/** Starts the server in a child process of its own; the methods ask it over IPC. */
export async function forkFastServer(opts: FastServerOptions = {}): Promise<FastServer> {
  const child: ChildProcess = fork(__filename, ['--serve', JSON.stringify(opts)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const pending = new Map<number, (value: unknown) => void>();
  let next = 0;
  const url = await new Promise<string>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`fast server exited with ${code}`)));
    child.once('message', (m) => resolve((m as { url: string }).url));
  });
  child.on('message', (m) => {
    const { id, result } = m as { id?: number; result: unknown };
    if (id !== undefined) pending.get(id)?.(result);
    if (id !== undefined) pending.delete(id);
  });
  const ask = <T>(cmd: Request['cmd'], since?: number) =>
    new Promise<T>((resolve) => {
      const id = next++;
      pending.set(id, resolve as (v: unknown) => void);
      child.send({ id, cmd, since } satisfies Request);
    });
  return {
    url,
    stats: () => ask<FastServerStats>('stats'),
    connectionTimeline: (since) => ask<ConnectionTimeline>('timeline', since),
    reset: () => ask<void>('reset'),
    close: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function serveForParent(opts: FastServerOptions): Promise<void> {
  const server = await startFastServer(opts);
  const send = (m: unknown) => process.send?.(m);
  process.on('message', (m: Request) => {
    const reply = (result: unknown) => send({ id: m.id, result });
    if (m.cmd === 'stats') void server.stats().then(reply);
    else if (m.cmd === 'timeline') void server.connectionTimeline(m.since ?? 0).then(reply);
    else if (m.cmd === 'reset') void server.reset().then(() => reply(null));
  });
  process.once('SIGTERM', () => void server.close().then(() => process.exit(0)));
  send({ url: server.url });
}

if (require.main === module && process.argv[2] === '--serve') {
  serveForParent(JSON.parse(process.argv[3] ?? '{}') as FastServerOptions).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
