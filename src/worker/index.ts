// The sluice worker: connection, task queue, slots, the registry of sources and targets.
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, createRegistry } from '../activities';
import type { AnySource, AnyTarget } from '../activities/plugins';
import { DEFAULT_TASK_QUEUE } from '../common/messages';
import { temporalAddress, temporalNamespace } from '../client/connection';

export interface SluiceWorkerOptions {
  /** @default TEMPORAL_ADDRESS or localhost:7233 */
  address?: string;
  /** @default TEMPORAL_NAMESPACE or default */
  namespace?: string;
  /** @default 'sluice' */
  taskQueue?: string;
  /** Your own sources and targets, beside the built-in ones. */
  sources?: AnySource[];
  targets?: AnyTarget[];
  /**
   * Chunks this process runs at once. The job-wide cap is the workflow's; this bounds one process.
   * @default 200
   */
  maxConcurrentChunks?: number;
  /** A prebuilt workflow bundle (tests build one once); by default the workflows are bundled at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  connection?: NativeConnection;
  env?: NodeJS.ProcessEnv;
}

export async function createWorker(opts: SluiceWorkerOptions = {}): Promise<Worker> {
  const address = opts.address ?? temporalAddress();
  const namespace = opts.namespace ?? temporalNamespace();
  const connection = opts.connection ?? (await NativeConnection.connect({ address }));
  let client: Promise<Client> | undefined;
  const registry = createRegistry({ sources: opts.sources, targets: opts.targets });
  const activities = createActivities(registry, {
    env: opts.env,
    client: () => (client ??= Connection.connect({ address }).then((c) => new Client({ connection: c, namespace }))),
  });
  return Worker.create({
    connection,
    namespace,
    taskQueue: opts.taskQueue ?? DEFAULT_TASK_QUEUE,
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath: require.resolve('../workflows') }),
    activities,
    maxConcurrentActivityTaskExecutions: opts.maxConcurrentChunks ?? 200,
    // Heartbeat details reach the server at least every second: a crash redoes at most about a second of work.
    defaultHeartbeatThrottleInterval: '1s',
    maxHeartbeatThrottleInterval: '1s',
  });
}

/** Runs a worker until SIGINT or SIGTERM. */
export async function runWorker(opts: SluiceWorkerOptions = {}): Promise<void> {
  const worker = await createWorker(opts);
  const stop = () => worker.shutdown();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await worker.run();
}
