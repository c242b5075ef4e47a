// Target `http`: one undici Client per origin for the whole chunk, pacing before every attempt,
// responses classified (2xx ok; 429/503 after Retry-After; 5xx, timeouts, resets with backoff; other 4xx permanent).
import { createHash } from 'node:crypto';
import { Client, errors } from 'undici';
import { toMs } from '../../common/duration';
import { DEFAULTS, envRefs, type HttpTargetSpec } from '../../common/spec';
import { ErrorClass, type ItemOutcome } from '../../common/types';
import type { ChunkContext, Item, Target } from '../plugins';
import { backoffMs, parseRetryAfter } from '../retry';
import { renderJson, renderString, resolveEnv } from '../template';

interface HttpSession {
  spec: HttpTargetSpec;
  method: string;
  /** Header templates with their names lower-cased, once per chunk. */
  headers: Array<[name: string, template: string]>;
  clients: Map<string, Client>;
  timeoutMs: number;
  idempotency: boolean;
  /** Values resolved from `${env:…}`: never written into an outcome, even when a server echoes them back. */
  secrets: string[];
}

/** One attempt's verdict. */
type Attempt =
  | { kind: 'ok'; status: number }
  | { kind: 'permanent'; status?: number; error: string }
  | { kind: 'retry'; status?: number; error: string; afterMs?: number };

const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CLOSED']);

/** Replaces every secret value in `text` with `***`. */
export function redact(text: string, secrets: readonly string[]): string {
  return secrets.reduce((t, secret) => t.split(secret).join('***'), text);
}

export function idempotencyKey(jobId: string, key: unknown): string {
  return createHash('sha256').update(`${jobId}\u0000${String(key)}`).digest('hex').slice(0, 32);
}

/** Classifies a status code; `retryAfter` is the header's value. */
export function classifyStatus(status: number, retryAfter: string | string[] | undefined, body: string): Attempt {
  if (status >= 200 && status < 300) return { kind: 'ok', status };
  const error = `HTTP ${status}${body ? `: ${body.slice(0, 200)}` : ''}`;
  if (status === 429 || status === 503) return { kind: 'retry', status, error, afterMs: parseRetryAfter(retryAfter) };
  if (status >= 500 || status === 408) return { kind: 'retry', status, error };
  return { kind: 'permanent', status, error };
}

function clientFor(session: HttpSession, origin: string): Client {
  let client = session.clients.get(origin);
  if (!client) {
    client = new Client(origin, { headersTimeout: session.timeoutMs, bodyTimeout: session.timeoutMs, keepAliveTimeout: 30_000 });
    session.clients.set(origin, client);
  }
  return client;
}

/** An item's request, rendered once for all its attempts. */
interface ItemRequest {
  url: URL;
  headers: Record<string, string>;
  body?: string;
}

function renderRequest(session: HttpSession, item: Item, jobId: string): ItemRequest {
  const url = new URL(renderString(session.spec.url, item, encodeURIComponent));
  const headers: Record<string, string> = {};
  for (const [name, template] of session.headers) headers[name] = renderString(template, item);
  let body: string | undefined;
  if (session.spec.body !== undefined) {
    const rendered = renderJson(session.spec.body, item);
    body = typeof rendered === 'string' ? rendered : JSON.stringify(rendered);
    if (typeof rendered !== 'string') headers['content-type'] ??= 'application/json';
  }
  if (session.idempotency) headers['idempotency-key'] ??= idempotencyKey(jobId, item.key);
  return { url, headers, body };
}

async function attempt(session: HttpSession, { url, headers, body }: ItemRequest, ctx: ChunkContext): Promise<Attempt> {
  try {
    const res = await clientFor(session, url.origin).request({
      path: url.pathname + url.search,
      method: session.method as never,
      headers,
      body,
      signal: ctx.signal,
    });
    const ok = res.statusCode >= 200 && res.statusCode < 300;
    const text = ok ? (await res.body.dump(), '') : await res.body.text();
    return classifyStatus(res.statusCode, res.headers['retry-after'], text);
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    const code = (err as { code?: string }).code ?? '';
    const message = `${code || (err as Error).name}: ${(err as Error).message}`;
    if (NETWORK_CODES.has(code) || err instanceof errors.UndiciError) return { kind: 'retry', error: message };
    return { kind: 'permanent', error: message };
  }
}

export const httpTarget: Target<HttpTargetSpec, HttpSession> = {
  type: 'http',

  async check(spec, ctx) {
    resolveEnv(spec, ctx.env, 'target');
  },

  async open(spec, ctx) {
    const method = (spec.method ?? 'GET').toUpperCase();
    const resolved = resolveEnv(spec, ctx.env, 'target');
    return {
      spec: resolved,
      method,
      headers: Object.entries(resolved.headers ?? {}).map(([name, template]) => [name.toLowerCase(), template]),
      clients: new Map(),
      timeoutMs: toMs(spec.timeout ?? DEFAULTS.httpTimeout),
      idempotency: spec.idempotencyKey ?? !['GET', 'HEAD'].includes(method),
      secrets: envRefs(spec).map((name) => ctx.env[name] ?? '').filter((v) => v.length > 0),
    };
  },

  async process(session, items, ctx) {
    const outcomes: ItemOutcome[] = [];
    for (const item of items) {
      let request: ItemRequest;
      try {
        request = renderRequest(session, item, ctx.jobId);
      } catch (err) {
        // This item's data makes no valid request (e.g. a templated host): its failure, not the chunk's.
        outcomes.push({ key: item.key, ok: false, attempts: 0, error: redact(`cannot build the request: ${(err as Error).message}`, session.secrets), errorClass: ErrorClass.permanent });
        continue;
      }
      for (let attempts = 1; ; attempts++) {
        await ctx.pacer.take(ctx.signal);
        const result = await attempt(session, request, ctx);
        if (result.kind === 'ok') {
          outcomes.push({ key: item.key, ok: true, status: result.status, attempts });
          break;
        }
        const waitMs = result.kind === 'retry' ? (result.afterMs ?? backoffMs(ctx.retry, attempts)) : undefined;
        const tooLong = waitMs !== undefined && waitMs > ctx.retry.maxRetryAfterMs;
        if (result.kind === 'permanent' || attempts >= ctx.retry.maxAttempts || tooLong) {
          const errorClass = result.kind === 'permanent' ? ErrorClass.permanent : ErrorClass.retryable;
          const error = tooLong ? `${result.error} (Retry-After ${Math.round((waitMs as number) / 1000)}s is above retry.maxRetryAfter)` : result.error;
          outcomes.push({ key: item.key, ok: false, status: result.status, attempts, error: redact(error, session.secrets), errorClass });
          break;
        }
        await ctx.sleep(waitMs as number);
      }
    }
    return outcomes;
  },

  async close(session) {
    await Promise.all([...session.clients.values()].map((c) => c.close()));
  },
};
