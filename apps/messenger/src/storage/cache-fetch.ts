/**
 * Reads through an lru-cache whose `fetchMethod` loads from the database: the caches of
 * consent (`consent.ts`) and restrictions (`restrictions.ts`) share them.
 */
import type { LRUCache } from "lru-cache";

/** Reads through the cache before a load goes around it (see `fetchCurrent`). */
const CACHED_ATTEMPTS = 2;

/** A load's own failure (the database, an unknown account), told apart from an aborted load. */
class LoadFailed {
  constructor(readonly cause: unknown) {}
}

/**
 * The cache's `fetchMethod` for `load`. Its failures reach `fetchCurrent` marked as the
 * load's: anything else a fetch rejects with is lru-cache's reason for aborting it.
 */
export function cacheLoader<V>(load: (key: string) => Promise<V>): (key: string) => Promise<V> {
  return (key) =>
    load(key).catch((error: unknown) => {
      throw new LoadFailed(error);
    });
}

/**
 * The cached value of `key`, loading it if missing (concurrent misses share one load);
 * the cache's `fetchMethod` must be `cacheLoader(load)`.
 *
 * A load aborted while it ran is never returned: a `set` or `delete` (a choice recorded,
 * an invalidation) may have overtaken it. Every caller waiting on it — not only the one
 * that started it, whose `status` alone lru-cache marks — reads again through the cache
 * once (so they still share that load, and it is cached); aborted again, `load` reads it
 * directly, uncached. Never a loop: lru-cache answers an aborted fetch at once, and it
 * also aborts loads in flight that it evicts, so with more keys loading than the cache
 * holds (a cold node under a reconnect storm, a database that stalled), retrying through
 * the cache evicted the others' loads, which retried in turn: each round queued one more
 * query and the process spun until it ran out of memory. A direct read starts after the
 * abort, so it sees whatever change caused it.
 */
export async function fetchCurrent<V extends object>(cache: LRUCache<string, V>, key: string, load: (key: string) => Promise<V>): Promise<V> {
  for (let attempt = 0; attempt < CACHED_ATTEMPTS; attempt++) {
    try {
      const value = await cache.fetch(key);
      if (value !== undefined) return value;
    } catch (error) {
      if (error instanceof LoadFailed) throw error.cause;
      // Anything else is the reason lru-cache aborted the load (replaced, deleted, evicted).
    }
  }
  return load(key);
}
