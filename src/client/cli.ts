// The `sluice` CLI: start, follow, steer and retry backfills; run a worker, a local dev stack, or the demo.
// Exit codes: 0 ok, 1 job failed or runtime error, 2 bad input. Expected errors print one short message, no stack.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { type Client, WorkflowFailedError, type WorkflowHandle, WorkflowUpdateFailedError } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { DEFAULT_TASK_QUEUE, type Progress, progressQuery } from '../common/messages';
import { manifestLine } from '../common/manifest';
import { checkMaxParallelism, InvalidSpecError, type JobSpec, validateSpec } from '../common/spec';
import type { Key } from '../common/types';
import { boolFlag, CliError, type FlagKinds, type ParsedArgs, parseArgs, positionals, stringFlag, UsageError, wholeNumberFlag } from './cli-args';
import { int, progressBlock, summaryText } from './cli-format';
import { runDemo } from './cli-demo';
import { installWorkerLogger } from './cli-logger';
import { DEFAULT_DB_FILE, DEFAULT_UI_PORT, startOrReuseServer } from './cli-server';
import { type JobEnd, watchJob } from './cli-watch';
import { connectClient, temporalAddress, temporalNamespace, workflowUiLink } from './connection';
import { isListening } from './dev-server';
import { jobSpecOf, pauseJob, resumeJob, retryFailed, setMaxParallelism, specForKeys, startJob } from './jobs';
import { jobOutcomes, writeManifestFile } from './outcomes';
import { rootMessage } from '../common/errors';

/** Where a command writes: text for people, or one JSON document (or JSON lines) with --json. */
export interface Io {
  json: boolean;
  print(text: string): void;
  printJson(value: unknown): void;
  warn(text: string): void;
}

interface Command {
  usage: string;
  summary: string;
  details?: string;
  flags: FlagKinds;
  run(args: ParsedArgs, io: Io): Promise<number>;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

// ---------- Temporal access ----------

/** Connects to TEMPORAL_ADDRESS, failing fast with a hint when nothing listens there; closes the connection after. */
async function withClient<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const address = temporalAddress();
  if (!(await isListening(address, 3000))) {
    throw new CliError(`cannot reach Temporal at ${address}: start one with \`sluice dev\`, or set TEMPORAL_ADDRESS (and TEMPORAL_NAMESPACE)`);
  }
  const client = await connectClient();
  try {
    return await fn(client);
  } finally {
    await client.connection.close();
  }
}

async function queryProgress(client: Client, jobId: string, ms = 10_000): Promise<Progress> {
  return client.withDeadline(Date.now() + ms, () => client.workflow.getHandle(jobId).query(progressQuery));
}

// ---------- job files ----------

/** Makes `path` fields of the source (and of a keys source's `of`) and `output` absolute, relative to `dir`. */
function resolvePaths(spec: unknown, dir: string): unknown {
  if (!isObject(spec)) return spec;
  const source = (s: unknown): unknown => {
    if (!isObject(s)) return s;
    const copy: Record<string, unknown> = { ...s };
    if (typeof copy.path === 'string' && copy.path !== '' && !isAbsolute(copy.path)) copy.path = resolve(dir, copy.path);
    if (copy.of !== undefined) copy.of = source(copy.of);
    return copy;
  };
  const out: Record<string, unknown> = { ...spec, source: source(spec.source) };
  if (typeof out.output === 'string' && out.output !== '' && !isAbsolute(out.output)) out.output = resolve(dir, out.output);
  if (spec.source === undefined) delete out.source;
  return out;
}

function readJson(file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`${what} ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${what} ${file}: not valid JSON (${(err as Error).message})`);
  }
}

/** Reads, resolves and validates a job file; every problem names its field. Touches nothing remote. */
export function loadJobFile(file: string): JobSpec {
  const spec = resolvePaths(readJson(file, 'job file'), dirname(resolve(file)));
  try {
    return validateSpec(spec);
  } catch (err) {
    if (err instanceof InvalidSpecError) throw new UsageError(`invalid job spec in ${file}:\n${err.problems.map((p) => `  - ${p}`).join('\n')}`);
    throw err;
  }
}

