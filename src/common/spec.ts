// The job spec: its shape, its defaults, and the validation both the CLI and the workflow run.
// Pure code: the workflow imports it, so no Node built-ins and no I/O here.
import { type Duration, parseDuration } from './duration';
import { checkPostgresSource, checkPostgresTarget } from './spec-postgres';

export interface RangeSourceSpec {
  type: 'range';
  /** First item (inclusive). */
  start: number;
  /** End of the range (exclusive, as in `range(start, end, step)`). */
  end: number;
  /** @default 1 */
  step?: number;
}

export interface JsonlSourceSpec {
  type: 'jsonl';
  /** Path of the JSONL file as the worker sees it. */
  path: string;
  /** Field of each line that holds the item key. @default 'id' */
  keyField?: string;
}

/** An explicit key list, optionally looked up in another source (the failed keys of a previous run). */
export interface KeysSourceSpec {
  type: 'keys';
  keys: Array<string | number>;
  /** Source to read the items from; without it each item is its key. */
  of?: SourceSpec;
}

/** Any other source type is resolved by the worker's registry (see src/activities/sources). */
export interface OtherSourceSpec {
  type: string;
  [field: string]: unknown;
}

export type SourceSpec = RangeSourceSpec | JsonlSourceSpec | KeysSourceSpec | OtherSourceSpec;

export interface HttpTargetSpec {
  type: 'http';
  /** URL template: `{{key}}`, `{{item}}` and `{{item.field}}` are replaced (URL-encoded). */
  url: string;
  /** @default 'GET' */
  method?: string;
  /** Header templates; `${env:NAME}` is read from the worker's environment, never from the spec. */
  headers?: Record<string, string>;
  /** JSON body template (an object or a string). */
  body?: unknown;
  /** Per-request timeout. @default '30s' */
  timeout?: Duration;
  /**
   * Send an `Idempotency-Key` header derived from the job id and the item key.
   * @default true for methods other than GET and HEAD
   */
  idempotencyKey?: boolean;
}

export interface OtherTargetSpec {
  type: string;
  [field: string]: unknown;
}

export type TargetSpec = HttpTargetSpec | OtherTargetSpec;

/** Per-chunk pacing, next to the call. Job-wide rate = maxParallelism x requestsPerSecond. */
export interface PacingSpec {
  /** Calls per second for one chunk (each attempt counts). Unset: unpaced. */
  requestsPerSecond?: number;
  /** Calls a chunk may make at once after being idle. @default 1 */
  burst?: number;
}

export interface RetrySpec {
  /** Attempts per item, the first included. @default 3 */
  maxAttempts?: number;
  /** Backoff before the second attempt. @default '500ms' */
  initialInterval?: Duration;
  /** @default 2 */
  backoffCoefficient?: number;
  /** Longest backoff between attempts. @default '30s' */
  maxInterval?: Duration;
  /** Longest Retry-After honoured; longer ones fail the item as retryable. @default '5m' */
  maxRetryAfter?: Duration;
  /**
   * Percentage of failed items (since the start, or the last resume) above which the job pauses itself and says why,
   * judged once FAILURE_CHECK_MIN_ITEMS have finished: a target that rejects everything (an expired token, a wrong
   * URL) is not sent the rest of the job. Fix the cause, then resume. Unset: the job never pauses on failures.
   */
  toleratedFailurePercent?: number;
}

export interface TimeoutsSpec {
  /** A chunk whose worker stops heartbeating this long is retried elsewhere. @default '10s' */
  heartbeat?: Duration;
  /** Longest time one attempt of a chunk may take. @default '1h' */
  chunk?: Duration;
}

export interface JobSpec {
  source: SourceSpec;
  target: TargetSpec;
  /** Items per chunk. @default 100 */
  chunkSize?: number;
  /** Chunks live at once, job-wide. Start below the external limit. */
  maxParallelism: number;
  pacing?: PacingSpec;
  retry?: RetrySpec;
  /** Manifest path written by the worker when the job ends (one JSON line per item). */
  output?: string;
  timeouts?: TimeoutsSpec;
  /** A label shown in status and the Web UI. */
  name?: string;
}

export const DEFAULTS = {
  chunkSize: 100,
  burst: 1,
  maxAttempts: 3,
  initialInterval: '500ms',
  backoffCoefficient: 2,
  maxInterval: '30s',
  maxRetryAfter: '5m',
  heartbeat: '10s',
  chunk: '1h',
  httpTimeout: '30s',
} as const;

/**
 * Most keys an inline `keys` source may list: the list travels in the workflow's input (and so in its history and
 * every continue-as-new), which Temporal caps at 2 MB a payload. Larger sets belong in a file or a table.
 */
export const MAX_INLINE_KEYS = 100_000;

/** Items that must finish (since the start or the last resume) before `retry.toleratedFailurePercent` is judged. */
export const FAILURE_CHECK_MIN_ITEMS = 100;

/** Largest cap accepted; far above any sane external limit, low enough to catch typos. */
export const MAX_PARALLELISM = 10_000;

