// Per-chunk pacing: a token bucket next to the call. Job-wide rate = live chunks x rate per chunk.

export interface Pacer {
  /** Resolves when the caller may make one call; rejects if `signal` aborts first. */
  take(signal?: AbortSignal): Promise<void>;
}

export const unpaced: Pacer = { take: async () => undefined };

export class TokenBucket implements Pacer {
  private tokens: number;
  private last: number;

  /**
   * @param ratePerSecond tokens added per second
   * @param burst bucket size: calls allowed at once after idling (the bucket starts full)
   */
  constructor(
    private readonly ratePerSecond: number,
    private readonly burst = 1,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(ratePerSecond > 0) || !Number.isFinite(ratePerSecond)) throw new RangeError(`ratePerSecond: expected a number above 0, got ${ratePerSecond}`);
    if (!Number.isInteger(burst) || burst < 1) throw new RangeError(`burst: expected a whole number from 1 and up, got ${burst}`);
    this.tokens = burst;
    this.last = this.now();
  }

  /**
   * Refills, then reserves one token, going into debt when there is none: returns the milliseconds until the
   * reserved token is due (0 if it was free now). Reserving first means one timer per call; a timer that fires late
   * is made up by the next call, and none that fires early makes the caller sleep twice.
   */
  private reserve(): number {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.ratePerSecond) - 1;
    this.last = t;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.ratePerSecond) * 1000;
  }

  async take(signal?: AbortSignal): Promise<void> {
    const wait = this.reserve();
    if (wait > 0) await sleep(wait, signal);
  }
}

/** setTimeout as a promise that rejects with the signal's reason when it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
