// Worker logs for the CLI's in-process workers: one line each on stderr, without the workflow bundler's webpack report.
import { DefaultLogger, type LogEntry, type LogLevel, Runtime } from '@temporalio/worker';

const NOISE = [/^asset workflow-bundle/, /^No Nexus services registered/];

function line(entry: LogEntry): void {
  if (NOISE.some((re) => re.test(entry.message))) return;
  const { sdkComponent: _component, ...meta } = entry.meta ?? {};
  const time = new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString();
  const details = Object.keys(meta).length > 0 ? ` ${JSON.stringify(meta)}` : '';
  process.stderr.write(`${time} [${entry.level}] ${entry.message}${details}\n`);
}

/** Installs the Temporal runtime with this logger; call once, before any worker or native connection exists. */
export function installWorkerLogger(level: LogLevel): void {
  Runtime.install({ logger: new DefaultLogger(level, line) });
}