/** Keys of a manifest file: the failed ones, or all. */
function manifestKeys(file: string, failedOnly: boolean): Key[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`manifest ${file}: ${(err as Error).message}`);
  }
  const keys: Key[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch {
      throw new UsageError(`manifest ${file}, line ${i + 1}: not JSON`);
    }
    if (!isObject(row) || (typeof row.key !== 'string' && typeof row.key !== 'number') || typeof row.ok !== 'boolean') {
      throw new UsageError(`manifest ${file}, line ${i + 1}: expected an object with "key" and "ok"`);
    }
    if (!failedOnly || !row.ok) keys.push(row.key);
  });
  return keys;
}

// ---------- shared output ----------

/** Waits for a started job (live bar on a TTY) and prints its summary; 1 when it failed. */
async function waitAndReport(client: Client, handle: WorkflowHandle, io: Io, taskQueue: string): Promise<number> {
  const mode = io.json ? 'quiet' : process.stdout.isTTY ? 'live' : 'quiet';
  const end = await watchJob(client, handle, { mode, taskQueue });
  return reportEnd(handle.workflowId, end, io);
}

function reportEnd(jobId: string, end: JobEnd, io: Io): number {
  const link = workflowUiLink(jobId);
  if (end.ok) {
    if (io.json) io.printJson({ jobId, ui: link, summary: end.summary });
    else io.print(summaryText(end.summary, link));
    return 0;
  }
  const message = end.error instanceof WorkflowFailedError ? rootMessage(end.error) : (end.error as Error).message;
  if (io.json) io.printJson({ jobId, ui: link, error: message });
  else io.warn(`job ${jobId} failed: ${message}\nUI: ${link}`);
  return 1;
}

function printStarted(io: Io, handle: WorkflowHandle, taskQueue: string): void {
  if (io.json) return;
  io.print(`started ${handle.workflowId} on task queue ${taskQueue}`);
  io.print(`UI: ${workflowUiLink(handle.workflowId)}`);
}

// ---------- commands ----------

const start: Command = {
  usage: 'start <job.json> [--wait] [--id ID] [--task-queue Q] [--output FILE] [--from-manifest FILE [--failed]]',
  summary: 'validate a job file and start it',
  details: [
    'Paths in the job file (source.path, output) are relative to the job file. The spec is validated before',
    'Temporal is contacted; a bad spec exits 2 naming every bad field.',
    '  --wait                 wait for the job (live progress on a terminal) and print its summary',
    '  --id ID                workflow id (default sluice-<name>-<random>)',
    `  --task-queue Q         (default ${DEFAULT_TASK_QUEUE})`,
    '  --output FILE          manifest path, overriding the spec\'s output (relative to the current directory)',
    '  --from-manifest FILE   run only the keys of this manifest (with --failed: only its failed keys)',
  ].join('\n'),
  flags: { wait: 'boolean', id: 'string', 'task-queue': 'string', output: 'string', 'from-manifest': 'string', failed: 'boolean' },
  async run(args, io) {
    const [file] = positionals(args, ['job.json']) as [string];
    let spec = loadJobFile(file);
    const manifest = stringFlag(args, 'from-manifest');
    if (boolFlag(args, 'failed') && !manifest) throw new UsageError('--failed goes with --from-manifest FILE');
    if (manifest) {
      const keys = manifestKeys(manifest, boolFlag(args, 'failed'));
      if (keys.length === 0) {
        if (io.json) io.printJson({ jobId: null, keys: 0 });
        else io.print(`nothing to run: ${manifest} has no ${boolFlag(args, 'failed') ? 'failed ' : ''}keys`);
        return 0;
      }
      spec = specForKeys(spec, keys, spec.name ? `${spec.name} (from manifest)` : undefined);
    }
    const output = stringFlag(args, 'output');
    if (output) spec = { ...spec, output: resolve(output) };
    const taskQueue = stringFlag(args, 'task-queue') ?? DEFAULT_TASK_QUEUE;
    return withClient(async (client) => {
      const handle = await startJob(client, spec, { jobId: stringFlag(args, 'id'), taskQueue });
      if (io.json && !boolFlag(args, 'wait')) io.printJson({ jobId: handle.workflowId, taskQueue, ui: workflowUiLink(handle.workflowId) });
      printStarted(io, handle, taskQueue);
      if (!boolFlag(args, 'wait')) {
        if (!io.json) io.print(`follow it: sluice watch ${handle.workflowId}`);
        return 0;
      }
      return waitAndReport(client, handle, io, taskQueue);
    });
  },
};

