/**
 * Restrictions from spam signals: throttle (a much smaller send budget) or
 * suspend (no sending). Append-only history; the latest row per account applies.
 *
 * Current restrictions are cached (lru-cache: least recently used evicted past
 * 100k, never all at once). Staleness bound: `record` updates this node's entry at
 * once (aborting a read in flight, whose result could predate it); a restriction
 * recorded through another node applies here within `RESTRICTION_CACHE_TTL_MS`.
 * Reads go through lru-cache's `fetch`: concurrent misses of one account share one
 * query, so a slow database is not asked once per waiting send.
 */
import { drizzleOn } from "@handshake/db/client";
import { accountRestrictions } from "@handshake/db/messenger-schema";
import { desc, eq } from "drizzle-orm";
import { LRUCache } from "lru-cache";
import { fetchCurrent } from "./cache-fetch";
import type postgres from "postgres";

export type RestrictionAction = "throttle" | "suspend" | "clear";

export interface Restriction {
  action: Exclude<RestrictionAction, "clear">;
  reason: string;
  at: Date;
}

/** How long a restriction recorded on another node may go unseen here. */
export const RESTRICTION_CACHE_TTL_MS = 10_000;

export class RestrictionStore {
  // lru-cache holds no null: "no restriction" is cached as `{ restriction: null }`.
  private readonly cache: LRUCache<string, { restriction: Restriction | null }>;

  constructor(
    private readonly sql: postgres.Sql,
    options: { ttlMs?: number; max?: number; now?: () => number } = {},
  ) {
    this.cache = new LRUCache({
      max: options.max ?? 100_000,
      ttl: options.ttlMs ?? RESTRICTION_CACHE_TTL_MS,
      updateAgeOnGet: false,
      ttlResolution: 0,
      ...(options.now ? { perf: { now: options.now } } : {}),
      fetchMethod: (accountId) => this.read(accountId),
    });
  }

  async current(accountId: string): Promise<Restriction | null> {
    return (await fetchCurrent(this.cache, accountId)).restriction;
  }

  private async read(accountId: string): Promise<{ restriction: Restriction | null }> {
    const [row] = await drizzleOn(this.sql)
      .select({ action: accountRestrictions.action, reason: accountRestrictions.reason, at: accountRestrictions.at })
      .from(accountRestrictions)
      .where(eq(accountRestrictions.accountId, accountId))
      .orderBy(desc(accountRestrictions.id))
      .limit(1);
    return { restriction: row && row.action !== "clear" ? { action: row.action, reason: row.reason, at: row.at } : null };
  }

  async record(accountId: string, action: RestrictionAction, reason: string, source: string, at: Date): Promise<void> {
    await drizzleOn(this.sql).insert(accountRestrictions).values({ accountId, action, reason, source, at });
    this.cache.set(accountId, { restriction: action === "clear" ? null : { action, reason, at } });
  }
}
