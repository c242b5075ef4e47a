// Once per test run: a real Temporal dev server (reused when one listens at TEMPORAL_ADDRESS) and one workflow bundle.
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { ensureDevServer } from '../../src/client/dev-server';

export default async function globalSetup(): Promise<void> {
  const address = process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';
  process.env.TEMPORAL_ADDRESS = address;
  const server = await ensureDevServer({ address, headless: true, uiPort: 8234 });
  (globalThis as { __sluiceDevServer?: typeof server }).__sluiceDevServer = server;
  const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../../src/workflows'), logger: { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} } as never });
  const path = join(tmpdir(), `sluice-workflows-${process.pid}.js`);
  writeFileSync(path, code);
  process.env.SLUICE_TEST_BUNDLE = path;
}
