// The worker's activities: planChunks, runChunk and writeManifest, over a registry of sources and targets.
import { ApplicationFailure } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import { envRefs, type JobSpec } from '../common/spec';
import type { PlanPage } from '../common/types';
import { writeManifestFile, type ManifestSummary } from '../client/outcomes';
import { type AnySource, type AnyTarget, type Registry, SpecError } from './plugins';
import { makeRunChunk } from './run-chunk';
import { jsonlSource } from './sources/jsonl';
import { keysSource } from './sources/keys';
import { postgresSource } from './sources/postgres';
import { rangeSource } from './sources/range';
import { httpTarget } from './targets/http';
import { postgresTarget } from './targets/postgres';

export type { AnySource, AnyTarget, Item, Source, Target, ChunkContext, Registry } from './plugins';
export { SpecError } from './plugins';

/** The built-in sources and targets, plus any the caller adds. */
export function createRegistry(extra: { sources?: AnySource[]; targets?: AnyTarget[] } = {}): Registry {
  const registry: Registry = { sources: new Map(), targets: new Map() };
  for (const s of [rangeSource, jsonlSource, postgresSource, ...(extra.sources ?? [])]) registry.sources.set(s.type, s);
  registry.sources.set('keys', keysSource(registry));
  for (const t of [httpTarget, postgresTarget, ...(extra.targets ?? [])]) registry.targets.set(t.type, t);
  return registry;
}

export interface PlanInput {
  jobId: string;
  spec: JobSpec;
  /** Where the page starts; undefined for the first page (which also checks the spec on the worker). */
  cursor?: unknown;
  pageSize: number;
}

const asFailure = (err: unknown) => (err instanceof SpecError ? ApplicationFailure.nonRetryable(err.message, 'InvalidJobSpec') : err);

export function createActivities(registry: Registry, opts: { client?: () => Promise<Client>; env?: NodeJS.ProcessEnv } = {}) {
  const env = opts.env ?? process.env;
  return {
    async planChunks({ jobId, spec, cursor, pageSize }: PlanInput): Promise<PlanPage> {
      const ctx = { jobId, spec, env };
      try {
        const source = registry.sources.get(spec.source.type);
        if (!source) throw new SpecError(`source.type: unknown source ${JSON.stringify(spec.source.type)} (this worker has: ${[...registry.sources.keys()].join(', ')})`);
        const target = registry.targets.get(spec.target.type);
        if (!target) throw new SpecError(`target.type: unknown target ${JSON.stringify(spec.target.type)} (this worker has: ${[...registry.targets.keys()].join(', ')})`);
        if (cursor === undefined) {
          const missing = envRefs(spec).filter((name) => env[name] === undefined);
          if (missing.length > 0) throw new SpecError(`environment variable ${missing.join(', ')} is referenced by the spec but not set on the worker`);
          await source.check?.(spec.source as never, ctx);
          await target.check?.(spec.target as never, ctx);
        }
        return await source.plan(spec.source as never, spec.chunkSize ?? 100, cursor, pageSize, ctx);
      } catch (err) {
        throw asFailure(err);
      }
    },

    runChunk: makeRunChunk(registry, env),

    async writeManifest({ jobId, path }: { jobId: string; path: string }): Promise<ManifestSummary> {
      if (!opts.client) throw ApplicationFailure.nonRetryable('this worker has no Temporal client to read outcomes with', 'NoClient');
      try {
        return await writeManifestFile(await opts.client(), jobId, path);
      } catch (err) {
        // A path the worker cannot write to will not get better by retrying.
        const code = (err as NodeJS.ErrnoException).code;
        if (code && ['EACCES', 'EPERM', 'ENOTDIR', 'EISDIR', 'EEXIST', 'EROFS', 'ENAMETOOLONG'].includes(code)) {
          throw ApplicationFailure.nonRetryable(`output: cannot write ${JSON.stringify(path)} on the worker: ${(err as Error).message}`, 'ManifestPathError');
        }
        throw err;
      }
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
