// Stops the dev server if global-setup started one.
import type { DevServer } from '../../src/client/dev-server';

export default async function globalTeardown(): Promise<void> {
  await (globalThis as { __sluiceDevServer?: DevServer }).__sluiceDevServer?.stop();
}
