// The baseline: what a plain script does with the same job. One undici Pool, p-limit at the same concurrency,
// every key requested once, no durability, no pacing, no outcomes kept beyond a count.
import pLimit from 'p-limit';
import { Pool } from 'undici';

export interface RawResult {
  ok: number;
  failed: number;
  seconds: number;
}

export async function rawBackfill(baseUrl: string, items: number, concurrency: number): Promise<RawResult> {
  const pool = new Pool(baseUrl, { connections: concurrency, keepAliveTimeout: 30_000 });
  const limit = pLimit(concurrency);
  let ok = 0;
  let failed = 0;
  const started = performance.now();
  try {
    await Promise.all(
      Array.from({ length: items }, (_, i) =>
        limit(async () => {
          const res = await pool.request({ path: `/items/${i}`, method: 'GET' });
          await res.body.dump();
          if (res.statusCode === 200) ok += 1;
          else failed += 1;
        }),
      ),
    );
  } finally {
    await pool.close();
  }
  return { ok, failed, seconds: (performance.now() - started) / 1000 };
}
