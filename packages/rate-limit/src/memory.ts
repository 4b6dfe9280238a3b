/**
 * Token buckets in this process's memory, on monotonic time. For limits on hot
 * paths (a message send) where a database round trip per call costs too much;
 * per node, and a restart refills them. Full buckets carry no information and are
 * swept, so memory follows the keys active within one refill time.
 */
import { take, type Bucket, type Decision, type TokenBucketLimit } from "./token-bucket";

export class MemoryTokenBuckets {
  private readonly buckets = new Map<string, { bucket: Bucket; limit: TokenBucketLimit }>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly now: () => number = () => performance.now()) {
    this.sweeper = setInterval(() => this.sweep(), 60_000);
    this.sweeper.unref();
  }

  /** Takes `cost` tokens from the bucket `id` (e.g. `send:<device>`). */
  take(id: string, limit: TokenBucketLimit, cost = 1): Decision {
    const outcome = take(this.buckets.get(id)?.bucket, limit, this.now(), cost);
    this.buckets.set(id, { bucket: outcome.bucket, limit });
    return outcome.decision;
  }

  /** Drops buckets that have refilled completely; returns how many are left. */
  sweep(): number {
    const now = this.now();
    for (const [id, { bucket, limit }] of this.buckets) {
      if (bucket.tokens + ((now - bucket.updatedAtMs) / 1000) * limit.refillPerSecond >= limit.capacity) this.buckets.delete(id);
    }
    return this.buckets.size;
  }

  close(): void {
    clearInterval(this.sweeper);
  }
}
