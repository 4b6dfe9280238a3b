import { bytea } from "../../columns";
import { pgTable, text, timestamp } from "drizzle-orm/pg-core";

export { rateLimitBuckets } from "../../rate-limit-table";

/**
 * Secrets the service generates once and keeps, so that a restart or another
 * node changes nothing an outsider can observe: `audience-estimate-key` keys the
 * noise of Custom Audience size estimates.
 */
export const serviceSecrets = pgTable("service_secrets", {
  name: text().primaryKey(),
  value: bytea().notNull(),
  createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
});
