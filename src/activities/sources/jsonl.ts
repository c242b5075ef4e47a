// Source `jsonl`: one JSON object per line, keyed by `keyField`. Planned by byte offsets, read by the worker.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { JsonlSourceSpec } from '../../common/spec';
import type { Key } from '../../common/types';
import { type Item, type Source, SpecError } from '../plugins';

interface ByteSlice { path: string; start: number; end: number; line: number }

/** Item whose line could not be used; the runner records it as a permanent failure. */
export interface InvalidItem extends Item { invalid: string }

const NEWLINE = 0x0a;

/** Calls `onLine(startByte, endByte)` for every non-empty line from `from`, until it returns false. */
async function scanLines(path: string, from: number, onLine: (start: number, end: number) => boolean): Promise<number> {
  let lineStart = from;
  let pos = from;
  for await (const buf of createReadStream(path, { start: from, highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    for (let i = buf.indexOf(NEWLINE); i !== -1; i = buf.indexOf(NEWLINE, i + 1)) {
      const end = pos + i + 1;
      const length = end - lineStart - 1;
      const keepGoing = length === 0 || (length === 1 && buf[i - 1] === 0x0d) ? true : onLine(lineStart, end);
      lineStart = end;
      if (!keepGoing) return end;
    }
    pos += buf.length;
  }
  if (pos > lineStart) onLine(lineStart, pos);
  return pos;
}

function parseLine(text: string, keyField: string, line: number): Item | InvalidItem {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { key: `line ${line}`, value: text, invalid: `line ${line}: not JSON (${(err as Error).message})` };
  }
  const key = (value as Record<string, unknown> | null)?.[keyField];
  if (typeof key !== 'string' && typeof key !== 'number') {
    return { key: `line ${line}`, value, invalid: `line ${line}: field "${keyField}" is missing or not a string or number` };
  }
  return { key, value };
}

async function* lines(path: string, start: number, end: number): AsyncIterable<string> {
  let rest = '';
  for await (const buf of createReadStream(path, { start, end: end - 1, encoding: 'utf8', highWaterMark: 1 << 16 }) as AsyncIterable<string>) {
    const parts = (rest + buf).split('\n');
    rest = parts.pop() ?? '';
    for (const part of parts) if (part.trim() !== '') yield part;
  }
  if (rest.trim() !== '') yield rest;
}

export const jsonlSource: Source<JsonlSourceSpec> = {
  type: 'jsonl',

  async check(spec) {
    const info = await stat(spec.path).catch(() => undefined);
    if (!info?.isFile()) throw new SpecError(`source.path: no such file on the worker: ${JSON.stringify(spec.path)}`);
  },

  async plan(spec, chunkSize, cursor, pageSize) {
    const c = (cursor ?? { byte: 0, line: 1 }) as { byte: number; line: number };
    const chunks = [];
    let firstId = (cursor as { id?: number } | undefined)?.id ?? 0;
    let chunkStart = c.byte;
    let line = c.line;
    let inChunk = 0;
    let chunkLine = line;
    const size = (await stat(spec.path)).size;
    const stoppedAt = await scanLines(spec.path, c.byte, (start, end) => {
      if (inChunk === 0) { chunkStart = start; chunkLine = line; }
      inChunk += 1;
      line += 1;
      if (inChunk < chunkSize) return true;
      chunks.push({ id: firstId++, size: inChunk, slice: { path: spec.path, start: chunkStart, end, line: chunkLine } });
      inChunk = 0;
      return chunks.length < pageSize;
    });
    if (inChunk > 0) chunks.push({ id: firstId++, size: inChunk, slice: { path: spec.path, start: chunkStart, end: stoppedAt, line: chunkLine } });
    const done = stoppedAt >= size;
    let total: number | undefined;
    if (cursor === undefined) {
      total = 0;
      await scanLines(spec.path, 0, () => { total = (total ?? 0) + 1; return true; });
    }
    return { chunks, next: done ? null : { byte: stoppedAt, line, id: firstId }, total };
  },

  async *read(spec, chunk, skip) {
    const { path, start, end, line } = chunk.slice as unknown as ByteSlice;
    let n = 0;
    for await (const text of lines(path, start, end)) {
      if (n++ < skip) continue;
      yield parseLine(text, spec.keyField ?? 'id', line + n - 1);
    }
  },

  async *readKeys(spec, keys) {
    const wanted = new Map<string, unknown>(keys.map((k) => [String(k), undefined]));
    const keyField = spec.keyField ?? 'id';
    let lineNo = 0;
    for await (const text of lines(spec.path, 0, (await stat(spec.path)).size)) {
      const item = parseLine(text, keyField, ++lineNo);
      if (!('invalid' in item) && wanted.has(String(item.key))) wanted.set(String(item.key), item.value);
    }
    for (const key of keys) {
      const value = wanted.get(String(key));
      yield value === undefined ? { key, value, missing: true } : { key: (value as Record<string, Key>)[keyField] as Key, value };
    }
  },
};
