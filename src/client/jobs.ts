// Typed helpers over a Temporal client: start a job, read its progress, change its cap, pause, retry failures.
import { randomUUID } from 'node:crypto';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { DEFAULT_TASK_QUEUE, pauseSignal, type CapChange, type Progress, progressQuery, resumeSignal, setMaxParallelismUpdate, WORKFLOW_TYPE } from '../common/messages';
import { checkMaxParallelism, InvalidSpecError, type JobSpec, type KeysSourceSpec, type SourceSpec, validateSpec } from '../common/spec';
import type { Key } from '../common/types';
import type { JobSummary } from '../workflows/backfill';
import { jobOutcomes } from './outcomes';

export type { JobSummary };

export interface StartOptions {
  /** @default `sluice-<name or source type>-<random>` */
  jobId?: string;
  taskQueue?: string;
}

export function newJobId(spec: JobSpec): string {
  const label = (spec.name ?? spec.source.type).toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
  return `sluice-${label}-${randomUUID().slice(0, 8)}`;
}

/** The one line the Web UI shows for a job in its list and on its page. */
export function jobSummaryLine(spec: JobSpec): string {
  return `${spec.name ?? 'backfill'}: ${spec.source.type} -> ${spec.target.type}, cap ${spec.maxParallelism}${spec.pacing?.requestsPerSecond ? ` x ${spec.pacing.requestsPerSecond}/s per chunk` : ''}`;
}

/** Validates the spec (throwing InvalidSpecError, which names every bad field) and starts the job. */
export async function startJob(client: Client, input: unknown, opts: StartOptions = {}): Promise<WorkflowHandle> {
  const spec = validateSpec(input);
  return client.workflow.start(WORKFLOW_TYPE, {
    args: [spec],
    taskQueue: opts.taskQueue ?? DEFAULT_TASK_QUEUE,
    workflowId: opts.jobId ?? newJobId(spec),
    staticSummary: jobSummaryLine(spec),
  });
}

export const getProgress = (client: Client, jobId: string): Promise<Progress> => client.workflow.getHandle(jobId).query(progressQuery);

/** Changes the cap through the validating update; a bad value throws before anything is sent. */
export async function setMaxParallelism(client: Client, jobId: string, value: unknown): Promise<CapChange> {
  const problem = checkMaxParallelism(value);
  if (problem) throw new InvalidSpecError([problem]);
  return client.workflow.getHandle(jobId).executeUpdate(setMaxParallelismUpdate, { args: [value as number] });
}

export const pauseJob = (client: Client, jobId: string) => client.workflow.getHandle(jobId).signal(pauseSignal);
export const resumeJob = (client: Client, jobId: string) => client.workflow.getHandle(jobId).signal(resumeSignal);

/** The spec a job was started with (every run of it gets the same spec). */
export async function jobSpecOf(client: Client, jobId: string): Promise<JobSpec> {
  const history = await client.workflow.getHandle(jobId).fetchHistory();
  const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  if (!payload) throw new Error(`job ${jobId}: no input found in its history`);
  return defaultPayloadConverter.fromPayload<JobSpec>(payload);
}

/** A spec that runs only `keys`, reading their items from the original job's source. */
export function specForKeys(spec: JobSpec, keys: Key[], name?: string): JobSpec {
  // A retry of a retry reads from the same original source.
  const original: SourceSpec | undefined = spec.source.type === 'keys' ? (spec.source as KeysSourceSpec).of : spec.source;
  // A range item is its key; every other source looks its items up by key.
  const source: KeysSourceSpec = original && original.type !== 'range' ? { type: 'keys', keys, of: original } : { type: 'keys', keys };
  const { output: _output, ...rest } = spec;
  return { ...rest, source, name: name ?? `${spec.name ?? 'job'} (retry)` };
}

export async function failedKeys(client: Client, jobId: string): Promise<Key[]> {
  const keys: Key[] = [];
  for await (const o of jobOutcomes(client, jobId)) if (!o.ok) keys.push(o.key);
  return keys;
}

/** Starts a new job over only the failed items of `jobId`; undefined when nothing failed. */
export async function retryFailed(client: Client, jobId: string, opts: StartOptions & { output?: string } = {}): Promise<WorkflowHandle | undefined> {
  const keys = await failedKeys(client, jobId);
  if (keys.length === 0) return undefined;
  const spec = specForKeys(await jobSpecOf(client, jobId), keys, undefined);
  if (opts.output) spec.output = opts.output;
  return startJob(client, spec, opts);
}
