// Signals, queries and updates of backfillWorkflow. The client imports these without workflow code.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ItemOutcome } from './types';

export const WORKFLOW_TYPE = 'backfillWorkflow';
export const DEFAULT_TASK_QUEUE = 'sluice';

export interface Progress {
  jobId: string;
  name?: string;
  state: 'planning' | 'running' | 'paused' | 'draining' | 'done' | 'failed';
  /** Items in the source, when known. */
  total?: number;
  ok: number;
  failed: number;
  /** total - ok - failed, when total is known. */
  pending?: number;
  chunks: { done: number; inFlight: number; planned: number; planComplete: boolean };
  cap: number;
  paused: boolean;
  /** Why the job paused itself (too many failures); unset when an operator paused it or it runs. */
  pausedReason?: string;
  /** Items finished per second over the last minute of this job. */
  itemsPerSecond: number;
  /** Runs of the workflow so far (continue-as-new starts a new one). */
  run: number;
  startedAt: string;
  failedSample: ItemOutcome[];
}

export interface CapChange {
  previous: number;
  current: number;
  inFlight: number;
}

/** Sets the cap; a bad value is logged and ignored, so a typo never breaks a running job. */
export const setMaxParallelismSignal = defineSignal<[number]>('setMaxParallelism');
/** Sets the cap and answers with the change; a bad value is rejected with a message naming it. */
export const setMaxParallelismUpdate = defineUpdate<CapChange, [number]>('setMaxParallelism');
export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');
export const progressQuery = defineQuery<Progress>('progress');