export class InvalidSpecError extends Error {
  override readonly name = 'InvalidSpecError';
  constructor(readonly problems: string[]) {
    super(`invalid job spec: ${problems.join('; ')}`);
  }
}

type Problems = string[];
type FieldCheck = (value: Record<string, unknown>, path: string, problems: Problems) => void;

const show = (value: unknown): string => {
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 80 ? `${text.slice(0, 77)}...` : text;
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Describes why `value` is not a whole number >= min, or returns undefined. */
export function checkWholeNumber(value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): string | undefined {
  if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return undefined;
  const range = max === Number.MAX_SAFE_INTEGER ? `from ${min} and up` : `from ${min} to ${max}`;
  return `expected a whole number ${range}, got ${show(value)}`;
}

/** Why `value` is not a valid cap, or undefined when it is one. Shared by the CLI, the signal and the update. */
export function checkMaxParallelism(value: unknown): string | undefined {
  const problem = checkWholeNumber(value, 1, MAX_PARALLELISM);
  return problem && `maxParallelism: ${problem}`;
}

function wholeNumber(obj: Record<string, unknown>, field: string, path: string, problems: Problems, opts: { min: number; required?: boolean; max?: number }): void {
  const value = obj[field];
  if (value === undefined) {
    if (opts.required) problems.push(`${path}${field}: required, ${checkWholeNumber(undefined, opts.min, opts.max)}`);
    return;
  }
  const problem = checkWholeNumber(value, opts.min, opts.max);
  if (problem) problems.push(`${path}${field}: ${problem}`);
}

function integer(obj: Record<string, unknown>, field: string, path: string, problems: Problems, required: boolean): void {
  const value = obj[field];
  if (value === undefined && !required) return;
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) problems.push(`${path}${field}: ${value === undefined ? 'required, ' : ''}expected an integer, got ${show(value)}`);
}

function positiveNumber(obj: Record<string, unknown>, field: string, path: string, problems: Problems): void {
  const value = obj[field];
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) problems.push(`${path}${field}: expected a number above 0, got ${show(value)}`);
}

function nonEmptyString(obj: Record<string, unknown>, field: string, path: string, problems: Problems, required: boolean): void {
  const value = obj[field];
  if (value === undefined && !required) return;
  if (typeof value !== 'string' || value.trim() === '') problems.push(`${path}${field}: ${value === undefined ? 'required, ' : ''}expected a non-empty string, got ${show(value)}`);
}

function duration(obj: Record<string, unknown>, field: string, path: string, problems: Problems): void {
  const value = obj[field];
  if (value !== undefined && parseDuration(value) === undefined) problems.push(`${path}${field}: expected a duration such as 500, '250ms', '30s' or '5m', got ${show(value)}`);
}

function onlyKnown(obj: Record<string, unknown>, known: readonly string[], path: string, problems: Problems): void {
  for (const field of Object.keys(obj)) {
    if (!known.includes(field)) problems.push(`${path}${field}: unknown field (known: ${known.join(', ')})`);
  }
}

/** References to worker environment variables, `${env:NAME}`. */
export const ENV_REF = /\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Names of the env vars a spec refers to (to check them on the worker before any chunk runs). */
export function envRefs(value: unknown): string[] {
  const text = JSON.stringify(value) ?? '';
  return [...new Set([...text.matchAll(ENV_REF)].map((m) => m[1] as string))];
}

const sourceChecks: Record<string, FieldCheck> = {
  range(s, p, problems) {
    onlyKnown(s, ['type', 'start', 'end', 'step'], p, problems);
    integer(s, 'start', p, problems, true);
    integer(s, 'end', p, problems, true);
    wholeNumber(s, 'step', p, problems, { min: 1 });
    if (typeof s.start === 'number' && typeof s.end === 'number' && s.end < s.start) {
      problems.push(`${p}end: must not be below start (${s.start}), got ${show(s.end)}`);
    }
  },
  jsonl(s, p, problems) {
    onlyKnown(s, ['type', 'path', 'keyField'], p, problems);
    nonEmptyString(s, 'path', p, problems, true);
    nonEmptyString(s, 'keyField', p, problems, false);
  },
  keys(s, p, problems) {
    onlyKnown(s, ['type', 'keys', 'of'], p, problems);
    const keys = s.keys;
    if (!Array.isArray(keys)) problems.push(`${p}keys: required, expected an array of strings or numbers, got ${show(keys)}`);
    else if (keys.length > MAX_INLINE_KEYS) {
      problems.push(`${p}keys: at most ${MAX_INLINE_KEYS} keys fit in a job's input, got ${keys.length}; put them in a JSONL file or a table and use that source`);
    } else {
      const bad = keys.findIndex((k) => typeof k !== 'string' && typeof k !== 'number');
      if (bad >= 0) problems.push(`${p}keys[${bad}]: expected a string or a number, got ${show(keys[bad])}`);
    }
    if (s.of !== undefined) checkSource(s.of, `${p}of.`, problems);
  },
  postgres: checkPostgresSource,
};

