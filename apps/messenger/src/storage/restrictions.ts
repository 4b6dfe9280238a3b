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
import { desc, eq, sql as q } from "drizzle-orm";
import { LRUCache } from "lru-cache";
import { cacheLoader, fetchCurrent } from "./cache-fetch";
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
      fetchMethod: cacheLoader((accountId) => this.read(accountId)),
    });
    this.latest = drizzleOn(sql)
      .select({ action: accountRestrictions.action, reason: accountRestrictions.reason, at: accountRestrictions.at })
      .from(accountRestrictions)
      .where(eq(accountRestrictions.accountId, q.placeholder("id")))
      .orderBy(desc(accountRestrictions.id))
      .limit(1)
      .prepare("latest_restriction");
  }

  /** A read around the cache, when reads through it keep being aborted (`fetchCurrent`). */
  private readonly readUncached = (accountId: string) => this.read(accountId);

  /** The latest restriction's query, built once (a send of a sender not seen for the TTL runs it). */
  private readonly latest;

  async current(accountId: string): Promise<Restriction | null> {
    return (this.fresh(accountId) ?? (await fetchCurrent(this.cache, accountId, this.readUncached))).restriction;
  }

  /** The cached entry while fresh (no promise, no database); `undefined` when missing or stale (then `current`). */
  fresh(accountId: string): { restriction: Restriction | null } | undefined {
    return this.cache.has(accountId) ? this.cache.get(accountId) : undefined;
  }

  private async read(accountId: string): Promise<{ restriction: Restriction | null }> {
    const [row] = await this.latest.execute({ id: accountId });
    return { restriction: row && row.action !== "clear" ? { action: row.action, reason: row.reason, at: row.at } : null };
  }

  async record(accountId: string, action: RestrictionAction, reason: string, source: string, at: Date): Promise<void> {
    await drizzleOn(this.sql).insert(accountRestrictions).values({ accountId, action, reason, source, at });
    this.cache.set(accountId, { restriction: action === "clear" ? null : { action, reason, at } });
  }
}
