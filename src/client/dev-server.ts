// Finds the Temporal CLI and starts `temporal server start-dev` (real server, SQLite, Web UI),
// or reuses one that is already listening.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { delimiter, join, resolve } from 'node:path';

const PACKAGE_ROOT = resolve(__dirname, __dirname.includes(`${join('lib', 'src')}`) ? '../../..' : '../..');

/** SLUICE_TEMPORAL_BIN, else `temporal` on PATH, else the copy scripts/install-temporal.sh puts in .tools. */
export function findTemporalCli(env = process.env): string | undefined {
  if (env.SLUICE_TEMPORAL_BIN && existsSync(env.SLUICE_TEMPORAL_BIN)) return env.SLUICE_TEMPORAL_BIN;
  for (const dir of (env.PATH ?? '').split(delimiter)) if (dir && existsSync(join(dir, 'temporal'))) return join(dir, 'temporal');
  const local = join(PACKAGE_ROOT, '.tools', 'temporal', 'bin', 'temporal');
  return existsSync(local) ? local : undefined;
}

export function isListening(address: string, timeoutMs = 500): Promise<boolean> {
  const [host, port] = address.includes(':') ? [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))] : [address, 7233];
  return new Promise((done) => {
    const socket = connect({ host: host === 'localhost' ? '127.0.0.1' : host, port });
    const finish = (ok: boolean) => {
      socket.destroy();
      done(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

export interface DevServerOptions {
  /** @default 127.0.0.1:7233 */
  address?: string;
  /** @default 8233 */
  uiPort?: number;
  /** SQLite file that keeps history across restarts; unset keeps it in memory. */
  dbFile?: string;
  /** @default false: the UI is served */
  headless?: boolean;
  log?: (line: string) => void;
}

export interface DevServer {
  address: string;
  uiUrl?: string;
  /** The process we started; undefined when a server was already listening. */
  process?: ChildProcess;
  stop(): Promise<void>;
}

export async function ensureDevServer(opts: DevServerOptions = {}): Promise<DevServer> {
  const address = opts.address ?? '127.0.0.1:7233';
  const uiPort = opts.uiPort ?? 8233;
  if (await isListening(address)) return { address, uiUrl: `http://localhost:${uiPort}`, stop: async () => undefined };
  const cli = findTemporalCli();
  if (!cli) throw new Error('Temporal CLI not found: run scripts/install-temporal.sh, put `temporal` on PATH, or set SLUICE_TEMPORAL_BIN');
  const port = address.slice(address.lastIndexOf(':') + 1);
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', port, '--ui-port', String(uiPort), '--log-level', 'warn'];
  if (opts.dbFile) args.push('--db-filename', opts.dbFile);
  if (opts.headless) args.push('--headless');
  opts.log?.(`starting ${cli} ${args.join(' ')}`);
  const child = spawn(cli, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: false });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => void (stderr = (stderr + d.toString()).slice(-4000)));
  const deadline = Date.now() + 30_000;
  while (!(await isListening(address))) {
    if (child.exitCode !== null) throw new Error(`temporal server start-dev exited with ${child.exitCode}: ${stderr}`);
    if (Date.now() > deadline) throw new Error(`temporal server start-dev did not listen on ${address} within 30s: ${stderr}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    address,
    uiUrl: opts.headless ? undefined : `http://localhost:${uiPort}`,
    process: child,
    /** Stops the server we started; a no-op once it has exited (e.g. Ctrl-C reached its process group too). */
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
