// Per-item retry policy of a job: attempts, exponential backoff with jitter, and Retry-After bounds.
import { toMs } from '../common/duration';
import { DEFAULTS, type RetrySpec } from '../common/spec';

export interface RetryPolicy {
  maxAttempts: number;
  initialMs: number;
  coefficient: number;
  maxMs: number;
  maxRetryAfterMs: number;
}

export function retryPolicy(spec: RetrySpec = {}): RetryPolicy {
  return {
    maxAttempts: spec.maxAttempts ?? DEFAULTS.maxAttempts,
    initialMs: toMs(spec.initialInterval ?? DEFAULTS.initialInterval),
    coefficient: spec.backoffCoefficient ?? DEFAULTS.backoffCoefficient,
    maxMs: toMs(spec.maxInterval ?? DEFAULTS.maxInterval),
    maxRetryAfterMs: toMs(spec.maxRetryAfter ?? DEFAULTS.maxRetryAfter),
  };
}

/** Backoff after failed attempt `attempt` (1-based): exponential, capped, with jitter in [50%, 100%]. */
export function backoffMs(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const base = Math.min(policy.maxMs, policy.initialMs * policy.coefficient ** (attempt - 1));
  return base * (0.5 + random() / 2);
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || text.trim() === '') return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
