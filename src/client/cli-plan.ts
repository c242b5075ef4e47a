// `sluice plan`: runs the planning activity's code locally (no Temporal) and summarises the chunks it would make.
import { ApplicationFailure } from '@temporalio/common';
import { createActivities, createRegistry } from '../activities';
import { DEFAULTS, envRefs, InvalidSpecError, type JobSpec } from '../common/spec';
import type { ChunkDescriptor } from '../common/types';
import { CliError } from './cli-args';
import { int } from './cli-format';

export interface PlanSummary {
  source: string;
  target: string;
  chunkSize: number;
  chunks: number;
  /** Items in the plan, when the source can tell. */
  items?: number;
  maxParallelism: number;
  /** maxParallelism x pacing.requestsPerSecond: the job-wide call rate the spec asks for. */
  jobWideRequestsPerSecond?: number;
  /** Environment variables the spec refers to that are not set here (the worker must have them). */
  envNotSetHere: string[];
  first: ChunkDescriptor[];
}

const SHOWN = 5;
const PAGE = 1000;

export async function planJob(spec: JobSpec): Promise<PlanSummary & { text: string }> {
  const envNotSetHere = envRefs(spec).filter((name) => process.env[name] === undefined);
  // Secrets live on the worker: stand in for the ones this machine lacks so the plan can still be checked.
  const env = { ...process.env, ...Object.fromEntries(envNotSetHere.map((n) => [n, `plan-placeholder-${n}`])) };
  const { planChunks } = createActivities(createRegistry(), { env });
  const first: ChunkDescriptor[] = [];
  let chunks = 0;
  let items: number | undefined = 0;
  let total: number | undefined;
  let cursor: unknown;
  for (let page = 0; ; page++) {
    let result;
    try {
      result = await planChunks({ jobId: 'sluice-plan', spec, cursor, pageSize: PAGE });
    } catch (err) {
      // A problem with the spec as the worker sees it (no such table, bad SQL) is bad input; anything else is not.
      if (err instanceof ApplicationFailure && err.type === 'InvalidJobSpec') throw new InvalidSpecError([err.message]);
      throw new CliError(`cannot plan: ${(err as Error).message}`);
    }
    if (page === 0) total = result.total;
    for (const c of result.chunks) {
      if (first.length < SHOWN) first.push(c);
      chunks += 1;
      items = items === undefined || c.size === undefined ? undefined : items + c.size;
    }
    if (result.next === null || result.next === undefined) break;
    cursor = result.next;
  }
  const summary: PlanSummary = {
    source: spec.source.type,
    target: spec.target.type,
    chunkSize: spec.chunkSize ?? DEFAULTS.chunkSize,
    chunks,
    items: items ?? total,
    maxParallelism: spec.maxParallelism,
    jobWideRequestsPerSecond: spec.pacing?.requestsPerSecond === undefined ? undefined : spec.maxParallelism * spec.pacing.requestsPerSecond,
    envNotSetHere,
    first,
  };
  return { ...summary, text: planText(summary) };
}

function planText(p: PlanSummary): string {
  const lines = [
    `plan: ${p.items === undefined ? 'an unknown number of' : int(p.items)} items in ${int(p.chunks)} chunks of up to ${int(p.chunkSize)} (source ${p.source}, target ${p.target})`,
    ...p.first.map((c) => `  chunk ${c.id}: ${JSON.stringify(c.slice)}${c.size === undefined ? '' : ` (${int(c.size)} items)`}`),
  ];
  if (p.chunks > p.first.length) lines.push(`  ... ${int(p.chunks - p.first.length)} more`);
  lines.push(
    p.jobWideRequestsPerSecond === undefined
      ? `cap: at most ${p.maxParallelism} chunks at once; no pacing, so each chunk calls as fast as the target answers`
      : `cap: at most ${p.maxParallelism} chunks at once x ${p.jobWideRequestsPerSecond / p.maxParallelism} calls/s per chunk = at most ${int(p.jobWideRequestsPerSecond)} calls/s job-wide (keep it under the external limit)`,
  );
  if (p.envNotSetHere.length > 0) lines.push(`note: ${p.envNotSetHere.join(', ')} not set here; the worker must have ${p.envNotSetHere.length === 1 ? 'it' : 'them'}`);
  lines.push('nothing was started; `sluice start <job.json>` runs it');
  return lines.join('\n');
}
