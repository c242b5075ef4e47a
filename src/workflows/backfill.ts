// backfillWorkflow: plans chunks page by page, keeps at most `cap` chunks in flight (a sliding window),
// folds each chunk's result into a small ledger, and continues-as-new before history grows large.
import * as wf from '@temporalio/workflow';
import type { Activities } from '../activities';
import { toMs } from '../common/duration';
import { type CapChange, pauseSignal, type Progress, progressQuery, resumeSignal, setMaxParallelismSignal, setMaxParallelismUpdate } from '../common/messages';
import { checkMaxParallelism, DEFAULTS, FAILURE_CHECK_MIN_ITEMS, InvalidSpecError, type JobSpec, type SourceSpec, validateSpec } from '../common/spec';
import { type ChunkDescriptor, type ChunkResult, FAILED_SAMPLE_SIZE, type ItemOutcome, type Ledger } from '../common/types';
import { rootMessage } from '../common/errors';

/** Everything a run hands to the next one through continue-as-new. */
export interface CarriedState {
  cap: number;
  paused: boolean;
  pausedReason?: string;
  /** Ledger counts when failures were last judged from zero (the start or the last resume). */
  failureBaseline: { ok: number; failed: number };
  /** Planned chunks not started yet. */
  buffer: ChunkDescriptor[];
  /** Where the next plan page starts; null once the plan is complete. */
  planCursor: unknown;
  planStarted: boolean;
  total?: number;
  ledger: Ledger;
  run: number;
  startedAt: number;
  /** (time ms, items done) samples for the rate shown by `progress`. */
  rate: Array<[number, number]>;
  /** Continue-as-new once a run's history has this many events (Temporal may suggest it sooner). */
  maxEventsPerRun: number;
}

export interface JobSummary {
  jobId: string;
  ok: number;
  failed: number;
  total: number;
  chunks: number;
  runs: number;
  seconds: number;
  /** The manifest the worker wrote to `output`; `error` when it could not (the outcomes stay in history). */
  output?: { path: string; lines: number; error?: string };
}

const PLAN_PAGE = 200;
const DEFAULT_MAX_EVENTS_PER_RUN = 5_000;
const RATE_WINDOW_MS = 60_000;

const planActivities = wf.proxyActivities<Activities>({
  startToCloseTimeout: '10m',
  retry: { maximumAttempts: 5, nonRetryableErrorTypes: ['InvalidJobSpec'] },
});

/** The spec as a chunk needs it: an inline key list travels in the chunk's slice, not with every chunk. */
function specForChunks(spec: JobSpec): JobSpec {
  const strip = (s: SourceSpec): SourceSpec => (s.type === 'keys' ? { ...s, keys: [] } : s);
  return { ...spec, source: strip(spec.source) };
}

/** One line of progress for the Web UI's "Current details" on the workflow's page. */
function currentDetails(p: Progress): string {
  const done = p.ok + p.failed;
  const of = p.total === undefined ? '' : ` / ${p.total}`;
  const why = p.pausedReason ? ` (${p.pausedReason})` : '';
  return `**${p.state}**${why} · ${done}${of} items · ${p.failed} failed · cap ${p.cap} · ${p.chunks.inFlight} chunks in flight · ${p.itemsPerSecond} items/s · run ${p.run}`;
}

