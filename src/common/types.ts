// Plain data that crosses the workflow/activity boundary: chunks, outcomes and the ledger.

/** A stable item key: an ID, a URL, a row key. */
export type Key = string | number;

/** One slice of a source, opaque to the workflow except for its id and size. */
export interface ChunkDescriptor {
  /** Position in the plan, from 0; the manifest is written in this order. */
  id: number;
  /** Number of items in the chunk when known at planning time (for progress). */
  size?: number;
  /** Where the chunk lies in its source, for people (the Web UI shows it on the chunk's activity). */
  label?: string;
  /** Source-specific location of the slice (a range, a byte span, a key list). */
  slice: Record<string, unknown>;
}

/** A page of the plan. Planning is paged so that no activity result or workflow state holds the whole plan. */
export interface PlanPage {
  chunks: ChunkDescriptor[];
  /** Where the next page starts, or null when the plan is complete. */
  next: unknown;
  /** Total items in the source, when the first page can tell cheaply. */
  total?: number;
}

export const ErrorClass = {
  /** The target answered with a client error (4xx other than 429), or the data was rejected. */
  permanent: 'permanent',
  /** Retries were exhausted on 429, 5xx, timeouts or resets. */
  retryable: 'retryable',
} as const;
export type ErrorClass = (typeof ErrorClass)[keyof typeof ErrorClass];

/** The outcome of one item, as a manifest line carries it. */
export interface ItemOutcome {
  key: Key;
  ok: boolean;
  attempts: number;
  /** HTTP status, or the target's equivalent. */
  status?: number | string;
  error?: string;
  errorClass?: ErrorClass;
}

/** Keys of a chunk, listed compactly: a range when the source can tell them from the descriptor. */
export type KeyList = { range: [start: number, end: number, step: number] } | { keys: Key[] };

/**
 * What a chunk returns once, at the end: enough to write one manifest line per item, and small.
 * Plain successes cost nothing but their key (and nothing at all for a range).
 */
export interface ChunkResult {
  chunkId: number;
  keys: KeyList;
  okCount: number;
  /** The status of plain successes (first attempt, usual status). */
  okStatus?: number | string;
  /** Successes that needed more than one attempt or answered another status. */
  okNotes: ItemOutcome[];
  failed: ItemOutcome[];
  /** Items of this chunk done by an earlier attempt of the activity (resumed from its heartbeat). */
  resumedAt: number;
  /** Attempt number of the activity that finished the chunk. */
  attempt: number;
}

/** Job-wide counts the workflow keeps and carries across continue-as-new. */
export interface Ledger {
  ok: number;
  failed: number;
  chunksDone: number;
  /** The first failures, for `status` and the Web UI; the full list is in the chunk results. */
  failedSample: ItemOutcome[];
}

export const FAILED_SAMPLE_SIZE = 20;