const status: Command = {
  usage: 'status <id>',
  summary: 'show a job\'s progress (or its result, once closed)',
  flags: {},
  async run(args, io) {
    const [jobId] = positionals(args, ['id']) as [string];
    return withClient(async (client) => {
      const handle = client.workflow.getHandle(jobId);
      const d = await handle.describe();
      const link = workflowUiLink(jobId);
      if (d.status.name === 'RUNNING') {
        let progress: Progress;
        try {
          progress = await queryProgress(client, jobId);
        } catch (err) {
          throw new CliError(`job ${jobId} is running but its progress query was not answered (${rootMessage(err)}): is a worker polling task queue ${d.taskQueue}? (sluice worker --task-queue ${d.taskQueue})`);
        }
        if (io.json) io.printJson({ jobId, status: d.status.name, taskQueue: d.taskQueue, ui: link, progress });
        else io.print(progressBlock(progress, link));
        return 0;
      }
      let end: JobEnd;
      try {
        end = { ok: true, summary: (await handle.result()) as never };
      } catch (error) {
        end = { ok: false, error };
      }
      const closed = `job ${jobId} is closed: ${d.status.name.toLowerCase()}${d.closeTime ? ` at ${d.closeTime.toISOString()}` : ''}`;
      if (io.json) {
        io.printJson({ jobId, status: d.status.name, closedAt: d.closeTime?.toISOString(), ui: link, ...(end.ok ? { summary: end.summary } : { error: rootMessage(end.error) }) });
        return 0;
      }
      io.print(closed);
      if (end.ok) io.print(summaryText(end.summary, link));
      else io.print(`error: ${rootMessage(end.error)}\nUI: ${link}`);
      return 0;
    });
  },
};

const watch: Command = {
  usage: 'watch <id>',
  summary: 'follow a job live until it ends, then print its summary',
  details: 'On a terminal: a progress bar redrawn 4x/s. Otherwise: a line every 3s (with --json: a JSON line a second).',
  flags: {},
  async run(args, io) {
    const [jobId] = positionals(args, ['id']) as [string];
    return withClient(async (client) => {
      const handle = client.workflow.getHandle(jobId);
      const d = await handle.describe();
      if (d.status.name !== 'RUNNING' && !io.json) io.print(`job ${jobId} is closed: ${d.status.name.toLowerCase()}`);
      const mode = io.json ? 'json' : process.stdout.isTTY ? 'live' : 'lines';
      const end = await watchJob(client, handle, { mode, taskQueue: d.taskQueue });
      return reportEnd(jobId, end, io);
    });
  },
};

/** The cap as typed: a number when it looks like one, so that the check can name it either way. */
function capArgument(raw: string): unknown {
  return /^\s*-?\d+(\.\d+)?\s*$/.test(raw) ? Number(raw) : raw;
}

const setParallelism: Command = {
  usage: 'set-parallelism <id> <n>',
  summary: 'change how many chunks may run at once, while the job runs',
  details: 'Goes through the validating update: the job answers with the change. A bad value exits 2, nothing sent.',
  flags: {},
  async run(args, io) {
    const [jobId, raw] = positionals(args, ['id', 'n']) as [string, string];
    const value = capArgument(raw);
    const problem = checkMaxParallelism(value);
    if (problem) throw new UsageError(problem);
    return withClient(async (client) => {
      const change = await setMaxParallelism(client, jobId, value);
      if (io.json) io.printJson({ jobId, ...change });
      else io.print(`${jobId}: cap ${change.previous} -> ${change.current} (${change.inFlight} chunks in flight)`);
      return 0;
    });
  },
};

