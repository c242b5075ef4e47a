// Follows a running job until it ends: a live bar on a TTY, a line every few seconds elsewhere, JSON lines with --json.
import type { Client, WorkflowHandle } from '@temporalio/client';
import { type Progress, progressQuery } from '../common/messages';
import type { JobSummary } from '../workflows/backfill';
import { progressLine } from './cli-format';

export type JobEnd = { ok: true; summary: JobSummary; last?: Progress } | { ok: false; error: unknown; last?: Progress };

export interface WatchOptions {
  /** live: redraw one line ~4x/s (TTY); lines: print a line every few seconds; json: a JSON line a second; quiet: nothing. */
  mode: 'live' | 'lines' | 'json' | 'quiet';
  out?: NodeJS.WritableStream;
  /** Called with each progress; `note` prints a line above the live bar. */
  onProgress?: (p: Progress, note: (line: string) => void) => Promise<void> | void;
  /** Task queue to name when no worker answers. */
  taskQueue?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls the `progress` query until the workflow's result settles; returns how it ended. */
export async function watchJob(client: Client, handle: WorkflowHandle, opts: WatchOptions): Promise<JobEnd> {
  const out = opts.out ?? process.stdout;
  const state: { end?: JobEnd } = {};
  let last: Progress | undefined;
  const ended = handle.result().then(
    (summary: unknown) => void (state.end = { ok: true, summary: summary as JobSummary }),
    (error: unknown) => void (state.end = { ok: false, error }),
  );
  const every = opts.mode === 'live' ? 250 : 1000;
  const printEvery = opts.mode === 'lines' ? 3000 : opts.mode === 'json' ? 1000 : 0;
  let lastPrint = 0;
  let liveShown = false;
  const started = Date.now();
  let waitingNoted = false;
  const clearLive = () => {
    if (liveShown) out.write('\r\x1b[2K');
    liveShown = false;
  };
  const note = (line: string) => {
    if (opts.mode === 'json' || opts.mode === 'quiet') return;
    clearLive();
    out.write(`${line}\n`);
  };

  while (!state.end) {
    try {
      last = await client.withDeadline(Date.now() + 5000, () => handle.query(progressQuery));
    } catch {
      // Not answered yet (no worker, first workflow task pending, or the job just closed): keep the last one.
      if (!last && !state.end && !waitingNoted && Date.now() - started > 5000) {
        waitingNoted = true;
        note(`waiting for a worker to answer the progress query${opts.taskQueue ? ` (task queue ${opts.taskQueue}: run \`sluice worker --task-queue ${opts.taskQueue}\`)` : ''}...`);
      }
    }
    if (state.end) break;
    if (last) {
      await opts.onProgress?.(last, note);
      const now = Date.now();
      if (opts.mode === 'live') {
        out.write(`\r\x1b[2K${progressLine(last, { withBar: true })}`);
        liveShown = true;
      } else if (printEvery > 0 && now - lastPrint >= printEvery) {
        lastPrint = now;
        out.write(opts.mode === 'json' ? `${JSON.stringify({ progress: last })}\n` : `${new Date(now).toISOString().slice(11, 19)}  ${progressLine(last)}\n`);
      }
    }
    await Promise.race([ended, sleep(every)]);
  }
  await ended;
  clearLive();
  return { ...(state.end as JobEnd), last };
}
