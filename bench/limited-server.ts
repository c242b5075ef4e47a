// The rate-limited demo API (src/demo/limited-api.ts) in a child process of its own, as an external API would be:
// its clock and its event loop are not the worker's. Stats are read over HTTP (GET /stats).
import { fork } from 'node:child_process';
import { request } from 'undici';
import { type LimitedApiOptions, type LimitedApiStats, startLimitedApi } from '../src/demo/limited-api';

export interface RemoteLimitedApi {
  url: string;
  stats(): Promise<LimitedApiStats>;
  close(): Promise<void>;
}

export async function forkLimitedApi(opts: Omit<LimitedApiOptions, 'failKeys' | 'rejectKeys'>): Promise<RemoteLimitedApi> {
  const child = fork(__filename, ['--serve', JSON.stringify(opts)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`limited API exited with ${code}`)));
    child.once('message', (m) => resolve((m as { url: string }).url));
  });
  return {
    url,
    stats: async () => (await (await request(`${url}/stats`)).body.json()) as LimitedApiStats,
    close: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

if (require.main === module && process.argv[2] === '--serve') {
  startLimitedApi(JSON.parse(process.argv[3] ?? '{}') as LimitedApiOptions).then(
    (api) => {
      process.send?.({ url: api.url });
      process.once('SIGTERM', () => void api.close().then(() => process.exit(0)));
    },
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