const pauseOrResume = (which: 'pause' | 'resume'): Command => ({
  usage: `${which} <id>`,
  summary: which === 'pause' ? 'start no new chunks (running ones finish)' : 'start chunks again after pause',
  flags: {},
  async run(args, io) {
    const [jobId] = positionals(args, ['id']) as [string];
    return withClient(async (client) => {
      await (which === 'pause' ? pauseJob : resumeJob)(client, jobId);
      if (io.json) io.printJson({ jobId, paused: which === 'pause' });
      else io.print(which === 'pause' ? `paused ${jobId}: no new chunks start; chunks in flight finish (sluice resume ${jobId})` : `resumed ${jobId}`);
      return 0;
    });
  },
});

const results: Command = {
  usage: 'results <id> [--failed] [--out FILE]',
  summary: 'write the manifest (one JSON line per item) from Temporal history',
  details: '  --failed     only the failed items\n  --out FILE   write to FILE instead of stdout (prints a summary)',
  flags: { failed: 'boolean', out: 'string' },
  async run(args, io) {
    const [jobId] = positionals(args, ['id']) as [string];
    const failedOnly = boolFlag(args, 'failed');
    const out = stringFlag(args, 'out');
    return withClient(async (client) => {
      const d = await client.workflow.getHandle(jobId).describe();
      if (d.status.name === 'RUNNING') io.warn(`note: ${jobId} is still running; the manifest holds the chunks finished so far`);
      if (out) {
        const summary = await writeManifestFile(client, jobId, resolve(out), { failedOnly });
        if (io.json) io.printJson({ jobId, ...summary });
        else io.print(`wrote ${int(summary.lines)} lines to ${summary.path} (${int(summary.ok)} ok, ${int(summary.failed)} failed)`);
        return 0;
      }
      for await (const o of jobOutcomes(client, jobId)) {
        if (failedOnly && o.ok) continue;
        if (!process.stdout.write(`${manifestLine(o)}\n`)) await new Promise((r) => process.stdout.once('drain', r));
      }
      return 0;
    });
  },
};

const retry: Command = {
  usage: 'retry <id> [--wait] [--output FILE] [--id NEW_ID] [--task-queue Q]',
  summary: 'start a new job over only the failed items of a job',
  details: '  --output FILE       manifest of the retry (default: none; `sluice results NEW_ID`)\n  --task-queue Q      default: the original job\'s task queue',
  flags: { wait: 'boolean', output: 'string', id: 'string', 'task-queue': 'string' },
  async run(args, io) {
    const [jobId] = positionals(args, ['id']) as [string];
    return withClient(async (client) => {
      const d = await client.workflow.getHandle(jobId).describe();
      if (d.status.name === 'RUNNING') io.warn(`note: ${jobId} is still running; retrying the failures recorded so far`);
      const taskQueue = stringFlag(args, 'task-queue') ?? d.taskQueue;
      const output = stringFlag(args, 'output');
      const handle = await retryFailed(client, jobId, { taskQueue, jobId: stringFlag(args, 'id'), output: output ? resolve(output) : undefined });
      if (!handle) {
        if (io.json) io.printJson({ jobId: null, retryOf: jobId, failed: 0 });
        else io.print(`nothing failed in ${jobId}: no retry needed`);
        return 0;
      }
      const source = (await jobSpecOf(client, handle.workflowId)).source as { keys?: unknown[] };
      const count = source.keys?.length ?? 0;
      if (io.json && !boolFlag(args, 'wait')) io.printJson({ jobId: handle.workflowId, retryOf: jobId, failed: count, taskQueue, ui: workflowUiLink(handle.workflowId) });
      if (!io.json) io.print(`retrying ${int(count)} failed item${count === 1 ? '' : 's'} of ${jobId}`);
      printStarted(io, handle, taskQueue);
      return boolFlag(args, 'wait') ? waitAndReport(client, handle, io, taskQueue) : 0;
    });
  },
};

