/**
 * The one rate-limit catalogue (after Signal-Server's RateLimiters): every limit
 * the messenger enforces, its capacity and refill, and where its buckets live, in
 * one place. The buckets are @handshake/rate-limit's (the token bucket the Facebook
 * side uses too):
 *  - `node`: in this process's memory, on monotonic time — hot paths where a
 *    database round trip per call would cost too much; per node, a restart refills;
 *  - `shared`: in the database (`rate_limit_buckets`), on wall-clock time — limits an
 *    attacker must not reset by waiting for a restart or spreading over nodes.
 *
 * Limits run on real time, never the simulation clock: advancing the sim clock by
 * 30 days must not refill anyone's bucket.
 */
import { TRPCError } from "@trpc/server";
import type postgres from "postgres";
import { describeRefill, MemoryTokenBuckets, PostgresTokenBuckets, type Decision, type TokenBucketLimit } from "@handshake/rate-limit";

export interface RateLimit extends TokenBucketLimit {
  store: "node" | "shared";
}

export const rateLimitCatalogue = {
  /**
   * Verification codes sent to one number (Signal-Server: `smsDestination`,
   * `voxDestination`): codes cost money and annoy the number's owner.
   */
  codePerPhone: { store: "shared", capacity: 3, refillPerSecond: 1 / 60, description: "verification codes sent to this phone number" },
  /** Verification codes requested from one client address (Signal-Server: `smsVoiceIp`). */
  codePerAddress: { store: "shared", capacity: 20, refillPerSecond: 1 / 6, description: "verification codes requested from this address" },
  /** Verification codes sent by the whole service: a ceiling on SMS pumping from many addresses. */
  codeGlobal: { store: "shared", capacity: 2_000, refillPerSecond: 200, description: "verification codes sent by the service" },
  /** Code attempts (`account.register`) from one client address (Signal-Server: `verify`). */
  registerPerAddress: { store: "shared", capacity: 20, refillPerSecond: 1 / 6, description: "registration attempts from this address" },
  /** Registrations (verified) of one phone number. */
  registerPerPhone: { store: "shared", capacity: 5, refillPerSecond: 1 / 60, description: "registrations for this phone number" },
  /** Messages sent per device. */
  send: { store: "node", capacity: 200, refillPerSecond: 50, description: "messages sent by this device" },
  /** Messages per device while a spam signal throttles the account. */
  sendThrottled: { store: "node", capacity: 5, refillPerSecond: 1 / 60, description: "messages from a throttled account" },
  /** Key uploads per device. */
  keysUpload: { store: "node", capacity: 20, refillPerSecond: 1 / 10, description: "prekey uploads by this device" },
  /** Bundle fetches per requesting device (each may consume someone's one-time prekey). */
  keysBundle: { store: "node", capacity: 100, refillPerSecond: 5, description: "prekey bundle fetches by this device" },
  /**
   * Bundle fetches per (requesting device, target device): Signal-Server's `prekeys`
   * limiter (6, leaking 6 per 10 minutes, keyed `<requester>__<target>`). A client
   * needs one bundle per session; one device draining another's keys is refused.
   */
  prekeysPerPair: { store: "shared", capacity: 6, refillPerSecond: 6 / 600, description: "bundle fetches by this device for that device" },
  /**
   * One-time prekeys handed out per target device, from every requester together.
   * Past it a bundle comes without one-time prekeys (signed prekey and last-resort
   * Kyber key only, as Signal serves when one-time keys run out) rather than being
   * refused: refusing would let anyone stop everyone from starting sessions with
   * the target.
   */
  prekeysPerTarget: { store: "shared", capacity: 50, refillPerSecond: 1 / 36, description: "one-time prekeys handed out for this device" },
} satisfies Record<string, RateLimit>;

type Catalogue = typeof rateLimitCatalogue;
export type RateLimitName = keyof Catalogue;
/** Limits decided in this process (synchronous). */
export type NodeRateLimitName = { [K in RateLimitName]: Catalogue[K]["store"] extends "node" ? K : never }[RateLimitName];
/** Limits decided in the database (asynchronous). */
export type SharedRateLimitName = Exclude<RateLimitName, NodeRateLimitName>;
/** Test and benchmark overrides: sizes only; where a limit lives is the catalogue's. */
export type RateLimitCatalogue = Record<RateLimitName, TokenBucketLimit>;

/** Limits that are restrictions, not courtesy: enforced even when rate limits are off. */
const ALWAYS_ENFORCED: ReadonlySet<RateLimitName> = new Set(["sendThrottled"]);

export class RateLimiter {
  private readonly memory: MemoryTokenBuckets;
  private readonly shared: PostgresTokenBuckets;
  private readonly limits: Record<RateLimitName, TokenBucketLimit>;

  constructor(
    sql: postgres.Sql,
    overrides: Partial<RateLimitCatalogue> = {},
    private readonly enabled = true,
    clocks: { monotonic?: () => number; wall?: () => number } = {},
  ) {
    const limits: Partial<Record<RateLimitName, TokenBucketLimit>> = {};
    for (const name of Object.keys(rateLimitCatalogue) as RateLimitName[]) limits[name] = { ...rateLimitCatalogue[name], ...overrides[name] };
    this.limits = limits as Record<RateLimitName, TokenBucketLimit>;
    this.memory = new MemoryTokenBuckets(clocks.monotonic);
    this.shared = new PostgresTokenBuckets(sql, clocks.wall);
  }

  /** Takes `cost` tokens of a per-node limit or throws TOO_MANY_REQUESTS saying when to retry. */
  consume(name: NodeRateLimitName, key: string, cost = 1): void {
    if (!this.enabled && !ALWAYS_ENFORCED.has(name)) return;
    this.refuseUnless(name, this.memory.take(`${name}:${key}`, this.limits[name], cost));
  }

  /** Takes `cost` tokens of a shared limit (one database statement) or throws TOO_MANY_REQUESTS. */
  async consumeShared(name: SharedRateLimitName, key: string, cost = 1): Promise<void> {
    if (!this.enabled && !ALWAYS_ENFORCED.has(name)) return;
    this.refuseUnless(name, await this.shared.take(`${name}:${key}`, this.limits[name], cost));
  }

  /** Takes `cost` tokens of a shared limit if there are; false instead of refusing (for limits that degrade, not refuse). */
  async tryShared(name: SharedRateLimitName, key: string, cost = 1): Promise<boolean> {
    if (!this.enabled && !ALWAYS_ENFORCED.has(name)) return true;
    return (await this.shared.take(`${name}:${key}`, this.limits[name], cost)).allowed;
  }

  private refuseUnless(name: RateLimitName, decision: Decision): void {
    if (decision.allowed) return;
    const limit = this.limits[name];
    throw new TRPCError({
      code: "TOO_MANY_REQUESTS",
      message: `rate limit "${name}" exceeded (${limit.capacity} ${limit.description}, refilling ${describeRefill(limit)}); retry in ${(decision.retryAfterMs / 1000).toFixed(1)} s`,
      cause: new RateLimitExceeded(name, decision.retryAfterMs),
    });
  }

  /** Deletes shared buckets that are full again. */
  sweepShared(): Promise<number> {
    return this.shared.sweep();
  }

  close(): void {
    this.memory.close();
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