const targetChecks: Record<string, FieldCheck> = {
  http(t, p, problems) {
    onlyKnown(t, ['type', 'url', 'method', 'headers', 'body', 'timeout', 'idempotencyKey'], p, problems);
    nonEmptyString(t, 'url', p, problems, true);
    if (typeof t.url === 'string' && !/^https?:\/\//.test(t.url)) problems.push(`${p}url: expected an http:// or https:// URL, got ${show(t.url)}`);
    if (t.method !== undefined && (typeof t.method !== 'string' || !/^[A-Za-z]+$/.test(t.method))) problems.push(`${p}method: expected an HTTP method such as "POST", got ${show(t.method)}`);
    if (t.headers !== undefined) {
      if (!isObject(t.headers)) problems.push(`${p}headers: expected an object of strings, got ${show(t.headers)}`);
      else for (const [name, v] of Object.entries(t.headers)) if (typeof v !== 'string') problems.push(`${p}headers.${name}: expected a string, got ${show(v)}`);
    }
    duration(t, 'timeout', p, problems);
    if (t.idempotencyKey !== undefined && typeof t.idempotencyKey !== 'boolean') problems.push(`${p}idempotencyKey: expected true or false, got ${show(t.idempotencyKey)}`);
  },
  postgres: checkPostgresTarget,
};

/** Lets another module (e.g. the Postgres plug-in) add checks for its source and target types. */
export function registerSpecChecks(kind: 'source' | 'target', type: string, check: FieldCheck): void {
  (kind === 'source' ? sourceChecks : targetChecks)[type] = check;
}

function checkSource(source: unknown, path: string, problems: Problems): void {
  if (!isObject(source)) return void problems.push(`${path.slice(0, -1)}: required, expected an object with a "type", got ${show(source)}`);
  nonEmptyString(source, 'type', path, problems, true);
  const check = typeof source.type === 'string' ? sourceChecks[source.type] : undefined;
  check?.(source, path, problems);
}

function checkTarget(target: unknown, path: string, problems: Problems): void {
  if (!isObject(target)) return void problems.push(`${path.slice(0, -1)}: required, expected an object with a "type", got ${show(target)}`);
  nonEmptyString(target, 'type', path, problems, true);
  const check = typeof target.type === 'string' ? targetChecks[target.type] : undefined;
  check?.(target, path, problems);
}

const TOP_LEVEL = ['source', 'target', 'chunkSize', 'maxParallelism', 'pacing', 'retry', 'output', 'timeouts', 'name'] as const;

/** Every problem with a spec, each naming its field and value; empty when the spec is valid. */
export function specProblems(input: unknown): string[] {
  const problems: Problems = [];
  if (!isObject(input)) return [`job spec: expected a JSON object, got ${show(input)}`];
  onlyKnown(input, TOP_LEVEL, '', problems);
  checkSource(input.source, 'source.', problems);
  checkTarget(input.target, 'target.', problems);
  wholeNumber(input, 'chunkSize', '', problems, { min: 1, max: 1_000_000 });
  if (input.maxParallelism === undefined) problems.push(`maxParallelism: required: how many chunks may run at once, job-wide (start below the external limit)`);
  else {
    const cap = checkMaxParallelism(input.maxParallelism);
    if (cap) problems.push(cap);
  }
  for (const [field, known] of [['pacing', ['requestsPerSecond', 'burst']], ['retry', ['maxAttempts', 'initialInterval', 'backoffCoefficient', 'maxInterval', 'maxRetryAfter', 'toleratedFailurePercent']], ['timeouts', ['heartbeat', 'chunk']]] as const) {
    const value = input[field];
    if (value !== undefined && !isObject(value)) problems.push(`${field}: expected an object, got ${show(value)}`);
    else if (value) onlyKnown(value, known, `${field}.`, problems);
  }
  if (isObject(input.pacing)) {
    positiveNumber(input.pacing, 'requestsPerSecond', 'pacing.', problems);
    wholeNumber(input.pacing, 'burst', 'pacing.', problems, { min: 1 });
  }
  if (isObject(input.retry)) {
    wholeNumber(input.retry, 'maxAttempts', 'retry.', problems, { min: 1, max: 100 });
    for (const f of ['initialInterval', 'maxInterval', 'maxRetryAfter']) duration(input.retry, f, 'retry.', problems);
    positiveNumber(input.retry, 'backoffCoefficient', 'retry.', problems);
    const tolerated = input.retry.toleratedFailurePercent;
    if (tolerated !== undefined && (typeof tolerated !== 'number' || !(tolerated >= 0 && tolerated < 100))) {
      problems.push(`retry.toleratedFailurePercent: expected a number from 0 to below 100, got ${show(tolerated)}`);
    }
  }
  if (isObject(input.timeouts)) for (const f of ['heartbeat', 'chunk']) duration(input.timeouts, f, 'timeouts.', problems);
  nonEmptyString(input, 'output', '', problems, false);
  nonEmptyString(input, 'name', '', problems, false);
  return problems;
}

/** Returns the spec typed, or throws InvalidSpecError listing every problem. */
export function validateSpec(input: unknown): JobSpec {
  const problems = specProblems(input);
  if (problems.length > 0) throw new InvalidSpecError(problems);
  return input as unknown as JobSpec;
}
