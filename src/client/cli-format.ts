// Text the sluice CLI prints: progress lines and bars, status blocks, job summaries. Pure functions of their input.
import type { Progress } from '../common/messages';
import type { JobSummary } from '../workflows/backfill';

export const int = (n: number): string => Math.round(n).toLocaleString('en-US');

/** 7s, 1m 05s, 2h 03m. */
export function duration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export const done = (p: Progress): number => p.ok + p.failed;

/** Seconds left at the current rate, or undefined when it cannot be told. */
export function etaSeconds(p: Progress): number | undefined {
  if (p.total === undefined || p.itemsPerSecond <= 0) return undefined;
  return Math.max(0, p.total - done(p)) / p.itemsPerSecond;
}

export function bar(fraction: number, width = 28): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
}

/** One line of progress: done/total, percentage, rate, ETA, cap, chunks in flight, failures. */
export function progressLine(p: Progress, opts: { withBar?: boolean } = {}): string {
  const parts: string[] = [];
  const n = done(p);
  if (p.total !== undefined && p.total > 0) {
    const fraction = n / p.total;
    if (opts.withBar) parts.push(bar(fraction));
    parts.push(`${int(n)}/${int(p.total)}`, `${(fraction * 100).toFixed(1).padStart(5)}%`);
  } else parts.push(`${int(n)} items`);
  parts.push(`${p.itemsPerSecond.toFixed(1)} items/s`);
  const eta = etaSeconds(p);
  parts.push(`ETA ${eta === undefined ? '?' : duration(eta)}`);
  parts.push(`cap ${p.cap}`, `in flight ${p.chunks.inFlight}`, `failed ${int(p.failed)}`);
  if (p.pausedReason) parts.push('[paused itself: too many failures; `sluice status` says why]');
  else if (p.state !== 'running') parts.push(`[${p.state}]`);
  return parts.join('  ');
}

/** The `status` block for a job that is still running. */
export function progressBlock(p: Progress, link: string): string {
  const n = done(p);
  const of = p.total === undefined ? '' : ` / ${int(p.total)} (${p.total > 0 ? ((100 * n) / p.total).toFixed(1) : '100.0'}%)`;
  const eta = etaSeconds(p);
  const lines = [
    `${p.jobId}${p.name ? `  (${p.name})` : ''}  ${p.state}${p.paused && p.state !== 'paused' ? ' (paused)' : ''}`,
    `  items    ${int(n)}${of}   ok ${int(p.ok)}   failed ${int(p.failed)}`,
    `  rate     ${p.itemsPerSecond.toFixed(1)} items/s   ETA ${eta === undefined ? '?' : duration(eta)}`,
    `  chunks   ${int(p.chunks.done)} done, ${p.chunks.inFlight} in flight, ${int(p.chunks.planned)} planned${p.chunks.planComplete ? ' (plan complete)' : ' (planning)'}`,
    `  cap      ${p.cap} chunks at once${p.paused ? ', paused: no new chunks start' : ''}`,
    ...(p.pausedReason ? [`  paused   by itself: ${p.pausedReason} (sluice resume ${p.jobId})`] : []),
    `  run      ${p.run} (started ${p.startedAt})`,
  ];
  if (p.failedSample.length > 0) {
    lines.push(`  first failures:`);
    for (const f of p.failedSample.slice(0, 5)) lines.push(`    ${JSON.stringify(f.key)}  ${f.errorClass ?? ''}  ${f.error ?? ''}  (${f.attempts} attempts)`);
  }
  lines.push(`  UI       ${link}`);
  return lines.join('\n');
}

/** What to do next with a finished job: where the manifest is, and how to retry the failures. */
export function nextSteps(summary: JobSummary): string[] {
  const lines: string[] = [];
  if (summary.output?.error) lines.push(`manifest: not written: ${summary.output.error}`);
  else if (summary.output) lines.push(`manifest: ${summary.output.path} (${int(summary.output.lines)} lines, written by the worker)`);
  else lines.push(`manifest: sluice results ${summary.jobId} --out manifest.jsonl`);
  if (summary.failed > 0) lines.push(`failures: sluice results ${summary.jobId} --failed   |   retry only them: sluice retry ${summary.jobId} --wait`);
  return lines;
}

export function summaryText(summary: JobSummary, link: string): string {
  return [
    `done: ${int(summary.total)} items, ${int(summary.ok)} ok, ${int(summary.failed)} failed, in ${duration(summary.seconds)} (${int(summary.chunks)} chunks, ${summary.runs} run${summary.runs === 1 ? '' : 's'})`,
    ...nextSteps(summary),
    `UI: ${link}`,
  ].join('\n');
}
