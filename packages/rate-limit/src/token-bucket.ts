/**
 * The token bucket both services limit with: `capacity` calls may burst, then
 * `refillPerSecond` come back per second. Pure: the caller passes the time.
 */

export interface TokenBucketLimit {
  /** Bucket size: how many calls may burst. */
  capacity: number;
  /** Tokens added per second. */
  refillPerSecond: number;
  /** What is being limited, for the error message ("registrations from this address"). */
  description: string;
}

export interface Bucket {
  tokens: number;
  /** When `tokens` was computed, in the store's milliseconds. */
  updatedAtMs: number;
}

export interface Decision {
  allowed: boolean;
  /** Tokens left after this call. */
  remaining: number;
  /** When refused: how long until `cost` tokens are back; 0 when allowed. */
  retryAfterMs: number;
}

/** The bucket at `nowMs`: refilled, never above capacity; time running backwards refills nothing. */
export function refilled(bucket: Bucket | undefined, limit: TokenBucketLimit, nowMs: number): Bucket {
  if (!bucket) return { tokens: limit.capacity, updatedAtMs: nowMs };
  const elapsedMs = Math.max(0, nowMs - bucket.updatedAtMs);
  return {
    tokens: Math.min(limit.capacity, bucket.tokens + (elapsedMs / 1000) * limit.refillPerSecond),
    updatedAtMs: Math.max(bucket.updatedAtMs, nowMs),
  };
}

/** Takes `cost` tokens if there are that many; returns the decision and the bucket to keep. */
export function take(bucket: Bucket | undefined, limit: TokenBucketLimit, nowMs: number, cost = 1): { decision: Decision; bucket: Bucket } {
  const current = refilled(bucket, limit, nowMs);
  if (current.tokens >= cost) {
    const next = { ...current, tokens: current.tokens - cost };
    return { decision: { allowed: true, remaining: next.tokens, retryAfterMs: 0 }, bucket: next };
  }
  return { decision: { allowed: false, remaining: current.tokens, retryAfterMs: retryAfterMs(current.tokens, limit, cost) }, bucket: current };
}

export function retryAfterMs(tokens: number, limit: TokenBucketLimit, cost = 1): number {
  return Math.ceil(((cost - tokens) / limit.refillPerSecond) * 1000);
}

/** "20/s" or "1 every 60 s" — for error messages. */
export function describeRefill(limit: TokenBucketLimit): string {
  const perSecond = limit.refillPerSecond;
  return perSecond >= 1 ? `${perSecond}/s` : `1 every ${Math.round(1 / perSecond)} s`;
}
