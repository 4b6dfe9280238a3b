/**
 * `@handshake/rate-limit`: the one token-bucket implementation of both services.
 * Each service keeps its own catalogue of limits (name, capacity, refill) and
 * chooses per limit where buckets live: `MemoryTokenBuckets` (per node, for hot
 * paths) or `PostgresTokenBuckets` (shared by nodes, kept across restarts).
 */
export { describeRefill, refilled, retryAfterMs, take, type Bucket, type Decision, type TokenBucketLimit } from "./token-bucket";
export { MemoryTokenBuckets } from "./memory";
export { PostgresTokenBuckets } from "./postgres";
