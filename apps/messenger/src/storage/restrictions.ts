/**
 * Restrictions from spam signals: throttle (a much smaller send budget) or
 * suspend (no sending). Append-only history; the latest row per account applies.
 */
import type postgres from "postgres";

export type RestrictionAction = "throttle" | "suspend" | "clear";

export interface Restriction {
  action: Exclude<RestrictionAction, "clear">;
  reason: string;
  at: Date;
}

export class RestrictionStore {
  private readonly cache = new Map<string, Restriction | null>();

  constructor(private readonly sql: postgres.Sql) {}

  async current(accountId: string): Promise<Restriction | null> {
    if (this.cache.has(accountId)) return this.cache.get(accountId) ?? null;
    const [row] = await this.sql<{ action: RestrictionAction; reason: string; at: Date }[]>`
      select action, reason, at from account_restrictions where account_id = ${accountId} order by id desc limit 1`;
    const restriction = row && row.action !== "clear" ? { action: row.action, reason: row.reason, at: row.at } : null;
    if (this.cache.size > 100_000) this.cache.clear();
    this.cache.set(accountId, restriction);
    return restriction;
  }

  async record(accountId: string, action: RestrictionAction, reason: string, source: string, at: Date): Promise<void> {
    await this.sql`
      insert into account_restrictions (account_id, action, reason, source, at)
      values (${accountId}, ${action}, ${reason}, ${source}, ${at})`;
    this.cache.set(accountId, action === "clear" ? null : { action, reason, at });
  }
}
