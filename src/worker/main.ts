// `node lib/src/worker/main.js [--task-queue Q] [--max-concurrent-chunks N]`: a standalone worker process.
// Temporal's TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE say where the server is.
import { runWorker } from './index';

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

if (require.main === module) {
  const chunks = flag('max-concurrent-chunks');
  runWorker({
    taskQueue: flag('task-queue') ?? process.env.SLUICE_TASK_QUEUE,
    maxConcurrentChunks: chunks === undefined ? undefined : Number(chunks),
  }).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
