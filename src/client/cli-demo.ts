// `sluice demo`: the whole story in one process and about 30 seconds. A Temporal dev server (reused when one listens),
// a worker, a local API that enforces 200 req/s and 8 requests at once, and a 3,000-item job that stays inside both:
// cap 4 chunks x 25 req/s per chunk, raised to 6 mid-run through the update. Ends with the manifest, the failures,
// the retry command, the Web UI link and what the API saw.
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Client } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { startLimitedApi, type LimitedApi } from '../demo/limited-api';
import { DEFAULT_TASK_QUEUE } from '../common/messages';
import type { JobSpec } from '../common/spec';
import type { Io } from './cli';
import { int, summaryText } from './cli-format';
import { installWorkerLogger } from './cli-logger';
import { type LocalServer, startOrReuseServer } from './cli-server';
import { watchJob } from './cli-watch';
import { connectClient, workflowUiLink } from './connection';
import { isListening } from './dev-server';
import { setMaxParallelism, startJob } from './jobs';

export interface DemoOptions {
  keep: boolean;
  uiPort?: number;
  items?: number;
  apiPort?: number;
  io: Io;
}

const API = { ratePerSecond: 200, burst: 20, maxConcurrent: 8, latencyMs: 2 };
const CAP = 4;
const RAISED_CAP = 6;
const PER_CHUNK_RPS = 30;
const FAIL_KEYS = ['13', '1234', '2718'];
const REJECT_KEYS = ['404'];
/** The default queue, so that `sluice start` and `sluice retry` reach the demo's worker when it runs with --keep. */
const TASK_QUEUE = DEFAULT_TASK_QUEUE;
/** The port examples/http-range.json points at; a free one when it is taken. */
export const DEMO_API_PORT = 8787;
export const DEMO_MANIFEST = '.sluice/demo-manifest.jsonl';

export function demoSpec(apiUrl: string, items: number): JobSpec {
  return {
    name: 'demo',
    source: { type: 'range', start: 0, end: items },
    target: { type: 'http', method: 'PUT', url: `${apiUrl}/items/{{key}}`, body: { id: '{{key}}', backfilled: true } },
    // Small chunks so progress moves smoothly; a real job of this size would use 100 or more.
    chunkSize: 25,
    maxParallelism: CAP,
    pacing: { requestsPerSecond: PER_CHUNK_RPS, burst: 1 },
    retry: { maxAttempts: 3, initialInterval: '200ms' },
    output: resolve(DEMO_MANIFEST),
  };
}

