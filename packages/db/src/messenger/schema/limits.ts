/** Rate-limit buckets shared by the messenger's nodes (see apps/messenger/src/rate-limits.ts). */
export { rateLimitBuckets } from "../../rate-limit-table";
