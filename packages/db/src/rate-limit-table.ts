import { boolean, doublePrecision, pgTable, text } from "drizzle-orm/pg-core";

/**
 * Token buckets shared by a service's nodes and kept across restarts
 * (`PostgresTokenBuckets` in @handshake/rate-limit). Each service's schema
 * exports this table; the two services still never share a database.
 */
export const rateLimitBuckets = pgTable("rate_limit_buckets", {
  /** "<limit name>:<key>". */
  id: text().primaryKey(),
  tokens: doublePrecision().notNull(),
  /** Wall-clock milliseconds of the last take. */
  updatedMs: doublePrecision().notNull(),
  /** When the bucket is full again; the sweep deletes rows past it. */
  fullMs: doublePrecision().notNull(),
  /** The last take's decision. */
  allowed: boolean().notNull(),
});