const plan: Command = {
  usage: 'plan <job.json>',
  summary: 'validate a job file and show its chunk plan, without starting anything',
  flags: {},
  async run(args, io) {
    const [file] = positionals(args, ['job.json']) as [string];
    const spec = loadJobFile(file);
    const { planJob } = await import('./cli-plan');
    const summary = await planJob(spec);
    if (io.json) io.printJson(summary);
    else io.print(summary.text);
    return 0;
  },
};

const worker: Command = {
  usage: 'worker [--task-queue Q] [--max-concurrent-chunks N]',
  summary: 'run a worker (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE) until Ctrl-C',
  details: `  --task-queue Q              (default ${DEFAULT_TASK_QUEUE})\n  --max-concurrent-chunks N   chunks this process runs at once (default 200); the job-wide cap is the job's`,
  flags: { 'task-queue': 'string', 'max-concurrent-chunks': 'string' },
  async run(args, io) {
    const maxConcurrentChunks = wholeNumberFlag(args, 'max-concurrent-chunks', 1);
    const taskQueue = stringFlag(args, 'task-queue') ?? process.env.SLUICE_TASK_QUEUE ?? DEFAULT_TASK_QUEUE;
    installWorkerLogger('INFO');
    const { runWorker } = await import('../worker');
    io.warn(`sluice worker: task queue ${taskQueue} at ${temporalAddress()} (namespace ${temporalNamespace()}); Ctrl-C to stop`);
    await runWorker({ taskQueue, maxConcurrentChunks });
    return 0;
  },
};

const dev: Command = {
  usage: `dev [--db FILE] [--ui-port PORT] [--task-queue Q]`,
  summary: 'a local Temporal dev server (Web UI, SQLite) plus a worker, until Ctrl-C',
  details: `Reuses a server already listening at TEMPORAL_ADDRESS (default localhost:7233).\n  --db FILE        SQLite file that keeps jobs across restarts (default ${DEFAULT_DB_FILE})\n  --ui-port PORT   Web UI port (default ${DEFAULT_UI_PORT}, or a free one when that is taken)`,
  flags: { db: 'string', 'ui-port': 'string', 'task-queue': 'string' },
  async run(args, io) {
    const uiPort = wholeNumberFlag(args, 'ui-port', 1);
    const taskQueue = stringFlag(args, 'task-queue') ?? DEFAULT_TASK_QUEUE;
    const server = await startOrReuseServer({ uiPort, dbFile: stringFlag(args, 'db') });
    process.env.SLUICE_UI_URL ??= server.uiUrl;
    io.print(server.reused ? `Temporal: reusing the server at ${server.address}` : `Temporal: dev server at ${server.address}, history in ${server.dbFile}`);
    io.print(`Web UI: ${server.uiUrl}`);
    io.print(`worker: task queue ${taskQueue}; start a job in another terminal: sluice start job.json --wait`);
    io.print('Ctrl-C stops the worker' + (server.reused ? '' : ' and the server'));
    try {
      installWorkerLogger('INFO');
      const { runWorker } = await import('../worker');
      await runWorker({ taskQueue });
    } finally {
      await server.stop();
    }
    return 0;
  },
};

const demo: Command = {
  usage: 'demo [--keep] [--ui-port PORT] [--api-port PORT] [--items N]',
  summary: 'the whole thing in one process: server, worker, a rate-limited API and a live job (~30s)',
  details: [
    '  --keep            leave the server, worker and API running at the end (Ctrl-C stops them)',
    '  --ui-port PORT    Web UI port when a server is started (default 8233, or a free one)',
    '  --api-port PORT   port of the demo API (default 8787, which examples/http-range.json uses; a free one when taken)',
    '  --items N         items in the demo job (default 3000)',
  ].join('\n'),
  flags: { keep: 'boolean', 'ui-port': 'string', 'api-port': 'string', items: 'string' },
  async run(args, io) {
    return runDemo({ keep: boolFlag(args, 'keep'), uiPort: wholeNumberFlag(args, 'ui-port', 1), apiPort: wholeNumberFlag(args, 'api-port', 1), items: wholeNumberFlag(args, 'items', 100), io });
  },
};

