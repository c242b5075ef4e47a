// Source `jsonl`: one JSON object per line, keyed by `keyField`. Planned by byte offsets, read by the worker.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { JsonlSourceSpec } from '../../common/spec';
import type { Key } from '../../common/types';
import { type Item, type Source, SpecError } from '../plugins';

type ByteSlice = { path: string; start: number; end: number; line: number };

/** Item whose line could not be used; the runner records it as a permanent failure. */
export interface InvalidItem extends Item { invalid: string }

const NEWLINE = 0x0a;

/**
 * Calls `onLine(startByte, endByte, lineNo)` for every non-empty line from byte `from` (which is line `firstLine`),
 * until it returns false. Returns where it stopped and the number of the next line.
 */
async function scanLines(path: string, from: number, firstLine: number, onLine: (start: number, end: number, lineNo: number) => boolean): Promise<{ byte: number; line: number }> {
  let lineStart = from;
  let pos = from;
  let lineNo = firstLine;
  for await (const buf of createReadStream(path, { start: from, highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    for (let i = buf.indexOf(NEWLINE); i !== -1; i = buf.indexOf(NEWLINE, i + 1)) {
      const end = pos + i + 1;
      const length = end - lineStart - 1;
      const blank = length === 0 || (length === 1 && buf[i - 1] === 0x0d);
      const keepGoing = blank || onLine(lineStart, end, lineNo);
      lineStart = end;
      lineNo += 1;
      if (!keepGoing) return { byte: end, line: lineNo };
    }
    pos += buf.length;
  }
  if (pos > lineStart) onLine(lineStart, pos, lineNo++);
  return { byte: pos, line: lineNo };
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

/** Non-empty lines of a byte span with their line numbers, `first` being the number of the span's first line. */
async function* lines(path: string, start: number, end: number, first: number): AsyncIterable<{ text: string; lineNo: number }> {
  let rest = '';
  let lineNo = first;
  for await (const buf of createReadStream(path, { start, end: end - 1, encoding: 'utf8', highWaterMark: 1 << 16 }) as AsyncIterable<string>) {
    const parts = (rest + buf).split('\n');
    rest = parts.pop() ?? '';
    for (const text of parts) {
      if (text.trim() !== '') yield { text, lineNo };
      lineNo += 1;
    }
  }
  if (rest.trim() !== '') yield { text: rest, lineNo };
}

export const jsonlSource: Source<JsonlSourceSpec> = {
  type: 'jsonl',

  async check(spec) {
    const info = await stat(spec.path).catch(() => undefined);
    if (!info?.isFile()) throw new SpecError(`source.path: no such file on the worker: ${JSON.stringify(spec.path)}`);
  },

  async plan(spec, chunkSize, cursor, pageSize) {
    const from = (cursor ?? { byte: 0, line: 1, id: 0 }) as { byte: number; line: number; id: number };
    const chunks: Array<{ id: number; size: number; label: string; slice: ByteSlice }> = [];
    let open: ByteSlice | undefined;
    let inChunk = 0;
    let lastLine = 0;
    const close = (end: number) => {
      if (open) chunks.push({ id: from.id + chunks.length, size: inChunk, label: `lines ${open.line}..${lastLine}`, slice: { ...open, end } });
      open = undefined;
      inChunk = 0;
    };
    const stopped = await scanLines(spec.path, from.byte, from.line, (start, end, lineNo) => {
      open ??= { path: spec.path, start, end, line: lineNo };
      inChunk += 1;
      lastLine = lineNo;
      if (inChunk < chunkSize) return true;
      close(end);
      return chunks.length < pageSize;
    });
    close(stopped.byte);
    const done = stopped.byte >= (await stat(spec.path)).size;
    let total: number | undefined;
    if (cursor === undefined) {
      total = 0;
      await scanLines(spec.path, 0, 1, () => {
        total = (total ?? 0) + 1;
        return true;
      });
    }
    return { chunks, next: done ? null : { byte: stopped.byte, line: stopped.line, id: from.id + chunks.length }, total };
  },

  async *read(spec, chunk, skip) {
    const { path, start, end, line } = chunk.slice as unknown as ByteSlice;
    let n = 0;
    for await (const { text, lineNo } of lines(path, start, end, line)) {
      if (n++ < skip) continue;
      yield parseLine(text, spec.keyField ?? 'id', lineNo);
    }
  },

  async *readKeys(spec, keys) {
    const wanted = new Map<string, unknown>(keys.map((k) => [String(k), undefined]));
    const keyField = spec.keyField ?? 'id';
    for await (const { text, lineNo } of lines(spec.path, 0, (await stat(spec.path)).size, 1)) {
      const item = parseLine(text, keyField, lineNo);
      if (!('invalid' in item) && wanted.has(String(item.key))) wanted.set(String(item.key), item.value);
    }
    for (const key of keys) {
      const value = wanted.get(String(key));
      yield value === undefined ? { key, value, missing: true } : { key: (value as Record<string, Key>)[keyField] as Key, value };
    }
  },
};
