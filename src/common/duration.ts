// Durations in job specs: a number of milliseconds or a string such as '250ms', '30s', '5m', '1h'.

export type Duration = number | string;

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses a duration to milliseconds; returns undefined when it is not one. */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$/.exec(value);
  if (!match) return undefined;
  return Number(match[1]) * (UNITS[match[2] as string] as number);
}

/** Like parseDuration, for values already validated: throws on a bad one. */
export function toMs(value: Duration): number {
  const ms = parseDuration(value);
  if (ms === undefined) throw new TypeError(`not a duration: ${JSON.stringify(value)}`);
  return ms;
}