export async function runDemo(opts: DemoOptions): Promise<number> {
  const { io } = opts;
  const say = (line = '') => void (io.json || io.print(line));
  const items = opts.items ?? 3000;
  installWorkerLogger('WARN');

  say(`sluice demo: ${int(items)} items against a local API that allows ${API.ratePerSecond} req/s and ${API.maxConcurrent} requests at once`);
  say();
  let server: LocalServer | undefined;
  let api: LimitedApi | undefined;
  let worker: Worker | undefined;
  let workerRun: Promise<void> | undefined;
  let client: Client | undefined;
  const stopAll = async () => {
    if (worker && worker.getState() === 'RUNNING') worker.shutdown();
    await workerRun?.catch(() => undefined);
    await api?.close();
    await client?.connection.close();
    await server?.stop();
  };
  const onSigint = () => {
    say('\ninterrupted: stopping what the demo started');
    void stopAll().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSigint);

  try {
    server = await startOrReuseServer({ uiPort: opts.uiPort });
    process.env.SLUICE_UI_URL ??= server.uiUrl;
    say(server.reused ? `Temporal  reusing the server at ${server.address}` : `Temporal  dev server started at ${server.address} (history in ${server.dbFile})`);
    say(`Web UI    ${server.uiUrl}`);

    const port = opts.apiPort ?? DEMO_API_PORT;
    const portFree = !(await isListening(`127.0.0.1:${port}`));
    api = await startLimitedApi({ ...API, failKeys: FAIL_KEYS, rejectKeys: REJECT_KEYS, port: portFree ? port : 0 });
    say(`API       ${api.url}: ${API.ratePerSecond} req/s (burst ${API.burst}), ${API.maxConcurrent} in flight, else 429 + Retry-After`);
    say(`          keys ${FAIL_KEYS.join(', ')} always answer 500 and key ${REJECT_KEYS.join(', ')} answers 422, so failures show`);

    const { createWorker } = await import('../worker');
    worker = await createWorker({ taskQueue: TASK_QUEUE });
    workerRun = worker.run();
    say(`worker    in this process, task queue ${TASK_QUEUE}`);

    mkdirSync(dirname(resolve(DEMO_MANIFEST)), { recursive: true });
    client = await connectClient();
    const spec = demoSpec(api.url, items);
    say(`job       cap ${CAP} chunks x ${PER_CHUNK_RPS} req/s per chunk = ${CAP * PER_CHUNK_RPS} req/s, under the API's ${API.ratePerSecond}`);
    const handle = await startJob(client, spec, { taskQueue: TASK_QUEUE });
    const jobId = handle.workflowId;
    const link = workflowUiLink(jobId);
    say(`started   ${jobId}`);
    say(`          ${link}`);
    say();

    let raised: { previous: number; current: number; inFlight: number } | undefined;
    const mode = io.json ? 'quiet' : process.stdout.isTTY ? 'live' : 'lines';
    const end = await watchJob(client, handle, {
      mode,
      taskQueue: TASK_QUEUE,
      onProgress: async (p, note) => {
        if (raised || !client || p.ok + p.failed < items * 0.2) return;
        raised = await setMaxParallelism(client, jobId, RAISED_CAP);
        p.cap = raised.current;
        note(`raised the cap ${raised.previous} -> ${raised.current} with the setMaxParallelism update (${raised.inFlight} chunks were in flight): ${RAISED_CAP} x ${PER_CHUNK_RPS} = ${RAISED_CAP * PER_CHUNK_RPS} req/s, still under ${API.ratePerSecond}`);
      },
    });
    const stats = api.stats();
    if (!end.ok) {
      io.warn(`demo job ${jobId} failed: ${(end.error as Error).message}\nUI: ${link}`);
      return 1;
    }
    const { summary } = end;
    const apiSaw = { maxInFlight: stats.maxInFlight, maxConcurrent: API.maxConcurrent, throttled: stats.throttled, accepted: stats.accepted, acceptedPerSecond: Math.round(stats.acceptedPerSecond), ratePerSecond: API.ratePerSecond };
    if (io.json) {
      io.printJson({ jobId, ui: link, summary, manifest: summary.output?.path, failed: summary.failed, retry: `sluice retry ${jobId} --wait`, capRaised: raised, api: apiSaw });
    } else {
      say();
      say(summaryText(summary, link));
      say(`          in the UI: Timeline (one bar per chunk), User Metadata (summary, current details), Event History (the cap update)`);
      say(`API saw   at most ${apiSaw.maxInFlight} requests in flight (limit ${apiSaw.maxConcurrent}), ${int(apiSaw.throttled)} answered 429, ${int(apiSaw.accepted)} accepted at ~${apiSaw.acceptedPerSecond} req/s (limit ${apiSaw.ratePerSecond})`);
      if (!raised) say(`(the job ended before the cap was raised)`);
    }

    if (opts.keep) {
      api.configure({ failKeys: [], rejectKeys: [] });
      say();
      say(`--keep: the server, the worker (task queue ${TASK_QUEUE}) and the API (${api.url}) stay up; the API now accepts the failed keys.`);
      say(`In another terminal:  sluice retry ${jobId} --wait`);
      if (api.url.endsWith(`:${DEMO_API_PORT}`)) say(`                      sluice start examples/http-range.json   (then watch, set-parallelism, pause, resume)`);
      say(`Web UI: ${server.uiUrl}    Ctrl-C here stops everything.`);
      process.removeListener('SIGINT', onSigint);
      await new Promise((r) => process.once('SIGINT', r));
    } else if (summary.failed > 0) {
      say(`(the retry needs a worker and the demo API: \`sluice demo --keep\` leaves them up)`);
    }
    return 0;
  } finally {
    process.removeListener('SIGINT', onSigint);
    await stopAll();
    say(server && !server.reused ? 'stopped the worker, the demo API and the dev server the demo started' : 'stopped the worker and the demo API (the Temporal server was already running and stays up)');
    if (!opts.keep && server && !server.reused) say(`its history stays in ${server.dbFile}: \`sluice dev\` serves it again with the Web UI`);
  }
}
