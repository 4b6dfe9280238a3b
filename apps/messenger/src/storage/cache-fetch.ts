/**
 * One read through an lru-cache whose `fetchMethod` loads from the database: the
 * caches of consent (`consent.ts`) and restrictions (`restrictions.ts`) share it.
 */
import type { LRUCache } from "lru-cache";

/**
 * The cached value of `key`, loading it if missing (concurrent misses share one load).
 * A load aborted by a `set` or `delete` that came while it ran (a choice recorded, an
 * invalidation) may predate that change, so it is read again, never returned.
 */
export async function fetchCurrent<V extends object>(cache: LRUCache<string, V>, key: string): Promise<V> {
  for (;;) {
    const status: LRUCache.Status<string, V> = {};
    try {
      const value = await cache.fetch(key, { status });
      if (value !== undefined) return value;
    } catch (error) {
      if (!status.fetchAborted) throw error;
    }
    // Only an aborted load goes round again: a load that answered nothing is a bug, not a retry.
    if (!status.fetchAborted) throw new Error(`the cache's load of ${key} returned nothing`);
  }
}
