// The local Temporal server for `sluice dev` and `sluice demo`: reuse one that listens, else start the dev server
// with the Web UI and a SQLite file, on a free UI port when the default one is taken.
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, resolve } from 'node:path';
import { ensureDevServer, isListening } from './dev-server';
import { temporalAddress } from './connection';

export const DEFAULT_UI_PORT = 8233;
export const DEFAULT_DB_FILE = '.sluice/temporal.db';

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => done(port));
    });
  });
}

export interface LocalServer {
  address: string;
  /** The Web UI of the server we started, or the configured/default one for a server we reused. */
  uiUrl: string;
  reused: boolean;
  dbFile?: string;
  stop(): Promise<void>;
}

export async function startOrReuseServer(opts: { uiPort?: number; dbFile?: string; log?: (line: string) => void }): Promise<LocalServer> {
  const address = temporalAddress();
  if (await isListening(address)) {
    const uiUrl = process.env.SLUICE_UI_URL ?? `http://localhost:${opts.uiPort ?? DEFAULT_UI_PORT}`;
    return { address, uiUrl, reused: true, stop: async () => undefined };
  }
  let uiPort = opts.uiPort;
  if (uiPort === undefined) uiPort = (await isListening(`127.0.0.1:${DEFAULT_UI_PORT}`)) ? await freePort() : DEFAULT_UI_PORT;
  const dbFile = resolve(opts.dbFile ?? DEFAULT_DB_FILE);
  mkdirSync(dirname(dbFile), { recursive: true });
  const server = await ensureDevServer({ address, uiPort, dbFile, log: opts.log });
  return { address, uiUrl: server.uiUrl ?? `http://localhost:${uiPort}`, reused: false, dbFile, stop: () => server.stop() };
}

