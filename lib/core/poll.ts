/**
 * Waiting: one sleep, one poll loop, one retry backoff, one bounded worker pool. Deadlines are epoch milliseconds.
 */
import { setTimeout as sleepPromise } from 'node:timers/promises';

/** Resolve after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return sleepPromise(Math.max(0, ms));
}

export interface PollOptions {
  /** pause between two looks, or a function of the number of looks made so far (1, 2, ...) */
  intervalMs: number | ((looks: number) => number);
  /** deadline (epoch ms): no look is started after it, and no pause runs past it; none = until check answers */
  until?: number;
  /** pause before the first look too */
  pauseFirst?: boolean;
}

/**
 * Call `check` until it answers (returns anything but undefined) and return the answer; undefined when the deadline
 * comes first. With a deadline, the last pause is shortened so that the last look happens at the deadline.
 */
export async function poll<T>(check: (looks: number) => Promise<T | undefined> | T | undefined, opts: PollOptions): Promise<T | undefined> {
  const pause = (n: number) => (typeof opts.intervalMs === 'function' ? opts.intervalMs(n) : opts.intervalMs);
  for (let looks = 0; ; ) {
    if (looks > 0 || opts.pauseFirst) {
      if (opts.until !== undefined && Date.now() >= opts.until) return undefined;
      const ms = pause(Math.max(looks, 1));
      await sleep(opts.until !== undefined ? Math.min(ms, opts.until - Date.now()) : ms);
    }
    looks++;
    const answer = await check(looks);
    if (answer !== undefined) return answer;
  }
}

/** Exponential backoff: base, 2×base, 4×base, ... capped at `capFactor`×base, for retry number `retry` (1, 2, ...). */
export function backoffMs(retry: number, baseMs: number, capFactor = 8): number {
  return Math.min(baseMs * 2 ** (retry - 1), baseMs * capFactor);
}

/** Run fn over items with at most `limit` in flight; the first failure stops new starts and is thrown. */
export async function forEachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const item = items[next++];
      try { await fn(item); } catch (e) { failed = true; throw e; }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
