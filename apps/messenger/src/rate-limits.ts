/**
 * The one rate-limit catalogue (after Signal-Server's RateLimiters): every limit
 * the messenger enforces, its capacity and refill, in one place. Token buckets in
 * memory, per node; a multi-node deployment moves the buckets to a shared store
 * keyed the same way.
 *
 * Limits run on real (monotonic) time, not the simulation clock: advancing the
 * sim clock by 30 days must not refill anyone's bucket.
 */
import { TRPCError } from "@trpc/server";

export interface RateLimit {
  /** Bucket size: how many calls may burst. */
  capacity: number;
  /** Tokens added per second. */
  refillPerSecond: number;
  /** What is being limited, for the error message. */
  description: string;
}

export const rateLimitCatalogue = {
  /** Registrations per phone number (a real server also limits SMS codes). */
  registerPerPhone: { capacity: 5, refillPerSecond: 1 / 60, description: "registrations for this phone number" },
  /** Registrations per client address. */
  registerPerAddress: { capacity: 200, refillPerSecond: 20, description: "registrations from this address" },
  /** Messages sent per device. */
  send: { capacity: 200, refillPerSecond: 50, description: "messages sent by this device" },
  /** Messages per device while a spam signal throttles the account. */
  sendThrottled: { capacity: 5, refillPerSecond: 1 / 60, description: "messages from a throttled account" },
  /** Key uploads per device. */
  keysUpload: { capacity: 20, refillPerSecond: 1 / 10, description: "prekey uploads by this device" },
  /** Bundle fetches per requesting device (each consumes someone's one-time prekey). */
  keysBundle: { capacity: 100, refillPerSecond: 5, description: "prekey bundle fetches by this device" },
} satisfies Record<string, RateLimit>;

export type RateLimitName = keyof typeof rateLimitCatalogue;

/** Limits that are restrictions, not courtesy: enforced even when rate limits are off. */
const ALWAYS_ENFORCED: ReadonlySet<RateLimitName> = new Set(["sendThrottled"]);
export type RateLimitCatalogue = Record<RateLimitName, RateLimit>;

interface Bucket {
  tokens: number;
  updatedAt: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly catalogue: RateLimitCatalogue = rateLimitCatalogue,
    private readonly enabled = true,
    private readonly now: () => number = () => performance.now(),
  ) {
    // Full buckets carry no information: drop them so memory follows active keys only.
    this.sweeper = setInterval(() => this.sweep(), 60_000);
    this.sweeper.unref();
  }

  /** Takes `cost` tokens or throws TOO_MANY_REQUESTS saying when to retry. */
  consume(name: RateLimitName, key: string, cost = 1): void {
    if (!this.enabled && !ALWAYS_ENFORCED.has(name)) return;
    const limit = this.catalogue[name];
    const id = `${name}:${key}`;
    const now = this.now();
    const bucket = this.buckets.get(id) ?? { tokens: limit.capacity, updatedAt: now };
    bucket.tokens = Math.min(limit.capacity, bucket.tokens + ((now - bucket.updatedAt) / 1000) * limit.refillPerSecond);
    bucket.updatedAt = now;
    if (bucket.tokens < cost) {
      this.buckets.set(id, bucket);
      const retryAfterMs = Math.ceil(((cost - bucket.tokens) / limit.refillPerSecond) * 1000);
      throw new TRPCError({
        code: "TOO_MANY_REQUESTS",
        message: `rate limit "${name}" exceeded (${limit.capacity} ${limit.description}, refilling ${formatRate(limit.refillPerSecond)}); retry in ${(retryAfterMs / 1000).toFixed(1)} s`,
        cause: new RateLimitExceeded(name, retryAfterMs),
      });
    }
    bucket.tokens -= cost;
    this.buckets.set(id, bucket);
  }

  private sweep(): void {
    const now = this.now();
    for (const [id, bucket] of this.buckets) {
      const limit = this.catalogue[id.slice(0, id.indexOf(":")) as RateLimitName];
      if (bucket.tokens + ((now - bucket.updatedAt) / 1000) * limit.refillPerSecond >= limit.capacity) {
        this.buckets.delete(id);
      }
    }
  }

  close(): void {
    clearInterval(this.sweeper);
  }
}

export class RateLimitExceeded extends Error {
  constructor(
    readonly limit: RateLimitName,
    readonly retryAfterMs: number,
  ) {
    super(`rate limit ${limit} exceeded`);
  }
}

function formatRate(perSecond: number): string {
  return perSecond >= 1 ? `${perSecond}/s` : `1 every ${Math.round(1 / perSecond)} s`;
}
