// Workflow entry point bundled by the worker.
export { backfillWorkflow } from './backfill';
