/**
 * The per-advertiser budget on Custom Audiences, in the style of the messenger's
 * rate-limit catalogue: every limit in one place, as a token bucket (capacity,
 * refill). Each upload changes an audience's list and so draws a fresh noisy size
 * estimate; an attacker who averages many such estimates (see estimate.ts) needs
 * thousands per target, and this budget is what makes that slow.
 *
 * Buckets live in the database (`rate_limit_buckets`, @handshake/rate-limit's
 * PostgresTokenBuckets), on wall-clock time: a restart or a second node changes
 * nothing (a budget kept in memory was refilled by every restart), and advancing
 * the simulation clock refills nothing.
 */
import { TRPCError } from "@trpc/server";
import type postgres from "postgres";
import { PostgresTokenBuckets, type TokenBucketLimit } from "@handshake/rate-limit";

export type BudgetLimit = TokenBucketLimit;

const PER_DAY = 1 / 86_400;

export const audienceBudgetCatalogue = {
  /** Audiences an advertiser creates. */
  audienceCreate: { capacity: 50, refillPerSecond: 50 * PER_DAY, description: "audiences created by this advertiser" },
  /** Uploads an advertiser makes; each one yields a freshly noised size estimate. */
  audienceUpload: { capacity: 200, refillPerSecond: 200 * PER_DAY, description: "audience uploads (size estimates) by this advertiser" },
} satisfies Record<string, BudgetLimit>;

export type AudienceBudgetName = keyof typeof audienceBudgetCatalogue;
export type AudienceBudgetCatalogue = Record<AudienceBudgetName, BudgetLimit>;

export class AudienceBudget {
  private readonly buckets: PostgresTokenBuckets;

  constructor(
    sql: postgres.Sql,
    private readonly catalogue: AudienceBudgetCatalogue = audienceBudgetCatalogue,
    now: () => number = () => Date.now(),
  ) {
    this.buckets = new PostgresTokenBuckets(sql, now);
  }

  /** Takes one token for this advertiser or throws TOO_MANY_REQUESTS saying when to retry. */
  async spend(name: AudienceBudgetName, advertiserId: string): Promise<void> {
    const limit = this.catalogue[name];
    const decision = await this.buckets.take(`${name}:${advertiserId}`, limit);
    if (decision.allowed) return;
    throw new TRPCError({
      code: "TOO_MANY_REQUESTS",
      message: `budget "${name}" exhausted (${limit.capacity} ${limit.description} per ${Math.round(limit.capacity / limit.refillPerSecond / 3600)} h); retry in ${Math.ceil(decision.retryAfterMs / 1000)} s`,
    });
  }

  /** Deletes buckets that are full again (run now and then; they carry no information). */
  sweep(): Promise<number> {
    return this.buckets.sweep();
  }
}
