// Source `keys`: an explicit key list (the failures of an earlier run), optionally looked up in its original source.
import type { KeysSourceSpec, SourceSpec } from '../../common/spec';
import type { Key } from '../../common/types';
import { type Item, type Registry, type Source, SpecError } from '../plugins';

export function keysSource(registry: Registry): Source<KeysSourceSpec> {
  const lookupIn = (of: SourceSpec | undefined) => {
    if (!of) return undefined;
    const source = registry.sources.get(of.type);
    if (!source?.readKeys) throw new SpecError(`source.of.type: source ${JSON.stringify(of.type)} cannot look items up by key`);
    return source;
  };
  return {
    type: 'keys',

    async check(spec, ctx) {
      const source = lookupIn(spec.of);
      if (source && spec.of) await source.check?.(spec.of as never, ctx);
    },

    async plan(spec, chunkSize, cursor, pageSize) {
      let start = typeof cursor === 'number' ? cursor : 0;
      const chunks = [];
      while (start < spec.keys.length && chunks.length < pageSize) {
        const keys = spec.keys.slice(start, start + chunkSize);
        chunks.push({ id: Math.floor(start / chunkSize), size: keys.length, label: `keys ${keys[0]}..${keys[keys.length - 1]}`, slice: { keys } });
        start += keys.length;
      }
      return { chunks, next: start < spec.keys.length ? start : null, total: spec.keys.length };
    },

    async *read(spec, chunk, skip, ctx) {
      const keys = (chunk.slice.keys as Key[]).slice(skip);
      const source = lookupIn(spec.of);
      if (!source?.readKeys || !spec.of) {
        for (const key of keys) yield { key, value: key };
        return;
      }
      for await (const item of source.readKeys(spec.of as never, keys, ctx)) {
        yield item.missing ? ({ key: item.key, value: undefined, invalid: `key ${JSON.stringify(item.key)} is not in the source` } as Item) : item;
      }
    },

    keyList(_spec, chunk) {
      return { keys: chunk.slice.keys as Key[] };
    },
  };
}