export const COMMANDS: Record<string, Command> = {
  start,
  status,
  watch,
  'set-parallelism': setParallelism,
  pause: pauseOrResume('pause'),
  resume: pauseOrResume('resume'),
  results,
  retry,
  plan,
  worker,
  dev,
  demo,
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return [
    'sluice: durable backfills on Temporal that stay inside the limits of the systems they call',
    '',
    'usage: sluice <command> [options]   (every command takes --json and --help)',
    '',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    `Temporal: TEMPORAL_ADDRESS (now ${temporalAddress()}), TEMPORAL_NAMESPACE (now ${temporalNamespace()}).`,
    'Exit codes: 0 ok, 1 job failed or runtime error, 2 bad input.',
  ].join('\n');
}

function commandHelp(name: string, c: Command): string {
  return [`usage: sluice ${c.usage} [--json]`, '', c.summary, ...(c.details ? ['', c.details] : [])].join('\n');
}

function makeIo(json: boolean): Io {
  return {
    json,
    print: (text) => void process.stdout.write(`${text}\n`),
    printJson: (value) => void process.stdout.write(`${JSON.stringify(value)}\n`),
    warn: (text) => void process.stderr.write(`${text}\n`),
  };
}

/** Exit code and message for an error; expected ones get one short line, anything else a stack with SLUICE_DEBUG=1. */
export function explain(err: unknown): { code: number; message: string } {
  if (err instanceof UsageError) return { code: 2, message: err.message };
  if (err instanceof InvalidSpecError) return { code: 2, message: err.message };
  if (err instanceof CliError) return { code: 1, message: err.message };
  if (err instanceof WorkflowNotFoundError) return { code: 1, message: `no job ${JSON.stringify(err.workflowId)} in namespace ${temporalNamespace()}` };
  if (err instanceof WorkflowUpdateFailedError) return { code: 2, message: `rejected: ${rootMessage(err)}` };
  if (err instanceof WorkflowFailedError) return { code: 1, message: `job failed: ${rootMessage(err)}` };
  const message = err instanceof Error ? err.message : String(err);
  return { code: 1, message: process.env.SLUICE_DEBUG ? String((err as Error).stack ?? message) : message };
}

/** Runs the CLI with `argv` (without node and the script); resolves to the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const target = name === 'help' && rest[0] ? COMMANDS[rest[0]] : undefined;
    process.stdout.write(`${target && rest[0] ? commandHelp(rest[0], target) : usage()}\n`);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  let io = makeIo(argv.includes('--json'));
  try {
    if (!command) throw new UsageError(`unknown command ${JSON.stringify(name)} (commands: ${Object.keys(COMMANDS).join(', ')})`);
    const args = parseArgs(rest, command.flags);
    io = makeIo(boolFlag(args, 'json'));
    if (boolFlag(args, 'help')) {
      io.print(commandHelp(name, command));
      return 0;
    }
    return await command.run(args, io);
  } catch (err) {
    const { code, message } = explain(err);
    if (io.json) process.stdout.write(`${JSON.stringify({ error: message, exitCode: code })}\n`);
    process.stderr.write(`sluice${command ? ` ${name}` : ''}: ${message}\n`);
    if (code === 2 && err instanceof UsageError && command && !message.includes('\n')) process.stderr.write(`usage: sluice ${command.usage}\n`);
    return code;
  }
}

/** Entry point for bin/sluice: runs main and exits with its code once output is flushed. */
export function run(): void {
  main(process.argv.slice(2)).then(
    (code) => process.stdout.write('', () => process.exit(code)),
    (err: unknown) => {
      process.stderr.write(`sluice: ${String(err)}\n`);
      process.exit(1);
    },
  );
}

if (require.main === module) run();
