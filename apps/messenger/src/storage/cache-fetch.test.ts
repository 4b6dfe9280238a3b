/**
 * `fetchCurrent` under eviction pressure: more keys loading at once than the cache
 * holds. lru-cache aborts a load in flight when it evicts its entry and answers the
 * aborted fetch at once; retried through the cache without end, the loads evicted each
 * other, every round queued one more load, and the process spun until it ran out of
 * memory (found by a consent-cache benchmark with a small restriction cache). Here
 * the loader counts its calls and refuses past a bound, so a regression fails the test
 * instead of hanging it. The real stores over PostgreSQL: `auth/caches.test.ts`.
 */
import { LRUCache } from "lru-cache";
import { describe, expect, it } from "vitest";
import { cacheLoader, fetchCurrent } from "./cache-fetch";

describe("fetchCurrent", () => {
  it("answers 200 keys loading at once through a cache of 10, each with its own value and a bounded number of loads", async () => {
    const keys = Array.from({ length: 200 }, (_, i) => `account-${i}`);
    let loads = 0;
    const load = async (key: string) => {
      loads += 1;
      if (loads > keys.length * 4) throw new Error(`runaway: ${loads} loads for ${keys.length} keys`);
      await new Promise((resolve) => setTimeout(resolve, 2));
      return { key };
    };
    const cache = new LRUCache<string, { key: string }>({ max: 10, fetchMethod: cacheLoader(load) });
    const answers = await Promise.all(keys.map((key) => fetchCurrent(cache, key, load)));
    expect(answers.map((answer) => answer.key)).toEqual(keys);
    // At most two loads through the cache and one around it per key.
    expect(loads).toBeLessThanOrEqual(keys.length * 3);
  });

  it("still shares one load among callers waiting together, and reads again after an invalidation overtook it", async () => {
    let version = 1;
    let loads = 0;
    const load = async () => {
      loads += 1;
      const seen = version;
      await new Promise((resolve) => setTimeout(resolve, 20));
      return { version: seen };
    };
    const cache = new LRUCache<string, { version: number }>({ max: 100, fetchMethod: cacheLoader(load) });
    const waiting = Array.from({ length: 20 }, () => fetchCurrent(cache, "a", load));
    await new Promise((resolve) => setTimeout(resolve, 5));
    version = 2; // a change committed while the first load ran, then the invalidation
    cache.delete("a");
    const answers = await Promise.all(waiting);
    expect(answers.every((answer) => answer.version === 2)).toBe(true);
    expect(loads).toBe(2); // the overtaken load and one shared reload, not one per caller
    expect(await fetchCurrent(cache, "a", load)).toEqual({ version: 2 });
    expect(loads).toBe(2); // and the reload was cached
  });

  it("rejects every caller waiting on a failed load with the load's own error, without loading again", async () => {
    let loads = 0;
    const refusal = new Error("unknown account a");
    const load = async (): Promise<{ ok: true }> => {
      loads += 1;
      await new Promise((resolve) => setTimeout(resolve, 5));
      throw refusal;
    };
    const cache = new LRUCache<string, { ok: true }>({ max: 100, fetchMethod: cacheLoader(load) });
    const outcomes = await Promise.allSettled(Array.from({ length: 5 }, () => fetchCurrent(cache, "a", load)));
    expect(outcomes.every((o) => o.status === "rejected" && o.reason === refusal)).toBe(true);
    expect(loads).toBe(1);
  });
});