export async function backfillWorkflow(input: unknown, carried?: Partial<CarriedState>): Promise<JobSummary> {
  let spec: JobSpec;
  try {
    spec = validateSpec(input);
  } catch (err) {
    if (err instanceof InvalidSpecError) throw wf.ApplicationFailure.nonRetryable(err.message, 'InvalidJobSpec');
    throw err;
  }
  const info = wf.workflowInfo();
  const jobId = info.workflowId;
  const s: CarriedState = {
    cap: spec.maxParallelism,
    paused: false,
    buffer: [],
    planCursor: null,
    planStarted: false,
    ledger: { ok: 0, failed: 0, chunksDone: 0, failedSample: [] },
    failureBaseline: { ok: 0, failed: 0 },
    run: 1,
    startedAt: Date.now(),
    rate: [],
    maxEventsPerRun: DEFAULT_MAX_EVENTS_PER_RUN,
    ...carried,
  };
  const chunkSpec = specForChunks(spec);
  const chunkOptions: wf.ActivityOptions = {
    startToCloseTimeout: toMs(spec.timeouts?.chunk ?? DEFAULTS.chunk),
    heartbeatTimeout: toMs(spec.timeouts?.heartbeat ?? DEFAULTS.heartbeat),
    // Infrastructure failures (a worker killed, a database restarting) are retried until they pass;
    // item failures never reach here: they are outcomes.
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', nonRetryableErrorTypes: ['InvalidJobSpec'] },
  };
  const { runChunk } = wf.proxyActivities<Activities>(chunkOptions);

  const inFlight = new Set<number>();
  let wake = 0;
  let draining = false;
  let planning = false;
  let fatal: string | undefined;
  let finished = false;
  const bump = () => void wake++;

  const setCap = (n: number): CapChange => {
    const previous = s.cap;
    s.cap = n;
    bump();
    wf.log.info('maxParallelism changed', { previous, current: n });
    return { previous, current: n, inFlight: inFlight.size };
  };
  wf.setHandler(setMaxParallelismSignal, (n: unknown) => {
    const problem = checkMaxParallelism(n);
    if (problem) wf.log.warn(`setMaxParallelism signal ignored: ${problem}`);
    else setCap(n as number);
  });
  wf.setHandler(setMaxParallelismUpdate, (n: number) => setCap(n), {
    validator: (n: unknown) => {
      const problem = checkMaxParallelism(n);
      if (problem) throw new Error(problem);
    },
  });
  wf.setHandler(pauseSignal, () => {
    s.paused = true;
    bump();
  });
  wf.setHandler(resumeSignal, () => {
    s.paused = false;
    s.pausedReason = undefined;
    s.failureBaseline = { ok: s.ledger.ok, failed: s.ledger.failed };
    bump();
  });

  /** Pauses the job when failures since the last judgement from zero exceed retry.toleratedFailurePercent. */
  const judgeFailures = (latest: ItemOutcome | undefined) => {
    const tolerated = spec.retry?.toleratedFailurePercent;
    if (tolerated === undefined || s.paused) return;
    const failed = s.ledger.failed - s.failureBaseline.failed;
    const finished = failed + s.ledger.ok - s.failureBaseline.ok;
    if (finished < FAILURE_CHECK_MIN_ITEMS || failed * 100 <= tolerated * finished) return;
    const percent = Math.round((failed * 1000) / finished) / 10;
    s.paused = true;
    s.pausedReason = `${failed} of ${finished} items failed (${percent}%), above retry.toleratedFailurePercent ${tolerated}${latest ? `; latest: key ${JSON.stringify(latest.key)}: ${latest.error}` : ''}. Fix the cause, then resume`;
    wf.log.warn(`job paused itself: ${s.pausedReason}`);
  };

  const planComplete = () => s.planStarted && s.planCursor === null;
  const itemsPerSecond = (): number => {
    const first = s.rate[0];
    const last = s.rate[s.rate.length - 1];
    if (!first || !last || last[0] === first[0]) return 0;
    return Math.round(((last[1] - first[1]) / (last[0] - first[0])) * 10_000) / 10;
  };
  const progress = (): Progress => {
    const done = s.ledger.ok + s.ledger.failed;
    const state = finished ? 'done' : fatal ? 'failed' : draining ? 'draining' : !s.planStarted ? 'planning' : s.paused ? 'paused' : 'running';
    return {
      jobId,
      name: spec.name,
      state,
      total: s.total,
      ok: s.ledger.ok,
      failed: s.ledger.failed,
      pending: s.total === undefined ? undefined : s.total - done,
      chunks: { done: s.ledger.chunksDone, inFlight: inFlight.size, planned: s.ledger.chunksDone + inFlight.size + s.buffer.length, planComplete: planComplete() },
      cap: s.cap,
      paused: s.paused,
      pausedReason: s.pausedReason,
      itemsPerSecond: itemsPerSecond(),
      run: s.run,
      startedAt: new Date(s.startedAt).toISOString(),
      failedSample: s.ledger.failedSample,
    };
  };
  wf.setHandler(progressQuery, progress);

  const merge = (r: ChunkResult) => {
    s.ledger.ok += r.okCount;
    s.ledger.failed += r.failed.length;
    s.ledger.chunksDone += 1;
    for (const f of r.failed) if (s.ledger.failedSample.length < FAILED_SAMPLE_SIZE) s.ledger.failedSample.push(f);
    const now = Date.now();
    const last = s.rate[s.rate.length - 1];
    if (last && now - last[0] < 1000) last[1] = s.ledger.ok + s.ledger.failed;
    else s.rate.push([now, s.ledger.ok + s.ledger.failed]);
    while (s.rate.length > 2 && now - (s.rate[0] as [number, number])[0] > RATE_WINDOW_MS) s.rate.shift();
    judgeFailures(r.failed[r.failed.length - 1]);
  };

  const start = (chunk: ChunkDescriptor) => {
    inFlight.add(chunk.id);
    const summary = [`chunk ${chunk.id}`, chunk.label, chunk.size === undefined ? undefined : `${chunk.size} items`].filter(Boolean).join(' · ');
    runChunk.executeWithOptions({ ...chunkOptions, summary }, [{ jobId, spec: chunkSpec, chunk }])
      .then(merge, (err) => {
        fatal ??= `chunk ${chunk.id} failed: ${rootMessage(err)}`;
      })
      .finally(() => {
        inFlight.delete(chunk.id);
        bump();
      });
  };

  const planNextPage = async () => {
    planning = true;
    try {
      const page = await planActivities.planChunks({ jobId, spec, cursor: s.planStarted ? s.planCursor : undefined, pageSize: PLAN_PAGE });
      if (!s.planStarted && page.total !== undefined) s.total = page.total;
      s.planStarted = true;
      s.buffer.push(...page.chunks);
      s.planCursor = page.next ?? null;
    } catch (err) {
      fatal ??= rootMessage(err);
    } finally {
      planning = false;
      bump();
    }
  };

  const wantsContinueAsNew = () => wf.workflowInfo().continueAsNewSuggested || wf.workflowInfo().historyLength >= s.maxEventsPerRun;

  for (;;) {
    if (!planning && !planComplete() && s.buffer.length < Math.max(s.cap, PLAN_PAGE / 2) && !fatal) void planNextPage();
    if (!draining && !fatal && wantsContinueAsNew()) draining = true;
    while (!draining && !fatal && !s.paused && inFlight.size < s.cap && s.buffer.length > 0) start(s.buffer.shift() as ChunkDescriptor);

    if (inFlight.size === 0 && !planning) {
      if (fatal) {
        wf.setCurrentDetails(`${currentDetails(progress())}\n\n${fatal}`);
        throw wf.ApplicationFailure.nonRetryable(fatal, 'BackfillFailed');
      }
      if (planComplete() && s.buffer.length === 0) break;
      if (draining) {
        await wf.condition(wf.allHandlersFinished);
        return wf.continueAsNew<typeof backfillWorkflow>(input, { ...s, run: s.run + 1, rate: s.rate.slice(-2) });
      }
    }
    wf.setCurrentDetails(currentDetails(progress()));
    const seen = wake;
    await wf.condition(() => wake !== seen);
  }

  finished = true;
  wf.setCurrentDetails(currentDetails(progress()));
  let output: JobSummary['output'];
  if (spec.output) {
    try {
      const written = await wf
        .proxyActivities<Activities>({ startToCloseTimeout: '30m', retry: { maximumAttempts: 5, nonRetryableErrorTypes: ['ManifestPathError'] } })
        .writeManifest({ jobId, path: spec.output });
      output = { path: written.path, lines: written.lines };
    } catch (err) {
      // Every outcome is safe in history: the job has done its work, only this view of it is missing.
      output = { path: spec.output, lines: 0, error: `${rootMessage(err)}; write it with \`sluice results ${jobId} --out FILE\`` };
      wf.log.warn(`manifest not written: ${output.error}`);
    }
  }
  await wf.condition(wf.allHandlersFinished);
  return {
    jobId,
    ok: s.ledger.ok,
    failed: s.ledger.failed,
    total: s.ledger.ok + s.ledger.failed,
    chunks: s.ledger.chunksDone,
    runs: s.run,
    seconds: Math.round((Date.now() - s.startedAt) / 100) / 10,
    output,
  };
}
