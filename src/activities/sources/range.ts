// Source `range`: integers start, start+step, ... below end. The key and the item are the number.
import type { RangeSourceSpec } from '../../common/spec';
import type { Source } from '../plugins';

const stepOf = (spec: RangeSourceSpec) => spec.step ?? 1;
const count = (start: number, end: number, step: number) => Math.max(0, Math.ceil((end - start) / step));

interface RangeSlice { start: number; end: number; step: number }

export const rangeSource: Source<RangeSourceSpec> = {
  type: 'range',

  async plan(spec, chunkSize, cursor, pageSize) {
    const step = stepOf(spec);
    let start = typeof cursor === 'number' ? cursor : spec.start;
    const firstId = count(spec.start, start, step * chunkSize);
    const chunks = [];
    while (start < spec.end && chunks.length < pageSize) {
      const end = Math.min(spec.end, start + step * chunkSize);
      const last = start + (count(start, end, step) - 1) * step;
      chunks.push({ id: firstId + chunks.length, size: count(start, end, step), label: `items ${start}..${last}`, slice: { start, end, step } });
      start = end;
    }
    return { chunks, next: start < spec.end ? start : null, total: count(spec.start, spec.end, step) };
  },

  async *read(_spec, chunk, skip) {
    const { start, end, step } = chunk.slice as unknown as RangeSlice;
    for (let n = start + skip * step; n < end; n += step) yield { key: n, value: n };
  },

  keyList(_spec, chunk) {
    const { start, end, step } = chunk.slice as unknown as RangeSlice;
    return { range: [start, end, step] };
  },

  async *readKeys(spec, keys) {
    const step = stepOf(spec);
    for (const key of keys) {
      const n = Number(key);
      const inRange = Number.isInteger(n) && n >= spec.start && n < spec.end && (n - spec.start) % step === 0;
      yield inRange ? { key: n, value: n } : { key, value: undefined, missing: true };
    }
  },
};
