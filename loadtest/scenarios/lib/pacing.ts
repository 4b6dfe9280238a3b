/** Waiting and bounding concurrency inside a VU (k6's event loop; no shared memory between VUs). */
import { setTimeout } from "k6/timers";

export const sleepMs = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** Sleeps until an epoch time in ms (e.g. exec.scenario.startTime + an offset, the same instant in every VU). */
export const sleepUntil = (epochMs: number) => sleepMs(epochMs - Date.now());

/**
 * Runs at most `limit` calls at once; the rest wait their turn. Keeps a VU's HTTP calls
 * within the connections k6 keeps idle for reuse (batchPerHost), so bursts do not open
 * and close a TCP connection per call.
 */
export function limiter(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    active += 1;
    try {
      return await task();
    } finally {
      active -= 1;
      waiting.shift()?.();
    }
  };
}
