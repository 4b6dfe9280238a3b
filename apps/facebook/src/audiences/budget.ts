/**
 * The per-advertiser budget on Custom Audiences, in the style of the messenger's
 * rate-limit catalogue: every limit in one place, as a token bucket (capacity,
 * refill). Each upload changes an audience's list and so draws a fresh noisy size
 * estimate; an attacker who averages many such estimates (see estimate.ts) needs
 * thousands per target, and this budget is what makes that slow.
 *
 * Buckets live in memory per process, on real monotonic time (advancing the
 * simulation clock refills nothing). A restart refills them: a production
 * deployment keeps them in the database, keyed the same way.
 */
import { TRPCError } from "@trpc/server";

export interface BudgetLimit {
  /** Bucket size: how many may burst. */
  capacity: number;
  /** Tokens added per second. */
  refillPerSecond: number;
  /** What is being limited, for the error message. */
  description: string;
}

const PER_DAY = 1 / 86_400;

export const audienceBudgetCatalogue = {
  /** Audiences an advertiser creates. */
  audienceCreate: { capacity: 50, refillPerSecond: 50 * PER_DAY, description: "audiences created by this advertiser" },
  /** Uploads an advertiser makes; each one yields a freshly noised size estimate. */
  audienceUpload: { capacity: 200, refillPerSecond: 200 * PER_DAY, description: "audience uploads (size estimates) by this advertiser" },
} satisfies Record<string, BudgetLimit>;

export type AudienceBudgetName = keyof typeof audienceBudgetCatalogue;
export type AudienceBudgetCatalogue = Record<AudienceBudgetName, BudgetLimit>;

interface Bucket {
  tokens: number;
  updatedAt: number;
}

export class AudienceBudget {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly catalogue: AudienceBudgetCatalogue = audienceBudgetCatalogue,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Takes one token for this advertiser or throws TOO_MANY_REQUESTS saying when to retry. */
  spend(name: AudienceBudgetName, advertiserId: string): void {
    const limit = this.catalogue[name];
    const id = `${name}:${advertiserId}`;
    const now = this.now();
    const bucket = this.buckets.get(id) ?? { tokens: limit.capacity, updatedAt: now };
    bucket.tokens = Math.min(limit.capacity, bucket.tokens + ((now - bucket.updatedAt) / 1000) * limit.refillPerSecond);
    bucket.updatedAt = now;
    this.buckets.set(id, bucket);
    if (bucket.tokens < 1) {
      const retryAfterSeconds = Math.ceil((1 - bucket.tokens) / limit.refillPerSecond);
      throw new TRPCError({
        code: "TOO_MANY_REQUESTS",
        message: `budget "${name}" exhausted (${limit.capacity} ${limit.description} per ${Math.round(limit.capacity / limit.refillPerSecond / 3600)} h); retry in ${retryAfterSeconds} s`,
      });
    }
    bucket.tokens -= 1;
  }
}
